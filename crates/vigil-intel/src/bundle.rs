//! STIX documents as objects for the store: every object kept whole, STIX 2.0 upgraded to 2.1,
//! and the indicator records each object yields.
//!
//! [`crate::stix`] streams indicators out of a bundle for scanning and never builds the objects;
//! this module keeps them, because the store round-trips every object type (attack patterns,
//! relationships, reports, …) that attribution and correlation need later.
use std::collections::BTreeSet;

use serde_json::{Map, Value};
use uuid::Uuid;
use vigil_model::{IndicatorType, IntelRecord, KillChainPhase, SourceClaim, Tlp};

use crate::normalize;
use crate::pattern;
use crate::timestamp;
use crate::{IntelError, Skipped};

/// The namespace of STIX 2.1 deterministic SCO ids (spec §2.9).
pub const STIX_SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);
/// Vigil's namespace for ids it mints (indicators synthesised from non-STIX feeds, reports).
pub const VIGIL_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_6a52_0c7e_4b8e_9a4d_2b7a_1e5c_9d30);

/// A parsed STIX document.
#[derive(Debug, Default)]
pub struct Document {
    /// The objects, upgraded to STIX 2.1, in input order.
    pub objects: Vec<Value>,
    /// JSON path of each object in the input (`objects[3]`), for messages.
    pub paths: Vec<String>,
    /// How many objects were STIX 2.0 and were upgraded.
    pub upgraded: usize,
}

/// Reads a bundle, a bare array of objects, or one object.
pub fn parse_document(name: &str, data: &[u8]) -> Result<Document, IntelError> {
    let data = crate::strip_bom(data);
    let root: Value = serde_json::from_slice(data).map_err(|e| crate::json_error(name, &e))?;
    let (items, prefix) = match root {
        Value::Object(mut m) if m.get("type").and_then(Value::as_str) == Some("bundle") => {
            match m.remove("objects") {
                Some(Value::Array(a)) => (a, "objects"),
                None => (Vec::new(), "objects"),
                Some(_) => {
                    return Err(IntelError::Format {
                        location: format!("{name}: objects"),
                        message: "expected an array of STIX objects".into(),
                    })
                }
            }
        }
        Value::Object(m) => (vec![Value::Object(m)], ""),
        Value::Array(a) => (a, ""),
        _ => {
            return Err(IntelError::Format {
                location: name.to_string(),
                message: "expected a STIX bundle, an array of objects or an object".into(),
            })
        }
    };
    let mut doc = Document::default();
    for (i, mut obj) in items.into_iter().enumerate() {
        let path = if prefix.is_empty() {
            if doc.paths.is_empty() && i == 0 {
                "[0]".to_string()
            } else {
                format!("[{i}]")
            }
        } else {
            format!("{prefix}[{i}]")
        };
        if !obj.is_object() {
            return Err(IntelError::Format {
                location: format!("{name}: {path}"),
                message: "expected a STIX object".into(),
            });
        }
        if upgrade_to_21(&mut obj) {
            doc.upgraded += 1;
        }
        doc.objects.push(obj);
        doc.paths.push(path);
    }
    Ok(doc)
}

/// Upgrades a STIX 2.0 object to 2.1 in place, the way stix2-elevator does for the properties
/// that changed; returns whether it was 2.0. An object is 2.0 when it is not an SCO and has no
/// `spec_version`.
pub fn upgrade_to_21(obj: &mut Value) -> bool {
    let Some(m) = obj.as_object_mut() else {
        return false;
    };
    let kind = m
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if m.contains_key("spec_version") || is_sco(&kind) || kind == "bundle" {
        return false;
    }
    m.insert("spec_version".into(), Value::from("2.1"));
    // 2.0's required `labels` became the `*_types` open vocabularies.
    let types_prop = match kind.as_str() {
        "indicator" => Some("indicator_types"),
        "malware" => Some("malware_types"),
        "tool" => Some("tool_types"),
        "threat-actor" => Some("threat_actor_types"),
        "report" => Some("report_types"),
        _ => None,
    };
    if let Some(p) = types_prop {
        if !m.contains_key(p) {
            if let Some(labels) = m.remove("labels") {
                m.insert(p.into(), labels);
            }
        }
    }
    match kind.as_str() {
        "indicator" => {
            m.entry("pattern_type")
                .or_insert_with(|| Value::from("stix"));
        }
        "malware" => {
            m.entry("is_family").or_insert(Value::Bool(true));
        }
        "observed-data" => upgrade_observed_data(m),
        _ => {}
    }
    true
}

