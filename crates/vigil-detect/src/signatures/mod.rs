//! The rule executor: parsed Suricata rules compiled into an immutable [`SignatureSet`] that the
//! engine consults at fixed inspection points ([`Hook`]s).
//!
//! Compilation (functional core, no I/O beyond loading dataset and reputation files):
//! - header addresses and ports resolve through the configuration's variables into interval sets;
//! - each rule's buffer-inspecting steps are grouped per (buffer, transforms), in rule order;
//! - every rule gets one inspection point: the first packet of each flow direction for IP-only
//!   rules, every packet for payload and header rules, or the app-layer record its sticky
//!   buffers come from (DNS request, TLS ClientHello / ServerHello, HTTP request);
//! - candidate selection never walks all rules: IP-only rules index their addresses in an
//!   interval table; a rule whose only inspection is one anchored literal on `dns.query`,
//!   `tls.sni` or `http.host` (exact, or a domain suffix with `dotprefix`) goes into hash
//!   tables, like the indicator tables; every other rule's fast pattern goes into one
//!   Aho-Corasick automaton per buffer. Candidates are then verified in full.
//!
//! Rules are renumbered so that index order is evaluation order: pass before drop/reject
//! before alert, and rules that only set flowbits before rules that read them (Suricata's
//! ordering), then load order.

pub mod datajson;
pub mod inspect;
pub mod load;
pub mod post;

use crate::flow::Direction;
use crate::rules::ast::*;
use crate::rules::classification::ClassificationTable;
use crate::rules::datasets::{Datasets, DatasetsBuilder, SetId};
use crate::rules::iprep::IpReputation;
use crate::rules::netset::{IpSet, PortSet, Vars};
use crate::rules::Unsupported;
use aho_corasick::AhoCorasick;
use inspect::{ContentStep, DataLookup, DataStep, PcreStep, RepStep, Step};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a rule is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    /// First packet of each flow direction; header-only rules.
    IpOnly,
    /// Every packet: payload (`pkt_data`) rules and header rules with flow conditions.
    Packet,
    /// Each DNS request message (per query name).
    DnsRequest,
    /// A TLS ClientHello (`tls.sni`, `ja3.hash`, `ja4.hash`).
    TlsClientHello,
    /// A TLS ServerHello (`ja3s.hash`, with the ClientHello's buffers still available).
    TlsServerHello,
    /// An HTTP request head (`http.uri`, `http.host`, `http.method`, `http.user_agent`).
    HttpRequest,
    /// A TLS Certificate message (`tls.cert_subject`, `tls.cert_issuer`, `tls.cert_serial`,
    /// `tls.cert_fingerprint` of its first certificate): the server's (to client) or, in
    /// mutual TLS, the client's (to server).
    TlsCertificate,
}

const HOOKS: usize = 7;

impl Hook {
    fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Hook::IpOnly => "ip-only",
            Hook::Packet => "packet",
            Hook::DnsRequest => "dns-request",
            Hook::TlsClientHello => "tls-client-hello",
            Hook::TlsServerHello => "tls-server-hello",
            Hook::HttpRequest => "http-request",
            Hook::TlsCertificate => "tls-certificate",
        }
    }
}

/// The application protocol of a flow, as the engine has detected it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    Unknown,
    Dns,
    Tls,
    Http,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProtoMatch {
    Any,
    Ip(u8),
    Icmp,
    App(AppKind),
}

/// What a rule sees of the packet it is evaluated on.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub ip_proto: u8,
    pub dir: Direction,
    /// TCP: handshake completed (or picked up mid-stream with traffic both ways); UDP and
    /// others: packets seen in both directions.
    pub established: bool,
    pub app: AppKind,
    pub payload: &'a [u8],
    /// The packet's IP header (with IPv6 extension headers), for `ipv4.hdr` / `ipv6.hdr`.
    pub ip_header: &'a [u8],
    /// The transport header alone, for `tcp.hdr`, `udp.hdr`, `icmpv4.hdr`, `icmpv6.hdr`.
    pub l4_header: &'a [u8],
}

/// The app-layer buffers available at an inspection point.
#[derive(Debug, Clone, Copy, Default)]
pub struct Buffers<'a> {
    pub dns_query: Option<&'a [u8]>,
    pub tls_sni: Option<&'a [u8]>,
    pub ja3: Option<&'a [u8]>,
    pub ja3s: Option<&'a [u8]>,
    pub ja3_string: Option<&'a [u8]>,
    pub ja3s_string: Option<&'a [u8]>,
    pub ja4: Option<&'a [u8]>,
    pub http_host: Option<&'a [u8]>,
    pub http_request_line: Option<&'a [u8]>,
    pub http_uri: Option<&'a [u8]>,
    pub http_method: Option<&'a [u8]>,
    pub http_user_agent: Option<&'a [u8]>,
    pub tls_cert_subject: Option<&'a [u8]>,
    pub tls_cert_issuer: Option<&'a [u8]>,
    pub tls_cert_serial: Option<&'a [u8]>,
    pub tls_cert_fingerprint: Option<&'a [u8]>,
}

/// The packet's addresses as raw bytes (4 or 16), the `ip.src` / `ip.dst` buffers.
struct IpBytes {
    src: [u8; 16],
    src_len: usize,
    dst: [u8; 16],
    dst_len: usize,
}

impl IpBytes {
    fn of(v: &PacketView<'_>) -> IpBytes {
        let raw = |ip: IpAddr| -> ([u8; 16], usize) {
            let mut b = [0u8; 16];
            match ip {
                IpAddr::V4(a) => {
                    b[..4].copy_from_slice(&a.octets());
                    (b, 4)
                }
                IpAddr::V6(a) => (a.octets(), 16),
            }
        };
        let (src, src_len) = raw(v.src);
        let (dst, dst_len) = raw(v.dst);
        IpBytes {
            src,
            src_len,
            dst,
            dst_len,
        }
    }
}

impl<'a> Buffers<'a> {
    fn get<'s>(&'s self, b: Buffer, v: &'s PacketView<'_>, ips: &'s IpBytes) -> Option<&'s [u8]> {
        let payload = v.payload;
        let hdr = |want: bool, h: &'s [u8]| (want && !h.is_empty()).then_some(h);
        match b {
            Buffer::Payload => Some(payload),
            Buffer::Sticky(name) => match name {
                "ipv4.hdr" => hdr(v.src.is_ipv4(), v.ip_header),
                "ipv6.hdr" => hdr(v.src.is_ipv6(), v.ip_header),
                "tcp.hdr" => hdr(v.ip_proto == 6, v.l4_header),
                "udp.hdr" => hdr(v.ip_proto == 17, v.l4_header),
                "icmpv4.hdr" => hdr(v.ip_proto == 1, v.l4_header),
                "icmpv6.hdr" => hdr(v.ip_proto == 58, v.l4_header),
                "ip.src" => Some(&ips.src[..ips.src_len]),
                "ip.dst" => Some(&ips.dst[..ips.dst_len]),
                "dns.query" => self.dns_query,
                "tls.sni" => self.tls_sni,
                "ja3.hash" => self.ja3,
                "ja3s.hash" => self.ja3s,
                "ja3.string" => self.ja3_string,
                "ja3s.string" => self.ja3s_string,
                "http.request_line" => self.http_request_line,
                "ja4.hash" => self.ja4,
                "http.host" => self.http_host,
                "http.uri" => self.http_uri,
                "http.method" => self.http_method,
                "http.user_agent" => self.http_user_agent,
                "tls.cert_subject" => self.tls_cert_subject,
                "tls.cert_issuer" => self.tls_cert_issuer,
                "tls.cert_serial" => self.tls_cert_serial,
                "tls.cert_fingerprint" => self.tls_cert_fingerprint,
                _ => None,
            },
        }
    }
}

