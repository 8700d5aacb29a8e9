//! Indicators compiled into compact, immutable lookup tables for the per-packet path.
//!
//! [`TablesBuilder`] takes [`Indicator`]s one at a time (so a loader can stream a feed without
//! holding it twice) and [`TablesBuilder::build`] freezes them into an [`IndicatorTables`]. The
//! tables are plain data (`Send + Sync`, no interior mutability, no locks); the engine publishes
//! new ones by swapping an `Arc` (`arc_swap::ArcSwap`). No lookup scans the indicators, and none
//! allocates.
//!
//! # Layout
//!
//! Every distinct indicator gets a dense [`IndicatorId`] (insertion order) and costs:
//!
//! * its canonical value text in one arena (`String` + a `u32` end offset per indicator), which
//!   is both what [`IndicatorTables::get`] returns and the key the string index compares against;
//! * an 8-byte metadata record: interned name index (`u32`), interned source index (`u16`), kind
//!   and severity packed in one byte, confidence in one byte;
//! * its STIX/feed id, if any, in a second arena: sparse (owner id + offset, 8 bytes per id)
//!   while fewer than half of the indicators have one, else dense (a `u32` offset each);
//! * its [`valid_from`](Indicator::valid_from) as `u32` Unix seconds (0 = unknown; dates are
//!   clamped to 1970-01-01T00:00:01 – 2106-02-07), in an array that only exists once some
//!   indicator has a date: 4 bytes per indicator then, nothing for plain lists.
//!
//! The [reliability](Indicator::reliability) grade is kept per interned source (one byte each),
//! not per indicator: it is configured per feed. It is taken from the first indicator of a source
//! that has one, unless [`TablesBuilder::set_source_reliability`] sets it, which always wins.
//! [`IndicatorRef::score_at`] combines confidence, grade and age into a [`Score`].
//!
//! Lookup structures on top of that:
//!
//! * **IPs and CIDRs** (one longest-prefix-match structure for both, per address family):
//!   host addresses (`Ip`, `/32`, `/128`) sit in a sorted array — a host is the most specific
//!   prefix possible, so an exact hit wins outright — and networks are flattened into sorted
//!   disjoint intervals, each labelled with its most specific network. A lookup is one binary
//!   search in each (for large IPv4 tables narrowed to the address's /16 by a 65 537-entry
//!   index). IPv4 costs 8 bytes per host and 12 per interval (≤ 2 per network). See
//!   `tables/lpm.rs`.
//! * **Everything else** (domains, URLs, JA3/JA3S/JA4, hashes): one open-addressing hash index
//!   of `(32-bit tag, id)` slots keyed by `(kind, value)`; a tag hit is confirmed against the
//!   value arena. See `tables/index.rs`.
//!
//! With a realistic mix that is roughly 45–50 bytes per indicator, strings included
//! ([`IndicatorTables::heap_bytes`] reports the exact figure); a STIX id on every indicator adds
//! its length (e.g. 47 bytes for `indicator--<uuid>`) plus 4, and dates add 4.
//!
//! # Rules
//!
//! * **Duplicates** (same kind and same canonical value): the first inserted indicator keeps its
//!   id and all of its metadata (source, STIX id, name, severity); only its confidence is raised
//!   to the highest confidence seen among the duplicates, and its `valid_from` moved to the most
//!   recent one seen (a fresh report restarts the decay, as a sighting does in MISP).
//! * **Same prefix twice** (an `Ip` indicator and a `/32` or `/128` `Cidr` for the same
//!   address, or an IPv4-mapped IPv6 indicator and its IPv4 twin): the one added first wins.
//! * **IPv4-mapped IPv6**: an indicator inside `::ffff:0:0/96` with a prefix length ≥ 96 is
//!   stored as the equivalent IPv4 prefix, so it matches both the IPv4 address and its mapped
//!   form. An observed `::ffff:a.b.c.d` is looked up in the IPv4 table first (any hit there is at
//!   least as specific as a /96) and then in the IPv6 table. A plain observed IPv4 address is
//!   only looked up in the IPv4 table (an IPv6 `::/0` does not match IPv4 traffic).
//! * **JA3 vs MD5**: a JA3 or JA3S fingerprint *is* an MD5 digest, so
//!   [`IndicatorTables::match_ja3`] and [`IndicatorTables::match_ja3s`] also match `Md5`
//!   indicators (a `Ja3`/`Ja3s` indicator with the same value wins). The converse does not
//!   hold: [`IndicatorTables::match_hash`] matches only `Md5`/`Sha1`/`Sha256` indicators.
//! * **Domains** match themselves and their subdomains, most specific first, but the walk up
//!   from the observed name stops before reaching a public suffix (Public Suffix List, ICANN and
//!   private sections, via the `psl` crate; unknown TLDs count as public suffixes by the list's
//!   `*` rule). An indicator that is itself a public suffix (`co.uk`, `github.io`, `com`) thus
//!   only matches exactly. Observed names are lower-cased (ASCII) into a stack buffer; one
//!   trailing dot is ignored; names over 253 bytes never match.
//! * **Value handling on insert**: values are trusted to be canonical, with a little leniency:
//!   domains, hashes and JA3/JA3S/JA4 are lower-cased and a domain's trailing dot is dropped
//!   before storing. Values that can never match (bad IP or CIDR, hash of the wrong length or not
//!   hex, domain with characters outside `[a-z0-9._-]`, URL with a scheme or whitespace …) are
//!   rejected with [`TableError::InvalidValue`]. Empty STIX ids and empty names count as absent.
//! * Limits: fewer than 2³² − 1 indicators, at most 65 536 distinct sources, and at most 4 GiB
//!   of text per arena.

