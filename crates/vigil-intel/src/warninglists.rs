//! MISP warninglists: false-positive screening of indicators.
//!
//! A warninglist names values that are benign or not actionable (top sites, CDN and cloud
//! ranges, public resolvers, RFC 1918 space, empty-file hashes, ...). [`Warninglists::check`]
//! answers "which lists contain this MISP attribute?"; each [`Hit`] is a warning with the code
//! [`FALSE_POSITIVE_RISK`] that names its list.
//!
//! The matching of one value against one list is that of pymispwarninglists in its
//! CIDR-correct mode (`slow_search=True`), the reference this module is tested against
//! (`tests/warninglists_peer.rs`):
//!
//! * `string` — exact, case-sensitive membership;
//! * `substring` — some entry occurs in the value (case-sensitive);
//! * `hostname` — the value (reduced to `urlparse(value).hostname` when it has a `//` netloc,
//!   which lower-cases it) equals an entry or ends with `.` + the entry without leading dots;
//! * `cidr` — a value that Python's `ipaddress` reads as an address is inside one of the
//!   list's networks (entries that `ip_network` rejects are ignored); any other value, such as
//!   a network `10.0.0.0/8`, hits only when it equals an entry literally;
//! * `regex` — pymispwarninglists never matches these; we follow MISP core and match the
//!   PCRE `/pattern/flags` entries (flags `i m s x U u D`; the JavaScript flag `g` that some
//!   lists carry is ignored as it means nothing for a yes/no test).
//!
//! pymispwarninglists has no notion of attribute types, so which lists apply to a type follows
//! MISP core (`Warninglist::checkForWarning`): a list applies when its `matching_attributes`
//! names the type or is empty, and a composite type (`domain|ip`, `filename|md5`, any type
//! with a `|`, and `malware-sample`) is split once at the first `|` of the value, the list
//! hitting when either part does.
//!
//! Structures: one hash map from entry to the (interned) set of lists holding it for each of
//! string, hostname and literal-cidr entries; hostnames are probed with every label suffix of
//! the value; CIDR networks become sorted disjoint intervals per address family, each tagged
//! with the lists covering it, searched by binary search; one Aho-Corasick automaton and one
//! `RegexSet` per substring and regex list.

use std::borrow::Cow;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use aho_corasick::AhoCorasick;
use regex::RegexSet;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use vigil_model::IndicatorType;

/// The warning code of a warninglist hit.
pub const FALSE_POSITIVE_RISK: &str = "false-positive-risk";

/// The five kinds of warninglist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListType {
    String,
    Substring,
    Hostname,
    Cidr,
    Regex,
}

impl ListType {
    pub const ALL: [ListType; 5] = [
        ListType::String,
        ListType::Substring,
        ListType::Hostname,
        ListType::Cidr,
        ListType::Regex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListType::String => "string",
            ListType::Substring => "substring",
            ListType::Hostname => "hostname",
            ListType::Cidr => "cidr",
            ListType::Regex => "regex",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for ListType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value found on a warninglist: a `false-positive-risk` warning naming the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit<'a> {
    /// The list's folder name (`rfc1918`, `google`), unique and stable.
    pub list: &'a str,
    /// The list's `name` (`List of RFC 1918 CIDR blocks`).
    pub name: &'a str,
    pub kind: ListType,
}

impl Hit<'_> {
    /// Always [`FALSE_POSITIVE_RISK`].
    pub fn code(&self) -> &'static str {
        FALSE_POSITIVE_RISK
    }
}

impl fmt::Display for Hit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{FALSE_POSITIVE_RISK}: on MISP warninglist {} ({}, {})",
            self.list, self.name, self.kind
        )
    }
}

/// Why a set of warninglists could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WarninglistError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A list file that is not valid JSON or not a warninglist (a missing field, an unknown
    /// `type`, an entry that is not a string).
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("no warninglists in {0} (expected lists/<name>/list.json)")]
    NoLists(PathBuf),
    #[error("{0}: more than 65535 warninglists")]
    TooMany(PathBuf),
}

/// An entry that was loaded but cannot take part in matching as its list type intends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadWarning {
    pub path: PathBuf,
    pub entry: String,
    pub message: String,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: entry {:?}: {}",
            self.path.display(),
            self.entry,
            self.message
        )
    }
}

/// One loaded list's metadata.
#[derive(Clone, Debug)]
pub struct Warninglist {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub version: i64,
    pub kind: ListType,
    /// Empty means every attribute type.
    pub matching_attributes: Vec<String>,
    pub entries: usize,
}

/// Lists and entries per list type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeStats {
    pub lists: usize,
    pub entries: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    pub lists: usize,
    pub entries: usize,
    /// In [`ListType::ALL`] order.
    pub per_type: Vec<(ListType, TypeStats)>,
    /// Disjoint intervals after merging all CIDR lists, per family.
    pub ipv4_intervals: usize,
    pub ipv6_intervals: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} lists, {} entries (", self.lists, self.entries)?;
        for (i, (t, s)) in self.per_type.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{t}: {} lists/{} entries", s.lists, s.entries)?;
        }
        write!(
            f,
            "); cidr intervals: {} IPv4, {} IPv6",
            self.ipv4_intervals, self.ipv6_intervals
        )
    }
}

/// All warninglists of a directory, ready for lookups. Immutable once loaded.
pub struct Warninglists {
    lists: Vec<Warninglist>,
    /// Interned sets of list indices (sorted); map values and intervals point here.
    sets: Vec<Box<[u16]>>,
    strings: FxHashMap<Box<str>, u32>,
    cidr_literals: FxHashMap<Box<str>, u32>,
    /// Hostname entries as written (for `value == entry`).
    host_exact: FxHashMap<Box<str>, u32>,
    /// Hostname entries without leading dots (for `value.endswith("." + entry)`).
    host_suffix: FxHashMap<Box<str>, u32>,
    v4: Intervals,
    v6: Intervals,
    substrings: Vec<(u16, AhoCorasick)>,
    regexes: Vec<(u16, RegexSet)>,
    gates: FxHashMap<Box<str>, Gate>,
    /// Lists without `matching_attributes`, for types no list names.
    default_gate: Gate,
    warnings: Vec<LoadWarning>,
}

