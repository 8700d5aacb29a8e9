//! Suricata's `threshold.config` (the `threshold-file` of suricata.yaml):
//!
//! ```text
//! threshold gen_id 1, sig_id 2002087, type limit, track by_src, count 1, seconds 15
//! event_filter gen_id 1, sig_id 1000, type threshold, track by_rule, count 100, seconds 60
//! suppress gen_id 1, sig_id 2003614, track by_either, ip [10.0.0.0/8,$DMZ]
//! rate_filter gen_id 1, sig_id 888, track by_src, count 10, seconds 60, \
//!     new_action drop, timeout 300
//! ```
//!
//! `#` comments and blank lines are skipped, a trailing `\` continues a line, and every other
//! line must be a complete entry: errors carry `file:line` (the entry's first line) and what
//! was expected. Suricata's own parser wants the options in the order shown; this one takes
//! them in any order but requires exactly the set the entry type has. `gen_id 0, sig_id 0`
//! means every rule and `sig_id 0` every rule of that generator ([`ThresholdEntry::applies_to`]).
//! `rate_filter` is parsed into [`RateFilter`]; whether it is acted upon is up to callers.

use super::ast::{AddrSpec, Threshold, ThresholdType, Track};
use super::parse_address_spec;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ThresholdConfigError {
    #[error("{}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Parse {
        file: String,
        line: usize,
        message: String,
    },
}

/// `suppress ... track by_src|by_dst|by_either`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressTrack {
    BySrc,
    ByDst,
    /// Source or destination.
    ByEither,
}

/// The address part of a `suppress`: only alerts whose tracked address is in `ip` are
/// suppressed. `ip` may use variables; resolve it with [`super::netset::Vars`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressBy {
    pub track: SuppressTrack,
    pub ip: AddrSpec,
}

/// `rate_filter ... new_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateAction {
    Alert,
    Drop,
    Pass,
    Log,
    Sdrop,
    Reject,
}

/// `rate_filter`: after `count` matches within `seconds`, the rule's action becomes
/// `new_action` for `timeout` seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateFilter {
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
    pub new_action: RateAction,
    pub timeout: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThresholdRule {
    /// `threshold` or `event_filter` (the same thing in Suricata): replaces the rule's own
    /// threshold.
    Threshold(Threshold),
    /// `suppress`: no alerts at all (`None`), or none for the given addresses.
    Suppress(Option<SuppressBy>),
    RateFilter(RateFilter),
}

/// One entry of a threshold.config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdEntry {
    pub gid: u32,
    pub sid: u32,
    /// 1-based line of the entry's first physical line.
    pub line: usize,
    pub rule: ThresholdRule,
}

impl ThresholdEntry {
    /// Whether the entry applies to the rule `gid:sid`: `0,0` is every rule, `gid,0` every
    /// rule of `gid` (as Suricata's `SetupSuppressRule`/`SetupThresholdRule`).
    pub fn applies_to(&self, gid: u32, sid: u32) -> bool {
        match (self.gid, self.sid) {
            (0, 0) => true,
            (g, 0) => g == gid,
            (g, s) => g == gid && s == sid,
        }
    }
}

/// Reads and parses a threshold.config file.
pub fn load_threshold_config(path: &Path) -> Result<Vec<ThresholdEntry>, ThresholdConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ThresholdConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = bytes
            .get(..e.valid_up_to())
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
            + 1;
        ThresholdConfigError::Parse {
            file: name.clone(),
            line,
            message: "line is not valid UTF-8".into(),
        }
    })?;
    parse_threshold_config(&name, text)
}

/// Parses threshold.config text; `name` is used in error locations.
pub fn parse_threshold_config(
    name: &str,
    text: &str,
) -> Result<Vec<ThresholdEntry>, ThresholdConfigError> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let (start, mut buf) = match pending.take() {
            Some(p) => p,
            None => {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                (i + 1, String::new())
            }
        };
        buf.push_str(line.trim());
        if let Some(b) = buf.strip_suffix('\\') {
            // Continuation: joined with a space, so `count \` + `5` stays two words.
            let mut b = b.trim_end().to_string();
            b.push(' ');
            pending = Some((start, b));
            continue;
        }
        out.push(
            parse_entry(&buf, start).map_err(|message| ThresholdConfigError::Parse {
                file: name.to_string(),
                line: start,
                message,
            })?,
        );
    }
    // A continuation on the last line ends the entry.
    if let Some((start, buf)) = pending {
        out.push(parse_entry(buf.trim(), start).map_err(|message| {
            ThresholdConfigError::Parse {
                file: name.to_string(),
                line: start,
                message,
            }
        })?);
    }
    Ok(out)
}

