//! DGA-like names: a character trigram model of benign registrable labels.
//!
//! Problem: malware that finds its controller through a domain generation algorithm queries
//! many registrable domains that no person would type. Their labels (the part left of the
//! public suffix: `xjwqpzkfhb` in `xjwqpzkfhb.net`) have character sequences that are rare in
//! real site names.
//!
//! [`DgaModel`] is a trigram model over the alphabet `a-z 0-9 -` plus an "other" symbol, with
//! start (`^^`) and end (`$`) marks, smoothed by Witten–Bell interpolation with the bigram and
//! an add-one unigram. It is trained ([`train_dga`]) from the registrable labels of the
//! top-site lists in the MISP warninglists (CC0). A label's score is its mean log2
//! probability per predicted symbol (characters and the end mark); benign labels score
//! around −3.6, uniformly random letters around −6.
//!
//! [`DgaDetector`] flags a query whose label has at least `min_len` characters and scores
//! below `threshold`, and alerts when one source has queried `min_distinct_names` distinct
//! DGA-like registrable domains within `window_secs`: DGA malware tries dozens of names,
//! while the few benign names that score low (≈1 % of long labels) rarely come together.
//! Labels under unknown suffixes (`.local`, `.internal`), reverse names and IDN labels
//! (`xn--`) are not scored.
//!
//! The model file is JSON (`models/dga-ngram.json`): a header (`format`
//! `"VIGIL-DGA-NGRAM"`, `version` 1, `order` 3, the alphabet, the smoothing, the number of
//! training names, a description) and the trigram counts, written in a fixed order so that
//! training is reproducible byte for byte. Lower-order counts are derived from the trigrams,
//! so a file cannot be internally inconsistent; loading validates everything and reports a
//! corrupt file as [`ModelError::DgaModel`], never a panic.

use super::{
    clamp_confidence, round, secs_to_micros, sid, Detection, DgaConfig, LruMap, ModelError,
    Observation,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The symbols, in index order: start mark, end mark, letters, digits, hyphen, other.
pub const ALPHABET: &str = "^$abcdefghijklmnopqrstuvwxyz0123456789-_";
pub const FORMAT: &str = "VIGIL-DGA-NGRAM";
pub const VERSION: u32 = 1;
const ORDER: u32 = 3;
const SMOOTHING: &str = "witten-bell";
const A: usize = 40;
const START: u8 = 0;
const END: u8 = 1;
/// Symbols that can be predicted (all but the start mark).
const V: f64 = (A - 1) as f64;
/// Largest model file read.
const MAX_MODEL_BYTES: u64 = 64 << 20;
/// Names listed in the evidence.
const EVIDENCE_NAMES: usize = 10;

/// Folder-name keywords of the warninglists that rank top sites.
pub const TOP_SITE_KEYWORDS: [&str; 6] =
    ["alexa", "tranco", "umbrella", "majestic", "cisco", "top"];
/// Lists ranked by reputation or links rather than raw DNS volume (which also counts
/// machine-generated names); their held-out part is the strict benign test set.
pub const CURATED_LISTS: [&str; 4] = ["alexa", "majestic_million", "moz-top500", "tranco10k"];

const EMBEDDED: &str = include_str!("../../../../models/dga-ngram.json");

fn symbol(b: u8) -> u8 {
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => 2 + (c - b'a'),
        c @ b'0'..=b'9' => 28 + (c - b'0'),
        b'-' => 38,
        _ => 39,
    }
}

fn symbols(label: &str) -> impl Iterator<Item = u8> + '_ {
    [START, START]
        .into_iter()
        .chain(label.bytes().map(symbol))
        .chain(std::iter::once(END))
}

/// The registrable domain of a lower-case name (no trailing dot) under a known ICANN public
/// suffix, and its label: `("example.co.uk", "example")` for `www.example.co.uk`.
///
/// Private suffixes of the public suffix list (`cloudfront.net`, `herokuapp.com`,
/// `duckdns.org`) are platforms whose customers' labels are often machine-made
/// (`d3c3cq33003psk.cloudfront.net`); they count as part of the platform owner's domain
/// (`cloudfront.net`, label `cloudfront`), so such labels are never scored.
pub fn registrable(name: &str) -> Option<(&str, &str)> {
    if name.ends_with(".arpa") {
        return None;
    }
    let mut suffix = psl::suffix(name.as_bytes())?;
    loop {
        match suffix.typ() {
            Some(psl::Type::Icann) => break,
            Some(psl::Type::Private) => {
                let s = name.get(name.len() - suffix.as_bytes().len()..)?;
                let (_, rest) = s.split_once('.')?;
                suffix = psl::suffix(rest.as_bytes())?;
            }
            None => return None,
        }
    }
    let head = name.get(..name.len().checked_sub(suffix.as_bytes().len() + 1)?)?;
    let label = head.rsplit('.').next()?;
    if label.is_empty() {
        return None;
    }
    let domain = name.get(head.len() - label.len()..)?;
    Some((domain, label))
}

