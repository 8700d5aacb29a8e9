use super::*;
use vigil_model::SourceClaim;

fn source(name: &str) -> SourceInfo {
    SourceInfo {
        name: name.into(),
        reliability: Some(Reliability::B),
        credibility: None,
        tlp: Tlp::Green,
        confidence: 70,
    }
}

fn record(kind: IndicatorType, value: &str, src: &str, conf: u8, now: i64) -> IntelRecord {
    IntelRecord::new(
        kind,
        value.into(),
        src.into(),
        SourceClaim {
            confidence: conf,
            reliability: None,
            credibility: None,
            name: None,
            first_seen: Some(now - 10),
            last_seen: Some(now - 5),
            valid_until: None,
            updated: now,
        },
        Tlp::Green,
    )
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path(), "eu-west").unwrap();
    (dir, s)
}

#[test]
fn a_new_store_is_a_wal_database_at_the_current_schema_version() {
    let (dir, s) = store();
    assert_eq!(s.path(), dir.path().join("eu-west/intel.db"));
    let mode: String = s
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(s);
    // Reopening is a no-op migration.
    let s = Store::open(dir.path(), "eu-west").unwrap();
    assert_eq!(s.stats().unwrap().schema_version, SCHEMA_VERSION);
}

#[test]
fn a_database_from_a_newer_vigil_is_refused() {
    let (dir, s) = store();
    s.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(s);
    let e = Store::open(dir.path(), "eu-west").err().unwrap();
    assert!(e.to_string().contains("schema version 99 is newer"), "{e}");
}

#[test]
fn region_names_are_checked() {
    assert!(db_path(Path::new("d"), "../etc").is_err());
    assert!(db_path(Path::new("d"), "").is_err());
    assert!(db_path(Path::new("d"), "ap_south-1").is_ok());
}

#[test]
fn reimporting_merges_into_one_record_per_value() {
    let (_d, mut s) = store();
    let now = 1_700_000_000;
    let b = ImportBatch {
        objects: vec![],
        records: vec![
            record(IndicatorType::Domain, "evil.example", "a", 80, now),
            record(IndicatorType::Domain, "evil.example", "a", 80, now),
            record(IndicatorType::Ip, "192.0.2.1", "a", 50, now),
        ],
        collection: None,
    };
    let sum = s.import(&source("a"), b, now, &mut |_| {}).unwrap();
    assert_eq!((sum.records_new, sum.duplicates_in_batch), (2, 1));
    let b = ImportBatch {
        objects: vec![],
        records: vec![record(
            IndicatorType::Domain,
            "evil.example",
            "b",
            40,
            now + 1,
        )],
        collection: None,
    };
    let sum = s.import(&source("b"), b, now + 1, &mut |_| {}).unwrap();
    assert_eq!((sum.records_new, sum.records_merged), (0, 1));
    let r = s
        .record(IndicatorType::Domain, "evil.example")
        .unwrap()
        .unwrap();
    assert_eq!(r.sources.keys().collect::<Vec<_>>(), ["a", "b"]);
    let st = s.stats().unwrap();
    assert_eq!(st.records, 2);
    assert_eq!(st.by_type["indicator"], 2);
    assert_eq!(st.records_by_source["a"], 2);
    assert_eq!(st.records_by_source["b"], 1);
    assert_eq!(s.imports(10).unwrap().len(), 2);
}