/// Per-flow rule state: the flowbits that are set.
#[derive(Debug, Clone, Default)]
pub struct FlowBits {
    bits: Vec<u32>,
}

impl FlowBits {
    fn is_set(&self, b: u32) -> bool {
        self.bits.binary_search(&b).is_ok()
    }
    fn set(&mut self, b: u32) {
        if let Err(i) = self.bits.binary_search(&b) {
            self.bits.insert(i, b);
        }
    }
    fn unset(&mut self, b: u32) {
        if let Ok(i) = self.bits.binary_search(&b) {
            self.bits.remove(i);
        }
    }
}

/// A compiled rule.
#[derive(Debug)]
pub struct Sig {
    pub action: Action,
    pub gid: u32,
    pub sid: u32,
    pub rev: u32,
    pub msg: Box<str>,
    /// The classtype's description (Suricata's `alert.category`), empty without classtype.
    pub category: Box<str>,
    pub priority: u8,
    /// `metadata` as Suricata logs it: key → values.
    pub metadata: BTreeMap<String, Vec<String>>,
    /// ATT&CK technique ids from the metadata (`mitre_technique_id`).
    pub attack: Vec<String>,
    /// The rule file's name, for provenance and licence attribution.
    pub source: Arc<str>,
    pub hook: Hook,
    /// The rule as written, when alerts are to carry it (`alert.rule`).
    pub text: Option<Box<str>>,
    /// How candidates for this rule are found: `"literal"` (hash tables), `"fast-pattern"`
    /// (Aho-Corasick), `"ip-index"` (address intervals) or `"none"` (every inspection).
    pub prefilter: &'static str,
    pub noalert: bool,
    /// `target:src_ip|dest_ip`: which side of an alert is attacked.
    pub target: Option<Target>,
    /// The rule's own `threshold` or `detection_filter`.
    pub limit: Option<post::Limit>,
    /// 0–100: ET's `confidence` metadata, else from the priority.
    pub confidence: u8,
    pub location: Location,
    proto: ProtoMatch,
    src: IpSet,
    dst: IpSet,
    sports: PortSet,
    dports: PortSet,
    bidirectional: bool,
    flow_dir: Option<FlowDirection>,
    established: Option<bool>,
    bits_check: Vec<(BitsCommand, BitsGroup, Vec<u32>)>,
    bits_act: Vec<(BitsCommand, Vec<u32>)>,
    iprep: Vec<(IprepSide, u8, IprepTest)>,
    groups: Vec<Group>,
}

#[derive(Debug, Clone, Copy)]
enum IprepTest {
    Cmp(CmpOp, u8),
    IsSet(bool),
}

#[derive(Debug)]
struct Group {
    buffer: Buffer,
    transforms: Vec<Transform>,
    steps: Vec<Step>,
}

/// A rule that loaded but is not executed, or failed to compile, with why.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub location: Location,
    pub gid: u32,
    pub sid: u32,
    pub reasons: Vec<Unsupported>,
}

/// What loading a rule set did.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub rules: usize,
    pub loaded: usize,
    /// Rules answered by the literal (indicator-style) tables.
    pub literal: usize,
    /// Rules found through an Aho-Corasick fast pattern.
    pub prefiltered: usize,
    /// Rules found through the IP-only address index.
    pub ip_indexed: usize,
    /// Rules evaluated at every inspection point of their hook (no fast pattern).
    pub unfiltered: usize,
    pub per_hook: BTreeMap<&'static str, usize>,
    pub skipped: Vec<Skipped>,
}

/// Everything outside the rules that compilation needs.
pub struct RuleContext<'a> {
    pub vars: &'a Vars,
    pub classification: &'a ClassificationTable,
    pub iprep: Option<&'a IpReputation>,
    /// Datasets declared in the configuration, to which rules' own declarations are added.
    pub datasets: DatasetsBuilder,
    /// Directory a relative dataset `load` path resolves against when it is not found next
    /// to the rule file (the configuration's directory).
    pub config_dir: Option<PathBuf>,
    /// JSON datasets loaded so far (rules share them by name).
    pub json_sets: Vec<datajson::JsonSet>,
    /// Keep each rule's text for `alert.rule`.
    pub keep_text: bool,
}

/// All compiled rules with their candidate indexes. Immutable; shared by every worker.
pub struct SignatureSet {
    pub sigs: Vec<Sig>,
    hooks: [HookIndex; HOOKS],
    pub datasets: Datasets,
    pub json_sets: Vec<datajson::JsonSet>,
    iprep: Option<IpReputation>,
    /// Flowbit names by id.
    pub flowbits: Vec<String>,
}

impl std::fmt::Debug for SignatureSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureSet")
            .field("sigs", &self.sigs.len())
            .finish()
    }
}

#[derive(Default)]
struct HookIndex {
    slots: Vec<Slot>,
    /// Rules without a fast pattern: candidates at every inspection.
    always: Vec<u32>,
    ip: Option<IpIndex>,
}

/// A slot's fast patterns while building: in id order, and their ids.
type SlotPatterns = (Vec<Vec<u8>>, FxHashMap<Vec<u8>, usize>);

/// One (buffer, transforms) pair's candidate tables.
struct Slot {
    buffer: Buffer,
    transforms: Vec<Transform>,
    /// Lower-cased patterns; `rules[pattern id]` are the rules using it.
    ac: Option<AhoCorasick>,
    ac_rules: Vec<Vec<u32>>,
    /// Whole (lower-cased) buffer → rules.
    exact: FxHashMap<Box<[u8]>, Vec<u32>>,
    /// Lower-cased suffix → rules whose buffer ends with it (`endswith`, with or without
    /// `dotprefix`).
    suffix: FxHashMap<Box<[u8]>, Vec<u32>>,
    /// The distinct suffix lengths, ascending: one hash lookup each per buffer.
    suffix_lens: Vec<usize>,
}

/// Interval index over v4-mapped addresses: elementary segments and the rules covering each.
struct IpIndex {
    starts: Vec<u128>,
    rules: Vec<Vec<u32>>,
}