/// The label left of the public suffix of a lower-case name (see [`registrable`]).
pub fn registrable_label(name: &str) -> Option<&str> {
    registrable(name).map(|(_, label)| label)
}

/// A trained trigram model; see the module documentation.
#[derive(Debug, Clone)]
pub struct DgaModel {
    trigrams: BTreeMap<[u8; 3], u32>,
    trained_names: u64,
    description: String,
    /// log2 P(c | a b) at `(a * A + b) * A + c`.
    table: Vec<f32>,
}

impl PartialEq for DgaModel {
    fn eq(&self, other: &Self) -> bool {
        self.trigrams == other.trigrams
            && self.trained_names == other.trained_names
            && self.description == other.description
    }
}

/// Trains a model from registrable labels (see [`registrable_label`]); duplicates count
/// as often as they occur.
pub fn train_dga<'a>(names: impl Iterator<Item = &'a str>) -> DgaModel {
    let mut trigrams: BTreeMap<[u8; 3], u32> = BTreeMap::new();
    let mut n = 0u64;
    for name in names {
        n += 1;
        let s: Vec<u8> = symbols(name).collect();
        for w in s.windows(3) {
            let c = trigrams.entry([w[0], w[1], w[2]]).or_insert(0);
            *c = c.saturating_add(1);
        }
    }
    DgaModel::from_parts(trigrams, n, String::new())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    format: String,
    version: u32,
    order: u32,
    alphabet: String,
    smoothing: String,
    trained_names: u64,
    description: String,
    trigrams: BTreeMap<String, u32>,
}

impl DgaModel {
    fn from_parts(
        trigrams: BTreeMap<[u8; 3], u32>,
        trained_names: u64,
        description: String,
    ) -> Self {
        let table = build_table(&trigrams);
        DgaModel {
            trigrams,
            trained_names,
            description,
            table,
        }
    }

    /// The same model with a description (stored in the file header).
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    pub fn trained_names(&self) -> u64 {
        self.trained_names
    }

    pub fn trigram_count(&self) -> usize {
        self.trigrams.len()
    }

    /// The model shipped in `models/dga-ngram.json`, embedded at build time.
    pub fn embedded() -> Result<DgaModel, ModelError> {
        DgaModel::from_reader(EMBEDDED.as_bytes(), "(embedded models/dga-ngram.json)")
    }

