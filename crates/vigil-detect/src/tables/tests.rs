use super::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;
use std::time::Instant;

fn ind(kind: IndicatorType, value: &str) -> Indicator {
    Indicator {
        kind,
        value: value.to_string(),
        source: "test-feed".to_string(),
        id: None,
        confidence: Confidence::new(50),
        severity: Severity::new(2),
        name: None,
        valid_from: None,
        reliability: None,
    }
}

fn tables(list: &[(IndicatorType, &str)]) -> IndicatorTables {
    let mut b = TablesBuilder::new();
    for &(k, v) in list {
        b.add(&ind(k, v)).unwrap_or_else(|e| panic!("{e}"));
    }
    b.build()
}

/// The value of the matched indicator, for readable assertions.
fn val(t: &IndicatorTables, id: Option<IndicatorId>) -> Option<&str> {
    id.map(|id| t.get(id).value)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

use IndicatorType as T;

#[test]
fn ipv4_longest_prefix_wins() {
    let t = tables(&[
        (T::Cidr, "10.0.0.0/8"),
        (T::Ip, "10.1.2.3"),
        (T::Cidr, "10.1.0.0/16"),
        (T::Cidr, "10.1.2.0/24"),
        (T::Cidr, "0.0.0.0/0"),
        (T::Ip, "255.255.255.255"),
    ]);
    assert_eq!(val(&t, t.match_ip(ip("10.1.2.3"))), Some("10.1.2.3"));
    assert_eq!(val(&t, t.match_ip(ip("10.1.2.4"))), Some("10.1.2.0/24"));
    assert_eq!(val(&t, t.match_ip(ip("10.1.3.1"))), Some("10.1.0.0/16"));
    assert_eq!(val(&t, t.match_ip(ip("10.2.0.0"))), Some("10.0.0.0/8"));
    assert_eq!(
        val(&t, t.match_ip(ip("10.255.255.255"))),
        Some("10.0.0.0/8")
    );
    assert_eq!(val(&t, t.match_ip(ip("11.0.0.0"))), Some("0.0.0.0/0"));
    assert_eq!(val(&t, t.match_ip(ip("9.255.255.255"))), Some("0.0.0.0/0"));
    assert_eq!(
        val(&t, t.match_ip(ip("255.255.255.255"))),
        Some("255.255.255.255")
    );
    // IPv6 traffic does not match IPv4 indicators (except mapped addresses, below).
    assert_eq!(t.match_ip(ip("2001:db8::1")), None);

    let t = tables(&[(T::Ip, "192.0.2.1")]);
    assert_eq!(val(&t, t.match_ip(ip("192.0.2.1"))), Some("192.0.2.1"));
    assert_eq!(t.match_ip(ip("192.0.2.0")), None);
    assert_eq!(t.match_ip(ip("192.0.2.2")), None);
}

#[test]
fn ipv6_longest_prefix_wins() {
    let t = tables(&[
        (T::Cidr, "2001:db8::/32"),
        (T::Cidr, "2001:db8:1::/48"),
        (T::Ip, "2001:db8:1::1"),
        (T::Cidr, "2001:db8:1::/127"),
        (T::Cidr, "ffff::/16"),
    ]);
    assert_eq!(
        val(&t, t.match_ip(ip("2001:db8:1::1"))),
        Some("2001:db8:1::1")
    );
    assert_eq!(
        val(&t, t.match_ip(ip("2001:db8:1::"))),
        Some("2001:db8:1::/127")
    );
    assert_eq!(
        val(&t, t.match_ip(ip("2001:db8:1::2"))),
        Some("2001:db8:1::/48")
    );
    assert_eq!(
        val(&t, t.match_ip(ip("2001:db8:2::"))),
        Some("2001:db8::/32")
    );
    assert_eq!(t.match_ip(ip("2001:db9::")), None);
    assert_eq!(
        val(
            &t,
            t.match_ip(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
        ),
        Some("ffff::/16")
    );
    assert_eq!(t.match_ip(ip("10.0.0.1")), None);
}

#[test]
fn ipv4_mapped_ipv6_is_matched_as_ipv4() {
    let t = tables(&[
        (T::Ip, "198.51.100.7"),
        (T::Ip, "::ffff:203.0.113.9"),
        (T::Cidr, "::ffff:192.0.2.0/120"),
        (T::Cidr, "::/0"),
    ]);
    // Observed mapped address vs IPv4 indicator.
    assert_eq!(
        val(&t, t.match_ip(ip("::ffff:198.51.100.7"))),
        Some("198.51.100.7")
    );
    // Mapped indicators match both the IPv4 address and its mapped form.
    assert_eq!(
        val(&t, t.match_ip(ip("203.0.113.9"))),
        Some("::ffff:203.0.113.9")
    );
    assert_eq!(
        val(&t, t.match_ip(ip("::ffff:203.0.113.9"))),
        Some("::ffff:203.0.113.9")
    );
    assert_eq!(
        val(&t, t.match_ip(ip("192.0.2.77"))),
        Some("::ffff:192.0.2.0/120")
    );
    // A mapped address with no IPv4 hit falls back to the IPv6 table …
    assert_eq!(val(&t, t.match_ip(ip("::ffff:8.8.8.8"))), Some("::/0"));
    assert_eq!(val(&t, t.match_ip(ip("2001:db8::1"))), Some("::/0"));
    // … but plain IPv4 traffic is not matched by IPv6 networks.
    assert_eq!(t.match_ip(ip("8.8.8.8")), None);
    assert_eq!(t.counts()[0], (T::Ip, 2));
}

#[test]
fn identical_prefixes_first_added_wins() {
    let t = tables(&[(T::Cidr, "192.0.2.1/32"), (T::Ip, "192.0.2.1")]);
    assert_eq!(t.len(), 2);
    assert_eq!(val(&t, t.match_ip(ip("192.0.2.1"))), Some("192.0.2.1/32"));
    let t = tables(&[(T::Ip, "192.0.2.1"), (T::Cidr, "192.0.2.1/32")]);
    assert_eq!(val(&t, t.match_ip(ip("192.0.2.1"))), Some("192.0.2.1"));
}

#[test]
fn cidr_host_bits_are_ignored_and_bad_networks_rejected() {
    let t = tables(&[(T::Cidr, "10.1.2.3/8")]);
    assert_eq!(val(&t, t.match_ip(ip("10.200.0.1"))), Some("10.1.2.3/8"));
    let mut b = TablesBuilder::new();
    for bad in [
        "10.0.0.0",
        "10.0.0.0/33",
        "10.0.0.0/+8",
        "10.0.0/8",
        "::/129",
        "x/1",
        "1.2.3.4/",
    ] {
        let e = b.add(&ind(T::Cidr, bad)).unwrap_err().to_string();
        assert!(e.contains("cidr") && e.contains(bad), "{e}");
    }
    for bad in ["1.2.3", "1.2.3.4/32", "::g", ""] {
        let e = b.add(&ind(T::Ip, bad)).unwrap_err().to_string();
        assert!(e.contains("invalid ip indicator value"), "{e}");
    }
    assert!(b.is_empty());
}

#[test]
fn domain_matches_itself_and_subdomains_most_specific_first() {
    let t = tables(&[(T::Domain, "evil.com"), (T::Domain, "b.evil.com")]);
    assert_eq!(val(&t, t.match_domain("evil.com")), Some("evil.com"));
    assert_eq!(val(&t, t.match_domain("x.evil.com")), Some("evil.com"));
    assert_eq!(val(&t, t.match_domain("a.b.evil.com")), Some("b.evil.com"));
    assert_eq!(val(&t, t.match_domain("b.evil.com")), Some("b.evil.com"));
    assert_eq!(val(&t, t.match_domain("c.evil.com")), Some("evil.com"));
    // Case and trailing dot.
    assert_eq!(val(&t, t.match_domain("A.B.EVIL.COM.")), Some("b.evil.com"));
    assert_eq!(val(&t, t.match_domain("Evil.Com")), Some("evil.com"));
    // Not a label boundary, or a different name.
    assert_eq!(t.match_domain("notevil.com"), None);
    assert_eq!(t.match_domain("evil.com.au"), None);
    assert_eq!(t.match_domain("com"), None);
    assert_eq!(t.match_domain(""), None);
    assert_eq!(t.match_domain("."), None);
    assert_eq!(t.match_domain("evil.com.."), None);
    // Too long: no match, no panic.
    let long = format!("{}.evil.com", "a.".repeat(130));
    assert!(long.len() > 253);
    assert_eq!(t.match_domain(&long), None);
    let just_fits = format!("{}evil.com", "a.".repeat(122));
    assert!(just_fits.len() <= 253);
    assert_eq!(val(&t, t.match_domain(&just_fits)), Some("evil.com"));
    // Non-ASCII input does not panic.
    assert_eq!(
        t.match_domain("ünï.evil.com"),
        Some(t.match_domain("evil.com").unwrap())
    );
    assert_eq!(t.match_domain("évil.com"), None);
}

#[test]
fn deep_domains_match_at_any_label_count() {
    let deep = format!("{}evil.com", "l.".repeat(70)); // 72 labels
    let t = tables(&[
        (T::Domain, "a.b.c.d.e.evil.com"),
        (T::Domain, &deep),
        (T::Domain, "z.evil.com"),
    ]);
    assert_eq!(
        val(&t, t.match_domain("x.y.a.b.c.d.e.evil.com")),
        Some("a.b.c.d.e.evil.com")
    );
    assert_eq!(
        val(&t, t.match_domain(&format!("q.{deep}"))),
        Some(deep.as_str())
    );
    assert_eq!(val(&t, t.match_domain(&deep)), Some(deep.as_str()));
    assert_eq!(
        val(&t, t.match_domain("1.2.3.4.5.6.z.evil.com")),
        Some("z.evil.com")
    );
    assert_eq!(t.match_domain("b.c.d.e.evil.com"), None);
    assert_eq!(t.match_domain(&deep[2..]), None);
}

#[test]
fn domain_walk_stops_at_public_suffixes() {
    let t = tables(&[
        (T::Domain, "github.io"),
        (T::Domain, "co.uk"),
        (T::Domain, "com"),
        (T::Domain, "blogspot.com"),
        (T::Domain, "evil.co.uk"),
        (T::Domain, "attacker.github.io"),
    ]);
    // Public suffixes match only themselves.
    assert_eq!(val(&t, t.match_domain("github.io")), Some("github.io"));
    assert_eq!(t.match_domain("foo.github.io"), None);
    assert_eq!(val(&t, t.match_domain("co.uk")), Some("co.uk"));
    assert_eq!(t.match_domain("x.co.uk"), None);
    assert_eq!(t.match_domain("a.x.co.uk"), None);
    assert_eq!(val(&t, t.match_domain("COM.")), Some("com"));
    assert_eq!(t.match_domain("example.com"), None);
    assert_eq!(
        val(&t, t.match_domain("blogspot.com")),
        Some("blogspot.com")
    );
    assert_eq!(t.match_domain("someone.blogspot.com"), None);
    // Registrable domains under public suffixes match their subdomains.
    assert_eq!(val(&t, t.match_domain("evil.co.uk")), Some("evil.co.uk"));
    assert_eq!(
        val(&t, t.match_domain("www.evil.co.uk")),
        Some("evil.co.uk")
    );
    assert_eq!(
        val(&t, t.match_domain("a.b.attacker.github.io")),
        Some("attacker.github.io")
    );
    // Unknown TLDs are public suffixes by the list's default rule.
    let t = tables(&[(T::Domain, "corp.internal"), (T::Domain, "internal")]);
    assert_eq!(
        val(&t, t.match_domain("host.corp.internal")),
        Some("corp.internal")
    );
    assert_eq!(t.match_domain("other.internal"), None);
}

#[test]
fn url_exact_match() {
    let t = tables(&[
        (T::Url, "evil.com/path/x.php?id=1"),
        (T::Url, "evil.com:8080/"),
    ]);
    assert_eq!(
        val(&t, t.match_url("evil.com/path/x.php?id=1")),
        Some("evil.com/path/x.php?id=1")
    );
    assert_eq!(
        val(&t, t.match_url("evil.com:8080/")),
        Some("evil.com:8080/")
    );
    assert_eq!(t.match_url("evil.com/path/X.php?id=1"), None);
    assert_eq!(t.match_url("evil.com/path/x.php"), None);
    assert_eq!(t.match_url("evil.com"), None);
    // URLs are not domains.
    assert_eq!(t.match_domain("evil.com"), None);
    let mut b = TablesBuilder::new();
    for bad in ["http://evil.com/", "", "evil.com/a b", "/path"] {
        assert!(b.add(&ind(T::Url, bad)).is_err(), "{bad:?}");
    }
    // A scheme-like string inside the query is fine.
    b.add(&ind(T::Url, "evil.com/r?u=http://x")).unwrap();
}

const MD5: &str = "0123456789abcdef0123456789abcdef";
const MD5_2: &str = "fedcba9876543210fedcba9876543210";
const SHA1: &str = "0123456789abcdef0123456789abcdef01234567";
const SHA256: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn ja3_ja3s_and_md5() {
    let t = tables(&[(T::Md5, MD5), (T::Ja3, MD5_2)]);
    // JA3 lookups also see MD5 indicators.
    assert_eq!(val(&t, t.match_ja3(MD5)), Some(MD5));
    assert_eq!(val(&t, t.match_ja3s(MD5)), Some(MD5));
    assert_eq!(val(&t, t.match_ja3(&MD5.to_uppercase())), Some(MD5));
    assert_eq!(t.get(t.match_ja3(MD5_2).unwrap()).kind, T::Ja3);
    assert_eq!(t.match_ja3s(MD5_2), None);
    // A file-hash lookup does not see JA3 indicators.
    assert_eq!(t.match_hash(MD5_2), None);
    assert_eq!(t.get(t.match_hash(MD5).unwrap()).kind, T::Md5);
    assert_eq!(t.match_ja3("0123"), None);
    assert_eq!(t.match_ja3(&format!("{MD5}00")), None);

    // A Ja3 indicator wins over an Md5 one with the same value.
    let t = tables(&[(T::Md5, MD5), (T::Ja3, MD5), (T::Ja3s, MD5)]);
    assert_eq!(t.len(), 3);
    assert_eq!(t.get(t.match_ja3(MD5).unwrap()).kind, T::Ja3);
    assert_eq!(t.get(t.match_ja3s(MD5).unwrap()).kind, T::Ja3s);
    assert_eq!(t.get(t.match_hash(MD5).unwrap()).kind, T::Md5);
}

#[test]
fn hashes_by_length_case_insensitive() {
    let t = tables(&[
        (T::Md5, MD5),
        (T::Sha1, &SHA1.to_uppercase()),
        (T::Sha256, SHA256),
    ]);
    assert_eq!(val(&t, t.match_hash(MD5)), Some(MD5));
    assert_eq!(val(&t, t.match_hash(&SHA1.to_uppercase())), Some(SHA1));
    assert_eq!(val(&t, t.match_hash(SHA1)), Some(SHA1));
    assert_eq!(val(&t, t.match_hash(&SHA256.to_uppercase())), Some(SHA256));
    assert_eq!(t.match_hash(&SHA256[..63]), None);
    assert_eq!(t.match_hash(""), None);
    assert_eq!(t.match_hash(&SHA256.replace('0', "1")), None);
    let mut b = TablesBuilder::new();
    let e = b.add(&ind(T::Sha256, SHA1)).unwrap_err().to_string();
    assert!(e.contains("sha256") && e.contains(SHA1), "{e}");
    assert!(b.add(&ind(T::Md5, &MD5.replace('a', "g"))).is_err());
    assert!(b.add(&ind(T::Ja3, SHA1)).is_err());
}

#[test]
fn ja4_case_insensitive() {
    let j = "t13d1516h2_8daaf6152771_e5627efa2ab1";
    let t = tables(&[(T::Ja4, j)]);
    assert_eq!(val(&t, t.match_ja4(j)), Some(j));
    assert_eq!(val(&t, t.match_ja4(&j.to_uppercase())), Some(j));
    assert_eq!(t.match_ja4("t13d1516h2_8daaf6152771_e5627efa2ab2"), None);
    assert_eq!(t.match_ja4(&"x".repeat(1000)), None);
    assert_eq!(t.match_hash(j), None);
}

#[test]
fn duplicates_keep_first_metadata_and_highest_confidence() {
    let mut b = TablesBuilder::new();
    let mut first = ind(T::Domain, "evil.com");
    first.source = "feed-a".into();
    first.id = Some("indicator--1".into());
    first.name = Some("first".into());
    first.confidence = Confidence::new(40);
    first.severity = Severity::new(3);
    b.add(&first).unwrap();
    let mut second = first.clone();
    second.value = "EVIL.COM.".into(); // same canonical value
    second.source = "feed-b".into();
    second.id = Some("indicator--2".into());
    second.name = Some("second".into());
    second.confidence = Confidence::new(90);
    second.severity = Severity::new(1);
    b.add(&second).unwrap();
    let mut third = first.clone();
    third.confidence = Confidence::new(10);
    b.add(&third).unwrap();
    // Same value, different kind: not a duplicate.
    b.add(&ind(T::Url, "evil.com")).unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(b.duplicates(), 2);
    let t = b.build();
    assert_eq!(t.len(), 2);
    let r = t.get(t.match_domain("evil.com").unwrap());
    assert_eq!(r.id, 0);
    assert_eq!(r.source, "feed-a");
    assert_eq!(r.stix_id, Some("indicator--1"));
    assert_eq!(r.name, Some("first"));
    assert_eq!(r.severity, Severity::new(3));
    assert_eq!(r.confidence, Confidence::new(90));
    assert_eq!(t.get(t.match_url("evil.com").unwrap()).kind, T::Url);
}

#[test]
fn duplicates_take_the_most_recent_valid_from() {
    let mut b = TablesBuilder::new();
    b.add(&ind(T::Ip, "192.0.2.9")).unwrap(); // undated, so the date array starts later
    let mut first = ind(T::Domain, "evil.com");
    first.valid_from = Some(1_600_000_000);
    b.add(&first).unwrap();
    for t in [
        Some(1_500_000_000),
        None,
        Some(1_700_000_000),
        Some(1_650_000_000),
    ] {
        b.add(&Indicator {
            valid_from: t,
            ..first.clone()
        })
        .unwrap();
    }
    // A dated duplicate of an undated indicator gives it a date.
    b.add(&Indicator {
        valid_from: Some(1_234_567_890),
        ..ind(T::Ip, "192.0.2.9")
    })
    .unwrap();
    let t = b.build();
    let dom = t.get(t.match_domain("evil.com").unwrap());
    assert_eq!(dom.valid_from, Some(1_700_000_000));
    let ip4 = t.get(t.match_ip(ip("192.0.2.9")).unwrap());
    assert_eq!(ip4.valid_from, Some(1_234_567_890));
}

#[test]
fn provenance_round_trips_and_undated_tables_pay_nothing_for_it() {
    let mut b = TablesBuilder::new();
    // An explicit grade set before loading wins over the indicators' own.
    b.set_source_reliability("graded", Reliability::A).unwrap();
    let add = |b: &mut TablesBuilder, v: &str, src: &str, t, r| {
        b.add(&Indicator {
            source: src.into(),
            valid_from: t,
            reliability: r,
            ..ind(T::Domain, v)
        })
        .unwrap()
    };
    add(
        &mut b,
        "a.example",
        "graded",
        Some(1_600_000_000),
        Some(Reliability::E),
    );
    // The first indicator of a source with a grade sets it.
    add(&mut b, "b.example", "plain", None, None);
    add(&mut b, "c.example", "plain", Some(0), Some(Reliability::C));
    add(&mut b, "d.example", "plain", Some(-5), Some(Reliability::E));
    add(&mut b, "e.example", "plain", Some(i64::MAX), None);
    add(&mut b, "f.example", "late", None, None);
    // Setting a grade after loading also wins.
    b.set_source_reliability("late", Reliability::B).unwrap();
    let t = b.build();
    let get = |v| t.get(t.match_domain(v).unwrap());
    assert_eq!(get("a.example").reliability, Some(Reliability::A));
    assert_eq!(get("a.example").valid_from, Some(1_600_000_000));
    assert_eq!(get("b.example").reliability, Some(Reliability::C));
    assert_eq!(get("b.example").valid_from, None);
    // Out-of-range dates are clamped, never read as "unknown".
    assert_eq!(get("c.example").valid_from, Some(1));
    assert_eq!(get("d.example").valid_from, Some(1));
    assert_eq!(get("d.example").reliability, Some(Reliability::C));
    assert_eq!(get("e.example").valid_from, Some(i64::from(u32::MAX)));
    assert_eq!(get("f.example").reliability, Some(Reliability::B));
    assert_eq!(t.valid_from.len(), t.len());

    // Undated tables have no date array at all.
    let mut b = TablesBuilder::new();
    for i in 0..100u32 {
        b.add(&ind(T::Ip, &Ipv4Addr::from(i + 1).to_string()))
            .unwrap();
    }
    let undated = b.build();
    assert!(undated.valid_from.is_empty());
    assert_eq!(undated.get(5).valid_from, None);
    assert_eq!(undated.get(5).reliability, None);
}

#[test]
fn score_at_uses_the_age_at_the_given_time() {
    let day = 86_400;
    let mut b = TablesBuilder::new();
    b.add(&Indicator {
        confidence: Confidence::new(80),
        valid_from: Some(1_700_000_000),
        reliability: Some(Reliability::B),
        ..ind(T::Domain, "evil.com")
    })
    .unwrap();
    b.add(&Indicator {
        source: "ungraded".into(),
        ..ind(T::Ip, "192.0.2.1")
    })
    .unwrap();
    let t = b.build();
    let r = t.get(t.match_domain("evil.com").unwrap());
    // Domains: τ 120 d, δ 2; 30 days → decay 0.5.
    let s = r.score_at(1_700_000_000 + 30 * day);
    assert_eq!(s.value, 36);
    assert_eq!(s.age_days, Some(30.0));
    assert_eq!(
        s.explanation(),
        "base 80 × reliability B 0.90 × decay 0.50 (age 30.0 d, τ 120 d, δ 2.0) = 36"
    );
    assert_eq!(r.score_at(1_700_000_000).value, 72);
    assert_eq!(r.score_at(1_700_000_000 + 120 * day).value, 0);
    assert_eq!(r.score_at(i64::MIN).value, 72);
    // Undated, ungraded: the confidence as is.
    let s = t
        .get(t.match_ip(ip("192.0.2.1")).unwrap())
        .score_at(i64::MAX);
    assert_eq!((s.value, s.age_days), (50, None));
}

#[test]
fn metadata_round_trips() {
    // Every 2nd indicator with a STIX id: stored densely; every 5th: sparsely.
    for every in [2, 5] {
        metadata_round_trip(every);
    }
}

fn metadata_round_trip(every: u32) {
    let mut b = TablesBuilder::new();
    for i in 0..300u32 {
        b.add(&Indicator {
            kind: T::Ip,
            value: Ipv4Addr::from(0x0a00_0000 + i).to_string(),
            source: format!("feed-{}", i % 3),
            id: Some(if i % every == 0 {
                format!("indicator--{i}")
            } else {
                String::new()
            }),
            confidence: Confidence::new(i64::from(i % 101)),
            severity: Severity::new((i % 4 + 1) as u8),
            name: match i % 3 {
                0 => None,
                1 => Some(String::new()),
                _ => Some(format!("name {}", i % 5)),
            },
            valid_from: None,
            reliability: None,
        })
        .unwrap();
    }
    let t = b.build();
    assert_eq!(t.len(), 300);
    assert_eq!(t.iter().count(), 300);
    for i in 0..300u32 {
        let r = t.get(
            t.match_ip(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)))
                .unwrap(),
        );
        assert_eq!(r.id, i);
        assert_eq!(r.kind, T::Ip);
        assert_eq!(r.value, Ipv4Addr::from(0x0a00_0000 + i).to_string());
        assert_eq!(r.source, format!("feed-{}", i % 3));
        assert_eq!(
            r.stix_id.map(str::to_string),
            (i % every == 0).then(|| format!("indicator--{i}"))
        );
        assert_eq!(r.confidence.get() as u32, i % 101);
        assert_eq!(r.severity.get() as u32, i % 4 + 1);
        let name = (i % 3 == 2).then(|| format!("name {}", i % 5));
        assert_eq!(r.name.map(str::to_string), name);
    }
    // Names and sources are interned.
    assert_eq!(t.stix.dense, every == 2);
    assert_eq!(t.sources.len(), 3);
    assert_eq!(t.names.len(), 5);
}

