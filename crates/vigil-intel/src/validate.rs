//! STIX 2.1 validation: structure and semantics (errors), and what an analyst should know
//! before importing (warnings: age, source grade, false-positive risk, markings, residency).
//!
//! The structural checks follow the OASIS JSON schemas (required properties and property
//! shapes come from a table generated from them, see `validate/schema.rs`) and the MUST checks
//! of `stix2-validator` (timestamp order, pattern syntax), with its message wording where it
//! fits. Beyond `stix2-validator`, references (`*_ref`, `*_refs`) must resolve within the
//! document or to a stored object ([`ValidateOptions::known_ids`]); the well-known TLP marking
//! ids always resolve.
//!
//! Validation never panics and never stops early: every object gets its own [`ObjectReport`].
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Map, Value};
use vigil_model::{IndicatorType, Reliability, Tlp};

use crate::{markings, normalize, pattern, timestamp, IntelError};

mod schema;

/// A false-positive screen such as the MISP warninglists.
pub trait FalsePositiveScreen {
    /// The lists `value` (canonical, of type `kind`) appears on.
    fn screen(&self, kind: IndicatorType, value: &str) -> Vec<FpHit>;
}

/// One warninglist hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpHit {
    /// The list's identifier (its folder name in misp-warninglists).
    pub list: String,
    /// The list's human-readable name.
    pub name: String,
}

/// Where the data is going: the most restrictive TLP that may enter the region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionPolicy {
    pub region: String,
    pub max_tlp: Tlp,
}

/// What to validate against besides the document itself.
pub struct ValidateOptions<'a> {
    /// The current time (Unix seconds), for `expired` and `not-yet-valid`.
    pub now: i64,
    pub screen: Option<&'a dyn FalsePositiveScreen>,
    pub region: Option<RegionPolicy>,
    /// The Admiralty grade of the source.
    pub reliability: Option<Reliability>,
    /// The Admiralty credibility of the information, 1–6.
    pub credibility: Option<u8>,
    /// Whether an id already exists in the store, so a reference to it is not dangling.
    pub known_ids: Option<&'a dyn Fn(&str) -> bool>,
}

impl ValidateOptions<'_> {
    /// Options with nothing but the current time.
    pub fn at(now: i64) -> Self {
        ValidateOptions {
            now,
            screen: None,
            region: None,
            reliability: None,
            credibility: None,
            known_ids: None,
        }
    }
}

/// One problem found in an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: String,
    pub message: String,
    /// Where in the document, like `objects[3].external_references[0].source_name`.
    pub path: String,
    /// The warninglist, for `false-positive-risk`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
}

/// The findings for one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectReport {
    /// The object's id as written (empty when it has none).
    pub id: String,
    #[serde(rename = "type")]
    pub object_type: String,
    pub valid: bool,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

/// Totals over a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub objects: usize,
    pub valid: usize,
    pub invalid: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Findings (errors and warnings) per code.
    pub by_code: BTreeMap<String, usize>,
}

/// The result of validating one document. A bundle's own problems (its type, id or `objects`)
/// are reported as an extra object entry for the bundle, present only when it has findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub objects: Vec<ObjectReport>,
    pub summary: Summary,
}

impl Report {
    fn new(objects: Vec<ObjectReport>) -> Report {
        let mut s = Summary {
            objects: objects.len(),
            ..Summary::default()
        };
        for o in &objects {
            if o.valid {
                s.valid += 1;
            } else {
                s.invalid += 1;
            }
            s.errors += o.errors.len();
            s.warnings += o.warnings.len();
            for f in o.errors.iter().chain(&o.warnings) {
                *s.by_code.entry(f.code.clone()).or_default() += 1;
            }
        }
        Report {
            objects,
            summary: s,
        }
    }

    /// Whether no object has an error.
    pub fn is_valid(&self) -> bool {
        self.summary.invalid == 0
    }

    /// One line per finding (`path: error[code]: message`), then a summary line.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for o in &self.objects {
            for (sev, list) in [("error", &o.errors), ("warning", &o.warnings)] {
                for f in list.iter() {
                    let _ = writeln!(out, "{}: {sev}[{}]: {}", f.path, f.code, f.message);
                }
            }
        }
        let s = &self.summary;
        let _ = writeln!(
            out,
            "{} objects: {} valid, {} invalid; {} errors, {} warnings",
            s.objects, s.valid, s.invalid, s.errors, s.warnings
        );
        out
    }
}

/// Validates a document held in memory: a bundle, a bare array of objects, or one object.
/// Malformed JSON is an error naming `name`, the line and the column.
pub fn validate_json(
    name: &str,
    data: &[u8],
    opts: &ValidateOptions,
) -> Result<Report, IntelError> {
    let v: Value =
        serde_json::from_slice(crate::strip_bom(data)).map_err(|e| crate::json_error(name, &e))?;
    Ok(validate_value(&v, opts))
}

/// Validates a parsed document (bundle, array or single object).
pub fn validate_value(v: &Value, opts: &ValidateOptions) -> Report {
    match v {
        Value::Array(objs) => run(objs, "", None, opts),
        Value::Object(m) if m.get("type").and_then(Value::as_str) == Some("bundle") => {
            validate_bundle(m, opts)
        }
        other => run(std::slice::from_ref(other), "", Some(()), opts),
    }
}

/// Validates objects that the caller has already parsed (paths are `[i].property`).
pub fn validate_objects(objs: &[Value], opts: &ValidateOptions) -> Report {
    run(objs, "", None, opts)
}

