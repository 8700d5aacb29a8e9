//! Parser tests: malformed rules, the typed AST, and the real rule sets in `shared/data`
//! (ET Open, suricata-verify, urlhaus-filter).

use super::*;
use std::path::PathBuf;

/// `$VIGIL_DATA_DIR`, else `shared/data` beside the repository, else /work/shared/data.
fn data_dir() -> PathBuf {
    crate::testdata::shared_data_dir()
}

fn rule_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("shared test data {} unreadable ({e})", d.display()));
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rules") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn parse_file(p: &std::path::Path, include_commented: bool) -> RuleSet {
    let text = std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("shared test data {} unreadable ({e})", p.display()));
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    parse_rules(&name, &text, &ParseOptions { include_commented })
}

#[test]
fn et_open_every_rule_parses() {
    let files = rule_files(&data_dir().join("et-open"));
    assert_eq!(files.len(), 51);
    let (mut enabled, mut all) = (0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let on = parse_file(f, false);
        failures.extend(on.failures.iter().map(|e| e.to_string()));
        enabled += on.rules.len();
        let every = parse_file(f, true);
        failures.extend(every.failures.iter().map(|e| format!("(commented) {e}")));
        all += every.rules.len();
    }
    assert!(
        failures.is_empty(),
        "{} failures, first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    assert_eq!(enabled, 24_827);
    assert_eq!(all, 24_827 + 10_023);
}

#[test]
fn suricata_verify_rules_all_parse() {
    let files = rule_files(&data_dir().join("suricata-verify/tests"));
    assert!(files.len() >= 80, "only {} rule files", files.len());
    let mut parsed = 0;
    for f in &files {
        let set = parse_file(f, false);
        assert!(
            set.failures.is_empty(),
            "{}: {:?}",
            f.display(),
            set.failures
        );
        parsed += set.rules.len();
        // The commented-out rules parse too; the only failure is bug-2158's disabled copy of
        // sid 223344, which duplicates the enabled rule.
        let all = parse_file(f, true);
        for e in &all.failures {
            assert!(
                e.message.starts_with("duplicate sid 223344"),
                "{}: {e}",
                f.display()
            );
        }
    }
    assert!(parsed >= 140, "{parsed}");
}

#[test]
fn urlhaus_missing_semicolons_fail_with_line_numbers() {
    let dir = data_dir().join("ioc-feeds/urlhaus-filter");
    let online = parse_file(&dir.join("urlhaus-filter-suricata-online.rules"), false);
    let sni = parse_file(&dir.join("urlhaus-filter-suricata-sni-online.rules"), false);
    for (set, parsed, failed) in [(&online, 3510, 2853), (&sni, 0, 2853)] {
        assert_eq!((set.rules.len(), set.failures.len()), (parsed, failed));
        for e in &set.failures {
            assert_eq!(e.keyword.as_deref(), Some("sid"));
            assert!(
                e.message.starts_with("missing ';' after \"sid:1000")
                    && e.message.ends_with("(before \"rev:1\")"),
                "{e}"
            );
        }
    }
    // Header lines are comments: the first rule is on line 7.
    assert_eq!(online.failures[0].line, 7);
    assert_eq!(
        online.failures[0].to_string(),
        "urlhaus-filter-suricata-online.rules:7: missing ';' after \"sid:100000001\" (before \"rev:1\")"
    );
    assert_eq!(sni.failures.last().map(|e| e.line), Some(2859));
    // The well-formed URI rules carry their structure.
    let r = online.rules.last().unwrap();
    assert_eq!(r.sid, 100_006_363);
    let bufs: Vec<_> = r.detects.iter().map(|d| d.buffer.name()).collect();
    assert_eq!(bufs, ["http.method", "http.uri", "http.host"]);
    assert_eq!(r.executable(), Ok(()));
}

/// Parses one rule and returns the error's keyword and message.
fn fail(rule: &str) -> (Option<String>, String) {
    match parse_rule(rule) {
        Ok(r) => panic!("parsed: {rule}\n{r:?}"),
        Err(e) => (e.keyword, e.message),
    }
}

#[test]
fn malformed_rules_name_the_keyword_and_line() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            r#"alert tcp any any -> any any (msg:"x" sid:1;)"#,
            Some("msg"),
            "unterminated quoted string in \"msg\"",
        ),
        (
            r#"alert tcp any any -> any any (msg:"x"; sid:1)"#,
            Some("sid"),
            "missing ';' after the \"sid\" option",
        ),
        (
            r#"alert tcp any any -> any any (content:"abc; sid:1;)"#,
            Some("content"),
            "unterminated quoted string in \"content\"",
        ),
        (
            r#"alert tcp any any -> any any (content:abc; sid:1;)"#,
            Some("content"),
            "\"content\" value must be double-quoted",
        ),
        (
            r#"alert tcp any any -> any any (content:"a|4"; sid:1;)"#,
            Some("content"),
            "unterminated hex block",
        ),
        (
            r#"alert dns any any -> any any (dns_qry; content:"x"; sid:1;)"#,
            Some("dns_qry"),
            "unknown keyword \"dns_qry\"",
        ),
        (
            r#"alert tcp any 80:79 -> any any (sid:1;)"#,
            None,
            "bad source port \"80:79\": port range 80:79 is empty",
        ),
        (
            r#"alert tcp any any -> any 70000 (sid:1;)"#,
            None,
            "bad destination port \"70000\"",
        ),
        (
            r#"alert tcp 10.0.0.300 any -> any any (sid:1;)"#,
            None,
            "bad source address \"10.0.0.300\"",
        ),
        (
            r#"alert tcp any any -> [1.2.3.4,5.6.7.8 any (sid:1;)"#,
            None,
            "incomplete rule header",
        ),
        (
            r#"alert tcp any any -> any any (msg:"x"; sid:1;"#,
            None,
            "missing ')' at end of rule",
        ),
        (
            r#"alert tcp any any -> any any (sid:abc;)"#,
            Some("sid"),
            "invalid \"sid\" value \"abc\": expected a number",
        ),
        (
            r#"alert tcp any any -> any any (msg:"no sid";)"#,
            Some("sid"),
            "rule has no sid",
        ),
        (
            r#"alert tcp any any -> any any (sid:1; sid:2;)"#,
            Some("sid"),
            "duplicate \"sid\" keyword",
        ),
        (
            r#"alert tcp any any <- any any (sid:1;)"#,
            None,
            "bad direction \"<-\"",
        ),
        (
            r#"alrt tcp any any -> any any (sid:1;)"#,
            None,
            "unknown action \"alrt\"",
        ),
        (
            r#"alert tpc any any -> any any (sid:1;)"#,
            None,
            "unknown protocol \"tpc\"",
        ),
        (
            r#"alert tcp any any -> any any (nocase; content:"x"; sid:1;)"#,
            Some("nocase"),
            "\"nocase\" needs a preceding content",
        ),
        (
            r#"alert http any any -> any any (http.uri; content:"x"; http_uri; sid:1;)"#,
            Some("http_uri"),
            "cannot follow the sticky buffer \"http.uri\"",
        ),
        (
            r#"alert tcp any any -> any any (nocase:1; sid:1;)"#,
            Some("nocase"),
            "\"nocase\" takes no value",
        ),
        (
            r#"alert tcp any any -> any any (depth; sid:1;)"#,
            Some("depth"),
            "\"depth\" needs a value",
        ),
        (
            r#"alert tcp any any -> any any (content:"x"; depth:4; distance:1; sid:1;)"#,
            Some("distance"),
            "mixes a relative",
        ),
        (
            r#"alert tcp any any -> any any (pcre:"/x/Q"; sid:1;)"#,
            None,
            "",
        ),
        (
            r#"alert tcp any any -> any any (pcre:"/x/k"; sid:1;)"#,
            Some("pcre"),
            "unknown pcre modifier 'k'",
        ),
        (
            r#"alert tcp any any -> any any (flow:established,to_server to_client; sid:1;)"#,
            Some("flow"),
            "unknown flow option",
        ),
        (
            r#"alert tcp any any -> any any (classtype:trojan-activity sid:1;)"#,
            Some("classtype"),
            "invalid classtype \"trojan-activity sid:1\" (missing ';'?)",
        ),
        (
            r#"alert tcp any any -> any any (msg:"x";; sid:1;)"#,
            None,
            "empty option (stray ';')",
        ),
        (
            r#"alert tcp any any -> any any (bsize:10; sid:1;)"#,
            Some("bsize"),
            "bsize must follow a sticky buffer",
        ),
        (
            r#"alert tcp any any -> any any (content:"a\q"; sid:1;)"#,
            Some("content"),
            "invalid escape \"\\q\"",
        ),
    ];
    for (rule, kw, msg) in cases {
        if msg.is_empty() {
            // `Q` is a valid (file.data) pcre modifier: this one parses.
            assert!(parse_rule(rule).is_ok(), "{rule}");
            continue;
        }
        let (k, m) = fail(rule);
        assert_eq!(k.as_deref(), *kw, "{rule}: {m}");
        assert!(m.contains(msg), "{rule}\n  got:  {m}\n  want: {msg}");
    }
}

