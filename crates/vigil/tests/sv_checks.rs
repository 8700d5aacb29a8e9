//! Unit tests of the suricata-verify harness's semantics (tests/sv): upstream
//! run.py's filter matching, version and feature requirements, and the
//! test.yaml → plan step, on hand-written records and test directories.

mod sv;

use std::path::Path;
use sv::filter::{self, count_matches, find_value, match_event, py_eq, py_float, py_str, Val};
use sv::spec::{self, Action, CheckPlan, Rules, Unmet, VersionOp};

fn json(s: &str) -> Val {
    Val::from_json(&serde_json::from_str(s).unwrap())
}

fn yaml(s: &str) -> Val {
    Val::parse_yaml(s).unwrap()
}

/// `match:` conditions from YAML text.
fn conds(s: &str) -> Vec<(String, Val)> {
    filter::conditions(&yaml(s)).unwrap()
}

fn matches(match_yaml: &str, record: &str) -> bool {
    match_event(&conds(match_yaml), &json(record)).unwrap()
}

const ALERT: &str = r#"{
  "event_type": "alert", "src_ip": "10.0.0.1", "src_port": 80, "dest_port": 1030,
  "pcap_cnt": 11, "tx_id": 0, "payload_printable": "GET /index.html",
  "alert": {"signature_id": 2, "signature": "ET POLICY testmyids", "rev": 1,
            "metadata": {"tag": ["tag1", "tag2"], "created_at": ["2018-01-30"]},
            "nothing": null, "score": 2.5},
  "verdict": {"action": "alert", "reject": ["icmp-prohib"]},
  "flow": {"alerted": true, "pkts_toserver": 3, "exception_policy": [{"target": "stream_midstream", "policy": "ignore"}]},
  "dns": {"queries": [{"rrname": "example.com"}, {"rrname": "b.example"}]}
}"#;

// ---- dotted paths -------------------------------------------------------

#[test]
fn dotted_paths_and_array_indexes() {
    let r = json(ALERT);
    assert!(py_eq(
        &find_value("alert.signature_id", &r).unwrap(),
        &Val::Int(2)
    ));
    assert!(py_eq(
        &find_value("dns.queries[1].rrname", &r).unwrap(),
        &Val::Str("b.example".into())
    ));
    assert!(py_eq(
        &find_value("flow.exception_policy[0].policy", &r).unwrap(),
        &Val::Str("ignore".into())
    ));
    // Out of range, missing key, walking into a scalar, indexing an object: None.
    assert!(find_value("dns.queries[2].rrname", &r).is_none());
    assert!(find_value("alert.nope", &r).is_none());
    assert!(find_value("src_port.x", &r).is_none());
    assert!(find_value("alert[0]", &r).is_none());
    // A string is indexed by character, as in Python.
    assert!(py_eq(
        &find_value("alert.signature[1]", &r).unwrap(),
        &Val::Str("T".into())
    ));
    assert!(matches("dns.queries[0].rrname: example.com", ALERT));
    assert!(!matches("dns.queries[0].rrname: b.example", ALERT));
}

#[test]
fn every_condition_must_hold() {
    assert!(matches(
        "{event_type: alert, alert.signature_id: 2, src_ip: 10.0.0.1, src_port: 80}",
        ALERT
    ));
    assert!(!matches(
        "{event_type: alert, alert.signature_id: 2, src_port: 81}",
        ALERT
    ));
    assert!(!matches("{event_type: dns}", ALERT));
    // An empty match matches every record.
    assert!(matches("{}", ALERT));
}

// ---- equality: Python == between the YAML and the JSON value -------------