fn validate_bundle(m: &Map<String, Value>, opts: &ValidateOptions) -> Report {
    let id = m.get("id").and_then(Value::as_str).unwrap_or("");
    let mut b = Checker::new("", opts);
    match m.get("id") {
        None => b.error(
            "missing-property",
            "id",
            "'id' is a required property".into(),
        ),
        Some(Value::String(s)) if is_identifier(s) && s.starts_with("bundle--") => {}
        Some(v) => b.error(
            "invalid-id",
            "id",
            format!("{v} does not match the id format (bundle--[UUID])"),
        ),
    }
    let empty = Vec::new();
    let objs = match m.get("objects") {
        None => &empty,
        Some(Value::Array(a)) => {
            if a.is_empty() {
                b.error(
                    "invalid-property",
                    "objects",
                    "[] should be non-empty".into(),
                );
            }
            a
        }
        Some(_) => {
            b.error(
                "invalid-property",
                "objects",
                "'objects' must be an array".into(),
            );
            &empty
        }
    };
    let bundle_20 = m.get("spec_version").and_then(Value::as_str) == Some("2.0");
    let mut report = run_with(objs, "objects", None, opts, bundle_20);
    if !b.errors.is_empty() {
        let mut all = vec![ObjectReport {
            id: id.to_string(),
            object_type: "bundle".into(),
            valid: false,
            errors: b.errors,
            warnings: b.warnings,
        }];
        all.append(&mut report.objects);
        report = Report::new(all);
    }
    report
}

fn run(objs: &[Value], prefix: &str, single: Option<()>, opts: &ValidateOptions) -> Report {
    run_with(objs, prefix, single, opts, false)
}

/// Facts about the whole document that single-object checks need.
#[derive(Default)]
struct DocInfo<'d> {
    ids: HashSet<&'d str>,
    /// Some object declares `spec_version: 2.1`, so one without it is an error, not 2.0.
    is_21: bool,
    /// The bundle says `spec_version: 2.0`.
    bundle_20: bool,
}

fn run_with(
    objs: &[Value],
    prefix: &str,
    single: Option<()>,
    opts: &ValidateOptions,
    bundle_20: bool,
) -> Report {
    let mut doc = DocInfo {
        bundle_20,
        ..DocInfo::default()
    };
    for o in objs {
        if let Some(id) = o.get("id").and_then(Value::as_str) {
            doc.ids.insert(id);
        }
        if o.get("spec_version").and_then(Value::as_str) == Some("2.1") {
            doc.is_21 = true;
        }
    }
    let mut out = Vec::with_capacity(objs.len());
    for (i, o) in objs.iter().enumerate() {
        let path = match (single, prefix) {
            (Some(()), _) => String::new(),
            (None, "") => format!("[{i}]"),
            (None, p) => format!("{p}[{i}]"),
        };
        out.push(check_object(o, path, opts, &doc));
    }
    Report::new(out)
}

// ---------------------------------------------------------------------------------------------
// Property shapes (the generated table uses these)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sdo,
    Sro,
    Sco,
    Meta,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Prop {
    Str,
    Bool,
    Int(Option<i64>, Option<i64>),
    Num(Option<f64>, Option<f64>),
    Ts,
    TsMillis,
    /// An identifier; if the list is not empty, of one of these types.
    Id(&'static [&'static str]),
    Ids(&'static [&'static str]),
    Enum(&'static [&'static str]),
    EnumList(&'static [&'static str]),
    StrList,
    List,
    Object,
    KillChain,
    ExtRefs,
    Granular,
    #[allow(dead_code)]
    Any,
}

struct TypeSpec {
    name: &'static str,
    kind: Kind,
    /// Has the common SDO/SRO properties (`common/core.json`).
    core: bool,
    required: &'static [&'static str],
    /// Each group: at least one of its alternatives (all properties of it) must be present.
    any_of: &'static [&'static [&'static [&'static str]]],
    props: &'static [(&'static str, Prop)],
}

fn spec_of(t: &str) -> Option<&'static TypeSpec> {
    schema::TYPES.iter().find(|s| s.name == t)
}

// ---------------------------------------------------------------------------------------------
// Syntax helpers

/// `type` syntax: 3–250 characters, a letter first, `[a-z0-9]` runs joined by single hyphens.
fn is_type_name(t: &str) -> bool {
    let b = t.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && !t.contains("--")
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// An RFC 4122 UUID (versions 1–5, variant 10xx), as the schemas' identifier pattern says.
fn is_uuid(u: &str) -> bool {
    let b = u.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => (b'1'..=b'5').contains(c),
            19 => matches!(c, b'8' | b'9' | b'a' | b'b' | b'A' | b'B'),
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// `<type>--<uuid>`.
fn is_identifier(s: &str) -> bool {
    match s.split_once("--") {
        Some((t, u)) => is_type_name(t) && is_uuid(u),
        None => false,
    }
}

/// A STIX timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with a real calendar date. Returns
/// seconds and the fraction as nanoseconds-like digits for ordering.
fn stix_time(s: &str) -> Option<(i64, u64)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let shape = b.get(..19)?.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        10 => *c == b'T',
        13 | 16 => *c == b':',
        _ => c.is_ascii_digit(),
    });
    if !shape {
        return None;
    }
    let frac = &s[19..s.len() - 1];
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits = frac.strip_prefix('.')?;
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        // Ordering needs only the first nine digits, padded.
        let mut n = 0u64;
        for i in 0..9 {
            n = n * 10 + u64::from(digits.as_bytes().get(i).map_or(0, |c| c - b'0'));
        }
        n
    };
    let secs = timestamp::parse_rfc3339(s).ok()?;
    Some((secs, nanos))
}

fn has_millis(s: &str) -> bool {
    s.len() >= 24 && s.as_bytes().get(19) == Some(&b'.')
}