#[test]
fn file_errors_carry_file_line_and_good_rules_still_load() {
    let text = "# header\n\
        alert tcp any any -> any any (msg:\"ok\"; sid:1;)\n\
        \n\
        alert tcp any any -> any any (msg:\"bad\" sid:2;)\n\
        alert dns any any -> any any (msg:\"multi\"; \\\n  dns.query; \\\n  content:\"x\"; sid:3;)\n\
        alert tcp any any -> any any (msg:\"dup\"; sid:1;)\n\
        alert tcp any any -> any any (dns_qry; sid:4;)\n\
        #alert tcp any any -> any any (msg:\"off\"; sid:5;)\n\
        # alert is a word in this comment (really)\n";
    let set = parse_rules("emerging-dns.rules", text, &ParseOptions::default());
    let sids: Vec<u32> = set.rules.iter().map(|r| r.sid).collect();
    assert_eq!(sids, [1, 3]);
    let errs: Vec<String> = set.failures.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errs,
        [
            "emerging-dns.rules:4: unterminated quoted string in \"msg\" value \"bad\" sid:2 (missing '\"' or ';'?)",
            "emerging-dns.rules:8: duplicate sid 1 (gid 1): first defined at line 2",
            "emerging-dns.rules:9: unknown keyword \"dns_qry\"",
        ]
    );
    assert_eq!(set.rules[1].location.line, 5);
    assert_eq!(set.clone().into_rules(false).map(|r| r.len()), Ok(2));
    assert_eq!(set.clone().into_rules(true).map_err(|e| e.len()), Err(3));
    // A byte-order mark and CRLF line ends are fine.
    let bom = parse_rules(
        "bom.rules",
        "\u{feff}alert ip any any -> any any (sid:1;)\r\nalert ip any any -> any any (sid:2;)\r\n",
        &ParseOptions::default(),
    );
    assert_eq!((bom.rules.len(), bom.failures.len()), (2, 0));
    assert_eq!(set.rules[1].location.to_string(), "emerging-dns.rules:5");
    let with = parse_rules(
        "x.rules",
        text,
        &ParseOptions {
            include_commented: true,
        },
    );
    assert_eq!(with.rules.len(), 3);
    assert!(with.rules[2].commented);
    assert_eq!(with.rules[2].location.line, 10);
}

