//! CSV feeds with a header row, including MISP CSV exports.
//!
//! Header names are matched case-insensitively, with `_` and spaces treated as `-`.
//!
//! * Value column: the first of `value`, `indicator`, `ioc`, `ioc-value`, `observable`, `ip`,
//!   `ip-dst`, `domain`, `hostname`, `url`, `md5`, `sha1`, `sha256`, `ja3`, `ja4` that is present
//!   (in that order of preference). A typed name (`ip`, `domain`, `md5`, …) implies the type.
//!   No value column is a fatal error naming the headers found and expected.
//! * `type` / `indicator-type` / `kind` / `ioc-type`: per-row type, which wins over a typed value
//!   column. MISP types are mapped (`ip-dst`, `ip-src`, `ip-dst|port` (address part), `domain`,
//!   `hostname`, `domain|ip` and `hostname|port` (name part), `url`, `md5`/`sha1`/`sha256`,
//!   `filename|md5`… and `malware-sample` (hash part), `ja3-fingerprint-md5`), as are ThreatFox's
//!   (`ip:port`, `md5_hash`, …) and the names [`IndicatorType`] parses. Other types (`mutex`,
//!   `regkey`, …) make the row a skipped record: `unknown indicator type "mutex"`. An empty type
//!   means detection.
//! * `confidence` (0–100), `severity` (1–4; default derived from the confidence), `id` / `uuid` /
//!   `ioc-id`, `name` / `description` / `comment` (first non-empty), `source` (overrides the feed
//!   source for the row). Invalid numbers make the row a skipped record.
//! * MISP `to_ids`: rows with `0`/`false` are not meant for detection and are ignored.
//! * The indicator's [`valid_from`](Indicator::valid_from): the first present of `valid-from`,
//!   `first-seen`, `firstseen`, `first-seen-utc` (ThreatFox), `dateadded` / `date-added`
//!   (URLhaus), `timestamp` and `date` (MISP; Unix seconds there), read with
//!   [`timestamp::parse_feed_time`]. An unreadable one leaves the age unknown and is counted in
//!   [`Feed::bad_timestamps`] (in strict mode: an error naming the line and column).
//!
//! Lines starting with `#` are comments. Skipped records are located as `file:line`.
use std::str::FromStr;

use vigil_model::{Confidence, Indicator, IndicatorType, Severity};

use crate::normalize;
use crate::timestamp;
use crate::{strip_bom, Feed, FeedBuilder, IntelError, LoadOptions};

const VALUE_COLUMNS: [(&str, Option<IndicatorType>); 15] = [
    ("value", None),
    ("indicator", None),
    ("ioc", None),
    ("ioc-value", None),
    ("observable", None),
    ("ip", Some(IndicatorType::Ip)),
    ("ip-dst", Some(IndicatorType::Ip)),
    ("domain", Some(IndicatorType::Domain)),
    ("hostname", Some(IndicatorType::Domain)),
    ("url", Some(IndicatorType::Url)),
    ("md5", Some(IndicatorType::Md5)),
    ("sha1", Some(IndicatorType::Sha1)),
    ("sha256", Some(IndicatorType::Sha256)),
    ("ja3", Some(IndicatorType::Ja3)),
    ("ja4", Some(IndicatorType::Ja4)),
];

/// Which part of a composite (`a|b`) MISP value holds the indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Whole,
    First,
    Second,
}

/// Maps a MISP / ThreatFox / generic type name.
fn map_type(t: &str) -> Option<(IndicatorType, Part)> {
    use IndicatorType as T;
    let lower = t.trim().to_ascii_lowercase();
    Some(match lower.as_str() {
        "ip-dst" | "ip-src" => (T::Ip, Part::Whole),
        "ip-dst|port" | "ip-src|port" => (T::Ip, Part::First),
        "ip:port" => (T::Ip, Part::Whole),
        "domain|ip" | "hostname|port" => (T::Domain, Part::First),
        "filename|md5" | "malware-sample" => (T::Md5, Part::Second),
        "filename|sha1" => (T::Sha1, Part::Second),
        "filename|sha256" => (T::Sha256, Part::Second),
        "md5_hash" => (T::Md5, Part::Whole),
        "sha1_hash" => (T::Sha1, Part::Whole),
        "sha256_hash" => (T::Sha256, Part::Whole),
        "ja3s-fingerprint-md5" => (T::Ja3s, Part::Whole),
        "ja4-fingerprint" => (T::Ja4, Part::Whole),
        _ => (IndicatorType::from_str(&lower).ok()?, Part::Whole),
    })
}