/// 2.0 embedded `objects` {"0": {...}} become `object_refs` to 2.1 SCOs; the SCOs themselves
/// are kept embedded as the deprecated-but-valid 2.1 `objects` only when they cannot be given a
/// deterministic id.
fn upgrade_observed_data(m: &mut Map<String, Value>) {
    let Some(Value::Object(embedded)) = m.get("objects") else {
        return;
    };
    let mut refs = Vec::new();
    for sco in embedded.values() {
        let kind = sco.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(id) = deterministic_sco_id(kind, sco) {
            refs.push(Value::from(id));
        }
    }
    if !refs.is_empty() && refs.len() == embedded.len() {
        m.insert("object_refs".into(), Value::Array(refs));
    }
}

/// STIX 2.1 cyber-observable types (the spec's SCOs).
pub fn is_sco(kind: &str) -> bool {
    matches!(
        kind,
        "artifact"
            | "autonomous-system"
            | "directory"
            | "domain-name"
            | "email-addr"
            | "email-message"
            | "file"
            | "ipv4-addr"
            | "ipv6-addr"
            | "mac-addr"
            | "mutex"
            | "network-traffic"
            | "process"
            | "software"
            | "url"
            | "user-account"
            | "windows-registry-key"
            | "x509-certificate"
    )
}

/// The deterministic id of an SCO per STIX 2.1 §2.9, for the types whose ID contributing
/// properties are a single `value` or `hashes` (the ones indicators are made of).
pub fn deterministic_sco_id(kind: &str, sco: &Value) -> Option<String> {
    let contributing = match kind {
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "mac-addr" => {
            serde_json::json!({ "value": sco.get("value")?.as_str()? })
        }
        "file" => {
            let hashes = sco.get("hashes")?.as_object()?;
            // One hash, by the spec's preference order.
            let (k, v) = ["MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512"]
                .iter()
                .find_map(|k| hashes.get(*k).map(|v| (*k, v)))?;
            serde_json::json!({ "hashes": { k: v } })
        }
        _ => return None,
    };
    // serde_json writes exactly the RFC 8785 form for objects of strings with sorted keys.
    let name = serde_json::to_string(&contributing).ok()?;
    Some(format!(
        "{kind}--{}",
        Uuid::new_v5(&STIX_SCO_NAMESPACE, name.as_bytes())
    ))
}

/// The SCO that holds an indicator value, with its deterministic id. `None` for types with no
/// STIX observable (JA3/JA4 fingerprints).
pub fn sco_for(kind: IndicatorType, value: &str) -> Option<Value> {
    use IndicatorType as T;
    let (ty, body) = match kind {
        T::Ip | T::Cidr => {
            let ty = if value.contains(':') {
                "ipv6-addr"
            } else {
                "ipv4-addr"
            };
            (ty, serde_json::json!({ "value": value }))
        }
        T::Domain => ("domain-name", serde_json::json!({ "value": value })),
        T::Url => (
            "url",
            serde_json::json!({ "value": url_with_scheme(value) }),
        ),
        T::Md5 | T::Sha1 | T::Sha256 => (
            "file",
            serde_json::json!({ "hashes": { hash_key(kind): value } }),
        ),
        T::Ja3 | T::Ja3s | T::Ja4 => return None,
    };
    let mut m = body.as_object()?.clone();
    let id = deterministic_sco_id(ty, &body)?;
    m.insert("type".into(), Value::from(ty));
    m.insert("spec_version".into(), Value::from("2.1"));
    m.insert("id".into(), Value::from(id));
    Some(Value::Object(m))
}

fn hash_key(kind: IndicatorType) -> &'static str {
    match kind {
        IndicatorType::Md5 => "MD5",
        IndicatorType::Sha1 => "SHA-1",
        _ => "SHA-256",
    }
}