impl fmt::Debug for Warninglists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Warninglists")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct RawList {
    name: String,
    description: String,
    version: i64,
    #[serde(rename = "type")]
    kind: ListType,
    #[serde(default)]
    matching_attributes: Option<Vec<String>>,
    list: Vec<String>,
}

/// Which lists apply to one attribute type, and which list types they include (so a lookup
/// skips structures that cannot contribute).
#[derive(Clone, Debug, Default)]
struct Gate {
    bits: Vec<u64>,
    kinds: u8,
}

impl Gate {
    fn allows(&self, list: u16) -> bool {
        let i = usize::from(list);
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    fn add(&mut self, list: u16, kind: ListType) {
        let i = usize::from(list);
        if self.bits.len() <= i / 64 {
            self.bits.resize(i / 64 + 1, 0);
        }
        if let Some(w) = self.bits.get_mut(i / 64) {
            *w |= 1u64 << (i % 64);
        }
        self.kinds |= kind.bit();
    }

    fn has(&self, kind: ListType) -> bool {
        self.kinds & kind.bit() != 0
    }
}

/// Interns sets of list indices so that the maps hold one `u32` per entry.
#[derive(Default)]
struct Interner {
    sets: Vec<Box<[u16]>>,
    index: FxHashMap<Box<[u16]>, u32>,
}

impl Interner {
    fn intern(&mut self, set: &[u16]) -> u32 {
        if let Some(&id) = self.index.get(set) {
            return id;
        }
        let id = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        self.sets.push(set.into());
        self.index.insert(set.into(), id);
        id
    }

    /// The set `id` plus `list`; lists are added in increasing order, so appending keeps it
    /// sorted.
    fn with(&mut self, id: u32, list: u16) -> u32 {
        let Some(old) = self.sets.get(id as usize) else {
            return self.intern(&[list]);
        };
        if old.last() == Some(&list) {
            return id;
        }
        let mut set = old.to_vec();
        set.push(list);
        self.intern(&set)
    }