#[test]
fn typed_ast() {
    let r = parse_rule(
        r#"alert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"ET x \"q\"\; y"; flow:established,to_server; content:"GET"; http_method; content:"/a|2e|php"; http_uri; nocase; depth:10; content:!"x"; distance:0; within:5; http.host; dotprefix; content:".evil.com"; endswith; fast_pattern; bsize:<50; pkt_data; content:"|de ad|"; offset:2; pcre:"/^id=\d+/Ri"; byte_test:4,>,1000,0,relative,little; flowbits:isset,a|b; threshold: type limit, track by_src, count 1, seconds 60; reference:url,example.com/a; classtype:trojan-activity; sid:2000001; rev:3; gid:1; metadata:created_at 2020_01_01, signature_severity Major, tag;)"#,
    )
    .unwrap();
    assert_eq!(r.action, Action::Alert);
    assert_eq!(r.proto, "http");
    assert_eq!(r.src, AddrSpec::Var("HOME_NET".into()));
    assert_eq!(r.dst_ports, PortSpec::Var("HTTP_PORTS".into()));
    assert_eq!(r.msg, r#"ET x "q"; y"#);
    assert_eq!((r.sid, r.rev, r.gid), (2_000_001, 3, 1));
    assert_eq!(r.classtype.as_deref(), Some("trojan-activity"));
    assert_eq!(
        r.references,
        [Reference {
            kind: "url".into(),
            value: "example.com/a".into()
        }]
    );
    assert_eq!(
        r.metadata,
        [
            ("created_at".to_string(), "2020_01_01".to_string()),
            ("signature_severity".to_string(), "Major".to_string()),
            ("tag".to_string(), String::new()),
        ]
    );
    let flow = r.flow.clone().unwrap();
    assert_eq!(flow.direction, Some(FlowDirection::ToServer));
    assert!(flow.established);
    assert_eq!(r.flowbits[0].group, BitsGroup::Any);
    assert_eq!(r.threshold.as_ref().map(|t| t.count), Some(1));

    let contents: Vec<(&str, &Content)> = r
        .detects
        .iter()
        .filter_map(|d| match &d.kind {
            DetectKind::Content(c) => Some((d.buffer.name(), c)),
            _ => None,
        })
        .collect();
    assert_eq!(contents.len(), 5);
    assert_eq!(contents[0].0, "http.method");
    assert_eq!(contents[0].1.pattern, b"GET");
    // The legacy modifier moved "/a.php" and its later modifiers stayed with it.
    assert_eq!(contents[1].0, "http.uri");
    assert_eq!(contents[1].1.pattern, b"/a.php");
    assert!(contents[1].1.nocase);
    assert_eq!(contents[1].1.depth, Some(Num::Lit(10)));
    // A negated content after the modifiers stays in the payload.
    assert_eq!(contents[2].0, "pkt_data");
    assert!(contents[2].1.negated);
    assert_eq!(contents[2].1.distance, Some(Num::Lit(0)));
    assert_eq!(contents[3].0, "http.host");
    assert!(contents[3].1.endswith);
    assert_eq!(contents[3].1.fast_pattern, Some(FastPattern::Default));
    let host = r
        .detects
        .iter()
        .find(|d| d.buffer == Buffer::Sticky("http.host"))
        .unwrap();
    assert_eq!(host.transforms, [Transform::Dotprefix]);
    assert_eq!(contents[4].0, "pkt_data");
    assert_eq!(contents[4].1.pattern, [0xde, 0xad]);
    assert!(r
        .detects
        .iter()
        .any(|d| matches!(d.kind, DetectKind::Bsize(IntMatch::Lt(50)))));
    let pcre = r
        .detects
        .iter()
        .find_map(|d| match &d.kind {
            DetectKind::Pcre(p) => Some((d.buffer, p)),
            _ => None,
        })
        .unwrap();
    assert_eq!(pcre.0, Buffer::Payload);
    assert!(pcre.1.relative && pcre.1.caseless);
    // The raw option list keeps every option in order, as written.
    assert_eq!(r.options.len(), 30);
    assert_eq!(r.options[3].keyword, "http_method");
    assert_eq!(r.options[4].value.as_deref(), Some("\"/a|2e|php\""));
    // Every keyword of it, byte_test included, is executable.
    assert_eq!(r.executable(), Ok(()));
}

#[test]
fn header_forms() {
    let r = parse_rule(
        "pass IP [1.2.3.0/24,![1.2.3.4,1.2.3.5]] [1024:,!1030] <> 2001:db8::/32 :1023 (sid:1;)",
    )
    .unwrap();
    assert_eq!(r.action, Action::Pass);
    assert_eq!(r.proto, "ip");
    assert_eq!(r.direction, Direction::Both);
    assert!(matches!(r.src, AddrSpec::List(ref l) if l.len() == 2));
    assert_eq!(r.dst_ports, PortSpec::Range(0, 1023));
    let r = parse_rule("alert tls any any => any any (ja3.hash; content:\"x\"; sid:1;)").unwrap();
    assert_eq!(r.direction, Direction::Transactional);
    let r = parse_rule("rejectboth icmp any any -> any any (sid:2; rev:1;)").unwrap();
    assert_eq!(r.action, Action::RejectBoth);
    let r = parse_rule("alert tcp-pkt any any -> any any (content:\"EVIL\"; sid:3;)").unwrap();
    assert_eq!(r.proto, "tcp-pkt");
    // Continuation lines and a space before ':' / after '('.
    let r = parse_rule(
        "alert dns any any -> any 53 ( \\\nmsg:\"x\"; \\\ncontent:\"s\"; \\\nsid : 2; rev:1;)",
    )
    .unwrap();
    assert_eq!((r.sid, r.msg.as_str()), (2, "x"));
}

#[test]
fn sticky_vs_legacy_buffers() {
    // dns_query and tls_sni are sticky (aliases), http_* are modifiers.
    let r = parse_rule(
        r#"alert dns any any -> any any (content:"|01 00|"; offset:2; dns_query; content:"drivres"; nocase; sid:1;)"#,
    )
    .unwrap();
    let bufs: Vec<_> = r.detects.iter().map(|d| d.buffer.name()).collect();
    assert_eq!(bufs, ["pkt_data", "dns.query"]);
    assert_eq!(r.executable(), Ok(()));
    let r =
        parse_rule(r#"alert http any any -> any any (content:"curl"; http_user_agent; sid:1;)"#)
            .unwrap();
    assert_eq!(r.detects[0].buffer, Buffer::Sticky("http.user_agent"));
    let r =
        parse_rule(r#"alert http any any -> any any (uricontent:"/x"; nocase; sid:1;)"#).unwrap();
    assert_eq!(r.detects[0].buffer, Buffer::Sticky("http.uri"));
    // A modifier takes the last *payload* content, skipping ones already moved.
    let r = parse_rule(
        r#"alert http any any -> any any (content:"a"; content:"b"; http_uri; http_host; sid:1;)"#,
    )
    .unwrap();
    let bufs: Vec<_> = r.detects.iter().map(|d| d.buffer.name()).collect();
    assert_eq!(bufs, ["http.host", "http.uri"]);
    // pcre buffer flags pick the buffer.
    let r = parse_rule(r#"alert http any any -> any any (pcre:"/x/W"; sid:1;)"#).unwrap();
    assert_eq!(r.detects[0].buffer, Buffer::Sticky("http.host"));
}

#[test]
fn legacy_tls_certificate_keywords() {
    // tls.subject / tls.issuerdn / tls.fingerprint are contents on the certificate buffers.
    let r = parse_rule(
        r#"alert tls any any -> any any (tls.subject:"CN=a b"; tls.issuerdn:!"O=x"; tls.fingerprint:"AB:cd"; content:"z"; sid:1;)"#,
    )
    .unwrap();
    let got: Vec<_> = r
        .detects
        .iter()
        .map(|d| match &d.kind {
            DetectKind::Content(c) => (d.buffer.name(), c.pattern.clone(), c.negated, c.nocase),
            k => panic!("{k:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            ("tls.cert_subject", b"CN=a b".to_vec(), false, false),
            ("tls.cert_issuer", b"O=x".to_vec(), true, false),
            ("tls.cert_fingerprint", b"AB:cd".to_vec(), false, true),
            ("pkt_data", b"z".to_vec(), false, false),
        ]
    );
    assert_eq!(r.executable(), Ok(()));
    let r = parse_rule(
        r#"alert tls any any -> any any (tls_cert_serial; content:"00:9A"; tls.cert_fingerprint; content:"90:86"; sid:1;)"#,
    )
    .unwrap();
    assert_eq!(r.executable(), Ok(()));
    // Quotes are mandatory and the value must not be empty.
    for bad in [
        r#"tls.subject:CN=x"#,
        r#"tls.fingerprint:"""#,
        r#"tls.issuerdn:!"#,
    ] {
        let text = format!("alert tls any any -> any any ({bad}; sid:1;)");
        assert!(parse_rule(&text).is_err(), "{bad}");
    }
}

/// Per-keyword counts of rules that use a keyword non-executably, over ET Open (enabled rules).
fn et_open_unsupported() -> (usize, usize, Vec<(String, usize)>) {
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    let (mut total, mut executable) = (0, 0);
    for f in rule_files(&data_dir().join("et-open")) {
        for r in parse_file(&f, false).rules {
            total += 1;
            match r.executable() {
                Ok(()) => executable += 1,
                Err(us) => {
                    let mut kws: Vec<String> = us.into_iter().map(|u| u.keyword).collect();
                    kws.dedup();
                    for k in kws {
                        *counts.entry(k).or_default() += 1;
                    }
                }
            }
        }
    }
    let mut v: Vec<_> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    (total, executable, v)
}

#[test]
fn et_open_executability() {
    let (total, executable, top) = et_open_unsupported();
    println!("ET Open: {total} rules, {executable} executable");
    for (k, n) in top.iter().take(30) {
        println!("{n:>7}  {k}");
    }
    assert_eq!(total, 24_827);
    // Most of ET's dns/tls/http IOC-style rules are in the supported subset.
    assert!(executable > 12_000, "{executable}");
    assert!(top
        .iter()
        .any(|(k, _)| k == "http.header" || k == "http_header"));
}

mod prop {
    use super::super::*;
    use proptest::prelude::*;

    const SEED: &str = r#"alert http $HOME_NET any -> $EXTERNAL_NET [80,!8080] (msg:"x\;y"; flow:established,to_server; content:"|41|B"; http_uri; nocase; pcre:"/a(?=b)[\w-]{2,}/Ui"; dns.query; dotprefix; content:".x"; endswith; bsize:<5; flowbits:isset,a|b; threshold:type limit,track by_src,count 1,seconds 60; byte_test:1,=,8,-4,relative,bitmask fc; sid:1; rev:1;)"#;

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_strings(s in "\\PC{0,300}") {
            let _ = parse_rule(&s);
            let set = parse_rules("f", &s, &ParseOptions { include_commented: true });
            for r in &set.rules {
                let _ = r.executable();
            }
        }

        #[test]
        fn never_panics_on_rule_like_strings(
            s in "(alert|#alert|pass|drop) (tcp|http|dns|ip|x) (any|\\$H|!\\[1\\.2\\.3\\.4/2[0-9],any\\]) (any|[0-9:]{1,6}|\\[[0-9,:!]{0,8}\\]) (->|<>|=>|<-) (any|::1) (any|80) \\(([a-z_.]{1,12}(:[\"!|;\\\\/a-z0-9 ,<>=-]{0,20})?; ?){0,8}\\)"
        ) {
            if let Ok(r) = parse_rule(&s) {
                let _ = r.executable();
            }
        }

        #[test]
        fn never_panics_on_mutated_rules(cut in 0usize..400, pos in 0usize..400, byte in any::<char>()) {
            let mut s: String = SEED.chars().take(cut).collect();
            let at = s.char_indices().nth(pos).map(|(i, _)| i).unwrap_or(s.len());
            s.insert(at, byte);
            s.push_str(&SEED.chars().skip(cut).collect::<String>());
            if let Ok(r) = parse_rule(&s) {
                let _ = r.executable();
            }
        }
    }
}
