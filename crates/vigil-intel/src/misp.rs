//! MISP events and feeds: import as STIX 2.1 objects, export as a MISP feed folder.
//!
//! # Import ([`parse_event_json`], [`read_feed_dir`])
//!
//! Accepted documents: `{"Event":{…}}`, a bare event object, `{"response":[{"Event":…},…]}`
//! (REST search output) and a JSON array of `{"Event":…}`. A feed folder is `manifest.json`
//! plus one `<uuid>.json` per manifest key; other files are ignored.
//!
//! The mapping follows misp-stix (MISP → STIX 2.1) for the common cases:
//!
//! * event → `report` (`name` = info, `published` = publish_timestamp, else date; `created` /
//!   `modified` = timestamp, else date; `object_refs` = everything derived from the event, or a
//!   `note` when nothing was, as misp-stix does), with `x_misp_threat_level_id`,
//!   `x_misp_analysis` and `created_by_ref` = an `identity` for `Orgc`.
//! * attribute with `to_ids` true and a type in [`PATTERN_TYPES`] → `indicator` with a STIX
//!   pattern built as misp-stix builds it (`ip-dst` →
//!   `[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '…']`,
//!   `domain|ip` → `[domain-name:value = '…' AND domain-name:resolves_to_refs[*].value = '…']`,
//!   …). Types misp-stix leaves custom but Vigil matches get Vigil's custom objects:
//!   `ja3-fingerprint-md5` → `x-ja3:value`, and `text` tagged `vigil:type="ja3s"` /
//!   `vigil:type="ja4"` (what [`write_feed`] writes, MISP having no such types) → `x-ja3s:value`
//!   / `x-ja4:value`. Values of types Vigil matches must normalise ([`crate::normalize`]).
//! * attribute with `to_ids` false: **skipped** as not actionable (no `observed-data`), so the
//!   store only holds what detection can use; the skip names the attribute.
//! * `Object` → **one** indicator per object (id = the object uuid) over its `to_ids`
//!   attributes: one observation per STIX object type, joined by `AND`
//!   (`[file:hashes.MD5 = '…' AND file:name = '…'] AND [network-traffic:…]`). misp-stix uses
//!   template-specific patterns instead; for the file/domain/url templates the atoms are the same.
//! * tags: `tlp:*` (1.0 and 2.0 names, the most restrictive wins) → `object_marking_refs` with
//!   the TLP 2.0 marking-definition ids; the event's TLP applies to attributes without one.
//!   `misp:confidence-level="…"` → `confidence` (the lowest, as misp-stix) and a label; other
//!   tags → `labels`.
//! * galaxy clusters (`Galaxy[].GalaxyCluster[]`, and `misp-galaxy:<type>="<value>"` tags
//!   without a cluster) → `attack-pattern`, `course-of-action`, `intrusion-set`, `malware`,
//!   `threat-actor`, `tool` or `vulnerability` by galaxy type, exactly misp-stix's table (so the
//!   `threat-actor` galaxy is a `threat-actor`, MITRE groups are `intrusion-set`s). Ids come
//!   from the cluster uuid. Attribute-level clusters are linked with a `relationship` from the
//!   indicator (`indicates`, `related-to` for other targets); event-level clusters are in the
//!   report's `object_refs` only — both as misp-stix does. Unmapped galaxies stay labels.
//! * `Sighting[]` of type 0 on an attribute that became an indicator → one `sighting` each
//!   (`sighting_of_ref`, `count` 1, `first_seen` = `last_seen` = date_sighting); false-positive
//!   and expiration sightings are skipped.
//!
//! Ids are the MISP uuids where they are valid (event → `report--<uuid>`, attribute →
//! `indicator--<uuid>`, sighting, organisation, cluster), else UUIDv5 over [`crate::bundle::VIGIL_NAMESPACE`]
//! and the content, so importing twice gives the same ids. An object reached from several
//! events (a galaxy cluster, an organisation) is emitted once.
//!
//! Problems with one attribute (a wrong-typed field, an unsupported type, a value that does not
//! normalise) are [`Skipped`] records located by file and JSON path
//! (`a.json: Event.Attribute[3].value`). Malformed JSON is an error with `file:line:column`;
//! an event that is not an object, or without any timestamp or date, is an error with its path.
//!
//! # Export ([`write_feed`])
//!
//! Writes what MISP's feed generator writes: `manifest.json`, `hashes.csv` (md5 of each value,
//! event uuid) and `<uuid>.json` per event, each file written to a temporary name and renamed.
//! The output depends only on the input (events sorted by uuid, attributes by type, value and
//! uuid; JSON keys sorted). Types map back with [`misp_type_for`]; JA3S and JA4, which MISP has
//! no type for, are `text` with a `vigil:type="…"` tag that the import reads back. Each
//! attribute carries a `tlp:*` tag and a `misp:confidence-level` tag (the MISP taxonomy misp-stix
//! reads `confidence` from, rounded to its nearest level).
//!
//! The TLP 2.0 marking ids are a private table here until the lead unifies them with the
//! validator's `markings` module.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use md5::{Digest as _, Md5};
use serde_json::{json, Map, Value};
use vigil_model::{IndicatorType, Tlp};

use crate::normalize;
use crate::timestamp;
use crate::{IntelError, Skipped};

/// MISP attribute types that become indicators (when `to_ids` is true).
pub const PATTERN_TYPES: &[&str] = &[
    "ip-src",
    "ip-dst",
    "ip-src|port",
    "ip-dst|port",
    "domain",
    "hostname",
    "hostname|port",
    "domain|ip",
    "url",
    "uri",
    "link",
    "md5",
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "imphash",
    "ssdeep",
    "tlsh",
    "filename|md5",
    "filename|sha1",
    "filename|sha224",
    "filename|sha256",
    "filename|sha384",
    "filename|sha512",
    "filename|imphash",
    "filename|ssdeep",
    "filename|tlsh",
    "filename",
    "email",
    "email-src",
    "email-dst",
    "email-subject",
    "ja3-fingerprint-md5",
    "x509-fingerprint-md5",
    "x509-fingerprint-sha1",
    "x509-fingerprint-sha256",
    "mac-address",
    "mutex",
    "regkey",
    "user-agent",
    "AS",
    "text (tagged vigil:type=\"ja3s\" or \"ja4\")",
];

/// STIX 2.1 objects derived from MISP events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MispImport {
    /// STIX 2.1 objects (reports, indicators, identities, galaxy SDOs, relationships,
    /// sightings), each id once, in the order derived.
    pub objects: Vec<Value>,
    /// Attributes, tags and sightings that were not converted, located by file and JSON path.
    pub skipped: Vec<Skipped>,
    pub events: usize,
    /// Attributes seen, including those inside objects.
    pub attributes: usize,
}

// ---------------------------------------------------------------------------------------------
// Ids, times, markings

/// UUIDv5 of `name` in Vigil's namespace ([`crate::bundle::VIGIL_NAMESPACE`]).
fn uuid_v5(name: &str) -> String {
    uuid::Uuid::new_v5(&crate::bundle::VIGIL_NAMESPACE, name.as_bytes()).to_string()
}

/// The lower-cased uuid when `s` is one in 8-4-4-4-12 hex form.
fn valid_uuid(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    ok.then(|| s.to_ascii_lowercase())
}

/// MISP's `first_seen` / `last_seen` form: `2024-05-01T12:00:00.000000+00:00`.
fn misp_seen_time(t: i64) -> String {
    timestamp::format_seconds(t) + ".000000+00:00"
}

/// MISP's `misp:confidence-level` taxonomy with its numerical values.
const CONFIDENCE_LEVELS: [(&str, u8); 5] = [
    ("completely-confident", 100),
    ("usually-confident", 75),
    ("fairly-confident", 50),
    ("rarely-confident", 25),
    ("unconfident", 0),
];

fn confidence_of_tag(tag: &str) -> Option<u8> {
    let v = tag
        .strip_prefix("misp:confidence-level=\"")?
        .strip_suffix('"')?;
    CONFIDENCE_LEVELS
        .iter()
        .find(|(name, _)| *name == v)
        .map(|(_, n)| *n)
}

/// The nearest `misp:confidence-level` tag (ties go to the lower level).
fn confidence_tag(c: u8) -> String {
    let level = CONFIDENCE_LEVELS
        .iter()
        .min_by_key(|(_, n)| (n.abs_diff(c.min(100)), *n))
        .map(|(name, _)| *name)
        .unwrap_or("fairly-confident");
    format!("misp:confidence-level=\"{level}\"")
}

/// The STIX object type of a MISP galaxy type, misp-stix's table.
fn galaxy_sdo_type(galaxy_type: &str) -> Option<&'static str> {
    Some(match galaxy_type {
        "cmtmf-attack-pattern"
        | "mitre-attack-pattern"
        | "mitre-enterprise-attack-attack-pattern"
        | "mitre-ics-techniques"
        | "mitre-mobile-attack-attack-pattern"
        | "mitre-pre-attack-attack-pattern" => "attack-pattern",
        "mitre-course-of-action"
        | "mitre-enterprise-attack-course-of-action"
        | "mitre-mobile-attack-course-of-action" => "course-of-action",
        "mitre-enterprise-attack-intrusion-set"
        | "mitre-intrusion-set"
        | "mitre-mobile-attack-intrusion-set"
        | "mitre-pre-attack-intrusion-set" => "intrusion-set",
        "android"
        | "backdoor"
        | "banker"
        | "cryptominers"
        | "malpedia"
        | "mitre-enterprise-attack-malware"
        | "mitre-ics-software"
        | "mitre-malware"
        | "mitre-mobile-attack-malware"
        | "ransomware"
        | "stealer" => "malware",
        "360net-threat-actor"
        | "microsoft-activity-group"
        | "mitre-ics-groups"
        | "threat-actor" => "threat-actor",
        "botnet"
        | "rat"
        | "exploit-kit"
        | "tds"
        | "tool"
        | "mitre-tool"
        | "mitre-enterprise-attack-tool"
        | "mitre-mobile-attack-tool" => "tool",
        "branded-vulnerability" => "vulnerability",
        _ => return None,
    })
}

/// `misp-galaxy:<type>="<value>"` → (type, value).
fn parse_galaxy_tag(tag: &str) -> Option<(&str, &str)> {
    let rest = tag.strip_prefix("misp-galaxy:")?;
    let (ty, v) = rest.split_once('=')?;
    let v = v.strip_prefix('"')?.strip_suffix('"')?;
    Some((ty, v))
}

// ---------------------------------------------------------------------------------------------
// Patterns

/// Escapes a STIX pattern string literal.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The comparisons one attribute contributes, all on one STIX object type.
#[derive(Debug, Clone, PartialEq)]
struct Observation {
    sco: &'static str,
    comparisons: Vec<String>,
}

