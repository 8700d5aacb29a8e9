//! `vigil intel`: the threat-intelligence store through the real binary, with the reference
//! peers (stix2-validator, pymisp) reading what it publishes.
mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

use serde_json::Value;
use util::*;

fn intel(data: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["intel"];
    all.extend_from_slice(&args[..1]);
    all.extend_from_slice(&["--data-dir", data.to_str().unwrap()]);
    all.extend_from_slice(&args[1..]);
    vigil(&all)
}

fn ok(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

fn store_stats(data: &Path) -> Value {
    serde_json::from_str(&ok(&intel(data, &["stats", "--format", "json"]))).unwrap()
}

fn attack() -> std::path::PathBuf {
    shared().join("stix/attack/ics-attack-18.1.json")
}

fn objects_by_id(bundle: &Value) -> BTreeMap<String, Value> {
    bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_str().unwrap().to_string(), o.clone()))
        .collect()
}

#[test]
fn attack_for_ics_round_trips_whole_and_validator_clean() {
    let d = tempfile::tempdir().unwrap();
    let out = ok(&intel(
        d.path(),
        &[
            "import",
            attack().to_str().unwrap(),
            "--source",
            "mitre",
            "--tlp",
            "clear",
            "--json",
        ],
    ));
    let summary: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["imports"][0]["summary"]["objects_added"], 1826);

    let stats: Value = store_stats(d.path());
    assert_eq!(stats["by_type"]["campaign"], 8);
    assert_eq!(stats["by_type"]["relationship"], 1373);
    assert_eq!(stats["by_type"]["attack-pattern"], 95);

    let exported = d.path().join("attack-out.json");
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "stix",
            "--max-tlp",
            "clear",
            "-o",
            exported.to_str().unwrap(),
        ],
    ));
    let original: Value = serde_json::from_slice(&std::fs::read(attack()).unwrap()).unwrap();
    let back: Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    let (a, b) = (objects_by_id(&original), objects_by_id(&back));
    // Nothing lost: every object comes back with all its properties; the only addition is
    // the TLP:CLEAR marking the import gave unmarked objects (and its definition).
    for (id, o) in &a {
        let mut got = b.get(id).unwrap_or_else(|| panic!("{id} lost")).clone();
        if let Some(refs) = got
            .get_mut("object_marking_refs")
            .and_then(Value::as_array_mut)
        {
            refs.retain(|r| r != "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487");
            if refs.is_empty() {
                got.as_object_mut().unwrap().remove("object_marking_refs");
            }
        }
        if &got != o {
            let keys: Vec<&String> = o
                .as_object()
                .unwrap()
                .keys()
                .chain(got.as_object().unwrap().keys())
                .filter(|k| o.get(*k) != got.get(*k))
                .collect();
            panic!("{id} changed in {keys:?}");
        }
    }
    assert_eq!(
        b.len(),
        a.len() + 1,
        "only the TLP:CLEAR definition is added"
    );
    let meta: Value =
        serde_json::from_slice(&std::fs::read(d.path().join("attack-out.json.meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["count"], 1827);
    assert!(meta["content_hash"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    for o in back["objects"].as_array().unwrap() {
        if o["type"] != "marking-definition" {
            assert!(
                o["object_marking_refs"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty()),
                "{} unmarked",
                o["id"]
            );
        }
    }

    let Some(py) = python_peer() else { return };
    let report = run_python(
        &py,
        "import sys, json\nfrom stix2validator import validate_file, ValidationOptions\n\
         r = validate_file(sys.argv[1], ValidationOptions(version='2.1'))\n\
         print(json.dumps({'valid': r.is_valid, 'errors': [str(e) for o in r.object_results for e in o.errors]}))",
        &[exported.to_str().unwrap()],
    );
    let report: Value = serde_json::from_str(report.trim()).unwrap();
    assert_eq!(report["errors"], Value::Array(vec![]), "{report}");
    assert_eq!(report["valid"], true);
}

const BUNDLE: &str = r#"{"type":"bundle","id":"bundle--0f3e4a53-8d65-4b2a-9e2e-7a1c1f0b9d01","objects":[
 {"type":"indicator","spec_version":"2.1","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
  "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","name":"C2 domain",
  "pattern":"[domain-name:value = 'c2.evil.example'] OR [ipv4-addr:value = '203.0.113.7']",
  "pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","confidence":90,
  "object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]},
 {"type":"indicator","spec_version":"2.1","id":"indicator--b932fcc6-e032-476c-826f-cb970a5a1ade",
  "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",
  "pattern":"[url:value = 'http://Evil.Example:80/a/../Payload.exe']","pattern_type":"stix",
  "valid_from":"2026-01-01T00:00:00Z",
  "object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5ea8cb"]},
 {"type":"campaign","spec_version":"2.1","id":"campaign--c932fcc6-e032-476c-826f-cb970a5a1ade",
  "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Op Example",
  "object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
 {"type":"relationship","spec_version":"2.1","id":"relationship--d932fcc6-e032-476c-826f-cb970a5a1ade",
  "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","relationship_type":"indicates",
  "source_ref":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade","target_ref":"campaign--c932fcc6-e032-476c-826f-cb970a5a1ade",
  "object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}
]}"#;

#[test]
fn stix_round_trip_keeps_ids_markings_and_patterns_and_the_tlp_ceiling_holds() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("b.json");
    std::fs::write(&f, BUNDLE).unwrap();
    ok(&intel(
        d.path(),
        &["import", f.to_str().unwrap(), "--source", "partner"],
    ));
    let out = d.path().join("out.json");
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "stix",
            "--max-tlp",
            "red",
            "-o",
            out.to_str().unwrap(),
        ],
    ));
    let original: Value = serde_json::from_str(BUNDLE).unwrap();
    let back: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let (a, b) = (objects_by_id(&original), objects_by_id(&back));
    for (id, o) in &a {
        assert!(b.get(id) == Some(o), "{id} changed");
    }

    // Under a GREEN ceiling the AMBER indicator disappears, and so does the relationship that
    // pointed at it: no id of an AMBER object leaks.
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "stix",
            "--max-tlp",
            "green",
            "-o",
            out.to_str().unwrap(),
        ],
    ));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("indicator--a932fcc6"), "{text}");
    assert!(!text.contains("relationship--d932fcc6"), "{text}");
    assert!(text.contains("campaign--c932fcc6") && text.contains("indicator--b932fcc6"));
    let csv = ok(&intel(
        d.path(),
        &["export", "--format", "csv", "--max-tlp", "green"],
    ));
    assert!(
        !csv.contains("c2.evil.example") && !csv.contains("203.0.113.7"),
        "{csv}"
    );
    assert!(
        csv.contains("evil.example/Payload.exe"),
        "URL normalised, path case kept: {csv}"
    );

    // show explains the score.
    let shown: Value = serde_json::from_str(&ok(&intel(
        d.path(),
        &["show", "domain:C2.Evil.Example.", "--format", "json"],
    )))
    .unwrap();
    let rec = &shown["records"][0];
    assert_eq!(rec["value"], "c2.evil.example");
    assert!(
        rec["explanation"].as_str().unwrap().contains("decay"),
        "{rec}"
    );
    let by_id = ok(&intel(
        d.path(),
        &["show", "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"],
    ));
    assert!(
        by_id.contains("domain:c2.evil.example") && by_id.contains("ip:203.0.113.7"),
        "{by_id}"
    );
}

