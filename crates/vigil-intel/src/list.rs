//! Plain indicator lists: one value per line.
//!
//! Understood line shapes:
//!
//! * blank lines and `#` comment lines; a trailing ` #…` / `\t#…` comment is cut off and becomes
//!   the indicator's `name`;
//! * hosts-file lines `0.0.0.0 evil.com` / `127.0.0.1 evil.com` (also `::`, `::1`, `0`): the
//!   second token is the value; `localhost`-style boilerplate entries are ignored;
//! * extra whitespace-separated columns (`1.2.3.4<TAB>5`, IPsum's count): the first token is the
//!   value;
//! * `value;comment` (signature-base `hash-iocs.txt`): the comment becomes the `name`; a purely
//!   numeric comment (a score, as in `c2-iocs.txt`'s `1.2.3.4;65`) is ignored. Values containing
//!   `/` (URLs) are not split at `;`;
//! * a comment line names the values that follow it until the next comment or blank line
//!   (signature-base `c2-iocs.txt`), except comments in the file's leading comment block, which
//!   are a header (`# Title: …` in urlhaus-filter);
//! * a directive `#type: ja3` (or `# type: ja3`, any case) forces the type of all following
//!   values; `#type: auto` returns to detection. An unknown type in a directive is an error.
//!
//! Values are typed with [`normalize::classify`] (or [`normalize::normalize_as`] under a type
//! directive); lines that fail become skipped records.
use std::str::FromStr;

use vigil_model::{Indicator, IndicatorType, Severity};

use crate::normalize;
use crate::{strip_bom, Feed, FeedBuilder, IntelError, LoadOptions};

/// Addresses that hosts-format block lists map names to.
fn is_sink_address(s: &str) -> bool {
    matches!(s, "0.0.0.0" | "127.0.0.1" | "::" | "::1" | "0")
}

/// Names that appear in every hosts file and are not indicators.
fn is_hosts_boilerplate(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "localhost"
            | "localhost.localdomain"
            | "local"
            | "broadcasthost"
            | "ip6-localhost"
            | "ip6-loopback"
            | "ip6-localnet"
            | "ip6-mcastprefix"
            | "ip6-allnodes"
            | "ip6-allrouters"
            | "ip6-allhosts"
            | "0.0.0.0"
    )
}

/// `type:` directive content after the `#`, if the comment is one.
fn type_directive(comment: &str) -> Option<&str> {
    let c = comment.trim_start();
    if c.len() >= 5 && c.as_bytes()[..5].eq_ignore_ascii_case(b"type:") {
        Some(c[5..].trim())
    } else {
        None
    }
}

/// Splits off a trailing comment introduced by whitespace followed by `#`.
fn split_trailing_comment(line: &str) -> (&str, Option<&str>) {
    let b = line.as_bytes();
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'#', &b[from..]) {
        let i = from + p;
        if i > 0 && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
            let comment = line[i + 1..].trim();
            return (
                line[..i].trim_end(),
                (!comment.is_empty()).then_some(comment),
            );
        }
        from = i + 1;
    }
    (line, None)
}

/// Parses a plain list held in memory. `name` is used in locations and as the default source.
pub fn parse(name: &str, data: &[u8], opts: &LoadOptions) -> Result<Feed, IntelError> {
    parse_with(name, data, opts, None)
}