mod index;
mod lpm;
#[cfg(test)]
mod tests;

use index::{tag_of, TagIndex};
use lpm::{Key, Lpm};
use rustc_hash::FxHashMap;
use std::fmt;
use std::net::IpAddr;
use vigil_model::score::{score, Score};
use vigil_model::{Confidence, Indicator, IndicatorType, Reliability, Severity};

/// Index of an indicator in its [`IndicatorTables`] (dense, in insertion order).
pub type IndicatorId = u32;

/// Longest DNS name that can match; longer observed names never match.
const MAX_DOMAIN_LEN: usize = 253;
/// Longest JA4 (or similar) fingerprint accepted; longer observed values never match.
const MAX_JA4_LEN: usize = 255;
/// Ids are `u32` and `u32::MAX` is reserved as "none" inside the index.
const MAX_INDICATORS: usize = u32::MAX as usize - 1;
const MAX_SOURCES: usize = u16::MAX as usize + 1;
const NO_NAME: u32 = u32::MAX;

/// Why an indicator could not be added.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The value cannot be parsed (or could never match) as its kind. `value` is truncated to
    /// 200 bytes.
    #[error("invalid {kind} indicator value {value:?}: {reason}")]
    InvalidValue {
        kind: IndicatorType,
        value: String,
        reason: &'static str,
    },
    #[error("too many indicators (at most {MAX_INDICATORS})")]
    TooManyIndicators,
    #[error("too many distinct indicator sources (at most {MAX_SOURCES})")]
    TooManySources,
    #[error("indicator text exceeds the 4 GiB table arena")]
    ArenaFull,
}

fn invalid(kind: IndicatorType, value: &str, reason: &'static str) -> TableError {
    let mut end = value.len().min(200);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    TableError::InvalidValue {
        kind,
        value: value[..end].to_string(),
        reason,
    }
}

/// One indicator as stored, borrowed from its [`IndicatorTables`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorRef<'a> {
    pub id: IndicatorId,
    pub kind: IndicatorType,
    /// Canonical value (as matched).
    pub value: &'a str,
    pub source: &'a str,
    /// STIX or feed-specific id ([`Indicator::id`]).
    pub stix_id: Option<&'a str>,
    pub confidence: Confidence,
    pub severity: Severity,
    pub name: Option<&'a str>,
    /// When the indicator became valid or was first seen (Unix seconds), if known.
    pub valid_from: Option<i64>,
    /// The Admiralty grade of its source, if configured.
    pub reliability: Option<Reliability>,
}

impl IndicatorRef<'_> {
    /// The hit's score at `now_secs` (Unix seconds: the packet's time when scanning a capture,
    /// so old traffic is judged by how fresh the indicator was then).
    pub fn score_at(&self, now_secs: i64) -> Score {
        let age = self.valid_from.map(|v| now_secs.saturating_sub(v));
        score(self.confidence, self.reliability, self.kind, age)
    }
}

/// `valid_from` as stored: 0 means unknown, so real dates are clamped to 1..=u32::MAX.
fn encode_time(t: Option<i64>) -> u32 {
    t.map_or(0, |t| t.clamp(1, i64::from(u32::MAX)) as u32)
}

