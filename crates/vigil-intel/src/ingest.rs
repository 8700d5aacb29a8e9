//! Collection: any supported input turned into what the store keeps — STIX 2.1 objects (marked,
//! validated) and deduplicable [`IntelRecord`]s — before anything is written.
//!
//! | input | objects | records |
//! |---|---|---|
//! | STIX 2.1 / 2.0 (upgraded) | every object | indicator pattern atoms, SCO values |
//! | MISP event JSON, MISP feed folder | converted by [`crate::misp`] | from the converted indicators |
//! | CSV with a header, plain lists | none (export synthesises indicators) | one per value |
//!
//! Nothing here writes: a caller stores the [`Batch`] in one transaction, so an import with
//! one bad record either fails whole (naming every bad record) or, with `skip_invalid`, stores
//! the rest and lists what it skipped.
use std::path::Path;

use serde_json::Value;
use vigil_model::{IntelRecord, Reliability, SourceClaim, Tlp};

use crate::bundle::{self, RecordDefaults};
use crate::validate::{self, FalsePositiveScreen, ValidateOptions};
use crate::{misp, IntelError, Skipped};

/// Input formats of `vigil intel import`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// By content: a folder with `manifest.json` is a MISP feed; JSON with `Event` or
    /// `response` is MISP; other JSON is STIX; `.csv` is CSV; anything else a plain list.
    #[default]
    Auto,
    Stix,
    Misp,
    Csv,
    Text,
}

impl InputFormat {
    pub const NAMES: [&'static str; 5] = ["auto", "stix", "misp", "csv", "text"];
}

impl std::str::FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "auto" => InputFormat::Auto,
            "stix" => InputFormat::Stix,
            "misp" => InputFormat::Misp,
            "csv" => InputFormat::Csv,
            "text" | "txt" | "list" => InputFormat::Text,
            _ => {
                return Err(format!(
                    "unknown format {s:?} (auto, stix, misp, csv, text)"
                ))
            }
        })
    }
}

/// How to read one input.
pub struct IngestOptions<'a> {
    pub format: InputFormat,
    pub source: String,
    /// Confidence for records that carry none.
    pub confidence: u8,
    pub reliability: Option<Reliability>,
    pub credibility: Option<u8>,
    /// Marking for objects and records that carry none.
    pub tlp: Tlp,
    /// Import time, Unix seconds.
    pub now: i64,
    /// Store the valid part and list the rest, instead of refusing the whole input.
    pub skip_invalid: bool,
    /// Warninglists: records on one are flagged (`IntelRecord::warninglists`).
    pub screen: Option<&'a dyn FalsePositiveScreen>,
    /// Ids already in the store, so references to them are not dangling.
    pub known_ids: Option<&'a dyn Fn(&str) -> bool>,
}

/// What an input yields.
#[derive(Debug, Default)]
pub struct Batch {
    pub objects: Vec<Value>,
    pub records: Vec<IntelRecord>,
    /// Records left out (only with `skip_invalid`), with where and why.
    pub skipped: Vec<Skipped>,
    /// Validation warnings, `location: [code] message`.
    pub warnings: Vec<String>,
    /// STIX 2.0 objects upgraded to 2.1.
    pub upgraded: usize,
    /// Records flagged by a warninglist.
    pub false_positive_risk: usize,
}

impl Batch {
    fn extend(&mut self, other: Batch) {
        self.objects.extend(other.objects);
        self.records.extend(other.records);
        self.skipped.extend(other.skipped);
        self.warnings.extend(other.warnings);
        self.upgraded += other.upgraded;
        self.false_positive_risk += other.false_positive_risk;
    }
}