impl Observation {
    fn new(sco: &'static str, comparisons: Vec<String>) -> Self {
        Observation { sco, comparisons }
    }
}

/// A pattern of observations: one `[…]` per STIX object type, joined by `AND`.
fn pattern_of(obs: &[Observation]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for o in obs {
        let comps = o.comparisons.iter().map(String::as_str);
        match groups.iter_mut().find(|(s, _)| *s == o.sco) {
            Some((_, v)) => v.extend(comps),
            None => groups.push((o.sco, comps.collect())),
        }
    }
    groups
        .iter()
        .map(|(_, c)| format!("[{}]", c.join(" AND ")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn addr_comparisons(dir: &str, value: &str) -> Result<Vec<String>, String> {
    normalize::normalize_as(IndicatorType::Ip, value).map_err(|e| e.to_string())?;
    let family = if value.contains(':') {
        "ipv6-addr"
    } else {
        "ipv4-addr"
    };
    Ok(vec![
        format!("network-traffic:{dir}_ref.type = '{family}'"),
        format!("network-traffic:{dir}_ref.value = '{}'", esc(value.trim())),
    ])
}

fn port(p: &str) -> Result<u16, String> {
    let t = p.trim();
    if t.is_empty() || t.len() > 5 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid port {t:?}: expected 0-65535"));
    }
    t.parse()
        .map_err(|_| format!("invalid port {t:?}: expected 0-65535"))
}

fn split_composite<'v>(ty: &str, v: &'v str) -> Result<(&'v str, &'v str), String> {
    v.split_once('|')
        .ok_or_else(|| format!("{ty} value {v:?} has no '|' between its two parts"))
}

/// STIX hash name and the hex length our checks expect (None: not hex-checked).
fn hash_algo(ty: &str) -> Option<(&'static str, Option<usize>)> {
    Some(match ty {
        "md5" => ("MD5", Some(32)),
        "sha1" => ("'SHA-1'", Some(40)),
        "sha224" => ("'SHA-224'", Some(56)),
        "sha256" => ("'SHA-256'", Some(64)),
        "sha384" => ("'SHA-384'", Some(96)),
        "sha512" => ("'SHA-512'", Some(128)),
        "imphash" => ("IMPHASH", Some(32)),
        "ssdeep" => ("SSDEEP", None),
        "tlsh" => ("TLSH", None),
        _ => return None,
    })
}

fn hash_comparison(prefix: &str, ty: &str, v: &str) -> Result<Option<String>, String> {
    let Some((name, len)) = hash_algo(ty) else {
        return Ok(None);
    };
    let v = v.trim();
    if let Some(len) = len {
        if v.len() != len || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "invalid {ty} value {:?}: expected {len} hex digits",
                crate::normalize::snippet(v)
            ));
        }
    } else if v.is_empty() {
        return Err("empty value".into());
    }
    Ok(Some(format!("{prefix}.{name} = '{}'", esc(v))))
}

/// The observation for a MISP attribute type and value: `Ok(None)` when the type has no
/// pattern, `Err` when the value is not valid for its type.
fn observation(ty: &str, value: &str, tags: &[String]) -> Result<Option<Observation>, String> {
    let norm = |kind, v: &str| normalize::normalize(kind, v).map_err(|e| e.to_string());
    let one = |sco: &'static str, path: &str, v: &str| {
        Observation::new(sco, vec![format!("{sco}:{path} = '{}'", esc(v.trim()))])
    };
    Ok(Some(match ty {
        "ip-src" | "ip-dst" => {
            let dir = &ty[3..];
            Observation::new("network-traffic", addr_comparisons(dir, value)?)
        }
        "ip-src|port" | "ip-dst|port" => {
            let dir = &ty[3..6];
            let (a, p) = split_composite(ty, value)?;
            let mut c = addr_comparisons(dir, a)?;
            c.push(format!("network-traffic:{dir}_port = {}", port(p)?));
            Observation::new("network-traffic", c)
        }
        "domain" | "hostname" => {
            normalize::domain(value).map_err(|e| e.to_string())?;
            one("domain-name", "value", value)
        }
        "hostname|port" => {
            let (h, p) = split_composite(ty, value)?;
            normalize::domain(h).map_err(|e| e.to_string())?;
            Observation::new(
                "network-traffic",
                vec![
                    "network-traffic:dst_ref.type = 'domain-name'".into(),
                    format!("network-traffic:dst_ref.value = '{}'", esc(h.trim())),
                    format!("network-traffic:dst_port = {}", port(p)?),
                ],
            )
        }
        "domain|ip" => {
            let (d, a) = split_composite(ty, value)?;
            normalize::domain(d).map_err(|e| e.to_string())?;
            normalize::ip(a).map_err(|e| e.to_string())?;
            Observation::new(
                "domain-name",
                vec![
                    format!("domain-name:value = '{}'", esc(d.trim())),
                    format!(
                        "domain-name:resolves_to_refs[*].value = '{}'",
                        esc(a.trim())
                    ),
                ],
            )
        }
        "url" | "link" => {
            normalize::url(value).map_err(|e| e.to_string())?;
            one("url", "value", value)
        }
        // A uri is often a bare path, which Vigil cannot match but STIX can carry.
        "uri" if !value.trim().is_empty() => one("url", "value", value),
        "md5" | "sha1" | "sha256" => {
            let kind = match ty {
                "md5" => IndicatorType::Md5,
                "sha1" => IndicatorType::Sha1,
                _ => IndicatorType::Sha256,
            };
            norm(kind, value)?;
            match hash_comparison("file:hashes", ty, value)? {
                Some(c) => Observation::new("file", vec![c]),
                None => return Ok(None),
            }
        }
        "sha224" | "sha384" | "sha512" | "imphash" | "ssdeep" | "tlsh" => {
            match hash_comparison("file:hashes", ty, value)? {
                Some(c) => Observation::new("file", vec![c]),
                None => return Ok(None),
            }
        }
        "filename" if !value.trim().is_empty() => one("file", "name", value),
        _ if ty.starts_with("filename|") => {
            let algo = &ty["filename|".len()..];
            if hash_algo(algo).is_none() {
                return Ok(None);
            }
            let (f, h) = split_composite(ty, value)?;
            if let Ok(kind) = algo.parse::<IndicatorType>() {
                norm(kind, h)?;
            }
            let Some(hc) = hash_comparison("file:hashes", algo, h)? else {
                return Ok(None);
            };
            Observation::new("file", vec![format!("file:name = '{}'", esc(f)), hc])
        }
        "email" if !value.trim().is_empty() => one("email-addr", "value", value),
        "email-src" if !value.trim().is_empty() => one("email-message", "from_ref.value", value),
        "email-dst" if !value.trim().is_empty() => one("email-message", "to_refs[*].value", value),
        "email-subject" => one("email-message", "subject", value),
        "ja3-fingerprint-md5" => one("x-ja3", "value", &norm(IndicatorType::Ja3, value)?),
        "x509-fingerprint-md5" | "x509-fingerprint-sha1" | "x509-fingerprint-sha256" => {
            let algo = &ty["x509-fingerprint-".len()..];
            match hash_comparison("x509-certificate:hashes", algo, value)? {
                Some(c) => Observation::new("x509-certificate", vec![c]),
                None => return Ok(None),
            }
        }
        "mac-address" if !value.trim().is_empty() => one("mac-addr", "value", value),
        "mutex" if !value.trim().is_empty() => one("mutex", "name", value),
        "regkey" if !value.trim().is_empty() => one("windows-registry-key", "key", value),
        "user-agent" if !value.trim().is_empty() => Observation::new(
            "network-traffic",
            vec![format!(
                "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = '{}'",
                esc(value)
            )],
        ),
        "AS" => {
            let t = value.trim();
            let digits = t
                .strip_prefix("AS")
                .or_else(|| t.strip_prefix("as"))
                .unwrap_or(t);
            let n: u32 = digits
                .parse()
                .map_err(|_| format!("invalid AS number {t:?}"))?;
            Observation::new(
                "autonomous-system",
                vec![format!("autonomous-system:number = {n}")],
            )
        }
        "text" => {
            let vigil = tags
                .iter()
                .find_map(|t| t.strip_prefix("vigil:type=\"")?.strip_suffix('"'));
            match vigil {
                Some("ja3s") => one("x-ja3s", "value", &norm(IndicatorType::Ja3s, value)?),
                Some("ja4") => one("x-ja4", "value", &norm(IndicatorType::Ja4, value)?),
                _ => return Ok(None),
            }
        }
        _ => return Ok(None),
    }))
}

// ---------------------------------------------------------------------------------------------
// Reading MISP JSON

fn join(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_string()
    } else {
        format!("{base}.{field}")
    }
}

/// A located problem: the JSON path and what was wrong there.
type Bad = (String, String);

fn opt_str<'v>(m: &'v Map<String, Value>, key: &str, base: &str) -> Result<Option<&'v str>, Bad> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err((
            join(base, key),
            format!("expected a string, found {}", crate::json_kind(v)),
        )),
    }
}

/// MISP writes numbers as strings ("1714564800") or numbers.
fn opt_scalar(m: &Map<String, Value>, key: &str, base: &str) -> Result<Option<String>, Bad> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(v) => Err((
            join(base, key),
            format!("expected a string or number, found {}", crate::json_kind(v)),
        )),
    }
}

/// A Unix-seconds or date-time field; MISP's `0` means unset.
fn opt_time(m: &Map<String, Value>, key: &str, base: &str) -> Result<Option<i64>, Bad> {
    let Some(s) = opt_scalar(m, key, base)? else {
        return Ok(None);
    };
    if s.trim().is_empty() {
        return Ok(None);
    }
    match timestamp::parse_feed_time(&s) {
        Ok(0) => Ok(None),
        Ok(t) => Ok(Some(t)),
        Err(e) => Err((join(base, key), format!("invalid time {s:?}: {e}"))),
    }
}

fn opt_bool(m: &Map<String, Value>, key: &str, base: &str) -> Result<bool, Bad> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Ok(false),
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Ok(true),
        Some(Value::String(s)) if matches!(s.as_str(), "0" | "false" | "False") => Ok(false),
        Some(Value::String(s)) if matches!(s.as_str(), "1" | "true" | "True") => Ok(true),
        Some(v) => Err((join(base, key), format!("expected a boolean, found {v}"))),
    }
}

fn opt_array<'v>(m: &'v Map<String, Value>, key: &str, base: &str) -> Result<&'v [Value], Bad> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(v) => Err((
            join(base, key),
            format!("expected an array, found {}", crate::json_kind(v)),
        )),
    }
}