/// Splits at top-level commas (an `ip [a,b]` list stays whole).
fn split_items(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        if depth < 0 {
            return Err("unbalanced ']'".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced '['".into());
    }
    out.push(s[start..].trim());
    Ok(out)
}

fn parse_u32(key: &str, v: &str) -> Result<u32, String> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("\"{key}\" needs a number, found \"{v}\""));
    }
    v.parse()
        .map_err(|_| format!("\"{key}\" value {v} is larger than {}", u32::MAX))
}

fn parse_track(v: &str) -> Result<Track, String> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "by_src" => Track::BySrc,
        "by_dst" => Track::ByDst,
        "by_rule" => Track::ByRule,
        "by_both" => Track::ByBoth,
        _ => {
            return Err(format!(
                "invalid track \"{v}\": expected by_src, by_dst, by_rule or by_both"
            ))
        }
    })
}

const SHAPES: &str = "expected `threshold|event_filter gen_id G, sig_id S, type T, track K, count N, seconds T`, `suppress gen_id G, sig_id S[, track K, ip A]` or `rate_filter gen_id G, sig_id S, track K, count N, seconds T, new_action A, timeout T`";

fn parse_entry(s: &str, line: usize) -> Result<ThresholdEntry, String> {
    let (kw, rest) = s.split_once(|c: char| c.is_whitespace()).unwrap_or((s, ""));
    let kind = match kw {
        "threshold" | "event_filter" | "suppress" | "rate_filter" => kw,
        _ => return Err(format!("unknown entry \"{kw}\": {SHAPES}")),
    };
    let mut opts: Vec<(&str, &str)> = Vec::new();
    for item in split_items(rest)? {
        let (k, v) = item
            .split_once(|c: char| c.is_whitespace())
            .map(|(k, v)| (k, v.trim()))
            .unwrap_or((item, ""));
        if k.is_empty() {
            return Err(format!("empty option in \"{kind}\": {SHAPES}"));
        }
        if v.is_empty() {
            return Err(format!("option \"{k}\" of \"{kind}\" has no value"));
        }
        if opts.iter().any(|(o, _)| *o == k) {
            return Err(format!("option \"{k}\" given twice"));
        }
        opts.push((k, v));
    }
    let allowed: &[&str] = match kind {
        "suppress" => &["gen_id", "sig_id", "track", "ip"],
        "rate_filter" => &[
            "gen_id",
            "sig_id",
            "track",
            "count",
            "seconds",
            "new_action",
            "timeout",
        ],
        _ => &["gen_id", "sig_id", "type", "track", "count", "seconds"],
    };
    if let Some((k, _)) = opts.iter().find(|(k, _)| !allowed.contains(k)) {
        return Err(format!(
            "unknown option \"{k}\" for \"{kind}\": expected {}",
            allowed.join(", ")
        ));
    }
    let get = |k: &str| opts.iter().find(|(o, _)| *o == k).map(|(_, v)| *v);
    let need = |k: &str| get(k).ok_or_else(|| format!("\"{kind}\" needs \"{k}\": {SHAPES}"));
    let gid = parse_u32("gen_id", need("gen_id")?)?;
    let sid = parse_u32("sig_id", need("sig_id")?)?;
    let count = || -> Result<u32, String> {
        match parse_u32("count", need("count")?)? {
            0 => Err("\"count\" must be at least 1".into()),
            n => Ok(n),
        }
    };
    let rule = match kind {
        "suppress" => match (get("track"), get("ip")) {
            (None, None) => ThresholdRule::Suppress(None),
            (Some(t), Some(ip)) => {
                let track = match t.to_ascii_lowercase().as_str() {
                    "by_src" => SuppressTrack::BySrc,
                    "by_dst" => SuppressTrack::ByDst,
                    "by_either" => SuppressTrack::ByEither,
                    _ => {
                        return Err(format!(
                            "invalid suppress track \"{t}\": expected by_src, by_dst or by_either"
                        ))
                    }
                };
                let ip = parse_address_spec(ip).map_err(|m| format!("bad ip \"{ip}\": {m}"))?;
                ThresholdRule::Suppress(Some(SuppressBy { track, ip }))
            }
            _ => return Err("\"suppress\" needs both \"track\" and \"ip\", or neither".into()),
        },
        "rate_filter" => {
            let a = need("new_action")?;
            let new_action = match a.to_ascii_lowercase().as_str() {
                "alert" => RateAction::Alert,
                "drop" => RateAction::Drop,
                "pass" => RateAction::Pass,
                "log" => RateAction::Log,
                "sdrop" => RateAction::Sdrop,
                "reject" => RateAction::Reject,
                _ => {
                    return Err(format!(
                    "invalid new_action \"{a}\": expected alert, drop, pass, log, sdrop or reject"
                ))
                }
            };
            ThresholdRule::RateFilter(RateFilter {
                track: parse_track(need("track")?)?,
                count: count()?,
                seconds: parse_u32("seconds", need("seconds")?)?,
                new_action,
                timeout: parse_u32("timeout", need("timeout")?)?,
            })
        }
        _ => {
            let t = need("type")?;
            let kind = match t.to_ascii_lowercase().as_str() {
                "limit" => ThresholdType::Limit,
                "threshold" => ThresholdType::Threshold,
                "both" => ThresholdType::Both,
                _ => {
                    return Err(format!(
                        "invalid type \"{t}\": expected limit, threshold or both"
                    ))
                }
            };
            ThresholdRule::Threshold(Threshold {
                kind,
                track: parse_track(need("track")?)?,
                count: count()?,
                seconds: parse_u32("seconds", need("seconds")?)?,
                multiplier: None,
            })
        }
    };
    Ok(ThresholdEntry {
        gid,
        sid,
        line,
        rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(t: &str) -> Result<Vec<ThresholdEntry>, ThresholdConfigError> {
        parse_threshold_config("threshold.config", t)
    }

    #[test]
    fn suricata_verify_threshold_config() {
        let p = crate::testdata::shared_data_dir()
            .join("suricata-verify/tests/threshold-config-byrule/threshold.config");
        let e = load_threshold_config(&p).unwrap();
        assert_eq!(
            e,
            [ThresholdEntry {
                gid: 1,
                sid: 1000001,
                line: 1,
                rule: ThresholdRule::Threshold(Threshold {
                    kind: ThresholdType::Limit,
                    track: Track::ByRule,
                    count: 3,
                    seconds: 1000,
                    multiplier: None,
                }),
            }]
        );
        assert!(e[0].applies_to(1, 1000001) && !e[0].applies_to(1, 1000002));
    }

    #[test]
    fn all_entry_kinds() {
        let e = parse(
            "# comment\n\
             \n  # indented comment\n\
             event_filter gen_id 1 \\\n, sig_id 10, type limit, track by_src, \\\ncount 1, seconds 60\n\
             threshold gen_id 1, sig_id 100, type both, track by_dst, count 10, seconds 60\r\n\
             suppress gen_id 1, sig_id 2002087\n\
             suppress gen_id 0, sig_id 0, track by_either, ip [192.168.0.0/16, 10.0.0.0/8,$HOME_NET]\n\
             suppress gen_id 1, sig_id 2003614, track by_src, ip fe80::/10\n\
             rate_filter gen_id 1, sig_id 888, track by_both, count 10, seconds 60, \\\n  new_action drop, timeout 300\n\
             threshold sig_id 5, gen_id 1, seconds 2, count 3, track by_rule, type threshold",
        )
        .unwrap();
        assert_eq!(e.len(), 7);
        assert_eq!((e[0].line, e[0].sid), (4, 10));
        assert!(
            matches!(&e[0].rule, ThresholdRule::Threshold(t) if t.kind == ThresholdType::Limit && t.count == 1)
        );
        assert_eq!(e[1].line, 7);
        assert!(matches!(&e[1].rule, ThresholdRule::Threshold(t) if t.track == Track::ByDst));
        assert_eq!(e[2].rule, ThresholdRule::Suppress(None));
        let ThresholdRule::Suppress(Some(s)) = &e[3].rule else {
            panic!("{:?}", e[3])
        };
        assert_eq!(s.track, SuppressTrack::ByEither);
        assert!(matches!(&s.ip, AddrSpec::List(l) if l.len() == 3));
        assert!(e[3].applies_to(3, 77));
        assert!(
            matches!(&e[4].rule, ThresholdRule::Suppress(Some(s)) if s.track == SuppressTrack::BySrc)
        );
        assert_eq!(
            e[5].rule,
            ThresholdRule::RateFilter(RateFilter {
                track: Track::ByBoth,
                count: 10,
                seconds: 60,
                new_action: RateAction::Drop,
                timeout: 300
            })
        );
        assert_eq!(e[5].line, 11);
        assert!(
            matches!(&e[6].rule, ThresholdRule::Threshold(t) if t.kind == ThresholdType::Threshold && t.seconds == 2)
        );
        let all_of_gid = ThresholdEntry {
            gid: 1,
            sid: 0,
            line: 1,
            rule: ThresholdRule::Suppress(None),
        };
        assert!(all_of_gid.applies_to(1, 5) && !all_of_gid.applies_to(3, 5));
    }

    #[test]
    fn errors_carry_file_line_and_expectation() {
        for (text, line, what) in [
            ("\n\nthreshold gen_id 1, sig_id 1, type invalid, track by_src, count 1, seconds 1", 3, "expected limit, threshold or both"),
            ("threshold gen_id 1, sig_id 1, type limit, track by_src, count 1", 1, "needs \"seconds\""),
            ("threshold gen_id 1, sig_id 1, type limit, track by_either, count 1, seconds 1", 1, "invalid track"),
            ("threshold gen_id 1, sig_id 1, type limit, track by_src, count 0, seconds 1", 1, "at least 1"),
            ("threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 1, ip 1.2.3.4", 1, "unknown option \"ip\""),
            ("suppress gen_id 1, sig_id 1, track by_src", 1, "both \"track\" and \"ip\""),
            ("suppress gen_id 1, sig_id 1, track by_rule, ip 1.2.3.4", 1, "by_either"),
            ("suppress gen_id 1, sig_id 1, track by_src, ip 1.2.3", 1, "bad ip"),
            ("suppress gen_id 1, sig_id 1, track by_src, ip [1.2.3.4", 1, "unbalanced"),
            ("suppress gen_id x, sig_id 1", 1, "needs a number"),
            ("suppress sig_id 1", 1, "needs \"gen_id\""),
            ("suppress gen_id 1, gen_id 1, sig_id 1", 1, "twice"),
            ("suppress gen_id 99999999999, sig_id 1", 1, "larger than"),
            ("rate_filter gen_id 1, sig_id 1, track by_src, count 1, seconds 1, new_action explode, timeout 1", 1, "invalid new_action"),
            ("drop gen_id 1, sig_id 1", 1, "unknown entry"),
            ("suppress gen_id 1, sig_id 1,", 1, "empty option"),
            ("suppress gen_id 1, sig_id", 1, "no value"),
            ("# c\nthreshold gen_id 1 \\\n", 2, "needs \"sig_id\""),
        ] {
            let e = parse(text).unwrap_err().to_string();
            let want = format!("threshold.config:{line}: ");
            assert!(e.starts_with(&want) && e.contains(what), "{text:?}: {e}");
        }
        let e = load_threshold_config(Path::new("/nonexistent/threshold.config")).unwrap_err();
        assert!(matches!(e, ThresholdConfigError::Io { .. }));
    }

    proptest! {
        #[test]
        fn never_panics(t in "[a-z_ ,0-9\\[\\]$.:/#\\\\\n!-]{0,120}") {
            let _ = parse(&t);
        }
    }
}