fn decode_time(v: u32) -> Option<i64> {
    (v != 0).then_some(i64::from(v))
}

/// Per-indicator metadata: 8 bytes.
#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Index into the interned names, or [`NO_NAME`].
    name: u32,
    source: u16,
    /// Kind (low nibble, `IndicatorType as u8`) and severity (high nibble).
    kind_sev: u8,
    confidence: u8,
}

impl Meta {
    #[inline]
    fn kind_byte(self) -> u8 {
        self.kind_sev & 0x0f
    }
    fn kind(self) -> IndicatorType {
        IndicatorType::ALL[self.kind_byte() as usize]
    }
    fn severity(self) -> Severity {
        Severity::new(self.kind_sev >> 4)
    }
}

/// Strings stored back to back; string `i` is `text[offs[i]..offs[i + 1]]`.
#[derive(Debug, Clone)]
struct StrList {
    text: String,
    offs: Vec<u32>,
}

impl Default for StrList {
    fn default() -> Self {
        StrList {
            text: String::new(),
            offs: vec![0],
        }
    }
}

impl StrList {
    fn len(&self) -> usize {
        self.offs.len() - 1
    }

    #[inline]
    fn get(&self, i: usize) -> &str {
        &self.text[self.offs[i] as usize..self.offs[i + 1] as usize]
    }

    fn has_room(&self, extra: usize) -> Result<(), TableError> {
        if self.text.len() + extra > u32::MAX as usize {
            return Err(TableError::ArenaFull);
        }
        Ok(())
    }

    /// Appends `s` as the next string (call [`StrList::has_room`] first).
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.offs.push(self.text.len() as u32);
    }

    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.offs.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.offs.capacity() * 4
    }
}

/// STIX/feed ids of the indicators that have one. Sparse (owner ids + strings, 8 bytes per id
/// plus text) while fewer than half of the indicators have an id, dense (one offset per
/// indicator, 4 bytes each plus text) otherwise.
#[derive(Debug, Clone, Default)]
struct StixIds {
    /// Sorted ids of the indicators with a STIX id; empty when dense.
    owners: Vec<u32>,
    /// Sparse: string `j` belongs to `owners[j]`. Dense: string `i` belongs to indicator `i`
    /// (empty = no id).
    list: StrList,
    dense: bool,
}

impl StixIds {
    fn freeze(owners: Vec<u32>, mut list: StrList, n: usize) -> StixIds {
        if owners.len() * 2 < n {
            list.shrink_to_fit();
            let mut owners = owners;
            owners.shrink_to_fit();
            return StixIds {
                owners,
                list,
                dense: false,
            };
        }
        let mut offs = Vec::with_capacity(n + 1);
        offs.push(0);
        let mut j = 0;
        for i in 0..n as u32 {
            if owners.get(j) == Some(&i) {
                j += 1;
            }
            offs.push(list.offs[j]);
        }
        list.text.shrink_to_fit();
        StixIds {
            owners: Vec::new(),
            list: StrList {
                text: list.text,
                offs,
            },
            dense: true,
        }
    }

    fn get(&self, id: u32) -> Option<&str> {
        if self.dense {
            Some(self.list.get(id as usize)).filter(|s| !s.is_empty())
        } else {
            let j = self.owners.binary_search(&id).ok()?;
            Some(self.list.get(j))
        }
    }

    fn heap_bytes(&self) -> usize {
        self.owners.capacity() * 4 + self.list.heap_bytes()
    }
}

fn is_ip_kind(kind_byte: u8) -> bool {
    kind_byte == IndicatorType::Ip as u8 || kind_byte == IndicatorType::Cidr as u8
}

/// A parsed IP or CIDR value, as an address range.
enum Net {
    V4(u32, u8),
    V6(u128, u8),
}