/// Property names as the schemas allow them (`common/properties.json`).
fn is_property_name(k: &str) -> bool {
    let b = k.as_bytes();
    k == "id"
        || (b.len() >= 3
            && b.len() <= 250
            && b[0].is_ascii_lowercase()
            && b[1..3]
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_'))
}

// ---------------------------------------------------------------------------------------------
// Object checks

struct Checker<'a, 'o> {
    base: String,
    opts: &'o ValidateOptions<'a>,
    errors: Vec<Finding>,
    warnings: Vec<Finding>,
}

impl<'a, 'o> Checker<'a, 'o> {
    fn new(base: &str, opts: &'o ValidateOptions<'a>) -> Self {
        Checker {
            base: base.to_string(),
            opts,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn path(&self, rel: &str) -> String {
        match (self.base.is_empty(), rel.is_empty()) {
            (true, _) => rel.to_string(),
            (false, true) => self.base.clone(),
            (false, false) if rel.starts_with('[') => format!("{}{rel}", self.base),
            (false, false) => format!("{}.{rel}", self.base),
        }
    }

    fn error(&mut self, code: &str, rel: &str, message: String) {
        let path = self.path(rel);
        self.errors.push(Finding {
            code: code.into(),
            message,
            path,
            list: None,
        });
    }

    fn warn(&mut self, code: &str, rel: &str, message: String) {
        let path = self.path(rel);
        self.warnings.push(Finding {
            code: code.into(),
            message,
            path,
            list: None,
        });
    }
}

fn check_object(o: &Value, base: String, opts: &ValidateOptions, doc: &DocInfo) -> ObjectReport {
    let mut c = Checker::new(&base, opts);
    let Value::Object(m) = o else {
        c.error(
            "not-an-object",
            "",
            format!("expected a STIX object, found {}", crate::json_kind(o)),
        );
        return finish(c, "", "");
    };
    let id = m.get("id").and_then(Value::as_str).unwrap_or("");
    let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
    object_checks(&mut c, m, ty, doc);
    finish(c, id, ty)
}

fn finish(c: Checker, id: &str, ty: &str) -> ObjectReport {
    ObjectReport {
        id: id.to_string(),
        object_type: ty.to_string(),
        valid: c.errors.is_empty(),
        errors: c.errors,
        warnings: c.warnings,
    }
}

fn object_checks(c: &mut Checker, m: &Map<String, Value>, ty: &str, doc: &DocInfo) {
    // type
    match m.get("type") {
        None => c.error("missing-property", "type", "'type' is a required property".into()),
        Some(Value::String(t)) if is_type_name(t) => {}
        Some(Value::String(t)) => c.error(
            "invalid-type-name",
            "type",
            format!(
                "'{t}' does not match the 'type' field format (3–250 characters: lowercase ASCII a-z, 0-9 and single hyphens, starting with a letter, not ending with a hyphen)"
            ),
        ),
        Some(v) => c.error("invalid-type-name", "type", format!("expected a string, found {}", crate::json_kind(v))),
    }
    // id
    match m.get("id") {
        None => c.error(
            "missing-property",
            "id",
            "'id' is a required property".into(),
        ),
        Some(Value::String(s)) if is_identifier(s) => {
            if s.split_once("--").map(|(t, _)| t) != Some(ty) && !ty.is_empty() {
                c.error(
                    "id-type-mismatch",
                    "id",
                    format!("'{s}' does not start with the object's type '{ty}--'"),
                );
            }
        }
        Some(Value::String(s)) => c.error(
            "invalid-id",
            "id",
            format!("'{s}' does not match the id format ([object-type]--[UUID])"),
        ),
        Some(v) => c.error(
            "invalid-id",
            "id",
            format!("expected a string, found {}", crate::json_kind(v)),
        ),
    }
    let spec = spec_of(ty);
    let kind = spec.map(|s| s.kind);
    let has_created = m.contains_key("created");
    // SCOs (and custom SCOs) have no `created`/`modified`; everything else is SDO/SRO-like.
    let core = match spec {
        Some(s) => s.core,
        None => has_created || m.contains_key("modified"),
    };
    let declared = m.get("spec_version").and_then(Value::as_str);
    // Like stix2-validator: an object without spec_version but with `created` is STIX 2.0
    // content (import upgrades it), unless the document is otherwise 2.1.
    let is_20 = declared == Some("2.0")
        || (declared.is_none() && (doc.bundle_20 || (has_created && !doc.is_21)));
    if is_20 {
        c.warn(
            "stix-2.0",
            "",
            "STIX 2.0 content; import upgrades it to 2.1".into(),
        );
    }

    // Property names
    for (k, _) in m {
        if !is_property_name(k) {
            c.error(
                "invalid-property-name",
                k,
                format!("'{k}' is not a valid property name (3–250 characters: a lowercase letter, then a-z, 0-9 or _)"),
            );
        } else if matches!(
            k.as_str(),
            "severity" | "action" | "username" | "phone_numbers"
        ) && kind != Some(Kind::Sco)
            && spec.is_some()
        {
            c.error(
                "reserved-property",
                k,
                format!("'{k}' is a reserved property name and must not be used"),
            );
        }
    }

    // Required properties
    let mut required: Vec<&str> = Vec::new();
    if core && !is_20 {
        required.extend(["spec_version", "created", "modified"]);
    } else if core {
        required.extend(["created", "modified"]);
    }
    if ty == "marking-definition" {
        if !is_20 {
            required.push("spec_version");
        }
        required.push("created");
        if !m.contains_key("extensions") {
            required.extend(["definition_type", "definition"]);
        }
    }
    if let Some(s) = spec {
        if !is_20 {
            required.extend(s.required.iter().copied());
        }
    }
    if ty == "malware" && !is_20 && m.get("is_family").and_then(Value::as_bool) == Some(true) {
        required.push("name");
    }
    for r in required {
        if !m.contains_key(r) {
            c.error(
                "missing-property",
                r,
                format!("'{r}' is a required property"),
            );
        }
    }
    if let Some(s) = spec.filter(|_| !is_20) {
        for group in s.any_of {
            let ok = group
                .iter()
                .any(|alt| alt.iter().all(|p| m.contains_key(*p)));
            if !ok {
                let names: Vec<String> = group.iter().map(|alt| alt.join(" and ")).collect();
                c.error(
                    "missing-property",
                    "",
                    format!("at least one of these is required: {}", names.join("; ")),
                );
            }
        }
    }
    if ty == "observed-data" && !is_20 && m.contains_key("objects") == m.contains_key("object_refs")
    {
        c.error(
            "missing-property",
            "",
            "exactly one of 'objects' (deprecated) and 'object_refs' is required".into(),
        );
    }
    if ty == "network-traffic"
        && m.get("is_active").and_then(Value::as_bool) == Some(true)
        && m.contains_key("end")
    {
        c.error(
            "invalid-property",
            "end",
            "'end' must not be present when 'is_active' is true".into(),
        );
    }
    if ty == "location"
        && m.contains_key("precision")
        && !(m.contains_key("latitude") && m.contains_key("longitude"))
    {
        c.error(
            "missing-property",
            "precision",
            "'precision' requires 'latitude' and 'longitude'".into(),
        );
    }

    // Property shapes
    let spec_prop = |k: &str| -> Option<Prop> {
        if let Some(s) = spec {
            if let Some((_, p)) = s.props.iter().find(|(n, _)| *n == k) {
                return Some(*p);
            }
        }
        let common = if core {
            schema::CORE
        } else if kind == Some(Kind::Sco) || spec.is_none() {
            schema::SCO_CORE
        } else {
            &[]
        };
        common.iter().find(|(n, _)| *n == k).map(|(_, p)| *p)
    };
    for (k, v) in m {
        if k == "type" || k == "id" {
            continue;
        }
        let mut p = spec_prop(k);
        if is_20 && matches!(p, Some(Prop::TsMillis)) {
            p = Some(Prop::Ts);
        }
        match p {
            Some(p) => check_prop(c, k, v, p),
            // Custom properties are free-form (as for stix2-validator); their references are
            // still resolved by `check_refs` when they are identifiers.
            None => {
                if spec.is_some() && !k.starts_with("x_") && is_property_name(k) {
                    c.warn(
                        "custom-property",
                        k,
                        format!("Custom property '{k}' should have a type that starts with 'x_' followed by a source unique identifier (like a domain name with dots replaced by underscores), an underscore and then the name"),
                    );
                }
            }
        }
    }
    if spec.is_none() && !ty.is_empty() && !ty.starts_with("x-") {
        c.warn(
            "custom-object",
            "type",
            format!("Custom object type '{ty}' should start with 'x-' followed by a source unique identifier (like a domain name with dots replaced by hyphens), a hyphen and then the name"),
        );
    }

    // Timestamp order (stix2-validator's TIMESTAMP_COMPARE)
    let mut order = vec![("modified", "created", false)];
    match ty {
        "indicator" => order.push(("valid_until", "valid_from", true)),
        "relationship" => order.push(("stop_time", "start_time", true)),
        "observed-data" => order.push(("last_observed", "first_observed", false)),
        "campaign" | "infrastructure" | "intrusion-set" | "malware" | "sighting"
        | "threat-actor" => order.push(("last_seen", "first_seen", false)),
        _ => {}
    }
    for (later, earlier, strict) in order {
        let (Some(l), Some(e)) = (
            m.get(later).and_then(Value::as_str),
            m.get(earlier).and_then(Value::as_str),
        ) else {
            continue;
        };
        if let (Some(lt), Some(et)) = (stix_time(l), stix_time(e)) {
            if lt < et || (strict && lt == et) {
                let how = if strict {
                    "later than"
                } else {
                    "later than or equal to"
                };
                c.error(
                    "timestamp-order",
                    later,
                    format!("'{later}' ({l}) must be {how} '{earlier}' ({e})"),
                );
            }
        }
    }

    // References
    check_refs(c, m, doc);

    // Pattern
    if ty == "indicator" {
        indicator_checks(c, m);
    }
    if kind == Some(Kind::Sco) {
        sco_screen(c, m, ty);
    }
    if (ty == "indicator" || kind == Some(Kind::Sco))
        && (c.opts.reliability.is_some() || c.opts.credibility.is_some())
    {
        reliability_warning(c);
    }
    // Markings, TLP and residency
    if ty != "marking-definition" && !ty.is_empty() {
        marking_checks(c, m);
    }
}

fn check_prop(c: &mut Checker, k: &str, v: &Value, p: Prop) {
    let bad = |c: &mut Checker, what: &str| {
        c.error(
            "invalid-property",
            k,
            format!("'{k}' must be {what}, found {}", crate::json_kind(v)),
        )
    };
    match p {
        Prop::Any => {}
        Prop::Str => {
            if !v.is_string() {
                bad(c, "a string")
            }
        }
        Prop::Bool => {
            if !v.is_boolean() {
                bad(c, "a boolean")
            }
        }
        Prop::Int(lo, hi) => match v.as_i64() {
            None if !(v.is_u64()) => bad(c, "an integer"),
            None => c.error(
                "invalid-property",
                k,
                format!("{v} is out of range for '{k}'"),
            ),
            Some(n) => {
                if lo.is_some_and(|lo| n < lo) || hi.is_some_and(|hi| n > hi) {
                    let range = match (lo, hi) {
                        (Some(l), Some(h)) => format!("{l}–{h}"),
                        (Some(l), None) => format!("at least {l}"),
                        (None, Some(h)) => format!("at most {h}"),
                        (None, None) => String::new(),
                    };
                    c.error(
                        "invalid-property",
                        k,
                        format!("'{k}' is {n}, expected {range}"),
                    );
                }
            }
        },
        Prop::Num(lo, hi) => match v.as_f64() {
            None => bad(c, "a number"),
            Some(n) => {
                if lo.is_some_and(|lo| n < lo) || hi.is_some_and(|hi| n > hi) {
                    c.error("invalid-property", k, format!("'{k}' is {n}, out of range"));
                }
            }
        },
        Prop::Ts | Prop::TsMillis => match v.as_str() {
            None => bad(c, "a timestamp string"),
            Some(s) => check_ts(c, k, s, p == Prop::TsMillis),
        },
        Prop::Id(types) => match v.as_str() {
            None => bad(c, "an identifier string"),
            Some(s) => check_id_value(c, k, s, types),
        },
        Prop::Ids(types) => match v.as_array() {
            None => bad(c, "an array of identifiers"),
            Some(a) => {
                if a.is_empty() {
                    c.error("invalid-property", k, format!("'{k}' must not be empty"));
                }
                for (i, x) in a.iter().enumerate() {
                    let rel = format!("{k}[{i}]");
                    match x.as_str() {
                        Some(s) => check_id_value(c, &rel, s, types),
                        None => c.error(
                            "invalid-reference",
                            &rel,
                            format!(
                                "expected an identifier string, found {}",
                                crate::json_kind(x)
                            ),
                        ),
                    }
                }
            }
        },
        Prop::Enum(vals) => match v.as_str() {
            None => bad(c, "a string"),
            Some(s) if vals.contains(&s) => {}
            Some(s) => c.error(
                "invalid-enum",
                k,
                format!("'{s}' is not one of {}", vals.join(", ")),
            ),
        },
        Prop::EnumList(vals) => match v.as_array() {
            None => bad(c, "an array"),
            Some(a) => {
                for (i, x) in a.iter().enumerate() {
                    match x.as_str() {
                        Some(s) if vals.contains(&s) => {}
                        _ => c.error(
                            "invalid-enum",
                            &format!("{k}[{i}]"),
                            format!("{x} is not one of {}", vals.join(", ")),
                        ),
                    }
                }
            }
        },
        Prop::StrList => match v.as_array() {
            None => bad(c, "an array of strings"),
            Some(a) => {
                if a.is_empty() {
                    c.error("invalid-property", k, format!("'{k}' must not be empty"));
                }
                for (i, x) in a.iter().enumerate() {
                    if !x.is_string() {
                        c.error(
                            "invalid-property",
                            &format!("{k}[{i}]"),
                            format!("expected a string, found {}", crate::json_kind(x)),
                        );
                    }
                }
            }
        },
        Prop::List => {
            if !v.is_array() {
                bad(c, "an array")
            }
        }
        Prop::Object => {
            if !v.is_object() {
                bad(c, "an object")
            }
        }
        Prop::KillChain => each_object(c, k, v, &["kill_chain_name", "phase_name"], &[]),
        Prop::ExtRefs => each_object(c, k, v, &["source_name"], &[]),
        Prop::Granular => {
            each_object(c, k, v, &["selectors"], &["marking_ref", "lang"]);
            if let Some(a) = v.as_array() {
                for (i, g) in a.iter().enumerate() {
                    if let Some(r) = g.get("marking_ref").and_then(Value::as_str) {
                        check_id_value(
                            c,
                            &format!("{k}[{i}].marking_ref"),
                            r,
                            &["marking-definition"],
                        );
                    }
                }
            }
        }
    }
}

/// A non-empty array of objects, each with the `required` string properties and at least one
/// of `one_of` (when given).
fn each_object(c: &mut Checker, k: &str, v: &Value, required: &[&str], one_of: &[&str]) {
    let Some(a) = v.as_array() else {
        c.error(
            "invalid-property",
            k,
            format!("'{k}' must be an array, found {}", crate::json_kind(v)),
        );
        return;
    };
    if a.is_empty() {
        c.error("invalid-property", k, format!("'{k}' must not be empty"));
    }
    for (i, x) in a.iter().enumerate() {
        let rel = format!("{k}[{i}]");
        let Some(o) = x.as_object() else {
            c.error(
                "invalid-property",
                &rel,
                format!("expected an object, found {}", crate::json_kind(x)),
            );
            continue;
        };
        for r in required {
            match o.get(*r) {
                None => c.error(
                    "missing-property",
                    &format!("{rel}.{r}"),
                    format!("'{r}' is a required property"),
                ),
                Some(Value::String(_)) | Some(Value::Array(_)) => {}
                Some(other) => c.error(
                    "invalid-property",
                    &format!("{rel}.{r}"),
                    format!("expected a string, found {}", crate::json_kind(other)),
                ),
            }
        }
        if !one_of.is_empty() && !one_of.iter().any(|p| o.contains_key(*p)) {
            c.error(
                "missing-property",
                &rel,
                format!("one of {} is required", one_of.join(", ")),
            );
        }
    }
}

fn check_ts(c: &mut Checker, rel: &str, s: &str, millis: bool) {
    if stix_time(s).is_none() {
        c.error(
            "invalid-timestamp",
            rel,
            format!("'{s}' is not a valid timestamp (expected RFC 3339 UTC like 2024-05-01T12:00:00.000Z)"),
        );
    } else if millis && !has_millis(s) {
        c.error(
            "invalid-timestamp",
            rel,
            format!(
                "'{s}' must be precise to the nearest millisecond (like 2024-05-01T12:00:00.000Z)"
            ),
        );
    }
}

fn check_id_value(c: &mut Checker, rel: &str, s: &str, types: &[&str]) {
    if !is_identifier(s) {
        c.error(
            "invalid-reference",
            rel,
            format!("'{s}' does not match the id format ([object-type]--[UUID])"),
        );
        return;
    }
    if !types.is_empty() {
        let t = s.split_once("--").map_or("", |(t, _)| t);
        if !types.contains(&t) {
            c.error(
                "invalid-reference",
                rel,
                format!("'{s}' must refer to one of: {}", types.join(", ")),
            );
        }
    }
}

/// Every `*_ref` / `*_refs` value at the top level and in granular markings must resolve.
fn check_refs(c: &mut Checker, m: &Map<String, Value>, doc: &DocInfo) {
    let mut refs: Vec<(String, &str)> = Vec::new();
    for (k, v) in m {
        if k.ends_with("_ref") {
            if let Some(s) = v.as_str() {
                refs.push((k.clone(), s));
            }
        } else if k.ends_with("_refs") {
            if let Some(a) = v.as_array() {
                for (i, x) in a.iter().enumerate() {
                    if let Some(s) = x.as_str() {
                        refs.push((format!("{k}[{i}]"), s));
                    }
                }
            }
        } else if k == "granular_markings" {
            if let Some(a) = v.as_array() {
                for (i, g) in a.iter().enumerate() {
                    if let Some(s) = g.get("marking_ref").and_then(Value::as_str) {
                        refs.push((format!("{k}[{i}].marking_ref"), s));
                    }
                }
            }
        }
    }
    for (rel, s) in refs {
        if !is_identifier(s) {
            continue; // reported by the shape check
        }
        let known = doc.ids.contains(s)
            || markings::tlp_from_marking_id(s).is_some()
            || c.opts.known_ids.is_some_and(|f| f(s));
        if !known {
            c.error(
                "dangling-reference",
                &rel,
                format!("'{s}' is not in this document or the store"),
            );
        }
    }
}

fn indicator_checks(c: &mut Checker, m: &Map<String, Value>) {
    let now = c.opts.now;
    if let Some((t, _)) = m
        .get("valid_until")
        .and_then(Value::as_str)
        .and_then(stix_time)
    {
        if t < now {
            let s = m.get("valid_until").and_then(Value::as_str).unwrap_or("");
            c.warn(
                "expired",
                "valid_until",
                format!("expired: valid_until {s} is in the past"),
            );
        }
    }
    if let Some((t, _)) = m
        .get("valid_from")
        .and_then(Value::as_str)
        .and_then(stix_time)
    {
        if t > now {
            let s = m.get("valid_from").and_then(Value::as_str).unwrap_or("");
            c.warn(
                "not-yet-valid",
                "valid_from",
                format!("not yet valid: valid_from {s} is in the future"),
            );
        }
    }
    if m.get("pattern_type").and_then(Value::as_str) != Some("stix") {
        return;
    }
    let Some(p) = m.get("pattern").and_then(Value::as_str) else {
        return;
    };
    match pattern::parse(p) {
        Err(e) => c.error(
            "invalid-pattern",
            "pattern",
            format!(
                "Pattern failed to validate: at offset {}: {}",
                e.offset, e.message
            ),
        ),
        Ok(parsed) => {
            if let Some(screen) = c.opts.screen {
                for a in pattern::indicator_atoms(&parsed) {
                    for hit in screen.screen(a.kind, &a.value) {
                        fp_warning(c, "pattern", &a.value, hit);
                    }
                }
            }
        }
    }
}

fn fp_warning(c: &mut Checker, rel: &str, value: &str, hit: FpHit) {
    let path = c.path(rel);
    c.warnings.push(Finding {
        code: "false-positive-risk".into(),
        message: format!(
            "'{value}' is on the warninglist \"{}\" ({})",
            hit.name, hit.list
        ),
        path,
        list: Some(hit.list),
    });
}

/// Screens the values of the observables that import turns into indicators.
fn sco_screen(c: &mut Checker, m: &Map<String, Value>, ty: &str) {
    let Some(screen) = c.opts.screen else {
        return;
    };
    let mut values: Vec<(String, IndicatorType, &str)> = Vec::new();
    let value = m.get("value").and_then(Value::as_str);
    match (ty, value) {
        ("ipv4-addr" | "ipv6-addr", Some(v)) => values.push(("value".into(), IndicatorType::Ip, v)),
        ("domain-name", Some(v)) => values.push(("value".into(), IndicatorType::Domain, v)),
        ("url", Some(v)) => values.push(("value".into(), IndicatorType::Url, v)),
        _ => {}
    }
    if ty == "file" {
        if let Some(h) = m.get("hashes").and_then(Value::as_object) {
            for (algo, v) in h {
                let kind = match algo.to_ascii_uppercase().as_str() {
                    "MD5" => IndicatorType::Md5,
                    "SHA-1" | "SHA1" => IndicatorType::Sha1,
                    "SHA-256" | "SHA256" => IndicatorType::Sha256,
                    _ => continue,
                };
                if let Some(v) = v.as_str() {
                    values.push((format!("hashes.{algo}"), kind, v));
                }
            }
        }
    }
    for (rel, kind, v) in values {
        if let Ok((kind, canon)) = normalize::normalize_as(kind, v) {
            for hit in screen.screen(kind, &canon) {
                fp_warning(c, &rel, &canon, hit);
            }
        }
    }
}

/// MISP's admiralty-scale values: A=100 B=75 C=50 D=25 E=0 F=50; credibility 1–6 alike.
fn admiralty_value(rank: u8) -> Option<u8> {
    [100, 75, 50, 25, 0, 50]
        .get(usize::from(rank.checked_sub(1)?))
        .copied()
}

fn reliability_warning(c: &mut Checker) {
    let rel = c.opts.reliability;
    let cred = c.opts.credibility;
    let low_rel = matches!(rel, Some(Reliability::E | Reliability::F));
    let low_cred = matches!(cred, Some(5 | 6));
    if !(low_rel || low_cred) {
        return;
    }
    let letter = rel.map_or("?", |r| r.as_str());
    let rank = rel.map(|r| match r {
        Reliability::A => 1,
        Reliability::B => 2,
        Reliability::C => 3,
        Reliability::D => 4,
        Reliability::E => 5,
        Reliability::F => 6,
    });
    let num = |v: Option<u8>| {
        v.and_then(admiralty_value)
            .map_or("unknown".to_string(), |n| n.to_string())
    };
    let code = format!(
        "{letter}{}",
        cred.map_or("?".to_string(), |n| n.to_string())
    );
    c.warn(
        "low-reliability",
        "",
        format!(
            "source graded {code}: reliability {letter}={}, credibility {}={}",
            num(rank),
            cred.map_or("?".to_string(), |n| n.to_string()),
            num(cred)
        ),
    );
}

fn marking_checks(c: &mut Checker, m: &Map<String, Value>) {
    let refs = m.get("object_marking_refs").and_then(Value::as_array);
    if refs.is_none_or(|r| r.is_empty()) {
        c.warn(
            "no-marking",
            "",
            "no object_marking_refs; import applies the source's default marking".into(),
        );
    }
    let Some(policy) = c.opts.region.clone() else {
        return;
    };
    let tlp = refs
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(markings::tlp_from_marking_id)
        .max();
    if let Some(t) = tlp {
        if t > policy.max_tlp {
            c.warn(
                "tlp-exceeds-region",
                "object_marking_refs",
                format!(
                    "marked TLP:{}, above TLP:{} allowed in region {}",
                    t.to_string().to_ascii_uppercase(),
                    policy.max_tlp.to_string().to_ascii_uppercase(),
                    policy.region
                ),
            );
        }
    }
    if let Some(res) = m.get("x_vigil_residency").and_then(Value::as_array) {
        if !res
            .iter()
            .any(|r| r.as_str() == Some(policy.region.as_str()))
        {
            let list: Vec<&str> = res.iter().filter_map(Value::as_str).collect();
            c.warn(
                "residency",
                "x_vigil_residency",
                format!(
                    "may reside only in [{}], not in region {}",
                    list.join(", "),
                    policy.region
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
    const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
    const RED_1_0: &str = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";

    fn indicator(extra: Value) -> Value {
        let mut o = json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
            "pattern": "[domain-name:value = 'google.com'] OR [ipv4-addr:value = '198.51.100.3']",
            "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z",
            "object_marking_refs": [GREEN]
        });
        if let (Some(m), Value::Object(e)) = (o.as_object_mut(), extra) {
            m.extend(e);
        }
        o
    }

    fn codes(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.code.as_str()).collect()
    }

    struct TopSites;
    impl FalsePositiveScreen for TopSites {
        fn screen(&self, kind: IndicatorType, value: &str) -> Vec<FpHit> {
            if kind == IndicatorType::Domain && value == "google.com" {
                vec![FpHit {
                    list: "tranco".into(),
                    name: "Top 1M sites".into(),
                }]
            } else {
                Vec::new()
            }
        }
    }

    #[test]
    fn a_clean_indicator_has_no_findings() {
        let r = validate_objects(&[indicator(json!({}))], &ValidateOptions::at(NOW));
        assert!(r.is_valid());
        assert_eq!(r.objects[0].errors, []);
        assert_eq!(r.objects[0].warnings, []);
    }

    #[test]
    fn malformed_json_names_file_line_and_column() {
        let e = validate_json(
            "feed.json",
            b"{\n  \"type\": \n}",
            &ValidateOptions::at(NOW),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                IntelError::Json {
                    line: 3,
                    column: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("feed.json:3:1:"), "{e}");
    }

    #[test]
    fn report_serialises_to_the_issue_json_shape() {
        let doc = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
            "objects": [indicator(json!({"pattern": "[file:name = 'a'"}))]});
        let r = validate_value(&doc, &ValidateOptions::at(NOW));
        let v = serde_json::to_value(&r).unwrap();
        let o = &v["objects"][0];
        assert_eq!(o["type"], "indicator");
        assert_eq!(o["valid"], false);
        assert_eq!(o["errors"][0]["code"], "invalid-pattern");
        assert_eq!(o["errors"][0]["path"], "objects[0].pattern");
        assert!(o["errors"][0].get("list").is_none());
        assert_eq!(v["summary"]["invalid"], 1);
        assert_eq!(v["summary"]["by_code"]["invalid-pattern"], 1);
        let text = r.render_text();
        assert!(
            text.starts_with(
                "objects[0].pattern: error[invalid-pattern]: Pattern failed to validate: at offset"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("1 objects: 0 valid, 1 invalid; 1 errors, 0 warnings\n"),
            "{text}"
        );
    }

    #[test]
    fn nested_paths_name_the_list_element() {
        let o = indicator(json!({"external_references": [{"url": "https://x"}]}));
        let r = validate_objects(&[o], &ValidateOptions::at(NOW));
        let e = &r.objects[0].errors[0];
        assert_eq!(
            (e.code.as_str(), e.path.as_str()),
            ("missing-property", "[0].external_references[0].source_name")
        );
    }

    #[test]
    fn dangling_references_resolve_against_the_store_and_tlp_ids() {
        let o = indicator(
            json!({"created_by_ref": "identity--a463ffb3-1bd9-4d94-b02d-74e4f1658283",
            "object_marking_refs": [RED_1_0]}),
        );
        let r = validate_objects(std::slice::from_ref(&o), &ValidateOptions::at(NOW));
        assert_eq!(codes(&r.objects[0].errors), ["dangling-reference"]);
        let store = |id: &str| id.starts_with("identity--a463ffb3");
        let opts = ValidateOptions {
            known_ids: Some(&store),
            ..ValidateOptions::at(NOW)
        };
        assert!(validate_objects(&[o], &opts).is_valid());
    }

    #[test]
    fn expiry_and_future_validity_are_warnings() {
        let o = indicator(json!({"valid_until": "2025-01-01T00:00:00Z"}));
        let r = validate_objects(&[o], &ValidateOptions::at(NOW));
        assert!(r.is_valid());
        assert_eq!(codes(&r.objects[0].warnings), ["expired"]);
        let o = indicator(json!({"valid_from": "2027-01-01T00:00:00Z"}));
        let r = validate_objects(&[o], &ValidateOptions::at(NOW));
        assert_eq!(codes(&r.objects[0].warnings), ["not-yet-valid"]);
    }

    #[test]
    fn low_reliability_shows_the_admiralty_code_and_misp_values() {
        let opts = ValidateOptions {
            reliability: Some(Reliability::C),
            credibility: Some(5),
            ..ValidateOptions::at(NOW)
        };
        let r = validate_objects(&[indicator(json!({}))], &opts);
        let w = &r.objects[0].warnings[0];
        assert_eq!(w.code, "low-reliability");
        assert_eq!(
            w.message,
            "source graded C5: reliability C=50, credibility 5=0"
        );
        let opts = ValidateOptions {
            reliability: Some(Reliability::B),
            credibility: Some(2),
            ..ValidateOptions::at(NOW)
        };
        assert_eq!(
            validate_objects(&[indicator(json!({}))], &opts).objects[0].warnings,
            []
        );
    }

    #[test]
    fn warninglist_hits_on_pattern_atoms_and_observables_name_the_list() {
        let opts = ValidateOptions {
            screen: Some(&TopSites),
            ..ValidateOptions::at(NOW)
        };
        let sco = json!({"type": "domain-name", "spec_version": "2.1",
            "id": "domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5", "value": "Google.com",
            "object_marking_refs": [GREEN]});
        let r = validate_objects(&[indicator(json!({})), sco], &opts);
        for (o, path) in r.objects.iter().zip(["[0].pattern", "[1].value"]) {
            assert_eq!(codes(&o.warnings), ["false-positive-risk"]);
            assert_eq!(o.warnings[0].list.as_deref(), Some("tranco"));
            assert_eq!(o.warnings[0].path, path);
        }
    }

    #[test]
    fn region_policy_flags_tlp_above_the_maximum_and_residency() {
        let policy = RegionPolicy {
            region: "eu".into(),
            max_tlp: Tlp::Amber,
        };
        let opts = ValidateOptions {
            region: Some(policy),
            ..ValidateOptions::at(NOW)
        };
        let o = indicator(
            json!({"object_marking_refs": [GREEN, RED_1_0], "x_vigil_residency": ["us"]}),
        );
        let r = validate_objects(&[o], &opts);
        // RED_1_0 is not in the document, but the well-known TLP ids always resolve.
        assert!(r.is_valid(), "{:?}", r.objects[0].errors);
        assert_eq!(
            codes(&r.objects[0].warnings),
            ["tlp-exceeds-region", "residency"]
        );
        let o = indicator(json!({"x_vigil_residency": ["us", "eu"]}));
        assert_eq!(validate_objects(&[o], &opts).objects[0].warnings, []);
    }

    #[test]
    fn unmarked_objects_and_stix_2_0_content_are_warnings() {
        let mut o = indicator(json!({}));
        if let Some(m) = o.as_object_mut() {
            m.remove("object_marking_refs");
            m.remove("spec_version");
        }
        let r = validate_objects(&[o], &ValidateOptions::at(NOW));
        assert!(r.is_valid(), "{:?}", r.objects[0].errors);
        assert_eq!(codes(&r.objects[0].warnings), ["stix-2.0", "no-marking"]);
    }

    #[test]
    fn required_properties_ids_and_types_are_errors() {
        let o = indicator(
            json!({"id": "indicator--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f", "confidence": 101}),
        );
        let r = validate_objects(&[o], &ValidateOptions::at(NOW));
        assert_eq!(
            codes(&r.objects[0].errors),
            ["invalid-id", "invalid-property"]
        );
        let malware = json!({"type": "malware", "spec_version": "2.1",
            "id": "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
            "created": "2016-04-06T20:07:09.000Z", "modified": "2016-04-06T20:07:09.000Z",
            "is_family": true, "object_marking_refs": [GREEN]});
        let r = validate_objects(
            &[malware, json!("x"), json!({"type": "a-"})],
            &ValidateOptions::at(NOW),
        );
        assert_eq!(
            r.objects[0].errors[0].message,
            "'name' is a required property"
        );
        assert_eq!(codes(&r.objects[1].errors), ["not-an-object"]);
        assert_eq!(
            codes(&r.objects[2].errors),
            ["invalid-type-name", "missing-property"]
        );
    }

    #[test]
    fn nothing_panics_on_odd_input() {
        for doc in [
            json!(null),
            json!([1, [], {}]),
            json!({"type": "bundle", "objects": 5}),
            json!({"type": "indicator", "id": 5, "created": 1, "pattern_type": "stix", "pattern": 3,
                   "object_marking_refs": "x", "granular_markings": [1], "kill_chain_phases": {}}),
        ] {
            let _ = validate_value(&doc, &ValidateOptions::at(NOW)).render_text();
        }
    }
}