fn as_object<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, Bad> {
    v.as_object().ok_or_else(|| {
        (
            path.to_string(),
            format!("expected an object, found {}", crate::json_kind(v)),
        )
    })
}

/// What a list of tags says.
#[derive(Debug, Default, Clone, PartialEq)]
struct TagInfo {
    tlp: Option<Tlp>,
    confidence: Option<u8>,
    labels: Vec<String>,
    /// `misp-galaxy:` tags: (galaxy type, value, tag name).
    galaxies: Vec<(String, String, String)>,
    /// Every tag name, for `vigil:type`.
    names: Vec<String>,
}

impl TagInfo {
    fn from_names(names: Vec<String>) -> TagInfo {
        let mut t = TagInfo::default();
        for name in &names {
            if name.to_ascii_lowercase().starts_with("tlp:") {
                if let Ok(level) = name.parse::<Tlp>() {
                    t.tlp = t.tlp.max(Some(level));
                    continue;
                }
            }
            if let Some(c) = confidence_of_tag(name) {
                t.confidence = Some(t.confidence.map_or(c, |old| old.min(c)));
            }
            if let Some((ty, v)) = parse_galaxy_tag(name) {
                if galaxy_sdo_type(ty).is_some() {
                    t.galaxies
                        .push((ty.to_string(), v.to_string(), name.clone()));
                    continue;
                }
            }
            if name.starts_with("vigil:type=") {
                continue;
            }
            if !t.labels.contains(name) {
                t.labels.push(name.clone());
            }
        }
        t.names = names;
        t
    }
}

/// Fields shared by everything derived from one event.
struct EventCtx {
    id: String,
    created_by: Option<String>,
    tlp: Option<Tlp>,
    timestamp: i64,
}

/// A galaxy cluster's fields.
struct Cluster {
    uuid: Option<String>,
    ctype: String,
    value: String,
    galaxy: String,
    description: Option<String>,
    tag: Option<String>,
}

/// A MISP attribute's fields.
struct Attr {
    uuid: Option<String>,
    ty: String,
    value: String,
    category: Option<String>,
    comment: Option<String>,
    to_ids: bool,
    timestamp: Option<i64>,
    first_seen: Option<i64>,
    last_seen: Option<i64>,
    tags: TagInfo,
}

struct Importer<'n> {
    name: &'n str,
    out: MispImport,
    seen: HashSet<String>,
    /// Galaxy tag name → SDO id, so a tag-only cluster reuses the id of a cluster seen before.
    clusters: HashMap<String, String>,
}

impl<'n> Importer<'n> {
    fn new(name: &'n str) -> Self {
        Importer {
            name,
            out: MispImport::default(),
            seen: HashSet::new(),
            clusters: HashMap::new(),
        }
    }

    fn push(&mut self, obj: Value) {
        let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
        if self.seen.insert(id.to_string()) {
            self.out.objects.push(obj);
        }
    }

    fn skip(&mut self, (path, reason): Bad) {
        self.out.skipped.push(Skipped {
            location: format!("{}: {path}", self.name),
            reason,
        });
    }

    fn fatal(&self, (path, message): Bad) -> IntelError {
        IntelError::Format {
            location: format!(
                "{}: {}",
                self.name,
                if path.is_empty() { "(document)" } else { &path }
            ),
            message,
        }
    }