#[test]
fn a_bad_csv_line_rolls_back_the_whole_import_unless_skipped() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("feed.csv");
    std::fs::write(
        &f,
        "type,value\ndomain,good.example\nip,999.1.1.1\nip,192.0.2.10\n",
    )
    .unwrap();
    let o = intel(d.path(), &["import", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("feed.csv:3"), "{err}");
    let stats: Value = store_stats(d.path());
    assert_eq!(stats["records"], 0, "nothing imported");

    let o = intel(d.path(), &["import", f.to_str().unwrap(), "--skip-invalid"]);
    ok(&o);
    assert!(
        stderr(&o).contains("skipped: ") && stderr(&o).contains("feed.csv:3"),
        "{}",
        stderr(&o)
    );
    let stats: Value = store_stats(d.path());
    assert_eq!(stats["records"], 2);
}

#[test]
fn malformed_json_names_the_file_and_position() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("broken.json");
    std::fs::write(&f, "{\"type\": \"bundle\",\n \"objects\": [ {\"type\": }").unwrap();
    let o = intel(d.path(), &["import", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("broken.json:2:"), "{}", stderr(&o));

    // A well-formed bundle with one invalid object: refused whole, the object located.
    let f = d.path().join("badpattern.json");
    let bad = BUNDLE.replace("[url:value = ", "[url:value == = ");
    std::fs::write(&f, bad).unwrap();
    let o = intel(d.path(), &["import", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("objects[1].pattern"), "{}", stderr(&o));
    assert_eq!(
        store_stats(d.path())["by_type"],
        serde_json::json!({}),
        "nothing stored"
    );
    let o = intel(d.path(), &["import", f.to_str().unwrap(), "--skip-invalid"]);
    ok(&o);
    assert_eq!(store_stats(d.path())["by_type"]["campaign"], 1);
}

#[test]
fn duplicates_merge_across_sources_and_feeds_load_in_scan() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.txt");
    let b = d.path().join("b.csv");
    std::fs::write(
        &a,
        "hxxp://evil[.]example/x\n198.51.100.7\n10.1.2.0/24\nEVIL.example.\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "type,value,confidence\ndomain,evil.example,90\nip,198.51.100.7,40\n",
    )
    .unwrap();
    ok(&intel(
        d.path(),
        &[
            "import",
            a.to_str().unwrap(),
            "--reliability",
            "B",
            "--tlp",
            "green",
        ],
    ));
    ok(&intel(
        d.path(),
        &[
            "import",
            b.to_str().unwrap(),
            "--reliability",
            "C3",
            "--tlp",
            "clear",
        ],
    ));
    let shown: Value = serde_json::from_str(&ok(&intel(
        d.path(),
        &["show", "evil.example", "--format", "json"],
    )))
    .unwrap();
    let rec = &shown["records"][0]["record"];
    assert_eq!(
        rec["sources"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(rec["tlp"], "green", "the stricter marking wins");
    let stats: Value = store_stats(d.path());
    assert_eq!(stats["records"], 4);

    // Every indicator format loads in vigil scan.
    let rules = d.path().join("vigil.rules");
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "suricata",
            "-o",
            rules.to_str().unwrap(),
        ],
    ));
    let o = vigil(&["rules", "check", "--strict", rules.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let iprep = d.path().join("vigil.iprep");
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "iprep",
            "--type",
            "ip",
            "--type",
            "cidr",
            "-o",
            iprep.to_str().unwrap(),
        ],
    ));
    let dataset = d.path().join("domains.lst");
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "dataset",
            "--type",
            "domain",
            "-o",
            dataset.to_str().unwrap(),
        ],
    ));
    let yaml = d.path().join("suricata.yaml");
    std::fs::write(
        &yaml,
        format!(
            "%YAML 1.1\n---\nreputation-categories-file: {}\nreputation-files:\n  - {}\ndatasets:\n  vigil-domains:\n    type: string\n    load: {}\n",
            d.path().join("vigil.iprep.categories").display(),
            iprep.display(),
            dataset.display()
        ),
    )
    .unwrap();
    let iprep_rules = d.path().join("iprep.rules");
    std::fs::write(
        &iprep_rules,
        "alert ip any any -> any any (msg:\"iprep\"; iprep:any,VigilIntel,>,0; sid:1; rev:1;)\n\
         alert dns any any -> any any (msg:\"dataset\"; dns.query; dataset:isset,vigil-domains; sid:2; rev:1;)\n",
    )
    .unwrap();
    let o = vigil(&[
        "scan",
        "--strict",
        "--rules",
        rules.to_str().unwrap(),
        "--rules",
        iprep_rules.to_str().unwrap(),
        "--suricata-config",
        yaml.to_str().unwrap(),
        "samples/pcaps",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = d.path().join("feed.txt");
    ok(&intel(
        d.path(),
        &["export", "--format", "text", "-o", text.to_str().unwrap()],
    ));
    let o = vigil(&[
        "scan",
        "--strict",
        "--intel",
        text.to_str().unwrap(),
        "samples/pcaps",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back = std::fs::read_to_string(&text).unwrap();
    assert!(back.starts_with("# text feed generated by vigil"), "{back}");
    assert!(back.contains("evil.example/x") && back.contains("10.1.2.0/24"));
}

#[test]
fn scan_matches_against_the_store_directly() {
    let d = tempfile::tempdir().unwrap();
    let intel_dir = repo().join("samples/intel");
    ok(&intel(
        d.path(),
        &[
            "import",
            intel_dir.to_str().unwrap(),
            "--source",
            "samples",
            "--skip-invalid",
        ],
    ));
    let direct = vigil(&[
        "scan",
        "--intel",
        "samples/intel",
        "--eve-types",
        "alert",
        "samples/pcaps",
    ]);
    let via_db = vigil(&[
        "scan",
        "--intel-db",
        d.path().to_str().unwrap(),
        "--eve-types",
        "alert",
        "samples/pcaps",
    ]);
    assert!(via_db.status.success(), "{}", stderr(&via_db));
    let sigs = |o: &std::process::Output| -> BTreeSet<(String, String)> {
        events(o)
            .iter()
            .map(|e| {
                (
                    e["pcap_cnt"].to_string(),
                    e["vigil"]["indicator"]["value"].to_string(),
                )
            })
            .collect()
    };
    assert!(!sigs(&via_db).is_empty());
    assert_eq!(
        sigs(&via_db),
        sigs(&direct),
        "the store matches what the files match"
    );
}

/// A one-request-at-a-time HTTP server on 127.0.0.1: `/feed.txt` serves a list with an ETag
/// and honours If-None-Match; everything else is a 500.
fn serve(body: &'static str) -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        for _ in 0..6 {
            let Ok((mut s, _)) = l.accept() else { return };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let resp = if req.starts_with("GET /feed.txt") && req.contains("If-None-Match: \"v1\"")
            {
                "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 0\r\n\r\n".to_string()
            } else if req.starts_with("GET /feed.txt") {
                format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
            } else {
                "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_string()
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (format!("http://{addr}"), h)
}

#[test]
fn collect_runs_every_source_and_reports_each_failure() {
    let d = tempfile::tempdir().unwrap();
    let (base, _server) = serve("evil-http.example\n192.0.2.99\n");
    let local = d.path().join("local.txt");
    std::fs::write(&local, "local.example\n").unwrap();
    let sources = d.path().join("sources.toml");
    std::fs::write(
        &sources,
        format!(
            "[[source]]\nname = \"web\"\nurl = \"{base}/feed.txt\"\nformat = \"text\"\nreliability = \"B\"\ntlp = \"green\"\n\n\
             [[source]]\nname = \"broken\"\nurl = \"{base}/missing\"\n\n\
             [[source]]\nname = \"local\"\npath = \"local.txt\"\nschedule = \"1d\"\n"
        ),
    )
    .unwrap();
    let o = intel(d.path(), &["collect", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "one source failed");
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let by: BTreeMap<String, Value> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["source"].as_str().unwrap().to_string(), x.clone()))
        .collect();
    assert_eq!(by["web"]["status"], "imported");
    assert_eq!(by["web"]["summary"]["records_new"], 2);
    assert_eq!(by["broken"]["status"], "failed");
    assert!(
        by["broken"]["reason"].as_str().unwrap().contains("500"),
        "{}",
        by["broken"]
    );
    assert_eq!(by["local"]["status"], "imported");

    // Nothing is due an instant later; a named source runs anyway, and the web source's
    // ETag turns into a 304.
    let o = intel(d.path(), &["collect", "--format", "json", "web"]);
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["results"][0]["status"], "unchanged", "{r}");
    let o = intel(d.path(), &["collect", "--format", "json", "local"]);
    ok(&o);
    let stats: Value = store_stats(d.path());
    assert_eq!(stats["records_by_source"]["web"], 2);
    assert_eq!(stats["records_by_source"]["local"], 1);

    // A URL straight on the command line.
    let o = intel(
        d.path(),
        &[
            "import",
            &format!("{base}/feed.txt"),
            "--format",
            "text",
            "--json",
        ],
    );
    let r: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(r["imports"][0]["source"], "feed");
    assert_eq!(r["imports"][0]["summary"]["records_merged"], 2);

    let bad = d.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[source]]\nname = \"x\"\nurl = \"ftp://a\"\nbogus = 1\n",
    )
    .unwrap();
    let o = vigil(&[
        "intel",
        "collect",
        "--sources",
        bad.to_str().unwrap(),
        "--data-dir",
        d.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.toml") && stderr(&o).contains("bogus"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn imports_flag_values_on_warninglists() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("fp.txt");
    std::fs::write(&f, "8.8.8.8\n10.1.2.3\nrare-evil-host.example\n").unwrap();
    let out: Value = serde_json::from_str(&ok(&intel(
        d.path(),
        &["import", f.to_str().unwrap(), "--json"],
    )))
    .unwrap();
    assert_eq!(out["imports"][0]["false_positive_risk"], 2, "{out}");
    let shown: Value = serde_json::from_str(&ok(&intel(
        d.path(),
        &["show", "10.1.2.3", "--format", "json"],
    )))
    .unwrap();
    let lists: Vec<&str> = shown["records"][0]["warninglists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        lists.contains(&"rfc1918"),
        "CIDR membership, not string equality: {lists:?}"
    );
}

#[test]
fn misp_event_to_store_to_misp_feed_read_back_by_pymisp() {
    let d = tempfile::tempdir().unwrap();
    let event = repo().join("crates/vigil-intel/tests/data/misp/event.json");
    ok(&intel(
        d.path(),
        &[
            "import",
            event.to_str().unwrap(),
            "--source",
            "misp-partner",
            "--skip-invalid",
        ],
    ));
    let stats: Value = store_stats(d.path());
    assert_eq!(stats["by_type"]["report"], 1, "{stats}");
    let feed = d.path().join("feed");
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "misp",
            "--max-tlp",
            "red",
            "-o",
            feed.to_str().unwrap(),
        ],
    ));
    assert!(feed.join("vigil-feed.json").is_file());
    // Every value Vigil can match comes back, in canonical form.
    let back = vigil_intel::misp::read_feed_dir(&feed).unwrap();
    let values: BTreeSet<String> = back
        .objects
        .iter()
        .filter_map(|o| o["pattern"].as_str().map(str::to_string))
        .collect();
    let joined = values.iter().cloned().collect::<Vec<_>>().join("\n");
    for v in [
        "198.51.100.23",
        "invoice-portal.example",
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "d41d8cd98f00b204e9800998ecf8427e",
        "203.0.113.7",
        "e7d705a3286e19ea42f587b344ee6865",
        "2001:db8::bad:1",
    ] {
        assert!(joined.contains(v), "{v} lost: {joined}");
    }
    let Some(py) = python_peer() else { return };
    let out = std::process::Command::new(&py)
        .arg(repo().join("scripts/misp-feed-oracle.py"))
        .arg(&feed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pymisp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    let attrs: Vec<&Value> = read
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap())
        .collect();
    assert!(
        attrs
            .iter()
            .any(|a| a[0] == "ip-dst" && a[1] == "198.51.100.23"),
        "{read}"
    );
    assert!(
        attrs.iter().any(|a| a[0] == "ja3-fingerprint-md5"),
        "{read}"
    );
    assert!(attrs.len() >= 7, "{read}");
}