    pub fn from_file(path: &Path) -> Result<DgaModel, ModelError> {
        let file = std::fs::File::open(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        DgaModel::from_reader(file, &path.display().to_string())
    }

    /// Reads and validates a model file; `name` is used in error messages.
    pub fn from_reader(reader: impl Read, name: &str) -> Result<DgaModel, ModelError> {
        let bad = |reason: String| ModelError::DgaModel {
            name: name.to_string(),
            reason,
        };
        let mut text = String::new();
        reader
            .take(MAX_MODEL_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| bad(format!("cannot read: {e}")))?;
        if text.len() as u64 > MAX_MODEL_BYTES {
            return Err(bad(format!("larger than {MAX_MODEL_BYTES} bytes")));
        }
        let file: ModelFile = serde_json::from_str(&text)
            .map_err(|e| bad(format!("line {} column {}: {e}", e.line(), e.column())))?;
        if file.format != FORMAT {
            return Err(bad(format!(
                "format is {:?}, expected {FORMAT:?}",
                file.format
            )));
        }
        if file.version != VERSION {
            return Err(bad(format!(
                "version {} is not supported, expected {VERSION}",
                file.version
            )));
        }
        if file.order != ORDER {
            return Err(bad(format!("order is {}, expected {ORDER}", file.order)));
        }
        if file.alphabet != ALPHABET {
            return Err(bad(format!(
                "alphabet is {:?}, expected {ALPHABET:?}",
                file.alphabet
            )));
        }
        if file.smoothing != SMOOTHING {
            return Err(bad(format!(
                "smoothing is {:?}, expected {SMOOTHING:?}",
                file.smoothing
            )));
        }
        let mut trigrams = BTreeMap::new();
        let (mut starts, mut ends) = (0u64, 0u64);
        for (key, &count) in &file.trigrams {
            let idx = parse_trigram(key)
                .ok_or_else(|| bad(format!("trigram {key:?} is not a valid trigram")))?;
            if count == 0 {
                return Err(bad(format!("trigram {key:?} has count 0, expected >= 1")));
            }
            if idx[0] == START && idx[1] == START {
                starts += u64::from(count);
            }
            if idx[2] == END {
                ends += u64::from(count);
            }
            trigrams.insert(idx, count);
        }
        if file.trained_names == 0 || starts != file.trained_names || ends != file.trained_names {
            return Err(bad(format!(
                "trained_names is {} but the trigrams hold {starts} name starts and {ends} name \
                 ends",
                file.trained_names
            )));
        }
        Ok(DgaModel::from_parts(
            trigrams,
            file.trained_names,
            file.description,
        ))
    }

    /// Writes the model file (deterministic: same model, same bytes).
    pub fn to_writer(&self, mut w: impl Write) -> std::io::Result<()> {
        let js = |s: &str| serde_json::to_string(s).expect("strings always serialise");
        writeln!(w, "{{")?;
        writeln!(w, "  \"format\": {},", js(FORMAT))?;
        writeln!(w, "  \"version\": {VERSION},")?;
        writeln!(w, "  \"order\": {ORDER},")?;
        writeln!(w, "  \"alphabet\": {},", js(ALPHABET))?;
        writeln!(w, "  \"smoothing\": {},", js(SMOOTHING))?;
        writeln!(w, "  \"trained_names\": {},", self.trained_names)?;
        writeln!(w, "  \"description\": {},", js(&self.description))?;
        writeln!(w, "  \"trigrams\": {{")?;
        let alphabet = ALPHABET.as_bytes();
        let last = self.trigrams.len().saturating_sub(1);
        for (i, (k, count)) in self.trigrams.iter().enumerate() {
            let key: String = k
                .iter()
                .map(|&s| char::from(alphabet[usize::from(s)]))
                .collect();
            let sep = if i == last { "" } else { "," };
            writeln!(w, "    {}: {count}{sep}", js(&key))?;
        }
        writeln!(w, "  }}")?;
        writeln!(w, "}}")?;
        Ok(())
    }

    /// Mean log2 probability per predicted symbol of a label (lower is less name-like).
    pub fn score(&self, label: &str) -> f64 {
        let s: Vec<u8> = symbols(label).collect();
        let mut total = 0.0f64;
        for w in s.windows(3) {
            let i = (usize::from(w[0]) * A + usize::from(w[1])) * A + usize::from(w[2]);
            total += f64::from(self.table[i]);
        }
        total / (s.len() - 2) as f64
    }
}

fn parse_trigram(key: &str) -> Option<[u8; 3]> {
    let mut out = [0u8; 3];
    let mut chars = key.chars();
    for slot in &mut out {
        let c = chars.next()?;
        *slot = u8::try_from(ALPHABET.find(c)?).ok()?;
    }
    if chars.next().is_some() {
        return None;
    }
    let [a, b, c] = out;
    let inner = |s: u8| s != START && s != END;
    let valid = c != START
        && match (a, b) {
            (START, START) => true,
            (START, b) => inner(b),
            (a, b) => inner(a) && inner(b),
        };
    valid.then_some(out)
}

/// Witten–Bell interpolated log2 probabilities for every (a, b, c).
fn build_table(trigrams: &BTreeMap<[u8; 3], u32>) -> Vec<f32> {
    let mut n3 = vec![0f64; A * A * A];
    for (k, &c) in trigrams {
        n3[(usize::from(k[0]) * A + usize::from(k[1])) * A + usize::from(k[2])] = f64::from(c);
    }
    let mut n2 = vec![0f64; A * A];
    for a in 0..A {
        for b in 0..A {
            for c in 0..A {
                n2[b * A + c] += n3[(a * A + b) * A + c];
            }
        }
    }
    let mut n1 = vec![0f64; A];
    for b in 0..A {
        for c in 0..A {
            n1[c] += n2[b * A + c];
        }
    }
    let total: f64 = n1.iter().sum();
    let p1: Vec<f64> = (0..A).map(|c| (n1[c] + 1.0) / (total + V)).collect();
    let interpolate = |counts: &[f64], lower: &dyn Fn(usize) -> f64| -> Vec<f64> {
        let seen: f64 = counts.iter().sum();
        let types = counts.iter().filter(|&&n| n > 0.0).count() as f64;
        (0..A)
            .map(|c| {
                if seen > 0.0 {
                    (counts[c] + types * lower(c)) / (seen + types)
                } else {
                    lower(c)
                }
            })
            .collect()
    };
    let mut p2 = vec![0f64; A * A];
    for b in 0..A {
        let row = interpolate(&n2[b * A..(b + 1) * A], &|c| p1[c]);
        p2[b * A..(b + 1) * A].copy_from_slice(&row);
    }
    let mut table = vec![f32::NEG_INFINITY; A * A * A];
    for a in 0..A {
        for b in 0..A {
            let base = (a * A + b) * A;
            let row = interpolate(&n3[base..base + A], &|c| p2[b * A + c]);
            for c in 1..A {
                table[base + c] = row[c].log2() as f32;
            }
        }
    }
    table
}

/// The DGA detector over DNS queries; see the module documentation.
pub struct DgaDetector {
    cfg: DgaConfig,
    model: DgaModel,
    window: i64,
    sources: LruMap<IpAddr, SourceNames>,
}

#[derive(Default)]
struct SourceNames {
    /// (first seen µs, registrable domain, score), oldest first.
    names: VecDeque<(i64, Box<str>, f64)>,
    last_alert: Option<i64>,
}

impl DgaDetector {
    pub fn new(cfg: DgaConfig, model: DgaModel) -> Self {
        DgaDetector {
            window: secs_to_micros(cfg.window_secs),
            cfg,
            model,
            sources: LruMap::new(),
        }
    }