/// [`parse`], handing indicators to `sink` when there is one.
pub(crate) fn parse_with(
    name: &str,
    data: &[u8],
    opts: &LoadOptions,
    sink: Option<crate::IndicatorSink<'_>>,
) -> Result<Feed, IntelError> {
    let data = strip_bom(data);
    let mut out = FeedBuilder::new(name, opts, sink);
    if !out.is_streaming() {
        out.feed
            .indicators
            .reserve(memchr::memchr_iter(b'\n', data).count() + 1);
    }
    let confidence = opts.default_confidence;
    let severity = Severity::from_confidence(confidence);
    let source = out.feed.source.clone();

    let mut forced: Option<IndicatorType> = None;
    let mut block_name: Option<String> = None;
    // True while inside the comment block at the very top of the file.
    let mut in_header = true;

    let mut start = 0usize;
    let mut lineno = 0usize;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |p| start + p);
        let raw = &data[start..end];
        start = end + 1;
        lineno += 1;

        let Ok(line) = std::str::from_utf8(raw) else {
            out.skip(
                format!("{name}:{lineno}"),
                "line is not valid utf-8".to_string(),
            )?;
            in_header = false;
            continue;
        };
        let line = line.trim_ascii();
        if line.is_empty() {
            block_name = None;
            in_header = false;
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(t) = type_directive(comment) {
                forced = if t.eq_ignore_ascii_case("auto") {
                    None
                } else {
                    Some(IndicatorType::from_str(t).map_err(|e| IntelError::Format {
                        location: format!("{name}:{lineno}"),
                        message: format!("#type directive: {e}"),
                    })?)
                };
                block_name = None;
                continue;
            }
            let c = comment.trim();
            block_name = (!in_header && !c.is_empty()).then(|| c.to_string());
            continue;
        }
        in_header = false;

        let (body, trailing) = split_trailing_comment(line);
        let (body, semi) = match memchr::memchr(b';', body.as_bytes()) {
            Some(i) if !body[..i].contains('/') => (&body[..i], Some(body[i + 1..].trim())),
            _ => (body, None),
        };
        let mut tokens = body.split_ascii_whitespace();
        let Some(first) = tokens.next() else {
            out.skip(
                format!("{name}:{lineno}"),
                "no value before ';'".to_string(),
            )?;
            continue;
        };
        let value = match tokens.next() {
            Some(second)
                if is_sink_address(first) && !second.bytes().all(|b| b.is_ascii_digit()) =>
            {
                if is_hosts_boilerplate(second) {
                    out.feed.ignored += 1;
                    continue;
                }
                second
            }
            _ => first,
        };
        let res = match forced {
            Some(kind) => normalize::normalize_as(kind, value),
            None => normalize::classify_or_err(value),
        };
        let (kind, value) = match res {
            Ok(kv) => kv,
            Err(e) => {
                out.skip(format!("{name}:{lineno}"), e.to_string())?;
                continue;
            }
        };
        let name_here = match semi {
            Some(c) if !c.is_empty() && !c.bytes().all(|b| b.is_ascii_digit()) => {
                Some(c.to_string())
            }
            _ => match trailing {
                Some(c) => Some(c.to_string()),
                None => block_name.clone(),
            },
        };
        out.push(Indicator {
            kind,
            value,
            source: source.clone(),
            id: None,
            confidence,
            severity,
            name: name_here,
            // Plain lists carry no dates.
            valid_from: None,
            reliability: opts.reliability,
        });
    }
    out.feed.indicators.shrink_to_fit();
    Ok(out.feed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use vigil_model::IndicatorType as T;

    fn load(text: &str) -> Feed {
        parse("t.txt", text.as_bytes(), &LoadOptions::default()).unwrap()
    }

    fn kinds(f: &Feed) -> Vec<(T, &str, Option<&str>)> {
        f.indicators
            .iter()
            .map(|i| (i.kind, i.value.as_str(), i.name.as_deref()))
            .collect()
    }

    #[test]
    fn line_shapes() {
        let f = load(
            "# header: not a name\n\
             1.2.3.4\t10\n\
             0.0.0.0 Evil.com\n\
             127.0.0.1 localhost\n\
             \n\
             # Campaign X\n\
             c2.example.net\n\
             5.6.7.8 # inline note\n\
             D41D8CD98F00B204E9800998ECF8427E;Sakula dropper\n\
             9.9.9.9;65\n\
             http://x.example/a;b=1\n\
             \n\
             hxxp://evil[.]com/x\r\n\
             ::1 ip6-localhost\n\
             10.0.0.0/8",
        );
        assert_eq!(
            kinds(&f),
            vec![
                (T::Ip, "1.2.3.4", None),
                (T::Domain, "evil.com", None),
                (T::Domain, "c2.example.net", Some("Campaign X")),
                (T::Ip, "5.6.7.8", Some("inline note")),
                (
                    T::Md5,
                    "d41d8cd98f00b204e9800998ecf8427e",
                    Some("Sakula dropper")
                ),
                (T::Ip, "9.9.9.9", Some("Campaign X")),
                (T::Url, "x.example/a;b=1", Some("Campaign X")),
                (T::Url, "evil.com/x", None),
                (T::Cidr, "10.0.0.0/8", None),
            ]
        );
        assert_eq!(f.ignored, 2);
        assert!(f.skipped.is_empty(), "{:?}", f.skipped);
        assert_eq!(f.indicators[0].source, "t.txt");
        assert_eq!(f.indicators[0].confidence.get(), 50);
        assert_eq!(f.indicators[0].severity.get(), 2);
        assert_eq!(f.path, PathBuf::from("t.txt"));
    }

    #[test]
    fn type_directive_forces_type() {
        let md5 = "e7d705a3286e19ea42f587b344ee6865";
        let f = load(&format!(
            "#type: ja3\n{md5}\n# TYPE: JA3S\n{md5}\n#type:auto\n{md5}\n# type: cidr\n1.2.3.4\n"
        ));
        assert_eq!(
            kinds(&f),
            vec![
                (T::Ja3, md5, None),
                (T::Ja3s, md5, None),
                (T::Md5, md5, None),
                (T::Ip, "1.2.3.4", None),
            ]
        );
        let f = load("#type: ja3\nnot-hex\n");
        assert_eq!(f.skipped.len(), 1);
        assert_eq!(
            f.skipped[0].to_string(),
            "t.txt:2: invalid ja3 value \"not-hex\": expected 32 hex digits"
        );
        let e = parse("t.txt", b"1.2.3.4\n#type: mutex\n", &LoadOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.txt:2: #type directive: unknown indicator type \"mutex\""),
            "{e}"
        );
    }

    #[test]
    fn malformed_lines_are_skipped_with_line_numbers() {
        let f = parse(
            "bad.txt",
            b"1.2.3.4\nnot_a_value\n\xff\xfe\n;comment only\n999.1.1.1\nevil.com\n",
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(f.indicators.len(), 2);
        let locs: Vec<_> = f.skipped.iter().map(|s| s.location.as_str()).collect();
        assert_eq!(locs, ["bad.txt:2", "bad.txt:3", "bad.txt:4", "bad.txt:5"]);
        assert!(f.skipped[1].reason.contains("utf-8"));
        // Empty input, only comments, no trailing newline.
        assert!(load("").indicators.is_empty());
        assert!(load("# x\n#\n").indicators.is_empty());
        assert_eq!(load("1.2.3.4").indicators.len(), 1);
    }

    /// Loads the real feeds under shared/data/ioc-feeds and checks the counts from its README.
    #[test]
    fn real_feeds() {
        let Some(root) = crate::shared_data().map(|d| d.join("ioc-feeds")) else {
            eprintln!("shared feeds not found; skipping");
            return;
        };
        let count = |rel: &str| -> (BTreeMap<T, usize>, Feed) {
            let path = root.join(rel);
            let data = std::fs::read(&path).unwrap();
            let f = parse(&path.display().to_string(), &data, &LoadOptions::default()).unwrap();
            let mut m = BTreeMap::new();
            for i in &f.indicators {
                *m.entry(i.kind).or_insert(0) += 1;
            }
            (m, f)
        };
        let (m, f) = count("ipsum/ipsum.txt");
        assert_eq!(m, BTreeMap::from([(T::Ip, 120_430)]));
        assert!(f.skipped.is_empty());
        assert!(f.indicators.iter().all(|i| i.name.is_none()));

        let (m, f) = count("threatfox/ips.txt");
        assert_eq!(m, BTreeMap::from([(T::Ip, 19_863)]));
        assert!(f.skipped.is_empty());

        let (m, f) = count("urlhaus-filter/urlhaus-filter-domains.txt");
        assert_eq!(m, BTreeMap::from([(T::Ip, 23_079), (T::Domain, 2_689)]));
        assert!(f.skipped.is_empty() && f.indicators.iter().all(|i| i.name.is_none()));
        let (m, _) = count("urlhaus-filter/urlhaus-filter-domains-online.txt");
        assert_eq!(m, BTreeMap::from([(T::Ip, 2_234), (T::Domain, 619)]));
        let (m, f) = count("urlhaus-filter/urlhaus-filter-hosts.txt");
        assert_eq!(m, BTreeMap::from([(T::Domain, 2_689)]));
        assert!(f.skipped.is_empty() && f.ignored == 0);
        let (m, _) = count("urlhaus-filter/urlhaus-filter-hosts-online.txt");
        assert_eq!(m, BTreeMap::from([(T::Domain, 619)]));

        let (m, f) = count("signature-base/hash-iocs.txt");
        assert_eq!(
            m,
            BTreeMap::from([(T::Md5, 1_039), (T::Sha1, 926), (T::Sha256, 1_259)])
        );
        assert!(
            f.skipped.is_empty(),
            "{:?}",
            &f.skipped[..f.skipped.len().min(5)]
        );
        assert!(f.indicators.iter().all(|i| i.name.is_some()));

        let (m, f) = count("signature-base/c2-iocs.txt");
        // The README says 1715 domains + 129 IPv4 = 1844 values. Its IPv4 count only covers bare
        // addresses: six more lines are `ip;65` (address;score, e.g. `176.123.5.126;65`) and
        // were counted as domains there. Here they are addresses: 1709 + 135 = 1844.
        assert_eq!(m, BTreeMap::from([(T::Ip, 135), (T::Domain, 1_709)]));
        assert_eq!(f.indicators.len(), 1_844);
        assert!(
            f.skipped.is_empty(),
            "{:?}",
            &f.skipped[..f.skipped.len().min(5)]
        );
        let snowman = f
            .indicators
            .iter()
            .find(|i| i.name.as_deref().is_some_and(|n| n.contains("Snowman")));
        assert!(snowman.is_some());
    }

    /// A synthetic mixed list: every line type, sized for a debug test run.
    fn synthetic(lines: usize) -> String {
        let mut s = String::with_capacity(lines * 40);
        s.push_str("# synthetic feed\n\n");
        for i in 0..lines {
            let (a, b, c) = ((i >> 16) & 255, (i >> 8) & 255, i & 255);
            match i % 8 {
                0..=2 => s.push_str(&format!("10.{a}.{b}.{c}\t{}\n", i % 10)),
                3 => s.push_str(&format!("host{i}.evil{a}.example.com\n")),
                4 => s.push_str(&format!("0.0.0.0 bad{i}.example.net\n")),
                5 => s.push_str(&format!("{:032x};malware {i}\n", i as u128 * 7919)),
                6 => s.push_str(&format!("http://evil{b}.example.org/path/{i}?id={c}\n")),
                _ => s.push_str(&format!("2001:db8::{:x}\n", i & 0xffff)),
            }
        }
        s
    }

    #[test]
    fn synthetic_mixed_list_loads() {
        let text = synthetic(20_000);
        let f = load(&text);
        assert_eq!(f.indicators.len(), 20_000);
        assert!(f.skipped.is_empty());
    }

    /// Release timing of 1M mixed lines; run with
    /// `cargo test --release -p vigil-intel list::tests::million_lines_timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn million_lines_timing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("million.txt");
        std::fs::write(&path, synthetic(1_000_000)).unwrap();
        let t = std::time::Instant::now();
        let feeds = crate::load_path(&path, &LoadOptions::default()).unwrap();
        let elapsed = t.elapsed();
        assert_eq!(feeds[0].indicators.len(), 1_000_000);
        eprintln!("loaded 1,000,000 lines in {elapsed:?}");
    }
}