    fn add_entry(&mut self, map: &mut FxHashMap<Box<str>, u32>, entry: &str, list: u16) {
        match map.get_mut(entry) {
            Some(id) => *id = self.with(*id, list),
            None => {
                let id = self.intern(&[list]);
                map.insert(entry.into(), id);
            }
        }
    }
}

impl Warninglists {
    /// `$VIGIL_WARNINGLISTS`, else `./data/warninglists` when it exists, else the copy shipped
    /// in this workspace when it exists.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("VIGIL_WARNINGLISTS") {
            return Some(PathBuf::from(dir));
        }
        let local = Path::new("data/warninglists");
        if local.is_dir() {
            return Some(local.to_path_buf());
        }
        let shipped = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/warninglists"
        ));
        shipped.is_dir().then(|| shipped.to_path_buf())
    }

    /// Loads every `lists/*/list.json` under `dir` (or `dir/*/list.json` when `dir` is the
    /// `lists` folder itself), in folder-name order. A malformed list is an error naming the
    /// file, line and column; entries that cannot match as intended are [`Self::warnings`].
    pub fn load_dir(dir: &Path) -> Result<Warninglists, WarninglistError> {
        let nested = dir.join("lists");
        let root = if nested.is_dir() {
            nested
        } else {
            dir.to_path_buf()
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| WarninglistError::Io { path, source }
        };
        let mut files = Vec::new();
        for e in fs::read_dir(&root).map_err(io(&root))? {
            let e = e.map_err(io(&root))?;
            let file = e.path().join("list.json");
            if file.is_file() {
                files.push((e.file_name().to_string_lossy().into_owned(), file));
            }
        }
        if files.is_empty() {
            return Err(WarninglistError::NoLists(dir.to_path_buf()));
        }
        files.sort();
        let mut lists = Vec::with_capacity(files.len());
        for (slug, path) in files {
            let data = fs::read(&path).map_err(io(&path))?;
            let raw: RawList = serde_json::from_slice(crate::strip_bom(&data)).map_err(|e| {
                let suffix = format!(" at line {} column {}", e.line(), e.column());
                let msg = e.to_string();
                WarninglistError::Json {
                    path: path.clone(),
                    line: e.line(),
                    column: e.column(),
                    message: msg.strip_suffix(&suffix).unwrap_or(&msg).to_string(),
                }
            })?;
            lists.push((slug, path, raw));
        }
        if lists.len() > usize::from(u16::MAX) {
            return Err(WarninglistError::TooMany(dir.to_path_buf()));
        }
        Ok(Self::build(lists))
    }

    fn build(raw: Vec<(String, PathBuf, RawList)>) -> Warninglists {
        let mut interner = Interner::default();
        let mut strings = FxHashMap::default();
        let mut cidr_literals = FxHashMap::default();
        let mut host_exact = FxHashMap::default();
        let mut host_suffix = FxHashMap::default();
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut substrings = Vec::new();
        let mut regexes = Vec::new();
        let mut gates: FxHashMap<Box<str>, Gate> = FxHashMap::default();
        let mut default_gate = Gate::default();
        let mut warnings = Vec::new();
        let mut lists = Vec::with_capacity(raw.len());

        for (i, (slug, path, r)) in raw.into_iter().enumerate() {
            let id = u16::try_from(i).unwrap_or(u16::MAX);
            let types = r.matching_attributes.unwrap_or_default();
            if types.is_empty() {
                default_gate.add(id, r.kind);
            }
            for t in &types {
                gates.entry(t.as_str().into()).or_default().add(id, r.kind);
            }
            match r.kind {
                ListType::String => {
                    for e in &r.list {
                        interner.add_entry(&mut strings, e, id);
                    }
                }
                ListType::Hostname => {
                    for e in &r.list {
                        interner.add_entry(&mut host_exact, e, id);
                        interner.add_entry(&mut host_suffix, e.trim_start_matches('.'), id);
                    }
                }
                ListType::Cidr => {
                    for e in &r.list {
                        interner.add_entry(&mut cidr_literals, e, id);
                        match py_ip_network(e) {
                            Some(Net::V4(lo, hi)) => v4.push((u128::from(lo), u128::from(hi), id)),
                            Some(Net::V6(lo, hi)) => v6.push((lo, hi, id)),
                            None => warnings.push(LoadWarning {
                                path: path.clone(),
                                entry: e.clone(),
                                message: "not a network (ignored for containment; still matches \
                                          as a literal, as in pymispwarninglists)"
                                    .into(),
                            }),
                        }
                    }
                }
                ListType::Substring => match AhoCorasick::new(&r.list) {
                    Ok(ac) => substrings.push((id, ac)),
                    Err(e) => warnings.push(LoadWarning {
                        path: path.clone(),
                        entry: String::new(),
                        message: format!("substring list not usable: {e}"),
                    }),
                },
                ListType::Regex => {
                    let mut ok = Vec::new();
                    for e in &r.list {
                        match translate_pcre(e).and_then(|p| {
                            regex::Regex::new(&p).map(|_| p).map_err(|e| e.to_string())
                        }) {
                            Ok(p) => ok.push(p),
                            Err(message) => warnings.push(LoadWarning {
                                path: path.clone(),
                                entry: e.clone(),
                                message: format!("regex skipped: {message}"),
                            }),
                        }
                    }
                    match RegexSet::new(&ok) {
                        Ok(set) => regexes.push((id, set)),
                        Err(e) => warnings.push(LoadWarning {
                            path: path.clone(),
                            entry: String::new(),
                            message: format!("regex list not usable: {e}"),
                        }),
                    }
                }
            }
            lists.push(Warninglist {
                slug,
                name: r.name,
                description: r.description,
                version: r.version,
                kind: r.kind,
                matching_attributes: types,
                entries: r.list.len(),
            });
        }
        // A type gate also admits the lists that apply to every type.
        for gate in gates.values_mut() {
            for (i, l) in lists.iter().enumerate() {
                if l.matching_attributes.is_empty() {
                    gate.add(u16::try_from(i).unwrap_or(u16::MAX), l.kind);
                }
            }
        }
        let v4 = Intervals::build(v4, &mut interner);
        let v6 = Intervals::build(v6, &mut interner);
        Warninglists {
            lists,
            sets: interner.sets,
            strings,
            cidr_literals,
            host_exact,
            host_suffix,
            v4,
            v6,
            substrings,
            regexes,
            gates,
            default_gate,
            warnings,
        }
    }

    /// The loaded lists, in folder-name order.
    pub fn lists(&self) -> &[Warninglist] {
        &self.lists
    }

    /// Entries that load but cannot match as intended (a regex the `regex` crate rejects, a
    /// CIDR entry that is not a network).
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    pub fn stats(&self) -> Stats {
        let per_type = ListType::ALL
            .iter()
            .map(|&t| {
                let mut s = TypeStats::default();
                for l in self.lists.iter().filter(|l| l.kind == t) {
                    s.lists += 1;
                    s.entries += l.entries;
                }
                (t, s)
            })
            .collect();
        Stats {
            lists: self.lists.len(),
            entries: self.lists.iter().map(|l| l.entries).sum(),
            per_type,
            ipv4_intervals: self.v4.len(),
            ipv6_intervals: self.v6.len(),
        }
    }

    /// The lists on which the MISP attribute `misp_type`/`value` appears, in list order, each
    /// once. Allocates only when something hits.
    pub fn check(&self, misp_type: &str, value: &str) -> Vec<Hit<'_>> {
        let mut ids = Vec::new();
        self.check_into(misp_type, value, &mut ids);
        self.hits(ids)
    }

    /// [`Self::check`] for a Vigil indicator in canonical form: ip → `ip-dst` and `ip-src`;
    /// cidr → the same types (a network hits a list that names it literally, as in
    /// pymispwarninglists, and also one whose networks contain all of it); domain → `domain`
    /// and `hostname`; url → `url` (a URL without a scheme gets `http://` so that hostname
    /// lists see its host); hashes → `md5`/`sha1`/`sha256`; ja3/ja3s/ja4 → their MISP types,
    /// which no shipped list names.
    pub fn check_indicator(&self, kind: IndicatorType, value: &str) -> Vec<Hit<'_>> {
        let mut ids = Vec::new();
        match kind {
            IndicatorType::Ip => {
                self.check_into("ip-dst", value, &mut ids);
                self.check_into("ip-src", value, &mut ids);
            }
            IndicatorType::Cidr => {
                for t in ["ip-dst", "ip-src"] {
                    self.check_into(t, value, &mut ids);
                    if let Some(gate) = self.gates.get(t).filter(|g| g.has(ListType::Cidr)) {
                        let covering = match py_ip_network_loose(value) {
                            Some(Net::V4(lo, hi)) => {
                                self.v4.covering(u128::from(lo), u128::from(hi), &self.sets)
                            }
                            Some(Net::V6(lo, hi)) => self.v6.covering(lo, hi, &self.sets),
                            None => Vec::new(),
                        };
                        ids.extend(covering.into_iter().filter(|&l| gate.allows(l)));
                    }
                }
            }
            IndicatorType::Domain => {
                self.check_into("domain", value, &mut ids);
                self.check_into("hostname", value, &mut ids);
            }
            IndicatorType::Url => {
                if value.contains("://") {
                    self.check_into("url", value, &mut ids);
                } else {
                    self.check_into("url", &format!("http://{value}"), &mut ids);
                }
            }
            IndicatorType::Md5 => self.check_into("md5", value, &mut ids),
            IndicatorType::Sha1 => self.check_into("sha1", value, &mut ids),
            IndicatorType::Sha256 => self.check_into("sha256", value, &mut ids),
            IndicatorType::Ja3 => self.check_into("ja3-fingerprint-md5", value, &mut ids),
            IndicatorType::Ja3s => self.check_into("ja3s-fingerprint-md5", value, &mut ids),
            IndicatorType::Ja4 => self.check_into("ja4-fingerprint", value, &mut ids),
        }
        self.hits(ids)
    }

    fn hits(&self, mut ids: Vec<u16>) -> Vec<Hit<'_>> {
        if ids.is_empty() {
            return Vec::new();
        }
        ids.sort_unstable();
        ids.dedup();
        ids.iter()
            .filter_map(|&i| self.lists.get(usize::from(i)))
            .map(|l| Hit {
                list: &l.slug,
                name: &l.name,
                kind: l.kind,
            })
            .collect()
    }

    fn check_into(&self, misp_type: &str, value: &str, out: &mut Vec<u16>) {
        let gate = self.gates.get(misp_type).unwrap_or(&self.default_gate);
        if gate.kinds == 0 {
            return;
        }
        // MISP core splits composite values once, at the first `|`.
        if misp_type.contains('|') || misp_type == "malware-sample" {
            if let Some((a, b)) = value.split_once('|') {
                self.match_value(gate, a, out);
                self.match_value(gate, b, out);
                return;
            }
        }
        self.match_value(gate, value, out);
    }

    fn push_set(&self, gate: &Gate, set: Option<&u32>, out: &mut Vec<u16>) {
        if let Some(set) = set.and_then(|&s| self.sets.get(s as usize)) {
            out.extend(set.iter().copied().filter(|&l| gate.allows(l)));
        }
    }

    fn match_value(&self, gate: &Gate, value: &str, out: &mut Vec<u16>) {
        if gate.has(ListType::String) {
            self.push_set(gate, self.strings.get(value), out);
        }
        if gate.has(ListType::Cidr) {
            let set = if let Some(a) = py_ipv4(value) {
                self.v4.lookup(u128::from(a))
            } else if let Some(a) = py_ipv6(value) {
                self.v6.lookup(a)
            } else {
                self.cidr_literals.get(value).copied()
            };
            self.push_set(gate, set.as_ref(), out);
        }
        if gate.has(ListType::Hostname) {
            // A value urlparse rejects matches no hostname list (the peer raises).
            if let Ok(host) = py_url_hostname(value) {
                let host = host.unwrap_or(Cow::Borrowed(value));
                self.push_set(gate, self.host_exact.get(host.as_ref()), out);
                for (i, _) in host.match_indices('.') {
                    if let Some(suffix) = host.get(i + 1..) {
                        self.push_set(gate, self.host_suffix.get(suffix), out);
                    }
                }
            }
        }
        if gate.has(ListType::Substring) {
            for (id, ac) in &self.substrings {
                if gate.allows(*id) && ac.is_match(value) {
                    out.push(*id);
                }
            }
        }
        if gate.has(ListType::Regex) {
            for (id, set) in &self.regexes {
                if gate.allows(*id) && set.is_match(value) {
                    out.push(*id);
                }
            }
        }
    }
}