#[test]
fn objects_are_versioned_by_modified_and_kept_whole() {
    let (_d, mut s) = store();
    let v1 = serde_json::json!({"type":"campaign","spec_version":"2.1","id":"campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"x","x_custom":[1,2]});
    let mut v2 = v1.clone();
    v2["modified"] = "2021-01-01T00:00:00.000Z".into();
    v2["name"] = "y".into();
    let batch = || ImportBatch {
        objects: vec![v1.clone(), v2.clone()],
        records: vec![],
        collection: None,
    };
    let sum = s.import(&source("a"), batch(), 10, &mut |_| {}).unwrap();
    assert_eq!((sum.objects_added, sum.objects_unchanged), (2, 0));
    let sum = s.import(&source("a"), batch(), 11, &mut |_| {}).unwrap();
    assert_eq!((sum.objects_added, sum.objects_unchanged), (0, 2));
    let latest = s
        .object("campaign--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
        .unwrap()
        .unwrap();
    assert_eq!(latest.object, v2);
    let all = s
        .objects(&ObjectFilter {
            all_versions: true,
            ..ObjectFilter::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].added < all[1].added);
    assert_eq!(s.objects(&ObjectFilter::default()).unwrap().len(), 1);
    // TLP filter: the source default (green) applies to unmarked objects.
    let none = s
        .objects(&ObjectFilter {
            max_tlp: Some(Tlp::Clear),
            ..ObjectFilter::default()
        })
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn a_failed_import_leaves_nothing_behind() {
    let (_d, mut s) = store();
    // Two rows with the same `added` cannot happen through `import`; force a failure instead
    // by making the records table read-only for this transaction's upsert.
    s.conn
        .execute_batch(
            "CREATE TRIGGER no_records BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .unwrap();
    let b = ImportBatch {
        objects: vec![
            serde_json::json!({"type":"identity","id":"identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","modified":"2020-01-01T00:00:00Z"}),
        ],
        records: vec![record(IndicatorType::Ip, "192.0.2.1", "a", 50, 1)],
        collection: None,
    };
    assert!(s.import(&source("a"), b, 1, &mut |_| {}).is_err());
    assert_eq!(s.objects(&ObjectFilter::default()).unwrap().len(), 0);
    assert_eq!(s.imports(10).unwrap().len(), 0);
    assert!(s.source("a").unwrap().is_none());
}

#[test]
fn sightings_link_to_the_records_of_the_sighted_indicator_and_reset_decay() {
    let (_d, mut s) = store();
    let day = 86_400;
    let mut r = record(IndicatorType::Domain, "evil.example", "a", 100, 0);
    r.stix_ids
        .insert("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f".into());
    s.import(
        &source("a"),
        ImportBatch {
            objects: vec![],
            records: vec![r],
            collection: None,
        },
        0,
        &mut |_| {},
    )
    .unwrap();
    let sighting = serde_json::json!({"type":"sighting","spec_version":"2.1",
        "id":"sighting--ee2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"1970-03-01T00:00:00Z",
        "modified":"1970-03-01T00:00:00Z","sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "count":4,"last_seen":"1970-03-01T00:00:00Z"});
    let batch = || ImportBatch {
        objects: vec![sighting.clone()],
        records: vec![],
        collection: None,
    };
    let sum = s
        .import(&source("sensor"), batch(), 60 * day, &mut |_| {})
        .unwrap();
    assert_eq!(sum.sightings, 1);
    // The same sighting again does not double the count.
    s.import(&source("sensor"), batch(), 60 * day, &mut |_| {})
        .unwrap();
    let r = s
        .record(IndicatorType::Domain, "evil.example")
        .unwrap()
        .unwrap();
    assert_eq!(r.sighting_count(), 4);
    assert_eq!(r.last_sighting, Some(59 * day));
    assert!(r.score(60 * day).reset_by_sighting);
}

#[test]
fn records_are_found_by_their_derived_ids() {
    let (_d, mut s) = store();
    let b = ImportBatch {
        objects: vec![],
        records: vec![
            record(IndicatorType::Ip, "198.51.100.3", "a", 50, 1),
            record(
                IndicatorType::Ja3,
                "e7d705a3286e19ea42f587b344ee6865",
                "a",
                50,
                1,
            ),
        ],
        collection: None,
    };
    s.import(&source("a"), b, 1, &mut |_| {}).unwrap();
    // The id the stix2 library gives ipv4-addr 198.51.100.3.
    let r = s
        .record_by_derived_id("ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4")
        .unwrap()
        .unwrap();
    assert_eq!(r.value, "198.51.100.3");
    let ind =
        vigil_intel::bundle::indicator_id(IndicatorType::Ja3, "e7d705a3286e19ea42f587b344ee6865");
    assert_eq!(
        s.record_by_derived_id(&ind).unwrap().unwrap().kind,
        IndicatorType::Ja3
    );
    assert!(s
        .record_by_derived_id("ipv4-addr--00000000-0000-5000-8000-000000000000")
        .unwrap()
        .is_none());
}