/// Checks `raw` for `kind`; returns the text to store (before lower-casing) and, for IP kinds,
/// the network.
fn validate(kind: IndicatorType, raw: &str) -> Result<(&str, Option<Net>), TableError> {
    use IndicatorType as T;
    let bad = |reason| invalid(kind, raw, reason);
    match kind {
        T::Ip => match raw.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => Ok((raw, Some(Net::V4(a.into(), 32)))),
            Ok(IpAddr::V6(a)) => Ok((raw, Some(Net::V6(a.into(), 128)))),
            Err(_) => Err(bad("not an IP address")),
        },
        T::Cidr => {
            let (addr, len) = raw
                .split_once('/')
                .ok_or_else(|| bad("missing /prefix-length"))?;
            if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("prefix length is not a number"));
            }
            let len: u8 = len.parse().map_err(|_| bad("prefix length out of range"))?;
            match addr.parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) if len <= 32 => Ok((raw, Some(Net::V4(a.into(), len)))),
                Ok(IpAddr::V6(a)) if len <= 128 => Ok((raw, Some(Net::V6(a.into(), len)))),
                Ok(_) => Err(bad("prefix length out of range")),
                Err(_) => Err(bad("not an IP network")),
            }
        }
        T::Domain => {
            let v = raw.strip_suffix('.').unwrap_or(raw);
            if v.is_empty() || v.len() > MAX_DOMAIN_LEN {
                return Err(bad("domain must be 1 to 253 bytes long"));
            }
            if !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            {
                return Err(bad(
                    "not a DNS name (letters, digits, '-', '_', '.'; punycode)",
                ));
            }
            if v.starts_with('.') || v.contains("..") {
                return Err(bad("empty label"));
            }
            Ok((v, None))
        }
        T::Url => {
            if raw.is_empty() {
                return Err(bad("empty URL"));
            }
            if raw.bytes().any(|b| b <= b' ' || b == 0x7f) {
                return Err(bad("whitespace or control character in URL"));
            }
            let slash = raw.find('/').unwrap_or(raw.len());
            let host_part = &raw[..slash];
            if host_part.ends_with(':') && raw[slash..].starts_with("//") {
                return Err(bad("URL must be scheme-less (host[:port]/path)"));
            }
            if host_part.is_empty() {
                return Err(bad("URL has no host"));
            }
            Ok((raw, None))
        }
        T::Ja3 | T::Ja3s | T::Md5 => hex(raw, 32)
            .map(|v| (v, None))
            .ok_or_else(|| bad("not 32 hex digits")),
        T::Sha1 => hex(raw, 40)
            .map(|v| (v, None))
            .ok_or_else(|| bad("not 40 hex digits")),
        T::Sha256 => hex(raw, 64)
            .map(|v| (v, None))
            .ok_or_else(|| bad("not 64 hex digits")),
        T::Ja4 => {
            if raw.is_empty()
                || raw.len() > MAX_JA4_LEN
                || !raw.bytes().all(|b| b.is_ascii_graphic())
            {
                return Err(bad(
                    "not a JA4 fingerprint (1 to 255 printable ASCII bytes)",
                ));
            }
            Ok((raw, None))
        }
    }
}

fn hex(raw: &str, len: usize) -> Option<&str> {
    (raw.len() == len && raw.bytes().all(|b| b.is_ascii_hexdigit())).then_some(raw)
}

/// Kinds whose stored value is lower-cased.
fn lowercased(kind: IndicatorType) -> bool {
    !matches!(
        kind,
        IndicatorType::Ip | IndicatorType::Cidr | IndicatorType::Url
    )
}

/// Collects indicators; see the module docs for the duplicate rule.
pub struct TablesBuilder {
    values: StrList,
    /// STIX ids, only for the indicators in `stix_owners`.
    stix: StrList,
    stix_owners: Vec<u32>,
    names: StrList,
    name_index: TagIndex,
    sources: Vec<Box<str>>,
    /// Grade per source, parallel to `sources`.
    source_reliability: Vec<Option<Reliability>>,
    source_index: FxHashMap<Box<str>, u16>,
    last_source: Option<u16>,
    meta: Vec<Meta>,
    /// Encoded `valid_from` per indicator; empty until the first indicator with a date.
    valid_from: Vec<u32>,
    /// All indicators (IP kinds included) by `(kind, value)`, for duplicate detection.
    dedup: TagIndex,
    v4_hosts: Vec<(u32, u32)>,
    v4_nets: Vec<(u32, u32, u32)>,
    v6_hosts: Vec<(u128, u32)>,
    v6_nets: Vec<(u128, u128, u32)>,
    duplicates: usize,
}

impl Default for TablesBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TablesBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TablesBuilder")
            .field("indicators", &self.meta.len())
            .field("duplicates", &self.duplicates)
            .finish_non_exhaustive()
    }
}