impl IpIndex {
    fn build(mut spans: Vec<(u128, u128, u32)>) -> IpIndex {
        let mut bounds: Vec<u128> = Vec::with_capacity(spans.len() * 2 + 1);
        bounds.push(0);
        for &(lo, hi, _) in &spans {
            bounds.push(lo);
            if hi < u128::MAX {
                bounds.push(hi + 1);
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut rules = vec![Vec::new(); bounds.len()];
        spans.sort_unstable();
        for (lo, hi, r) in spans {
            let first = bounds.partition_point(|&b| b < lo);
            for (i, seg) in rules.iter_mut().enumerate().skip(first) {
                if bounds[i] > hi {
                    break;
                }
                seg.push(r);
            }
        }
        IpIndex {
            starts: bounds,
            rules,
        }
    }

    fn lookup(&self, ip: IpAddr) -> &[u32] {
        let x = mapped(ip);
        let i = self.starts.partition_point(|&b| b <= x);
        if i == 0 {
            return &[];
        }
        &self.rules[i - 1]
    }
}

fn mapped(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// An address set's intervals with IPv4 as v4-mapped IPv6, the [`IpIndex`] key space.
fn mapped_spans(s: &IpSet) -> Vec<(u128, u128)> {
    const V4_MAPPED: u128 = 0xffff << 32;
    s.v4_ranges()
        .iter()
        .map(|&(lo, hi)| (V4_MAPPED | u128::from(lo), V4_MAPPED | u128::from(hi)))
        .chain(s.v6_ranges().iter().copied())
        .collect()
}

/// Addresses in an interval set beyond which indexing a side is pointless.
const INDEX_MAX_ADDRS: u128 = 1 << 24;

/// Per-inspection scratch, reused across packets (no allocation on the common path).
#[derive(Default)]
pub struct Scratch {
    cands: Vec<u32>,
    lower: Vec<u8>,
}

/// Per-rule ordering class: pass, drop/reject, alert; then flowbit setters before readers.
fn order_key(r: &Rule) -> (u8, u8) {
    let action = match r.action {
        Action::Pass => 0,
        Action::Drop | Action::Reject | Action::RejectSrc | Action::RejectDst => 1,
        Action::RejectBoth => 1,
        _ => 2,
    };
    let sets = r.flowbits.iter().any(|f| {
        matches!(
            f.command,
            BitsCommand::Set | BitsCommand::Unset | BitsCommand::Toggle
        )
    });
    let reads = r
        .flowbits
        .iter()
        .any(|f| matches!(f.command, BitsCommand::IsSet | BitsCommand::IsNotSet));
    let bits = match (sets, reads) {
        (true, false) => 0,
        (false, false) => 1,
        (true, true) => 2,
        (false, true) => 3,
    };
    (action, bits)
}

impl SignatureSet {
    /// An empty set: nothing to evaluate.
    pub fn empty() -> SignatureSet {
        SignatureSet {
            sigs: Vec::new(),
            hooks: Default::default(),
            datasets: Datasets::builder().build(),
            json_sets: Vec::new(),
            iprep: None,
            flowbits: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }

    /// Compiles `rules`. Non-executable rules, and rules whose variables, datasets or
    /// reputation categories do not resolve, are skipped and reported with their reasons.
    pub fn build(rules: Vec<Rule>, mut ctx: RuleContext<'_>) -> (SignatureSet, LoadReport) {
        let mut report = LoadReport {
            rules: rules.len(),
            ..Default::default()
        };
        let mut ordered: Vec<(usize, Rule)> = rules.into_iter().enumerate().collect();
        ordered.sort_by_key(|(i, r)| (order_key(r), *i));
        let mut bit_ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut bit_names: Vec<String> = Vec::new();
        let mut sigs: Vec<Sig> = Vec::new();
        let mut fast: Vec<Option<FastChoice>> = Vec::new();
        for (_, rule) in ordered {
            let skip = |reasons: Vec<Unsupported>, report: &mut LoadReport| {
                report.skipped.push(Skipped {
                    location: rule.location.clone(),
                    gid: rule.gid,
                    sid: rule.sid,
                    reasons,
                })
            };
            if let Err(reasons) = rule.executable() {
                skip(reasons, &mut report);
                continue;
            }
            match compile_rule(&rule, &mut ctx, &mut bit_ids, &mut bit_names) {
                Ok((sig, choice)) => {
                    sigs.push(sig);
                    fast.push(choice);
                }
                Err(reason) => skip(vec![reason], &mut report),
            }
        }
        report.loaded = sigs.len();

        // Candidate indexes per hook.
        let mut hooks: [HookIndex; HOOKS] = Default::default();
        let mut ip_spans: Vec<(u128, u128, u32)> = Vec::new();
        // (hook, buffer, transforms) → index in that hook's slots; the patterns of each slot's
        // automaton, deduplicated, until it is built.
        let mut slot_of: BTreeMap<(Hook, Buffer, String), usize> = BTreeMap::new();
        let mut patterns: BTreeMap<(Hook, usize), SlotPatterns> = BTreeMap::new();
        let mut kinds: Vec<&'static str> = vec!["none"; sigs.len()];
        for (i, (sig, choice)) in sigs.iter().zip(&fast).enumerate() {
            let id = i as u32;
            *report.per_hook.entry(sig.hook.as_str()).or_default() += 1;
            if sig.hook == Hook::IpOnly {
                match ip_only_spans(sig) {
                    Some(spans) => {
                        report.ip_indexed += 1;
                        kinds[i] = "ip-index";
                        ip_spans.extend(spans.into_iter().map(|(lo, hi)| (lo, hi, id)));
                    }
                    None => {
                        report.unfiltered += 1;
                        hooks[Hook::IpOnly.index()].always.push(id);
                    }
                }
                continue;
            }
            let Some(choice) = choice else {
                report.unfiltered += 1;
                hooks[sig.hook.index()].always.push(id);
                continue;
            };
            let key = (sig.hook, choice.buffer, format!("{:?}", choice.transforms));
            let local = *slot_of.entry(key).or_insert_with(|| {
                let h = &mut hooks[sig.hook.index()];
                h.slots.push(Slot {
                    buffer: choice.buffer,
                    transforms: choice.transforms.clone(),
                    ac: None,
                    ac_rules: Vec::new(),
                    exact: FxHashMap::default(),
                    suffix: FxHashMap::default(),
                    suffix_lens: Vec::new(),
                });
                h.slots.len() - 1
            });
            let s = &mut hooks[sig.hook.index()].slots[local];
            let pat = choice.pattern.to_ascii_lowercase();
            match choice.literal {
                Literal::Exact => {
                    report.literal += 1;
                    kinds[i] = "literal";
                    s.exact.entry(pat.into()).or_default().push(id);
                }
                Literal::Suffix => {
                    report.literal += 1;
                    kinds[i] = "literal";
                    if let Err(at) = s.suffix_lens.binary_search(&pat.len()) {
                        s.suffix_lens.insert(at, pat.len());
                    }
                    s.suffix.entry(pat.into()).or_default().push(id);
                }
                Literal::None => {
                    report.prefiltered += 1;
                    kinds[i] = "fast-pattern";
                    let (pats, index) = patterns.entry((sig.hook, local)).or_default();
                    let pid = *index.entry(pat.clone()).or_insert_with(|| {
                        pats.push(pat);
                        pats.len() - 1
                    });
                    if s.ac_rules.len() <= pid {
                        s.ac_rules.resize(pid + 1, Vec::new());
                    }
                    s.ac_rules[pid].push(id);
                }
            }
        }
        // Build each slot's automaton.
        for ((hook, local), (pats, _)) in &patterns {
            hooks[hook.index()].slots[*local].ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(pats)
                .ok();
        }
        if !ip_spans.is_empty() {
            hooks[Hook::IpOnly.index()].ip = Some(IpIndex::build(ip_spans));
        }
        for (sig, kind) in sigs.iter_mut().zip(kinds) {
            sig.prefilter = kind;
        }
        let set = SignatureSet {
            sigs,
            hooks,
            datasets: std::mem::take(&mut ctx.datasets).build(),
            json_sets: std::mem::take(&mut ctx.json_sets),
            iprep: ctx.iprep.cloned(),
            flowbits: bit_names,
        };
        (set, report)
    }

    /// Whether any rule adds to or removes from a dataset at run time.
    pub fn mutates_datasets(&self) -> bool {
        self.sigs.iter().any(|s| {
            s.groups.iter().any(|g| {
                g.steps.iter().any(|st| {
                    matches!(
                        st,
                        Step::Dataset(DataStep {
                            command: DatasetCommand::Set | DatasetCommand::Unset,
                            ..
                        })
                    )
                })
            })
        })
    }

    /// Whether any rule is evaluated at `hook`.
    pub fn has_hook(&self, hook: Hook) -> bool {
        let h = &self.hooks[hook.index()];
        !h.always.is_empty() || !h.slots.is_empty() || h.ip.is_some()
    }

    /// Evaluates the rules of `hook`; pushes every rule that matched and should alert to
    /// `hits` (in evaluation order), and applies flowbit and dataset changes to `bits` and
    /// `overlay`.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate(
        &self,
        hook: Hook,
        view: &PacketView<'_>,
        bufs: &Buffers<'_>,
        bits: &mut FlowBits,
        overlay: &mut DataOverlayMap,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
    ) {
        let mut data = DataOverlay {
            sets: &self.datasets,
            json: &self.json_sets,
            overlay,
            context: Vec::new(),
        };
        let h = &self.hooks[hook.index()];
        let ips = IpBytes::of(view);
        let mut cands = std::mem::take(&mut scratch.cands);
        cands.clear();
        cands.extend_from_slice(&h.always);
        if let Some(ip) = &h.ip {
            cands.extend_from_slice(ip.lookup(view.src));
            cands.extend_from_slice(ip.lookup(view.dst));
        }
        for s in &h.slots {
            let Some(raw) = bufs.get(s.buffer, view, &ips) else {
                continue;
            };
            let buf = inspect::apply_transforms(&s.transforms, raw);
            if let Some(ac) = &s.ac {
                for m in ac.find_overlapping_iter(&*buf) {
                    cands.extend_from_slice(&s.ac_rules[m.pattern().as_usize()]);
                }
            }
            if !s.exact.is_empty() || !s.suffix.is_empty() {
                scratch.lower.clear();
                scratch.lower.extend(buf.iter().map(u8::to_ascii_lowercase));
                let lower = &scratch.lower[..];
                if let Some(r) = s.exact.get(lower) {
                    cands.extend_from_slice(r);
                }
                for &n in s.suffix_lens.iter().take_while(|&&n| n <= lower.len()) {
                    if let Some(r) = s.suffix.get(&lower[lower.len() - n..]) {
                        cands.extend_from_slice(r);
                    }
                }
            }
        }
        cands.sort_unstable();
        cands.dedup();
        for &c in &cands {
            let sig = &self.sigs[c as usize];
            data.context.clear();
            if !self.matches(sig, view, bufs, &ips, bits, &mut data) {
                continue;
            }
            for (cmd, ids) in &sig.bits_act {
                for &b in ids {
                    match cmd {
                        BitsCommand::Set => bits.set(b),
                        BitsCommand::Unset => bits.unset(b),
                        BitsCommand::Toggle => {
                            if bits.is_set(b) {
                                bits.unset(b)
                            } else {
                                bits.set(b)
                            }
                        }
                        _ => {}
                    }
                }
            }
            if sig.action == Action::Pass {
                break;
            }
            if !sig.noalert {
                hits.push(Hit {
                    sig: c,
                    context: std::mem::take(&mut data.context),
                });
            }
        }
        scratch.cands = cands;
    }

    fn matches(
        &self,
        sig: &Sig,
        v: &PacketView<'_>,
        bufs: &Buffers<'_>,
        ips: &IpBytes,
        bits: &FlowBits,
        data: &mut dyn DataLookup,
    ) -> bool {
        let proto_ok = match sig.proto {
            ProtoMatch::Any => true,
            ProtoMatch::Ip(p) => v.ip_proto == p,
            ProtoMatch::Icmp => v.ip_proto == 1 || v.ip_proto == 58,
            ProtoMatch::App(a) => v.app == a,
        };
        if !proto_ok {
            return false;
        }
        let fwd = sig.src.contains(v.src)
            && sig.dst.contains(v.dst)
            && sig.sports.contains(v.sport)
            && sig.dports.contains(v.dport);
        let addr_ok = fwd
            || (sig.bidirectional
                && sig.src.contains(v.dst)
                && sig.dst.contains(v.src)
                && sig.sports.contains(v.dport)
                && sig.dports.contains(v.sport));
        if !addr_ok {
            return false;
        }
        if let Some(d) = sig.flow_dir {
            let want = match d {
                FlowDirection::ToServer => Direction::ToServer,
                FlowDirection::ToClient => Direction::ToClient,
            };
            if v.dir != want {
                return false;
            }
        }
        if let Some(e) = sig.established {
            if v.established != e {
                return false;
            }
        }
        for (cmd, group, ids) in &sig.bits_check {
            let test = |b: &u32| bits.is_set(*b) == (*cmd == BitsCommand::IsSet);
            let ok = match group {
                BitsGroup::Any => ids.iter().any(test),
                _ => ids.iter().all(test),
            };
            if !ok {
                return false;
            }
        }
        if !sig.iprep.is_empty() {
            let Some(rep) = &self.iprep else { return false };
            for &(side, cat, test) in &sig.iprep {
                let check = |ip: IpAddr| {
                    let score = rep.score_by_id(ip, cat);
                    match test {
                        IprepTest::IsSet(want) => score.is_some() == want,
                        IprepTest::Cmp(op, val) => {
                            score.is_some_and(|s| op.eval(u64::from(s), u64::from(val)))
                        }
                    }
                };
                let ok = match side {
                    IprepSide::Src => check(v.src),
                    IprepSide::Dst => check(v.dst),
                    IprepSide::Any => check(v.src) || check(v.dst),
                    IprepSide::Both => check(v.src) && check(v.dst),
                };
                if !ok {
                    return false;
                }
            }
        }
        // Variables (byte_extract, byte_math) carry from one buffer to the next.
        let mut vars = inspect::Vars::default();
        for g in &sig.groups {
            let Some(raw) = bufs.get(g.buffer, v, ips) else {
                return false;
            };
            let buf = inspect::apply_transforms(&g.transforms, raw);
            if !inspect::inspect_with_vars(&g.steps, &buf, data, &mut vars) {
                return false;
            }
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling one rule

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Literal {
    None,
    /// The buffer equals the pattern.
    Exact,
    /// The (possibly dotprefixed) buffer ends with the pattern.
    Suffix,
}

#[derive(Debug)]
struct FastChoice {
    buffer: Buffer,
    transforms: Vec<Transform>,
    pattern: Vec<u8>,
    literal: Literal,
}

fn unsupported(keyword: &str, reason: impl Into<String>) -> Unsupported {
    Unsupported {
        keyword: keyword.to_string(),
        reason: reason.into(),
    }
}

use inspect::{Bitmask, ByteOp, ByteSource, Conv, JumpFrom, MathOp, Val};

/// An optional number of detect `d` (see [`num`]).
fn lit(rule: &Rule, d: &Detect, n: &Option<Num>, kw: &str) -> Result<Option<Val>, Unsupported> {
    n.as_ref().map(|n| num(rule, d, n, kw)).transpose()
}

/// A number of detect `d`: a literal, or the slot of the `byte_extract` / `byte_math` variable
/// it names, which an earlier detect on the same buffer must define.
fn num(rule: &Rule, d: &Detect, n: &Num, kw: &str) -> Result<Val, Unsupported> {
    let name = match n {
        Num::Lit(v) => return Ok(Val::Lit(*v)),
        Num::Var(name) => name,
    };
    let here = rule
        .detects
        .iter()
        .position(|x| std::ptr::eq(x, d))
        .unwrap_or(rule.detects.len());
    let def = rule
        .detects
        .iter()
        .take(here)
        .rev()
        .find(|x| var_defined(x) == Some(name.as_str()));
    let Some(def) = def else {
        return Err(unsupported(
            kw,
            format!(
                "{kw} uses the variable {name}, which no earlier byte_extract or byte_math defines"
            ),
        ));
    };
    // Buffers are inspected in order of their first use, sharing variables: a variable from
    // another buffer is usable when that buffer comes first.
    let first_use = |x: &Detect| {
        rule.detects
            .iter()
            .position(|y| y.buffer == x.buffer && y.transforms == x.transforms)
            .unwrap_or(0)
    };
    let same_buffer = def.buffer == d.buffer && def.transforms == d.transforms;
    if !same_buffer && first_use(def) >= first_use(d) {
        return Err(unsupported(
            kw,
            format!(
                "{kw} uses the variable {name} from a buffer ({}) inspected after this one",
                def.buffer.name()
            ),
        ));
    }
    var_slot(rule, name, kw).map(Val::Var)
}

/// The variable a `byte_extract` or `byte_math` detect stores.
fn var_defined(d: &Detect) -> Option<&str> {
    match &d.kind {
        DetectKind::ByteExtract(e) => Some(&e.name),
        DetectKind::ByteMath(m) => Some(&m.result),
        _ => None,
    }
}

/// The slot of variable `name`: a rule's variables are numbered in order of first definition.
fn var_slot(rule: &Rule, name: &str, kw: &str) -> Result<u8, Unsupported> {
    let mut names: Vec<&str> = Vec::new();
    for n in rule.detects.iter().filter_map(var_defined) {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let slot = names.iter().position(|n| *n == name).unwrap_or(names.len());
    if slot >= inspect::MAX_VARS {
        return Err(unsupported(
            kw,
            format!(
                "more than {} byte_extract/byte_math variables in one rule",
                inspect::MAX_VARS
            ),
        ));
    }
    Ok(slot as u8)
}

/// The conversion a byte keyword's flags select: `string` (with `hex`/`dec`/`oct`, else
/// `default_base`), else `big` (the default) or `little`, the last one given winning. `dce`
/// makes the rule non-executable: the byte order would come from a DCERPC parser.
fn byte_conv(kw: &str, flags: &[String], default_base: u32) -> Result<Conv, Unsupported> {
    let (mut little, mut string, mut base) = (false, false, None);
    for f in flags {
        // byte_math writes `endian big` and `string hex`.
        let f = f.strip_prefix("endian ").unwrap_or(f);
        let f = match f.strip_prefix("string ") {
            Some(b) => {
                string = true;
                b
            }
            None => f,
        };
        match f {
            "big" => little = false,
            "little" => little = true,
            "string" => string = true,
            "hex" => base = Some(16),
            "dec" => base = Some(10),
            "oct" => base = Some(8),
            "dce" => {
                return Err(unsupported(
                    kw,
                    format!("{kw} with dce takes the byte order from DCERPC, which is not parsed"),
                ))
            }
            _ => {}
        }
    }
    if base.is_some() && !string {
        return Err(unsupported(
            kw,
            "a number base (hex, dec, oct) needs string",
        ));
    }
    Ok(match (string, little) {
        (true, _) => Conv::Str(base.unwrap_or(default_base)),
        (false, true) => Conv::Little,
        (false, false) => Conv::Big,
    })
}

/// Checks a byte count: 1 to `binary` bytes, or 0 to `string` bytes as a string.
fn byte_count(kw: &str, n: i64, conv: Conv, binary: i64, string: i64) -> Result<(), Unsupported> {
    let (lo, hi, what) = match conv {
        Conv::Str(_) => (0, string, "as a string"),
        _ => (1, binary, "without string"),
    };
    if (lo..=hi).contains(&n) {
        return Ok(());
    }
    Err(unsupported(
        kw,
        format!("{kw} reads {lo} to {hi} bytes {what}, not {n}"),
    ))
}

/// `multiplier`: 1 to 65535 (default 1).
fn multiplier(kw: &str, m: Option<u64>) -> Result<u64, Unsupported> {
    match m {
        None => Ok(1),
        Some(m @ 1..=65535) => Ok(m),
        Some(m) => Err(unsupported(kw, format!("multiplier {m}: it is 1 to 65535"))),
    }
}

fn compile_rule(
    rule: &Rule,
    ctx: &mut RuleContext<'_>,
    bit_ids: &mut FxHashMap<String, u32>,
    bit_names: &mut Vec<String>,
) -> Result<(Sig, Option<FastChoice>), Unsupported> {
    let resolve_addr = |a: &AddrSpec, kw: &str| {
        ctx.vars
            .resolve_addr(a)
            .map_err(|e| unsupported(kw, e.to_string()))
    };
    let src = resolve_addr(&rule.src, "header:source")?;
    let dst = resolve_addr(&rule.dst, "header:destination")?;
    let sports = ctx
        .vars
        .resolve_port(&rule.src_ports)
        .map_err(|e| unsupported("header:source-port", e.to_string()))?;
    let dports = ctx
        .vars
        .resolve_port(&rule.dst_ports)
        .map_err(|e| unsupported("header:destination-port", e.to_string()))?;
    let proto = match rule.proto {
        "ip" => ProtoMatch::Any,
        "tcp" | "tcp-pkt" | "tcp-stream" => ProtoMatch::Ip(6),
        "sctp" => ProtoMatch::Ip(132),
        "udp" => ProtoMatch::Ip(17),
        "icmp" => ProtoMatch::Icmp,
        "dns" => ProtoMatch::App(AppKind::Dns),
        "tls" => ProtoMatch::App(AppKind::Tls),
        "http" | "http1" => ProtoMatch::App(AppKind::Http),
        other => return Err(unsupported("proto", format!("protocol {other}"))),
    };

    let mut intern = |name: &str| -> u32 {
        if let Some(&id) = bit_ids.get(name) {
            return id;
        }
        let id = bit_names.len() as u32;
        bit_names.push(name.to_string());
        bit_ids.insert(name.to_string(), id);
        id
    };
    let mut bits_check = Vec::new();
    let mut bits_act = Vec::new();
    for f in &rule.flowbits {
        let ids: Vec<u32> = f.names.iter().map(|n| intern(n)).collect();
        match f.command {
            BitsCommand::IsSet | BitsCommand::IsNotSet => {
                bits_check.push((f.command, f.group, ids))
            }
            BitsCommand::Set | BitsCommand::Unset | BitsCommand::Toggle => {
                bits_act.push((f.command, ids))
            }
            BitsCommand::NoAlert => {}
        }
    }

    let mut iprep = Vec::new();
    for o in &rule.options {
        if let OptionValue::Iprep(ip) = &o.parsed {
            let Some(rep) = ctx.iprep else {
                return Err(unsupported(
                    "iprep",
                    "no IP reputation is configured (reputation-categories-file / reputation-files)",
                ));
            };
            let Some(cat) = rep.category_id(&ip.category) else {
                return Err(unsupported(
                    "iprep",
                    format!("unknown reputation category {}", ip.category),
                ));
            };
            let test = match (ip.isset, ip.cmp) {
                (Some(s), _) => IprepTest::IsSet(s),
                (None, Some((op, v))) => IprepTest::Cmp(op, v),
                (None, None) => IprepTest::IsSet(true),
            };
            iprep.push((ip.side, cat, test));
        }
    }

    // Group steps by (buffer, transforms), keeping rule order inside each group.
    let mut groups: Vec<Group> = Vec::new();
    let mut fast_candidates: Vec<(usize, usize, bool, Vec<u8>)> = Vec::new(); // group, step, explicit, pattern
    for d in &rule.detects {
        if let Some(t) = d
            .transforms
            .iter()
            .find(|t| !inspect::transform_supported(t))
        {
            return Err(unsupported(
                "transform",
                format!("transform {t:?} is not supported"),
            ));
        }
        let gi = match groups
            .iter()
            .position(|g| g.buffer == d.buffer && g.transforms == d.transforms)
        {
            Some(i) => i,
            None => {
                groups.push(Group {
                    buffer: d.buffer,
                    transforms: d.transforms.clone(),
                    steps: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let step = match &d.kind {
            DetectKind::Content(c) => {
                let mut offset = lit(rule, d, &c.offset, "offset")?.unwrap_or(Val::Lit(0));
                let mut depth = lit(rule, d, &c.depth, "depth")?;
                if c.startswith {
                    offset = Val::Lit(0);
                    depth = Some(Val::Lit(c.pattern.len() as i64));
                }
                let pattern: Box<[u8]> = if c.nocase {
                    c.pattern.to_ascii_lowercase().into()
                } else {
                    c.pattern.clone().into()
                };
                if !c.negated {
                    let fp = match c.fast_pattern {
                        Some(FastPattern::Chop { offset, length }) => c
                            .pattern
                            .get(offset as usize..(offset as usize + length as usize))
                            .map(<[u8]>::to_vec)
                            .unwrap_or_else(|| c.pattern.clone()),
                        _ => c.pattern.clone(),
                    };
                    fast_candidates.push((
                        gi,
                        groups[gi].steps.len(),
                        c.fast_pattern.is_some(),
                        fp,
                    ));
                }
                Step::Content(ContentStep {
                    pattern,
                    nocase: c.nocase,
                    negated: c.negated,
                    offset,
                    depth,
                    distance: lit(rule, d, &c.distance, "distance")?,
                    within: lit(rule, d, &c.within, "within")?,
                    endswith: c.endswith,
                })
            }
            DetectKind::Pcre(p) => Step::Pcre(PcreStep {
                regex: inspect::LazyRegex::new(p),
                negated: p.negated,
                relative: p.relative,
            }),
            DetectKind::Bsize(m) => Step::Bsize(*m),
            DetectKind::Isdataat(i) => Step::Isdataat {
                negated: i.negated,
                offset: num(rule, d, &i.offset, "isdataat")?,
                relative: i.relative,
            },
            DetectKind::ByteTest(t) => {
                let kw = "byte_test";
                let conv = byte_conv(kw, &t.flags, 0)?;
                byte_count(kw, i64::from(t.bytes), conv, 8, 23)?;
                let Some(op) = ByteOp::parse(&t.op) else {
                    return Err(unsupported(
                        kw,
                        format!("operator {} is not supported", t.op),
                    ));
                };
                Step::ByteTest(inspect::ByteTestStep {
                    nbytes: t.bytes,
                    src: ByteSource {
                        offset: num(rule, d, &t.offset, kw)?,
                        relative: t.flags.iter().any(|f| f == "relative"),
                        conv,
                    },
                    op,
                    negated: t.negated,
                    value: num(rule, d, &t.value, kw)?,
                    bitmask: t.bitmask.map(Bitmask::new),
                })
            }
            DetectKind::ByteJump(j) => {
                let kw = "byte_jump";
                let conv = byte_conv(kw, &j.flags, 0)?;
                let nbytes = num(rule, d, &j.bytes, kw)?;
                if let Val::Lit(n) = nbytes {
                    byte_count(kw, n, conv, 8, 23)?;
                }
                let flag = |f: &str| j.flags.iter().any(|x| x == f);
                let from = match (flag("from_beginning"), flag("from_end")) {
                    (true, true) => {
                        return Err(unsupported(
                            kw,
                            "from_beginning and from_end exclude each other",
                        ))
                    }
                    (true, false) => JumpFrom::Beginning,
                    (false, true) => JumpFrom::End,
                    (false, false) => JumpFrom::Read,
                };
                let post_offset = lit(rule, d, &j.post_offset, kw)?.unwrap_or(Val::Lit(0));
                if matches!(post_offset, Val::Lit(p) if !(-65535..=65535).contains(&p)) {
                    return Err(unsupported(
                        kw,
                        "post_offset must be within -65535 to 65535",
                    ));
                }
                Step::ByteJump(inspect::ByteJumpStep {
                    nbytes,
                    src: ByteSource {
                        offset: num(rule, d, &j.offset, kw)?,
                        relative: flag("relative"),
                        conv,
                    },
                    multiplier: multiplier(kw, j.multiplier)?,
                    bitmask: j.bitmask.map(Bitmask::new),
                    align: flag("align"),
                    post_offset,
                    from,
                })
            }
            DetectKind::ByteExtract(e) => {
                let kw = "byte_extract";
                let conv = byte_conv(kw, &e.flags, 10)?;
                // Suricata's limits: what fits a u64 in each base.
                let max = match conv {
                    Conv::Str(16) => 14,
                    Conv::Str(10) => 20,
                    _ => 23,
                };
                byte_count(kw, i64::from(e.bytes), conv, 8, max)?;
                if e.bytes == 0 {
                    return Err(unsupported(kw, "byte_extract needs 1 or more bytes"));
                }
                if let Some(f) = e
                    .flags
                    .iter()
                    .find(|f| matches!(f.as_str(), "align" | "from_beginning" | "from_end"))
                {
                    return Err(unsupported(kw, format!("{f} is not a byte_extract option")));
                }
                let align = match e.align {
                    None => 0,
                    Some(a @ (2 | 4)) => a,
                    Some(a) => return Err(unsupported(kw, format!("align {a}: align is 2 or 4"))),
                };
                Step::ByteExtract(inspect::ByteExtractStep {
                    nbytes: e.bytes,
                    src: ByteSource {
                        offset: Val::Lit(e.offset),
                        relative: e.flags.iter().any(|f| f == "relative"),
                        conv,
                    },
                    multiplier: multiplier(kw, e.multiplier)?,
                    bitmask: e.bitmask.map(Bitmask::new),
                    align,
                    slot: var_slot(rule, &e.name, kw)?,
                })
            }
            DetectKind::ByteMath(m) => {
                let kw = "byte_math";
                let conv = byte_conv(kw, &m.flags, 10)?;
                let Some(op) = MathOp::parse(&m.oper) else {
                    return Err(unsupported(
                        kw,
                        format!("operator {} is not supported", m.oper),
                    ));
                };
                let nbytes = num(rule, d, &m.bytes, kw)?;
                if let Val::Lit(n) = nbytes {
                    // Suricata: 1–10 bytes, at most 4 to shift; 8 is the most a binary read has.
                    let (bin, string) = match op {
                        MathOp::Shl | MathOp::Shr => (4, 4),
                        _ => (8, 10),
                    };
                    byte_count(kw, n, conv, bin, string)?;
                    if n == 0 {
                        return Err(unsupported(kw, "byte_math needs 1 or more bytes"));
                    }
                }
                let rvalue = num(rule, d, &m.rvalue, kw)?;
                if matches!(rvalue, Val::Lit(v) if u32::try_from(v).is_err()) {
                    return Err(unsupported(kw, "rvalue must be within 0 to 4294967295"));
                }
                Step::ByteMath(inspect::ByteMathStep {
                    nbytes,
                    src: ByteSource {
                        offset: Val::Lit(m.offset),
                        relative: m.flags.iter().any(|f| f == "relative"),
                        conv,
                    },
                    op,
                    rvalue,
                    bitmask: m.bitmask.map(Bitmask::new),
                    slot: var_slot(rule, &m.result, kw)?,
                })
            }
            DetectKind::Dataset(ds) if !ds.json.is_empty() && json_spec(ds)?.is_some() => {
                let spec = json_spec(ds)?.unwrap_or_else(|| unreachable!());
                if !matches!(ds.command, DatasetCommand::IsSet | DatasetCommand::IsNotSet) {
                    return Err(unsupported(
                        "dataset",
                        "JSON datasets support isset and isnotset",
                    ));
                }
                let set = match ctx.json_sets.iter().position(|j| j.name == ds.name) {
                    Some(i) => i as u32,
                    None => {
                        let (rule_dir, _) = data_dirs(ctx, rule);
                        let Some(load) = &ds.load else {
                            return Err(unsupported("dataset", "a JSON dataset needs a load file"));
                        };
                        let Some(t) = ds.data_type else {
                            return Err(unsupported("dataset", "a JSON dataset needs a type"));
                        };
                        let js = datajson::JsonSet::load(&ds.name, t, &spec, &rule_dir.join(load))
                            .map_err(|e| unsupported("dataset", e))?;
                        ctx.json_sets.push(js);
                        (ctx.json_sets.len() - 1) as u32
                    }
                };
                Step::DatasetJson(datajson::JsonStep {
                    set,
                    command: ds.command,
                })
            }
            DetectKind::Dataset(ds) => {
                let (rule_dir, data_dir) = data_dirs(ctx, rule);
                let set = ctx
                    .datasets
                    .declare_rule_dataset(ds, &rule_dir, &data_dir)
                    .map_err(|e| unsupported("dataset", e.to_string()))?;
                Step::Dataset(DataStep {
                    set,
                    command: ds.command,
                })
            }
            DetectKind::Datarep(dr) => {
                let (rule_dir, _) = data_dirs(ctx, rule);
                let set = ctx
                    .datasets
                    .declare_rule_datarep(dr, &rule_dir)
                    .map_err(|e| unsupported("datarep", e.to_string()))?;
                Step::Datarep(RepStep {
                    set,
                    op: dr.op,
                    value: dr.value,
                })
            }
        };
        groups[gi].steps.push(step);
    }

    // Inspection point.
    let has = |names: &[&str]| {
        groups
            .iter()
            .any(|g| matches!(g.buffer, Buffer::Sticky(n) if names.contains(&n)))
    };
    // ip.src / ip.dst exist on every packet: they do not decide the inspection point.
    let sticky = groups.iter().any(|g| {
        !matches!(
            g.buffer,
            Buffer::Payload
                | Buffer::Sticky(
                    "ip.src"
                        | "ip.dst"
                        | "ipv4.hdr"
                        | "ipv6.hdr"
                        | "tcp.hdr"
                        | "udp.hdr"
                        | "icmpv4.hdr"
                        | "icmpv6.hdr"
                )
        )
    });
    let hook = if has(&[
        "tls.cert_subject",
        "tls.cert_issuer",
        "tls.cert_serial",
        "tls.cert_fingerprint",
    ]) {
        Hook::TlsCertificate
    } else if has(&["ja3s.hash", "ja3s.string"]) {
        Hook::TlsServerHello
    } else if has(&["tls.sni", "ja3.hash", "ja3.string", "ja4.hash"]) {
        Hook::TlsClientHello
    } else if has(&["dns.query"]) {
        Hook::DnsRequest
    } else if has(&[
        "http.host",
        "http.uri",
        "http.method",
        "http.user_agent",
        "http.request_line",
    ]) {
        Hook::HttpRequest
    } else if sticky {
        return Err(unsupported("buffer", "buffer not available"));
    } else if groups.is_empty()
        && rule.flow.is_none()
        && bits_check.is_empty()
        && sports.is_any()
        && dports.is_any()
        && !matches!(proto, ProtoMatch::App(_))
    {
        Hook::IpOnly
    } else {
        Hook::Packet
    };
    let (flow_dir, established) = match &rule.flow {
        None => (None, None),
        Some(f) => (
            f.direction,
            if f.established {
                Some(true)
            } else if f.not_established {
                Some(false)
            } else {
                None
            },
        ),
    };

    // Fast pattern: an explicit one, else the longest non-negated content.
    let choice = fast_candidates
        .iter()
        .max_by_key(|(g, s, explicit, p)| (*explicit, p.len(), std::cmp::Reverse((*g, *s))))
        .filter(|(.., p)| !p.is_empty())
        .map(|(g, s, _, p)| {
            let grp = &groups[*g];
            let literal = literal_form(grp, *s, p);
            FastChoice {
                buffer: grp.buffer,
                transforms: grp.transforms.clone(),
                pattern: p.clone(),
                literal,
            }
        });

    let category = rule
        .classtype
        .as_deref()
        .and_then(|c| ctx.classification.get(c))
        .map(|c| c.description.clone())
        .unwrap_or_default();
    let mut metadata: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in &rule.metadata {
        metadata.entry(k.clone()).or_default().push(v.clone());
    }
    let attack = metadata
        .get("mitre_technique_id")
        .cloned()
        .unwrap_or_default();
    let confidence = rule_confidence(&metadata, rule.effective_priority(ctx.classification));
    let source: Arc<str> = Arc::from(
        Path::new(&*rule.location.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| rule.location.file.to_string()),
    );
    Ok((
        Sig {
            action: rule.action,
            gid: rule.gid,
            sid: rule.sid,
            rev: rule.rev,
            msg: rule.msg.clone().into(),
            category: category.into(),
            priority: rule.effective_priority(ctx.classification),
            metadata,
            attack,
            source,
            hook,
            prefilter: "none",
            text: ctx.keep_text.then(|| rule.text.clone().into_boxed_str()),
            noalert: rule.noalert,
            target: rule.target,
            limit: rule
                .threshold
                .clone()
                .map(post::Limit::Threshold)
                .or_else(|| rule.detection_filter.clone().map(post::Limit::Detection)),
            confidence,
            location: rule.location.clone(),
            proto,
            src,
            dst,
            sports,
            dports,
            // `=>` (one transaction, request one way and response back) is checked like `<>`.
            bidirectional: matches!(rule.direction, Direction_::Both | Direction_::Transactional),
            flow_dir,
            established,
            bits_check,
            bits_act,
            iprep,
            groups,
        },
        choice,
    ))
}

use crate::rules::ast::Direction as Direction_;

/// A rule alert's confidence: ET's `confidence` metadata (High/Medium/Low) when present,
/// otherwise derived from the priority (1 → 80 … 4 → 35).
pub fn rule_confidence(metadata: &BTreeMap<String, Vec<String>>, priority: u8) -> u8 {
    let from_meta = metadata
        .get("confidence")
        .and_then(|v| v.first())
        .and_then(|c| match c.to_ascii_lowercase().as_str() {
            "high" => Some(90),
            "medium" => Some(70),
            "low" => Some(40),
            _ => None,
        });
    from_meta.unwrap_or(match priority {
        0 | 1 => 80,
        2 => 65,
        3 => 50,
        _ => 35,
    })
}

/// Whether the rule's inspection of `grp` is exactly one anchored literal the hash tables can
/// answer: the whole buffer (`startswith`+`endswith`, or `bsize` equal to its length), or a
/// suffix (`content:".x.y"; endswith`, also after `dotprefix`).
fn literal_form(grp: &Group, step: usize, pattern: &[u8]) -> Literal {
    let table_buffer = matches!(
        grp.buffer,
        Buffer::Sticky("dns.query" | "tls.sni" | "http.host")
    );
    let dotprefix_only = match grp.transforms.as_slice() {
        [] => false,
        [Transform::Dotprefix] => true,
        _ => return Literal::None,
    };
    if !table_buffer {
        return Literal::None;
    }
    let mut content = None;
    let mut bsize = None;
    for (i, s) in grp.steps.iter().enumerate() {
        match s {
            Step::Content(c) if i == step => content = Some(c),
            Step::Bsize(IntMatch::Eq(n)) => bsize = Some(*n),
            _ => return Literal::None,
        }
    }
    let Some(c) = content else {
        return Literal::None;
    };
    if c.negated
        || c.distance.is_some()
        || c.within.is_some()
        || &*c.pattern != pattern.to_ascii_lowercase().as_slice() && c.nocase
        || (!c.nocase && &*c.pattern != pattern)
    {
        return Literal::None;
    }
    let anchored_start = c.offset == 0 && c.depth == Some(Val::Lit(pattern.len() as i64));
    let plain = c.offset == 0 && c.depth.is_none();
    if (anchored_start && c.endswith)
        || (plain && bsize == Some(pattern.len() as u64) && !dotprefix_only)
    {
        return Literal::Exact;
    }
    if plain && c.endswith {
        return Literal::Suffix;
    }
    Literal::None
}

fn json_spec(ds: &Dataset) -> Result<Option<datajson::JsonSpec>, Unsupported> {
    datajson::JsonSpec::from_dataset(ds).map_err(|e| unsupported("dataset", e))
}

/// Where a rule's dataset files resolve: `load` next to the rule file, `state`/`save` in the
/// configuration's directory (else next to the rule file too).
fn data_dirs(ctx: &RuleContext<'_>, rule: &Rule) -> (PathBuf, PathBuf) {
    let rule_dir = Path::new(&*rule.location.file)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let data_dir = ctx.config_dir.clone().unwrap_or_else(|| rule_dir.clone());
    (rule_dir, data_dir)
}

/// The address spans of an IP-only rule worth indexing: the side with fewer addresses, if it
/// is small enough; `None` to evaluate the rule on every first packet.
fn ip_only_spans(sig: &Sig) -> Option<Vec<(u128, u128)>> {
    let side = |s: &IpSet| {
        let spans = mapped_spans(s);
        let size: u128 = spans.iter().fold(0u128, |acc, (lo, hi)| {
            acc.saturating_add(hi - lo).saturating_add(1)
        });
        (size, spans)
    };
    let (ss, sspans) = side(&sig.src);
    let (ds, dspans) = side(&sig.dst);
    let (size, mut spans) = if ss <= ds { (ss, sspans) } else { (ds, dspans) };
    if size > INDEX_MAX_ADDRS {
        return None;
    }
    // A bidirectional rule may see its side as either address; both lookups are made anyway.
    if sig.bidirectional {
        let other = if ss <= ds {
            side(&sig.dst).1
        } else {
            side(&sig.src).1
        };
        if other
            .iter()
            .map(|(lo, hi)| hi - lo)
            .any(|w| w > INDEX_MAX_ADDRS)
        {
            return None;
        }
        spans.extend(other);
    }
    Some(spans)
}

/// Runtime dataset changes: (set, normalised value) → now present or removed.
pub type DataOverlayMap = FxHashMap<(SetId, Box<[u8]>), bool>;

/// A rule that alerted, with the JSON dataset entries it matched (`alert.context`).
#[derive(Debug, Clone)]
pub struct Hit {
    pub sig: u32,
    pub context: Vec<(Arc<str>, Arc<serde_json::Value>)>,
}

/// Dataset lookups over the immutable loaded sets plus a mutable overlay of runtime
/// `set`/`unset`.
struct DataOverlay<'a> {
    sets: &'a Datasets,
    json: &'a [datajson::JsonSet],
    overlay: &'a mut DataOverlayMap,
    context: Vec<(Arc<str>, Arc<serde_json::Value>)>,
}

impl DataLookup for DataOverlay<'_> {
    fn dataset(&mut self, step: &DataStep, value: &[u8]) -> bool {
        let id = step.set;
        let Some(key) = self.sets.key(id, value) else {
            // Not representable in the set's type (e.g. not an address): never a member.
            return matches!(step.command, DatasetCommand::IsNotSet);
        };
        let present = match self.overlay.get(&(id, key.clone())) {
            Some(&p) => p,
            None => self.sets.contains_key(id, &key),
        };
        match step.command {
            DatasetCommand::IsSet => present,
            DatasetCommand::IsNotSet => !present,
            DatasetCommand::Set => {
                // Suricata's `set` matches only when the value was new.
                if !present {
                    self.overlay.insert((id, key), true);
                }
                !present
            }
            DatasetCommand::Unset => {
                if present {
                    self.overlay.insert((id, key), false);
                }
                present
            }
        }
    }

    fn datarep(&mut self, step: &RepStep, value: &[u8]) -> bool {
        let id = step.set;
        match self.sets.rep(id, value) {
            Some(r) => step.op.eval(u64::from(r), step.value),
            None => false,
        }
    }

    fn dataset_json(&mut self, step: &datajson::JsonStep, value: &[u8]) -> bool {
        let set = &self.json[step.set as usize];
        match (set.get(value), step.command) {
            (Some(entry), DatasetCommand::IsSet) => {
                self.context.push((set.context_key.clone(), entry.clone()));
                true
            }
            (None, DatasetCommand::IsNotSet) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