    fn document(&mut self, doc: &Value) -> Result<(), IntelError> {
        match doc {
            Value::Object(m) if m.contains_key("Event") => {
                let ev = m.get("Event").unwrap_or(&Value::Null);
                self.event(ev, "Event")
            }
            Value::Object(m) if m.contains_key("response") => {
                let Some(items) = m.get("response").and_then(Value::as_array) else {
                    return Err(
                        self.fatal(("response".into(), "expected an array of events".into()))
                    );
                };
                for (i, item) in items.iter().enumerate() {
                    match item.get("Event") {
                        Some(ev) => self.event(ev, &format!("response[{i}].Event"))?,
                        None => self.event(item, &format!("response[{i}]"))?,
                    }
                }
                Ok(())
            }
            Value::Object(m)
                if ["info", "uuid", "Attribute", "Object", "date"]
                    .iter()
                    .any(|k| m.contains_key(*k)) =>
            {
                self.event(doc, "")
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item.get("Event") {
                        Some(ev) => self.event(ev, &format!("[{i}].Event"))?,
                        None => self.event(item, &format!("[{i}]"))?,
                    }
                }
                Ok(())
            }
            _ => Err(self.fatal((
                String::new(),
                "expected a MISP event: {\"Event\":{…}}, an event object or {\"response\":[…]}"
                    .into(),
            ))),
        }
    }

    fn tags(&mut self, m: &Map<String, Value>, base: &str) -> TagInfo {
        let mut names = Vec::new();
        let list = match opt_array(m, "Tag", base) {
            Ok(l) => l,
            Err(bad) => {
                self.skip(bad);
                &[]
            }
        };
        for (i, t) in list.iter().enumerate() {
            let p = join(base, &format!("Tag[{i}]"));
            match t.get("name") {
                Some(Value::String(s)) => names.push(s.clone()),
                Some(v) => self.skip((
                    format!("{p}.name"),
                    format!("expected a string, found {}", crate::json_kind(v)),
                )),
                None => self.skip((p, "tag without a name".into())),
            }
        }
        TagInfo::from_names(names)
    }

    /// Galaxy SDOs of `m.Galaxy` and of galaxy tags not already covered by a cluster.
    fn galaxies(
        &mut self,
        m: &Map<String, Value>,
        base: &str,
        tags: &TagInfo,
        timestamp: i64,
    ) -> Vec<String> {
        let mut ids = Vec::new();
        let mut covered: HashSet<String> = HashSet::new();
        let list = match opt_array(m, "Galaxy", base) {
            Ok(l) => l,
            Err(bad) => {
                self.skip(bad);
                &[]
            }
        };
        for (gi, g) in list.iter().enumerate() {
            let gp = join(base, &format!("Galaxy[{gi}]"));
            let res = (|| -> Result<Vec<Cluster>, Bad> {
                let gm = as_object(g, &gp)?;
                let gtype = opt_str(gm, "type", &gp)?.unwrap_or_default().to_string();
                let gname = opt_str(gm, "name", &gp)?.unwrap_or(&gtype).to_string();
                let mut out = Vec::new();
                for (ci, c) in opt_array(gm, "GalaxyCluster", &gp)?.iter().enumerate() {
                    let cp = format!("{gp}.GalaxyCluster[{ci}]");
                    let cm = as_object(c, &cp)?;
                    let ctype = opt_str(cm, "type", &cp)?.unwrap_or(&gtype).to_string();
                    let Some(value) = opt_str(cm, "value", &cp)? else {
                        return Err((format!("{cp}.value"), "cluster without a value".into()));
                    };
                    out.push(Cluster {
                        uuid: opt_str(cm, "uuid", &cp)?.and_then(valid_uuid),
                        ctype,
                        value: value.to_string(),
                        galaxy: gname.clone(),
                        description: opt_str(cm, "description", &cp)?.map(str::to_string),
                        tag: opt_str(cm, "tag_name", &cp)?.map(str::to_string),
                    });
                }
                Ok(out)
            })();
            match res {
                Ok(clusters) => {
                    for Cluster {
                        uuid,
                        ctype,
                        value,
                        galaxy: gname,
                        description: desc,
                        tag,
                    } in clusters
                    {
                        if let Some(t) = &tag {
                            covered.insert(t.clone());
                        }
                        covered.insert(format!("misp-galaxy:{ctype}=\"{value}\""));
                        if let Some(id) =
                            self.galaxy_sdo(uuid, &ctype, &value, &gname, desc, tag, timestamp)
                        {
                            ids.push(id);
                        }
                    }
                }
                Err(bad) => self.skip(bad),
            }
        }
        for (ty, value, tag) in &tags.galaxies {
            if covered.contains(tag) {
                continue;
            }
            if let Some(id) = self.clusters.get(tag) {
                ids.push(id.clone());
                continue;
            }
            if let Some(id) =
                self.galaxy_sdo(None, ty, value, ty, None, Some(tag.clone()), timestamp)
            {
                ids.push(id);
            }
        }
        ids
    }

    #[allow(clippy::too_many_arguments)]
    fn galaxy_sdo(
        &mut self,
        uuid: Option<String>,
        ctype: &str,
        value: &str,
        galaxy_name: &str,
        description: Option<String>,
        tag: Option<String>,
        timestamp: i64,
    ) -> Option<String> {
        let sdo = galaxy_sdo_type(ctype)?;
        let uuid =
            uuid.unwrap_or_else(|| uuid_v5(&format!("misp-galaxy-cluster\x1f{ctype}\x1f{value}")));
        let id = format!("{sdo}--{uuid}");
        // MITRE clusters are named "Name - T1234"; misp-stix keeps the name and Vigil the id.
        let (name, external_id) = match value.rsplit_once(" - ") {
            Some((n, x)) if ctype.starts_with("mitre-") => (n.trim(), Some(x.trim())),
            _ => (value, None),
        };
        let mut labels = vec![
            format!("misp:galaxy-name=\"{galaxy_name}\""),
            format!("misp:galaxy-type=\"{ctype}\""),
        ];
        if let Some(t) = &tag {
            self.clusters.insert(t.clone(), id.clone());
        }
        self.clusters
            .insert(format!("misp-galaxy:{ctype}=\"{value}\""), id.clone());
        labels.extend(tag);
        let t = timestamp::format_rfc3339(timestamp);
        let mut o = json!({
            "type": sdo, "spec_version": "2.1", "id": id, "created": t, "modified": t,
            "name": name, "labels": labels,
        });
        if let Some(d) = description.filter(|d| !d.is_empty()) {
            o["description"] = json!(d);
        }
        if sdo == "malware" {
            o["is_family"] = json!(true);
        }
        if let Some(x) = external_id {
            let source = if ctype.contains("ics") {
                "mitre-ics-attack"
            } else {
                "mitre-attack"
            };
            o["external_references"] = json!([{"source_name": source, "external_id": x}]);
        }
        self.push(o);
        Some(id)
    }

    fn attr(
        &mut self,
        a: &Value,
        path: &str,
        inherited: Option<&TagInfo>,
    ) -> Result<Option<Attr>, Bad> {
        let m = as_object(a, path)?;
        if opt_bool(m, "deleted", path)? {
            return Ok(None);
        }
        let ty = opt_str(m, "type", path)?
            .ok_or_else(|| (join(path, "type"), "attribute without a type".to_string()))?;
        let value = opt_str(m, "value", path)?
            .ok_or_else(|| (join(path, "value"), "attribute without a value".to_string()))?;
        let mut tags = self.tags(m, path);
        if let Some(parent) = inherited {
            tags.tlp = tags.tlp.or(parent.tlp);
        }
        Ok(Some(Attr {
            uuid: opt_str(m, "uuid", path)?.and_then(valid_uuid),
            ty: ty.to_string(),
            value: value.to_string(),
            category: opt_str(m, "category", path)?.map(str::to_string),
            comment: opt_str(m, "comment", path)?
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            to_ids: opt_bool(m, "to_ids", path)?,
            timestamp: opt_time(m, "timestamp", path)?,
            first_seen: opt_time(m, "first_seen", path)?,
            last_seen: opt_time(m, "last_seen", path)?,
            tags,
        }))
    }

    /// Reads an attribute and its pattern observation; `None` when it was skipped.
    fn actionable(&mut self, a: &Value, path: &str) -> Option<(Attr, Observation)> {
        self.out.attributes += 1;
        let attr = match self.attr(a, path, None) {
            Ok(Some(attr)) => attr,
            Ok(None) => return None,
            Err(bad) => {
                self.skip(bad);
                return None;
            }
        };
        if !attr.to_ids {
            self.skip((path.to_string(), "to_ids is false (not actionable)".into()));
            return None;
        }
        match observation(&attr.ty, &attr.value, &attr.tags.names) {
            Ok(Some(o)) => Some((attr, o)),
            Ok(None) => {
                self.skip((
                    join(path, "type"),
                    format!(
                        "unsupported attribute type {:?} for a stix pattern",
                        attr.ty
                    ),
                ));
                None
            }
            Err(reason) => {
                self.skip((join(path, "value"), reason));
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn indicator(
        &mut self,
        ev: &EventCtx,
        id: String,
        pattern: String,
        ts: i64,
        valid_from: i64,
        valid_until: Option<i64>,
        tags: &TagInfo,
        extra: Map<String, Value>,
    ) -> String {
        let t = timestamp::format_rfc3339(ts);
        let mut o = json!({
            "type": "indicator", "spec_version": "2.1", "id": id, "created": t, "modified": t,
            "pattern": pattern, "pattern_type": "stix", "pattern_version": "2.1",
            "valid_from": timestamp::format_rfc3339(valid_from),
        });
        if let Some(until) = valid_until.filter(|u| *u > valid_from) {
            o["valid_until"] = json!(timestamp::format_rfc3339(until));
        }
        if !tags.labels.is_empty() {
            o["labels"] = json!(tags.labels);
        }
        if let Some(c) = tags.confidence {
            o["confidence"] = json!(c);
        }
        if let Some(tlp) = tags.tlp.or(ev.tlp) {
            o["object_marking_refs"] = json!([crate::markings::tlp_marking_id(tlp)]);
        }
        if let Some(by) = &ev.created_by {
            o["created_by_ref"] = json!(by);
        }
        if let Value::Object(m) = &mut o {
            m.extend(extra);
        }
        self.push(o);
        id
    }

    /// Relationships from an indicator to galaxy SDOs, with misp-stix's relationship types.
    fn relate(
        &mut self,
        source: &str,
        targets: &[String],
        ts: i64,
        tlp: Option<Tlp>,
        refs: &mut Vec<String>,
    ) {
        for target in targets {
            let target_type = target.split("--").next().unwrap_or_default();
            let rel = match target_type {
                "attack-pattern" | "campaign" | "intrusion-set" | "malware" | "threat-actor"
                | "tool" => "indicates",
                _ => "related-to",
            };
            let id = format!(
                "relationship--{}",
                uuid_v5(&format!("{source} - {rel} - {target}"))
            );
            let t = timestamp::format_rfc3339(ts);
            let mut o = json!({
                "type": "relationship", "spec_version": "2.1", "id": id, "created": t,
                "modified": t, "relationship_type": rel, "source_ref": source,
                "target_ref": target,
            });
            if let Some(tlp) = tlp {
                o["object_marking_refs"] = json!([crate::markings::tlp_marking_id(tlp)]);
            }
            self.push(o);
            refs.push(target.clone());
            refs.push(id);
        }
    }

    fn sightings(
        &mut self,
        m: &Map<String, Value>,
        base: &str,
        indicator: &str,
        default_ts: i64,
        tlp: Option<Tlp>,
        refs: &mut Vec<String>,
    ) {
        let list = match opt_array(m, "Sighting", base) {
            Ok(l) => l,
            Err(bad) => return self.skip(bad),
        };
        for (i, s) in list.iter().enumerate() {
            let p = join(base, &format!("Sighting[{i}]"));
            let res = (|| -> Result<Option<Value>, Bad> {
                let sm = as_object(s, &p)?;
                match opt_scalar(sm, "type", &p)?.as_deref() {
                    None | Some("0") => {}
                    Some(other) => {
                        let what = if other == "1" {
                            "false-positive"
                        } else {
                            "expiration"
                        };
                        return Err((
                            join(&p, "type"),
                            format!("{what} sighting (type {other}) not imported"),
                        ));
                    }
                }
                let when = opt_time(sm, "date_sighting", &p)?.unwrap_or(default_ts);
                let uuid = opt_str(sm, "uuid", &p)?
                    .and_then(valid_uuid)
                    .unwrap_or_else(|| {
                        uuid_v5(&format!("misp-sighting\x1f{indicator}\x1f{when}\x1f{i}"))
                    });
                let t = timestamp::format_rfc3339(when);
                let mut o = json!({
                    "type": "sighting", "spec_version": "2.1", "id": format!("sighting--{uuid}"),
                    "created": t, "modified": t, "sighting_of_ref": indicator, "count": 1,
                    "first_seen": t, "last_seen": t,
                });
                if let Some(src) = opt_str(sm, "source", &p)?.filter(|s| !s.is_empty()) {
                    o["description"] = json!(src);
                }
                if let Some(tlp) = tlp {
                    o["object_marking_refs"] = json!([crate::markings::tlp_marking_id(tlp)]);
                }
                Ok(Some(o))
            })();
            match res {
                Ok(Some(o)) => {
                    if let Some(id) = o.get("id").and_then(Value::as_str) {
                        refs.push(id.to_string());
                    }
                    self.push(o);
                }
                Ok(None) => {}
                Err(bad) => self.skip(bad),
            }
        }
    }

    fn attribute(&mut self, a: &Value, path: &str, ev: &EventCtx, refs: &mut Vec<String>) {
        let Some((attr, obs)) = self.actionable(a, path) else {
            return;
        };
        let uuid = attr.uuid.clone().unwrap_or_else(|| {
            uuid_v5(&format!(
                "misp-attribute\x1f{}\x1f{}\x1f{}",
                ev.id, attr.ty, attr.value
            ))
        });
        let ts = attr.timestamp.unwrap_or(ev.timestamp);
        let mut extra = Map::new();
        if let Some(c) = &attr.comment {
            extra.insert("description".into(), json!(c));
        }
        if let Some(c) = &attr.category {
            extra.insert("x_misp_category".into(), json!(c));
        }
        extra.insert("x_misp_type".into(), json!(attr.ty));
        let id = self.indicator(
            ev,
            format!("indicator--{uuid}"),
            pattern_of(std::slice::from_ref(&obs)),
            ts,
            attr.first_seen.unwrap_or(ts),
            attr.last_seen,
            &attr.tags,
            extra,
        );
        refs.push(id.clone());
        let tlp = attr.tags.tlp.or(ev.tlp);
        if let Some(m) = a.as_object() {
            let sdos = self.galaxies(m, path, &attr.tags, ts);
            self.relate(&id, &sdos, ts, tlp, refs);
            self.sightings(m, path, &id, ts, tlp, refs);
        }
    }

    fn object(&mut self, o: &Value, path: &str, ev: &EventCtx, refs: &mut Vec<String>) {
        let m = match as_object(o, path) {
            Ok(m) => m,
            Err(bad) => return self.skip(bad),
        };
        let fields = (|| -> Result<_, Bad> {
            Ok((
                opt_str(m, "uuid", path)?.and_then(valid_uuid),
                opt_str(m, "name", path)?.unwrap_or("object").to_string(),
                opt_str(m, "meta-category", path)?.map(str::to_string),
                opt_str(m, "comment", path)?
                    .filter(|c| !c.is_empty())
                    .map(str::to_string),
                opt_time(m, "timestamp", path)?,
                opt_time(m, "first_seen", path)?,
                opt_time(m, "last_seen", path)?,
                opt_array(m, "Attribute", path)?,
            ))
        })();
        let (uuid, name, meta, comment, ts, first, last, attrs) = match fields {
            Ok(f) => f,
            Err(bad) => return self.skip(bad),
        };
        let mut members: Vec<(Attr, Observation, usize)> = Vec::new();
        for (i, a) in attrs.iter().enumerate() {
            let p = join(path, &format!("Attribute[{i}]"));
            if let Some((attr, obs)) = self.actionable(a, &p) {
                members.push((attr, obs, i));
            }
        }
        if members.is_empty() {
            return;
        }
        let ts = ts
            .or_else(|| members.iter().filter_map(|(a, _, _)| a.timestamp).max())
            .unwrap_or(ev.timestamp);
        let mut tags = TagInfo {
            labels: vec![format!("misp:name=\"{name}\"")],
            ..TagInfo::default()
        };
        if let Some(meta) = &meta {
            tags.labels.push(format!("misp:meta-category=\"{meta}\""));
        }
        for (a, _, _) in &members {
            tags.tlp = tags.tlp.max(a.tags.tlp);
            if let Some(c) = a.tags.confidence {
                tags.confidence = Some(tags.confidence.map_or(c, |o| o.min(c)));
            }
            for l in &a.tags.labels {
                if !tags.labels.contains(l) {
                    tags.labels.push(l.clone());
                }
            }
        }
        let uuid = uuid.unwrap_or_else(|| {
            let key: Vec<String> = members
                .iter()
                .map(|(a, _, _)| format!("{}={}", a.ty, a.value))
                .collect();
            uuid_v5(&format!(
                "misp-object\x1f{}\x1f{name}\x1f{}",
                ev.id,
                key.join("\x1f")
            ))
        });
        let first = first.or_else(|| members.iter().filter_map(|(a, _, _)| a.first_seen).min());
        let last = last.or_else(|| members.iter().filter_map(|(a, _, _)| a.last_seen).max());
        let obs: Vec<Observation> = members.iter().map(|(_, o, _)| o.clone()).collect();
        let mut extra = Map::new();
        if let Some(c) = comment {
            extra.insert("description".into(), json!(c));
        }
        extra.insert("x_misp_name".into(), json!(name));
        if let Some(meta) = meta {
            extra.insert("x_misp_meta_category".into(), json!(meta));
        }
        let id = self.indicator(
            ev,
            format!("indicator--{uuid}"),
            pattern_of(&obs),
            ts,
            first.unwrap_or(ts),
            last,
            &tags,
            extra,
        );
        refs.push(id.clone());
        let tlp = tags.tlp.or(ev.tlp);
        for (a, _, i) in &members {
            let p = join(path, &format!("Attribute[{i}]"));
            if let Some(am) = attrs.get(*i).and_then(Value::as_object) {
                let sdos = self.galaxies(am, &p, &a.tags, ts);
                self.relate(&id, &sdos, ts, tlp, refs);
                self.sightings(am, &p, &id, ts, tlp, refs);
            }
        }
    }

    fn event(&mut self, ev: &Value, base: &str) -> Result<(), IntelError> {
        self.out.events += 1;
        let m = as_object(ev, if base.is_empty() { "(document)" } else { base })
            .map_err(|b| self.fatal(b))?;
        let head = (|| -> Result<_, Bad> {
            let info = opt_str(m, "info", base)?.unwrap_or_default().to_string();
            let date = match opt_str(m, "date", base)? {
                Some(d) if !d.trim().is_empty() => Some(
                    timestamp::parse_feed_time(d)
                        .map_err(|e| (join(base, "date"), format!("invalid date {d:?}: {e}")))?,
                ),
                _ => None,
            };
            let ts = opt_time(m, "timestamp", base)?;
            let published = opt_time(m, "publish_timestamp", base)?;
            let created = ts.or(date).ok_or_else(|| {
                (
                    join(base, "timestamp"),
                    "event has neither a timestamp nor a date".to_string(),
                )
            })?;
            let uuid = opt_str(m, "uuid", base)?.and_then(valid_uuid);
            let threat = opt_scalar(m, "threat_level_id", base)?;
            let analysis = opt_scalar(m, "analysis", base)?;
            let orgc = match m.get("Orgc") {
                Some(o) => {
                    let p = join(base, "Orgc");
                    let om = as_object(o, &p)?;
                    opt_str(om, "name", &p)?.filter(|n| !n.is_empty()).map(|n| {
                        (
                            n.to_string(),
                            opt_str(om, "uuid", &p).ok().flatten().and_then(valid_uuid),
                        )
                    })
                }
                None => None,
            };
            Ok((
                info, date, ts, published, created, uuid, threat, analysis, orgc,
            ))
        })();
        let (info, date, ts, published, created, uuid, threat, analysis, orgc) =
            head.map_err(|b| self.fatal(b))?;
        let uuid =
            uuid.unwrap_or_else(|| uuid_v5(&format!("misp-event\x1f{info}\x1f{date:?}\x1f{ts:?}")));
        let created_by = orgc.map(|(name, org_uuid)| {
            let org_uuid = org_uuid.unwrap_or_else(|| uuid_v5(&format!("misp-org\x1f{name}")));
            let id = format!("identity--{org_uuid}");
            let t = timestamp::format_rfc3339(created);
            self.push(json!({
                "type": "identity", "spec_version": "2.1", "id": id, "created": t, "modified": t,
                "name": name, "identity_class": "organization",
            }));
            id
        });
        let tags = self.tags(m, base);
        let ctx = EventCtx {
            id: format!("report--{uuid}"),
            created_by,
            tlp: tags.tlp,
            timestamp: created,
        };
        let mut refs = self.galaxies(m, base, &tags, created);
        match opt_array(m, "Attribute", base) {
            Ok(list) => {
                for (i, a) in list.iter().enumerate() {
                    self.attribute(a, &join(base, &format!("Attribute[{i}]")), &ctx, &mut refs);
                }
            }
            Err(bad) => return Err(self.fatal(bad)),
        }
        match opt_array(m, "Object", base) {
            Ok(list) => {
                for (i, o) in list.iter().enumerate() {
                    self.object(o, &join(base, &format!("Object[{i}]")), &ctx, &mut refs);
                }
            }
            Err(bad) => return Err(self.fatal(bad)),
        }
        let mut unique = HashSet::new();
        refs.retain(|r| unique.insert(r.clone()));
        let t = timestamp::format_rfc3339(created);
        if refs.is_empty() {
            // A report needs object_refs; misp-stix points an empty event at a note.
            let note = format!("note--{}", uuid_v5(&format!("misp-empty-event\x1f{uuid}")));
            self.push(json!({
                "type": "note", "spec_version": "2.1", "id": note, "created": t, "modified": t,
                "content": "This MISP Event is empty and contains no attribute, object, galaxy or tag.",
                "object_refs": [ctx.id],
            }));
            refs.push(note);
        }
        let name = if info.is_empty() {
            format!("MISP event {uuid}")
        } else {
            info
        };
        let mut report = json!({
            "type": "report", "spec_version": "2.1", "id": ctx.id, "created": t, "modified": t,
            "name": name, "published": timestamp::format_rfc3339(published.or(date).unwrap_or(created)),
            "report_types": ["threat-report"], "object_refs": refs,
        });
        if !tags.labels.is_empty() {
            report["labels"] = json!(tags.labels);
        }
        if let Some(c) = tags.confidence {
            report["confidence"] = json!(c);
        }
        if let Some(tlp) = tags.tlp {
            report["object_marking_refs"] = json!([crate::markings::tlp_marking_id(tlp)]);
        }
        if let Some(by) = &ctx.created_by {
            report["created_by_ref"] = json!(by);
        }
        if let Some(x) = threat {
            report["x_misp_threat_level_id"] = json!(x);
        }
        if let Some(x) = analysis {
            report["x_misp_analysis"] = json!(x);
        }
        self.push(report);
        Ok(())
    }
}

fn parse_into(imp: &mut Importer<'_>, data: &[u8]) -> Result<(), IntelError> {
    let doc: Value = serde_json::from_slice(crate::strip_bom(data))
        .map_err(|e| crate::json_error(imp.name, &e))?;
    imp.document(&doc)
}

/// Converts a MISP event document (see the module docs) to STIX 2.1 objects. `name` is used in
/// error and skip locations.
pub fn parse_event_json(name: &str, data: &[u8]) -> Result<MispImport, IntelError> {
    let mut imp = Importer::new(name);
    parse_into(&mut imp, data)?;
    Ok(imp.out)
}

/// Reads a MISP feed folder: `manifest.json`, then each `<uuid>.json` it lists, in uuid order.
/// A listed file that is missing or malformed is an error naming it; other files are ignored.
pub fn read_feed_dir(dir: &Path) -> Result<MispImport, IntelError> {
    let manifest_path = dir.join("manifest.json");
    let read = |p: &Path| {
        fs::read(p).map_err(|source| IntelError::Io {
            path: p.to_path_buf(),
            source,
        })
    };
    let manifest_name = manifest_path.display().to_string();
    let data = read(&manifest_path)?;
    let manifest: Value = serde_json::from_slice(crate::strip_bom(&data))
        .map_err(|e| crate::json_error(&manifest_name, &e))?;
    let Some(entries) = manifest.as_object() else {
        return Err(IntelError::Format {
            location: format!("{manifest_name}: (document)"),
            message: format!(
                "expected an object of event uuids, found {}",
                crate::json_kind(&manifest)
            ),
        });
    };
    let mut uuids = Vec::with_capacity(entries.len());
    for key in entries.keys() {
        // The key becomes a file name: only a uuid may, never a path.
        let Some(u) = valid_uuid(key) else {
            return Err(IntelError::Format {
                location: format!("{manifest_name}: {key}"),
                message: "manifest key is not an event uuid".into(),
            });
        };
        uuids.push((u, key.clone()));
    }
    uuids.sort();
    let mut out = MispImport::default();
    let mut seen = HashSet::new();
    let mut clusters = HashMap::new();
    for (_, key) in uuids {
        let path = dir.join(format!("{key}.json"));
        let name = path.display().to_string();
        let data = read(&path)?;
        let mut imp = Importer::new(&name);
        imp.seen = std::mem::take(&mut seen);
        imp.clusters = std::mem::take(&mut clusters);
        parse_into(&mut imp, &data)?;
        seen = std::mem::take(&mut imp.seen);
        clusters = std::mem::take(&mut imp.clusters);
        out.objects.append(&mut imp.out.objects);
        out.skipped.append(&mut imp.out.skipped);
        out.events += imp.out.events;
        out.attributes += imp.out.attributes;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Export

/// One indicator to export as a MISP attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedAttribute {
    pub kind: IndicatorType,
    /// The canonical value.
    pub value: String,
    /// A UUID (`indicator--<uuid>` is accepted too); empty derives one from event, kind and
    /// value.
    pub uuid: String,
    pub comment: Option<String>,
    /// Unix seconds.
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub tlp: Tlp,
    /// 0–100; written as the nearest `misp:confidence-level` tag.
    pub confidence: u8,
    /// Written as tags.
    pub labels: Vec<String>,
    pub to_ids: bool,
}

/// One MISP event of a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    /// A UUID (`report--<uuid>` is accepted too).
    pub uuid: String,
    pub info: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Unix seconds; also the attributes' timestamp.
    pub timestamp: i64,
    pub tlp: Tlp,
    pub orgc_name: String,
    pub attributes: Vec<FeedAttribute>,
    pub tags: Vec<String>,
}

/// What [`write_feed`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedSummary {
    pub events: usize,
    pub attributes: usize,
    /// Lines of `hashes.csv`.
    pub hashes: usize,
}

/// The MISP attribute type for an indicator type. JA3S and JA4 have none in MISP and are
/// `text` (with a `vigil:type` tag, see [`write_feed`]); networks go in `ip-dst` as MISP does.
pub fn misp_type_for(kind: IndicatorType) -> &'static str {
    match kind {
        IndicatorType::Ip | IndicatorType::Cidr => "ip-dst",
        IndicatorType::Domain => "domain",
        IndicatorType::Url => "url",
        IndicatorType::Ja3 => "ja3-fingerprint-md5",
        IndicatorType::Ja3s | IndicatorType::Ja4 => "text",
        IndicatorType::Md5 => "md5",
        IndicatorType::Sha1 => "sha1",
        IndicatorType::Sha256 => "sha256",
    }
}