    pub fn tracked_sources(&self) -> usize {
        self.sources.len()
    }

    /// The score of a query name's registrable label, if it is long enough to be scored.
    pub fn score_name(&self, name: &str) -> Option<f64> {
        let (_, label) = registrable(name)?;
        if label.len() < self.cfg.min_len || label.starts_with("xn--") {
            return None;
        }
        Some(self.model.score(label))
    }

    /// Whether a lower-case query name is DGA-like on its own.
    pub fn is_dga_like(&self, name: &str) -> bool {
        self.score_name(name)
            .is_some_and(|s| s < self.cfg.threshold)
    }

    pub fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Detection>) {
        let Observation::DnsQuery { ts, src, name, .. } = *obs else {
            return;
        };
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        let Some(score) = self.score_name(&name) else {
            return;
        };
        if score >= self.cfg.threshold {
            return;
        }
        let Some((domain, _)) = registrable(&name) else {
            return;
        };
        let now = ts.as_micros();
        if self.sources.get_mut(&src).is_none() {
            while self.sources.len() >= self.cfg.max_sources {
                if self.sources.pop_oldest().is_none() {
                    break;
                }
            }
        }
        let cutoff = now.saturating_sub(self.window);
        let st = self
            .sources
            .touch_or_insert_with(&src, now, SourceNames::default);
        while st.names.front().is_some_and(|n| n.0 < cutoff) {
            st.names.pop_front();
        }
        if st.names.iter().any(|n| &*n.1 == domain) {
            return;
        }
        if st.names.len() >= self.cfg.max_names_per_source {
            st.names.pop_front();
        }
        st.names.push_back((now, domain.into(), score));
        let cfg = &self.cfg;
        let n = st.names.len();
        if n < cfg.min_distinct_names || st.last_alert.is_some_and(|at| now - at < self.window) {
            return;
        }
        st.last_alert = Some(now);
        let mean = st.names.iter().map(|x| x.2).sum::<f64>() / n as f64;
        let depth = ((cfg.threshold - mean) / 1.5).clamp(0.0, 1.0);
        let extra = (n - cfg.min_distinct_names) as f64 / cfg.min_distinct_names as f64;
        let confidence = clamp_confidence(50.0 + 30.0 * depth + 20.0 * extra.min(1.0));
        let names: Vec<serde_json::Value> = st
            .names
            .iter()
            .take(EVIDENCE_NAMES)
            .map(|(_, d, s)| json!({ "domain": &**d, "score": round(*s, 3) }))
            .collect();
        out.push(Detection {
            model: "dga",
            ts,
            src,
            dst: None,
            dst_port: None,
            signature: "VIGIL MODEL DGA: many algorithmically generated domain names queried"
                .into(),
            signature_id: sid::DGA,
            severity: if confidence >= 80 { 2 } else { 3 },
            confidence,
            attack: vec!["T1568.002"],
            evidence: json!({
                "window_secs": cfg.window_secs,
                "distinct_names": n,
                "threshold": cfg.threshold,
                "min_len": cfg.min_len,
                "mean_score": round(mean, 3),
                "names": names,
            }),
        });
    }