#[test]
fn equality_follows_python() {
    // int == int; a YAML string never equals a JSON number, nor the reverse.
    assert!(matches("alert.signature_id: 2", ALERT));
    assert!(!matches("alert.signature_id: \"2\"", ALERT));
    assert!(!matches("src_ip: 10", r#"{"src_ip": "10"}"#));
    // int == float when equal in value.
    assert!(matches("alert.signature_id: 2.0", ALERT));
    assert!(matches("alert.score: 2.5", ALERT));
    assert!(!matches("alert.score: 2", ALERT));
    // bool: True == 1 in Python, and true != "true".
    assert!(matches("flow.alerted: true", ALERT));
    assert!(matches("flow.alerted: 1", ALERT));
    assert!(!matches("flow.alerted: 2", ALERT));
    assert!(!matches("flow.alerted: \"true\"", ALERT));
    assert!(matches("tx_id: false", ALERT)); // 0 == False
                                             // null matches a missing key and a JSON null, nothing else.
    assert!(matches("alert.missing: null", ALERT));
    assert!(matches("alert.nothing: null", ALERT));
    assert!(!matches("alert.signature_id: null", ALERT));
    assert!(!matches("alert.missing: 0", ALERT));
    // Lists and mappings compare element by element.
    assert!(matches("verdict.reject: [icmp-prohib]", ALERT));
    assert!(!matches("verdict.reject: [icmp-prohib, tcp-reset]", ALERT));
    assert!(!matches("verdict.reject: icmp-prohib", ALERT));
    assert!(matches(
        "alert.metadata: {created_at: [\"2018-01-30\"], tag: [tag1, tag2]}",
        ALERT
    ));
    assert!(!matches("alert.metadata: {tag: [tag1, tag2]}", ALERT));
}

#[test]
fn yaml11_booleans_when_unquoted() {
    // PyYAML (YAML 1.1) reads a plain `yes` as True; quoted it stays a string.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.pcap"), b"").unwrap();
    std::fs::write(
        dir.path().join("test.yaml"),
        "checks:\n  - filter:\n      count: 1\n      match:\n        event_type: alert\n        flow.alerted: yes\n        alert.label: \"no\"\n",
    )
    .unwrap();
    let plan = spec::plan(dir.path());
    let CheckPlan::Evaluate(f) = &plan.checks[0] else {
        panic!("{:?}", plan.checks)
    };
    let get = |k: &str| f.conditions.iter().find(|(c, _)| c == k).unwrap().1.clone();
    assert!(matches!(get("flow.alerted"), Val::Bool(true)));
    assert!(matches!(get("alert.label"), Val::Str(s) if s == "no"));
}

// ---- has-key / not-has-key ------------------------------------------------

#[test]
fn has_key_and_not_has_key() {
    assert!(matches("has-key: alert.metadata.tag", ALERT));
    assert!(!matches("has-key: alert.engine", ALERT));
    assert!(matches("not-has-key: alert.engine", ALERT));
    assert!(!matches("not-has-key: flow", ALERT));
    // A JSON null counts as absent.
    assert!(!matches("has-key: alert.nothing", ALERT));
    assert!(matches("not-has-key: alert.nothing", ALERT));
    // Lists: every key present / every key absent.
    assert!(matches("has-key: [flow, dns, alert.rev]", ALERT));
    assert!(!matches("has-key: [flow, http]", ALERT));
    assert!(matches("not-has-key: [http, alert.rule]", ALERT));
    assert!(!matches("not-has-key: [http, flow]", ALERT));
    // A key name that is not a string is an error (Python raises), not a miss.
    assert!(match_event(&conds("has-key: 5"), &json(ALERT)).is_err());
}

// ---- suffix operators -----------------------------------------------------

#[test]
fn len_operator() {
    assert!(matches("alert.metadata.tag.__len: 2", ALERT));
    assert!(!matches("alert.metadata.tag.__len: 1", ALERT));
    assert!(matches("alert.signature.__len: 19", ALERT)); // characters
    assert!(matches("alert.metadata.__len: 2", ALERT)); // keys
    assert!(matches("src_port.__len: -1", ALERT)); // no length
    assert!(!matches("alert.missing.__len: -1", ALERT)); // missing stays None
    assert!(matches("dns.queries.__len.__gt: 1", ALERT));
    assert!(!matches("dns.queries.__len.__gt: 2", ALERT));
}

#[test]
fn string_operators() {
    assert!(matches("payload_printable.__find: index", ALERT));
    assert!(!matches("payload_printable.__find: INDEX", ALERT));
    assert!(matches("alert.signature.__startswith: ET POLICY", ALERT));
    assert!(!matches("alert.signature.__startswith: POLICY", ALERT));
    assert!(matches("alert.signature.__endswith: testmyids", ALERT));
    assert!(!matches("alert.signature.__endswith: ET", ALERT));
    // Python str() of the value: numbers and booleans too.
    assert!(matches("pcap_cnt.__startswith: 1", ALERT));
    assert!(matches("pcap_cnt.__endswith: 11", ALERT));
    assert!(matches("flow.alerted.__find: Tru", ALERT));
    // Missing value: never.
    assert!(!matches("alert.missing.__find: \"\"", ALERT));
    // The operator must be its own dotted part.
    assert!(!matches("payload_printable__find: index", ALERT));
}

#[test]
fn contains_operator() {
    // Substring of a string, member of a list, key of an object.
    assert!(matches("payload_printable.__contains: /index", ALERT));
    assert!(!matches("payload_printable.__contains: /other", ALERT));
    assert!(matches("alert.metadata.tag.__contains: tag2", ALERT));
    assert!(!matches("alert.metadata.tag.__contains: tag", ALERT));
    assert!(matches("alert.metadata.__contains: created_at", ALERT));
    assert!(!matches("alert.metadata.__contains: tag1", ALERT));
    // `1 in "..."` and `x in 5` are TypeErrors upstream, i.e. no match.
    assert!(!matches("payload_printable.__contains: 1", ALERT));
    assert!(!matches("src_port.__contains: 8", ALERT));
    assert!(!matches("alert.missing.__contains: x", ALERT));
}

#[test]
fn comparison_operators_are_strict_where_they_should_be() {
    // pcap_cnt is 11.
    assert!(matches("pcap_cnt.__gt: 10", ALERT));
    assert!(!matches("pcap_cnt.__gt: 11", ALERT));
    assert!(matches("pcap_cnt.__gte: 11", ALERT));
    assert!(!matches("pcap_cnt.__gte: 12", ALERT));
    assert!(matches("pcap_cnt.__lt: 12", ALERT));
    assert!(!matches("pcap_cnt.__lt: 11", ALERT));
    assert!(matches("pcap_cnt.__lte: 11", ALERT));
    assert!(!matches("pcap_cnt.__lte: 10", ALERT));
    // Floats against ints.
    assert!(matches("alert.score.__gt: 2", ALERT));
    assert!(matches("pcap_cnt.__lt: 11.5", ALERT));
    // Numbers only: no strings, no booleans, no missing values.
    assert!(!matches("pcap_cnt.__gt: \"1\"", ALERT));
    assert!(!matches("src_ip.__gt: 1", ALERT));
    assert!(!matches("flow.alerted.__gte: 0", ALERT));
    assert!(!matches("alert.missing.__lt: 100", ALERT));
    // Without the dot it is a plain (missing) key compared for equality.
    assert!(!matches("pcap_cnt__gt: 10", ALERT));
}

// ---- counting ---------------------------------------------------------------

#[test]
fn count_over_eve_lines() {
    let eve = [
        r#"{"event_type":"alert","alert":{"signature_id":1}}"#,
        r#"{"event_type":"alert","alert":{"signature_id":2}}"#,
        r#"{"event_type":"flow","alert":{"signature_id":1}}"#,
        r#"{"event_type":"alert","alert":{"signature_id":1}}"#,
    ]
    .join("\n");
    assert_eq!(count_matches(&eve, &conds("event_type: alert")).unwrap(), 3);
    assert_eq!(
        count_matches(&eve, &conds("{event_type: alert, alert.signature_id: 1}")).unwrap(),
        2
    );
    assert_eq!(count_matches("", &conds("event_type: alert")).unwrap(), 0);
    // A line that is not JSON fails the check, as json.loads raises upstream.
    assert!(count_matches("{\"a\":1}\nnot json\n", &conds("event_type: alert")).is_err());
}

#[test]
fn evaluate_compares_counts_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("eve.json"),
        "{\"event_type\":\"alert\",\"alert\":{\"signature_id\":1}}\n{\"event_type\":\"flow\"}\n",
    )
    .unwrap();
    let f = |count: &str, m: &str, filename: Option<&str>| spec::AlertFilter {
        index: 3,
        count: yaml(count),
        conditions: conds(m),
        match_val: yaml(m),
        filename: filename.map(String::from),
        comment: None,
    };
    let r = spec::evaluate(
        &f("1", "{event_type: alert, alert.signature_id: 1}", None),
        dir.path(),
    );
    assert_eq!((r.status, r.got), ("pass", Some(1)));
    let r = spec::evaluate(&f("2", "{event_type: alert}", None), dir.path());
    assert_eq!(r.status, "fail");
    assert_eq!(
        r.message,
        "check #3: expected 2 got 1 for {event_type: alert}"
    );
    let r = spec::evaluate(
        &f("0", "{event_type: alert}", Some("fast.json")),
        dir.path(),
    );
    assert_eq!(r.status, "fail");
    assert!(
        r.message.contains("fast.json does not exist"),
        "{}",
        r.message
    );
}