#[test]
fn counts_empty_and_heap_bytes() {
    let e = IndicatorTables::empty();
    assert!(e.is_empty());
    assert_eq!(e.len(), 0);
    assert_eq!(e.counts().len(), IndicatorType::ALL.len());
    assert!(e.counts().iter().all(|&(_, n)| n == 0));
    assert_eq!(e.match_ip(ip("1.2.3.4")), None);
    assert_eq!(e.match_ip(ip("::1")), None);
    assert_eq!(e.match_domain("evil.com"), None);
    assert_eq!(e.match_url("evil.com/"), None);
    assert_eq!(e.match_ja3(MD5), None);
    assert_eq!(e.match_ja3s(MD5), None);
    assert_eq!(e.match_ja4("t13"), None);
    assert_eq!(e.match_hash(SHA256), None);

    let t = tables(&[
        (T::Ip, "1.2.3.4"),
        (T::Ip, "::1"),
        (T::Cidr, "10.0.0.0/8"),
        (T::Domain, "evil.com"),
        (T::Sha256, SHA256),
    ]);
    let counts = t.counts();
    assert_eq!(counts[0], (T::Ip, 2));
    assert_eq!(counts[1], (T::Cidr, 1));
    assert_eq!(counts[2], (T::Domain, 1));
    assert_eq!(counts[9], (T::Sha256, 1));
    assert_eq!(counts.iter().map(|c| c.1).sum::<usize>(), t.len());
    assert!(t.heap_bytes() > 0);
    assert!(format!("{t:?}").contains("len: 5"));
    assert_eq!(val(&t, t.match_ip(ip("::1"))), Some("::1"));

    fn send_sync<X: Send + Sync + 'static>() {}
    send_sync::<IndicatorTables>();
    send_sync::<TablesBuilder>();
}