/// Vigil keeps URLs scheme-less (traffic has no scheme); STIX needs one.
fn url_with_scheme(value: &str) -> String {
    if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    }
}

/// The id of a record: its SCO's deterministic id, or for fingerprints a Vigil UUIDv5.
pub fn record_id(kind: IndicatorType, value: &str) -> String {
    sco_for(kind, value)
        .and_then(|s| s.get("id").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| {
            format!(
                "x-vigil-{}--{}",
                kind.as_str(),
                Uuid::new_v5(&VIGIL_NAMESPACE, format!("{kind}:{value}").as_bytes())
            )
        })
}

/// The deterministic id of the indicator Vigil synthesises for a record that came from a
/// non-STIX feed.
pub fn indicator_id(kind: IndicatorType, value: &str) -> String {
    format!(
        "indicator--{}",
        Uuid::new_v5(
            &VIGIL_NAMESPACE,
            format!("indicator:{kind}:{value}").as_bytes()
        )
    )
}

/// A deterministic id in Vigil's namespace for any object type.
pub fn vigil_id(kind: &str, name: &str) -> String {
    format!(
        "{kind}--{}",
        Uuid::new_v5(&VIGIL_NAMESPACE, name.as_bytes())
    )
}

/// The STIX pattern for one indicator value; reads back through [`pattern::indicator_atoms`]
/// as the same (kind, value).
pub fn pattern_for(kind: IndicatorType, value: &str) -> String {
    use IndicatorType as T;
    let q = quote(value);
    match kind {
        T::Ip | T::Cidr if value.contains(':') => format!("[ipv6-addr:value = '{q}']"),
        T::Ip | T::Cidr => format!("[ipv4-addr:value = '{q}']"),
        T::Domain => format!("[domain-name:value = '{q}']"),
        T::Url => format!("[url:value = '{}']", quote(&url_with_scheme(value))),
        T::Md5 | T::Sha1 | T::Sha256 => format!("[file:hashes.'{}' = '{q}']", hash_key(kind)),
        T::Ja3 => format!("[x-ja3:value = '{q}']"),
        T::Ja3s => format!("[x-ja3s:value = '{q}']"),
        T::Ja4 => format!("[x-ja4:value = '{q}']"),
    }
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// TLP of an object from its `object_marking_refs` (TLP 1.0 and 2.0 ids); the most restrictive
/// when several are present.
pub fn object_tlp(obj: &Value) -> Option<Tlp> {
    obj.get("object_marking_refs")?
        .as_array()?
        .iter()
        .filter_map(|r| crate::markings::tlp_from_marking_id(r.as_str()?))
        .max()
}

/// Adds the TLP marking of `tlp` to an object that has none. Marking definitions are left alone
/// (a marking definition is not itself marked).
pub fn ensure_marking(obj: &mut Value, tlp: Tlp) -> bool {
    if object_tlp(obj).is_some()
        || obj.get("type").and_then(Value::as_str) == Some("marking-definition")
    {
        return false;
    }
    let Some(m) = obj.as_object_mut() else {
        return false;
    };
    let refs = m
        .entry("object_marking_refs")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = refs {
        a.push(Value::from(crate::markings::tlp_marking_id(tlp)));
        true
    } else {
        false
    }
}

/// Defaults for the records an object yields.
#[derive(Clone, Debug)]
pub struct RecordDefaults<'a> {
    pub source: &'a str,
    pub confidence: u8,
    pub reliability: Option<vigil_model::Reliability>,
    pub credibility: Option<u8>,
    pub tlp: Tlp,
    /// Import time, Unix seconds.
    pub now: i64,
}

