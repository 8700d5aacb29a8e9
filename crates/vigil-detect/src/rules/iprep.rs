//! Suricata IP reputation (`iprep`): the categories file and the reputation files named by
//! `reputation-categories-file` / `reputation-files` in suricata.yaml.
//!
//! - categories file: `<id>,<short name>,<description>` per line, id 0–59 (Suricata's
//!   `SREP_MAX_CATS` is 60);
//! - reputation file: `<ip or cidr>,<category id>,<score>` per line, score 0–127; a header line
//!   whose first field is `ip` is skipped, as Suricata does.
//!
//! Blank lines and `#` comments are ignored; anything else that does not parse is an error
//! naming `file:line`. The loaded data is immutable: per category, sorted disjoint intervals
//! (IPv4 and IPv6 apart) each carrying the score of the most specific entry covering it, so a
//! lookup is one binary search.

use super::netset::Point;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Suricata's `SREP_MAX_CATS`.
pub const MAX_CATEGORIES: u8 = 60;
/// Suricata's `SREP_MAX_VAL`.
pub const MAX_SCORE: u8 = 127;

#[derive(Debug, thiserror::Error)]
pub enum ReputationError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
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

/// One line of the categories file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: u8,
    pub name: String,
    pub description: String,
}

/// Scores of one category, per family: `(first, last, score)`, sorted and disjoint.
#[derive(Debug, Clone, Default)]
struct Table {
    v4: Box<[(u32, u32, u8)]>,
    v6: Box<[(u128, u128, u8)]>,
}

/// Loaded IP reputation data.
#[derive(Debug, Clone, Default)]
pub struct IpReputation {
    /// Sorted by id.
    categories: Vec<Category>,
    /// Indexed by category id; empty tables for ids without data.
    tables: Vec<Table>,
}

/// Entries of one category as read: `(first, last, score)` of each network, in file order.
#[derive(Default)]
struct Raw {
    v4: Vec<(u32, u32, u8)>,
    v6: Vec<(u128, u128, u8)>,
}

impl IpReputation {
    /// Reads the categories file and then each reputation file, in order.
    pub fn load(
        categories_file: &Path,
        files: &[PathBuf],
    ) -> Result<IpReputation, ReputationError> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| ReputationError::Io {
                path: p.to_path_buf(),
                source,
            })
        };
        let cats = read(categories_file)?;
        let mut texts = Vec::with_capacity(files.len());
        for f in files {
            texts.push((f.display().to_string(), read(f)?));
        }
        let texts: Vec<(&str, &[u8])> = texts.iter().map(|(n, t)| (n.as_str(), &t[..])).collect();
        IpReputation::parse(&categories_file.display().to_string(), &cats, &texts)
    }

    /// Parses in-memory contents; names are used in error locations.
    pub fn parse(
        categories_name: &str,
        categories: &[u8],
        files: &[(&str, &[u8])],
    ) -> Result<IpReputation, ReputationError> {
        let categories = parse_categories(categories_name, categories)?;
        let mut raw: Vec<Raw> = (0..MAX_CATEGORIES).map(|_| Raw::default()).collect();
        for (name, text) in files {
            parse_reputation(name, text, &mut raw)?;
        }
        let tables = raw
            .into_iter()
            .map(|r| Table {
                v4: most_specific(r.v4).into(),
                v6: most_specific(r.v6).into(),
            })
            .collect();
        Ok(IpReputation { categories, tables })
    }

    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The id of a category by short name (case-sensitive, as in Suricata), so rules can
    /// resolve `iprep:src,CnC,...` once at compile time.
    pub fn category_id(&self, name: &str) -> Option<u8> {
        self.categories
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.id)
    }

    /// Score of `ip` in the named category: the most specific entry covering it.
    pub fn score(&self, ip: IpAddr, category: &str) -> Option<u8> {
        self.score_by_id(ip, self.category_id(category)?)
    }

    /// Score of `ip` in category `id` (entries of ids missing from the categories file are
    /// kept, as Suricata keeps them, and are reachable here).
    pub fn score_by_id(&self, ip: IpAddr, id: u8) -> Option<u8> {
        let t = self.tables.get(usize::from(id))?;
        match ip {
            IpAddr::V4(a) => lookup(&t.v4, u32::from(a)),
            IpAddr::V6(a) => lookup(&t.v6, u128::from(a)),
        }
    }

    /// No reputation entries at all.
    pub fn is_empty(&self) -> bool {
        self.tables
            .iter()
            .all(|t| t.v4.is_empty() && t.v6.is_empty())
    }
}