/// Sorted disjoint address intervals, each tagged with the interned set of lists covering it.
#[derive(Default)]
struct Intervals {
    starts: Vec<u128>,
    ends: Vec<u128>,
    sets: Vec<u32>,
}

impl Intervals {
    /// Sweeps the networks' start and end+1 points, keeping a count of open networks per list;
    /// every stretch between two points with some list open becomes one interval.
    fn build(nets: Vec<(u128, u128, u16)>, interner: &mut Interner) -> Intervals {
        let mut events: Vec<(u128, i32, u16)> = Vec::with_capacity(nets.len() * 2);
        for (lo, hi, list) in nets {
            events.push((lo, 1, list));
            if let Some(after) = hi.checked_add(1) {
                events.push((after, -1, list));
            }
        }
        events.sort_unstable();
        let mut open: std::collections::BTreeMap<u16, u32> = Default::default();
        let mut out = Intervals::default();
        let mut i = 0;
        while let Some(&(point, _, _)) = events.get(i) {
            while let Some(&(p, delta, list)) = events.get(i) {
                if p != point {
                    break;
                }
                let n = open.entry(list).or_insert(0);
                if delta > 0 {
                    *n += 1;
                } else {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        open.remove(&list);
                    }
                }
                i += 1;
            }
            if open.is_empty() {
                continue;
            }
            let end = match events.get(i) {
                Some(&(next, _, _)) => next - 1,
                None => u128::MAX,
            };
            let set: Vec<u16> = open.keys().copied().collect();
            let id = interner.intern(&set);
            // Adjacent stretches covered by the same lists merge.
            let merge = out.sets.last() == Some(&id)
                && out.ends.last().and_then(|e| e.checked_add(1)) == Some(point);
            if merge {
                if let Some(e) = out.ends.last_mut() {
                    *e = end;
                }
            } else {
                out.starts.push(point);
                out.ends.push(end);
                out.sets.push(id);
            }
        }
        out
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    fn lookup(&self, addr: u128) -> Option<u32> {
        let i = self.starts.partition_point(|&s| s <= addr).checked_sub(1)?;
        (*self.ends.get(i)? >= addr).then(|| self.sets.get(i).copied())?
    }

    /// The lists whose networks together contain all of `lo..=hi`.
    fn covering(&self, lo: u128, hi: u128, sets: &[Box<[u16]>]) -> Vec<u16> {
        let Some(mut i) = self.starts.partition_point(|&s| s <= lo).checked_sub(1) else {
            return Vec::new();
        };
        let mut acc: Option<Vec<u16>> = None;
        let mut next = lo;
        loop {
            let (Some(&s), Some(&e), Some(set)) = (
                self.starts.get(i),
                self.ends.get(i),
                self.sets.get(i).and_then(|&id| sets.get(id as usize)),
            ) else {
                return Vec::new();
            };
            if s > next || e < next {
                return Vec::new(); // a gap
            }
            let a = match acc {
                None => set.to_vec(),
                Some(a) => a.into_iter().filter(|l| set.contains(l)).collect(),
            };
            if a.is_empty() || e >= hi {
                return a;
            }
            acc = Some(a);
            next = e + 1;
            i += 1;
        }
    }
}

enum Net {
    V4(u32, u32),
    V6(u128, u128),
}

