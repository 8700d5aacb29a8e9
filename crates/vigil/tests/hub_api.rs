//! The hub's REST API, driven over HTTP against a real `vigil region serve`: clearance on every
//! read path, roles per endpoint, sightings from sensors, paging, bad input, and the drain on
//! SIGTERM.
mod util;

use serde_json::{json, Value};
use util::HubProcess;
use vigil_intel::markings::tlp_marking_id;
use vigil_model::Tlp;

struct Resp {
    status: u16,
    ctype: String,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn call(method: &str, url: &str, token: Option<&str>, body: Option<(&str, &[u8])>) -> Resp {
    let mut req = ureq::request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = match body {
        Some((ct, b)) => req.set("Content-Type", ct).send_bytes(b),
        None => req.call(),
    };
    let r = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    Resp {
        status: r.status(),
        ctype: r.header("content-type").unwrap_or_default().to_string(),
        body: r.into_string().unwrap_or_default(),
    }
}

const LEVELS: [(Tlp, &str); 4] = [
    (Tlp::Clear, "1"),
    (Tlp::Green, "2"),
    (Tlp::Amber, "3"),
    (Tlp::Red, "4"),
];

fn indicator_id(n: &str) -> String {
    format!("indicator--00000000-0000-4000-8000-00000000000{n}")
}

/// A bundle with one IP indicator per TLP level (203.0.113.1 CLEAR … .4 RED), a relationship
/// from the GREEN indicator to the AMBER one, and an AMBER campaign.
fn tiered_bundle() -> Value {
    let mut objects = Vec::new();
    for (tlp, n) in LEVELS {
        objects.push(json!({
            "type": "indicator", "spec_version": "2.1", "id": indicator_id(n),
            "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
            "name": format!("tier {n}"), "pattern": format!("[ipv4-addr:value = '203.0.113.{n}']"),
            "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z",
            "confidence": 90, "object_marking_refs": [tlp_marking_id(tlp)],
        }));
    }
    objects.push(json!({
        "type": "campaign", "spec_version": "2.1",
        "id": "campaign--00000000-0000-4000-8000-0000000000c3",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "name": "Operation Amberlight", "object_marking_refs": [tlp_marking_id(Tlp::Amber)],
    }));
    objects.push(json!({
        "type": "relationship", "spec_version": "2.1",
        "id": "relationship--00000000-0000-4000-8000-0000000000a1",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "relationship_type": "related-to", "source_ref": indicator_id("2"),
        "target_ref": indicator_id("3"), "object_marking_refs": [tlp_marking_id(Tlp::Green)],
    }));
    json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001", "objects": objects})
}

/// A store with the tiered bundle and an AMBER list, as `vigil intel import` leaves it.
fn tiered_store(dir: &std::path::Path) {
    let bundle = dir.join("tiered.json");
    std::fs::write(&bundle, tiered_bundle().to_string()).unwrap();
    let list = dir.join("amber-list.txt");
    std::fs::write(&list, "198.51.100.77\nsecret-c2.example\n").unwrap();
    let dd = dir.join("data");
    for (path, tlp) in [(&bundle, "clear"), (&list, "amber")] {
        let o = util::vigil(&[
            "intel",
            "import",
            "--data-dir",
            dd.to_str().unwrap(),
            "--region",
            "eu",
            "--tlp",
            tlp,
            "--reliability",
            "A",
            "--no-warninglists",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", util::stderr(&o));
    }
}

/// Every value, id and name that only AMBER or RED may see.
fn withheld() -> Vec<String> {
    vec![
        "203.0.113.3".into(),
        "203.0.113.4".into(),
        indicator_id("3"),
        indicator_id("4"),
        "campaign--00000000-0000-4000-8000-0000000000c3".into(),
        "Operation Amberlight".into(),
        "relationship--00000000-0000-4000-8000-0000000000a1".into(),
        "198.51.100.77".into(),
        "secret-c2.example".into(),
        "amber-list".into(),
    ]
}

fn hub_with_tiers(dir: &tempfile::TempDir, extra: &[&str]) -> HubProcess {
    tiered_store(dir.path());
    let mut args = vec!["--no-warninglists"];
    args.extend_from_slice(extra);
    HubProcess::start(&dir.path().join("data"), "eu", &args)
}

/// Every page of /api/v1/indicators with `query`, as (bodies, items).
fn all_pages(hub: &HubProcess, token: &str, query: &str) -> (Vec<String>, Vec<Value>) {
    let mut bodies = Vec::new();
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut url = format!("{}/api/v1/indicators?limit=2{query}", hub.url);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = call("GET", &url, Some(token), None);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        items.extend(v["items"].as_array().unwrap().iter().cloned());
        bodies.push(r.body);
        match v["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (bodies, items),
        }
    }
    panic!("paging did not end");
}

#[test]
fn a_partner_cleared_for_green_never_sees_amber_or_red_through_any_rest_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let hub = hub_with_tiers(&dir, &[]);
    let partner = hub.token("acme", "partner", None);
    let analyst = hub.token("ana", "analyst", None);
    let edge = hub.token("sensor-1", "edge", None);

    // An AMBER alert exists too (a sensor hit on the AMBER list value).
    let eve = json!({"timestamp": "2026-11-30T10:00:00.000000+0000", "event_type": "alert",
        "src_ip": "10.0.0.5", "dest_ip": "198.51.100.77", "alert": {"signature_id": 1},
        "vigil": {"indicator": {"type": "ip", "value": "198.51.100.77"}, "confidence": 95}});
    let r = call(
        "POST",
        &format!("{}/api/v1/sightings", hub.url),
        Some(&edge),
        Some(("application/x-ndjson", eve.to_string().as_bytes())),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let mut bodies: Vec<(String, String)> = Vec::new();
    let (pages, items) = all_pages(&hub, &partner, "");
    bodies.extend(pages.into_iter().map(|b| ("indicators".to_string(), b)));
    let values: Vec<&str> = items.iter().map(|i| i["value"].as_str().unwrap()).collect();
    assert_eq!(
        values,
        ["203.0.113.1", "203.0.113.2"],
        "partner sees CLEAR and GREEN only"
    );
    // Asking for more than the clearance changes nothing.
    let (_, wider) = all_pages(&hub, &partner, "&max_tlp=red");
    assert_eq!(wider.len(), 2);

    let mut get = |what: &str, path: &str, want: u16| {
        let r = call("GET", &format!("{}{path}", hub.url), Some(&partner), None);
        assert_eq!(r.status, want, "{path}: {}", r.body);
        bodies.push((what.to_string(), r.body));
    };
    for hidden in [
        "203.0.113.3",
        "ip:203.0.113.4",
        &indicator_id("3"),
        &indicator_id("4"),
        "campaign--00000000-0000-4000-8000-0000000000c3",
        "relationship--00000000-0000-4000-8000-0000000000a1",
        "198.51.100.77",
    ] {
        // Withheld is indistinguishable from absent.
        get("show", &format!("/api/v1/indicators/{hidden}"), 404);
    }
    get(
        "show green",
        &format!("/api/v1/indicators/{}", indicator_id("2")),
        200,
    );
    get("stats", "/api/v1/stats", 200);
    get("sources", "/api/v1/sources", 200);
    get("alerts", "/api/v1/alerts", 200);
    for f in ["stix", "csv", "text", "suricata", "iprep"] {
        get(f, &format!("/api/v1/feeds/{f}?max_tlp=red"), 200);
    }
    get("dataset", "/api/v1/feeds/dataset?type=ip&max_tlp=red", 200);
    // Validation does not confirm that a withheld id exists.
    let doc = json!({"type": "relationship", "spec_version": "2.1",
        "id": "relationship--00000000-0000-4000-8000-0000000000f1",
        "created": "2026-11-01T00:00:00.000Z", "modified": "2026-11-01T00:00:00.000Z",
        "relationship_type": "related-to", "source_ref": indicator_id("2"), "target_ref": indicator_id("3")});
    let r = call(
        "POST",
        &format!("{}/api/v1/validate", hub.url),
        Some(&partner),
        Some(("application/json", doc.to_string().as_bytes())),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("dangling-reference"), "{}", r.body);

    for (what, body) in &bodies {
        for w in withheld() {
            assert!(!body.contains(&w), "{what} leaks {w:?}: {body}");
        }
    }
    let stats: Value = serde_json::from_str(
        &bodies
            .iter()
            .find(|(w, _)| w == "stats")
            .map(|(_, b)| b.clone())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stats["store"]["records"], 2, "{stats}");
    let tlps: Vec<&String> = stats["store"]["records_by_tlp"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert!(
        tlps.iter().all(|t| *t == "clear" || *t == "green"),
        "{tlps:?}"
    );
    assert_eq!(stats["store"]["by_type"].get("campaign"), None, "{stats}");
    let text = bodies.iter().find(|(w, _)| w == "text").unwrap();
    assert!(
        text.1.contains("203.0.113.2"),
        "the GREEN value is in the feed"
    );

    // An analyst (RED) sees all of it: the filter is the clearance, not the data.
    let (_, all) = all_pages(&hub, &analyst, "");
    assert_eq!(all.len(), 6, "{all:?}");
    let r = call(
        "GET",
        &format!("{}/api/v1/indicators/{}", hub.url, indicator_id("4")),
        Some(&analyst),
        None,
    );
    assert_eq!(r.status, 200);
    let r = call(
        "GET",
        &format!("{}/api/v1/alerts", hub.url),
        Some(&analyst),
        None,
    );
    assert!(r.body.contains("198.51.100.77"), "{}", r.body);
}

#[test]
fn roles_are_enforced_per_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let hub = hub_with_tiers(&dir, &[]);
    let tokens: Vec<(&str, String)> = ["admin", "analyst", "edge", "partner"]
        .iter()
        .map(|r| (*r, hub.token(&format!("t-{r}"), r, None)))
        .collect();
    let eve = br#"{"event_type":"flow","timestamp":"2026-11-30T10:00:00Z"}"#;
    let new = br#"{"value":"192.0.2.200"}"#;
    let tok = br#"{"name":"made-by-api","role":"edge"}"#;
    // (method, path, body, roles allowed)
    type Row<'a> = (&'a str, &'a str, Option<&'a [u8]>, &'a [&'a str]);
    let table: &[Row] = &[
        (
            "GET",
            "/api/v1/indicators",
            None,
            &["admin", "analyst", "edge", "partner"],
        ),
        (
            "GET",
            "/api/v1/stats",
            None,
            &["admin", "analyst", "edge", "partner"],
        ),
        (
            "POST",
            "/api/v1/indicators",
            Some(new),
            &["admin", "analyst"],
        ),
        (
            "POST",
            "/api/v1/indicators/bulk?format=text",
            Some(b"192.0.2.201\n"),
            &["admin", "analyst"],
        ),
        (
            "POST",
            "/api/v1/sightings",
            Some(eve),
            &["admin", "analyst", "edge"],
        ),
        ("GET", "/api/v1/tokens", None, &["admin"]),
        ("POST", "/api/v1/tokens", Some(tok), &["admin"]),
    ];
    for (method, path, body, allowed) in table {
        for (role, t) in &tokens {
            let r = call(
                method,
                &format!("{}{path}", hub.url),
                Some(t),
                body.map(|b| ("application/json", b)),
            );
            if allowed.contains(role) {
                assert!(
                    r.status == 200 || r.status == 201,
                    "{role} {method} {path}: {} {}",
                    r.status,
                    r.body
                );
            } else {
                assert_eq!(r.status, 403, "{role} {method} {path}: {}", r.body);
                assert_eq!(r.ctype, "application/problem+json");
            }
        }
    }
    // No token, and a revoked token: 401.
    let r = call("GET", &format!("{}/api/v1/indicators", hub.url), None, None);
    assert_eq!(r.status, 401);
    let admin = &tokens[0].1;
    let r = call(
        "DELETE",
        &format!("{}/api/v1/tokens/t-edge", hub.url),
        Some(admin),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(
        "GET",
        &format!("{}/api/v1/stats", hub.url),
        Some(&tokens[2].1),
        None,
    );
    assert_eq!(r.status, 401, "a revoked token stops working");
}

#[test]
fn sensors_report_eve_alerts_which_become_idempotent_sightings_of_known_indicators() {
    let dir = tempfile::tempdir().unwrap();
    let hub = hub_with_tiers(&dir, &[]);
    let edge = hub.token("sensor-7", "edge", None);
    let analyst = hub.token("ana", "analyst", None);
    let alert = |ip: &str, ts: &str| {
        json!({"timestamp": ts, "event_type": "alert", "src_ip": "10.1.1.1", "dest_ip": ip,
            "alert": {"signature_id": 2100000001u64, "signature": "VIGIL intel ip"},
            "vigil": {"indicator": {"type": "ip", "value": ip}, "confidence": 88}})
        .to_string()
    };
    let batch = [
        alert("198.51.100.77", "2026-11-30T10:00:00.000000+0000"),
        alert("198.51.100.77", "2026-11-30T10:05:00.000000+0000"),
        alert("192.0.2.99", "2026-11-30T10:06:00.000000+0000"),
        json!({"event_type": "flow", "timestamp": "2026-11-30T10:06:00Z"}).to_string(),
    ]
    .join("\n");
    let post = |body: &[u8]| {
        call(
            "POST",
            &format!("{}/api/v1/sightings", hub.url),
            Some(&edge),
            Some(("application/x-ndjson", body)),
        )
    };
    let r = post(batch.as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let rep = r.json();
    assert_eq!(rep["events"], 4);
    assert_eq!(rep["alerts"], 3);
    assert_eq!(rep["ignored"], 1);
    assert_eq!(rep["indicator_hits"], 2);
    assert_eq!(rep["unknown_indicators"], 1);
    assert_eq!(rep["sightings"], 1);

    let show = || {
        let r = call(
            "GET",
            &format!("{}/api/v1/indicators/ip:198.51.100.77", hub.url),
            Some(&analyst),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["records"][0].clone()
    };
    let rec = show();
    assert_eq!(rec["sightings"], 2, "{rec}");
    assert_eq!(
        rec["record"]["last_sighting"],
        vigil_intel::timestamp::parse_rfc3339("2026-11-30T10:05:00Z").unwrap()
    );
    // The same batch again (a sensor retrying) is the same sighting: counted once.
    assert_eq!(post(batch.as_bytes()).status, 200);
    assert_eq!(show()["sightings"], 2);

    // A batch with a malformed line is refused whole, naming the line.
    let bad = format!(
        "{}\n{{not json\n",
        alert("198.51.100.77", "2026-11-30T11:00:00Z")
    );
    let r = post(bad.as_bytes());
    assert_eq!(r.status, 400);
    assert_eq!(r.ctype, "application/problem+json");
    assert!(r.body.contains("line 2"), "{}", r.body);
    assert_eq!(show()["sightings"], 2);
    let r = call(
        "GET",
        &format!("{}/api/v1/alerts", hub.url),
        Some(&analyst),
        None,
    );
    assert_eq!(
        r.json()["items"].as_array().unwrap().len(),
        6,
        "two batches of three"
    );
}

#[test]
fn indicators_are_created_searched_and_paged() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(dir.path(), "eu", &["--no-warninglists"]);
    let analyst = hub.token("ana", "analyst", None);
    let url = format!("{}/api/v1/indicators", hub.url);
    for v in [
        "hxxp://evil[.]example/x",
        "192.0.2.10",
        "192.0.2.11",
        "bad.example",
    ] {
        let body = json!({"value": v, "confidence": 90, "reliability": "B2", "tlp": "green", "source": "desk"});
        let r = call(
            "POST",
            &url,
            Some(&analyst),
            Some(("application/json", body.to_string().as_bytes())),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let (_, items) = all_pages(&hub, &analyst, "");
    let values: Vec<&str> = items.iter().map(|i| i["value"].as_str().unwrap()).collect();
    assert_eq!(
        values,
        ["bad.example", "192.0.2.10", "192.0.2.11", "evil.example/x"],
        "(kind, value) order, refanged"
    );
    let (_, ips) = all_pages(&hub, &analyst, "&type=ip&prefix=192.0.2.1");
    assert_eq!(ips.len(), 2);
    let (_, one) = all_pages(&hub, &analyst, "&value=hxxp://evil[.]example/x");
    assert_eq!(one.len(), 1, "values are searched in canonical form");
    let (_, none) = all_pages(&hub, &analyst, "&source=other");
    assert!(none.is_empty());
    let (_, strong) = all_pages(&hub, &analyst, "&min_confidence=80");
    assert_eq!(strong.len(), 4, "B 0.9 x 90 = 81");
    for bad in [
        "type=ipv9",
        "limit=0",
        "limit=100000",
        "cursor=zzz",
        "since=yesterday",
        "min_confidence=101",
        "unknown=1",
    ] {
        let r = call("GET", &format!("{url}?{bad}"), Some(&analyst), None);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.ctype, "application/problem+json", "{bad}");
    }
}

#[test]
fn bad_bodies_are_problems_and_oversized_bodies_are_refused_storing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(
        dir.path(),
        "eu",
        &["--no-warninglists", "--max-body-bytes", "4096"],
    );
    let analyst = hub.token("ana", "analyst", None);
    let post = |path: &str, ct: &str, body: &[u8]| {
        call(
            "POST",
            &format!("{}{path}", hub.url),
            Some(&analyst),
            Some((ct, body)),
        )
    };
    let r = post("/api/v1/indicators", "application/json", b"{\"value\": ");
    assert_eq!(
        (r.status, r.ctype.as_str()),
        (400, "application/problem+json")
    );
    assert!(r.body.contains("line 1 column"), "{}", r.body);
    let r = post(
        "/api/v1/indicators",
        "application/json",
        b"{\"value\": \"x\", \"colour\": 1}",
    );
    assert_eq!(r.status, 400);
    assert!(r.body.contains("colour"), "{}", r.body);
    let big = "192.0.2.1\n".repeat(1000);
    let r = post(
        "/api/v1/indicators/bulk?format=text",
        "text/plain",
        big.as_bytes(),
    );
    assert_eq!(
        (r.status, r.ctype.as_str()),
        (413, "application/problem+json"),
        "{}",
        r.body
    );
    // An invalid STIX document is refused whole with every problem listed.
    let doc = json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000002", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000009",
         "created": "2026-11-01T00:00:00Z", "modified": "2026-11-01T00:00:00Z",
         "pattern": "[ipv4-addr:value = '192.0.2.5']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--bad",
         "pattern": "[ipv4-addr:value = ", "pattern_type": "stix"}]});
    let r = post(
        "/api/v1/indicators/bulk",
        "application/json",
        doc.to_string().as_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("objects[1]"), "{}", r.body);
    let r = call(
        "GET",
        &format!("{}/api/v1/stats", hub.url),
        Some(&analyst),
        None,
    );
    assert_eq!(r.json()["store"]["records"], 0, "nothing stored");
}

