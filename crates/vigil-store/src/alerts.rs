//! Alerts sensors report to the hub (EVE `alert` events), kept whole with the fields the
//! decision policy and searches filter on.
use rusqlite::params;
use serde::Serialize;
use vigil_model::Tlp;

use crate::{tlp_code, tlp_from_code, Result, Store};

/// One stored alert.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AlertRow {
    /// Assigned by the store; 0 before insertion.
    pub id: i64,
    /// Unix seconds the hub received it.
    pub received: i64,
    /// The reporting token's name.
    pub sensor: String,
    /// The EVE `timestamp`.
    pub timestamp: String,
    pub src_ip: Option<String>,
    pub dest_ip: Option<String>,
    pub signature_id: Option<i64>,
    /// `vigil.confidence` (0–100) when the sensor scored the alert.
    pub confidence: Option<u8>,
    /// `vigil.indicator` of an indicator hit.
    pub indicator_kind: Option<String>,
    pub indicator_value: Option<String>,
    pub tlp: Tlp,
    /// The EVE event as received.
    pub eve: serde_json::Value,
}

impl Store {
    /// Stores alerts in one transaction; returns how many.
    pub fn add_alerts(&mut self, alerts: &[AlertRow]) -> Result<usize> {
        self.in_transaction(|tx| {
            let mut ins = tx.prepare_cached(
                "INSERT INTO alerts(received, sensor, timestamp, src_ip, dest_ip, signature_id,
                   confidence, indicator_kind, indicator_value, tlp, eve)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for a in alerts {
                ins.execute(params![
                    a.received,
                    a.sensor,
                    a.timestamp,
                    a.src_ip,
                    a.dest_ip,
                    a.signature_id,
                    a.confidence,
                    a.indicator_kind,
                    a.indicator_value,
                    tlp_code(a.tlp),
                    a.eve.to_string()
                ])?;
            }
            Ok(())
        })?;
        Ok(alerts.len())
    }

    /// Alerts received at or after `since` (Unix seconds) with TLP at most `max_tlp`, oldest
    /// first.
    pub fn alerts(&self, since: i64, max_tlp: Tlp) -> Result<Vec<AlertRow>> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT id, received, sensor, timestamp, src_ip, dest_ip, signature_id, confidence,
                   indicator_kind, indicator_value, tlp, eve
                 FROM alerts WHERE received >= ?1 AND tlp <= ?2 ORDER BY id",
            )
            .map_err(self.err())?;
        let rows = q
            .query_map(params![since, tlp_code(max_tlp)], |r| {
                Ok((
                    AlertRow {
                        id: r.get(0)?,
                        received: r.get(1)?,
                        sensor: r.get(2)?,
                        timestamp: r.get(3)?,
                        src_ip: r.get(4)?,
                        dest_ip: r.get(5)?,
                        signature_id: r.get(6)?,
                        confidence: r.get(7)?,
                        indicator_kind: r.get(8)?,
                        indicator_value: r.get(9)?,
                        tlp: tlp_from_code(r.get(10)?),
                        eve: serde_json::Value::Null,
                    },
                    r.get::<_, String>(11)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (mut a, eve) = row.map_err(self.err())?;
            a.eve =
                serde_json::from_str(&eve).map_err(|e| self.corrupt("alerts", e.to_string()))?;
            out.push(a);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_round_trip_and_respect_the_tlp_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path(), "eu").unwrap();
        let a = AlertRow {
            id: 0,
            received: 100,
            sensor: "edge-1".into(),
            timestamp: "2026-11-30T00:00:00.000000+0000".into(),
            src_ip: Some("203.0.113.9".into()),
            dest_ip: Some("10.0.0.1".into()),
            signature_id: Some(2_100_000_001),
            confidence: Some(95),
            indicator_kind: Some("ip".into()),
            indicator_value: Some("203.0.113.9".into()),
            tlp: Tlp::Amber,
            eve: serde_json::json!({"event_type": "alert"}),
        };
        assert_eq!(s.add_alerts(std::slice::from_ref(&a)).unwrap(), 1);
        let got = s.alerts(0, Tlp::Red).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].eve, a.eve);
        assert_eq!(got[0].confidence, Some(95));
        assert!(s.alerts(0, Tlp::Green).unwrap().is_empty());
        assert!(s.alerts(101, Tlp::Red).unwrap().is_empty());
    }
}