/// Python's `IPv4Address(s)`: four decimal octets, no leading zeros.
fn py_ipv4(s: &str) -> Option<u32> {
    let mut out = 0u32;
    let mut n = 0;
    for part in s.split('.') {
        n += 1;
        if n > 4
            || part.is_empty()
            || part.len() > 3
            || !part.bytes().all(|b| b.is_ascii_digit())
            || (part.len() > 1 && part.starts_with('0'))
        {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        out = out << 8 | octet;
    }
    (n == 4).then_some(out)
}

/// Python's `IPv6Address(s)`, including a `%scope` suffix (ignored for matching) and a dotted
/// IPv4 tail.
fn py_ipv6(s: &str) -> Option<u128> {
    if s.contains('/') {
        return None;
    }
    let addr = match s.split_once('%') {
        None => s,
        Some((a, scope)) if !scope.is_empty() && !scope.contains('%') => a,
        Some(_) => return None,
    };
    if addr.is_empty() {
        return None;
    }
    let mut parts: Vec<Cow<'_, str>> = addr.split(':').map(Cow::Borrowed).collect();
    if parts.len() < 3 {
        return None;
    }
    if parts.last().is_some_and(|p| p.contains('.')) {
        let v4 = py_ipv4(parts.pop()?.as_ref())?;
        parts.push(Cow::Owned(format!("{:x}", v4 >> 16)));
        parts.push(Cow::Owned(format!("{:x}", v4 & 0xffff)));
    }
    const HEXTETS: usize = 8;
    if parts.len() > HEXTETS + 1 {
        return None;
    }
    let mut skip = None;
    for i in 1..parts.len() - 1 {
        if parts.get(i)?.is_empty() {
            if skip.is_some() {
                return None;
            }
            skip = Some(i);
        }
    }
    let first_empty = parts.first()?.is_empty();
    let last_empty = parts.last()?.is_empty();
    let (hi, lo, skipped) = match skip {
        Some(k) => {
            let mut hi = k;
            let mut lo = parts.len() - k - 1;
            if first_empty {
                hi -= 1;
                if hi > 0 {
                    return None;
                }
            }
            if last_empty {
                lo -= 1;
                if lo > 0 {
                    return None;
                }
            }
            let skipped = HEXTETS.checked_sub(hi + lo).filter(|&n| n >= 1)?;
            (hi, lo, skipped)
        }
        None => {
            if parts.len() != HEXTETS || first_empty || last_empty {
                return None;
            }
            (parts.len(), 0, 0)
        }
    };
    let hextet = |p: &str| -> Option<u128> {
        if p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u128::from_str_radix(p, 16).ok()
    };
    let mut out = 0u128;
    for p in parts.get(..hi)? {
        out = out << 16 | hextet(p)?;
    }
    out = out.checked_shl(16 * skipped as u32).unwrap_or(0);
    for p in parts.get(parts.len() - lo..)? {
        out = out << 16 | hextet(p)?;
    }
    Some(out)
}

/// Python's `ip_network(s)` (strict): an address with an optional `/prefix` (IPv4 also takes
/// a netmask or hostmask), no host bits set. Returns the first and last address.
fn py_ip_network(s: &str) -> Option<Net> {
    py_network(s, true)
}

/// Like [`py_ip_network`] but host bits are cleared instead of rejected.
fn py_ip_network_loose(s: &str) -> Option<Net> {
    py_network(s, false)
}

fn py_network(s: &str, strict: bool) -> Option<Net> {
    let (addr, prefix) = match s.split_once('/') {
        Some((_, p)) if p.contains('/') => return None,
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let digits = |p: &str, max: u32| -> Option<u32> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Python's int() takes any number of leading zeros.
        let n = p.trim_start_matches('0');
        let n: u32 = if n.is_empty() { 0 } else { n.parse().ok()? };
        (n <= max).then_some(n)
    };
    if let Some(a) = py_ipv4(addr) {
        let len = match prefix {
            None => 32,
            Some(p) => match digits(p, 32) {
                Some(n) => n,
                None => ipv4_mask_prefix(py_ipv4(p)?)?,
            },
        };
        let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        if strict && a & !mask != 0 {
            return None;
        }
        return Some(Net::V4(a & mask, (a & mask) | !mask));
    }
    let a = py_ipv6(addr)?;
    let len = match prefix {
        None => 128,
        Some(p) => digits(p, 128)?,
    };
    let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
    if strict && a & !mask != 0 {
        return None;
    }
    Some(Net::V6(a & mask, (a & mask) | !mask))
}

/// Python's `_prefix_from_ip_string`: a netmask (ones then zeros), else a hostmask.
fn ipv4_mask_prefix(m: u32) -> Option<u32> {
    let as_netmask =
        |m: u32| (m.leading_ones() + m.trailing_zeros() == 32).then(|| m.leading_ones());
    as_netmask(m).or_else(|| as_netmask(!m))
}

/// `urllib.parse.urlparse(value).hostname` as Python 3.11 computes it: `Ok(None)` when the
/// value has no `//` netloc or an empty host, `Err` where urlparse raises (unbalanced or
/// invalid brackets). The host is lower-cased except for an IPv6 zone.
fn py_url_hostname(value: &str) -> Result<Option<Cow<'_, str>>, ()> {
    let stripped = value.trim_start_matches(|c: char| c <= ' ');
    let unsafe_chars = ['\t', '\r', '\n'];
    if stripped.contains(unsafe_chars) {
        let cleaned = stripped.replace(unsafe_chars, "");
        return Ok(url_host(&cleaned)?.map(|h| Cow::Owned(h.into_owned())));
    }
    url_host(stripped)
}

fn url_host(url: &str) -> Result<Option<Cow<'_, str>>, ()> {
    let mut rest = url;
    if let Some(i) = url.find(':') {
        let scheme = url.get(..i).unwrap_or("");
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if scheme_ok {
            rest = url.get(i + 1..).unwrap_or("");
        }
    }
    let Some(after) = rest.strip_prefix("//") else {
        return Ok(None);
    };
    let netloc = after
        .find(['/', '?', '#'])
        .and_then(|end| after.get(..end))
        .unwrap_or(after);
    let (open, close) = (netloc.contains('['), netloc.contains(']'));
    if open != close {
        return Err(());
    }
    if open {
        let bracketed = netloc.split_once('[').map_or("", |(_, b)| b);
        let host = bracketed.split_once(']').map_or(bracketed, |(h, _)| h);
        if let Some(future) = host.strip_prefix('v') {
            // IPvFuture: v<hex>.<anything>
            let (ver, tail) = future.split_once('.').ok_or(())?;
            if ver.is_empty()
                || !ver.bytes().all(|b| b.is_ascii_hexdigit())
                || tail.is_empty()
                || tail.contains('\n')
            {
                return Err(());
            }
        } else if py_ipv4(host).is_some() || py_ipv6(host).is_none() {
            return Err(());
        }
    }
    // urlparse rejects a non-ASCII netloc whose NFKC form gains one of `/?#@:`; these are the
    // characters that do so (no NFKC tables here).
    const NFKC_DELIMS: &[char] = &[
        '\u{2100}', '\u{2101}', '\u{2105}', '\u{2106}', '\u{2047}', '\u{2048}', '\u{2049}',
        '\u{ff0f}', '\u{ff1f}', '\u{ff03}', '\u{ff20}', '\u{ff1a}', '\u{fe55}', '\u{fe56}',
        '\u{fe5f}', '\u{fe6b}', '\u{fe13}', '\u{fe16}',
    ];
    if !netloc.is_ascii() && netloc.contains(NFKC_DELIMS) {
        return Err(());
    }
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let host = match hostinfo.split_once('[') {
        Some((_, b)) => b.split_once(']').map_or(b, |(h, _)| h),
        None => hostinfo.split_once(':').map_or(hostinfo, |(h, _)| h),
    };
    if host.is_empty() {
        return Ok(None);
    }
    let (name, zone) = match host.split_once('%') {
        Some((n, z)) => (n, Some(z)),
        None => (host, None),
    };
    if name
        .chars()
        .all(|c| c.to_lowercase().eq(std::iter::once(c)))
    {
        return Ok(Some(Cow::Borrowed(host)));
    }
    let mut lowered = name.to_lowercase();
    if let Some(z) = zone {
        lowered.push('%');
        lowered.push_str(z);
    }
    Ok(Some(Cow::Owned(lowered)))
}