fn lookup<T: Point>(v: &[(T, T, u8)], x: T) -> Option<u8> {
    let i = v.partition_point(|&(_, hi, _)| hi < x);
    v.get(i).filter(|&&(lo, _, _)| lo <= x).map(|&(_, _, s)| s)
}

/// Lines with their 1-based numbers, CR stripped, blanks and `#` comments dropped.
fn lines<'a>(
    name: &str,
    text: &'a [u8],
) -> impl Iterator<Item = Result<(usize, String), ReputationError>> + 'a {
    let name = name.to_string();
    text.split(|&b| b == b'\n')
        .enumerate()
        .filter_map(move |(i, raw)| {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            match std::str::from_utf8(raw) {
                Err(_) => Some(Err(ReputationError::Parse {
                    file: name.clone(),
                    line: i + 1,
                    message: "line is not valid UTF-8".into(),
                })),
                Ok(l) => {
                    let l = l.trim();
                    (!l.is_empty() && !l.starts_with('#')).then(|| Ok((i + 1, l.to_string())))
                }
            }
        })
}

fn parse_categories(name: &str, text: &[u8]) -> Result<Vec<Category>, ReputationError> {
    let mut out: Vec<Category> = Vec::new();
    for l in lines(name, text) {
        let (line, l) = l?;
        let err = |message: String| ReputationError::Parse {
            file: name.to_string(),
            line,
            message,
        };
        let mut parts = l.splitn(3, ',');
        let (id, short) = (parts.next().unwrap_or(""), parts.next());
        let description = parts.next().unwrap_or("").trim().to_string();
        let Some(short) = short.map(str::trim).filter(|s| !s.is_empty()) else {
            return Err(err(format!(
                "expected `<id>,<short name>,<description>`, found \"{l}\""
            )));
        };
        let id = parse_small(id.trim(), MAX_CATEGORIES - 1).ok_or_else(|| {
            err(format!(
                "category id \"{}\" is not a number from 0 to {}",
                id.trim(),
                MAX_CATEGORIES - 1
            ))
        })?;
        if let Some(c) = out.iter().find(|c| c.id == id || c.name == short) {
            return Err(err(format!(
                "category {id},{short} clashes with {},{} defined earlier",
                c.id, c.name
            )));
        }
        out.push(Category {
            id,
            name: short.to_string(),
            description,
        });
    }
    out.sort_by_key(|c| c.id);
    Ok(out)
}

fn parse_reputation(name: &str, text: &[u8], raw: &mut [Raw]) -> Result<(), ReputationError> {
    for l in lines(name, text) {
        let (line, l) = l?;
        let err = |message: String| ReputationError::Parse {
            file: name.to_string(),
            line,
            message,
        };
        let fields: Vec<&str> = l.split(',').map(str::trim).collect();
        let [net, cat, score] = fields[..] else {
            return Err(err(format!(
                "expected `<ip or cidr>,<category id>,<score>`, found \"{l}\""
            )));
        };
        if net == "ip" {
            continue; // header line
        }
        let cat = parse_small(cat, MAX_CATEGORIES - 1).ok_or_else(|| {
            err(format!(
                "category id \"{cat}\" is not a number from 0 to {}",
                MAX_CATEGORIES - 1
            ))
        })?;
        let score = parse_small(score, MAX_SCORE).ok_or_else(|| {
            err(format!(
                "score \"{score}\" is not a number from 0 to {MAX_SCORE}"
            ))
        })?;
        let r = raw
            .get_mut(usize::from(cat))
            .ok_or_else(|| err(format!("category id {cat} out of range")))?;
        match parse_net(net).map_err(err)? {
            Net::V4(a, b) => r.v4.push((a, b, score)),
            Net::V6(a, b) => r.v6.push((a, b, score)),
        }
    }
    Ok(())
}

/// A decimal number no larger than `max` (digits only, no sign).
fn parse_small(s: &str, max: u8) -> Option<u8> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u8>().ok().filter(|&v| v <= max)
}

enum Net {
    V4(u32, u32),
    V6(u128, u128),
}