#[test]
fn invalid_values_are_rejected_and_leave_builder_unchanged() {
    let mut b = TablesBuilder::new();
    b.add(&ind(T::Domain, "ok.com")).unwrap();
    for (k, v) in [
        (T::Domain, ""),
        (T::Domain, "."),
        (T::Domain, "a..com"),
        (T::Domain, ".a.com"),
        (T::Domain, "évil.com"),
        (T::Domain, "evil.com/x"),
        (T::Ja4, "has space"),
        (T::Ja4, ""),
    ] {
        let e = b.add(&ind(k, v)).unwrap_err();
        assert!(
            matches!(e, TableError::InvalidValue { kind, .. } if kind == k),
            "{e}"
        );
    }
    let long = format!("{}.com", "a".repeat(300));
    let e = b.add(&ind(T::Domain, &long)).unwrap_err().to_string();
    assert!(e.len() < 400, "value in the message is truncated");
    assert_eq!(b.len(), 1);
    let t = b.build();
    assert_eq!(val(&t, t.match_domain("www.ok.com")), Some("ok.com"));
    assert_eq!(t.values.text, "ok.com");
}

fn naive_lpm(prefixes: &[(u32, u8)], q: u32) -> Option<usize> {
    let mut best: Option<(u8, usize)> = None;
    for (i, &(a, l)) in prefixes.iter().enumerate() {
        let mask = u32::MAX.checked_shl(32 - u32::from(l)).unwrap_or(0);
        if q & mask == a & mask && best.is_none_or(|(bl, _)| l > bl) {
            best = Some((l, i));
        }
    }
    best.map(|b| b.1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// End-to-end: Ip and Cidr indicators through the builder vs a naive LPM over the inputs.
    #[test]
    fn match_ip_agrees_with_naive_lpm(
        raw in prop::collection::vec(
            (any::<u32>().prop_map(|x| x & 0xC0F0_0F03), 0u8..=32, any::<bool>()),
            1..60,
        ),
        queries in prop::collection::vec(any::<u32>().prop_map(|x| x & 0xC0F0_0F03), 0..50),
    ) {
        let mut b = TablesBuilder::new();
        // Canonical prefixes, deduplicated by value the way the builder would.
        let mut prefixes: Vec<(u32, u8)> = Vec::new();
        let mut values: Vec<String> = Vec::new();
        for &(a, l, as_ip) in &raw {
            let mask = u32::MAX.checked_shl(32 - u32::from(l)).unwrap_or(0);
            let net = a & mask;
            let (kind, v) = if as_ip && l == 32 {
                (T::Ip, Ipv4Addr::from(net).to_string())
            } else {
                (T::Cidr, format!("{}/{l}", Ipv4Addr::from(net)))
            };
            b.add(&ind(kind, &v)).unwrap();
            // Only the first of equal prefixes (by address range) can ever match.
            if !prefixes.contains(&(net, l)) {
                prefixes.push((net, l));
                values.push(v);
            }
        }
        let t = b.build();
        let mut qs = queries;
        for &(a, l) in &prefixes {
            let mask = u32::MAX.checked_shl(32 - u32::from(l)).unwrap_or(0);
            qs.extend([a, a | !mask, a.wrapping_sub(1), (a | !mask).wrapping_add(1)]);
        }
        for q in qs {
            let got = val(&t, t.match_ip(IpAddr::V4(Ipv4Addr::from(q))));
            let want = naive_lpm(&prefixes, q).map(|i| values[i].as_str());
            prop_assert_eq!(got, want, "query {}", Ipv4Addr::from(q));
            let mapped = IpAddr::V6(Ipv4Addr::from(q).to_ipv6_mapped());
            prop_assert_eq!(val(&t, t.match_ip(mapped)), want);
        }
    }
}

/// Deterministic xorshift64* for the load test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn word(&mut self, min: usize, max: usize) -> String {
        let n = min + (self.next() as usize) % (max - min + 1);
        (0..n)
            .map(|_| (b'a' + (self.next() % 26) as u8) as char)
            .collect()
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit((self.next() % 16) as u32, 16).unwrap())
            .collect()
    }
}