/// The indicator records an object yields: the atoms of an `indicator`'s STIX pattern, or the
/// value of an SCO. Other objects yield none. Revoked indicators yield none.
pub fn records_from_object(
    obj: &Value,
    path: &str,
    d: &RecordDefaults<'_>,
) -> Result<Vec<IntelRecord>, Skipped> {
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tlp = object_tlp(obj).unwrap_or(d.tlp);
    let ts = |field: &str| {
        obj.get(field)
            .and_then(Value::as_str)
            .and_then(|s| timestamp::parse_rfc3339(s).ok())
    };
    let confidence = obj
        .get("confidence")
        .and_then(Value::as_f64)
        .map_or(d.confidence, |c| c.clamp(0.0, 100.0).round() as u8);
    let atoms: Vec<(IndicatorType, String)> = match kind {
        "indicator" => {
            if obj.get("revoked").and_then(Value::as_bool) == Some(true) {
                return Ok(Vec::new());
            }
            let pt = obj
                .get("pattern_type")
                .and_then(Value::as_str)
                .unwrap_or("stix");
            if pt != "stix" {
                return Ok(Vec::new());
            }
            let Some(p) = obj.get("pattern").and_then(Value::as_str) else {
                return Err(Skipped {
                    location: format!("{path}.pattern"),
                    reason: "indicator without a pattern".into(),
                });
            };
            let parsed = pattern::parse(p).map_err(|e| Skipped {
                location: format!("{path}.pattern"),
                reason: e.to_string(),
            })?;
            pattern::indicator_atoms(&parsed)
                .into_iter()
                .map(|a| (a.kind, a.value))
                .collect()
        }
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" => {
            let Some(v) = obj.get("value").and_then(Value::as_str) else {
                return Ok(Vec::new());
            };
            let t = match kind {
                "domain-name" => IndicatorType::Domain,
                "url" => IndicatorType::Url,
                _ if v.contains('/') => IndicatorType::Cidr,
                _ => IndicatorType::Ip,
            };
            match normalize::normalize_as(t, v) {
                Ok((t, v)) => vec![(t, v)],
                Err(e) => {
                    return Err(Skipped {
                        location: format!("{path}.value"),
                        reason: e.to_string(),
                    })
                }
            }
        }
        "file" => {
            let Some(h) = obj.get("hashes").and_then(Value::as_object) else {
                return Ok(Vec::new());
            };
            h.iter()
                .filter_map(|(k, v)| {
                    let t = match k.to_ascii_uppercase().replace('-', "").as_str() {
                        "MD5" => IndicatorType::Md5,
                        "SHA1" => IndicatorType::Sha1,
                        "SHA256" => IndicatorType::Sha256,
                        _ => return None,
                    };
                    normalize::normalize(t, v.as_str()?).ok().map(|v| (t, v))
                })
                .collect()
        }
        _ => return Ok(Vec::new()),
    };
    let labels: BTreeSet<String> = ["labels", "indicator_types"]
        .iter()
        .filter_map(|p| obj.get(*p).and_then(Value::as_array))
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let phases: BTreeSet<KillChainPhase> = obj
        .get("kill_chain_phases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some(KillChainPhase {
                kill_chain_name: p.get("kill_chain_name")?.as_str()?.to_string(),
                phase_name: p.get("phase_name")?.as_str()?.to_string(),
            })
        })
        .collect();
    let first_seen = ts("valid_from").or_else(|| ts("created"));
    let claim = SourceClaim {
        confidence,
        reliability: d.reliability,
        credibility: d.credibility,
        name: obj.get("name").and_then(Value::as_str).map(str::to_string),
        first_seen,
        last_seen: ts("modified").max(first_seen),
        valid_until: ts("valid_until"),
        updated: d.now,
    };
    Ok(atoms
        .into_iter()
        .map(|(t, v)| {
            let mut r = IntelRecord::new(t, v, d.source.to_string(), claim.clone(), tlp);
            r.labels.clone_from(&labels);
            r.kill_chain_phases.clone_from(&phases);
            if !id.is_empty() {
                r.stix_ids.insert(id.clone());
            }
            r
        })
        .collect())
}