/// `1.2.3.4`, `1.2.3.0/24`, `2001:db8::/32` (host bits ignored).
fn parse_net(s: &str) -> Result<Net, String> {
    let (a, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = a
        .parse()
        .map_err(|_| format!("\"{s}\" is not an IP address or CIDR network"))?;
    let width = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => width,
        Some(p) => Some(p)
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|&p| p <= width)
            .ok_or_else(|| format!("bad prefix length \"{p}\" in \"{s}\" (0 to {width})"))?,
    };
    Ok(match addr {
        IpAddr::V4(a) => {
            let a = u32::from(a);
            let host = u32::MAX.checked_shr(prefix).unwrap_or(0);
            Net::V4(a & !host, a | host)
        }
        IpAddr::V6(a) => {
            let a = u128::from(a);
            let host = u128::MAX.checked_shr(prefix).unwrap_or(0);
            Net::V6(a & !host, a | host)
        }
    })
}

/// Flattens CIDR blocks (each pair nested or disjoint) into disjoint intervals carrying the
/// score of the innermost block; of identical blocks the last one read wins.
fn most_specific<T: Point>(mut blocks: Vec<(T, T, u8)>) -> Vec<(T, T, u8)> {
    // Outer blocks first at equal starts; the stable sort keeps file order among equals.
    blocks.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut uniq: Vec<(T, T, u8)> = Vec::with_capacity(blocks.len());
    for b in blocks {
        match uniq.last_mut() {
            Some(l) if l.0 == b.0 && l.1 == b.1 => l.2 = b.2,
            _ => uniq.push(b),
        }
    }
    let mut out = Vec::with_capacity(uniq.len());
    // Open blocks, innermost last: (last address, score).
    let mut stack: Vec<(T, u8)> = Vec::new();
    // First address not yet emitted; `None` once past the end of the space.
    let mut pos: Option<T> = Some(T::MIN);
    let emit = |out: &mut Vec<(T, T, u8)>, from: Option<T>, to: T, s: u8| {
        if let Some(f) = from.filter(|&f| f <= to) {
            out.push((f, to, s));
        }
    };
    for (start, end, score) in uniq {
        while let Some(&(e, s)) = stack.last() {
            if e >= start {
                break;
            }
            emit(&mut out, pos, e, s);
            pos = e.succ();
            stack.pop();
        }
        if let (Some(&(_, s)), Some(before)) = (stack.last(), start.pred()) {
            emit(&mut out, pos, before, s);
        }
        pos = Some(start);
        stack.push((end, score));
    }
    while let Some((e, s)) = stack.pop() {
        emit(&mut out, pos, e, s);
        pos = e.succ();
    }
    debug_assert!(out.windows(2).all(|w| w[0].1 < w[1].0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CATS: &str = "# id,name,description\n1,BadHosts,Known bad hosts\n2,Google,Known google host\r\n\n6,CnC,Command, and control\n";

    fn rep(files: &[&str]) -> Result<IpReputation, ReputationError> {
        let files: Vec<(&str, &[u8])> = files.iter().map(|f| ("rep.list", f.as_bytes())).collect();
        IpReputation::parse("categories.txt", CATS.as_bytes(), &files)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn categories_and_scores() {
        let r = rep(&[
            "ip,cat,score\n1.2.3.4,1,101\n1.1.1.0/24,6,88\n1.1.1.1,1,10\n1.1.1.1,2,10\n",
            "# more\n2001:db8::/32,6,50\n2001:db8::1,6,0\n",
        ])
        .unwrap();
        assert_eq!(r.categories().len(), 3);
        assert_eq!(r.categories()[2].description, "Command, and control");
        assert_eq!(r.category_id("CnC"), Some(6));
        assert_eq!(r.category_id("cnc"), None);
        assert_eq!(r.score(ip("1.2.3.4"), "BadHosts"), Some(101));
        assert_eq!(r.score(ip("1.2.3.4"), "Google"), None);
        assert_eq!(r.score(ip("1.1.1.77"), "CnC"), Some(88));
        assert_eq!(r.score(ip("1.1.2.0"), "CnC"), None);
        assert_eq!(r.score(ip("1.1.1.1"), "BadHosts"), Some(10));
        assert_eq!(r.score(ip("1.1.1.1"), "Google"), Some(10));
        assert_eq!(r.score(ip("2001:db8::1"), "CnC"), Some(0));
        assert_eq!(r.score(ip("2001:db8::2"), "CnC"), Some(50));
        assert_eq!(r.score(ip("::ffff:1.2.3.4"), "BadHosts"), None);
        assert_eq!(r.score_by_id(ip("1.1.1.5"), 6), Some(88));
        assert_eq!(r.score_by_id(ip("1.1.1.5"), 200), None);
        assert!(!r.is_empty());
    }

    #[test]
    fn most_specific_entry_wins_and_last_duplicate_wins() {
        let r = rep(&[
            "10.0.0.0/8,1,10\n10.1.0.0/16,1,20\n10.1.2.0/24,1,30\n10.1.2.3,1,40\n10.1.0.0/16,1,25\n0.0.0.0/0,1,1\n",
        ])
        .unwrap();
        let s = |a| r.score(ip(a), "BadHosts");
        assert_eq!(s("10.1.2.3"), Some(40));
        assert_eq!(s("10.1.2.4"), Some(30));
        assert_eq!(s("10.1.3.0"), Some(25));
        assert_eq!(s("10.2.0.0"), Some(10));
        assert_eq!(s("11.0.0.0"), Some(1));
        assert_eq!(s("255.255.255.255"), Some(1));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = rep(&["1.2.3.4,1,101\n\n1.2.3.5,1,128\n"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rep.list:3: score \"128\" is not a number from 0 to 127"
        );
        for (bad, what) in [
            ("1.2.3.4,60,1", "category id"),
            ("1.2.3.4,1", "expected `<ip or cidr>"),
            ("1.2.3.4,1,1,1", "expected `<ip or cidr>"),
            ("1.2.3,1,1", "not an IP address"),
            ("1.2.3.0/33,1,1", "bad prefix length"),
            ("1.2.3.0/,1,1", "bad prefix length"),
            ("1.2.3.4,1,-1", "score"),
        ] {
            let e = rep(&[bad]).unwrap_err().to_string();
            assert!(
                e.starts_with("rep.list:1: ") && e.contains(what),
                "{bad}: {e}"
            );
        }
        for bad in [
            "x,Bad,desc",
            "60,Bad,desc",
            "1",
            "1,",
            "1,BadHosts,x\n2,BadHosts,y",
        ] {
            assert!(
                IpReputation::parse("c", bad.as_bytes(), &[]).is_err(),
                "{bad}"
            );
        }
        let e = IpReputation::load(Path::new("/nonexistent/cats"), &[]).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/cats: "), "{e}");
    }

    #[test]
    fn load_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let cats = dir.path().join("categories.txt");
        let list = dir.path().join("reputation.list");
        std::fs::write(&cats, CATS).unwrap();
        std::fs::write(&list, "192.0.2.0/24,6,99\n").unwrap();
        let r = IpReputation::load(&cats, &[list]).unwrap();
        assert_eq!(r.score(ip("192.0.2.200"), "CnC"), Some(99));
    }

    /// A random laminar family of blocks inside 0..=255 of a u32 space: CIDRs are always
    /// nested or disjoint, which is all `most_specific` relies on.
    fn blocks() -> impl Strategy<Value = Vec<(u32, u32, u8)>> {
        prop::collection::vec((0u32..256, 0u32..=8, 0u8..=127), 0..24).prop_map(|v| {
            v.into_iter()
                .map(|(a, host_bits, s)| {
                    let host = (1u32 << host_bits) - 1;
                    (a & !host, a | host, s)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn flattening_agrees_with_naive_most_specific(b in blocks()) {
            let flat = most_specific(b.clone());
            for x in 0u32..300 {
                // Naive: the smallest block covering x; among equal blocks the last listed.
                let want = b
                    .iter()
                    .enumerate()
                    .filter(|(_, &(lo, hi, _))| lo <= x && x <= hi)
                    .min_by_key(|(i, &(lo, hi, _))| (hi - lo, std::cmp::Reverse(*i)))
                    .map(|(_, &(_, _, s))| s);
                prop_assert_eq!(lookup(&flat, x), want, "{} in {:?} -> {:?}", x, b, flat);
            }
        }

        #[test]
        fn parsers_never_panic(
            c in prop::collection::vec(any::<u8>(), 0..200),
            f in "[0-9a-f:./,#\\n ip-]{0,200}",
        ) {
            let _ = IpReputation::parse("c", &c, &[("f", f.as_bytes())]);
            let _ = IpReputation::parse("c", CATS.as_bytes(), &[("f", f.as_bytes())]);
        }
    }
}
