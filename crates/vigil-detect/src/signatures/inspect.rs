//! Inspecting one buffer with a rule's steps: content, pcre, bsize, isdataat, dataset and
//! datarep, with Suricata's relative-match semantics.
//!
//! Steps run in rule order over one buffer with a cursor (the end of the previous match).
//! A relative content (distance/within) searches the window
//! `[prev + distance, prev + distance + within)`; an absolute one `[offset, offset + depth)`.
//! When a later step fails, an earlier content that the later steps are relative to is retried
//! at its next occurrence (Suricata's backtracking), bounded by [`BACKTRACK_BUDGET`].

use crate::rules::ast::{CmpOp, DatasetCommand, IntMatch, Transform};
use md5::Digest;
use std::borrow::Cow;

/// Occurrences tried per buffer inspection before giving up; bounds pathological rules.
pub const BACKTRACK_BUDGET: u32 = 4096;

/// A content match, compiled.
#[derive(Debug, Clone)]
pub struct ContentStep {
    /// Lower-cased when `nocase`.
    pub pattern: Box<[u8]>,
    pub nocase: bool,
    pub negated: bool,
    pub offset: i64,
    pub depth: Option<i64>,
    pub distance: Option<i64>,
    pub within: Option<i64>,
    pub endswith: bool,
}

impl ContentStep {
    fn relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }

    /// The search window `[lo, hi)` for a buffer of `len` bytes after a match ending at `prev`.
    fn window(&self, len: usize, prev: usize) -> (usize, usize) {
        let len = len as i64;
        let (lo, hi) = if self.relative() {
            let lo = prev as i64 + self.distance.unwrap_or(0);
            let hi = match self.within {
                Some(w) => lo + w,
                None => len,
            };
            (lo, hi)
        } else {
            let lo = self.offset;
            let hi = match self.depth {
                Some(d) => lo + d,
                None => len,
            };
            (lo, hi)
        };
        (lo.clamp(0, len) as usize, hi.clamp(0, len) as usize)
    }

    /// First occurrence starting at or after `from` and ending by `hi`.
    fn find(&self, buf: &[u8], from: usize, hi: usize) -> Option<usize> {
        let n = self.pattern.len();
        if hi < n || from > hi - n {
            return None;
        }
        let hay = &buf[from..hi];
        if self.endswith {
            let p = hay.len() - n;
            return self.eq_at(hay, p).then_some(from + p);
        }
        if n == 0 {
            return Some(from);
        }
        if !self.nocase {
            return memchr::memmem::find(hay, &self.pattern).map(|p| from + p);
        }
        let first = self.pattern[0];
        let upper = first.to_ascii_uppercase();
        let mut start = 0;
        while start + n <= hay.len() {
            let p = start + memchr::memchr2(first, upper, &hay[start..=hay.len() - n])?;
            if self.eq_at(hay, p) {
                return Some(from + p);
            }
            start = p + 1;
        }
        None
    }

    fn eq_at(&self, hay: &[u8], p: usize) -> bool {
        let s = &hay[p..p + self.pattern.len()];
        if self.nocase {
            s.iter()
                .zip(self.pattern.iter())
                .all(|(a, b)| a.to_ascii_lowercase() == *b)
        } else {
            s == &*self.pattern
        }
    }
}

#[derive(Debug, Clone)]
pub struct PcreStep {
    pub regex: regex::bytes::Regex,
    pub negated: bool,
    pub relative: bool,
}

/// Which set a dataset or datarep step consults, resolved at compile time.
#[derive(Debug, Clone)]
pub struct DataStep {
    pub set: crate::rules::datasets::SetId,
    pub command: DatasetCommand,
}

#[derive(Debug, Clone)]
pub struct RepStep {
    pub set: crate::rules::datasets::SetId,
    pub op: CmpOp,
    pub value: u64,
}

