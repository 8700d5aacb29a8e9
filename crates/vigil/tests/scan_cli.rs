//! The `vigil scan` command-line contract, driven through the real binary.

mod util;
use std::collections::BTreeSet;
use std::io::Write;
use util::*;

const DEMO: &str = "samples/pcaps/vigil-demo.pcap";

fn alert_fields(evs: &[serde_json::Value]) -> BTreeSet<(String, String, String)> {
    of_type(evs, "alert")
        .iter()
        .map(|a| {
            let v = &a["vigil"];
            (
                v["matched_field"].as_str().unwrap().to_string(),
                v["indicator"]["type"].as_str().unwrap().to_string(),
                v["indicator"]["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn demo_capture_raises_one_alert_per_listed_indicator_and_field() {
    let o = vigil(&["scan", "--intel", "samples/intel", DEMO]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let evs = events(&o);
    let got = alert_fields(&evs);
    let want: BTreeSet<(String, String, String)> = [
        ("dns.query", "domain", "evil-updates.example"),
        ("dns.query", "domain", "phish-bank.example"),
        ("dns.answers.rdata", "ip", "203.0.113.66"),
        ("dns.answers.rdata", "cidr", "203.0.113.64/27"),
        ("tls.sni", "domain", "phish-bank.example"),
        ("dest_ip", "cidr", "203.0.113.64/27"),
        ("dest_ip", "ip", "203.0.113.66"),
        (
            "http.url",
            "url",
            "dl.malware-drop.example/payload/stage2.bin",
        ),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);

    // Alerts carry Suricata's common fields and Vigil's provenance block.
    let sni = of_type(&evs, "alert")
        .into_iter()
        .find(|a| a["vigil"]["matched_field"] == "tls.sni")
        .unwrap();
    for k in [
        "timestamp",
        "flow_id",
        "pcap_cnt",
        "src_ip",
        "src_port",
        "dest_ip",
        "dest_port",
        "proto",
        "app_proto",
        "community_id",
    ] {
        assert!(!sni[k].is_null(), "alert lacks {k}: {sni}");
    }
    assert_eq!(sni["dest_port"], 443);
    assert_eq!(sni["app_proto"], "tls");
    assert_eq!(sni["tls"]["sni"], "login.phish-bank.example");
    for k in [
        "action",
        "gid",
        "signature_id",
        "rev",
        "signature",
        "category",
        "severity",
        "metadata",
    ] {
        assert!(!sni["alert"][k].is_null(), "alert block lacks {k}");
    }
    assert_eq!(sni["vigil"]["confidence"], 85);
    assert_eq!(sni["alert"]["severity"], 1);
    assert_eq!(sni["vigil"]["source"], "demo-bundle.json");
    assert_eq!(
        sni["vigil"]["indicator"]["id"],
        "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    );

    // The alert's flow_id and community_id are those of the flow event for the same flow.
    let flow = of_type(&evs, "flow")
        .into_iter()
        .find(|f| f["flow_id"] == sni["flow_id"])
        .unwrap();
    assert_eq!(flow["community_id"], sni["community_id"]);
    assert_eq!(flow["flow"]["alerted"], true);
}

#[test]
fn app_layer_events_use_suricata_field_names() {
    let o = vigil(&["scan", DEMO]);
    assert_eq!(o.status.code(), Some(0));
    let evs = events(&o);
    let dns = of_type(&evs, "dns");
    assert!(dns
        .iter()
        .any(|d| d["dns"]["queries"][0]["rrname"] == "www.wikipedia.org"));
    let resp = dns.iter().find(|d| d["dns"]["type"] == "response").unwrap();
    assert_eq!(resp["dns"]["rcode"], "NOERROR");
    assert_eq!(resp["dns"]["answers"][0]["rrtype"], "A");
    let tls = of_type(&evs, "tls");
    assert_eq!(tls.len(), 2);
    for t in &tls {
        assert_eq!(t["tls"]["ja3"]["hash"].as_str().unwrap().len(), 32);
        assert!(t["tls"]["ja3s"]["hash"].is_string());
        assert!(t["tls"]["ja4"].as_str().unwrap().starts_with("t13d"));
    }
    let http = of_type(&evs, "http");
    assert_eq!(http.len(), 2, "pipelined requests are two transactions");
    assert_eq!(http[0]["http"]["hostname"], "dl.malware-drop.example");
    assert_eq!(http[0]["http"]["url"], "/payload/./stage2.bin");
    assert_eq!(http[0]["http"]["http_method"], "GET");
    assert_eq!(http[0]["http"]["http_user_agent"], "curl/8.5.0");
    assert_eq!(http[0]["http"]["status"], 200);
    assert_eq!(http[0]["http"]["length"], 10);
    assert_eq!(http[1]["http"]["status"], 404);
    let stats = of_type(&evs, "stats");
    assert_eq!(stats.len(), 1);
    assert!(stats[0]["stats"]["decoder"]["pkts"].as_u64().unwrap() > 30);
}

#[test]
fn output_is_byte_identical_for_any_thread_count() {
    let mut inputs = vec!["samples/pcaps".to_string()];
    let sv = shared().join("suricata-verify/tests");
    if sv.exists() {
        inputs.push(sv.display().to_string());
    }
    let run = |threads: &str| {
        let mut args = vec!["scan", "--intel", "samples/intel", "--threads", threads];
        args.extend(inputs.iter().map(String::as_str));
        let o = vigil(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o.stdout
    };
    let one = run("1");
    assert!(one.len() > 10_000);
    for t in ["2", "3", "7"] {
        assert!(run(t) == one, "--threads {t} changed the output");
    }
}

#[test]
fn eve_types_narrows_the_output() {
    let o = vigil(&[
        "scan",
        "--intel",
        "samples/intel",
        "--eve-types",
        "alert,stats",
        DEMO,
    ]);
    let evs = events(&o);
    let types: BTreeSet<&str> = evs
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, BTreeSet::from(["alert", "stats"]));
    let bad = vigil(&["scan", "--eve-types", "alert,smtp", DEMO]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("smtp"));
}

#[test]
fn table_format_and_stats_are_for_people() {
    let o = vigil(&[
        "scan",
        "--intel",
        "samples/intel",
        "--format",
        "table",
        "--stats",
        DEMO,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("alerts:"), "{out}");
    assert!(out.contains("tls.sni"));
    let err = stderr(&o);
    for k in [
        "packets:",
        "bytes:",
        "flows:",
        "alerts:",
        "skipped:",
        "packets/s:",
    ] {
        assert!(err.contains(k), "--stats lacks {k}: {err}");
    }
}

#[test]
fn stdin_and_output_file_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eve.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args([
            "scan",
            "--intel",
            "samples/intel",
            "-o",
            out.to_str().unwrap(),
            "-",
        ])
        .current_dir(repo())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let data = std::fs::read(repo().join(DEMO)).unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    assert!(child.wait().unwrap().success());
    let from_stdin = std::fs::read(&out).unwrap();
    let from_file = vigil(&["scan", "--intel", "samples/intel", DEMO]).stdout;
    assert_eq!(from_stdin, from_file);
}

#[test]
fn unreadable_input_exits_2_and_names_the_file() {
    let o = vigil(&["scan", "no/such/file.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/file.pcap"));

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture file at all").unwrap();
    let o = vigil(&["scan", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("junk.pcap"), "{}", stderr(&o));

    let o = vigil(&["scan", "--rules", "x.rules", DEMO]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "reserved options are refused, not ignored"
    );
    let o = vigil(&["scan"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn truncated_capture_keeps_what_it_could_and_reports_the_offset() {
    let data = std::fs::read(repo().join(DEMO)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &data[..data.len() * 2 / 3]).unwrap();
    let o = vigil(&["scan", "--intel", "samples/intel", cut.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a damaged capture still completes"
    );
    let err = stderr(&o);
    assert!(
        err.contains("cut.pcap") && err.contains("byte offset"),
        "{err}"
    );
    let evs = events(&o);
    assert!(
        !of_type(&evs, "alert").is_empty(),
        "alerts before the damage are kept"
    );
}

#[test]
fn bad_intel_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"type\": \"bundle\", \"objects\": [ {\"type\": \"indicator\",, ]}",
    )
    .unwrap();
    let o = vigil(&["scan", "--intel", bad.to_str().unwrap(), DEMO]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("bad.json:1:"),
        "error names file and line: {err}"
    );
}

#[test]
fn flow_table_is_bounded_and_evictions_are_counted() {
    use vigil_detect::pcap::Timestamp;
    use vigil_detect::synth::{udp_frame, PcapWriter};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many-flows.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap(), 1).unwrap();
    let (a, b) = (
        "192.0.2.1".parse().unwrap(),
        "198.51.100.1".parse().unwrap(),
    );
    for i in 0..5000u32 {
        let ts = Timestamp::from_micros(1_700_000_000_000_000 + i64::from(i) * 100);
        let sport = 10_000 + (i % 50_000) as u16;
        w.write(ts, &udp_frame(a, b, sport, 9999, b"x")).unwrap();
    }
    drop(w);
    let o = vigil(&[
        "scan",
        "--max-flows",
        "1024",
        "--eve-types",
        "flow,stats",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let evs = events(&o);
    let stats = &of_type(&evs, "stats")[0]["stats"];
    let evicted = stats["flow"]["evicted"].as_u64().unwrap();
    assert!(evicted > 0, "5000 flows do not fit in 1024 slots");
    let flows = of_type(&evs, "flow");
    assert_eq!(flows.len(), 5000, "every flow is logged exactly once");
    let forced = flows
        .iter()
        .filter(|f| f["flow"]["reason"] == "forced")
        .count() as u64;
    assert_eq!(
        forced, evicted,
        "each eviction is visible as a forced flow end"
    );
    assert_eq!(stats["flow"]["total"], 5000);
}

#[test]
fn ipv4_fragments_are_reassembled_before_inspection() {
    use vigil_detect::pcap::Timestamp;
    use vigil_detect::synth::{dns_query, ipv4_fragments, PcapWriter};
    let q = dns_query(0x4242, "c2.evil-updates.example", 1);
    let mut udp = Vec::new();
    udp.extend_from_slice(&5353u16.to_be_bytes());
    udp.extend_from_slice(&53u16.to_be_bytes());
    udp.extend_from_slice(&((8 + q.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(&q);
    let (src, dst) = ("192.0.2.7".parse().unwrap(), "192.0.2.53".parse().unwrap());
    let mut frags = ipv4_fragments(src, dst, 17, 77, &udp, 16);
    assert!(frags.len() >= 3);
    frags.reverse(); // last fragment first
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frag.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap(), 1).unwrap();
    for (i, f) in frags.iter().enumerate() {
        w.write(Timestamp::from_micros(1_700_000_000_000_000 + i as i64), f)
            .unwrap();
    }
    drop(w);
    let o = vigil(&["scan", "--intel", "samples/intel", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let evs = events(&o);
    let dns = of_type(&evs, "dns");
    assert_eq!(dns.len(), 1);
    assert_eq!(
        dns[0]["dns"]["queries"][0]["rrname"],
        "c2.evil-updates.example"
    );
    assert_eq!(of_type(&evs, "alert").len(), 1);
    let dec = &of_type(&evs, "stats")[0]["stats"]["decoder"];
    assert_eq!(dec["ipv4_fragments"].as_u64().unwrap(), frags.len() as u64);
    assert_eq!(dec["ipv4_reassembled"], 1);
}

#[test]
fn pcapng_and_nanosecond_pcap_give_the_same_events_as_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let demo = repo().join(DEMO);
    let want = vigil(&["scan", "--intel", "samples/intel", demo.to_str().unwrap()]).stdout;
    for (flag, name) in [("pcapng", "demo.pcapng"), ("nsecpcap", "demo-ns.pcap")] {
        let out = dir.path().join(name);
        let st = std::process::Command::new("editcap")
            .args(["-F", flag, demo.to_str().unwrap(), out.to_str().unwrap()])
            .status()
            .expect("editcap (from tshark's packages) runs");
        assert!(st.success());
        let got = vigil(&["scan", "--intel", "samples/intel", out.to_str().unwrap()]);
        assert_eq!(got.status.code(), Some(0), "{}", stderr(&got));
        assert!(got.stdout == want, "{name} differs from the pcap");
    }
}

#[test]
fn checksums_are_ignored_by_default_and_verified_on_request() {
    // The demo capture is generated without checksums, like an offloading host's capture.
    let off = events(&vigil(&["scan", "--eve-types", "stats", DEMO]));
    let on = events(&vigil(&[
        "scan",
        "--verify-checksums",
        "--eve-types",
        "stats",
        DEMO,
    ]));
    let dec = |e: &[serde_json::Value]| e[0]["stats"]["decoder"].clone();
    assert_eq!(dec(&off)["invalid_checksum"], 0);
    assert_eq!(dec(&on)["invalid_checksum"], dec(&on)["pkts"]);
    // A capture off the wire keeps every packet either way.
    let real = "samples/pcaps/zeek/http/get.pcap";
    let on = events(&vigil(&[
        "scan",
        "--verify-checksums",
        "--eve-types",
        "stats",
        real,
    ]));
    assert_eq!(dec(&on)["invalid_checksum"], 0);
}
