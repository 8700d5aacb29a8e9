//! A region's intel store: one SQLite database (WAL) per region under the data directory.
//!
//! What it holds:
//!
//! * `objects`: every STIX 2.1 object version as imported, whole (`(id, modified)` is the key),
//!   with its TLP, source and a strictly increasing `added` instant (TAXII's date added);
//! * `records`: the deduplicated indicator records ([`IntelRecord`]), one per (type, canonical
//!   value), merged with [`IntelRecord::merge`] on every import;
//! * `record_ids`: which STIX objects carry which record (for `show`, sightings and export);
//! * `sources`, `imports` and `collect_state`: named sources, the import log, and the schedule
//!   and checkpoints of `vigil intel collect`.
//!
//! Every import is one transaction: it lands whole or not at all.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod collect;
pub mod export;
pub mod query;
mod schema;
pub mod taxii;
pub mod taxii_client;
pub mod tokens;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;
use vigil_intel::bundle;
use vigil_model::{IndicatorType, IntelRecord, Reliability, Tlp};

pub use schema::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: database schema version {found} is newer than this vigil understands ({supported})", path.display())]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("{}: corrupt row in {table}: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        table: &'static str,
        message: String,
    },
    #[error("invalid region name {0:?}: use letters, digits, '-' and '_'")]
    BadRegion(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The default region when none is named.
pub const DEFAULT_REGION: &str = "local";

/// A region's store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Who an import is from, and the defaults for what it does not say itself.
#[derive(Clone, Debug, Serialize)]
pub struct SourceInfo {
    pub name: String,
    pub reliability: Option<Reliability>,
    pub credibility: Option<u8>,
    pub tlp: Tlp,
    pub confidence: u8,
}

/// What one import brings: STIX objects (already upgraded to 2.1 and marked) and records.
#[derive(Default, Debug)]
pub struct ImportBatch {
    pub objects: Vec<Value>,
    pub records: Vec<IntelRecord>,
    /// The TAXII collection new objects join; `None` is the region's own ([`INTEL_COLLECTION`]).
    pub collection: Option<String>,
}

/// The collection of the region's own intel.
pub const INTEL_COLLECTION: &str = "intel";
/// The collection partners contribute to.
pub const PARTNER_COLLECTION: &str = "partner";

/// What an import did.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ImportSummary {
    pub import_id: i64,
    /// Object versions stored.
    pub objects_added: usize,
    /// Object versions already present (same id and modified).
    pub objects_unchanged: usize,
    /// Records created.
    pub records_new: usize,
    /// Records merged into existing ones.
    pub records_merged: usize,
    /// Records merged within the batch itself (the same value twice in one feed).
    pub duplicates_in_batch: usize,
    /// Sightings linked to records.
    pub sightings: usize,
}

/// A stored object version.
#[derive(Clone, Debug, Serialize)]
pub struct StoredObject {
    pub id: String,
    pub kind: String,
    pub modified: String,
    pub tlp: Tlp,
    pub source: String,
    /// Microseconds since the epoch, strictly increasing across the store.
    pub added: i64,
    pub object: Value,
}

/// Which records to read.
#[derive(Clone, Debug, Default)]
pub struct RecordFilter {
    pub kinds: Vec<IndicatorType>,
    pub max_tlp: Option<Tlp>,
    /// Only records updated at or after this Unix second.
    pub since: Option<i64>,
    /// Only records with a claim from one of these sources.
    pub sources: Vec<String>,
}

/// Which objects to read.
#[derive(Clone, Debug, Default)]
pub struct ObjectFilter {
    pub types: Vec<String>,
    pub max_tlp: Option<Tlp>,
    /// Only versions added after this instant (µs).
    pub added_after: Option<i64>,
    pub sources: Vec<String>,
    /// Every version instead of the latest per id.
    pub all_versions: bool,
}

#[derive(Clone, Debug, Serialize, Default)]
pub struct Stats {
    /// STIX objects by type (latest versions), counting a synthesised `indicator` for every
    /// record without a STIX indicator of its own, as an export would contain.
    pub by_type: BTreeMap<String, u64>,
    pub object_versions: u64,
    pub records: u64,
    pub records_by_kind: BTreeMap<String, u64>,
    pub records_by_tlp: BTreeMap<String, u64>,
    pub records_by_source: BTreeMap<String, u64>,
    pub imports: u64,
    pub schema_version: i64,
    pub path: String,
}