/// A PCRE entry `/pattern/flags` (any non-alphanumeric delimiter; `(`, `[`, `{`, `<` close
/// with their pair) as a `regex` pattern with inline flags.
fn translate_pcre(entry: &str) -> Result<String, String> {
    let mut chars = entry.chars();
    let delim = chars.next().ok_or("empty pattern")?;
    if delim.is_alphanumeric() || delim == '\\' || delim.is_whitespace() {
        return Err(format!(
            "no delimiter: {delim:?} cannot delimit a PCRE pattern"
        ));
    }
    let close = match delim {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        '<' => '>',
        d => d,
    };
    let body = chars.as_str();
    let end = body
        .rfind(close)
        .ok_or_else(|| format!("no closing delimiter {close:?}"))?;
    let (pattern, flags) = (
        body.get(..end).unwrap_or(""),
        body.get(end + close.len_utf8()..).unwrap_or(""),
    );
    let mut inline = String::new();
    for f in flags.chars() {
        match f {
            'i' | 'm' | 's' | 'x' | 'U' => inline.push(f),
            // Unicode is the regex crate's default; `$` never matches before a final newline.
            'u' | 'D' => {}
            // JavaScript's global flag: meaningless for a yes/no match.
            'g' => {}
            other => return Err(format!("unsupported PCRE flag {other:?}")),
        }
    }
    Ok(if inline.is_empty() {
        pattern.to_string()
    } else {
        format!("(?{inline}){pattern}")
    })
}

/// The warninglists as the validator's [`FalsePositiveScreen`], loaded on the first value
/// screened (≈0.5 s), so documents without indicator values (ATT&CK, reports) never pay for it.
/// A folder that fails to load turns screening off with one warning.
pub struct LazyScreen {
    dir: PathBuf,
    lists: std::sync::OnceLock<Option<Warninglists>>,
}