#[derive(Debug, Clone)]
pub enum Step {
    Content(ContentStep),
    Pcre(PcreStep),
    Bsize(IntMatch),
    Isdataat {
        negated: bool,
        offset: i64,
        relative: bool,
    },
    Dataset(DataStep),
    DatasetJson(super::datajson::JsonStep),
    Datarep(RepStep),
}

impl Step {
    fn is_relative(&self) -> bool {
        match self {
            Step::Content(c) => c.relative(),
            Step::Pcre(p) => p.relative,
            Step::Isdataat { relative, .. } => *relative,
            _ => false,
        }
    }
}

/// Dataset and datarep lookups: state lives with the caller.
pub trait DataLookup {
    /// Runs a dataset command on `value`; whether the step matches.
    fn dataset(&mut self, step: &DataStep, value: &[u8]) -> bool;
    /// Compares the reputation of `value`; a value not in the set never matches.
    fn datarep(&mut self, step: &RepStep, value: &[u8]) -> bool;
    /// Looks `value` up in a JSON dataset, keeping the entry for the alert's context.
    fn dataset_json(&mut self, step: &super::datajson::JsonStep, value: &[u8]) -> bool;
}

/// No datasets loaded: every `isset` fails, `isnotset` holds.
pub struct NoData;

impl DataLookup for NoData {
    fn dataset(&mut self, step: &DataStep, _: &[u8]) -> bool {
        !matches!(step.command, DatasetCommand::IsSet)
    }
    fn datarep(&mut self, _: &RepStep, _: &[u8]) -> bool {
        false
    }
    fn dataset_json(&mut self, step: &super::datajson::JsonStep, _: &[u8]) -> bool {
        matches!(step.command, DatasetCommand::IsNotSet)
    }
}

/// Runs `steps` over `buf`; whether they all match.
pub fn inspect(steps: &[Step], buf: &[u8], data: &mut dyn DataLookup) -> bool {
    let mut budget = BACKTRACK_BUDGET;
    run(steps, 0, buf, 0, data, &mut budget)
}

fn run(
    steps: &[Step],
    i: usize,
    buf: &[u8],
    prev: usize,
    data: &mut dyn DataLookup,
    budget: &mut u32,
) -> bool {
    let Some(step) = steps.get(i) else {
        return true;
    };
    // Retrying this step at a later occurrence only helps when the next step depends on it.
    let next_relative = steps.get(i + 1).is_some_and(Step::is_relative);
    match step {
        Step::Content(c) => {
            let (lo, hi) = c.window(buf.len(), prev);
            if c.negated {
                return c.find(buf, lo, hi).is_none() && run(steps, i + 1, buf, prev, data, budget);
            }
            let mut from = lo;
            while let Some(p) = c.find(buf, from, hi) {
                if run(steps, i + 1, buf, p + c.pattern.len(), data, budget) {
                    return true;
                }
                if !next_relative || *budget == 0 {
                    return false;
                }
                *budget -= 1;
                from = p + 1;
            }
            false
        }
        Step::Pcre(p) => {
            let base = if p.relative { prev.min(buf.len()) } else { 0 };
            match p.regex.find(&buf[base..]) {
                Some(m) if !p.negated => run(steps, i + 1, buf, base + m.end(), data, budget),
                None if p.negated => run(steps, i + 1, buf, prev, data, budget),
                _ => false,
            }
        }
        Step::Bsize(m) => m.matches(buf.len() as u64) && run(steps, i + 1, buf, prev, data, budget),
        Step::Isdataat {
            negated,
            offset,
            relative,
        } => {
            let at = if *relative { prev as i64 } else { 0 } + offset;
            let present = at >= 0 && (at as u64) < buf.len() as u64;
            present != *negated && run(steps, i + 1, buf, prev, data, budget)
        }
        Step::Dataset(d) => data.dataset(d, buf) && run(steps, i + 1, buf, prev, data, budget),
        Step::Datarep(r) => data.datarep(r, buf) && run(steps, i + 1, buf, prev, data, budget),
        Step::DatasetJson(j) => {
            data.dataset_json(j, buf) && run(steps, i + 1, buf, prev, data, budget)
        }
    }
}