/// One row of the import log.
#[derive(Clone, Debug, Serialize)]
pub struct ImportLog {
    pub id: i64,
    pub source: String,
    pub started: i64,
    pub summary: ImportSummary,
}

/// Schedule state of a collected source.
#[derive(Clone, Debug, Serialize, Default, PartialEq, Eq)]
pub struct CollectState {
    pub last_run: Option<i64>,
    pub last_ok: Option<i64>,
    pub last_error: Option<String>,
    /// Source-specific resume point (HTTP ETag, TAXII `added_after`).
    pub checkpoint: Option<String>,
}

/// Checks a region name: it becomes a directory name.
pub fn check_region(region: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadRegion(region.to_string()))
    }
}

/// Where a region's database lives: `<data_dir>/<region>/intel.db`.
pub fn db_path(data_dir: &Path, region: &str) -> Result<PathBuf> {
    check_region(region)?;
    Ok(data_dir.join(region).join("intel.db"))
}

pub(crate) fn tlp_code(t: Tlp) -> i64 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

pub(crate) fn tlp_from_code(c: i64) -> Tlp {
    match c {
        0 => Tlp::Clear,
        1 => Tlp::Green,
        2 => Tlp::Amber,
        3 => Tlp::AmberStrict,
        _ => Tlp::Red,
    }
}

impl Store {
    /// Opens (creating if needed) the store of `region` under `data_dir`.
    pub fn open(data_dir: &Path, region: &str) -> Result<Store> {
        let path = db_path(data_dir, region)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        Store::open_path(&path)
    }

    /// Opens (creating if needed) a database file and brings its schema up to date.
    pub fn open_path(path: &Path) -> Result<Store> {
        let sql = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = Connection::open(path).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql)?;
        schema::migrate(&mut conn, path)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs `f` in one transaction, committed when it returns `Ok`.
    pub(crate) fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite { path, source };
        let run = |conn: &mut Connection| {
            let tx = conn.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run(&mut self.conn).map_err(sql)
    }