fn misp_category_for(kind: IndicatorType) -> &'static str {
    match kind {
        IndicatorType::Md5 | IndicatorType::Sha1 | IndicatorType::Sha256 => "Payload delivery",
        _ => "Network activity",
    }
}

fn tag_json(name: &str) -> Value {
    json!({"colour": "#ffffff", "local": false, "name": name, "relationship_type": ""})
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// A uuid given as `uuid` or `<type>--uuid`.
fn given_uuid(s: &str) -> Option<String> {
    valid_uuid(s.rsplit_once("--").map_or(s, |(_, u)| u))
}

fn md5_hex(s: &str) -> String {
    let d = Md5::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn valid_date(d: &str) -> bool {
    let b = d.as_bytes();
    b.len() == 10 && b[4] == b'-' && b[7] == b'-' && timestamp::parse_feed_time(d).is_ok()
}

/// One event in MISP's feed format, its manifest entry and its `hashes.csv` lines.
fn feed_event(ev: &FeedEvent, uuid: &str) -> Result<(Value, Value, Vec<String>), IntelError> {
    let located = |what: &str, message: String| IntelError::Format {
        location: format!("event {uuid}: {what}"),
        message,
    };
    if !valid_date(&ev.date) {
        return Err(located(
            "date",
            format!("invalid date {:?}: expected YYYY-MM-DD", ev.date),
        ));
    }
    let ts = ev.timestamp.to_string();
    let orgc =
        json!({"name": ev.orgc_name, "uuid": uuid_v5(&format!("misp-org\x1f{}", ev.orgc_name))});
    let mut event_tags = vec![format!("tlp:{}", ev.tlp)];
    for t in &ev.tags {
        push_unique(&mut event_tags, t.clone());
    }
    let event_tags: Vec<Value> = event_tags.iter().map(|t| tag_json(t)).collect();
    let mut attrs = Vec::with_capacity(ev.attributes.len());
    for (i, a) in ev.attributes.iter().enumerate() {
        let a_uuid = if a.uuid.is_empty() {
            uuid_v5(&format!(
                "misp-attribute\x1f{uuid}\x1f{}\x1f{}",
                a.kind, a.value
            ))
        } else {
            given_uuid(&a.uuid).ok_or_else(|| {
                located(
                    &format!("attributes[{i}].uuid"),
                    format!("invalid uuid {:?}", a.uuid),
                )
            })?
        };
        let ty = misp_type_for(a.kind);
        let mut tags = vec![format!("tlp:{}", a.tlp), confidence_tag(a.confidence)];
        if matches!(a.kind, IndicatorType::Ja3s | IndicatorType::Ja4) {
            tags.push(format!("vigil:type=\"{}\"", a.kind));
        }
        for l in &a.labels {
            push_unique(&mut tags, l.clone());
        }
        let comment = match (&a.comment, a.kind) {
            (Some(c), _) => c.clone(),
            (None, IndicatorType::Ja3s) => "JA3S fingerprint".into(),
            (None, IndicatorType::Ja4) => "JA4 fingerprint".into(),
            (None, _) => String::new(),
        };
        let mut o = json!({
            "category": misp_category_for(a.kind), "comment": comment,
            "disable_correlation": false, "timestamp": ts, "to_ids": a.to_ids, "type": ty,
            "uuid": a_uuid, "value": a.value,
            "Tag": tags.iter().map(|t| tag_json(t)).collect::<Vec<_>>(),
        });
        if let Some(f) = a.first_seen {
            o["first_seen"] = json!(misp_seen_time(f));
        }
        if let Some(l) = a.last_seen {
            o["last_seen"] = json!(misp_seen_time(l));
        }
        attrs.push(((ty, a.value.clone(), a_uuid), o));
    }
    attrs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hashes = Vec::new();
    for ((_, value, _), _) in &attrs {
        // None of the exported types is composite, so each value is hashed whole.
        hashes.push(format!("{},{uuid}", md5_hex(value)));
    }
    let mut event = json!({
        "analysis": "2", "date": ev.date, "extends_uuid": "", "info": ev.info,
        "publish_timestamp": ts, "published": true, "threat_level_id": "4", "timestamp": ts,
        "uuid": uuid, "Orgc": orgc, "Tag": event_tags,
    });
    if !attrs.is_empty() {
        event["Attribute"] = Value::Array(attrs.into_iter().map(|(_, o)| o).collect());
    }
    let manifest = json!({
        "Orgc": orgc, "Tag": event_tags, "info": ev.info, "date": ev.date, "analysis": 2,
        "threat_level_id": 4, "timestamp": ev.timestamp,
    });
    Ok((json!({ "Event": event }), manifest, hashes))
}

/// Writes `data` to `dir/name` through a temporary file and a rename.
fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> Result<(), IntelError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let dest = dir.join(name);
    let io = |path: PathBuf| move |source| IntelError::Io { path, source };
    fs::write(&tmp, data).map_err(io(tmp.clone()))?;
    fs::rename(&tmp, &dest).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        IntelError::Io {
            path: dest.clone(),
            source,
        }
    })
}

