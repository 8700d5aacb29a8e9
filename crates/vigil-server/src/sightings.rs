//! Sensors report what they saw: a batch of EVE JSON lines. Alerts are stored whole; alerts
//! that name an indicator (`vigil.indicator`) become STIX sightings of it, which reset the
//! indicator's decay and count towards its sightings.
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;
use vigil_intel::{bundle, markings, timestamp};
use vigil_model::{IndicatorType, Principal, Tlp};
use vigil_store::alerts::AlertRow;
use vigil_store::{ImportBatch, ImportSummary, SourceInfo};

use crate::hub::Hub;
use crate::problem::Problem;

/// What a report did.
#[derive(Debug, Serialize, Default)]
pub struct SightingReport {
    /// EVE lines received.
    pub events: usize,
    /// `alert` events stored.
    pub alerts: usize,
    /// Other event types (flow, dns, stats …), accepted and not stored.
    pub ignored: usize,
    /// Alerts naming an indicator the store knows.
    pub indicator_hits: usize,
    /// Alerts naming an indicator the store does not know (stored as alerts only).
    pub unknown_indicators: usize,
    /// STIX sightings written, one per (indicator, batch).
    pub sightings: usize,
    pub import: Option<ImportSummary>,
}

/// The fields of one EVE alert the hub uses.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFields {
    pub timestamp: String,
    /// Unix seconds of `timestamp`, when it parses.
    pub at: Option<i64>,
    pub src_ip: Option<String>,
    pub dest_ip: Option<String>,
    pub signature_id: Option<i64>,
    pub confidence: Option<u8>,
    pub indicator: Option<(IndicatorType, String)>,
}

/// Parses a batch: one JSON object per non-empty line. Every bad line is named; a batch with
/// any is refused whole, so a retry after fixing it cannot double-count.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Value>, Problem> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Problem::bad_request(format!("request body: not UTF-8 ({e})")))?;
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(v @ Value::Object(_)) => events.push(v),
            Ok(_) => errors.push(format!("line {}: expected a JSON object", i + 1)),
            Err(e) => errors.push(format!("line {}: {e}", i + 1)),
        }
    }
    if !errors.is_empty() {
        let n = errors.len();
        errors.truncate(20);
        return Err(Problem::bad_request(format!(
            "{n} malformed EVE line(s), nothing stored: {}",
            errors.join("; ")
        )));
    }
    if events.is_empty() {
        return Err(Problem::bad_request(
            "request body: no EVE events (expected JSON lines)",
        ));
    }
    Ok(events)
}

/// The alert fields of an EVE event; `None` for other event types.
pub fn alert_fields(ev: &Value) -> Option<AlertFields> {
    if ev.get("event_type").and_then(Value::as_str) != Some("alert") {
        return None;
    }
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let ts = s(ev.get("timestamp")).unwrap_or_default();
    let vigil = ev.get("vigil");
    let indicator = vigil.and_then(|v| v.get("indicator")).and_then(|i| {
        let kind: IndicatorType = i.get("type")?.as_str()?.parse().ok()?;
        let value = i.get("value")?.as_str()?;
        vigil_intel::normalize::normalize_as(kind, value).ok()
    });
    Some(AlertFields {
        at: timestamp::parse_feed_time(&ts).ok(),
        timestamp: ts,
        src_ip: s(ev.get("src_ip")),
        dest_ip: s(ev.get("dest_ip")),
        signature_id: ev
            .get("alert")
            .and_then(|a| a.get("signature_id"))
            .and_then(Value::as_i64),
        confidence: vigil
            .and_then(|v| v.get("confidence"))
            .and_then(Value::as_u64)
            .map(|c| c.min(100) as u8),
        indicator,
    })
}

/// Alerts of one indicator in a batch.
#[derive(Debug, Default)]
struct Group {
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
}

/// The STIX identity standing for a sensor (deterministic, so every batch names the same one).
pub fn sensor_identity(sensor: &str) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": bundle::vigil_id("identity", &format!("sensor:{sensor}")),
        "created": "1970-01-01T00:00:00.000Z",
        "modified": "1970-01-01T00:00:00.000Z",
        "name": sensor,
        "identity_class": "system",
        "object_marking_refs": [markings::tlp_marking_id(Tlp::Amber)],
    })
}