impl TablesBuilder {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// Pre-sizes the builder for about `n` indicators (avoids regrowth while loading).
    pub fn with_capacity(n: usize) -> Self {
        let mut offs = Vec::with_capacity(n + 1);
        offs.push(0);
        TablesBuilder {
            values: StrList {
                text: String::with_capacity(n * 20),
                offs,
            },
            stix: StrList::default(),
            stix_owners: Vec::new(),
            names: StrList::default(),
            name_index: TagIndex::default(),
            sources: Vec::new(),
            source_reliability: Vec::new(),
            source_index: FxHashMap::default(),
            last_source: None,
            meta: Vec::with_capacity(n),
            valid_from: Vec::new(),
            dedup: TagIndex::with_capacity(n),
            v4_hosts: Vec::new(),
            v4_nets: Vec::new(),
            v6_hosts: Vec::new(),
            v6_nets: Vec::new(),
            duplicates: 0,
        }
    }

    /// Distinct indicators added so far.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Indicators merged into an earlier one with the same kind and value so far.
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    /// Sets the grade of `source` (interning it if no indicator of it was added yet); it wins
    /// over grades carried by indicators, whenever it is called.
    pub fn set_source_reliability(
        &mut self,
        source: &str,
        reliability: Reliability,
    ) -> Result<(), TableError> {
        let s = self.intern_source(source)?;
        self.source_reliability[s as usize] = Some(reliability);
        Ok(())
    }