#[test]
fn sigterm_lets_an_accepted_import_finish_before_exit() {
    let dir = tempfile::tempdir().unwrap();
    let hub = HubProcess::start(dir.path(), "eu", &["--no-warninglists"]);
    let analyst = hub.token("ana", "analyst", None);
    let body: String = (0..150_000u32)
        .map(|i| format!("10.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255))
        .collect();
    let url = format!("{}/api/v1/indicators/bulk?format=text&source=big", hub.url);
    let t = analyst.clone();
    let upload = std::thread::spawn(move || {
        call(
            "POST",
            &url,
            Some(&t),
            Some(("text/plain", body.as_bytes())),
        )
    });
    // Wait until the import is being served (the scrape itself is the other request in flight).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let m = call("GET", &format!("{}/metrics", hub.url), Some(&analyst), None).body;
        if m.contains("vigil_http_in_flight 2") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never started"
        );
        std::thread::yield_now();
    }
    let data_dir = hub.data_dir.clone();
    let status = hub.stop();
    assert!(status.success(), "{status:?}");
    let r = upload.join().unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["summary"]["records_new"], 150_000);
    let o = util::vigil(&[
        "intel",
        "stats",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--region",
        "eu",
        "--format",
        "json",
    ]);
    let st: Value = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert_eq!(st["records"], 150_000);
}