// ---- Python formatting ------------------------------------------------------

#[test]
fn python_str_of_values() {
    assert_eq!(py_str(&Val::Bool(true)), "True");
    assert_eq!(py_str(&Val::Null), "None");
    assert_eq!(py_str(&Val::Int(-3)), "-3");
    assert_eq!(py_float(1.0), "1.0");
    assert_eq!(py_float(2.5), "2.5");
    assert_eq!(py_float(0.0001), "0.0001");
    assert_eq!(py_float(0.00001), "1e-05");
    assert_eq!(py_float(1e16), "1e+16");
    assert_eq!(py_float(123456789012345.0), "123456789012345.0");
    assert_eq!(py_str(&yaml("[a, 1, true]")), "['a', 1, True]");
    assert_eq!(py_str(&yaml("{a: \"it's\"}")), "{'a': \"it's\"}");
}

// ---- versions and requirements ------------------------------------------------

#[test]
fn versions_compare_as_8_0_6() {
    let holds = |v: &str, op| spec::version_holds(&yaml(v), op).unwrap();
    // min-version
    for v in ["8", "8.0", "8.0.5", "8.0.6", "7.0.14", "6.0", "5"] {
        assert!(holds(v, VersionOp::Gte), "min-version {v}");
    }
    for v in ["8.0.7", "8.1", "9", "8.1.0"] {
        assert!(!holds(v, VersionOp::Gte), "min-version {v}");
    }
    // lt-version: `8.0` and `8` mean 8.0.0.
    for v in ["9", "8.1", "8.0.7", "10.0.0"] {
        assert!(holds(v, VersionOp::Lt), "lt-version {v}");
    }
    for v in ["8", "8.0", "8.0.6", "7.0.10", "7"] {
        assert!(!holds(v, VersionOp::Lt), "lt-version {v}");
    }
    assert!(holds("8.0.5", VersionOp::Gt));
    assert!(!holds("8.0.6", VersionOp::Gt));
    // version: given parts must agree.
    assert!(holds("8", VersionOp::Eq));
    assert!(holds("8.0", VersionOp::Eq));
    assert!(holds("8.0.6", VersionOp::Eq));
    assert!(!holds("8.0.5", VersionOp::Eq));
    assert!(!holds("7", VersionOp::Eq));
    // Multi-digit parts compare as numbers, not text.
    assert!(holds("7.10", VersionOp::Gte));
    assert!(!holds("8.0.10", VersionOp::Gte));
    assert!(spec::version_holds(&yaml("next"), VersionOp::Gte).is_err());
    assert_eq!(
        spec::parse_version("8.1.0-dev"),
        Some((8, Some(1), Some(0)))
    );
}

