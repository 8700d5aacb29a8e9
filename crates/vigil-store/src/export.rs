//! Feeds out of the store: selection (types, confidence, TLP ceiling, age, sources), then one
//! of the renderers in [`vigil_intel::feeds`], a STIX bundle, or a MISP feed folder.
//!
//! The TLP ceiling is enforced on everything that leaves, including what objects point at: a
//! STIX export never carries a reference to an object above the ceiling. Relationships and
//! sightings whose ends are withheld are dropped; `*_refs` lists lose the withheld ids (an
//! object whose required list ends up empty is dropped); optional single refs are removed.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::{json, Value};
use vigil_intel::bundle;
use vigil_intel::feeds::{self, DatasetType, FeedMeta, Rendered};
use vigil_intel::markings;
use vigil_intel::misp::{FeedAttribute, FeedEvent};
use vigil_model::{IndicatorType, IntelRecord, Tlp};

use crate::{ObjectFilter, RecordFilter, Result, Store};

/// Output formats of `vigil intel export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Stix,
    Csv,
    Text,
    Suricata,
    Iprep,
    Dataset,
    Misp,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 7] = [
        ExportFormat::Stix,
        ExportFormat::Csv,
        ExportFormat::Text,
        ExportFormat::Suricata,
        ExportFormat::Iprep,
        ExportFormat::Dataset,
        ExportFormat::Misp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Stix => "stix",
            ExportFormat::Csv => "csv",
            ExportFormat::Text => "text",
            ExportFormat::Suricata => "suricata",
            ExportFormat::Iprep => "iprep",
            ExportFormat::Dataset => "dataset",
            ExportFormat::Misp => "misp",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown feed format {s:?}"))
    }
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub format: ExportFormat,
    /// Indicator kinds (`ip`, `domain`, …) and, for STIX, object types (`campaign`, …).
    pub types: Vec<String>,
    pub min_confidence: u8,
    pub max_tlp: Tlp,
    /// Only what changed at or after this Unix second.
    pub since: Option<i64>,
    pub sources: Vec<String>,
    /// Generation time, Unix seconds; scores are computed at this instant.
    pub now: i64,
}

/// An export ready to write.
#[derive(Debug)]
pub enum Export {
    /// One file (plus extra files such as the iprep categories, by file-name suffix).
    File {
        body: Vec<u8>,
        meta: FeedMeta,
        extra: Vec<(&'static str, Vec<u8>)>,
    },
    /// A MISP feed folder.
    Misp {
        events: Vec<FeedEvent>,
        meta: FeedMeta,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] crate::StoreError),
    #[error("{0}")]
    Request(String),
}

impl ExportRequest {
    fn split_types(&self) -> (Vec<IndicatorType>, Vec<String>) {
        let mut kinds = Vec::new();
        let mut stix = Vec::new();
        for t in &self.types {
            match IndicatorType::ALL.iter().find(|k| k.as_str() == t.as_str()) {
                Some(k) => kinds.push(*k),
                None => stix.push(t.clone()),
            }
        }
        (kinds, stix)
    }

    fn filters(&self) -> BTreeMap<String, Value> {
        let mut f = BTreeMap::new();
        f.insert("max_tlp".into(), json!(self.max_tlp.to_string()));
        f.insert("min_confidence".into(), json!(self.min_confidence));
        if !self.types.is_empty() {
            f.insert("types".into(), json!(self.types));
        }
        if let Some(s) = self.since {
            f.insert(
                "since".into(),
                json!(vigil_intel::timestamp::format_rfc3339(s)),
            );
        }
        if !self.sources.is_empty() {
            f.insert("sources".into(), json!(self.sources));
        }
        f
    }
}

