//! Versioned migrations. `PRAGMA user_version` holds the version; each step runs in its own
//! transaction, so a failed upgrade leaves the previous version intact.
use std::path::Path;

use rusqlite::Connection;

use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    // 1: objects, records, provenance links, sources, imports, collection state. The record
    // columns beside `data` are only those queries filter on (TLP ceiling, --since, stats).
    "CREATE TABLE objects (
        id TEXT NOT NULL,
        modified TEXT NOT NULL,
        type TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        source TEXT NOT NULL,
        added INTEGER NOT NULL UNIQUE,
        json TEXT NOT NULL,
        PRIMARY KEY (id, modified)
    ) WITHOUT ROWID;
    CREATE INDEX objects_by_type ON objects(type);
    CREATE TABLE records (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        tlp INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        has_indicator INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
    CREATE INDEX records_by_updated ON records(updated);
    CREATE TABLE record_ids (
        stix_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (stix_id, kind, value)
    ) WITHOUT ROWID;
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        reliability TEXT,
        credibility INTEGER,
        tlp INTEGER NOT NULL,
        confidence INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        started INTEGER NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE TABLE collect_state (
        source TEXT PRIMARY KEY,
        last_run INTEGER,
        last_ok INTEGER,
        last_error TEXT,
        checkpoint TEXT
    );",
    // 2: API tokens, kept only as SHA-256 hashes.
    "CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        max_tlp INTEGER NOT NULL,
        region TEXT,
        hash BLOB NOT NULL UNIQUE,
        created INTEGER NOT NULL,
        revoked INTEGER
    );",
    // 3: TAXII collections (the region's own intel, and what partners contribute), and the
    // alerts sensors report to the hub.
    "ALTER TABLE objects ADD COLUMN collection TEXT NOT NULL DEFAULT 'intel';
    CREATE INDEX objects_by_collection ON objects(collection, added);
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        received INTEGER NOT NULL,
        sensor TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        src_ip TEXT,
        dest_ip TEXT,
        signature_id INTEGER,
        confidence INTEGER,
        indicator_kind TEXT,
        indicator_value TEXT,
        tlp INTEGER NOT NULL,
        eve TEXT NOT NULL
    );
    CREATE INDEX alerts_by_received ON alerts(received);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let sql = |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction().map_err(sql)?;
        tx.execute_batch(step).map_err(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(sql)?;
        tx.commit().map_err(sql)?;
    }
    Ok(())
}