#[test]
fn the_openapi_document_describes_every_route_and_schemathesis_finds_no_server_errors() {
    let dir = tempfile::tempdir().unwrap();
    let hub = hub_with_tiers(&dir, &[]);
    let admin = hub.token("root", "admin", None);
    let doc = call(
        "GET",
        &format!("{}/api/v1/openapi.json", hub.url),
        None,
        None,
    )
    .json();
    assert_eq!(doc["openapi"], "3.0.3");
    // Every documented operation is routed: without a token it is a 401, never a 404 or 405.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let p = path
                .replace("{id}", "x")
                .replace("{name}", "x")
                .replace("{format}", "text");
            let r = call(
                &method.to_uppercase(),
                &format!("{}{p}", hub.url),
                None,
                None,
            );
            let want = if path.ends_with("openapi.json") {
                200
            } else {
                401
            };
            assert_eq!(r.status, want, "{method} {path}");
        }
    }
    let Some(python) = util::python_peer() else {
        return;
    };
    let st = python.with_file_name("schemathesis");
    let out = std::process::Command::new(&st)
        .args(["run", &format!("{}/api/v1/openapi.json", hub.url)])
        .args(["-H", &format!("Authorization: Bearer {admin}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance",
        ])
        // Revoking the run's own token would end it early; the coverage phase trips a
        // Hypothesis bug on this Python (AST recursion), fuzzing and stateful phases do not.
        .args(["--exclude-method", "DELETE", "--phases", "fuzzing,stateful"])
        .args(["--max-examples", "25", "--workers", "2", "--seed", "1"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("schemathesis runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
