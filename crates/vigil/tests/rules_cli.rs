//! `vigil scan --rules` end to end on the demo capture: literal and fast-pattern rules,
//! thresholds applied in capture order, IP reputation from a suricata.yaml with paths relative
//! to it, and broken rule files (reported as file:line, the rest still loads; `--strict`
//! refuses).

mod util;

use std::path::Path;
use util::*;

const RULES: &str = r#"alert dns $HOME_NET any -> any any (msg:"C2 lookup"; dns.query; dotprefix; content:".evil-updates.example"; nocase; endswith; classtype:trojan-activity; metadata:mitre_technique_id T1071, confidence High; sid:9000001; rev:2;)
alert dns any any -> any any (msg:"broken" dns.query; content:"x"; sid:9000002;)
alert dns any any -> any any (msg:"any lookup, once per source"; dns.query; content:"."; threshold:type limit, track by_src, count 1, seconds 3600; sid:9000003;)
alert ip any any -> any any (msg:"bad resolver"; iprep:dst,BadDns,>,50; sid:9000004;)
"#;

fn setup(dir: &Path) -> (String, String, String) {
    std::fs::write(dir.join("demo.rules"), RULES).unwrap();
    std::fs::create_dir_all(dir.join("rep")).unwrap();
    std::fs::write(
        dir.join("rep/categories.txt"),
        "1,BadDns,Resolvers we distrust\n",
    )
    .unwrap();
    std::fs::write(dir.join("rep/hosts.list"), "192.0.2.53,1,90\n").unwrap();
    std::fs::write(
        dir.join("suricata.yaml"),
        "%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: \"[192.0.2.0/24]\"\n\
         reputation-categories-file: rep/categories.txt\n\
         default-reputation-path: rep\nreputation-files:\n  - hosts.list\n",
    )
    .unwrap();
    let pcap = repo().join("samples/pcaps/vigil-demo.pcap");
    (
        dir.join("demo.rules").display().to_string(),
        dir.join("suricata.yaml").display().to_string(),
        pcap.display().to_string(),
    )
}

#[test]
fn rules_alert_with_provenance_thresholds_and_reputation() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, cfg, pcap) = setup(dir.path());
    let o = vigil(&[
        "scan",
        "--rules",
        &rules,
        "--suricata-config",
        &cfg,
        "--eve-types",
        "alert",
        &pcap,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The broken rule is reported with file:line and the keyword context; the others load.
    let err = stderr(&o);
    assert!(err.contains("demo.rules:2:"), "{err}");
    let evs = events(&o);
    let by_sid = |sid: u64| -> Vec<&serde_json::Value> {
        evs.iter()
            .filter(|e| e["alert"]["signature_id"] == sid)
            .collect()
    };
    let c2 = by_sid(9000001);
    assert_eq!(c2.len(), 1, "{evs:?}");
    let a = c2[0];
    assert_eq!(a["dns"]["queries"][0]["rrname"], "c2.evil-updates.example");
    assert_eq!(a["alert"]["category"], "A Network Trojan was detected");
    assert_eq!(a["alert"]["severity"], 1);
    assert_eq!(a["vigil"]["source"], "demo.rules");
    assert_eq!(a["vigil"]["rule"]["line"], 1);
    assert_eq!(a["vigil"]["confidence"], 90);
    assert_eq!(a["vigil"]["attack"][0], "T1071");
    // Four lookups from one host, limited to one alert per source and hour.
    assert_eq!(by_sid(9000003).len(), 1);
    // IP-only reputation rule: first packet of each flow to the resolver.
    let rep = by_sid(9000004);
    assert!(!rep.is_empty());
    assert!(rep.iter().all(|e| e["dest_ip"] == "192.0.2.53"), "{rep:?}");
    // Thresholds run in capture order where events merge: the same output with 3 threads.
    let threaded = vigil(&[
        "scan",
        "--rules",
        &rules,
        "--suricata-config",
        &cfg,
        "--eve-types",
        "alert",
        "--threads",
        "3",
        &pcap,
    ]);
    assert_eq!(events(&threaded), evs);
}

#[test]
fn strict_refuses_a_rule_file_with_a_broken_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (rules, cfg, pcap) = setup(dir.path());
    let o = vigil(&[
        "scan",
        "--strict",
        "--rules",
        &rules,
        "--suricata-config",
        &cfg,
        &pcap,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("--strict") && err.contains("demo.rules:2:"),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn an_undefined_variable_or_missing_reputation_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, pcap) = setup(dir.path());
    let f = dir.path().join("v.rules");
    std::fs::write(
        &f,
        "alert ip $NOPE_NET any -> any any (msg:\"x\"; sid:1;)\nalert ip any any -> any any (iprep:src,BadDns,>,1; sid:2;)\n",
    )
    .unwrap();
    let o = vigil(&["scan", "--strict", "--rules", f.to_str().unwrap(), &pcap]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("NOPE_NET"), "{err}");
    assert!(err.contains("reputation"), "{err}");
}