/// The format `Auto` resolves to for a file's name and content.
pub fn detect(name: &str, data: &[u8], format: InputFormat) -> InputFormat {
    if format != InputFormat::Auto {
        return format;
    }
    let data = crate::strip_bom(data);
    let head = &data[..data.len().min(4096)];
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{') | Some(b'[')) {
        let text = String::from_utf8_lossy(head);
        if text.contains("\"Event\"") || text.contains("\"response\"") {
            return InputFormat::Misp;
        }
        return InputFormat::Stix;
    }
    if name.to_ascii_lowercase().ends_with(".csv") {
        return InputFormat::Csv;
    }
    InputFormat::Text
}

/// Reads a file or directory. A directory with a `manifest.json` is a MISP feed; any other
/// directory contributes every regular file in it, in name order.
pub fn ingest_path(path: &Path, opts: &IngestOptions<'_>) -> Result<Batch, IntelError> {
    if path.is_dir() {
        if path.join("manifest.json").is_file() && opts.format != InputFormat::Stix {
            let imp = misp::read_feed_dir(path)?;
            return from_objects(
                &path.display().to_string(),
                imp.objects,
                imp.skipped,
                0,
                opts,
            );
        }
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| IntelError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut batch = Batch::default();
        for f in files {
            batch.extend(ingest_path(&f, opts)?);
        }
        return Ok(batch);
    }
    let data = std::fs::read(path).map_err(|source| IntelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    ingest_bytes(&path.display().to_string(), &data, opts)
}

/// Reads one input held in memory; `name` locates messages.
pub fn ingest_bytes(
    name: &str,
    data: &[u8],
    opts: &IngestOptions<'_>,
) -> Result<Batch, IntelError> {
    match detect(name, data, opts.format) {
        InputFormat::Stix | InputFormat::Auto => {
            let doc = bundle::parse_document(name, data)?;
            let upgraded = doc.upgraded;
            from_objects(name, doc.objects, Vec::new(), upgraded, opts)
        }
        InputFormat::Misp => {
            let imp = misp::parse_event_json(name, data)?;
            from_objects(name, imp.objects, imp.skipped, 0, opts)
        }
        f @ (InputFormat::Csv | InputFormat::Text) => from_list(name, data, f, opts),
    }
}

/// Validates, marks and extracts records from STIX objects.
fn from_objects(
    name: &str,
    mut objects: Vec<Value>,
    mut skipped: Vec<Skipped>,
    upgraded: usize,
    opts: &IngestOptions<'_>,
) -> Result<Batch, IntelError> {
    let report = validate::validate_objects(
        &objects,
        &ValidateOptions {
            now: opts.now,
            // Records are screened below, once per value, for every format alike.
            screen: None,
            region: None,
            reliability: opts.reliability,
            credibility: opts.credibility,
            known_ids: opts.known_ids,
        },
    );
    // The validator numbers the objects it was given (`[3].pattern`); in the input they sit in
    // the bundle's `objects` array.
    let at = |p: &str| {
        if p.starts_with('[') {
            format!("objects{p}")
        } else {
            p.to_string()
        }
    };
    let mut batch = Batch {
        upgraded,
        ..Batch::default()
    };
    let mut keep = vec![true; objects.len()];
    for (i, o) in report.objects.iter().enumerate() {
        for w in &o.warnings {
            batch.warnings.push(format!(
                "{name}: {}: [{}] {}",
                at(&w.path),
                w.code,
                w.message
            ));
        }
        if !o.valid {
            if let Some(k) = keep.get_mut(i) {
                *k = false;
            }
            for e in &o.errors {
                skipped.push(Skipped {
                    location: format!("{name}: {}", at(&e.path)),
                    reason: format!("[{}] {}", e.code, e.message),
                });
            }
        }
    }
    let defaults = RecordDefaults {
        source: &opts.source,
        confidence: opts.confidence,
        reliability: opts.reliability,
        credibility: opts.credibility,
        tlp: opts.tlp,
        now: opts.now,
    };
    let mut i = 0;
    objects.retain(|_| {
        i += 1;
        keep.get(i - 1).copied().unwrap_or(true)
    });
    for (idx, obj) in objects.iter_mut().enumerate() {
        bundle::ensure_marking(obj, opts.tlp);
        match bundle::records_from_object(obj, &format!("objects[{idx}]"), &defaults) {
            Ok(recs) => batch.records.extend(recs),
            Err(s) => skipped.push(Skipped {
                location: format!("{name}: {}", s.location),
                reason: s.reason,
            }),
        }
    }
    batch.objects = objects;
    finish(name, batch, skipped, opts)
}

fn from_list(
    name: &str,
    data: &[u8],
    format: InputFormat,
    opts: &IngestOptions<'_>,
) -> Result<Batch, IntelError> {
    let lo = crate::LoadOptions {
        format: if format == InputFormat::Csv {
            crate::Format::Csv
        } else {
            crate::Format::Text
        },
        source: Some(opts.source.clone()),
        default_confidence: vigil_model::Confidence::new(i64::from(opts.confidence)),
        strict: false,
        reliability: opts.reliability,
    };
    let mut records = Vec::new();
    let feed = crate::load_bytes_with(name, data, &lo, &mut |ind| {
        let claim = SourceClaim {
            confidence: ind.confidence.get(),
            reliability: opts.reliability,
            credibility: opts.credibility,
            name: ind.name.clone(),
            first_seen: ind.valid_from,
            last_seen: ind.valid_from,
            valid_until: None,
            updated: opts.now,
        };
        records.push(IntelRecord::new(
            ind.kind,
            ind.value,
            opts.source.clone(),
            claim,
            opts.tlp,
        ));
    })?;
    let batch = Batch {
        records,
        ..Batch::default()
    };
    finish(name, batch, feed.skipped, opts)
}

/// Refuses the input when anything was skipped (unless `skip_invalid`), and screens records.
fn finish(
    name: &str,
    mut batch: Batch,
    skipped: Vec<Skipped>,
    opts: &IngestOptions<'_>,
) -> Result<Batch, IntelError> {
    if !skipped.is_empty() && !opts.skip_invalid {
        return Err(IntelError::Invalid {
            input: name.to_string(),
            problems: skipped,
        });
    }
    batch.skipped = skipped;
    if let Some(screen) = opts.screen {
        for r in &mut batch.records {
            let hits = screen.screen(r.kind, &r.value);
            if !hits.is_empty() {
                batch.false_positive_risk += 1;
                r.warninglists.extend(hits.into_iter().map(|h| h.list));
            }
        }
    }
    Ok(batch)
}