/// Writes a MISP feed folder (see the module docs): the event files first, then `hashes.csv`,
/// then `manifest.json`, so a reader never sees a manifest naming a file not yet written.
pub fn write_feed(dir: &Path, events: &[FeedEvent]) -> Result<FeedSummary, IntelError> {
    let mut built = BTreeMap::new();
    for (i, ev) in events.iter().enumerate() {
        let uuid = given_uuid(&ev.uuid).ok_or_else(|| IntelError::Format {
            location: format!("events[{i}].uuid"),
            message: format!("invalid event uuid {:?}", ev.uuid),
        })?;
        if built.contains_key(&uuid) {
            return Err(IntelError::Format {
                location: format!("events[{i}].uuid"),
                message: format!("duplicate event uuid {uuid}"),
            });
        }
        let b = feed_event(ev, &uuid)?;
        built.insert(uuid, b);
    }
    fs::create_dir_all(dir).map_err(|source| IntelError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut summary = FeedSummary::default();
    let mut manifest = Map::new();
    let mut csv = String::new();
    for (uuid, (event, entry, hashes)) in built {
        let bytes = serde_json::to_vec(&event).map_err(|e| crate::json_error(&uuid, &e))?;
        write_atomic(dir, &format!("{uuid}.json"), &bytes)?;
        summary.events += 1;
        summary.attributes += event["Event"]["Attribute"].as_array().map_or(0, Vec::len);
        summary.hashes += hashes.len();
        for h in hashes {
            csv.push_str(&h);
            csv.push('\n');
        }
        manifest.insert(uuid, entry);
    }
    write_atomic(dir, "hashes.csv", csv.as_bytes())?;
    let bytes = serde_json::to_vec(&Value::Object(manifest))
        .map_err(|e| crate::json_error("manifest.json", &e))?;
    write_atomic(dir, "manifest.json", &bytes)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern;
    use IndicatorType as T;

    fn fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/misp")
            .join(rel)
    }

    fn by_id<'a>(imp: &'a MispImport, id: &str) -> &'a Value {
        imp.objects
            .iter()
            .find(|o| o["id"] == id)
            .unwrap_or_else(|| panic!("no object {id}"))
    }

    fn of_type<'a>(imp: &'a MispImport, ty: &str) -> Vec<&'a Value> {
        imp.objects.iter().filter(|o| o["type"] == ty).collect()
    }

    /// Every matchable (type, value) of the import's indicator patterns, sorted.
    fn atoms(imp: &MispImport) -> Vec<(IndicatorType, String)> {
        let mut v: Vec<_> = of_type(imp, "indicator")
            .iter()
            .flat_map(|o| {
                let p = o["pattern"].as_str().unwrap();
                let parsed = pattern::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
                pattern::indicator_atoms(&parsed)
            })
            .map(|a| (a.kind, a.value))
            .collect();
        v.sort();
        v
    }

    fn skipped(imp: &MispImport) -> Vec<String> {
        imp.skipped.iter().map(|s| s.to_string()).collect()
    }

    fn load_fixture() -> MispImport {
        let data = fs::read(fixture("event.json")).unwrap();
        parse_event_json("event.json", &data).unwrap()
    }

    #[test]
    fn only_well_formed_uuids_are_taken_from_misp() {
        assert_eq!(
            valid_uuid("5F0C7A2E-0B6C-4D8E-9A1F-2B3C4D5E6F70").as_deref(),
            Some("5f0c7a2e-0b6c-4d8e-9a1f-2b3c4d5e6f70")
        );
        assert_eq!(valid_uuid("../../etc/passwd"), None);
    }

    #[test]
    fn event_becomes_a_report_with_org_identity_tlp_and_misp_properties() {
        let imp = load_fixture();
        assert_eq!((imp.events, imp.attributes), (1, 17));
        let r = by_id(&imp, "report--5f0c7a2e-0b6c-4d8e-9a1f-2b3c4d5e6f70");
        assert_eq!(r["spec_version"], "2.1");
        assert_eq!(
            r["name"],
            "Phishing wave delivering AgentTesla via fake invoices"
        );
        assert_eq!(r["created"], timestamp::format_rfc3339(1_714_600_000));
        assert_eq!(r["modified"], "2024-05-01T21:46:40.000Z");
        assert_eq!(r["published"], timestamp::format_rfc3339(1_714_610_000));
        assert_eq!(r["labels"], json!(["type:OSINT"]));
        assert_eq!(
            r["object_marking_refs"],
            json!([crate::markings::tlp_marking_id(Tlp::Amber)])
        );
        assert_eq!(r["x_misp_threat_level_id"], "2");
        assert_eq!(r["x_misp_analysis"], "1");
        let org = "identity--55f6ea5e-2c60-40e5-964f-47a8950d210f";
        assert_eq!(r["created_by_ref"], org);
        assert_eq!(by_id(&imp, org)["name"], "CIRCL");
        // object_refs hold everything derived from the event, each once.
        let refs: Vec<&str> = r["object_refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for o in &imp.objects {
            let id = o["id"].as_str().unwrap();
            let derived = !matches!(o["type"].as_str(), Some("report" | "identity"));
            assert_eq!(refs.contains(&id), derived, "{id}");
        }
        let unique: HashSet<_> = refs.iter().collect();
        assert_eq!(unique.len(), refs.len());
    }

    #[test]
    fn to_ids_attribute_becomes_an_indicator_with_its_times_tags_and_comment() {
        let imp = load_fixture();
        let i = by_id(&imp, "indicator--a1f0e2d3-0001-4aaa-8bbb-000000000001");
        assert_eq!(
            i["pattern"],
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.23']"
        );
        assert_eq!(i["pattern_type"], "stix");
        assert_eq!(i["valid_from"], "2024-04-28T10:00:00.000Z");
        assert_eq!(i["valid_until"], "2024-05-01T09:30:00.000Z");
        assert_eq!(i["created"], timestamp::format_rfc3339(1_714_600_100));
        assert_eq!(i["description"], "C2 server");
        assert_eq!(i["x_misp_category"], "Network activity");
        assert_eq!(i["x_misp_type"], "ip-dst");
        assert_eq!(i["confidence"], 75);
        assert_eq!(
            i["labels"],
            json!(["misp:confidence-level=\"usually-confident\""])
        );
        // The attribute's own TLP beats the event's.
        assert_eq!(
            i["object_marking_refs"],
            json!([crate::markings::tlp_marking_id(Tlp::Red)])
        );
        // Without its own TLP, the event's applies; without first_seen, valid_from = timestamp.
        let d = by_id(&imp, "indicator--a1f0e2d3-0002-4aaa-8bbb-000000000002");
        assert_eq!(
            d["object_marking_refs"],
            json!([crate::markings::tlp_marking_id(Tlp::Amber)])
        );
        assert_eq!(d["valid_from"], timestamp::format_rfc3339(1_714_600_200));
        assert!(d.get("valid_until").is_none() && d.get("labels").is_none());
    }

    #[test]
    fn patterns_follow_misp_stix_and_yield_vigil_atoms() {
        let imp = load_fixture();
        let pat = |u: &str| {
            by_id(&imp, &format!("indicator--{u}"))["pattern"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            pat("a1f0e2d3-0005-4aaa-8bbb-000000000005"),
            "[file:name = 'inv_2291.exe' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"
        );
        assert_eq!(pat("a1f0e2d3-0006-4aaa-8bbb-000000000006"), "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.7' AND network-traffic:dst_port = 8443]");
        assert_eq!(pat("a1f0e2d3-0007-4aaa-8bbb-000000000007"), "[domain-name:value = 'mail.invoice-portal.example' AND domain-name:resolves_to_refs[*].value = '203.0.113.8']");
        assert_eq!(
            pat("a1f0e2d3-0008-4aaa-8bbb-000000000008"),
            "[email-message:from_ref.value = 'billing@invoice-portal.example']"
        );
        assert_eq!(
            pat("a1f0e2d3-0009-4aaa-8bbb-000000000009"),
            "[x-ja3:value = 'e7d705a3286e19ea42f587b344ee6865']"
        );
        assert_eq!(pat("a1f0e2d3-0012-4aaa-8bbb-000000000012"), "[network-traffic:src_ref.type = 'ipv6-addr' AND network-traffic:src_ref.value = '2001:db8::bad:1']");
        // An object is one indicator: one observation per STIX object type, joined by AND, over
        // its to_ids attributes only.
        assert_eq!(pat("b2e1f3a4-0001-4ccc-8ddd-000000000001"), "[file:hashes.'SHA-1' = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3' AND file:hashes.'SHA-256' = '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae']");
        assert_eq!(pat("b2e1f3a4-0002-4ccc-8ddd-000000000002"), "[domain-name:value = 'cdn.invoice-portal.example'] AND [network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.99']");
        let obj = by_id(&imp, "indicator--b2e1f3a4-0001-4ccc-8ddd-000000000001");
        assert_eq!(obj["description"], "Dropped loader");
        assert_eq!(obj["x_misp_name"], "file");
        assert_eq!(
            obj["labels"],
            json!(["misp:name=\"file\"", "misp:meta-category=\"file\""])
        );
        let s = |v: &str| v.to_string();
        assert_eq!(
            atoms(&imp),
            vec![
                (T::Ip, s("198.51.100.23")),
                (T::Ip, s("198.51.100.99")),
                (T::Ip, s("2001:db8::bad:1")),
                (T::Ip, s("203.0.113.7")),
                (T::Domain, s("cdn.invoice-portal.example")),
                (T::Domain, s("invoice-portal.example")),
                (T::Domain, s("mail.invoice-portal.example")),
                (T::Url, s("invoice-portal.example/dl/inv_2291.zip")),
                (T::Ja3, s("e7d705a3286e19ea42f587b344ee6865")),
                (T::Md5, s("d41d8cd98f00b204e9800998ecf8427e")),
                (T::Sha1, s("a94a8fe5ccb19ba61c4c0873d391e987982fbbd3")),
                (
                    T::Sha256,
                    s("2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
                ),
                (
                    T::Sha256,
                    s("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
                ),
            ]
        );
    }

    #[test]
    fn galaxies_become_sdos_with_cluster_ids_and_attribute_clusters_are_indicated() {
        let imp = load_fixture();
        let ta = by_id(&imp, "threat-actor--5b4ee3ea-eee3-4c8e-8323-85ae32658754");
        assert_eq!(ta["name"], "APT28");
        assert_eq!(ta["description"], "Russian state actor.");
        let ap = by_id(&imp, "attack-pattern--2e34237d-8574-43f6-aace-ae2915de8597");
        assert_eq!(ap["name"], "Spearphishing Attachment");
        assert_eq!(ap["external_references"][0]["external_id"], "T1566.001");
        let mw = "malware--0c3b1f1a-3ad7-4ab5-9a4b-0f2c3f5d9e11";
        assert_eq!(by_id(&imp, mw)["is_family"], true);
        // One malware object although the cluster appears as a Galaxy and as a tag.
        assert_eq!(of_type(&imp, "malware").len(), 1);
        let mut rels: Vec<(String, String, String)> = of_type(&imp, "relationship")
            .iter()
            .map(|r| {
                (
                    r["source_ref"].as_str().unwrap().into(),
                    r["relationship_type"].as_str().unwrap().into(),
                    r["target_ref"].as_str().unwrap().into(),
                )
            })
            .collect();
        rels.sort();
        assert_eq!(
            rels,
            [
                (
                    "indicator--a1f0e2d3-0002-4aaa-8bbb-000000000002".into(),
                    "indicates".into(),
                    mw.into()
                ),
                (
                    "indicator--b2e1f3a4-0001-4ccc-8ddd-000000000001".into(),
                    "indicates".into(),
                    mw.into()
                ),
            ]
        );
        // Event-level clusters are not labels.
        let r = by_id(&imp, "report--5f0c7a2e-0b6c-4d8e-9a1f-2b3c4d5e6f70");
        assert!(!r["labels"].to_string().contains("misp-galaxy"));
    }

    #[test]
    fn sightings_reference_the_indicator_and_false_positives_are_skipped() {
        let imp = load_fixture();
        let s = of_type(&imp, "sighting");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["id"], "sighting--c0ffee00-0000-4000-8000-000000000001");
        assert_eq!(
            s[0]["sighting_of_ref"],
            "indicator--a1f0e2d3-0001-4aaa-8bbb-000000000001"
        );
        assert_eq!(s[0]["count"], 1);
        assert_eq!(s[0]["first_seen"], timestamp::format_rfc3339(1_714_650_000));
        assert_eq!(s[0]["last_seen"], timestamp::format_rfc3339(1_714_650_000));
        assert_eq!(s[0]["description"], "sensor-fra1");
        assert_eq!(
            skipped(&imp),
            [
                "event.json: Event.Attribute[0].Sighting[1].type: false-positive sighting (type 1) not imported",
                "event.json: Event.Attribute[9]: to_ids is false (not actionable)",
                "event.json: Event.Attribute[10].type: unsupported attribute type \"vulnerability\" for a stix pattern",
                "event.json: Event.Object[0].Attribute[0]: to_ids is false (not actionable)",
            ]
        );
    }

    #[test]
    fn tlp_1_and_2_names_map_to_tlp_2_markings_and_the_most_restrictive_wins() {
        for (tags, want) in [
            (vec!["tlp:white"], Some(Tlp::Clear)),
            (vec!["tlp:clear"], Some(Tlp::Clear)),
            (vec!["TLP:GREEN"], Some(Tlp::Green)),
            (vec!["tlp:amber+strict"], Some(Tlp::AmberStrict)),
            (vec!["tlp:green", "tlp:red", "tlp:amber"], Some(Tlp::Red)),
            (vec!["tlp:ex:chr"], None),
        ] {
            let t = TagInfo::from_names(tags.iter().map(|s| s.to_string()).collect());
            assert_eq!(t.tlp, want, "{tags:?}");
        }
        let t = TagInfo::from_names(vec![
            "tlp:ex:chr".into(),
            "misp:confidence-level=\"unconfident\"".into(),
            "misp:confidence-level=\"fairly-confident\"".into(),
        ]);
        assert_eq!(t.confidence, Some(0));
        assert_eq!(t.labels.len(), 3);
        assert_eq!(
            crate::markings::tlp_marking_id(Tlp::AmberStrict),
            "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
        );
    }

    #[test]
    fn envelopes_bare_events_and_rest_responses_are_accepted_with_their_paths() {
        let attr = r#"{"type":"ip-dst","value":"192.0.2.1","to_ids":true}"#;
        let bad = r#"{"type":"ip-dst","value":"999.1.1.1","to_ids":true}"#;
        let bare = format!(r#"{{"info":"x","date":"2024-01-02","Attribute":[{attr},{bad}]}}"#);
        let imp = parse_event_json("bare.json", bare.as_bytes()).unwrap();
        assert_eq!(of_type(&imp, "indicator").len(), 1);
        assert_eq!(
            of_type(&imp, "report")[0]["created"],
            "2024-01-02T00:00:00.000Z"
        );
        assert_eq!(imp.skipped[0].location, "bare.json: Attribute[1].value");
        let rest = format!(
            r#"{{"response":[{{"Event":{{"timestamp":"1","Attribute":[{attr}]}}}},{{"Event":{{"timestamp":"2","Attribute":[{bad}]}}}}]}}"#
        );
        let imp = parse_event_json("rest.json", rest.as_bytes()).unwrap();
        assert_eq!(imp.events, 2);
        assert_eq!(skipped(&imp), ["rest.json: response[1].Event.Attribute[0].value: invalid ip address \"999.1.1.1\": expected an ipv4 or ipv6 address"]);
        // Without uuids the ids are derived from the content: stable across imports.
        let again = parse_event_json("rest.json", rest.as_bytes()).unwrap();
        assert_eq!(imp, again);
        let e = parse_event_json("x.json", br#"{"foo":1}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.json: (document): expected a MISP event"),
            "{e}"
        );
    }

    #[test]
    fn malformed_input_is_located_by_file_and_json_path_or_line() {
        let doc = r#"{"Event":{"uuid":"5f0c7a2e-0b6c-4d8e-9a1f-2b3c4d5e6f70","timestamp":"1714600000","Attribute":[
            {"type":"domain","value":"a.example","to_ids":true},
            {"type":"domain","value":"b.example","to_ids":"yes"},
            {"type":"domain","value":42,"to_ids":true},
            "not an attribute"]}}"#;
        let imp = parse_event_json("w.json", doc.as_bytes()).unwrap();
        assert_eq!(
            skipped(&imp),
            [
                "w.json: Event.Attribute[1].to_ids: expected a boolean, found \"yes\"",
                "w.json: Event.Attribute[2].value: expected a string, found a number",
                "w.json: Event.Attribute[3]: expected an object, found a string",
            ]
        );
        let e = parse_event_json("t.json", &doc.as_bytes()[..120]).unwrap_err();
        assert!(matches!(e, IntelError::Json { line: 2, .. }), "{e:?}");
        assert!(e.to_string().starts_with("t.json:2:"), "{e}");
        for (doc, want) in [
            (r#"{"Event":[]}"#, "e.json: Event: expected an object, found an array"),
            (r#"{"Event":{"date":"2024-01-01","Attribute":{}}}"#, "e.json: Event.Attribute: expected an array, found an object"),
            (r#"{"Event":{"info":"no time"}}"#, "e.json: Event.timestamp: event has neither a timestamp nor a date"),
            (r#"{"Event":{"timestamp":"yesterday"}}"#, "e.json: Event.timestamp: invalid time \"yesterday\": expected Unix seconds, a date (2024-05-01) or a date-time (2024-05-01T12:00:00Z)"),
        ] {
            assert_eq!(parse_event_json("e.json", doc.as_bytes()).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn feed_folder_reads_listed_events_only() {
        let imp = read_feed_dir(&fixture("feed")).unwrap();
        assert_eq!((imp.events, imp.attributes), (2, 7));
        assert_eq!(of_type(&imp, "report").len(), 2);
        // One organisation identity for both events.
        assert_eq!(of_type(&imp, "identity").len(), 1);
        let s = |v: &str| v.to_string();
        assert_eq!(
            atoms(&imp),
            [
                (T::Ip, s("192.0.2.10")),
                (T::Ip, s("192.0.2.11")),
                (T::Domain, s("login-micros0ft.example")),
                (T::Domain, s("secure.login-micros0ft.example")),
                (T::Url, s("bad.example/x.php")),
                (
                    T::Sha256,
                    s("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
                ),
            ]
        );
        assert_eq!(imp.skipped.len(), 1);
        assert!(imp.skipped[0]
            .location
            .ends_with("0b8a1c2d-1111-4e5f-8a9b-000000000001.json: Event.Attribute[3]"));
    }

    #[test]
    fn feed_folder_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let u = "0b8a1c2d-1111-4e5f-8a9b-000000000001";
        fs::write(d.join("manifest.json"), format!(r#"{{"{u}":{{}}}}"#)).unwrap();
        let e = read_feed_dir(d).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot read ") && e.contains(&format!("{u}.json")),
            "{e}"
        );
        fs::write(d.join(format!("{u}.json")), "{\"Event\":\n{").unwrap();
        let e = read_feed_dir(d).unwrap_err().to_string();
        assert!(e.contains(&format!("{u}.json:2:1: invalid json")), "{e}");
        fs::write(d.join("manifest.json"), r#"{"../secret":{}}"#).unwrap();
        let e = read_feed_dir(d).unwrap_err().to_string();
        assert!(
            e.ends_with("manifest.json: ../secret: manifest key is not an event uuid"),
            "{e}"
        );
        fs::write(d.join("manifest.json"), "[1,").unwrap();
        let e = read_feed_dir(d).unwrap_err().to_string();
        assert!(e.contains("manifest.json:1:3: invalid json"), "{e}");
    }

    fn sample_events() -> Vec<FeedEvent> {
        let attr = |kind, value: &str, uuid: &str| FeedAttribute {
            kind,
            value: value.into(),
            uuid: uuid.into(),
            comment: None,
            first_seen: None,
            last_seen: None,
            tlp: Tlp::Amber,
            confidence: 80,
            labels: vec![],
            to_ids: true,
        };
        vec![
            FeedEvent {
                uuid: "report--7d1e0c4a-2222-4b5c-9d8e-000000000002".into(),
                info: "Vigil export: fingerprints".into(),
                date: "2024-06-02".into(),
                timestamp: 1_717_286_400,
                tlp: Tlp::Green,
                orgc_name: "Vigil".into(),
                attributes: vec![
                    attr(T::Ja4, "t13d1516h2_8daaf6152771_b186095e22b6", ""),
                    attr(T::Ja3s, "ae4edc6faf64d08308082ad26be60767", ""),
                    attr(T::Ja3, "e7d705a3286e19ea42f587b344ee6865", ""),
                ],
                tags: vec!["vigil:export".into()],
            },
            FeedEvent {
                uuid: "7d1e0c4a-1111-4b5c-9d8e-000000000001".into(),
                info: "Vigil export: network".into(),
                date: "2024-06-01".into(),
                timestamp: 1_717_200_000,
                tlp: Tlp::AmberStrict,
                orgc_name: "Vigil".into(),
                attributes: vec![
                    FeedAttribute {
                        comment: Some("c2".into()),
                        first_seen: Some(1_717_000_000),
                        last_seen: Some(1_717_100_000),
                        labels: vec!["kill-chain:command-and-control".into()],
                        ..attr(
                            T::Ip,
                            "192.0.2.1",
                            "indicator--7d1e0c4a-1111-4b5c-9d8e-0000000000a1",
                        )
                    },
                    attr(T::Cidr, "198.51.100.0/24", ""),
                    attr(T::Domain, "evil.example", ""),
                    attr(T::Url, "evil.example/gate.php?id=1", ""),
                    attr(
                        T::Sha256,
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                        "",
                    ),
                    attr(T::Md5, "d41d8cd98f00b204e9800998ecf8427e", ""),
                    attr(T::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", ""),
                ],
                tags: vec![],
            },
        ]
    }

    #[test]
    fn misp_types_and_confidence_levels_for_export() {
        let types: Vec<_> = IndicatorType::ALL
            .iter()
            .map(|k| misp_type_for(*k))
            .collect();
        assert_eq!(
            types,
            [
                "ip-dst",
                "ip-dst",
                "domain",
                "url",
                "ja3-fingerprint-md5",
                "text",
                "text",
                "md5",
                "sha1",
                "sha256"
            ]
        );
        for (c, level) in [
            (100, "completely-confident"),
            (88, "completely-confident"),
            (80, "usually-confident"),
            (50, "fairly-confident"),
            (37, "rarely-confident"),
            (12, "unconfident"),
            (0, "unconfident"),
        ] {
            assert_eq!(
                confidence_tag(c),
                format!("misp:confidence-level=\"{level}\""),
                "{c}"
            );
        }
        assert_eq!(
            misp_seen_time(1_717_000_000),
            "2024-05-29T16:26:40.000000+00:00"
        );
    }

    #[test]
    fn write_feed_is_deterministic_and_writes_manifest_hashes_and_events() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let events = sample_events();
        let summary = write_feed(&a, &events).unwrap();
        assert_eq!(
            summary,
            FeedSummary {
                events: 2,
                attributes: 10,
                hashes: 10
            }
        );
        // Same content in another order → same bytes.
        let mut shuffled = events.clone();
        shuffled.reverse();
        shuffled[0].attributes.reverse();
        write_feed(&b, &shuffled).unwrap();
        let mut names: Vec<_> = fs::read_dir(&a)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "7d1e0c4a-1111-4b5c-9d8e-000000000001.json",
                "7d1e0c4a-2222-4b5c-9d8e-000000000002.json",
                "hashes.csv",
                "manifest.json"
            ]
        );
        for n in &names {
            assert_eq!(
                fs::read(a.join(n)).unwrap(),
                fs::read(b.join(n)).unwrap(),
                "{n}"
            );
        }
        let hashes = fs::read_to_string(a.join("hashes.csv")).unwrap();
        assert_eq!(hashes.lines().count(), 10, "{hashes}");
        assert!(hashes.contains(&format!(
            "{},7d1e0c4a-1111-4b5c-9d8e-000000000001\n",
            md5_hex("192.0.2.1")
        )));
        let manifest: Value =
            serde_json::from_slice(&fs::read(a.join("manifest.json")).unwrap()).unwrap();
        let m = &manifest["7d1e0c4a-1111-4b5c-9d8e-000000000001"];
        assert_eq!(m["info"], "Vigil export: network");
        assert_eq!(m["timestamp"], 1_717_200_000);
        assert_eq!(m["Tag"][0]["name"], "tlp:amber+strict");
        let ev: Value = serde_json::from_slice(
            &fs::read(a.join("7d1e0c4a-1111-4b5c-9d8e-000000000001.json")).unwrap(),
        )
        .unwrap();
        let ip = ev["Event"]["Attribute"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["value"] == "192.0.2.1")
            .unwrap();
        assert_eq!(ip["uuid"], "7d1e0c4a-1111-4b5c-9d8e-0000000000a1");
        assert_eq!(ip["type"], "ip-dst");
        assert_eq!(ip["first_seen"], "2024-05-29T16:26:40.000000+00:00");
        assert_eq!(ip["comment"], "c2");
        let tags: Vec<&str> = ip["Tag"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            tags,
            [
                "tlp:amber",
                "misp:confidence-level=\"usually-confident\"",
                "kill-chain:command-and-control"
            ]
        );
        let e = write_feed(
            &a,
            &[FeedEvent {
                date: "1 June".into(),
                ..events[0].clone()
            }],
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "event 7d1e0c4a-2222-4b5c-9d8e-000000000002: date: invalid date \"1 June\": expected YYYY-MM-DD");
        let e = write_feed(&a, &[events[0].clone(), events[0].clone()]).unwrap_err();
        assert!(e.to_string().contains("duplicate event uuid"), "{e}");
    }

    #[test]
    fn exported_feed_reads_back_with_the_same_indicators_and_tlp() {
        let dir = tempfile::tempdir().unwrap();
        let events = sample_events();
        write_feed(dir.path(), &events).unwrap();
        let imp = read_feed_dir(dir.path()).unwrap();
        assert!(imp.skipped.is_empty(), "{:?}", imp.skipped);
        let mut want: Vec<_> = events
            .iter()
            .flat_map(|e| e.attributes.iter().map(|a| (a.kind, a.value.clone())))
            .collect();
        want.sort();
        assert_eq!(atoms(&imp), want);
        let ip = by_id(&imp, "indicator--7d1e0c4a-1111-4b5c-9d8e-0000000000a1");
        assert_eq!(
            ip["object_marking_refs"],
            json!([crate::markings::tlp_marking_id(Tlp::Amber)])
        );
        assert_eq!(ip["confidence"], 75);
        assert_eq!(ip["valid_from"], timestamp::format_rfc3339(1_717_000_000));
        assert_eq!(ip["valid_until"], timestamp::format_rfc3339(1_717_100_000));
        let r = by_id(&imp, "report--7d1e0c4a-2222-4b5c-9d8e-000000000002");
        assert_eq!(
            r["object_marking_refs"],
            json!([crate::markings::tlp_marking_id(Tlp::Green)])
        );
        assert_eq!(r["labels"], json!(["vigil:export"]));
    }
}