    pub(crate) fn corrupt(&self, table: &'static str, message: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            table,
            message,
        }
    }

    /// Stores a batch in one transaction: objects by (id, modified), records merged with what
    /// is stored, sightings linked to the records their `sighting_of_ref` carries.
    pub fn import(
        &mut self,
        source: &SourceInfo,
        batch: ImportBatch,
        now: i64,
        progress: &mut dyn FnMut(usize),
    ) -> Result<ImportSummary> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql)?;
        let mut summary = ImportSummary::default();
        tx.execute(
            "INSERT INTO sources(name, reliability, credibility, tlp, confidence, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(name) DO UPDATE SET reliability = excluded.reliability,
               credibility = excluded.credibility, tlp = excluded.tlp,
               confidence = excluded.confidence, updated = excluded.updated",
            params![
                source.name,
                source.reliability.map(|r| r.as_str()),
                source.credibility,
                tlp_code(source.tlp),
                source.confidence,
                now
            ],
        )
        .map_err(sql)?;
        tx.execute(
            "INSERT INTO imports(source, started, summary) VALUES (?1, ?2, '{}')",
            params![source.name, now],
        )
        .map_err(sql)?;
        summary.import_id = tx.last_insert_rowid();

        // Objects.
        let n_objects = batch.objects.len();
        let mut added: i64 = tx
            .query_row("SELECT COALESCE(MAX(added), 0) FROM objects", [], |r| {
                r.get(0)
            })
            .map_err(sql)?;
        added = added.max(now.saturating_mul(1_000_000));
        let mut sightings = Vec::new();
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO objects(id, modified, type, tlp, source, added, json,
                       collection)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(sql)?;
            let collection = batch.collection.as_deref().unwrap_or(INTEL_COLLECTION);
            for (i, obj) in batch.objects.iter().enumerate() {
                let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
                let kind = obj.get("type").and_then(Value::as_str).unwrap_or_default();
                // SCOs have no `modified`; their content is immutable, so "" versions them.
                let modified = obj
                    .get("modified")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let tlp = bundle::object_tlp(obj).unwrap_or(source.tlp);
                added += 1;
                let json = serde_json::to_string(obj).unwrap_or_default();
                let n = ins
                    .execute(params![
                        id,
                        modified,
                        kind,
                        tlp_code(tlp),
                        source.name,
                        added,
                        json,
                        collection
                    ])
                    .map_err(sql)?;
                if n == 1 {
                    summary.objects_added += 1;
                } else {
                    summary.objects_unchanged += 1;
                }
                if kind == "sighting" {
                    sightings.push(obj);
                }
                if i % 4096 == 0 {
                    progress(i);
                }
            }
        }

        // Records: merge within the batch first (sorted, so duplicates are adjacent and the
        // B-tree is written in key order), then with the store.
        let mut recs = batch.records;
        recs.sort_unstable_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        let mut merged: Vec<IntelRecord> = Vec::with_capacity(recs.len());
        for r in recs {
            if let Some(last) = merged.last_mut() {
                if last.kind == r.kind && last.value == r.value {
                    last.merge(&r);
                    summary.duplicates_in_batch += 1;
                    continue;
                }
            }
            merged.push(r);
        }
        // Sightings: link counts and last-seen to the records of the sighted object.
        if !sightings.is_empty() {
            let mut by_id: FxHashMap<String, Vec<usize>> = FxHashMap::default();
            for (i, r) in merged.iter().enumerate() {
                for s in &r.stix_ids {
                    by_id.entry(s.clone()).or_default().push(i);
                }
            }
            for s in &sightings {
                let Some(of) = s.get("sighting_of_ref").and_then(Value::as_str) else {
                    continue;
                };
                let who = s
                    .get("created_by_ref")
                    .and_then(Value::as_str)
                    .map_or_else(|| source.name.clone(), str::to_string);
                let count = s.get("count").and_then(Value::as_u64).unwrap_or(1);
                let seen = ["last_seen", "first_seen", "modified", "created"]
                    .iter()
                    .find_map(|f| vigil_intel::timestamp::parse_rfc3339(s.get(*f)?.as_str()?).ok());
                let sid = s.get("id").and_then(Value::as_str).unwrap_or_default();
                let mut targets: Vec<usize> = by_id.get(of).cloned().unwrap_or_default();
                let mut q = tx
                    .prepare_cached("SELECT kind, value FROM record_ids WHERE stix_id = ?1")
                    .map_err(sql)?;
                let stored: Vec<(String, String)> = q
                    .query_map([of], |row| Ok((row.get(0)?, row.get(1)?)))
                    .map_err(sql)?
                    .collect::<std::result::Result<_, _>>()
                    .map_err(sql)?;
                for (k, v) in stored {
                    let Ok(k) = k.parse::<IndicatorType>() else {
                        continue;
                    };
                    if let Some(i) = merged.iter().position(|r| r.kind == k && r.value == v) {
                        if !targets.contains(&i) {
                            targets.push(i);
                        }
                    } else if let Some(rec) = load_record(&tx, &path, k, &v)? {
                        merged.push(rec);
                        targets.push(merged.len() - 1);
                    }
                }
                for i in targets {
                    let Some(rec) = merged.get_mut(i) else {
                        continue;
                    };
                    // A sighting object is one reporter's count: keyed by the sighting id so
                    // the same sighting imported twice is not counted twice.
                    let entry = rec.sightings.entry(format!("{who}/{sid}")).or_insert(0);
                    *entry = (*entry).max(count);
                    rec.last_sighting = rec.last_sighting.max(seen);
                    summary.sightings += 1;
                }
            }
            merged.sort_unstable_by(|a, b| (a.kind, &a.value).cmp(&(b.kind, &b.value)));
        }
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO records(kind, value, tlp, updated, has_indicator, data)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(kind, value) DO UPDATE SET tlp = excluded.tlp,
                       updated = excluded.updated, has_indicator = excluded.has_indicator,
                       data = excluded.data",
                )
                .map_err(sql)?;
            let mut link = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO record_ids(stix_id, kind, value) VALUES (?1, ?2, ?3)",
                )
                .map_err(sql)?;
            for (i, mut rec) in merged.into_iter().enumerate() {
                match load_record(&tx, &path, rec.kind, &rec.value)? {
                    Some(mut stored) => {
                        stored.merge(&rec);
                        rec = stored;
                        summary.records_merged += 1;
                    }
                    None => summary.records_new += 1,
                }
                let data = serde_json::to_string(&rec).unwrap_or_default();
                let has_indicator = rec.stix_ids.iter().any(|s| s.starts_with("indicator--"));
                upsert
                    .execute(params![
                        rec.kind.as_str(),
                        rec.value,
                        tlp_code(rec.tlp),
                        rec.updated(),
                        has_indicator,
                        data
                    ])
                    .map_err(sql)?;
                for sid in &rec.stix_ids {
                    link.execute(params![sid, rec.kind.as_str(), rec.value])
                        .map_err(sql)?;
                }
                if i % 4096 == 0 {
                    progress(n_objects + i);
                }
            }
        }
        tx.execute(
            "UPDATE imports SET summary = ?1 WHERE id = ?2",
            params![
                serde_json::to_string(&summary).unwrap_or_default(),
                summary.import_id
            ],
        )
        .map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(summary)
    }

    /// The record of (kind, value).
    pub fn record(&self, kind: IndicatorType, value: &str) -> Result<Option<IntelRecord>> {
        load_record(&self.conn, &self.path, kind, value)
    }

    /// Records carried by a STIX object id.
    pub fn records_of_object(&self, stix_id: &str) -> Result<Vec<IntelRecord>> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT kind, value FROM record_ids WHERE stix_id = ?1 ORDER BY kind, value",
            )
            .map_err(self.err())?;
        let keys: Vec<(String, String)> = q
            .query_map([stix_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(self.err())?
            .collect::<std::result::Result<_, _>>()
            .map_err(self.err())?;
        let mut out = Vec::new();
        for (k, v) in keys {
            if let Ok(k) = k.parse() {
                out.extend(self.record(k, &v)?);
            }
        }
        Ok(out)
    }

    /// The record whose id (`bundle::record_id`: the deterministic SCO id) or synthesised
    /// indicator id (`bundle::indicator_id`) is `id`. Those ids are not stored, so this reads
    /// the (kind, value) keys of the candidate types and recomputes them: linear, but only
    /// keys are read (about a second for a million records).
    pub fn record_by_derived_id(&self, id: &str) -> Result<Option<IntelRecord>> {
        use IndicatorType as T;
        let (prefix, _) = id.split_once("--").unwrap_or((id, ""));
        let kinds: &[T] = match prefix {
            "ipv4-addr" | "ipv6-addr" => &[T::Ip, T::Cidr],
            "domain-name" => &[T::Domain],
            "url" => &[T::Url],
            "file" => &[T::Md5, T::Sha1, T::Sha256],
            "x-vigil-ja3" => &[T::Ja3],
            "x-vigil-ja3s" => &[T::Ja3s],
            "x-vigil-ja4" => &[T::Ja4],
            "indicator" => &T::ALL,
            _ => return Ok(None),
        };
        let mut q = self
            .conn
            .prepare_cached("SELECT value FROM records WHERE kind = ?1")
            .map_err(self.err())?;
        for kind in kinds {
            let mut rows = q.query([kind.as_str()]).map_err(self.err())?;
            while let Some(row) = rows.next().map_err(self.err())? {
                let value: String = row.get(0).map_err(self.err())?;
                let derived = if prefix == "indicator" {
                    bundle::indicator_id(*kind, &value)
                } else {
                    bundle::record_id(*kind, &value)
                };
                if derived == id {
                    return self.record(*kind, &value);
                }
            }
        }
        Ok(None)
    }

    /// Visits every record matching `filter`, in (kind, value) order.
    pub fn for_each_record(
        &self,
        filter: &RecordFilter,
        f: &mut dyn FnMut(IntelRecord),
    ) -> Result<()> {
        // Kinds go into SQL (the primary key's first column), so asking for IPs and CIDRs does
        // not parse every domain and hash.
        let mut sql = String::from("SELECT data FROM records WHERE tlp <= ?1 AND updated >= ?2");
        if !filter.kinds.is_empty() {
            let list: Vec<String> = filter
                .kinds
                .iter()
                .map(|k| format!("'{}'", k.as_str()))
                .collect();
            sql.push_str(&format!(" AND kind IN ({})", list.join(", ")));
        }
        sql.push_str(" ORDER BY kind, value");
        let mut q = self.conn.prepare(&sql).map_err(self.err())?;
        let max = filter.max_tlp.map_or(4, tlp_code);
        let since = filter.since.unwrap_or(i64::MIN);
        let mut rows = q.query(params![max, since]).map_err(self.err())?;
        while let Some(row) = rows.next().map_err(self.err())? {
            let data: String = row.get(0).map_err(self.err())?;
            let rec: IntelRecord =
                serde_json::from_str(&data).map_err(|e| self.corrupt("records", e.to_string()))?;
            if !filter.kinds.is_empty() && !filter.kinds.contains(&rec.kind) {
                continue;
            }
            if !filter.sources.is_empty()
                && !filter.sources.iter().any(|s| rec.sources.contains_key(s))
            {
                continue;
            }
            f(rec);
        }
        Ok(())
    }

    pub fn records(&self, filter: &RecordFilter) -> Result<Vec<IntelRecord>> {
        let mut out = Vec::new();
        self.for_each_record(filter, &mut |r| out.push(r))?;
        Ok(out)
    }

    /// Object versions matching `filter`, oldest added first.
    pub fn objects(&self, filter: &ObjectFilter) -> Result<Vec<StoredObject>> {
        let latest = if filter.all_versions {
            ""
        } else {
            // The latest version per id: the greatest `modified`.
            " AND modified = (SELECT MAX(o2.modified) FROM objects o2 WHERE o2.id = objects.id)"
        };
        let sql = format!(
            "SELECT id, type, modified, tlp, source, added, json FROM objects
             WHERE tlp <= ?1 AND added > ?2{latest} ORDER BY added"
        );
        let mut q = self.conn.prepare(&sql).map_err(self.err())?;
        let max = filter.max_tlp.map_or(4, tlp_code);
        let after = filter.added_after.unwrap_or(i64::MIN);
        let mut rows = q.query(params![max, after]).map_err(self.err())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(self.err())? {
            let kind: String = row.get(1).map_err(self.err())?;
            if !filter.types.is_empty() && !filter.types.contains(&kind) {
                continue;
            }
            let source: String = row.get(4).map_err(self.err())?;
            if !filter.sources.is_empty() && !filter.sources.contains(&source) {
                continue;
            }
            let json: String = row.get(6).map_err(self.err())?;
            let object =
                serde_json::from_str(&json).map_err(|e| self.corrupt("objects", e.to_string()))?;
            out.push(StoredObject {
                id: row.get(0).map_err(self.err())?,
                kind,
                modified: row.get(2).map_err(self.err())?,
                tlp: tlp_from_code(row.get(3).map_err(self.err())?),
                source,
                added: row.get(5).map_err(self.err())?,
                object,
            });
        }
        Ok(out)
    }

    /// The latest version of one object.
    pub fn object(&self, id: &str) -> Result<Option<StoredObject>> {
        let row = self
            .conn
            .query_row(
                "SELECT type, modified, tlp, source, added, json FROM objects WHERE id = ?1
                 ORDER BY modified DESC LIMIT 1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(self.err())?;
        let Some((kind, modified, tlp, source, added, json)) = row else {
            return Ok(None);
        };
        let object =
            serde_json::from_str(&json).map_err(|e| self.corrupt("objects", e.to_string()))?;
        Ok(Some(StoredObject {
            id: id.to_string(),
            kind,
            modified,
            tlp: tlp_from_code(tlp),
            source,
            added,
            object,
        }))
    }

    /// Whether any version of an object is stored.
    pub fn has_object(&self, id: &str) -> Result<bool> {
        self.conn
            .query_row("SELECT 1 FROM objects WHERE id = ?1 LIMIT 1", [id], |_| {
                Ok(())
            })
            .optional()
            .map(|o| o.is_some())
            .map_err(self.err())
    }

    pub fn stats(&self) -> Result<Stats> {
        self.stats_within(Tlp::Red)
    }

    /// Counts over what a reader cleared for `max` may see: objects and records above it are
    /// not counted, not even by type or source.
    pub fn stats_within(&self, max: Tlp) -> Result<Stats> {
        let max = tlp_code(max);
        let mut s = Stats {
            path: self.path.display().to_string(),
            schema_version: SCHEMA_VERSION,
            ..Stats::default()
        };
        let count = |sql: &str| -> Result<Vec<(String, u64)>> {
            let mut q = self.conn.prepare(sql).map_err(self.err())?;
            let rows = q
                .query_map([max], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .map_err(self.err())?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(self.err())
        };
        s.by_type =
            count("SELECT type, COUNT(DISTINCT id) FROM objects WHERE tlp <= ?1 GROUP BY type")?
                .into_iter()
                .collect();
        let synthesised: u64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM records WHERE has_indicator = 0 AND tlp <= ?1",
                [max],
                |r| r.get::<_, i64>(0),
            )
            .map_err(self.err())? as u64;
        if synthesised > 0 {
            *s.by_type.entry("indicator".into()).or_default() += synthesised;
        }
        s.object_versions = self
            .conn
            .query_row("SELECT COUNT(*) FROM objects WHERE tlp <= ?1", [max], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(self.err())? as u64;
        s.records_by_kind =
            count("SELECT kind, COUNT(*) FROM records WHERE tlp <= ?1 GROUP BY kind")?
                .into_iter()
                .collect();
        s.records = s.records_by_kind.values().sum();
        s.records_by_tlp =
            count("SELECT CAST(tlp AS TEXT), COUNT(*) FROM records WHERE tlp <= ?1 GROUP BY tlp")?
                .into_iter()
                .map(|(k, v)| (tlp_from_code(k.parse().unwrap_or(4)).to_string(), v))
                .collect();
        // Sources per record need the provenance; json_each over the stored record keeps it in
        // SQLite instead of deserialising every record.
        s.records_by_source = count(
            "SELECT j.key, COUNT(*) FROM records, json_each(records.data, '$.sources') AS j
             WHERE records.tlp <= ?1 GROUP BY j.key",
        )?
        .into_iter()
        .collect();
        s.imports = self
            .conn
            .query_row("SELECT COUNT(*) FROM imports", [], |r| r.get::<_, i64>(0))
            .map_err(self.err())? as u64;
        Ok(s)
    }

    /// The stored defaults of a source, if it has imported before.
    pub fn source(&self, name: &str) -> Result<Option<SourceInfo>> {
        self.conn
            .query_row(
                "SELECT reliability, credibility, tlp, confidence FROM sources WHERE name = ?1",
                [name],
                |r| {
                    Ok(SourceInfo {
                        name: name.to_string(),
                        reliability: r.get::<_, Option<String>>(0)?.and_then(|s| s.parse().ok()),
                        credibility: r.get(1)?,
                        tlp: tlp_from_code(r.get(2)?),
                        confidence: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(self.err())
    }

    pub fn collect_state(&self, source: &str) -> Result<CollectState> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_run, last_ok, last_error, checkpoint FROM collect_state WHERE source = ?1",
                [source],
                |r| {
                    Ok(CollectState {
                        last_run: r.get(0)?,
                        last_ok: r.get(1)?,
                        last_error: r.get(2)?,
                        checkpoint: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(self.err())?
            .unwrap_or_default())
    }

    pub fn set_collect_state(&self, source: &str, st: &CollectState) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO collect_state(source, last_run, last_ok, last_error, checkpoint)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(source) DO UPDATE SET last_run = excluded.last_run,
                   last_ok = excluded.last_ok, last_error = excluded.last_error,
                   checkpoint = excluded.checkpoint",
                params![
                    source,
                    st.last_run,
                    st.last_ok,
                    st.last_error,
                    st.checkpoint
                ],
            )
            .map_err(self.err())?;
        Ok(())
    }

    /// The import log, newest first.
    pub fn imports(&self, limit: usize) -> Result<Vec<ImportLog>> {
        let mut q = self
            .conn
            .prepare("SELECT id, source, started, summary FROM imports ORDER BY id DESC LIMIT ?1")
            .map_err(self.err())?;
        let rows = q
            .query_map([limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(self.err())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, source, started, summary) = row.map_err(self.err())?;
            let summary = serde_json::from_str(&summary).unwrap_or_default();
            out.push(ImportLog {
                id,
                source,
                started,
                summary,
            });
        }
        Ok(out)
    }
}

fn load_record(
    conn: &Connection,
    path: &Path,
    kind: IndicatorType,
    value: &str,
) -> Result<Option<IntelRecord>> {
    let mut q = conn
        .prepare_cached("SELECT data FROM records WHERE kind = ?1 AND value = ?2")
        .map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
    let data: Option<String> = q
        .query_row(params![kind.as_str(), value], |r| r.get(0))
        .optional()
        .map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
    match data {
        None => Ok(None),
        Some(d) => serde_json::from_str(&d)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                path: path.to_path_buf(),
                table: "records",
                message: e.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests;