    /// Adds one indicator. A duplicate (same kind and canonical value as an earlier one) keeps
    /// the earlier indicator's id and metadata, raises its confidence to the higher of the two
    /// and moves its `valid_from` to the later one. Fails, leaving the builder unchanged, if
    /// the value is not valid for its kind.
    pub fn add(&mut self, ind: &Indicator) -> Result<(), TableError> {
        let kind = ind.kind;
        let (value, net) = validate(kind, &ind.value)?;
        if self.meta.len() >= MAX_INDICATORS {
            return Err(TableError::TooManyIndicators);
        }
        self.values.has_room(value.len())?;

        // Append the value tentatively, canonicalise it in place, then look for an equal one.
        let start = self.values.text.len();
        self.values.text.push_str(value);
        if lowercased(kind) {
            self.values.text[start..].make_ascii_lowercase();
        }
        let kb = kind as u8;
        let values = &self.values;
        let key = &values.text.as_bytes()[start..];
        // The tag embeds the kind, so equal tags mean equal kinds.
        let tag = tag_of(kb, key);
        let existing = self
            .dedup
            .find(tag, |id| values.get(id as usize).as_bytes() == key);
        if let Some(id) = existing {
            self.values.text.truncate(start);
            let m = &mut self.meta[id as usize];
            m.confidence = m.confidence.max(ind.confidence.get());
            let t = encode_time(ind.valid_from);
            // 0 (unknown) never replaces a date.
            if t > self.valid_from.get(id as usize).copied().unwrap_or(0) {
                self.valid_from.resize(self.meta.len(), 0);
                self.valid_from[id as usize] = t;
            }
            self.duplicates += 1;
            return Ok(());
        }

        let prepared = self.prepare_metadata(ind);
        let (source, stix) = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.values.text.truncate(start);
                return Err(e);
            }
        };
        let id = self.meta.len() as u32;
        self.values.offs.push(self.values.text.len() as u32);
        self.dedup.insert_unique(tag, id);
        if !stix.is_empty() {
            self.stix.push(stix);
            self.stix_owners.push(id);
        }
        let name = self.intern_name(ind.name.as_deref().unwrap_or(""));
        let t = encode_time(ind.valid_from);
        if t != 0 || !self.valid_from.is_empty() {
            // Back-fills zeros for the undated indicators before the first dated one.
            self.valid_from.resize(id as usize, 0);
            self.valid_from.push(t);
        }
        self.meta.push(Meta {
            name,
            source,
            kind_sev: kb | (ind.severity.get() << 4),
            confidence: ind.confidence.get(),
        });
        let net = match net {
            // IPv4-mapped: store as the equivalent IPv4 prefix.
            Some(Net::V6(addr, len)) if len >= 96 && addr >> 32 == 0xffff => {
                Some(Net::V4(addr as u32, len - 96))
            }
            net => net,
        };
        match net {
            Some(Net::V4(addr, 32)) => self.v4_hosts.push((addr, id)),
            Some(Net::V4(addr, len)) => {
                let (s, e) = u32::prefix_range(addr, len);
                self.v4_nets.push((s, e, id));
            }
            Some(Net::V6(addr, 128)) => self.v6_hosts.push((addr, id)),
            Some(Net::V6(addr, len)) => {
                let (s, e) = u128::prefix_range(addr, len);
                self.v6_nets.push((s, e, id));
            }
            None => {}
        }
        Ok(())
    }

    /// Resolves everything that can fail before the indicator is committed: the source index
    /// and arena room for the STIX id and name.
    fn prepare_metadata<'i>(&mut self, ind: &'i Indicator) -> Result<(u16, &'i str), TableError> {
        let stix = ind.id.as_deref().unwrap_or("");
        self.stix.has_room(stix.len())?;
        self.names
            .has_room(ind.name.as_deref().map_or(0, str::len))?;
        let source = self.intern_source(&ind.source)?;
        // Nothing fails after this, so the grade can be recorded now.
        let grade = &mut self.source_reliability[source as usize];
        if grade.is_none() {
            *grade = ind.reliability;
        }
        Ok((source, stix))
    }

    fn intern_source(&mut self, source: &str) -> Result<u16, TableError> {
        let s = match self.last_source {
            Some(s) if *self.sources[s as usize] == *source => s,
            _ => match self.source_index.get(source) {
                Some(&s) => s,
                None => {
                    if self.sources.len() >= MAX_SOURCES {
                        return Err(TableError::TooManySources);
                    }
                    let s = self.sources.len() as u16;
                    self.sources.push(source.into());
                    self.source_reliability.push(None);
                    self.source_index.insert(source.into(), s);
                    s
                }
            },
        };
        self.last_source = Some(s);
        Ok(s)
    }

    fn intern_name(&mut self, name: &str) -> u32 {
        if name.is_empty() {
            return NO_NAME;
        }
        let tag = tag_of(0, name.as_bytes());
        let names = &self.names;
        let new_id = names.len() as u32;
        match self
            .name_index
            .find_or_insert(tag, |i| names.get(i as usize) == name, new_id)
        {
            Ok(i) => i,
            Err(i) => {
                self.names.push(name);
                i
            }
        }
    }

    /// Freezes the indicators into lookup tables.
    pub fn build(self) -> IndicatorTables {
        let TablesBuilder {
            mut values,
            stix,
            stix_owners,
            mut names,
            sources,
            mut source_reliability,
            mut meta,
            mut valid_from,
            dedup,
            v4_hosts,
            v4_nets,
            v6_hosts,
            v6_nets,
            ..
        } = self;
        let mut counts = [0u32; IndicatorType::ALL.len()];
        for m in &meta {
            counts[m.kind_byte() as usize] += 1;
        }
        let n_ip =
            (counts[IndicatorType::Ip as usize] + counts[IndicatorType::Cidr as usize]) as usize;
        let mut strings = TagIndex::with_capacity(meta.len() - n_ip);
        for (tag, id) in dedup.entries() {
            if !is_ip_kind(meta[id as usize].kind_byte()) {
                strings.insert_unique(tag, id);
            }
        }
        drop(dedup);
        let mut domain_labels = 0u64;
        if counts[IndicatorType::Domain as usize] != 0 {
            for (i, m) in meta.iter().enumerate() {
                if m.kind() == IndicatorType::Domain {
                    domain_labels |= 1 << label_bit(values.get(i).as_bytes());
                }
            }
        }
        let v4 = Lpm::new(v4_hosts, v4_nets);
        let v6 = Lpm::new(v6_hosts, v6_nets);
        values.shrink_to_fit();
        let stix = StixIds::freeze(stix_owners, stix, meta.len());
        names.shrink_to_fit();
        meta.shrink_to_fit();
        if !valid_from.is_empty() {
            valid_from.resize(meta.len(), 0);
        }
        valid_from.shrink_to_fit();
        source_reliability.shrink_to_fit();
        IndicatorTables {
            values,
            stix,
            names,
            sources,
            source_reliability,
            meta,
            valid_from,
            strings,
            v4,
            v6,
            counts,
            domain_labels,
        }
    }
}

/// Compiled, immutable indicator tables. See the module docs for layout and matching rules.
#[derive(Clone)]
pub struct IndicatorTables {
    values: StrList,
    stix: StixIds,
    names: StrList,
    sources: Vec<Box<str>>,
    source_reliability: Vec<Option<Reliability>>,
    meta: Vec<Meta>,
    /// Empty when no indicator has a date, else one entry per indicator.
    valid_from: Vec<u32>,
    /// Non-IP indicators by `(kind, value)`.
    strings: TagIndex,
    v4: Lpm<u32>,
    v6: Lpm<u128>,
    counts: [u32; IndicatorType::ALL.len()],
    /// Bit `n` (n ≤ 63) set if some domain indicator has `n` labels (63: 63 or more); lets
    /// [`IndicatorTables::match_domain`] skip probing suffixes of other lengths.
    domain_labels: u64,
}