#[test]
fn stix_2_0_is_upgraded_on_import_and_exports_as_valid_2_1() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("old.json");
    std::fs::write(
        &f,
        r#"{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","spec_version":"2.0","objects":[
          {"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z",
           "modified":"2016-04-06T20:03:48.000Z","labels":["malicious-activity"],"name":"Poison Ivy C2",
           "pattern":"[ipv4-addr:value = '10.0.0.1']","valid_from":"2016-01-01T00:00:00Z"},
          {"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z",
           "modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","labels":["remote-access-trojan"]}]}"#,
    )
    .unwrap();
    let out: Value = serde_json::from_str(&ok(&intel(
        d.path(),
        &["import", f.to_str().unwrap(), "--tlp", "green", "--json"],
    )))
    .unwrap();
    assert_eq!(out["imports"][0]["upgraded"], 2, "{out}");
    let shown: Value = serde_json::from_str(&ok(&intel(
        d.path(),
        &[
            "show",
            "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    let m = &shown["object"];
    assert_eq!(
        (m["spec_version"].as_str(), m["is_family"].as_bool()),
        (Some("2.1"), Some(true))
    );
    assert_eq!(m["malware_types"][0], "remote-access-trojan");
    let exported = d.path().join("new.json");
    ok(&intel(
        d.path(),
        &[
            "export",
            "--format",
            "stix",
            "-o",
            exported.to_str().unwrap(),
        ],
    ));
    let o = vigil(&[
        "intel",
        "validate",
        "--no-warninglists",
        "--format",
        "json",
        exported.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(report["summary"]["invalid"], 0, "{report}");
    assert_eq!(
        report["summary"]["objects"], 3,
        "indicator, malware, TLP:GREEN definition: {report}"
    );
}

#[test]
fn export_filters_by_source_type_confidence_and_age() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.csv");
    let b = d.path().join("b.txt");
    std::fs::write(&a, "type,value,confidence\ndomain,sure.example,95\ndomain,unsure.example,20\nip,192.0.2.44,95\n").unwrap();
    std::fs::write(&b, "other.example\n").unwrap();
    ok(&intel(
        d.path(),
        &["import", a.to_str().unwrap(), "--tlp", "clear"],
    ));
    ok(&intel(
        d.path(),
        &["import", b.to_str().unwrap(), "--tlp", "clear"],
    ));
    let text = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["export", "--format", "text"];
        all.extend_from_slice(args);
        ok(&intel(d.path(), &all))
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(text(&["--source", "b"]), ["other.example"]);
    assert_eq!(
        text(&[
            "--source",
            "a",
            "--type",
            "domain",
            "--min-confidence",
            "90"
        ]),
        ["sure.example"]
    );
    assert_eq!(text(&["--since", "1d"]).len(), 4);
    let o = intel(
        d.path(),
        &["export", "--format", "text", "--type", "campaign"],
    );
    assert_eq!(o.status.code(), Some(2), "object types only apply to STIX");
    let o = intel(d.path(), &["export", "--format", "dataset"]);
    assert_eq!(o.status.code(), Some(2), "a dataset holds one data type");
    assert!(stderr(&o).contains("--type"), "{}", stderr(&o));
}