/// 1M mixed indicators: build time and memory. Run in release:
/// `cargo test --release -p vigil-detect --lib tables:: -- --ignored --nocapture`
#[test]
#[ignore]
fn load_one_million_indicators() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let tlds = [
        "com",
        "net",
        "org",
        "ru",
        "co.uk",
        "info",
        "xyz",
        "top",
        "github.io",
        "de",
    ];
    let sources = [
        "abuse.ch",
        "otx",
        "misp-a",
        "misp-b",
        "spamhaus",
        "local-list",
    ];
    let mut inds = Vec::with_capacity(1_000_000);
    let mut push = |rng: &mut Rng, kind, value: String| {
        let r = rng.next();
        inds.push(Indicator {
            kind,
            value,
            source: sources[(r % 6) as usize].to_string(),
            // A tenth carry a STIX id, a quarter a (shared) name.
            id: (r % 10 == 1).then(|| format!("indicator--{:032x}", rng.next())),
            confidence: Confidence::new((r >> 8) as i64 % 101),
            severity: Severity::new(((r >> 16) % 4 + 1) as u8),
            name: ((r >> 24) % 4 == 1).then(|| format!("campaign {}", (r >> 32) % 200)),
            // Every indicator dated (as from STIX or a dated CSV): the worst case for memory.
            valid_from: Some(1_600_000_000 + (r >> 40) as i64 % 100_000_000),
            reliability: Some(Reliability::ALL[(r % 6) as usize]),
        });
    };
    for _ in 0..400_000 {
        let a = Ipv4Addr::from(rng.next() as u32);
        push(&mut rng, T::Ip, a.to_string());
    }
    for _ in 0..50_000 {
        let len = 8 + (rng.next() % 23) as u8;
        let mask = u32::MAX << (32 - len);
        let a = Ipv4Addr::from(rng.next() as u32 & mask);
        push(&mut rng, T::Cidr, format!("{a}/{len}"));
    }
    let mut domains = Vec::new();
    for _ in 0..350_000 {
        let d = if rng.next() % 3 == 1 {
            format!(
                "{}.{}.{}",
                rng.word(3, 8),
                rng.word(5, 12),
                tlds[(rng.next() % 10) as usize]
            )
        } else {
            format!("{}.{}", rng.word(5, 14), tlds[(rng.next() % 10) as usize])
        };
        domains.push(d.clone());
        push(&mut rng, T::Domain, d);
    }
    for _ in 0..100_000 {
        let u = format!(
            "{}.{}/{}/{}.php?id={}",
            rng.word(5, 12),
            tlds[(rng.next() % 10) as usize],
            rng.word(3, 10),
            rng.word(3, 10),
            rng.next() % 100_000
        );
        push(&mut rng, T::Url, u);
    }
    let mut hashes = Vec::new();
    for _ in 0..50_000 {
        let h = rng.hex(64);
        hashes.push(h.clone());
        push(&mut rng, T::Sha256, h);
    }
    for _ in 0..50_000 {
        let h = rng.hex(32);
        push(&mut rng, T::Md5, h);
    }
    let text_bytes: usize = inds.iter().map(|i| i.value.len()).sum();

    let t0 = Instant::now();
    let mut b = TablesBuilder::new();
    for i in &inds {
        b.add(i).unwrap();
    }
    let t_add = t0.elapsed();
    let t1 = Instant::now();
    let t = b.build();
    let t_build = t1.elapsed();
    let heap = t.heap_bytes();
    println!(
        "1M load: {} indicators ({} duplicates), add {:?} + build {:?} = {:?}",
        t.len(),
        inds.len() - t.len(),
        t_add,
        t_build,
        t_add + t_build
    );
    println!(
        "heap {} bytes = {:.1} MiB = {:.1} bytes/indicator (value text alone {:.1} bytes/indicator)",
        heap,
        heap as f64 / (1024.0 * 1024.0),
        heap as f64 / t.len() as f64,
        text_bytes as f64 / inds.len() as f64
    );
    println!("counts {:?}", t.counts());
    println!(
        "v4 hosts+intervals {}, v6 hosts+intervals {}, string slots {}, stix ids dense: {}",
        t.v4.len(),
        t.v6.len(),
        t.strings.heap_bytes() / 8,
        t.stix.dense
    );
    let dates = t.valid_from.capacity() * 4;
    println!(
        "valid_from array {} bytes ({:.1} bytes/indicator; absent for undated feeds: {:.1} bytes/indicator)",
        dates,
        dates as f64 / t.len() as f64,
        (heap - dates) as f64 / t.len() as f64
    );
    let r = t.get(0);
    println!(
        "score of indicator 0 a week after its date: {}",
        r.score_at(r.valid_from.unwrap() + 7 * 86_400).explanation()
    );

    // Lookup throughput (hits and misses).
    let n = 1_000_000u32;
    let t2 = Instant::now();
    let mut hits = 0usize;
    for i in 0..n {
        let q = Ipv4Addr::from(i.wrapping_mul(2_654_435_761));
        hits += t.match_ip(IpAddr::V4(q)).is_some() as usize;
    }
    let ip_ns = t2.elapsed().as_nanos() as f64 / f64::from(n);
    // Half subdomains of indicators (hits), half near misses; then exact hits.
    let queries: Vec<String> = (0..100_000)
        .map(|i| {
            let d = &domains[(i * 7) % domains.len()];
            if i % 2 == 0 {
                format!("www.{d}")
            } else {
                format!("www.x{d}")
            }
        })
        .collect();
    let t3 = Instant::now();
    for i in 0..n as usize {
        hits += t.match_domain(&queries[i % queries.len()]).is_some() as usize;
    }
    let dom_ns = t3.elapsed().as_nanos() as f64 / f64::from(n);
    let t4 = Instant::now();
    for i in 0..n as usize {
        hits += t.match_hash(&hashes[i % hashes.len()]).is_some() as usize;
    }
    let hash_ns = t4.elapsed().as_nanos() as f64 / f64::from(n);
    println!(
        "lookups: match_ip {ip_ns:.0} ns, match_domain {dom_ns:.0} ns, match_hash {hash_ns:.0} ns; hits {hits}"
    );
    assert_eq!(t.len() + (inds.len() - t.len()), 1_000_000);
    assert!(heap < 60 * 1_000_000, "heap {heap}");
}
