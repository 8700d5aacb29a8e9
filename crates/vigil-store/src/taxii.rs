//! The queries behind the hub's TAXII 2.1 endpoints: one page of a collection's object
//! versions, in `added` order, under a TLP ceiling, with TAXII's `match[...]` filters.
//!
//! Everything is decided in SQL so a page costs what it returns: the scan walks the
//! `objects_by_collection(collection, added)` index from the cursor, TLP is a predicate on the
//! row (`tlp <= ?`, so nothing above the caller's clearance is read into the hub at all), and
//! "latest version" is an anti-join on the `(id, modified)` primary key per candidate row
//! rather than a grouped scan of the whole table.
use rusqlite::types::Value as SqlValue;
use serde::Serialize;
use vigil_model::Tlp;

use crate::{tlp_code, tlp_from_code, Result, Store};

/// Which versions of each object `match[version]` selects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionMatch {
    /// Every version (the `versions` endpoint's default).
    pub all: bool,
    /// The earliest version the caller may see.
    pub first: bool,
    /// The latest version the caller may see (the objects endpoints' default).
    pub last: bool,
    /// Versions whose `modified` is one of these instants (compared at millisecond precision,
    /// so `2024-01-01T00:00:00Z` matches `2024-01-01T00:00:00.000Z`).
    pub at: Vec<String>,
}

impl VersionMatch {
    pub fn last() -> VersionMatch {
        VersionMatch {
            last: true,
            ..VersionMatch::default()
        }
    }

    pub fn all() -> VersionMatch {
        VersionMatch {
            all: true,
            ..VersionMatch::default()
        }
    }
}

/// One page request against a collection.
#[derive(Clone, Debug)]
pub struct PageQuery {
    pub collection: String,
    /// The caller's clearance: nothing above it is read.
    pub max_tlp: Tlp,
    /// Only versions added strictly after this instant (µs); the larger of `added_after` and
    /// the `next` cursor.
    pub after: Option<i64>,
    pub types: Vec<String>,
    pub ids: Vec<String>,
    /// `match[spec_version]`; empty is any (every stored object is STIX 2.1).
    pub spec_versions: Vec<String>,
    pub versions: VersionMatch,
    /// Rows to return; one more is read to know whether there are more.
    pub limit: usize,
    /// Read the objects' JSON (objects endpoints) or only their manifest data.
    pub with_json: bool,
}

/// One object version of a page.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PageRow {
    pub id: String,
    pub kind: String,
    /// Microseconds since the epoch; unique and strictly increasing across the store.
    pub added: i64,
    /// `modified`, else `created`; `None` for objects with neither (SCOs).
    pub version: Option<String>,
    pub tlp: Tlp,
    /// The stored object, when asked for.
    pub json: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub rows: Vec<PageRow>,
    /// More rows match after the last one returned.
    pub more: bool,
}

/// Builds the page query's SQL and parameters (pure, so the plan can be checked in tests).
pub fn page_sql(q: &PageQuery) -> (String, Vec<SqlValue>) {
    let mut params: Vec<SqlValue> = vec![
        SqlValue::Text(q.collection.clone()),
        SqlValue::Integer(q.after.unwrap_or(i64::MIN)),
        SqlValue::Integer(tlp_code(q.max_tlp)),
    ];
    // Below RED the JSON is needed to redact references to withheld objects, manifests too.
    let json = if q.with_json || q.max_tlp < Tlp::Red {
        "o.json"
    } else {
        "NULL"
    };
    let mut sql = format!(
        "SELECT o.id, o.type, o.added,
           COALESCE(NULLIF(o.modified, ''), json_extract(o.json, '$.created')), o.tlp, {json}
         FROM objects o
         WHERE o.collection = ?1 AND o.added > ?2 AND o.tlp <= ?3"
    );
    let mut list = |sql: &mut String, column: &str, values: &[String]| {
        let start = params.len() + 1;
        let marks: Vec<String> = (start..start + values.len())
            .map(|i| format!("?{i}"))
            .collect();
        params.extend(values.iter().cloned().map(SqlValue::Text));
        sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
    };
    if !q.types.is_empty() {
        list(&mut sql, "o.type", &q.types);
    }
    if !q.ids.is_empty() {
        list(&mut sql, "o.id", &q.ids);
    }
    if !q.spec_versions.is_empty() {
        list(
            &mut sql,
            "COALESCE(json_extract(o.json, '$.spec_version'), '2.1')",
            &q.spec_versions,
        );
    }
    let v = &q.versions;
    if !v.all {
        // Newer/older versions only count when the caller may see them: a RED revision must
        // not hide (and so reveal) the GREEN version a partner is cleared for.
        let other = |cmp: &str| {
            format!(
                "NOT EXISTS (SELECT 1 FROM objects n WHERE n.id = o.id AND n.collection = o.collection
                   AND n.tlp <= ?3 AND n.modified {cmp} o.modified)"
            )
        };
        let mut alternatives = Vec::new();
        if v.last {
            alternatives.push(other(">"));
        }
        if v.first {
            alternatives.push(other("<"));
        }
        if !v.at.is_empty() {
            let start = params.len() + 1;
            let marks: Vec<String> = (start..start + v.at.len())
                .map(|i| format!("strftime('%Y-%m-%dT%H:%M:%f', ?{i})"))
                .collect();
            params.extend(v.at.iter().cloned().map(SqlValue::Text));
            alternatives.push(format!(
                "strftime('%Y-%m-%dT%H:%M:%f', o.modified) IN ({})",
                marks.join(", ")
            ));
        }
        if alternatives.is_empty() {
            // Nothing asked for: nothing matches.
            alternatives.push("0".into());
        }
        sql.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    params.push(SqlValue::Integer(q.limit.saturating_add(1) as i64));
    sql.push_str(&format!(" ORDER BY o.added LIMIT ?{}", params.len()));
    (sql, params)
}

