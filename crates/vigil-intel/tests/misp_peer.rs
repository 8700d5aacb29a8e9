//! MISP feed export checked against pymisp, the reference MISP client: a feed written by
//! `write_feed` must load in pymisp with the same attributes, and pymisp must compute the same
//! manifest entries and `hashes.csv` (see `scripts/misp-feed-oracle.py`). The feed must also
//! read back through `read_feed_dir` with the same indicator values.
mod peer;
use peer::*;
use std::collections::BTreeMap;
use std::process::Command;

use vigil_intel::misp::{read_feed_dir, write_feed, FeedAttribute, FeedEvent};
use vigil_intel::pattern;
use vigil_model::{IndicatorType as T, Tlp};

fn attr(kind: T, value: &str, tlp: Tlp, confidence: u8) -> FeedAttribute {
    FeedAttribute {
        kind,
        value: value.into(),
        uuid: String::new(),
        comment: None,
        first_seen: None,
        last_seen: None,
        tlp,
        confidence,
        labels: vec![],
        to_ids: true,
    }
}

fn events() -> Vec<FeedEvent> {
    vec![
        FeedEvent {
            uuid: "7d1e0c4a-1111-4b5c-9d8e-000000000001".into(),
            info: "Vigil export: network".into(),
            date: "2024-06-01".into(),
            timestamp: 1_717_200_000,
            tlp: Tlp::Amber,
            orgc_name: "Vigil".into(),
            attributes: vec![
                FeedAttribute {
                    uuid: "indicator--7d1e0c4a-1111-4b5c-9d8e-0000000000a1".into(),
                    comment: Some("c2".into()),
                    first_seen: Some(1_717_000_000),
                    last_seen: Some(1_717_100_000),
                    labels: vec!["kill-chain:command-and-control".into()],
                    ..attr(T::Ip, "192.0.2.1", Tlp::Red, 100)
                },
                attr(T::Ip, "2001:db8::1", Tlp::Amber, 80),
                attr(T::Cidr, "198.51.100.0/24", Tlp::Green, 50),
                attr(T::Domain, "evil.example", Tlp::Clear, 20),
                attr(
                    T::Url,
                    "evil.example/gate.php?id=1&x='y'",
                    Tlp::AmberStrict,
                    0,
                ),
            ],
            tags: vec!["vigil:export".into()],
        },
        FeedEvent {
            uuid: "7d1e0c4a-2222-4b5c-9d8e-000000000002".into(),
            info: "Vigil export: files and fingerprints".into(),
            date: "2024-06-02".into(),
            timestamp: 1_717_286_400,
            tlp: Tlp::Green,
            orgc_name: "Vigil".into(),
            attributes: vec![
                attr(T::Md5, "d41d8cd98f00b204e9800998ecf8427e", Tlp::Green, 75),
                attr(
                    T::Sha1,
                    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                    Tlp::Green,
                    75,
                ),
                attr(
                    T::Sha256,
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    Tlp::Green,
                    75,
                ),
                attr(T::Ja3, "e7d705a3286e19ea42f587b344ee6865", Tlp::Green, 75),
                attr(T::Ja3s, "ae4edc6faf64d08308082ad26be60767", Tlp::Green, 75),
                attr(
                    T::Ja4,
                    "t13d1516h2_8daaf6152771_b186095e22b6",
                    Tlp::Green,
                    75,
                ),
            ],
            tags: vec![],
        },
    ]
}

type Row = (String, String, bool, Vec<String>);

/// What pymisp must see: the MISP type, value, to_ids and tags of each attribute, written out
/// by hand from the mapping rules.
fn expected() -> BTreeMap<String, Vec<Row>> {
    let conf = |l: &str| format!("misp:confidence-level=\"{l}\"");
    let row = |ty: &str, v: &str, tags: Vec<String>| {
        let mut tags = tags;
        tags.sort();
        (ty.to_string(), v.to_string(), true, tags)
    };
    let green = |extra: &[&str]| {
        let mut t = vec!["tlp:green".to_string(), conf("usually-confident")];
        t.extend(extra.iter().map(|s| s.to_string()));
        t
    };
    let mut m = BTreeMap::new();
    m.insert(
        "7d1e0c4a-1111-4b5c-9d8e-000000000001".to_string(),
        vec![
            row(
                "domain",
                "evil.example",
                vec!["tlp:clear".into(), conf("rarely-confident")],
            ),
            row(
                "ip-dst",
                "192.0.2.1",
                vec![
                    "tlp:red".into(),
                    conf("completely-confident"),
                    "kill-chain:command-and-control".into(),
                ],
            ),
            row(
                "ip-dst",
                "198.51.100.0/24",
                vec!["tlp:green".into(), conf("fairly-confident")],
            ),
            row(
                "ip-dst",
                "2001:db8::1",
                vec!["tlp:amber".into(), conf("usually-confident")],
            ),
            row(
                "url",
                "evil.example/gate.php?id=1&x='y'",
                vec!["tlp:amber+strict".into(), conf("unconfident")],
            ),
        ],
    );
    m.insert(
        "7d1e0c4a-2222-4b5c-9d8e-000000000002".to_string(),
        vec![
            row(
                "ja3-fingerprint-md5",
                "e7d705a3286e19ea42f587b344ee6865",
                green(&[]),
            ),
            row("md5", "d41d8cd98f00b204e9800998ecf8427e", green(&[])),
            row(
                "sha1",
                "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                green(&[]),
            ),
            row(
                "sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                green(&[]),
            ),
            row(
                "text",
                "ae4edc6faf64d08308082ad26be60767",
                green(&["vigil:type=\"ja3s\""]),
            ),
            row(
                "text",
                "t13d1516h2_8daaf6152771_b186095e22b6",
                green(&["vigil:type=\"ja4\""]),
            ),
        ],
    );
    for rows in m.values_mut() {
        rows.sort();
    }
    m
}

#[test]
fn written_feed_is_read_by_pymisp_and_round_trips_through_read_feed_dir() {
    let dir = tempfile::tempdir().unwrap();
    let events = events();
    let summary = write_feed(dir.path(), &events).unwrap();
    assert_eq!((summary.events, summary.attributes), (2, 11));

    // Round trip through our own reader: the same indicator values, nothing skipped.
    let imp = read_feed_dir(dir.path()).unwrap();
    assert!(imp.skipped.is_empty(), "{:?}", imp.skipped);
    let mut got: Vec<(T, String)> = imp
        .objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .flat_map(|o| {
            pattern::indicator_atoms(&pattern::parse(o["pattern"].as_str().unwrap()).unwrap())
        })
        .map(|a| (a.kind, a.value))
        .collect();
    got.sort();
    let mut want: Vec<(T, String)> = events
        .iter()
        .flat_map(|e| e.attributes.iter().map(|a| (a.kind, a.value.clone())))
        .collect();
    want.sort();
    assert_eq!(got, want);

    let Some(py) = python() else { return };
    let script = workspace_root().join("scripts/misp-feed-oracle.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "oracle failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen: BTreeMap<String, Vec<Row>> = serde_json::from_slice(&out.stdout).unwrap();
    for rows in seen.values_mut() {
        rows.sort();
    }
    assert_eq!(seen, expected());
}