/// Transforms Vigil applies (the rest make a rule non-executable).
pub fn transform_supported(t: &Transform) -> bool {
    matches!(
        t,
        Transform::Dotprefix
            | Transform::ToLowercase
            | Transform::ToUppercase
            | Transform::ToMd5
            | Transform::ToSha1
            | Transform::ToSha256
            | Transform::StripWhitespace
            | Transform::CompressWhitespace
    ) || matches!(t, Transform::Pcrexform(p) if pcrexform_regex(p).is_some())
}

/// `pcrexform` patterns compiled once per thread (rules name few distinct patterns).
fn pcrexform_regex(pattern: &str) -> Option<regex::bytes::Regex> {
    thread_local! {
        static CACHE: std::cell::RefCell<rustc_hash::FxHashMap<String, Option<regex::bytes::Regex>>> =
            Default::default();
    }
    CACHE.with(|c| {
        c.borrow_mut()
            .entry(pattern.to_string())
            .or_insert_with(|| {
                let p = crate::rules::ast::Pcre {
                    pattern: pattern.to_string(),
                    ..Default::default()
                };
                crate::rules::pcre::compile(&p).ok()
            })
            .clone()
    })
}

/// Applies `transforms` in order.
pub fn apply_transforms<'b>(transforms: &[Transform], buf: &'b [u8]) -> Cow<'b, [u8]> {
    let mut cur = Cow::Borrowed(buf);
    for t in transforms {
        cur = Cow::Owned(match t {
            Transform::Dotprefix => {
                let mut v = Vec::with_capacity(cur.len() + 1);
                v.push(b'.');
                v.extend_from_slice(&cur);
                v
            }
            Transform::ToLowercase => cur.to_ascii_lowercase(),
            Transform::ToUppercase => cur.to_ascii_uppercase(),
            Transform::ToMd5 => md5::Md5::digest(&cur).to_vec(),
            Transform::ToSha1 => sha1::Sha1::digest(&cur).to_vec(),
            Transform::ToSha256 => sha2::Sha256::digest(&cur).to_vec(),
            Transform::StripWhitespace => cur
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace() && *b != 0x0b)
                .collect(),
            Transform::CompressWhitespace => {
                let mut v = Vec::with_capacity(cur.len());
                let mut in_ws = false;
                for &b in cur.iter() {
                    let ws = b.is_ascii_whitespace() || b == 0x0b;
                    if ws {
                        if !in_ws {
                            v.push(b' ');
                        }
                    } else {
                        v.push(b);
                    }
                    in_ws = ws;
                }
                v
            }
            // The first capture group (or the whole match) replaces the buffer.
            Transform::Pcrexform(p) => {
                let Some(re) = pcrexform_regex(p) else {
                    continue;
                };
                let Some(caps) = re.captures(&cur) else {
                    continue;
                };
                match caps.get(1).or_else(|| caps.get(0)) {
                    Some(m) => m.as_bytes().to_vec(),
                    None => return cur,
                }
            }
            // Refused at compile time; never reached for a compiled rule.
            _ => continue,
        });
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(p: &str) -> ContentStep {
        ContentStep {
            pattern: p.as_bytes().into(),
            nocase: false,
            negated: false,
            offset: 0,
            depth: None,
            distance: None,
            within: None,
            endswith: false,
        }
    }

    fn m(steps: Vec<Step>, buf: &str) -> bool {
        inspect(&steps, buf.as_bytes(), &mut NoData)
    }

    #[test]
    fn absolute_content_respects_offset_and_depth() {
        let c = |o, d| {
            Step::Content(ContentStep {
                offset: o,
                depth: d,
                ..content("abc")
            })
        };
        assert!(m(vec![c(0, None)], "xxabc"));
        assert!(m(vec![c(2, Some(3))], "xxabc"));
        assert!(!m(vec![c(3, None)], "xxabc"));
        assert!(!m(vec![c(0, Some(4))], "xxabc"));
    }

    #[test]
    fn relative_content_uses_distance_and_within_from_previous_match() {
        let a = Step::Content(content("GET"));
        let b = |d, w| {
            Step::Content(ContentStep {
                distance: d,
                within: w,
                ..content("/x")
            })
        };
        assert!(m(vec![a.clone(), b(Some(1), Some(2))], "GET /x"));
        assert!(!m(vec![a.clone(), b(Some(2), None)], "GET /x"));
        assert!(!m(vec![a.clone(), b(None, Some(2))], "GET  /x"));
        assert!(m(vec![a.clone(), b(Some(-10), None)], "/xGET"));
    }

    #[test]
    fn backtracks_to_a_later_occurrence_for_relative_steps() {
        let a = Step::Content(content("a"));
        let b = Step::Content(ContentStep {
            within: Some(1),
            ..content("b")
        });
        // The first "a" is followed by "c"; the second by "b".
        assert!(m(vec![a, b], "acab"));
    }

    #[test]
    fn nocase_negation_and_endswith() {
        let nc = Step::Content(ContentStep {
            nocase: true,
            ..content("evil.com")
        });
        assert!(m(vec![nc.clone()], "www.EVIL.Com"));
        let neg = Step::Content(ContentStep {
            negated: true,
            ..content("good")
        });
        assert!(m(vec![nc.clone(), neg.clone()], "evil.com"));
        assert!(!m(vec![nc, neg], "good.evil.com"));
        let end = Step::Content(ContentStep {
            endswith: true,
            ..content(".com")
        });
        assert!(m(vec![end.clone()], "a.com"));
        assert!(!m(vec![end], "a.com.evil"));
    }

    #[test]
    fn pcre_relative_and_bsize() {
        let re = |p: &str, rel| {
            Step::Pcre(PcreStep {
                regex: regex::bytes::Regex::new(p).unwrap(),
                negated: false,
                relative: rel,
            })
        };
        assert!(m(
            vec![Step::Content(content("id=")), re(r"^\d+", true)],
            "x?id=42"
        ));
        assert!(!m(
            vec![Step::Content(content("id=")), re(r"^\d+", true)],
            "x?id=a42"
        ));
        assert!(m(vec![Step::Bsize(IntMatch::Eq(3))], "abc"));
        assert!(!m(vec![Step::Bsize(IntMatch::Lt(3))], "abc"));
        let isdataat = |neg, off, rel| Step::Isdataat {
            negated: neg,
            offset: off,
            relative: rel,
        };
        assert!(m(
            vec![Step::Content(content("a")), isdataat(true, 1, true)],
            "xa"
        ));
        assert!(!m(
            vec![Step::Content(content("a")), isdataat(true, 0, true)],
            "xab"
        ));
    }

    #[test]
    fn transforms() {
        assert_eq!(
            &*apply_transforms(&[Transform::Dotprefix], b"evil.com"),
            b".evil.com"
        );
        assert_eq!(
            apply_transforms(&[Transform::ToMd5], b"abc").len(),
            16,
            "to_md5 yields the raw digest"
        );
        assert_eq!(
            &*apply_transforms(&[Transform::CompressWhitespace], b"a  \t b"),
            b"a b"
        );
    }

    proptest::proptest! {
        /// A single absolute content matches exactly when a naive window scan finds it.
        #[test]
        fn single_content_agrees_with_naive_search(
            hay in proptest::collection::vec(0u8..4, 0..40),
            pat in proptest::collection::vec(0u8..4, 1..4),
            offset in 0i64..10,
            depth in proptest::option::of(1i64..20),
        ) {
            let step = ContentStep { pattern: pat.clone().into(), offset, depth, ..content("") };
            let lo = (offset as usize).min(hay.len());
            let hi = depth.map_or(hay.len(), |d| ((offset + d) as usize).min(hay.len()));
            let naive = (lo..hi).any(|p| p + pat.len() <= hi && hay[p..p + pat.len()] == pat[..]);
            proptest::prop_assert_eq!(inspect(&[Step::Content(step)], &hay, &mut NoData), naive);
        }
    }
}