impl LazyScreen {
    pub fn new(dir: PathBuf) -> LazyScreen {
        LazyScreen {
            dir,
            lists: std::sync::OnceLock::new(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The lists, loading them now if needed.
    pub fn lists(&self) -> Option<&Warninglists> {
        self.lists
            .get_or_init(|| match Warninglists::load_dir(&self.dir) {
                Ok(l) => {
                    for w in l.warnings() {
                        tracing::warn!(warning = %w, "warninglist");
                    }
                    Some(l)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "false-positive screening is off");
                    eprintln!("warning: {e}; false-positive screening is off");
                    None
                }
            })
            .as_ref()
    }
}

impl crate::validate::FalsePositiveScreen for LazyScreen {
    fn screen(&self, kind: IndicatorType, value: &str) -> Vec<crate::validate::FpHit> {
        let Some(lists) = self.lists() else {
            return Vec::new();
        };
        lists
            .check_indicator(kind, value)
            .into_iter()
            .map(|h| crate::validate::FpHit {
                list: h.list.to_string(),
                name: h.name.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    /// Writes lists as `<dir>/lists/<slug>/list.json`.
    fn lists_dir(lists: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (slug, json) in lists {
            let d = dir.path().join("lists").join(slug);
            fs::create_dir_all(&d).unwrap();
            fs::File::create(d.join("list.json"))
                .unwrap()
                .write_all(json.as_bytes())
                .unwrap();
        }
        dir
    }

    fn list(kind: &str, types: &[&str], entries: &[&str]) -> String {
        serde_json::json!({
            "name": format!("test {kind}"), "description": "d", "version": 1, "type": kind,
            "matching_attributes": types, "list": entries,
        })
        .to_string()
    }

    fn load(lists: &[(&str, String)]) -> Warninglists {
        let refs: Vec<(&str, &str)> = lists.iter().map(|(s, j)| (*s, j.as_str())).collect();
        let dir = lists_dir(&refs);
        Warninglists::load_dir(dir.path()).unwrap()
    }

    fn slugs(hits: &[Hit<'_>]) -> Vec<String> {
        hits.iter().map(|h| h.list.to_string()).collect()
    }

    #[test]
    fn string_lists_match_exactly_and_case_sensitively() {
        let w = load(&[(
            "hashes",
            list("string", &["md5"], &["d41d8cd98f00b204e9800998ecf8427e"]),
        )]);
        let hits = w.check("md5", "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(slugs(&hits), ["hashes"]);
        assert_eq!(hits[0].kind, ListType::String);
        assert_eq!(hits[0].name, "test string");
        assert_eq!(hits[0].code(), "false-positive-risk");
        assert!(w
            .check("md5", "D41D8CD98F00B204E9800998ECF8427E")
            .is_empty());
        assert!(w.check("md5", "d41d8cd98f00b204e9800998ecf8427").is_empty());
        // The list does not apply to other attribute types.
        assert!(w
            .check("sha1", "d41d8cd98f00b204e9800998ecf8427e")
            .is_empty());
    }

    #[test]
    fn substring_lists_match_anywhere_in_the_value() {
        let w = load(&[(
            "mail",
            list("substring", &["email-src"], &["mailinator.com"]),
        )]);
        assert_eq!(slugs(&w.check("email-src", "x@mailinator.com")), ["mail"]);
        assert_eq!(
            slugs(&w.check("email-src", "mailinator.com.evil")),
            ["mail"]
        );
        assert!(w.check("email-src", "x@MAILINATOR.COM").is_empty());
        assert!(w.check("email-src", "x@mailinator.co").is_empty());
    }

    #[test]
    fn hostname_lists_match_the_name_and_its_subdomains_and_urls_by_host() {
        let w = load(&[(
            "short",
            list("hostname", &["domain", "url"], &["bit.ly", ".dot.example"]),
        )]);
        for v in ["bit.ly", "x.bit.ly", "a.b.bit.ly"] {
            assert_eq!(slugs(&w.check("domain", v)), ["short"], "{v}");
        }
        for v in ["notbit.ly", "bit.ly.evil", "bit.ly.", "Bit.ly", "ly"] {
            assert!(w.check("domain", v).is_empty(), "{v}");
        }
        // Leading dots: the entry itself matches literally, subdomains of the bare name match.
        assert_eq!(slugs(&w.check("domain", ".dot.example")), ["short"]);
        assert_eq!(slugs(&w.check("domain", "a.dot.example")), ["short"]);
        assert!(w.check("domain", "dot.example").is_empty());
        // URLs with a netloc are reduced to their lower-cased host; others are compared whole.
        for v in [
            "https://bit.ly/x",
            "HTTPS://BIT.LY/x",
            "//x.bit.ly",
            "http://u:p@bit.ly:80/",
        ] {
            assert_eq!(slugs(&w.check("url", v)), ["short"], "{v}");
        }
        assert!(w.check("url", "bit.ly/x").is_empty());
        assert!(w.check("url", "http://[::1").is_empty());
    }

    #[test]
    fn cidr_lists_contain_addresses_and_name_networks_literally() {
        let w = load(&[(
            "private",
            list(
                "cidr",
                &["ip-dst"],
                &["10.0.0.0/8", "fe80::/10", "192.0.2.1"],
            ),
        )]);
        for v in [
            "10.0.0.0",
            "10.1.2.3",
            "10.255.255.255",
            "192.0.2.1",
            "fe80::1",
            "FE80::1%eth0",
        ] {
            assert_eq!(slugs(&w.check("ip-dst", v)), ["private"], "{v}");
        }
        for v in [
            "11.0.0.0",
            "9.255.255.255",
            "192.0.2.2",
            "010.1.2.3",
            " 10.1.2.3",
            "fec0::1",
            "::ffff:10.1.2.3",
        ] {
            assert!(w.check("ip-dst", v).is_empty(), "{v}");
        }
        // A network value hits only as a literal entry (pymispwarninglists' behaviour) ...
        assert_eq!(slugs(&w.check("ip-dst", "10.0.0.0/8")), ["private"]);
        assert!(w.check("ip-dst", "10.1.0.0/16").is_empty());
        // ... while Vigil's cidr indicators also hit the lists that contain them.
        let ids = |v| slugs(&w.check_indicator(IndicatorType::Cidr, v));
        assert_eq!(ids("10.1.0.0/16"), ["private"]);
        assert_eq!(ids("fe80:1::/32"), ["private"]);
        assert!(ids("10.0.0.0/7").is_empty());
        assert_eq!(
            slugs(&w.check_indicator(IndicatorType::Ip, "10.9.9.9")),
            ["private"]
        );
    }

    #[test]
    fn regex_lists_take_pcre_delimiters_and_flags() {
        let w = load(&[(
            "contacts",
            list(
                "regex",
                &["email-src"],
                &[
                    r"/^(security|abuse)\@.*\..*$/i",
                    "/55501([0-9]{2})/g",
                    "#^x/y#",
                    "/a/Q",
                ],
            ),
        )]);
        assert_eq!(
            slugs(&w.check("email-src", "Security@corp.example")),
            ["contacts"]
        );
        assert_eq!(slugs(&w.check("email-src", "+1555550123")), ["contacts"]);
        assert_eq!(slugs(&w.check("email-src", "x/y")), ["contacts"]);
        assert!(w.check("email-src", "nosecurity@corp").is_empty());
        // The unknown flag is a load warning, not an error.
        assert_eq!(w.warnings().len(), 1);
        assert!(w.warnings()[0]
            .to_string()
            .contains("unsupported PCRE flag 'Q'"));
    }

    #[test]
    fn composite_types_split_once_and_hits_are_deduplicated_in_list_order() {
        let w = load(&[
            (
                "b-net",
                list("cidr", &["domain|ip", "ip-dst"], &["10.0.0.0/8"]),
            ),
            (
                "a-top",
                list(
                    "string",
                    &["domain|ip", "domain"],
                    &["example.com", "10.0.0.1"],
                ),
            ),
            ("c-all", list("substring", &[], &["example"])),
        ]);
        assert_eq!(
            slugs(&w.check("domain|ip", "example.com|10.0.0.1")),
            ["a-top", "b-net", "c-all"]
        );
        assert_eq!(
            slugs(&w.check("domain|ip", "evil.net|10.0.0.1")),
            ["a-top", "b-net"]
        );
        // Split once: the second part is "10.0.0.1|x".
        assert!(w.check("domain|ip", "evil.net|10.0.0.1|x").is_empty());
        // Lists without matching_attributes apply to every type.
        assert_eq!(slugs(&w.check("comment", "an example")), ["c-all"]);
        assert_eq!(slugs(&w.check("domain", "example.com")), ["a-top", "c-all"]);
    }

    #[test]
    fn load_accepts_the_lists_folder_and_orders_lists_by_folder() {
        let dir = lists_dir(&[
            ("zz", &list("string", &[], &["a"])),
            ("aa", &list("string", &[], &["a"])),
        ]);
        fs::write(dir.path().join("lists/README.md"), "not a list").unwrap();
        let w = Warninglists::load_dir(&dir.path().join("lists")).unwrap();
        let names: Vec<_> = w.lists().iter().map(|l| l.slug.as_str()).collect();
        assert_eq!(names, ["aa", "zz"]);
        assert_eq!(slugs(&w.check("x", "a")), ["aa", "zz"]);
        let empty = tempfile::tempdir().unwrap();
        let e = Warninglists::load_dir(empty.path()).unwrap_err();
        assert!(e.to_string().starts_with("no warninglists in"), "{e}");
    }

    #[test]
    fn malformed_list_files_are_errors_naming_file_line_and_column() {
        let dir = lists_dir(&[
            ("good", &list("string", &[], &["a"])),
            ("bad", "{\n  \"name\": \"x\",\n  \"list\": [1]\n}"),
        ]);
        let e = Warninglists::load_dir(dir.path()).unwrap_err();
        let WarninglistError::Json { path, line, .. } = &e else {
            panic!("{e}")
        };
        assert!(path.ends_with("bad/list.json"));
        assert_eq!(*line, 3);
        assert!(e.to_string().contains("bad/list.json:3:"), "{e}");
        assert!(e.to_string().contains("expected a string"), "{e}");

        let dir = lists_dir(&[("t", &list("bloom", &[], &["a"]))]);
        let e = Warninglists::load_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("unknown variant `bloom`"), "{e}");
        let dir = lists_dir(&[("t", "{\"name\": \"x\"}")]);
        let e = Warninglists::load_dir(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("t/list.json:1:") && e.contains("missing field"),
            "{e}"
        );
    }

    #[test]
    fn python_address_parsing_is_mirrored() {
        assert_eq!(py_ipv4("1.2.3.4"), Some(0x01020304));
        for bad in [
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1.2.3.4 ",
            "",
            "1..2.3",
            "١.2.3.4",
        ] {
            assert_eq!(py_ipv4(bad), None, "{bad}");
        }
        assert_eq!(py_ipv6("::"), Some(0));
        assert_eq!(py_ipv6("::1"), Some(1));
        assert_eq!(
            py_ipv6("1:2:3:4:5:6:7::"),
            Some(0x0001_0002_0003_0004_0005_0006_0007_0000)
        );
        assert_eq!(py_ipv6("::ffff:1.2.3.4"), Some(0xffff_0102_0304));
        assert_eq!(py_ipv6("fe80::1%eth0"), py_ipv6("fe80::1"));
        for bad in [
            "1::2::3",
            "12345::1",
            ":1::",
            "1:2:3:4:5:6:7:8:9",
            "fe80::1%",
            "::1/128",
            "1:2",
        ] {
            assert_eq!(py_ipv6(bad), None, "{bad}");
        }
        assert!(matches!(
            py_ip_network("10.0.0.0/255.0.0.0"),
            Some(Net::V4(0x0a00_0000, 0x0aff_ffff))
        ));
        assert!(matches!(
            py_ip_network("10.0.0.0/0.255.255.255"),
            Some(Net::V4(0x0a00_0000, _))
        ));
        assert!(py_ip_network("10.0.0.1/8").is_none());
        assert!(py_ip_network("10.0.0.0/33").is_none());
        assert!(matches!(py_ip_network("FE80::/10"), Some(Net::V6(_, _))));
    }

    #[test]
    fn url_hosts_follow_urlparse() {
        let h = |v| py_url_hostname(v).map(|o| o.map(Cow::into_owned));
        assert_eq!(
            h("https://Www.Example.com:8080/p"),
            Ok(Some("www.example.com".into()))
        );
        assert_eq!(h("  http://a.b/"), Ok(Some("a.b".into())));
        assert_eq!(h("ht\ttp://a.b/"), Ok(Some("a.b".into())));
        assert_eq!(
            h("http://[FE80::1%Zone]:1/"),
            Ok(Some("fe80::1%Zone".into()))
        );
        assert_eq!(h("example.com/x"), Ok(None));
        assert_eq!(h("localhost:8080"), Ok(None));
        assert_eq!(h("http:///x"), Ok(None));
        assert_eq!(h("http://[::1"), Err(()));
        assert_eq!(h("http://[10.0.0.1]/"), Err(()));
        assert_eq!(h("http://[v1.x]/"), Ok(Some("v1.x".into())));
    }

    proptest! {
        /// The interval structure answers exactly what a scan over every network answers.
        #[test]
        fn cidr_intervals_agree_with_a_linear_scan(
            nets in proptest::collection::vec((any::<u32>(), 0u32..=32, 0u16..6), 0..40),
            probes in proptest::collection::vec(any::<u32>(), 0..40),
        ) {
            let nets: Vec<(u128, u128, u16)> = nets.into_iter().map(|(a, len, l)| {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                (u128::from(a & mask), u128::from((a & mask) | !mask), l)
            }).collect();
            let mut interner = Interner::default();
            let iv = Intervals::build(nets.clone(), &mut interner);
            // Near network edges too, where off-by-one errors live.
            let edges = nets.iter().flat_map(|&(lo, hi, _)| [lo, hi, lo.saturating_sub(1), hi + 1]);
            for x in probes.into_iter().map(u128::from).chain(edges) {
                let mut want: Vec<u16> = nets.iter().filter(|n| n.0 <= x && x <= n.1).map(|n| n.2).collect();
                want.sort_unstable();
                want.dedup();
                let got = iv.lookup(x).map(|id| interner.sets[id as usize].to_vec()).unwrap_or_default();
                prop_assert_eq!(got, want, "address {}", x);
            }
        }
    }

    /// The shipped snapshot: every list loads, per-type totals are those of its README, and
    /// well-known values hit the lists one expects.
    #[test]
    fn shipped_lists_load_with_the_documented_totals() {
        let dir = Warninglists::default_dir().expect("data/warninglists is shipped");
        let w = Warninglists::load_dir(&dir).unwrap();
        let s = w.stats();
        assert_eq!((s.lists, s.entries), (136, 528_972));
        let per: Vec<_> = s
            .per_type
            .iter()
            .map(|(t, s)| (t.as_str(), s.lists, s.entries))
            .collect();
        assert_eq!(
            per,
            [
                ("string", 32, 291_417),
                ("substring", 3, 8_368),
                ("hostname", 19, 86_279),
                ("cidr", 80, 142_874),
                ("regex", 2, 34)
            ]
        );
        assert!(w.warnings().is_empty(), "{:?}", w.warnings());
        assert_eq!(
            slugs(&w.check("ip-src", "192.168.1.1")),
            ["rfc1918", "rfc5735"]
        );
        let hits = w.check_indicator(IndicatorType::Md5, "d41d8cd98f00b204e9800998ecf8427e");
        assert!(slugs(&hits).contains(&"empty-hashes".to_string()));
        assert!(hits.iter().all(|h| h
            .to_string()
            .starts_with("false-positive-risk: on MISP warninglist ")));
        assert!(w
            .check_indicator(IndicatorType::Url, "bit.ly/abc")
            .iter()
            .any(|h| h.list == "url-shortener"));
        assert!(w
            .check_indicator(IndicatorType::Ja3, "d41d8cd98f00b204e9800998ecf8427e")
            .is_empty());
    }
}