pub async fn report(
    hub: &Arc<Hub>,
    principal: &Principal,
    body: &[u8],
) -> Result<SightingReport, Problem> {
    let events = parse_batch(body)?;
    let now = hub.now();
    let mut out = SightingReport {
        events: events.len(),
        ..SightingReport::default()
    };
    let mut fields = Vec::new();
    for ev in events {
        match alert_fields(&ev) {
            Some(f) => fields.push((f, ev)),
            None => out.ignored += 1,
        }
    }
    out.alerts = fields.len();
    if fields.is_empty() {
        return Ok(out);
    }
    // Which indicators the store knows, their marking and the STIX id a sighting points at.
    let wanted: Vec<(IndicatorType, String)> = fields
        .iter()
        .filter_map(|(f, _)| f.indicator.clone())
        .collect();
    let known: BTreeMap<(IndicatorType, String), (Tlp, String, bool)> = hub
        .pool
        .read(move |s| {
            let mut m = BTreeMap::new();
            for (k, v) in wanted {
                if m.contains_key(&(k, v.clone())) {
                    continue;
                }
                if let Some(r) = s.record(k, &v)? {
                    let stored = r
                        .stix_ids
                        .iter()
                        .find(|id| id.starts_with("indicator--"))
                        .cloned();
                    let (id, link) = match stored {
                        Some(id) => (id, false),
                        None => (bundle::indicator_id(k, &v), true),
                    };
                    m.insert((k, v), (r.tlp, id, link));
                }
            }
            Ok(m)
        })
        .await?;
    let mut groups: BTreeMap<(IndicatorType, String), Group> = BTreeMap::new();
    let mut rows = Vec::with_capacity(fields.len());
    for (f, ev) in fields {
        let hit = f
            .indicator
            .as_ref()
            .and_then(|i| known.get(i).map(|k| (i, k)));
        // A sensor's own observations are internal to the organisation: AMBER at least.
        let tlp = hit.map_or(Tlp::Amber, |(_, (t, _, _))| (*t).max(Tlp::Amber));
        match (&f.indicator, hit) {
            (Some(_), Some((key, _))) => {
                out.indicator_hits += 1;
                let g = groups.entry(key.clone()).or_default();
                g.count += 1;
                let at = f.at.unwrap_or(now);
                g.first = Some(g.first.map_or(at, |x| x.min(at)));
                g.last = Some(g.last.map_or(at, |x| x.max(at)));
            }
            (Some(_), None) => out.unknown_indicators += 1,
            _ => {}
        }
        rows.push(AlertRow {
            id: 0,
            received: now,
            sensor: principal.name.clone(),
            timestamp: f.timestamp,
            src_ip: f.src_ip,
            dest_ip: f.dest_ip,
            signature_id: f.signature_id,
            confidence: f.confidence,
            indicator_kind: f.indicator.as_ref().map(|(k, _)| k.as_str().to_string()),
            indicator_value: f.indicator.map(|(_, v)| v),
            tlp,
            eve: ev,
        });
    }
    let identity = sensor_identity(&principal.name);
    let identity_id = identity["id"].as_str().unwrap_or_default().to_string();
    let mut objects = vec![identity];
    let mut links = Vec::new();
    for ((kind, value), g) in &groups {
        let Some((tlp, of, link)) = known.get(&(*kind, value.clone())) else {
            continue;
        };
        if *link {
            links.push((of.clone(), *kind, value.clone()));
        }
        let first = g.first.unwrap_or(now);
        let last = g.last.unwrap_or(now);
        // Deterministic: the same batch posted twice is the same sighting, counted once.
        let id = format!(
            "sighting--{}",
            Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("{}|{of}|{first}|{last}|{}", principal.name, g.count).as_bytes()
            )
        );
        let created = timestamp::format_rfc3339(now);
        objects.push(json!({
            "type": "sighting",
            "spec_version": "2.1",
            "id": id,
            "created": created,
            "modified": created,
            "created_by_ref": identity_id,
            "sighting_of_ref": of,
            "count": g.count,
            "first_seen": timestamp::format_rfc3339(first),
            "last_seen": timestamp::format_rfc3339(last),
            "where_sighted_refs": [identity_id],
            "object_marking_refs": [markings::tlp_marking_id((*tlp).max(Tlp::Amber))],
        }));
    }
    out.sightings = objects.len() - 1;
    let sensor = principal.name.clone();
    let write_sightings = out.sightings > 0;
    let summary = hub
        .pool
        .write(move |s| {
            s.add_alerts(&rows)?;
            if !write_sightings {
                return Ok(None);
            }
            s.link_record_ids(&links)?;
            let src = SourceInfo {
                name: format!("sensor:{sensor}"),
                reliability: None,
                credibility: None,
                tlp: Tlp::Amber,
                confidence: 50,
            };
            Ok(Some(s.import(
                &src,
                ImportBatch {
                    objects,
                    records: Vec::new(),
                    collection: None,
                },
                now,
                &mut |_| {},
            )?))
        })
        .await?;
    hub.metrics.add("alerts_received", out.alerts as u64);
    hub.metrics.add("sightings_written", out.sightings as u64);
    hub.decisions_changed.notify_one();
    tracing::info!(
        sensor = %principal.name,
        events = out.events,
        alerts = out.alerts,
        sightings = out.sightings,
        "sightings reported"
    );
    out.import = summary;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_with_a_bad_line_is_refused_naming_every_bad_line() {
        let body = b"{\"event_type\":\"alert\"}\n\nnot json\n[1]\n";
        let e = parse_batch(body).unwrap_err();
        assert_eq!(e.status, 400);
        let d = e.detail.unwrap();
        assert!(
            d.contains("line 3") && d.contains("line 4: expected a JSON object"),
            "{d}"
        );
        assert!(parse_batch(b"\n\n").is_err());
        assert_eq!(parse_batch(b"{\"a\":1}\n{\"b\":2}").unwrap().len(), 2);
    }

    #[test]
    fn alert_fields_come_from_vigil_eve_and_other_events_are_not_alerts() {
        let ev = json!({
            "timestamp": "2026-11-30T10:00:00.000000+0000", "event_type": "alert",
            "src_ip": "10.0.0.5", "dest_ip": "203.0.113.9",
            "alert": {"signature_id": 2100000001u64},
            "vigil": {"indicator": {"type": "ip", "value": "203.0.113.9"}, "confidence": 91}
        });
        let f = alert_fields(&ev).unwrap();
        assert_eq!(f.indicator, Some((IndicatorType::Ip, "203.0.113.9".into())));
        assert_eq!(f.confidence, Some(91));
        assert_eq!(f.signature_id, Some(2_100_000_001));
        assert_eq!(
            f.at,
            Some(timestamp::parse_rfc3339("2026-11-30T10:00:00Z").unwrap())
        );
        assert!(alert_fields(&json!({"event_type": "flow"})).is_none());
    }
}