fn header_key(h: &[u8]) -> String {
    String::from_utf8_lossy(h)
        .trim()
        .trim_start_matches('\u{feff}')
        .trim()
        .to_ascii_lowercase()
        .replace(['_', ' '], "-")
}

struct Columns {
    value: usize,
    value_type: Option<IndicatorType>,
    kind: Option<usize>,
    confidence: Option<usize>,
    severity: Option<usize>,
    id: Option<usize>,
    names: Vec<usize>,
    source: Option<usize>,
    to_ids: Option<usize>,
    /// The timestamp column and its header as written (for messages).
    time: Option<(usize, String)>,
}

/// Timestamp columns, most specific first: a first-seen date beats MISP's modification time.
const TIME_COLUMNS: [&str; 8] = [
    "valid-from",
    "first-seen",
    "firstseen",
    "first-seen-utc",
    "dateadded",
    "date-added",
    "timestamp",
    "date",
];

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| headers.iter().position(|h| h == n))
}

/// Parses a CSV feed held in memory. `name` is used in locations and as the default source.
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
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(data);
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        IntelError::Csv {
            path: name.into(),
            line,
            message: e.to_string(),
        }
    };
    let raw_headers = rdr.byte_headers().map_err(csv_err)?.clone();
    let headers: Vec<String> = raw_headers.iter().map(header_key).collect();
    let Some((value, value_type)) = VALUE_COLUMNS
        .iter()
        .find_map(|(col, t)| headers.iter().position(|h| h == col).map(|i| (i, *t)))
    else {
        let expected: Vec<&str> = VALUE_COLUMNS.iter().map(|(c, _)| *c).collect();
        return Err(IntelError::Csv {
            path: name.into(),
            line: 1,
            message: format!(
                "no value column: found headers [{}], expected one of {}",
                headers.join(", "),
                expected.join(", ")
            ),
        });
    };
    let cols = Columns {
        value,
        value_type,
        kind: find(&headers, &["type", "indicator-type", "kind", "ioc-type"]),
        confidence: find(&headers, &["confidence"]),
        severity: find(&headers, &["severity"]),
        id: find(&headers, &["id", "uuid", "ioc-id"]),
        names: ["name", "description", "comment"]
            .iter()
            .filter_map(|n| headers.iter().position(|h| h == n))
            .collect(),
        source: find(&headers, &["source"]),
        to_ids: find(&headers, &["to-ids"]),
        time: find(&headers, &TIME_COLUMNS).map(|i| {
            let h = String::from_utf8_lossy(&raw_headers[i]);
            (i, h.trim().trim_start_matches('\u{feff}').to_string())
        }),
    };

    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_err(e)),
        }
        let line = rec.position().map_or(0, |p| p.line());
        let location = || format!("{name}:{line}");
        match row(&rec, &cols, opts, &out.feed.source) {
            Ok(Some((ind, bad_time))) => {
                if let Some(reason) = bad_time {
                    out.bad_timestamp(location(), reason)?;
                }
                out.push(ind);
            }
            Ok(None) => out.feed.ignored += 1,
            Err(reason) => out.skip(location(), reason)?,
        }
    }
    Ok(out.feed)
}