#[test]
fn requirements() {
    let check = |y: &str| {
        spec::check_requires(
            &spec::entries(&yaml(y), "requires").unwrap(),
            Path::new("/"),
        )
    };
    assert_eq!(
        check("{features: [HAVE_JA3, HAVE_JA4], min-version: 8.0.5}"),
        Ok(())
    );
    assert_eq!(
        check("{features: [HAVE_JA3, HAVE_LUA]}"),
        Err(Unmet::Skip("requires feature HAVE_LUA".into()))
    );
    assert!(matches!(
        check("{features: [LIBNET1.1]}"),
        Err(Unmet::Skip(_))
    ));
    assert_eq!(
        check("{min-version: 9}"),
        Err(Unmet::Skip("requires at least version 9".into()))
    );
    assert_eq!(
        check("{lt-version: 8.0}"),
        Err(Unmet::Skip("for version less than 8.0".into()))
    );
    assert_eq!(check("{lt-version: 9, pcap: true}"), Ok(()));
    assert!(matches!(check("{lambda: \"1 == 1\"}"), Err(Unmet::Skip(_))));
    assert!(matches!(check("{script: [\"true\"]}"), Err(Unmet::Skip(_))));
    assert_eq!(
        check("{script: [\"grep METADATA_DEFAULTS  src/output-json-alert.c > /dev/null\"]}"),
        Ok(())
    );
    assert!(matches!(check("{bogus: 1}"), Err(Unmet::Error(_))));
}