/// The indicator object Vigil publishes for a record that has no STIX indicator of its own.
pub fn indicator_for_record(r: &IntelRecord, now: i64) -> Value {
    let created = r
        .first_seen()
        .map(timestamp::format_rfc3339)
        .unwrap_or_else(|| timestamp::format_rfc3339(r.updated()));
    let modified = timestamp::format_rfc3339(r.updated().max(r.first_seen().unwrap_or(0)));
    let mut m = Map::new();
    m.insert("type".into(), "indicator".into());
    m.insert("spec_version".into(), "2.1".into());
    m.insert("id".into(), indicator_id(r.kind, &r.value).into());
    m.insert("created".into(), created.clone().into());
    m.insert("modified".into(), modified.into());
    if let Some(name) = r.sources.values().find_map(|c| c.name.clone()) {
        m.insert("name".into(), name.into());
    }
    m.insert("pattern".into(), pattern_for(r.kind, &r.value).into());
    m.insert("pattern_type".into(), "stix".into());
    m.insert("valid_from".into(), created.into());
    if let Some(until) = r.sources.values().filter_map(|c| c.valid_until).max() {
        m.insert(
            "valid_until".into(),
            timestamp::format_rfc3339(until).into(),
        );
    }
    m.insert("confidence".into(), Value::from(r.score(now).value));
    if !r.labels.is_empty() {
        m.insert(
            "labels".into(),
            r.labels.iter().cloned().map(Value::from).collect(),
        );
    }
    if !r.kill_chain_phases.is_empty() {
        m.insert(
            "kill_chain_phases".into(),
            r.kill_chain_phases
                .iter()
                .map(|p| serde_json::json!({"kill_chain_name": p.kill_chain_name, "phase_name": p.phase_name}))
                .collect(),
        );
    }
    m.insert(
        "object_marking_refs".into(),
        Value::Array(vec![crate::markings::tlp_marking_id(r.tlp).into()]),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sco_ids_are_the_stix_deterministic_ids() {
        // The ids the stix2 library (PyPI) computes for the same observables.
        use IndicatorType as T;
        for (t, v, id) in [
            (
                T::Ip,
                "198.51.100.3",
                "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
            ),
            (
                T::Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "file--22f8ff52-8f62-5f03-a53a-6f50f54fd74c",
            ),
            (
                T::Url,
                "evil.example/a",
                "url--c618f6dd-5ab7-5ef9-b8a4-be9e798ccae2",
            ),
        ] {
            assert_eq!(record_id(t, v), id);
        }
        assert!(record_id(T::Ja3, "abc").starts_with("x-vigil-ja3--"));
    }

    #[test]
    fn synthesised_patterns_read_back_as_the_same_value() {
        use IndicatorType as T;
        for (t, v) in [
            (T::Ip, "192.0.2.1"),
            (T::Ip, "2001:db8::1"),
            (T::Cidr, "10.0.0.0/8"),
            (T::Domain, "evil.example"),
            (T::Url, "evil.example/a'b?c=1"),
            (T::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            (
                T::Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            (T::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
        ] {
            let p = pattern::parse(&pattern_for(t, v)).unwrap();
            let atoms = pattern::indicator_atoms(&p);
            assert_eq!(atoms.len(), 1, "{t} {v}");
            assert_eq!((atoms[0].kind, atoms[0].value.as_str()), (t, v));
        }
    }

    #[test]
    fn stix_2_0_indicators_are_upgraded() {
        let doc = br#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[
          {"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z",
           "modified":"2016-04-06T20:03:48.000Z","labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '10.0.0.1']",
           "valid_from":"2016-01-01T00:00:00Z"}]}"#;
        let d = parse_document("t.json", doc).unwrap();
        assert_eq!(d.upgraded, 1);
        let o = &d.objects[0];
        assert_eq!(o["spec_version"], "2.1");
        assert_eq!(o["pattern_type"], "stix");
        assert_eq!(o["indicator_types"][0], "malicious-activity");
        assert!(o.get("labels").is_none());
    }

    #[test]
    fn malformed_documents_name_the_file_and_position() {
        let e =
            parse_document("feed.json", b"{\"type\": \"bundle\",\n \"objects\": [1,").unwrap_err();
        assert!(e.to_string().starts_with("feed.json:2:"), "{e}");
        let e = parse_document("feed.json", br#"{"type":"bundle","objects":[1]}"#).unwrap_err();
        assert!(e.to_string().contains("objects[0]"), "{e}");
    }
}
