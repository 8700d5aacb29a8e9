//! The executor against hand-written rules: each test compiles a few rules and evaluates them
//! at one inspection point, as the engine would.

use super::*;
use crate::rules::{parse_rules, ParseOptions};

fn compile(text: &str) -> (SignatureSet, LoadReport) {
    let set = parse_rules("test.rules", text, &ParseOptions::default());
    assert!(set.failures.is_empty(), "{:?}", set.failures);
    let vars = Vars::suricata_defaults();
    let table = ClassificationTable::et_open();
    SignatureSet::build(
        set.rules,
        RuleContext {
            vars: &vars,
            classification: &table,
            iprep: None,
            datasets: Datasets::builder(),
            config_dir: None,
            json_sets: Vec::new(),
            keep_text: false,
        },
    )
}

fn view<'a>(dir: Direction, app: AppKind, payload: &'a [u8]) -> PacketView<'a> {
    PacketView {
        src: "192.168.1.10".parse().unwrap(),
        dst: "203.0.113.5".parse().unwrap(),
        sport: 40000,
        dport: 80,
        ip_proto: 6,
        dir,
        established: true,
        app,
        payload,
        ip_header: &[],
        l4_header: &[],
    }
}

/// sids of the rules that alert.
fn run(
    set: &SignatureSet,
    hook: Hook,
    v: &PacketView<'_>,
    b: &Buffers<'_>,
    bits: &mut FlowBits,
) -> Vec<u32> {
    let mut overlay = DataOverlayMap::default();
    let mut hits = Vec::new();
    set.evaluate(
        hook,
        v,
        b,
        bits,
        &mut overlay,
        &mut Scratch::default(),
        &mut hits,
    );
    let mut sids: Vec<u32> = hits.iter().map(|h| set.sigs[h.sig as usize].sid).collect();
    sids.sort_unstable();
    sids
}

#[test]
fn domain_literals_go_to_hash_tables_and_match_like_suricata() {
    let (set, report) = compile(
        r#"
alert dns $HOME_NET any -> any any (msg:"suffix"; dns.query; dotprefix; content:".evil.com"; nocase; endswith; sid:1;)
alert dns $HOME_NET any -> any any (msg:"exact"; dns.query; bsize:8; content:"bad.info"; sid:2;)
alert dns $HOME_NET any -> any any (msg:"substring"; dns.query; content:"tracker"; sid:3;)
"#,
    );
    assert_eq!((report.literal, report.prefiltered), (2, 1));
    let dns = |q: &str| {
        let mut v = view(Direction::ToServer, AppKind::Dns, b"");
        v.ip_proto = 17;
        let b = Buffers {
            dns_query: Some(q.as_bytes()),
            ..Default::default()
        };
        run(&set, Hook::DnsRequest, &v, &b, &mut FlowBits::default())
    };
    assert_eq!(dns("evil.com"), [1]);
    assert_eq!(dns("WWW.Evil.COM"), [1]);
    assert_eq!(dns("notevil.com"), Vec::<u32>::new());
    assert_eq!(dns("bad.info"), [2]);
    assert_eq!(dns("x.bad.info"), Vec::<u32>::new());
    assert_eq!(dns("ad.trackers.example"), [3]);
}