/// Selects and renders.
pub fn export(store: &Store, req: &ExportRequest) -> std::result::Result<Export, ExportError> {
    let (kinds, stix_types) = req.split_types();
    if req.format != ExportFormat::Stix && !stix_types.is_empty() {
        return Err(ExportError::Request(format!(
            "--type {}: not an indicator type (ip, cidr, domain, url, ja3, ja3s, ja4, md5, sha1, sha256); object types only apply to --format stix",
            stix_types.join(",")
        )));
    }
    let records = select_records(store, req, &kinds)?;
    let filters = req.filters();
    let file = |r: Rendered, extra: Vec<(&'static str, Vec<u8>)>, comments: bool| {
        let meta = FeedMeta::new(
            req.format.as_str(),
            r.count,
            r.omitted,
            filters.clone(),
            req.now,
            r.body.as_bytes(),
        );
        let body = if comments {
            format!("{}{}", meta.comment_header(), r.body).into_bytes()
        } else {
            r.body.into_bytes()
        };
        Export::File { body, meta, extra }
    };
    Ok(match req.format {
        ExportFormat::Text => file(feeds::text(&records), vec![], true),
        ExportFormat::Csv => file(feeds::csv(&records, req.now), vec![], true),
        ExportFormat::Suricata => file(feeds::suricata(&records, req.now), vec![], true),
        ExportFormat::Iprep => file(
            feeds::iprep(&records, req.now),
            vec![(".categories", feeds::iprep_categories().into_bytes())],
            true,
        ),
        ExportFormat::Dataset => {
            let types: BTreeSet<&str> = records
                .iter()
                .filter_map(|r| DatasetType::for_kind(r.kind).map(DatasetType::as_str))
                .collect();
            let ty = match types.len() {
                0 => DatasetType::String,
                1 => records
                    .iter()
                    .find_map(|r| DatasetType::for_kind(r.kind))
                    .unwrap_or(DatasetType::String),
                _ => {
                    return Err(ExportError::Request(format!(
                        "a dataset holds one data type, and the selection has {}: choose with --type (domain/url/ja3/ja4 → string, ip → ip, md5, sha256)",
                        types.into_iter().collect::<Vec<_>>().join(", ")
                    )))
                }
            };
            let mut f = file(feeds::dataset(&records, ty), vec![], false);
            if let Export::File { meta, .. } = &mut f {
                meta.filters
                    .insert("dataset_type".into(), json!(ty.as_str()));
            }
            f
        }
        ExportFormat::Stix => {
            let bundle = stix_bundle(store, req, &records, &kinds, &stix_types)?;
            let count = bundle["objects"].as_array().map_or(0, Vec::len);
            let body = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
            let meta = FeedMeta::new("stix", count, 0, filters, req.now, &body);
            Export::File {
                body,
                meta,
                extra: vec![],
            }
        }
        ExportFormat::Misp => {
            let events = misp_events(&records, req);
            let count = events.iter().map(|e| e.attributes.len()).sum();
            let digest = serde_json::to_vec(
                &events
                    .iter()
                    .flat_map(|e| e.attributes.iter().map(|a| (&a.uuid, &a.value)))
                    .collect::<Vec<_>>(),
            )
            .unwrap_or_default();
            let meta = FeedMeta::new("misp", count, 0, filters, req.now, &digest);
            Export::Misp { events, meta }
        }
    })
}

fn select_records(
    store: &Store,
    req: &ExportRequest,
    kinds: &[IndicatorType],
) -> Result<Vec<IntelRecord>> {
    let mut out = Vec::new();
    store.for_each_record(
        &RecordFilter {
            kinds: kinds.to_vec(),
            max_tlp: Some(req.max_tlp),
            since: req.since,
            sources: req.sources.clone(),
        },
        &mut |r| {
            if r.score(req.now).value >= req.min_confidence {
                out.push(r);
            }
        },
    )?;
    Ok(out)
}

/// The reference properties an object cannot lose: without them it is dropped.
fn required_ref(kind: &str, prop: &str) -> bool {
    matches!(
        (kind, prop),
        ("relationship", "source_ref" | "target_ref")
            | ("sighting", "sighting_of_ref")
            | (
                "report" | "grouping" | "note" | "opinion" | "observed-data",
                "object_refs"
            )
    )
}

fn stix_bundle(
    store: &Store,
    req: &ExportRequest,
    records: &[IntelRecord],
    kinds: &[IndicatorType],
    stix_types: &[String],
) -> Result<Value> {
    let objects = store.objects(&ObjectFilter {
        types: Vec::new(),
        max_tlp: Some(req.max_tlp),
        added_after: req.since.map(|s| s.saturating_mul(1_000_000) - 1),
        sources: req.sources.clone(),
        all_versions: false,
    })?;
    // Indicators and observables stand or fall with their records (type and confidence
    // filters); other objects with the object-type filter.
    let wanted_ids: HashSet<&str> = records
        .iter()
        .flat_map(|r| r.stix_ids.iter().map(String::as_str))
        .collect();
    let filtering_values = !kinds.is_empty() || req.min_confidence > 0;
    let mut out: Vec<Value> = Vec::new();
    for o in objects {
        let carries_values = o.kind == "indicator" || bundle::is_sco(&o.kind);
        let keep = if carries_values && filtering_values {
            wanted_ids.contains(o.id.as_str())
        } else if !stix_types.is_empty() || !kinds.is_empty() {
            stix_types.contains(&o.kind) || (carries_values && wanted_ids.contains(o.id.as_str()))
        } else {
            true
        };
        if keep {
            out.push(o.object);
        }
    }
    if stix_types.is_empty() || !kinds.is_empty() {
        for r in records {
            if !r.stix_ids.iter().any(|s| s.starts_with("indicator--")) {
                out.push(bundle::indicator_for_record(r, req.now));
            }
        }
    }
    prune_references(&mut out);
    // The TLP marking definitions in use travel with the bundle.
    let mut used: BTreeSet<Tlp> = BTreeSet::new();
    for o in &out {
        if let Some(t) = bundle::object_tlp(o) {
            used.insert(t);
        }
    }
    let present: HashSet<String> = out
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    for t in used {
        let def = markings::tlp_marking_definition(t);
        if !present.contains(def["id"].as_str().unwrap_or_default()) {
            out.push(def);
        }
    }
    let id = bundle::vigil_id(
        "bundle",
        &format!(
            "{}:{}",
            req.now,
            serde_json::to_string(&req.filters()).unwrap_or_default()
        ),
    );
    Ok(json!({"type": "bundle", "id": id, "objects": out}))
}