impl Default for IndicatorTables {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for IndicatorTables {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndicatorTables")
            .field("len", &self.len())
            .field("counts", &self.counts())
            .field("heap_bytes", &self.heap_bytes())
            .finish_non_exhaustive()
    }
}

impl IndicatorTables {
    pub fn empty() -> Self {
        TablesBuilder::new().build()
    }

    /// Number of distinct indicators.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Distinct indicators per type, for every type in [`IndicatorType::ALL`] order (zeros
    /// included).
    pub fn counts(&self) -> Vec<(IndicatorType, usize)> {
        IndicatorType::ALL
            .iter()
            .map(|&k| (k, self.counts[k as usize] as usize))
            .collect()
    }

    /// The indicator with id `id`. Panics if `id` did not come from these tables.
    pub fn get(&self, id: IndicatorId) -> IndicatorRef<'_> {
        let i = id as usize;
        let m = self.meta[i];
        IndicatorRef {
            id,
            kind: m.kind(),
            value: self.values.get(i),
            source: &self.sources[m.source as usize],
            stix_id: self.stix.get(id),
            confidence: Confidence::new(i64::from(m.confidence)),
            severity: m.severity(),
            name: (m.name != NO_NAME).then(|| self.names.get(m.name as usize)),
            valid_from: self.valid_from.get(i).copied().and_then(decode_time),
            reliability: self.source_reliability[m.source as usize],
        }
    }

    /// All indicators in id order.
    pub fn iter(&self) -> impl Iterator<Item = IndicatorRef<'_>> + '_ {
        (0..self.meta.len() as u32).map(|id| self.get(id))
    }

    /// Bytes allocated on the heap by these tables (capacities, so an upper bound of what the
    /// allocator holds for them, excluding its own overhead).
    pub fn heap_bytes(&self) -> usize {
        self.values.heap_bytes()
            + self.stix.heap_bytes()
            + self.names.heap_bytes()
            + self.sources.capacity() * std::mem::size_of::<Box<str>>()
            + self.sources.iter().map(|s| s.len()).sum::<usize>()
            + self.source_reliability.capacity() * std::mem::size_of::<Option<Reliability>>()
            + self.meta.capacity() * std::mem::size_of::<Meta>()
            + self.valid_from.capacity() * 4
            + self.strings.heap_bytes()
            + self.v4.heap_bytes()
            + self.v6.heap_bytes()
    }

    /// Longest-prefix match over `Ip` and `Cidr` indicators together (a host beats any network
    /// containing it). IPv4-mapped IPv6 addresses are also matched against IPv4 indicators; see
    /// the module docs.
    #[inline]
    pub fn match_ip(&self, ip: IpAddr) -> Option<IndicatorId> {
        match ip {
            IpAddr::V4(a) => self.v4.lookup(a.into()),
            IpAddr::V6(a) => {
                if let Some(v4) = a.to_ipv4_mapped() {
                    if let Some(id) = self.v4.lookup(v4.into()) {
                        return Some(id);
                    }
                }
                self.v6.lookup(a.into())
            }
        }
    }

    #[inline]
    fn find_str(&self, kind: IndicatorType, key: &[u8]) -> Option<IndicatorId> {
        // The tag embeds the kind, so only the value needs comparing.
        let found = self.strings.find(tag_of(kind as u8, key), |id| {
            self.values.get(id as usize).as_bytes() == key
        });
        debug_assert!(found.is_none_or(|id| self.meta[id as usize].kind() == kind));
        found
    }

    #[inline]
    fn has(&self, kind: IndicatorType) -> bool {
        self.counts[kind as usize] != 0
    }

    /// Domain match with subdomain semantics, most specific indicator first: `a.b.evil.com`
    /// matches `a.b.evil.com`, then `b.evil.com`, then `evil.com`, but never a public suffix
    /// (`com`, `co.uk`, `github.io`) other than the whole name itself.
    ///
    /// `name` is an observed name: ASCII case is ignored and one trailing dot is allowed. Names
    /// longer than 253 bytes (without the dot) never match.
    pub fn match_domain(&self, name: &str) -> Option<IndicatorId> {
        if !self.has(IndicatorType::Domain) {
            return None;
        }
        let raw = name.as_bytes();
        let raw = raw.strip_suffix(b".").unwrap_or(raw);
        if raw.is_empty() || raw.len() > MAX_DOMAIN_LEN {
            return None;
        }
        let mut buf = [0u8; MAX_DOMAIN_LEN];
        let name = &mut buf[..raw.len()];
        name.copy_from_slice(raw);
        name.make_ascii_lowercase();
        let name: &[u8] = name;

        let mut labels = label_count(name);
        let has = |labels: u32| self.domain_labels & (1 << labels.min(63)) != 0;
        if has(labels) {
            if let Some(id) = self.find_str(IndicatorType::Domain, name) {
                return Some(id);
            }
        }
        // Walk up the parents, probing only label counts that some indicator has. The public
        // suffix is only computed on a hit (rare): every parent that is no longer than the
        // public suffix is (part of) it, and so are all the shorter ones after it.
        let mut rest = name;
        while let Some(dot) = memchr::memchr(b'.', rest) {
            rest = &rest[dot + 1..];
            labels -= 1;
            if !has(labels) {
                continue;
            }
            if let Some(id) = self.find_str(IndicatorType::Domain, rest) {
                let public_len = psl::suffix(name).map_or(0, |s| s.as_bytes().len());
                return (rest.len() > public_len).then_some(id);
            }
        }
        None
    }

    /// Exact match of a canonical scheme-less URL key (`host[:port]/path[?query]`),
    /// case-sensitive.
    #[inline]
    pub fn match_url(&self, key: &str) -> Option<IndicatorId> {
        if !self.has(IndicatorType::Url) {
            return None;
        }
        self.find_str(IndicatorType::Url, key.as_bytes())
    }

    /// A client JA3 fingerprint (32 hex digits, any case): `Ja3` indicators first, then `Md5`
    /// indicators (a JA3 is an MD5 digest).
    #[inline]
    pub fn match_ja3(&self, md5_hex: &str) -> Option<IndicatorId> {
        self.match_md5_like(IndicatorType::Ja3, md5_hex)
    }

    /// A server JA3S fingerprint: `Ja3s` indicators first, then `Md5` indicators.
    #[inline]
    pub fn match_ja3s(&self, md5_hex: &str) -> Option<IndicatorId> {
        self.match_md5_like(IndicatorType::Ja3s, md5_hex)
    }

    fn match_md5_like(&self, kind: IndicatorType, md5_hex: &str) -> Option<IndicatorId> {
        if !self.has(kind) && !self.has(IndicatorType::Md5) {
            return None;
        }
        let mut buf = [0u8; 32];
        let key = lower(md5_hex, &mut buf)?;
        if key.len() != 32 {
            return None;
        }
        self.find_str(kind, key)
            .or_else(|| self.find_str(IndicatorType::Md5, key))
    }

    /// A JA4 fingerprint, ASCII case ignored.
    #[inline]
    pub fn match_ja4(&self, ja4: &str) -> Option<IndicatorId> {
        if !self.has(IndicatorType::Ja4) {
            return None;
        }
        let mut buf = [0u8; MAX_JA4_LEN];
        self.find_str(IndicatorType::Ja4, lower(ja4, &mut buf)?)
    }

    /// A file hash in hex, any case: MD5 (32 digits), SHA-1 (40) or SHA-256 (64) by length.
    #[inline]
    pub fn match_hash(&self, hex: &str) -> Option<IndicatorId> {
        let kind = match hex.len() {
            32 => IndicatorType::Md5,
            40 => IndicatorType::Sha1,
            64 => IndicatorType::Sha256,
            _ => return None,
        };
        if !self.has(kind) {
            return None;
        }
        let mut buf = [0u8; 64];
        self.find_str(kind, lower(hex, &mut buf)?)
    }
}

fn label_count(name: &[u8]) -> u32 {
    memchr::memchr_iter(b'.', name).count() as u32 + 1
}

/// The bit of [`IndicatorTables::domain_labels`] for `name`.
fn label_bit(name: &[u8]) -> u32 {
    label_count(name).min(63)
}

/// ASCII-lower-cases `s` into `buf`; `None` if it does not fit.
#[inline]
fn lower<'b>(s: &str, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let s = s.as_bytes();
    let out = buf.get_mut(..s.len())?;
    out.copy_from_slice(s);
    out.make_ascii_lowercase();
    Some(out)
}