#[test]
fn header_addresses_ports_and_flow_direction() {
    let (set, _) = compile(
        r#"
alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (msg:"out"; flow:established,to_server; content:"GET"; sid:1;)
alert tcp $EXTERNAL_NET 80 -> $HOME_NET any (msg:"in"; flow:to_client; content:"GET"; sid:2;)
alert tcp any any <> any 80 (msg:"bidir"; content:"GET"; sid:3;)
alert tcp any any -> any !80 (msg:"not80"; content:"GET"; sid:4;)
"#,
    );
    let v = view(Direction::ToServer, AppKind::Unknown, b"GET / HTTP/1.1\r\n");
    assert_eq!(
        run(
            &set,
            Hook::Packet,
            &v,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        [1, 3]
    );
    let mut back = v;
    std::mem::swap(&mut back.src, &mut back.dst);
    std::mem::swap(&mut back.sport, &mut back.dport);
    back.dir = Direction::ToClient;
    assert_eq!(
        run(
            &set,
            Hook::Packet,
            &back,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        [2, 3, 4]
    );
    let mut early = v;
    early.established = false;
    assert_eq!(
        run(
            &set,
            Hook::Packet,
            &early,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        [3]
    );
}

#[test]
fn flowbits_setters_run_before_readers_and_noalert_is_silent() {
    let (set, _) = compile(
        r#"
alert http any any -> any any (msg:"reader"; flowbits:isset,seen; http.uri; content:"/b"; sid:2;)
alert http any any -> any any (msg:"setter"; http.uri; content:"/"; flowbits:set,seen; flowbits:noalert; sid:1;)
alert http any any -> any any (msg:"not yet"; flowbits:isnotset,seen; http.uri; content:"/"; sid:3;)
"#,
    );
    let v = view(Direction::ToServer, AppKind::Http, b"");
    let b = Buffers {
        http_uri: Some(b"/b"),
        ..Default::default()
    };
    let mut bits = FlowBits::default();
    assert_eq!(run(&set, Hook::HttpRequest, &v, &b, &mut bits), [2]);
    assert_eq!(set.flowbits, ["seen"]);
}

#[test]
fn ip_only_rules_are_indexed_by_address() {
    let (set, report) = compile(
        r#"
alert ip [198.51.100.0/24,203.0.113.5] any -> $HOME_NET any (msg:"bad src"; sid:1;)
alert ip $HOME_NET any -> [203.0.113.0/28] any (msg:"bad dst"; sid:2;)
alert ip any any -> any any (msg:"all"; sid:3;)
"#,
    );
    assert_eq!(report.ip_indexed, 2);
    let v = view(Direction::ToServer, AppKind::Unknown, b"");
    assert_eq!(
        run(
            &set,
            Hook::IpOnly,
            &v,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        [2, 3]
    );
    let mut back = v;
    std::mem::swap(&mut back.src, &mut back.dst);
    assert_eq!(
        run(
            &set,
            Hook::IpOnly,
            &back,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        [1, 3]
    );
}

#[test]
fn tls_and_http_buffers_with_pcre() {
    let (set, _) = compile(
        r#"
alert tls any any -> any any (msg:"ja3"; ja3.hash; content:"e7d705a3286e19ea42f587b344ee6865"; sid:1;)
alert tls any any -> any any (msg:"sni"; tls.sni; content:"example"; pcre:"/^www\./"; sid:2;)
alert http any any -> any any (msg:"ua"; http.user_agent; content:"curl/"; startswith; http.method; content:"POST"; sid:3;)
"#,
    );
    let v = view(Direction::ToServer, AppKind::Tls, b"");
    let b = Buffers {
        tls_sni: Some(b"www.example.org"),
        ja3: Some(b"e7d705a3286e19ea42f587b344ee6865"),
        ..Default::default()
    };
    assert_eq!(
        run(&set, Hook::TlsClientHello, &v, &b, &mut FlowBits::default()),
        [1, 2]
    );
    let v = view(Direction::ToServer, AppKind::Http, b"");
    let post = Buffers {
        http_user_agent: Some(b"curl/8.0"),
        http_method: Some(b"POST"),
        ..Default::default()
    };
    let get = Buffers {
        http_method: Some(b"GET"),
        ..post
    };
    assert_eq!(
        run(&set, Hook::HttpRequest, &v, &post, &mut FlowBits::default()),
        [3]
    );
    assert_eq!(
        run(&set, Hook::HttpRequest, &v, &get, &mut FlowBits::default()),
        Vec::<u32>::new()
    );
}

#[test]
fn non_executable_and_unresolvable_rules_are_skipped_with_reasons() {
    let (set, report) = compile(
        r#"
alert smtp any any -> any any (msg:"smtp"; sid:1;)
alert tcp $NO_SUCH_NET any -> any any (msg:"var"; content:"x"; sid:2;)
alert tcp any any -> any any (msg:"ok"; content:"x"; sid:3;)
"#,
    );
    assert_eq!(set.sigs.len(), 1);
    let skipped: Vec<u32> = report.skipped.iter().map(|s| s.sid).collect();
    assert_eq!(skipped, [1, 2]);
    assert!(report.skipped[1].reasons[0].reason.contains("NO_SUCH_NET"));
}

#[test]
fn pass_rules_stop_later_rules_on_the_packet() {
    let (set, _) = compile(
        r#"
alert tcp any any -> any any (msg:"alert"; content:"x"; sid:1;)
pass tcp any any -> any any (msg:"pass"; content:"x"; sid:2;)
"#,
    );
    let v = view(Direction::ToServer, AppKind::Unknown, b"xyz");
    assert_eq!(
        run(
            &set,
            Hook::Packet,
            &v,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        Vec::<u32>::new()
    );
}

#[test]
fn tls_certificate_buffers_and_legacy_keywords() {
    let (set, _) = compile(
        r#"
alert tls any any -> any any (msg:"fp legacy"; tls.fingerprint:"90:86:A4:3B:F5"; sid:1;)
alert tls any any -> any any (msg:"fp sticky"; tls.cert_fingerprint; content:"90:86:a4:3b:f5"; sid:2;)
alert tls any any -> any any (msg:"subject"; tls.subject:"CN=www.google.com"; sid:3;)
alert tls any any -> any any (msg:"subject case"; tls.subject:"cn=www.google.com"; sid:4;)
alert tls any any -> any any (msg:"issuer"; tls.issuerdn:!"O=Evil"; sid:5;)
alert tls any any -> any any (msg:"issuer sticky"; tls.cert_issuer; content:"Google Internet"; tls.cert_serial; content:"2B:A2"; startswith; sid:6;)
alert tls any any -> any any (msg:"sni and cert"; tls.sni; content:"google"; tls.cert_subject; content:"Mountain View"; sid:7;)
"#,
    );
    for sid in 1..=7 {
        let sig = set.sigs.iter().find(|s| s.sid == sid).unwrap();
        assert_eq!(sig.hook, Hook::TlsCertificate, "sid {sid}");
    }
    let v = view(Direction::ToClient, AppKind::Tls, b"");
    let b = Buffers {
        tls_sni: Some(b"www.google.com"),
        tls_cert_subject: Some(
            b"C=US, ST=California, L=Mountain View, O=Google Inc, CN=www.google.com",
        ),
        tls_cert_issuer: Some(b"C=US, O=Google Inc, CN=Google Internet Authority G2"),
        tls_cert_serial: Some(b"2B:A2:F5:3B:B5:85:83:75"),
        tls_cert_fingerprint: Some(b"90:86:a4:3b:f5:cf:1b:2e:4e:f7:97:96:f9:de:ba:b9:66:35:86:3f"),
        ..Default::default()
    };
    assert_eq!(
        run(&set, Hook::TlsCertificate, &v, &b, &mut FlowBits::default()),
        [1, 2, 3, 5, 6, 7]
    );
    let evil = Buffers {
        tls_cert_issuer: Some(b"C=XX, O=Evil, CN=Evil CA"),
        ..b
    };
    assert_eq!(
        run(
            &set,
            Hook::TlsCertificate,
            &v,
            &evil,
            &mut FlowBits::default()
        ),
        [1, 2, 3, 7]
    );
    // No certificate: nothing matches, not even the negated issuer.
    let none = Buffers {
        tls_sni: Some(b"www.google.com"),
        ..Default::default()
    };
    assert_eq!(
        run(
            &set,
            Hook::TlsCertificate,
            &v,
            &none,
            &mut FlowBits::default()
        ),
        Vec::<u32>::new()
    );
}

#[test]
fn byte_keywords_compile_and_match_payloads() {
    let (set, report) = compile(
        r#"
alert tcp any any -> any any (msg:"tlv"; content:"T|01|"; byte_extract:1,0,len,relative; content:"end"; distance:len; within:3; sid:1;)
alert tcp any any -> any any (msg:"test"; content:"T|01|"; byte_test:1,>,3,0,relative; sid:2;)
alert tcp any any -> any any (msg:"jump"; content:"J"; byte_jump:2,0,relative,little,post_offset 1; content:"ok"; within:2; sid:3;)
alert tcp any any -> any any (msg:"math"; content:"T|01|"; byte_math:bytes 1,offset 0,oper *,rvalue 2,result twice,relative; byte_test:2,=,twice,0,relative,string,dec; sid:4;)
alert tcp any any -> any any (msg:"var offset"; content:"T|01|"; byte_extract:1,0,skip,relative; isdataat:!skip,relative; sid:5;)
"#,
    );
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(set.sigs.len(), 5);
    let hits = |p: &[u8]| {
        let v = view(Direction::ToServer, AppKind::Unknown, p);
        run(
            &set,
            Hook::Packet,
            &v,
            &Buffers::default(),
            &mut FlowBits::default(),
        )
    };
    // len 2: "end" two bytes after the length byte; 2 > 3 fails.
    assert_eq!(hits(b"T\x01\x02..end"), [1]);
    assert_eq!(hits(b"T\x01\x04..end"), [2]);
    // The second "T|01|" has the right length: the first is retried.
    assert_eq!(hits(b"T\x01\x09T\x01\x01.end"), [1, 2, 5]);
    // Jump 2 (little endian) + 1 past the length field.
    assert_eq!(hits(b"J\x02\x00abcok"), [3]);
    // 8 * 2 = 16, written after the byte byte_math read (the cursor moved past it); and fewer
    // than 8 bytes follow the length byte.
    assert_eq!(hits(b"T\x01\x0816"), [2, 4, 5]);
    assert_eq!(hits(b"T\x01\x0817"), [2, 5]);
    assert_eq!(hits(b"T\x01\x0216"), Vec::<u32>::new());
    // isdataat:!skip,relative: exactly `skip` bytes left is data, one fewer is not.
    assert_eq!(hits(b"T\x01\x02xy"), Vec::<u32>::new());
    assert_eq!(hits(b"T\x01\x03xy"), [5]);
}

#[test]
fn byte_keywords_that_cannot_run_are_skipped_with_reasons() {
    let (set, report) = compile(
        r#"
alert tcp any any -> any any (msg:"dce"; content:"x"; byte_test:4,>,1,0,relative,dce; sid:1;)
alert http any any -> any any (msg:"later buffer"; http.uri; content:"a"; pkt_data; content:"x"; byte_extract:1,0,n,relative; http.uri; content:"y"; offset:n; sid:2;)
alert tcp any any -> any any (msg:"undefined"; content:"x"; distance:nope; sid:3;)
alert tcp any any -> any any (msg:"nine bytes"; byte_test:9,>,1,0; sid:4;)
alert tcp any any -> any any (msg:"both ends"; byte_jump:1,0,from_beginning,from_end; sid:5;)
alert tcp any any -> any any (msg:"base"; byte_test:2,>,1,0,hex; sid:6;)
alert tcp any any -> any any (msg:"ok"; byte_extract:1,0,a; byte_extract:1,1,b; byte_extract:1,2,c; byte_extract:1,3,d; byte_extract:1,4,e; byte_extract:1,5,f; byte_extract:1,6,g; byte_extract:1,7,h; byte_test:1,=,h,8; sid:7;)
alert tcp any any -> any any (msg:"nine vars"; byte_extract:1,0,a; byte_extract:1,1,b; byte_extract:1,2,c; byte_extract:1,3,d; byte_extract:1,4,e; byte_extract:1,5,f; byte_extract:1,6,g; byte_extract:1,7,h; byte_extract:1,8,i; sid:8;)
"#,
    );
    let reasons: Vec<(u32, String)> = report
        .skipped
        .iter()
        .map(|s| {
            (
                s.sid,
                s.reasons
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })
        .collect();
    let reason = |sid: u32| {
        reasons
            .iter()
            .find(|(s, _)| *s == sid)
            .map(|(_, r)| r.as_str())
            .unwrap_or("")
    };
    assert!(reason(1).contains("dce"), "{reasons:?}");
    assert!(
        reason(2).contains("from a buffer (pkt_data) inspected after this one"),
        "{reasons:?}"
    );
    assert!(
        reason(3).contains("no earlier byte_extract or byte_math"),
        "{reasons:?}"
    );
    assert!(reason(4).contains("1 to 8 bytes"), "{reasons:?}");
    assert!(
        reason(5).contains("from_beginning and from_end"),
        "{reasons:?}"
    );
    assert!(reason(6).contains("needs string"), "{reasons:?}");
    assert!(reason(8).contains("more than 8"), "{reasons:?}");
    assert_eq!(set.sigs.iter().map(|s| s.sid).collect::<Vec<_>>(), [7]);
    let v = view(Direction::ToServer, AppKind::Unknown, b"abcdefgh");
    assert_eq!(
        run(
            &set,
            Hook::Packet,
            &v,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        Vec::<u32>::new()
    );
    let v = view(Direction::ToServer, AppKind::Unknown, b"abcdefghh");
    assert_eq!(
        run(
            &set,
            Hook::Packet,
            &v,
            &Buffers::default(),
            &mut FlowBits::default()
        ),
        [7]
    );
}