/// One data row: `Ok(None)` for a row that is deliberately ignored, `Err(reason)` to skip. A
/// kept row comes with the reason its timestamp was unreadable, if it was.
fn row(
    rec: &csv::ByteRecord,
    cols: &Columns,
    opts: &LoadOptions,
    feed_source: &str,
) -> Result<Option<(Indicator, Option<String>)>, String> {
    let field = |i: usize| -> Result<&str, String> {
        let raw = rec.get(i).unwrap_or(b"");
        let s =
            std::str::from_utf8(raw).map_err(|_| format!("column {} is not valid utf-8", i + 1))?;
        // Some exports quote after a space (`, "x"`), which CSV keeps literally.
        let s = s.trim();
        Ok(s.strip_prefix('"')
            .and_then(|x| x.strip_suffix('"'))
            .unwrap_or(s)
            .trim())
    };
    let opt_field = |i: Option<usize>| -> Result<Option<&str>, String> {
        match i {
            Some(i) => field(i).map(|s| (!s.is_empty()).then_some(s)),
            None => Ok(None),
        }
    };
    if let Some(t) = opt_field(cols.to_ids)? {
        if matches!(t.to_ascii_lowercase().as_str(), "0" | "false" | "no") {
            return Ok(None);
        }
    }
    let raw_value = field(cols.value)?;
    if raw_value.is_empty() {
        return Err("empty value".to_string());
    }
    let (kind, part) = match opt_field(cols.kind)? {
        Some(t) => match map_type(t) {
            Some((k, p)) => (Some(k), p),
            None => {
                return Err(format!(
                    "unknown indicator type {:?}",
                    normalize::snippet(t)
                ))
            }
        },
        None => (cols.value_type, Part::Whole),
    };
    let value = match part {
        Part::Whole => raw_value,
        Part::First => raw_value.split('|').next().unwrap_or(raw_value),
        Part::Second => raw_value.split('|').nth(1).ok_or_else(|| {
            format!(
                "expected a composite value \"a|b\", got {:?}",
                normalize::snippet(raw_value)
            )
        })?,
    };
    let (kind, value) = match kind {
        Some(k) => normalize::normalize_as(k, value),
        None => normalize::classify_or_err(value),
    }
    .map_err(|e| e.to_string())?;
    let confidence = match opt_field(cols.confidence)? {
        Some(c) => match c.parse::<f64>() {
            Ok(v) if (0.0..=100.0).contains(&v) => Confidence::new(v.round() as i64),
            _ => {
                return Err(format!(
                    "invalid confidence {:?}: expected a number 0–100",
                    normalize::snippet(c)
                ))
            }
        },
        None => opts.default_confidence,
    };
    let severity = match opt_field(cols.severity)? {
        Some(s) => match s.parse::<u8>() {
            Ok(v @ 1..=4) => Severity::new(v),
            _ => {
                return Err(format!(
                    "invalid severity {:?}: expected 1 (highest) to 4",
                    normalize::snippet(s)
                ))
            }
        },
        None => Severity::from_confidence(confidence),
    };
    let mut name = None;
    for &i in &cols.names {
        if let Some(n) = opt_field(Some(i))? {
            name = Some(n.to_string());
            break;
        }
    }
    let source = match opt_field(cols.source)? {
        Some(s) if opts.source.is_none() => s.to_string(),
        _ => feed_source.to_string(),
    };
    let (valid_from, bad_time) = match cols.time.as_ref() {
        Some((i, header)) => match opt_field(Some(*i))? {
            Some(t) => match timestamp::parse_feed_time(t) {
                Ok(v) => (Some(v), None),
                Err(e) => (
                    None,
                    Some(format!("invalid {header} {:?}: {e}", normalize::snippet(t))),
                ),
            },
            None => (None, None),
        },
        None => (None, None),
    };
    let ind = Indicator {
        kind,
        value,
        source,
        id: opt_field(cols.id)?.map(str::to_string),
        confidence,
        severity,
        name,
        valid_from,
        reliability: opts.reliability,
    };
    Ok(Some((ind, bad_time)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::IndicatorType as T;

    fn load(text: &str) -> Feed {
        parse("intel.csv", text.as_bytes(), &LoadOptions::default()).unwrap()
    }

    fn values(f: &Feed) -> Vec<(T, &str)> {
        f.indicators
            .iter()
            .map(|i| (i.kind, i.value.as_str()))
            .collect()
    }

    #[test]
    fn generic_columns() {
        let f = load(
            "\u{feff}Indicator,Type,Confidence,Severity,ID,Description,Source\n\
             1.2.3.4,,90,,i-1,scanner,\n\
             evil.com,domain,10,1,,\"a, b\",other-feed\n\
             e7d705a3286e19ea42f587b344ee6865,ja3,,,,,\n\
             x,mutex,,,,,\n\
             5.6.7.8,ip,150,,,,\n\
             5.6.7.9,ip,,9,,,\n\
             ,ip,,,,,\n\
             10.0.0.0/8\n",
        );
        assert_eq!(
            values(&f),
            vec![
                (T::Ip, "1.2.3.4"),
                (T::Domain, "evil.com"),
                (T::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
                (T::Cidr, "10.0.0.0/8"),
            ]
        );
        let i = &f.indicators;
        assert_eq!((i[0].confidence.get(), i[0].severity.get()), (90, 1));
        assert_eq!(i[0].id.as_deref(), Some("i-1"));
        assert_eq!(i[0].name.as_deref(), Some("scanner"));
        assert_eq!(i[0].source, "intel.csv");
        assert_eq!((i[1].confidence.get(), i[1].severity.get()), (10, 1));
        assert_eq!(i[1].name.as_deref(), Some("a, b"));
        assert_eq!(i[1].source, "other-feed");
        assert_eq!(i[2].confidence.get(), 50);
        let skipped: Vec<String> = f.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            skipped,
            [
                "intel.csv:5: unknown indicator type \"mutex\"",
                "intel.csv:6: invalid confidence \"150\": expected a number 0–100",
                "intel.csv:7: invalid severity \"9\": expected 1 (highest) to 4",
                "intel.csv:8: empty value",
            ]
        );
    }

    #[test]
    fn typed_value_column() {
        let f = load("md5,comment\nD41D8CD98F00B204E9800998ECF8427E,empty file\nnot-a-hash,x\n");
        assert_eq!(
            values(&f),
            vec![(T::Md5, "d41d8cd98f00b204e9800998ecf8427e")]
        );
        assert_eq!(f.skipped[0].location, "intel.csv:3");
        let f = load("hostname\nEvil.COM\n");
        assert_eq!(values(&f), vec![(T::Domain, "evil.com")]);
        let f = load("ip_dst\n10.1.0.0/16\n1.1.1.1:53\n");
        assert_eq!(
            values(&f),
            vec![(T::Cidr, "10.1.0.0/16"), (T::Ip, "1.1.1.1")]
        );
    }

    #[test]
    fn misp_export() {
        let f = load(
            "uuid,event_id,category,type,value,comment,to_ids,date,object_relation,attribute_tag,object_uuid,object_name,object_meta_category\n\
             5f1c0a3e-0001,42,Network activity,ip-dst,198.51.100.1,C2,1,1595000000,,,,,\n\
             5f1c0a3e-0002,42,Network activity,ip-dst|port,198.51.100.2|8443,,1,1595000000,,,,,\n\
             5f1c0a3e-0003,42,Network activity,domain|ip,c2.example.net|198.51.100.3,,1,1595000000,,,,,\n\
             5f1c0a3e-0004,42,Payload delivery,filename|sha256,drop.exe|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855,,1,1595000000,,,,,\n\
             5f1c0a3e-0005,42,Network activity,ja3-fingerprint-md5,e7d705a3286e19ea42f587b344ee6865,,1,1595000000,,,,,\n\
             5f1c0a3e-0006,42,Network activity,url,hxxp://evil[.]example/gate.php,,True,1595000000,,,,,\n\
             5f1c0a3e-0007,42,Network activity,hostname,benign.example.org,,0,1595000000,,,,,\n\
             5f1c0a3e-0008,42,Artifacts dropped,mutex,Global\\xyz,,1,1595000000,,,,,\n\
             5f1c0a3e-0009,42,Payload delivery,filename|md5,noseparator,,1,1595000000,,,,,\n",
        );
        assert_eq!(
            values(&f),
            vec![
                (T::Ip, "198.51.100.1"),
                (T::Ip, "198.51.100.2"),
                (T::Domain, "c2.example.net"),
                (
                    T::Sha256,
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                ),
                (T::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
                (T::Url, "evil.example/gate.php"),
            ]
        );
        assert_eq!(f.indicators[0].id.as_deref(), Some("5f1c0a3e-0001"));
        assert_eq!(f.indicators[0].name.as_deref(), Some("C2"));
        assert_eq!(f.ignored, 1);
        let skipped: Vec<String> = f.skipped.iter().map(|s| s.to_string()).collect();
        assert_eq!(skipped.len(), 2);
        assert_eq!(skipped[0], "intel.csv:9: unknown indicator type \"mutex\"");
        assert!(skipped[1].starts_with("intel.csv:10: expected a composite value"));
    }

    #[test]
    fn valid_from_from_date_columns() {
        // MISP: `date` in Unix seconds.
        let f = load("uuid,type,value,date\n1,ip-dst,192.0.2.1,1595000000\n2,ip-dst,192.0.2.2,\n");
        assert_eq!(f.indicators[0].valid_from, Some(1_595_000_000));
        assert_eq!(f.indicators[1].valid_from, None);
        // A first-seen column wins over MISP's modification `timestamp`; ThreatFox's format.
        let f = load(
            "ioc_value,first_seen_utc,timestamp\nevil.example,2024-01-02 03:04:05,1595000000\n",
        );
        assert_eq!(f.indicators[0].valid_from, Some(1_704_164_645));
        let f = load("value,Date\nevil.example,2020-01-01\n");
        assert_eq!(f.indicators[0].valid_from, Some(1_577_836_800));
        let f = load("value,comment\nevil.example,x\n");
        assert_eq!(f.indicators[0].valid_from, None);
    }

    #[test]
    fn unreadable_dates_leave_the_age_unknown_or_fail_in_strict_mode() {
        let text = "value,First_Seen\n192.0.2.1,2020-01-01\n192.0.2.2,01/02/2020\n";
        let f = load(text);
        assert_eq!(f.indicators.len(), 2);
        assert_eq!(f.indicators[1].valid_from, None);
        assert_eq!(f.bad_timestamps, 1);
        assert!(f.skipped.is_empty());
        let o = LoadOptions {
            strict: true,
            ..LoadOptions::default()
        };
        let e = parse("t.csv", text.as_bytes(), &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:3: invalid First_Seen \"01/02/2020\": expected Unix seconds, a date (2024-05-01) or a date-time (2024-05-01T12:00:00Z) (strict mode)"
        );
    }

    #[test]
    fn reliability_is_stamped_on_every_row() {
        let o = LoadOptions {
            reliability: Some(vigil_model::Reliability::A),
            ..LoadOptions::default()
        };
        let f = parse(
            "r.csv",
            b"value,source\n192.0.2.1,\nevil.example,other\n",
            &o,
        )
        .unwrap();
        assert_eq!(f.indicators.len(), 2);
        assert!(f
            .indicators
            .iter()
            .all(|i| i.reliability == Some(vigil_model::Reliability::A)));
    }

    #[test]
    fn missing_value_column_is_fatal() {
        let e = parse("feed.csv", b"foo,bar\n1,2\n", &LoadOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "feed.csv:1: no value column: found headers [foo, bar], expected one of value, indicator, ioc, ioc-value, observable, ip, ip-dst, domain, hostname, url, md5, sha1, sha256, ja3, ja4"
        );
        let e = parse("empty.csv", b"", &LoadOptions::default()).unwrap_err();
        assert!(e.to_string().contains("no value column"), "{e}");
    }

    #[test]
    fn odd_input_does_not_panic() {
        let inputs: [&[u8]; 6] = [
            b"value\n\"unterminated\n",
            b"value\n\xff\xfe\n",
            b"value,type\n1.2.3.4,\xff\n",
            b"value\n\n\n",
            b"value\n# comment\n1.2.3.4,extra,columns\n",
            b"value;type\n1.2.3.4\n",
        ];
        for s in inputs {
            let _ = parse("odd.csv", s, &LoadOptions::default());
        }
        let f = parse(
            "odd.csv",
            b"value\n\xff\n1.2.3.4\n",
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(f.indicators.len(), 1);
        assert_eq!(f.skipped[0].reason, "column 1 is not valid utf-8");
    }

    #[test]
    fn strict_stops_on_first_bad_row() {
        let o = LoadOptions {
            strict: true,
            ..LoadOptions::default()
        };
        let e = parse("s.csv", b"value\n1.2.3.4\nbogus\n", &o).unwrap_err();
        assert!(
            e.to_string().starts_with("s.csv:3: unrecognised indicator"),
            "{e}"
        );
    }
}
