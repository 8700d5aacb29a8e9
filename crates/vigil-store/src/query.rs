//! Paged record searches for the hub's REST API: keyset pagination in (kind, value) order, so
//! every page costs the same however deep the cursor is.
use rusqlite::types::Value as SqlValue;
use vigil_model::{IndicatorType, IntelRecord, Tlp};

use crate::{tlp_code, Result, Store, StoredObject};

/// What an id names: a stored object and/or the records it carries.
#[derive(Debug, Default)]
pub struct Lookup {
    pub object: Option<StoredObject>,
    pub records: Vec<IntelRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Store(#[from] crate::StoreError),
    #[error("{0}: not a STIX id, TYPE:VALUE or indicator value")]
    BadId(String),
    #[error("{0}: not found")]
    NotFound(String),
}

/// A record as `show` and the REST API present it: its ids, score with the explanation, and
/// the merged record.
pub fn record_view(r: &IntelRecord, now: i64) -> serde_json::Value {
    use vigil_intel::{bundle, timestamp};
    let score = r.score(now);
    serde_json::json!({
        "id": bundle::record_id(r.kind, &r.value),
        "indicator_id": bundle::indicator_id(r.kind, &r.value),
        "type": r.kind, "value": r.value,
        "score": score.value, "explanation": score.explanation(), "score_detail": score,
        "tlp": r.tlp, "first_seen": r.first_seen().map(timestamp::format_rfc3339),
        "last_seen": r.last_seen().map(timestamp::format_rfc3339),
        "sightings": r.sighting_count(),
        "warninglists": r.warninglists, "record": r,
    })
}

/// A record search.
#[derive(Clone, Debug, Default)]
pub struct RecordQuery {
    pub kinds: Vec<IndicatorType>,
    /// Exact canonical value.
    pub value: Option<String>,
    /// Values starting with this (e.g. a domain's registrable suffix is not supported; a
    /// CIDR's first octets are).
    pub value_prefix: Option<String>,
    /// The caller's clearance (and any narrower filter the caller asked for).
    pub max_tlp: Tlp,
    /// Only records updated at or after this Unix second.
    pub since: Option<i64>,
    /// Only records updated before this Unix second.
    pub until: Option<i64>,
}

/// One page and where the next starts.
#[derive(Debug, Default)]
pub struct Page {
    pub records: Vec<IntelRecord>,
    /// (kind, value) of the last record returned when more may follow.
    pub next: Option<(String, String)>,
}

impl Store {
    /// Every source that has imported, by name.
    pub fn sources(&self) -> Result<Vec<crate::SourceInfo>> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT name, reliability, credibility, tlp, confidence FROM sources ORDER BY name",
            )
            .map_err(self.err())?;
        let rows = q
            .query_map([], |r| {
                Ok(crate::SourceInfo {
                    name: r.get(0)?,
                    reliability: r.get::<_, Option<String>>(1)?.and_then(|s| s.parse().ok()),
                    credibility: r.get(2)?,
                    tlp: crate::tlp_from_code(r.get(3)?),
                    confidence: r.get(4)?,
                })
            })
            .map_err(self.err())?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(self.err())
    }

    /// Links STIX ids to records, so sightings of them find the records (a list record's
    /// synthesised indicator id has no stored object of its own).
    pub fn link_record_ids(&mut self, links: &[(String, IndicatorType, String)]) -> Result<()> {
        self.in_transaction(|tx| {
            let mut ins = tx.prepare_cached(
                "INSERT OR IGNORE INTO record_ids(stix_id, kind, value) VALUES (?1, ?2, ?3)",
            )?;
            for (id, kind, value) in links {
                ins.execute(rusqlite::params![id, kind.as_str(), value])?;
            }
            Ok(())
        })
    }

    /// Resolves a STIX id (object, or a record's own SCO or synthesised indicator id),
    /// `TYPE:VALUE`, or a bare indicator value.
    pub fn lookup(&self, id: &str) -> std::result::Result<Lookup, LookupError> {
        let id = id.trim();
        let mut found = Lookup::default();
        if id.contains("--") {
            found.object = self.object(id)?;
            found.records = self.records_of_object(id)?;
            if found.object.is_none() && found.records.is_empty() {
                match self.record_by_derived_id(id)? {
                    Some(r) => found.records.push(r),
                    None => return Err(LookupError::NotFound(id.to_string())),
                }
            }
            return Ok(found);
        }
        let bad = || LookupError::BadId(id.to_string());
        let (kind, value) = match id.split_once(':') {
            Some((k, v)) if IndicatorType::ALL.iter().any(|t| t.as_str() == k) => {
                let k: IndicatorType = k.parse().map_err(|_| bad())?;
                vigil_intel::normalize::normalize_as(k, v).map_err(|_| bad())?
            }
            _ => vigil_intel::normalize::classify_or_err(id).map_err(|_| bad())?,
        };
        match self.record(kind, &value)? {
            Some(r) => found.records.push(r),
            None => return Err(LookupError::NotFound(format!("{kind}:{value}"))),
        }
        Ok(found)
    }

    /// Up to `limit` records after `after` (exclusive) matching `q` and `accept` (filters SQL
    /// cannot express: source, score).
    pub fn records_page(
        &self,
        q: &RecordQuery,
        after: Option<(&str, &str)>,
        limit: usize,
        accept: &mut dyn FnMut(&IntelRecord) -> bool,
    ) -> Result<Page> {
        let mut sql = String::from("SELECT data, kind, value FROM records WHERE tlp <= ?");
        let mut args: Vec<SqlValue> = vec![SqlValue::Integer(tlp_code(q.max_tlp))];
        if let Some((k, v)) = after {
            sql.push_str(" AND (kind, value) > (?, ?)");
            args.push(SqlValue::Text(k.to_string()));
            args.push(SqlValue::Text(v.to_string()));
        }
        if !q.kinds.is_empty() {
            sql.push_str(" AND kind IN (");
            for (i, k) in q.kinds.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ", ?" });
                args.push(SqlValue::Text(k.as_str().to_string()));
            }
            sql.push(')');
        }
        if let Some(v) = &q.value {
            sql.push_str(" AND value = ?");
            args.push(SqlValue::Text(v.clone()));
        }
        if let Some(p) = &q.value_prefix {
            // A range on the primary key's second column instead of LIKE, which SQLite would
            // not index with a bound parameter.
            sql.push_str(" AND value >= ? AND value < ?");
            args.push(SqlValue::Text(p.clone()));
            args.push(SqlValue::Text(format!("{p}\u{10FFFF}")));
        }
        if let Some(t) = q.since {
            sql.push_str(" AND updated >= ?");
            args.push(SqlValue::Integer(t));
        }
        if let Some(t) = q.until {
            sql.push_str(" AND updated < ?");
            args.push(SqlValue::Integer(t));
        }
        sql.push_str(" ORDER BY kind, value");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args))
            .map_err(self.err())?;
        let mut page = Page::default();
        while let Some(row) = rows.next().map_err(self.err())? {
            let data: String = row.get(0).map_err(self.err())?;
            let rec: IntelRecord =
                serde_json::from_str(&data).map_err(|e| self.corrupt("records", e.to_string()))?;
            if !accept(&rec) {
                continue;
            }
            if page.records.len() == limit {
                let last = page
                    .records
                    .last()
                    .map(|r| (r.kind.as_str().to_string(), r.value.clone()));
                page.next = last;
                break;
            }
            page.records.push(rec);
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImportBatch, SourceInfo};
    use vigil_model::SourceClaim;

    fn store_with(values: &[(&str, Tlp)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path(), "eu").unwrap();
        for (v, tlp) in values {
            let r = IntelRecord::new(
                IndicatorType::Ip,
                v.to_string(),
                "feed".into(),
                SourceClaim {
                    confidence: 80,
                    reliability: None,
                    credibility: None,
                    name: None,
                    first_seen: Some(1),
                    last_seen: Some(1),
                    valid_until: None,
                    updated: 1,
                },
                *tlp,
            );
            let src = SourceInfo {
                name: "feed".into(),
                reliability: None,
                credibility: None,
                tlp: *tlp,
                confidence: 80,
            };
            s.import(
                &src,
                ImportBatch {
                    records: vec![r],
                    ..ImportBatch::default()
                },
                1,
                &mut |_| {},
            )
            .unwrap();
        }
        (dir, s)
    }

    #[test]
    fn pages_walk_every_visible_record_once_and_never_one_above_the_ceiling() {
        let vals: Vec<(String, Tlp)> = (0..25)
            .map(|i| {
                let tlp = if i % 5 == 0 { Tlp::Amber } else { Tlp::Green };
                (format!("192.0.2.{i}"), tlp)
            })
            .collect();
        let refs: Vec<(&str, Tlp)> = vals.iter().map(|(v, t)| (v.as_str(), *t)).collect();
        let (_d, s) = store_with(&refs);
        let q = RecordQuery {
            max_tlp: Tlp::Green,
            ..RecordQuery::default()
        };
        let mut seen = Vec::new();
        let mut after: Option<(String, String)> = None;
        loop {
            let page = s
                .records_page(
                    &q,
                    after.as_ref().map(|(k, v)| (k.as_str(), v.as_str())),
                    7,
                    &mut |_| true,
                )
                .unwrap();
            assert!(page.records.len() <= 7);
            seen.extend(page.records.iter().map(|r| (r.value.clone(), r.tlp)));
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 20);
        assert!(seen.iter().all(|(_, t)| *t == Tlp::Green));
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 20, "no record twice");
    }

    #[test]
    fn exact_value_and_prefix_filters() {
        let (_d, s) = store_with(&[("192.0.2.1", Tlp::Clear), ("198.51.100.1", Tlp::Clear)]);
        let q = RecordQuery {
            value_prefix: Some("198.".into()),
            max_tlp: Tlp::Red,
            ..RecordQuery::default()
        };
        let p = s.records_page(&q, None, 10, &mut |_| true).unwrap();
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].value, "198.51.100.1");
        assert!(p.next.is_none());
        let q = RecordQuery {
            value: Some("192.0.2.1".into()),
            max_tlp: Tlp::Red,
            ..RecordQuery::default()
        };
        assert_eq!(
            s.records_page(&q, None, 10, &mut |_| true)
                .unwrap()
                .records
                .len(),
            1
        );
    }
}