    pub fn tick(&mut self, now: i64, _out: &mut Vec<Detection>) {
        let cutoff = now.saturating_sub(self.window);
        self.sources.evict_before(cutoff, |_, _| {});
    }
}

/// Registrable labels of the top-site warninglists under `dir` (`<dir>/<list>/list.json`),
/// by list folder name. Lists are chosen by [`TOP_SITE_KEYWORDS`] (block-page lists
/// excluded) and must be of type `string` or `hostname`.
pub fn top_site_labels(dir: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, ModelError> {
    #[derive(Deserialize)]
    struct ListFile {
        #[serde(rename = "type")]
        kind: String,
        list: Vec<String>,
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelError::Io { path, source }
    };
    let mut folders: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, _)| {
            let lower = name.to_ascii_lowercase();
            TOP_SITE_KEYWORDS.iter().any(|k| lower.contains(k)) && !lower.contains("blockpage")
        })
        .collect();
    folders.sort();
    let mut out = BTreeMap::new();
    for (name, folder) in folders {
        let path = folder.join("list.json");
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let file: ListFile = serde_json::from_str(&text).map_err(|e| ModelError::Warninglist {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if file.kind != "string" && file.kind != "hostname" {
            continue;
        }
        let labels: BTreeSet<String> = file.list.iter().filter_map(|e| top_site_label(e)).collect();
        out.insert(name, labels);
    }
    if out.is_empty() {
        return Err(ModelError::Warninglist {
            path: dir.to_path_buf(),
            reason: format!(
                "no top-site list found (folders whose name contains one of {})",
                TOP_SITE_KEYWORDS.join(", ")
            ),
        });
    }
    Ok(out)
}

/// The registrable label of one warninglist entry, if it is a plain ASCII host name.
fn top_site_label(entry: &str) -> Option<String> {
    let mut e = entry.trim().to_ascii_lowercase();
    if let Some(rest) = e.strip_prefix("*.") {
        e = rest.to_string();
    }
    let e = e.trim_start_matches('.').trim_end_matches('.');
    if e.is_empty() || e.contains(['/', ':', '@', ' ']) || e.parse::<IpAddr>().is_ok() {
        return None;
    }
    let label = registrable_label(e)?;
    let plain = label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    (plain && !label.is_empty() && !label.starts_with("xn--")).then(|| label.to_string())
}

/// The deterministic 20 % evaluation split: labels whose FNV-1a hash is 0 mod 5 are never
/// trained on.
pub fn is_held_out(label: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h.is_multiple_of(5)
}

/// Trains the shipped model: the union of the top-site labels, minus the held-out split.
pub fn train_dga_from_warninglists(dir: &Path) -> Result<DgaModel, ModelError> {
    let lists = top_site_labels(dir)?;
    let all: BTreeSet<&str> = lists.values().flatten().map(String::as_str).collect();
    let train: Vec<&str> = all.into_iter().filter(|l| !is_held_out(l)).collect();
    let names: Vec<&str> = lists.keys().map(String::as_str).collect();
    Ok(train_dga(train.into_iter()).with_description(format!(
        "registrable labels of the MISP warninglists (CC0) {}, without the 20% held-out \
         split; rebuild with `vigil models train-dga`",
        names.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::super::testgen::{self, dga_families, evaluate_hosts, DgaKind};
    use super::super::{Models, ModelsConfig};
    use super::*;
    use crate::pcap::Timestamp;
    use proptest::prelude::*;

    fn warninglists() -> Option<PathBuf> {
        Some(crate::testdata::shared_data_dir().join("warninglists/lists"))
    }

    fn small_model() -> DgaModel {
        let names = [
            "google",
            "facebook",
            "amazon",
            "wikipedia",
            "microsoft",
            "netflix",
            "apple",
            "youtube",
            "instagram",
            "linkedin",
            "twitter",
            "yahoo",
            "reddit",
            "office",
        ];
        train_dga(names.into_iter())
    }

    #[test]
    fn trigram_parsing_enforces_the_boundary_marks() {
        assert_eq!(parse_trigram("^^a"), Some([0, 0, 2]));
        assert_eq!(parse_trigram("ab$"), Some([2, 3, 1]));
        assert!(parse_trigram("a^b").is_none());
        assert!(parse_trigram("$ab").is_none());
        assert!(parse_trigram("ab^").is_none());
        assert!(parse_trigram("^$a").is_none());
        assert!(parse_trigram("abcd").is_none());
        assert!(parse_trigram("aB").is_none());
    }

    #[test]
    fn model_file_round_trips_byte_for_byte() {
        let m = small_model().with_description("test \"model\"");
        let mut a = Vec::new();
        m.to_writer(&mut a).unwrap();
        let back = DgaModel::from_reader(&a[..], "a").unwrap();
        assert_eq!(back, m);
        let mut b = Vec::new();
        back.to_writer(&mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(back.score("google"), m.score("google"));
    }

    #[test]
    fn corrupt_model_files_are_clear_errors() {
        let mut good = Vec::new();
        small_model().to_writer(&mut good).unwrap();
        let good = String::from_utf8(good).unwrap();
        let cases = [
            (good.replace("VIGIL-DGA-NGRAM", "OTHER"), "format"),
            (
                good.replace("\"version\": 1", "\"version\": 2"),
                "version 2 is not supported",
            ),
            (good.replace("\"order\": 3", "\"order\": 4"), "order"),
            (good.replace("-_\"", "-\""), "alphabet"),
            (good.replace("\"^^g\"", "\"^g^\""), "not a valid trigram"),
            (good.replace("\"^^g\": 1", "\"^^g\": 0"), "count 0"),
            (
                good.replace("\"trained_names\": 14", "\"trained_names\": 15"),
                "trained_names",
            ),
            (good[..good.len() / 2].to_string(), "line"),
            ("\u{0}\u{1}garbage".to_string(), "line 1"),
        ];
        for (text, needle) in cases {
            let err = DgaModel::from_reader(text.as_bytes(), "m.json")
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("invalid DGA model m.json: "), "{err}");
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
        let err = DgaModel::from_file(Path::new("/nonexistent/dga.json")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/dga.json"), "{err}");
    }

    #[test]
    fn embedded_model_loads_and_is_small() {
        let m = DgaModel::embedded().unwrap();
        assert!(m.trained_names() > 10_000);
        assert!(EMBEDDED.len() < 1 << 20, "{} bytes", EMBEDDED.len());
        assert!(m.score("wikipedia") > m.score("xkqzvjwpfh"));
    }

    #[test]
    fn registrable_label_uses_the_public_suffix_list() {
        assert_eq!(
            registrable("www.example.co.uk"),
            Some(("example.co.uk", "example"))
        );
        assert_eq!(registrable_label("a.b.example.com"), Some("example"));
        assert_eq!(registrable_label("co.uk"), None);
        assert_eq!(registrable_label(".com"), None);
        assert_eq!(
            registrable("d3c3cq33003psk.cloudfront.net"),
            Some(("cloudfront.net", "cloudfront"))
        );
        assert_eq!(registrable_label("myblog.blogspot.co.uk"), Some("blogspot"));
        assert_eq!(registrable_label("printer.local-not-a-tld"), None);
        assert_eq!(registrable_label("1.0.0.10.in-addr.arpa"), None);
        assert_eq!(
            top_site_label("*.Example.COM."),
            Some("example".to_string())
        );
        assert_eq!(top_site_label("10.0.0.1"), None);
        assert_eq!(top_site_label("xn--80ak6aa92e.com"), None);
        assert_eq!(top_site_label("example.com/path"), None);
    }

    #[test]
    fn shipped_model_is_reproducible_from_the_warninglists() {
        let Some(dir) = warninglists() else { return };
        let trained = train_dga_from_warninglists(&dir).unwrap();
        let lists = top_site_labels(&dir).unwrap();
        let union: BTreeSet<&String> = lists.values().flatten().collect();
        println!(
            "dga model: {} distinct labels, {} trained on, {} trigrams",
            union.len(),
            trained.trained_names(),
            trained.trigram_count()
        );
        let mut bytes = Vec::new();
        trained.to_writer(&mut bytes).unwrap();
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/dga-ngram.json");
        if std::env::var_os("VIGIL_UPDATE_MODELS").is_some() {
            std::fs::write(&shipped, &bytes).unwrap();
        }
        assert!(
            bytes == EMBEDDED.as_bytes(),
            "models/dga-ngram.json is stale: run `vigil models train-dga` (or this test with \
             VIGIL_UPDATE_MODELS=1)"
        );
    }

    /// Per-name evaluation of the shipped model at the default threshold: held-out benign
    /// labels (never trained on) and generated DGA names. Prints the table for the README.
    #[test]
    fn held_out_benign_and_generated_dga_names_precision_recall() {
        let Some(dir) = warninglists() else { return };
        let lists = top_site_labels(&dir).unwrap();
        let cfg = DgaConfig::default();
        let det = DgaDetector::new(cfg.clone(), DgaModel::embedded().unwrap());
        let flagged =
            |label: &str| label.len() >= cfg.min_len && det.model.score(label) < cfg.threshold;

        let held_out = |names: &[&str]| -> BTreeSet<String> {
            lists
                .iter()
                .filter(|(k, _)| names.is_empty() || names.contains(&k.as_str()))
                .flat_map(|(_, v)| v.iter())
                .filter(|l| is_held_out(l) && l.len() >= cfg.min_len)
                .cloned()
                .collect()
        };
        let fpr = |set: &BTreeSet<String>| {
            set.iter().filter(|l| flagged(l)).count() as f64 / set.len().max(1) as f64
        };
        let curated = held_out(&CURATED_LISTS);
        let all = held_out(&[]);
        let fpr_curated = fpr(&curated);
        let fpr_all = fpr(&all);
        println!(
            "dga benign held-out (labels >= {} chars): curated lists n={} FPR={:.4}; all top-site \
             lists n={} FPR={:.4}",
            cfg.min_len,
            curated.len(),
            fpr_curated,
            all.len(),
            fpr_all
        );
        let mut recalls = BTreeMap::new();
        for (family, names) in dga_families(2_000) {
            let hits = names.iter().filter(|n| det.is_dga_like(n)).count();
            let recall = hits as f64 / names.len() as f64;
            // Precision on a mix with as many DGA names as curated benign names.
            let precision = recall / (recall + fpr_curated).max(f64::MIN_POSITIVE);
            println!(
                "dga | {family} (per name) | precision {precision:.3} | recall {recall:.3} | \
                 FPR {fpr_curated:.4}"
            );
            recalls.insert(family, recall);
        }
        assert!(fpr_curated <= 0.01, "curated FPR {fpr_curated}");
        assert!(fpr_all <= 0.03, "all-lists FPR {fpr_all}");
        let random = ["ramnit", "conficker-style", "cryptolocker-style"];
        let pooled = random.iter().map(|f| recalls[f]).sum::<f64>() / random.len() as f64;
        println!("dga | random-letter families pooled (per name) | recall {pooled:.3}");
        assert!(pooled >= 0.85, "pooled random-letter recall {pooled}");
        for f in random {
            assert!(recalls[f] >= 0.8, "{f}: {}", recalls[f]);
        }
        assert!(recalls["md5-hex"] >= 0.9, "{}", recalls["md5-hex"]);
    }

    #[test]
    fn a_host_querying_dga_names_is_alerted_once_per_window() {
        let det_cfg = DgaConfig::default();
        let mut det = DgaDetector::new(det_cfg, DgaModel::embedded().unwrap());
        let names = [
            "xkqzvjwpfhtb.com",
            "qwpzmxkvrtjl.net",
            "zzkqjxwvbmpt.org",
            "pqxjzkwvtmrb.info",
            "vkzqxjpwmtrl.biz",
            "wxqzjkvpmtbr.ru",
        ];
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let obs = Observation::DnsQuery {
                ts: Timestamp::new(i as i64, 0),
                src: "10.0.0.66".parse().unwrap(),
                name: n,
                rrtype: 1,
            };
            det.observe(&obs, &mut out);
        }
        assert_eq!(out.len(), 1, "{out:?}");
        let d = &out[0];
        assert_eq!(d.model, "dga");
        assert_eq!(d.attack, vec!["T1568.002"]);
        assert_eq!(d.ts.secs, 3);
        assert_eq!(d.evidence["distinct_names"], 4);
        assert_eq!(d.evidence["names"][0]["domain"], "xkqzvjwpfhtb.com");
    }

    #[test]
    fn tracked_sources_and_names_are_capped() {
        let cfg = DgaConfig {
            max_sources: 2,
            max_names_per_source: 5,
            ..DgaConfig::default()
        };
        let mut det = DgaDetector::new(cfg, DgaModel::embedded().unwrap());
        let names = testgen::conficker_style(9, 200);
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let obs = Observation::DnsQuery {
                ts: Timestamp::new(i as i64, 0),
                src: IpAddr::from([10, 0, 0, (i % 4) as u8]),
                name: n,
                rrtype: 1,
            };
            det.observe(&obs, &mut out);
            assert!(det.tracked_sources() <= 2);
            assert!(det.sources.values().all(|(_, s)| s.names.len() <= 5));
        }
        det.tick(secs_to_micros(100_000), &mut out);
        assert_eq!(det.tracked_sources(), 0);
    }

    #[test]
    fn benign_long_names_and_repeats_stay_quiet() {
        let mut det = DgaDetector::new(DgaConfig::default(), DgaModel::embedded().unwrap());
        let mut out = Vec::new();
        for (i, n) in testgen::POPULAR_NAMES
            .iter()
            .cycle()
            .take(2_000)
            .enumerate()
        {
            let obs = Observation::DnsQuery {
                ts: Timestamp::new(i as i64, 0),
                src: "10.0.0.1".parse().unwrap(),
                name: n,
                rrtype: 1,
            };
            det.observe(&obs, &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(det.tracked_sources(), 0);
    }

    #[test]
    fn generated_traffic_precision_and_recall() {
        let extra: Vec<String> = warninglists()
            .map(|dir| {
                let lists = top_site_labels(&dir).unwrap();
                CURATED_LISTS
                    .iter()
                    .filter_map(|l| lists.get(*l))
                    .flatten()
                    .filter(|l| is_held_out(l))
                    .map(|l| format!("{l}.com"))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .unwrap_or_default();
        let mut rows = Vec::new();
        for kind in [DgaKind::RandomLetters, DgaKind::Ramnit, DgaKind::Dictionary] {
            let (mut tp, mut fp, mut fn_) = (0, 0, 0);
            for seed in 0..20 {
                let stream = testgen::dga_stream(seed, kind, &extra);
                let mut models = Models::new(&ModelsConfig::default()).unwrap();
                let out = stream.run(&mut models);
                let r = evaluate_hosts(&stream, &out, "dga");
                tp += r.0;
                fp += r.1;
                fn_ += r.2;
            }
            rows.push(testgen::report("dga", kind.name(), tp, fp, fn_));
        }
        for r in &rows {
            println!("{r}");
        }
        for r in &rows {
            assert!(r.fp <= 1, "{r}");
        }
        assert!(rows[0].recall() >= 0.95, "{}", rows[0]);
        assert!(rows[1].recall() >= 0.95, "{}", rows[1]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Any label scores a finite, non-positive number.
        #[test]
        fn scores_are_finite(label in "\\PC{0,80}") {
            let m = small_model();
            let s = m.score(&label);
            prop_assert!(s.is_finite() && s <= 0.0, "{}", s);
        }

        /// Any name: the registrable domain is a suffix of the name that starts with the label.
        #[test]
        fn registrable_is_a_suffix_of_the_name(name in "[a-z0-9.-]{0,60}") {
            if let Some((domain, label)) = registrable(&name) {
                prop_assert!(name.ends_with(domain));
                prop_assert!(domain.starts_with(label) && !label.is_empty());
                prop_assert!(!label.contains('.'));
            }
        }

        /// Mangled model files never panic the loader.
        #[test]
        fn mangled_model_files_never_panic(
            cut in 0usize..2_000, flip in 0usize..2_000, byte in any::<u8>()
        ) {
            let mut bytes = Vec::new();
            small_model().to_writer(&mut bytes).unwrap();
            let n = bytes.len();
            bytes[flip % n] = byte;
            bytes.truncate(n - cut % n);
            let _ = DgaModel::from_reader(&bytes[..], "fuzz");
        }
    }
}
