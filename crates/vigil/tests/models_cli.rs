//! The behaviour models through `vigil scan`: on by default, each one alerting on generated
//! traffic that shows its behaviour, quiet on the ordinary sample traffic, off with
//! `--no-models`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn scan(pcap: &Path, extra: &[&str]) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["scan", "--eve-types", "alert"])
        .args(extra)
        .arg(pcap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Model alerts by model name → sources alerted.
fn model_alerts(events: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in events {
        if let Some(model) = e["vigil"]["model"].as_str() {
            m.entry(model.to_string())
                .or_default()
                .push(e["src_ip"].as_str().unwrap_or_default().to_string());
        }
    }
    m
}

#[test]
fn every_model_alerts_on_its_behaviour_and_only_on_the_host_showing_it() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("behaviour.pcap");
    std::fs::write(&pcap, vigil_detect::synth::behaviour_capture()).unwrap();
    let events = scan(&pcap, &[]);
    let alerts = model_alerts(&events);
    let expect = [
        ("scan", "192.0.2.66"),
        ("beacon", "192.0.2.77"),
        ("dns-tunnel", "192.0.2.88"),
        ("dga", "192.0.2.99"),
    ];
    for (model, host) in expect {
        let srcs = alerts
            .get(model)
            .unwrap_or_else(|| panic!("no {model} alert in {alerts:?}"));
        assert!(srcs.iter().all(|s| s == host), "{model}: {srcs:?}");
    }
    for e in events.iter().filter(|e| e["vigil"]["model"].is_string()) {
        assert_eq!(e["event_type"], "alert");
        assert!(e["vigil"]["evidence"].is_object(), "{e}");
        let c = e["vigil"]["confidence"].as_u64().unwrap();
        assert!((1..=100).contains(&c), "{e}");
        assert!(e["alert"]["signature_id"].as_u64().unwrap() > 2_100_000_000);
    }
    // Same input, same model output, whatever the thread count.
    assert_eq!(scan(&pcap, &["--threads", "3"]), events);
    assert!(model_alerts(&scan(&pcap, &["--no-models"])).is_empty());
}

#[test]
fn models_stay_quiet_on_ordinary_traffic() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/pcaps");
    let events = scan(&samples, &[]);
    assert_eq!(model_alerts(&events), BTreeMap::new());
}

#[test]
fn a_models_file_can_disable_one_model() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("behaviour.pcap");
    std::fs::write(&pcap, vigil_detect::synth::behaviour_capture()).unwrap();
    let cfg = dir.path().join("models.toml");
    std::fs::write(&cfg, "[scan]\nenabled = false\n").unwrap();
    let alerts = model_alerts(&scan(&pcap, &["--models-config", cfg.to_str().unwrap()]));
    assert!(!alerts.contains_key("scan"), "{alerts:?}");
    assert!(alerts.contains_key("dga"), "{alerts:?}");
}