impl Store {
    /// One page of a collection (see [`PageQuery`]).
    pub fn taxii_page(&self, q: &PageQuery) -> Result<Page> {
        let (sql, params) = page_sql(q);
        let mut stmt = self.conn.prepare_cached(&sql).map_err(self.err())?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params))
            .map_err(self.err())?;
        let mut page = Page::default();
        while let Some(r) = rows.next().map_err(self.err())? {
            if page.rows.len() == q.limit {
                page.more = true;
                break;
            }
            let mut json: Option<String> = r.get(5).map_err(self.err())?;
            // A visible object may point at a withheld one: the reference goes, or the whole
            // object when the reference is required (a relationship's end).
            if let Some(j) = json.as_mut().filter(|j| j.contains("_ref")) {
                let v: serde_json::Value =
                    serde_json::from_str(j).map_err(|e| self.corrupt("objects", e.to_string()))?;
                match self.redact(v, q.max_tlp)? {
                    Some(v) => *j = v.to_string(),
                    None => continue,
                }
            }
            page.rows.push(PageRow {
                id: r.get(0).map_err(self.err())?,
                kind: r.get(1).map_err(self.err())?,
                added: r.get(2).map_err(self.err())?,
                version: r.get(3).map_err(self.err())?,
                tlp: tlp_from_code(r.get(4).map_err(self.err())?),
                json: if q.with_json { json } else { None },
            });
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImportBatch, SourceInfo};
    use serde_json::json;

    fn store_with(
        objects: Vec<serde_json::Value>,
        collection: &str,
        now: i64,
    ) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path(), "eu").unwrap();
        import(&mut s, objects, collection, now);
        (dir, s)
    }

    fn import(s: &mut Store, objects: Vec<serde_json::Value>, collection: &str, now: i64) {
        let src = SourceInfo {
            name: "t".into(),
            reliability: None,
            credibility: None,
            tlp: Tlp::Green,
            confidence: 50,
        };
        s.import(
            &src,
            ImportBatch {
                objects,
                records: vec![],
                collection: Some(collection.into()),
            },
            now,
            &mut |_| {},
        )
        .unwrap();
    }

    fn campaign(n: u32, modified: &str, tlp: Option<&str>) -> serde_json::Value {
        let mut o = json!({
            "type": "campaign", "spec_version": "2.1",
            "id": format!("campaign--00000000-0000-4000-8000-{n:012}"),
            "created": "2024-01-01T00:00:00.000Z", "modified": modified, "name": format!("c{n}"),
        });
        if let Some(t) = tlp {
            o["object_marking_refs"] = json!([t]);
        }
        o
    }

    const RED: &str = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

    fn query(limit: usize) -> PageQuery {
        PageQuery {
            collection: "intel".into(),
            max_tlp: Tlp::Red,
            after: None,
            types: vec![],
            ids: vec![],
            spec_versions: vec![],
            versions: VersionMatch::last(),
            limit,
            with_json: true,
        }
    }

    #[test]
    fn references_to_withheld_objects_are_redacted_or_withhold_the_referrer() {
        const AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
        const GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
        let hidden = campaign(9, "2024-01-01T00:00:00.000Z", Some(AMBER));
        let seen = campaign(1, "2024-01-01T00:00:00.000Z", Some(GREEN));
        let rel = json!({"type": "relationship", "spec_version": "2.1",
            "id": "relationship--00000000-0000-4000-8000-000000000001",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "relationship_type": "related-to", "source_ref": seen["id"], "target_ref": hidden["id"],
            "object_marking_refs": [GREEN]});
        let report = json!({"type": "report", "spec_version": "2.1",
            "id": "report--00000000-0000-4000-8000-000000000001", "name": "r",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "published": "2024-01-01T00:00:00Z", "object_refs": [seen["id"], hidden["id"]],
            "object_marking_refs": [GREEN]});
        let (_d, s) = store_with(vec![hidden, seen, rel, report], "intel", 1_700_000_000);
        for with_json in [true, false] {
            let mut q = query(10);
            q.max_tlp = Tlp::Green;
            q.with_json = with_json;
            let p = s.taxii_page(&q).unwrap();
            let ids: Vec<&str> = p.rows.iter().map(|r| r.id.as_str()).collect();
            assert_eq!(
                ids,
                [
                    "campaign--00000000-0000-4000-8000-000000000001",
                    "report--00000000-0000-4000-8000-000000000001"
                ]
            );
            if with_json {
                let body: String = p.rows.iter().filter_map(|r| r.json.clone()).collect();
                assert!(!body.contains("000000000009"), "{body}");
            }
        }
        assert_eq!(
            s.taxii_page(&query(10)).unwrap().rows.len(),
            4,
            "RED sees all"
        );
    }

    #[test]
    fn pages_follow_added_order_and_say_when_there_is_more() {
        let objs = (0..5)
            .map(|i| campaign(i, "2024-01-01T00:00:00.000Z", None))
            .collect();
        let (_d, s) = store_with(objs, "intel", 1_700_000_000);
        let p1 = s.taxii_page(&query(2)).unwrap();
        assert_eq!(p1.rows.len(), 2);
        assert!(p1.more);
        let mut q = query(2);
        q.after = Some(p1.rows[1].added);
        let p2 = s.taxii_page(&q).unwrap();
        assert!(p2.rows[0].added > p1.rows[1].added);
        q.after = Some(p2.rows[1].added);
        let p3 = s.taxii_page(&q).unwrap();
        assert_eq!((p3.rows.len(), p3.more), (1, false));
        // Another collection's objects are not in this one.
        q.collection = "partner".into();
        q.after = None;
        assert!(s.taxii_page(&q).unwrap().rows.is_empty());
    }

    #[test]
    fn latest_version_is_the_latest_the_caller_is_cleared_for() {
        let (_d, mut s) = store_with(
            vec![campaign(1, "2024-01-01T00:00:00.000Z", None)],
            "intel",
            1_700_000_000,
        );
        import(
            &mut s,
            vec![campaign(1, "2024-02-01T00:00:00.000Z", Some(RED))],
            "intel",
            1_700_000_100,
        );
        let all = s.taxii_page(&query(10)).unwrap();
        assert_eq!(all.rows.len(), 1);
        assert_eq!(
            all.rows[0].version.as_deref(),
            Some("2024-02-01T00:00:00.000Z")
        );
        let mut green = query(10);
        green.max_tlp = Tlp::Green;
        let g = s.taxii_page(&green).unwrap();
        assert_eq!(g.rows.len(), 1);
        assert_eq!(
            g.rows[0].version.as_deref(),
            Some("2024-01-01T00:00:00.000Z")
        );
        assert_eq!(g.rows[0].tlp, Tlp::Green);
        // Every version, first, and by timestamp in another spelling.
        let mut q = query(10);
        q.versions = VersionMatch::all();
        assert_eq!(s.taxii_page(&q).unwrap().rows.len(), 2);
        q.versions = VersionMatch {
            first: true,
            ..Default::default()
        };
        let first = s.taxii_page(&q).unwrap();
        assert_eq!(
            first.rows[0].version.as_deref(),
            Some("2024-01-01T00:00:00.000Z")
        );
        q.versions = VersionMatch {
            at: vec!["2024-02-01T00:00:00Z".into()],
            ..Default::default()
        };
        let at = s.taxii_page(&q).unwrap();
        assert_eq!(at.rows.len(), 1);
        assert_eq!(
            at.rows[0].version.as_deref(),
            Some("2024-02-01T00:00:00.000Z")
        );
    }

    #[test]
    fn type_id_and_spec_version_filters_narrow_the_page() {
        let mut objs: Vec<_> = (0..3)
            .map(|i| campaign(i, "2024-01-01T00:00:00.000Z", None))
            .collect();
        objs.push(json!({"type": "ipv4-addr", "spec_version": "2.1",
            "id": "ipv4-addr--00000000-0000-5000-8000-000000000001", "value": "192.0.2.1"}));
        let (_d, s) = store_with(objs, "intel", 1_700_000_000);
        let mut q = query(10);
        q.types = vec!["ipv4-addr".into()];
        let p = s.taxii_page(&q).unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].version, None, "an SCO has no version of its own");
        q.types.clear();
        q.ids = vec!["campaign--00000000-0000-4000-8000-000000000002".into()];
        assert_eq!(s.taxii_page(&q).unwrap().rows.len(), 1);
        q.ids.clear();
        q.spec_versions = vec!["2.0".into()];
        assert!(s.taxii_page(&q).unwrap().rows.is_empty());
        q.spec_versions = vec!["2.0".into(), "2.1".into()];
        assert_eq!(s.taxii_page(&q).unwrap().rows.len(), 4);
    }

    #[test]
    fn the_page_query_walks_the_collection_index_without_sorting() {
        let (_d, s) = store_with(vec![], "intel", 1_700_000_000);
        let (sql, params) = page_sql(&query(100));
        let mut stmt = s
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(params), |r| r.get(3))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("objects_by_collection"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        // The anti-join for "latest version" uses the primary key, not a scan.
        assert!(
            plan.contains("sqlite_autoindex_objects_1") || plan.contains("PRIMARY KEY"),
            "{plan}"
        );
    }
}