// ---- test.yaml → plan ---------------------------------------------------------

/// A test directory `<tmp>/t` with this test.yaml and these (empty) files,
/// given relative to it (`../x` lands beside it, still inside the temp dir).
struct TestDir(tempfile::TempDir);

impl TestDir {
    fn path(&self) -> std::path::PathBuf {
        self.0.path().join("t")
    }
}

fn test_dir(yaml_text: &str, files: &[&str]) -> TestDir {
    let dir = TestDir(tempfile::tempdir().unwrap());
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join("test.yaml"), yaml_text).unwrap();
    for f in files {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }
    dir
}

fn action(yaml_text: &str, files: &[&str]) -> Action {
    spec::plan(&test_dir(yaml_text, files).path()).action
}

const ALERT_CHECK: &str =
    "checks:\n  - filter:\n      count: 1\n      match:\n        event_type: alert\n";

#[test]
fn plan_runs_with_pcap_rules_and_config() {
    let dir = test_dir(
        &format!("args:\n  - -k all --set stream.midstream=true\n{ALERT_CHECK}  - shell:\n      args: wc -l fast.log\n"),
        &["input.pcap", "b.rules", "a.rules", "suricata.yaml"],
    );
    let plan = spec::plan(&dir.path());
    let Action::Run(run) = &plan.action else {
        panic!("{:?}", plan.action)
    };
    assert!(run.pcap.ends_with("input.pcap"));
    let Rules::Files(rules) = &run.rules else {
        panic!()
    };
    let names: Vec<_> = rules
        .iter()
        .map(|r| r.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a.rules", "b.rules"]);
    assert!(run.config.as_ref().unwrap().ends_with("suricata.yaml"));
    assert!(run.verify_checksums);
    assert_eq!(run.sets, ["stream.midstream=true"]);
    assert!(matches!(plan.checks[0], CheckPlan::Evaluate(_)));
    assert!(matches!(&plan.checks[1], CheckPlan::NotEvaluated { label, .. } if label == "shell"));
}

#[test]
fn plan_pcap_key_and_inline_rules() {
    let dir = test_dir(
        &format!("pcap: ../shared/x.pcapng\nrules: |\n  alert ip any any -> any any (sid:1;)\n{ALERT_CHECK}"),
        &["../shared/x.pcapng"],
    );
    let plan = spec::plan(&dir.path());
    match plan.action {
        Action::Run(run) => {
            assert!(run.pcap.ends_with("shared/x.pcapng"));
            assert!(matches!(run.rules, Rules::Inline(t) if t.contains("sid:1")));
            assert!(!run.verify_checksums);
        }
        other => panic!("{other:?}"),
    }
    let missing = action(&format!("pcap: nowhere.pcap\n{ALERT_CHECK}"), &[]);
    assert!(matches!(missing, Action::Fail(r) if r.contains("nowhere.pcap")));
}

#[test]
fn plan_skips_and_fails() {
    let skip = |y: &str, files: &[&str]| match action(y, files) {
        Action::Skip(r) => r,
        other => panic!("expected a skip for {y:?}, got {other:?}"),
    };
    let pcap = &["input.pcap"][..];
    assert!(skip(&format!("pcap: false\n{ALERT_CHECK}"), pcap).contains("pcap: false"));
    assert!(skip(&format!("requires:\n  pcap: false\n{ALERT_CHECK}"), &[]).contains("no pcap"));
    assert!(skip(&format!("command: ./src/suricata -T\n{ALERT_CHECK}"), pcap).contains("command"));
    assert_eq!(
        skip(
            &format!("requires:\n  features: [HAVE_LUA]\n{ALERT_CHECK}"),
            pcap
        ),
        "requires feature HAVE_LUA"
    );
    assert!(skip(
        &format!("requires:\n  min-version: 8.1\n{ALERT_CHECK}"),
        pcap
    )
    .contains("8.1"));
    assert!(
        skip(&format!("requires:\n  lt-version: 8\n{ALERT_CHECK}"), pcap).contains("less than 8")
    );
    assert_eq!(
        skip(
            "checks:\n  - filter:\n      count: 1\n      match:\n        event_type: flow\n  - shell:\n      args: true\n",
            pcap
        ),
        "no filter check with event_type: alert"
    );
    assert!(skip(
        "checks:\n  - filter:\n      requires:\n        lt-version: 8.0\n      count: 1\n      match:\n        event_type: alert\n",
        pcap
    )
    .contains("#1 for version less than 8.0"));
    assert!(skip(&format!("skip: true\n{ALERT_CHECK}"), pcap).contains("skip"));
    assert!(skip(ALERT_CHECK, &[]).contains("no pcap"));
    assert!(skip(ALERT_CHECK, &["input.pcap", "firewall.rules"]).contains("firewall"));
    // Runs despite a check for other versions; that check is skipped.
    let plan = spec::plan(
        &test_dir(
            &format!("{ALERT_CHECK}  - filter:\n      min-version: 9\n      count: 5\n      match:\n        event_type: alert\n"),
            pcap,
        )
        .path(),
    );
    assert!(matches!(plan.action, Action::Run(_)));
    assert!(
        matches!(&plan.checks[1], CheckPlan::Skipped { reason, .. } if reason.contains("at least version 9"))
    );
    // Fails: two pcaps, bad YAML, a malformed alert check.
    assert!(
        matches!(action(ALERT_CHECK, &["a.pcap", "b.pcapng"]), Action::Fail(r) if r.contains("more than one pcap"))
    );
    assert!(matches!(action("checks: [", pcap), Action::Fail(_)));
    let plan = spec::plan(
        &test_dir(
            "checks:\n  - filter:\n      match:\n        event_type: alert\n",
            pcap,
        )
        .path(),
    );
    assert!(
        matches!(&plan.checks[0], CheckPlan::Invalid { reason, .. } if reason.contains("count"))
    );
}

#[test]
fn discovery_finds_nested_tests_and_stops_at_them() {
    let root = tempfile::tempdir().unwrap();
    for d in ["a", "group/b", "group/c", "a/inner"] {
        let p = root.path().join(d);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("test.yaml"), "").unwrap();
    }
    std::fs::create_dir_all(root.path().join("pcaps")).unwrap();
    std::fs::write(root.path().join("test.yaml"), "").unwrap(); // the root is not a test
    let names: Vec<String> = sv::discover(root.path())
        .iter()
        .map(|d| sv::rel_name(root.path(), d))
        .collect();
    assert_eq!(names, ["a", "group/b", "group/c"]);
}