/// Removes references to objects not in `objects` (see the module docs), to a fixpoint.
pub fn prune_references(objects: &mut Vec<Value>) {
    loop {
        let ids: HashSet<String> = objects
            .iter()
            .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
        // Only identifiers can point at a withheld object; other values (ATT&CK's empty
        // `x_mitre_data_source_ref`) are left as they are.
        let resolvable = |id: &str| {
            !id.contains("--") || ids.contains(id) || markings::tlp_from_marking_id(id).is_some()
        };
        let before = objects.len();
        objects.retain_mut(|o| prune_object(o, &resolvable));
        if objects.len() == before {
            return;
        }
    }
}

/// Removes the references of one object that `resolvable` refuses; `false` when a required
/// reference goes (a relationship or sighting whose end is withheld), so the object must go too.
pub fn prune_object(o: &mut Value, resolvable: &dyn Fn(&str) -> bool) -> bool {
    let kind = o
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(m) = o.as_object_mut() else {
        return false;
    };
    let mut drop = false;
    let mut remove = Vec::new();
    for (k, v) in m.iter_mut() {
        if k.ends_with("_refs") {
            if let Value::Array(a) = v {
                a.retain(|x| x.as_str().is_some_and(resolvable));
                if a.is_empty() {
                    if required_ref(&kind, k) {
                        drop = true;
                    } else {
                        remove.push(k.clone());
                    }
                }
            }
        } else if k.ends_with("_ref") {
            if let Some(id) = v.as_str() {
                if !resolvable(id) {
                    if required_ref(&kind, k) {
                        drop = true;
                    } else {
                        remove.push(k.clone());
                    }
                }
            }
        }
    }
    for k in remove {
        m.remove(&k);
    }
    !drop
}

impl Store {
    /// Whether `id` names a stored object above `max` (so a reader cleared for `max` must not
    /// learn it exists).
    pub fn is_withheld(&self, id: &str, max: Tlp) -> crate::Result<bool> {
        use rusqlite::OptionalExtension as _;
        self.conn
            .query_row(
                "SELECT 1 FROM objects WHERE id = ?1 AND tlp > ?2 LIMIT 1",
                rusqlite::params![id, crate::tlp_code(max)],
                |_| Ok(()),
            )
            .optional()
            .map(|o| o.is_some())
            .map_err(self.err())
    }

    /// An object as a reader cleared for `max` may see it: references to withheld objects
    /// removed, or `None` when the object itself cannot be shown without them.
    pub fn redact(&self, mut object: Value, max: Tlp) -> crate::Result<Option<Value>> {
        let failed = std::cell::RefCell::new(None);
        let keep = prune_object(&mut object, &|id| {
            if !id.contains("--") || markings::tlp_from_marking_id(id).is_some() {
                return true;
            }
            match self.is_withheld(id, max) {
                Ok(w) => !w,
                Err(e) => {
                    failed.borrow_mut().get_or_insert(e);
                    false
                }
            }
        });
        if let Some(e) = failed.into_inner() {
            return Err(e);
        }
        Ok(keep.then_some(object))
    }
}

fn misp_events(records: &[IntelRecord], req: &ExportRequest) -> Vec<FeedEvent> {
    let attributes: Vec<FeedAttribute> = records
        .iter()
        .map(|r| {
            let uuid = r
                .stix_ids
                .iter()
                .find_map(|s| s.strip_prefix("indicator--"))
                .map(str::to_string)
                .unwrap_or_else(|| {
                    bundle::indicator_id(r.kind, &r.value)["indicator--".len()..].to_string()
                });
            FeedAttribute {
                kind: r.kind,
                value: r.value.clone(),
                uuid,
                comment: r.sources.values().find_map(|c| c.name.clone()),
                first_seen: r.first_seen(),
                last_seen: r.last_seen(),
                tlp: r.tlp,
                confidence: r.score(req.now).value,
                labels: r.labels.iter().cloned().collect(),
                to_ids: true,
            }
        })
        .collect();
    if attributes.is_empty() {
        return Vec::new();
    }
    let tlp = records.iter().map(|r| r.tlp).max().unwrap_or(Tlp::Clear);
    let name = serde_json::to_string(&req.filters()).unwrap_or_default();
    let uuid = bundle::vigil_id("x", &format!("misp-event:{name}"))["x--".len()..].to_string();
    vec![FeedEvent {
        uuid,
        info: format!("Vigil intel export ({} indicators)", attributes.len()),
        date: vigil_intel::timestamp::format_date(req.now),
        timestamp: req.now,
        tlp,
        orgc_name: "Vigil".into(),
        attributes,
        tags: Vec::new(),
    }]
}
