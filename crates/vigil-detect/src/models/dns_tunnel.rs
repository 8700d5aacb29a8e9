//! DNS tunnelling and exfiltration.
//!
//! Problem: data smuggled through DNS rides in the query names, so one client sends many
//! *unique*, *long*, *high-entropy* subdomains under one registrable domain (the tunnel's
//! authoritative server), often with TXT or NULL queries for the downstream channel.
//! Browsing also produces unique subdomains (CDN shards, trackers), but few, short and
//! low-entropy.
//!
//! Per (source, parent) — the parent is the registrable domain from the public suffix list
//! (`psl`), so `a.b.example.co.uk` belongs to `example.co.uk` — the model keeps the unique
//! subdomains seen in the last `window_secs` (first sighting; repeats only add volume). A
//! subdomain is *suspicious* when it has at least `min_subdomain_len` characters (dots not
//! counted) and a Shannon entropy of at least `min_entropy` bits per character. Two variants:
//! - **tunnel**: weighted unique suspicious subdomains (TXT/NULL queries weigh
//!   `txt_null_weight`) reach `tunnel_threshold` (default 40 in 60 s);
//! - **exfil**: the unique subdomain bytes reach `exfil_bytes` (default 8 KiB in 60 s).
//!
//! Reverse-lookup names (`*.arpa`), names without a registrable domain under a known public
//! suffix (`.local`, `.internal`, …) and `ignore_parents` are not scored.

use super::{
    clamp_confidence, round, secs_to_micros, sid, Detection, DnsTunnelConfig, LruMap, Observation,
};
use crate::pcap::Timestamp;
use rustc_hash::{FxHashMap, FxHasher};
use serde_json::json;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

const RR_NULL: u16 = 10;
const RR_TXT: u16 = 16;
/// Longest query name echoed in the evidence.
const EXAMPLE_MAX: usize = 253;

/// Shannon entropy of `s`'s bytes, dots excluded, in bits per character (0 for empty).
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for &b in s.as_bytes() {
        if b != b'.' {
            counts[usize::from(b)] += 1;
            n += 1;
        }
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Splits a lower-case query name (no trailing dot) into (subdomain, registrable parent).
/// `None` for reverse-lookup names, public suffixes and names under unknown suffixes.
pub fn split_parent(name: &str) -> Option<(&str, &str)> {
    // Empty labels ("a..b", ".a") are not DNS names; psl would fold them into the parent.
    if name.is_empty()
        || name.starts_with('.')
        || name.contains("..")
        || name == "arpa"
        || name.ends_with(".arpa")
    {
        return None;
    }
    let domain = psl::domain(name.as_bytes())?;
    if !domain.suffix().is_known() {
        return None;
    }
    let parent_len = domain.as_bytes().len();
    let parent = name.get(name.len() - parent_len..)?;
    let sub = name
        .get(..name.len() - parent_len)?
        .strip_suffix('.')
        .unwrap_or("");
    Some((sub, parent))
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    first: i64,
    hash: u64,
    len: u16,
    max_label: u8,
    entropy: f32,
    suspicious: bool,
    txt_null: bool,
    hits: u32,
}

#[derive(Debug, Default)]
struct ParentState {
    entries: VecDeque<Entry>,
    /// Subdomain hash → absolute sequence number of its entry.
    index: FxHashMap<u64, u64>,
    /// Sequence number of `entries[0]`.
    front_seq: u64,
    unique_bytes: u64,
    suspicious: u32,
    suspicious_txt_null: u32,
    last_tunnel_alert: Option<i64>,
    last_exfil_alert: Option<i64>,
}

impl ParentState {
    fn pop_front(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.index.remove(&e.hash);
            self.front_seq += 1;
            self.unique_bytes -= u64::from(e.len);
            if e.suspicious {
                self.suspicious -= 1;
                if e.txt_null {
                    self.suspicious_txt_null -= 1;
                }
            }
        }
    }

    fn push(&mut self, e: Entry) {
        self.index
            .insert(e.hash, self.front_seq + self.entries.len() as u64);
        self.unique_bytes += u64::from(e.len);
        if e.suspicious {
            self.suspicious += 1;
            if e.txt_null {
                self.suspicious_txt_null += 1;
            }
        }
        self.entries.push_back(e);
    }
}

/// The DNS tunnelling / exfiltration model; see the module documentation.
pub struct DnsTunnelModel {
    cfg: DnsTunnelConfig,
    window: i64,
    parents: LruMap<(IpAddr, Box<str>), ParentState>,
}

impl DnsTunnelModel {
    pub fn new(cfg: DnsTunnelConfig) -> Self {
        DnsTunnelModel {
            window: secs_to_micros(cfg.window_secs),
            cfg,
            parents: LruMap::new(),
        }
    }

    pub fn tracked_parents(&self) -> usize {
        self.parents.len()
    }

    pub fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Detection>) {
        let Observation::DnsQuery {
            ts,
            src,
            name,
            rrtype,
        } = *obs
        else {
            return;
        };
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        let Some((sub, parent)) = split_parent(&name) else {
            return;
        };
        if self.cfg.ignore_parents.iter().any(|p| p == parent) {
            return;
        }
        let now = ts.as_micros();
        let key = (src, Box::<str>::from(parent));
        if self.parents.get_mut(&key).is_none() {
            while self.parents.len() >= self.cfg.max_parents {
                if self.parents.pop_oldest().is_none() {
                    break;
                }
            }
        }
        let cutoff = now.saturating_sub(self.window);
        let st = self
            .parents
            .touch_or_insert_with(&key, now, ParentState::default);
        while st.entries.front().is_some_and(|e| e.first < cutoff) {
            st.pop_front();
        }
        let mut h = FxHasher::default();
        sub.hash(&mut h);
        let hash = h.finish();
        if let Some(&seq) = st.index.get(&hash) {
            if let Some(e) = st.entries.get_mut((seq - st.front_seq) as usize) {
                e.hits = e.hits.saturating_add(1);
            }
            return;
        }
        let chars = sub.bytes().filter(|&b| b != b'.').count();
        let entropy = shannon_entropy(sub);
        let cfg = &self.cfg;
        let entry = Entry {
            first: now,
            hash,
            len: u16::try_from(sub.len()).unwrap_or(u16::MAX),
            max_label: sub.split('.').map(str::len).max().unwrap_or(0).min(255) as u8,
            entropy: entropy as f32,
            suspicious: chars >= cfg.min_subdomain_len && entropy >= cfg.min_entropy,
            txt_null: rrtype == RR_TXT || rrtype == RR_NULL,
            hits: 1,
        };
        if st.entries.len() >= cfg.max_subdomains_per_parent {
            st.pop_front();
        }
        st.push(entry);

        let score = f64::from(st.suspicious - st.suspicious_txt_null)
            + f64::from(st.suspicious_txt_null) * cfg.txt_null_weight;
        let tunnel = score >= cfg.tunnel_threshold
            && st
                .last_tunnel_alert
                .is_none_or(|at| now - at >= self.window);
        let exfil = st.unique_bytes >= cfg.exfil_bytes
            && st.last_exfil_alert.is_none_or(|at| now - at >= self.window);
        if !tunnel && !exfil {
            return;
        }

        let n = st.entries.len().max(1) as f64;
        let queries: u64 = st.entries.iter().map(|e| u64::from(e.hits)).sum();
        let txt_null = st.entries.iter().filter(|e| e.txt_null).count();
        let max_label = st.entries.iter().map(|e| e.max_label).max().unwrap_or(0);
        let susp: Vec<&Entry> = st.entries.iter().filter(|e| e.suspicious).collect();
        let mean_entropy = if susp.is_empty() {
            0.0
        } else {
            susp.iter().map(|e| f64::from(e.entropy)).sum::<f64>() / susp.len() as f64
        };
        let example: String = name.chars().take(EXAMPLE_MAX).collect();
        let evidence = |variant: &str, threshold: f64| {
            json!({
                "variant": variant,
                "parent": parent,
                "window_secs": cfg.window_secs,
                "queries": queries,
                "unique_subdomains": st.entries.len(),
                "suspicious_subdomains": st.suspicious,
                "txt_null_queries": txt_null,
                "score": round(score, 2),
                "unique_subdomain_bytes": st.unique_bytes,
                "max_label_len": max_label,
                "mean_entropy": round(mean_entropy, 3),
                "threshold": threshold,
                "example": example,
            })
        };
        let suspicious_share = susp.len() as f64 / n;
        if tunnel {
            st.last_tunnel_alert = Some(now);
            let confidence = clamp_confidence(
                55.0 + 25.0 * (score / cfg.tunnel_threshold - 1.0).clamp(0.0, 1.0)
                    + 20.0 * (mean_entropy - cfg.min_entropy).clamp(0.0, 1.0),
            );
            out.push(detection(
                ts,
                src,
                "VIGIL MODEL DNS tunnelling: many long high-entropy subdomains under one domain",
                sid::DNS_TUNNEL,
                confidence,
                vec!["T1071.004"],
                evidence("tunnel", cfg.tunnel_threshold),
            ));
        }
        if exfil {
            st.last_exfil_alert = Some(now);
            let excess = st.unique_bytes as f64 / cfg.exfil_bytes as f64 - 1.0;
            let confidence =
                clamp_confidence(45.0 + 25.0 * excess.clamp(0.0, 1.0) + 30.0 * suspicious_share);
            out.push(detection(
                ts,
                src,
                "VIGIL MODEL DNS exfiltration: large volume of unique subdomain data",
                sid::DNS_EXFIL,
                confidence,
                vec!["T1048", "T1071.004"],
                evidence("exfil", cfg.exfil_bytes as f64),
            ));
        }
    }

    pub fn tick(&mut self, now: i64, _out: &mut Vec<Detection>) {
        let cutoff = now.saturating_sub(self.window);
        self.parents.evict_before(cutoff, |_, _| {});
    }
}

fn detection(
    ts: Timestamp,
    src: IpAddr,
    signature: &str,
    signature_id: u32,
    confidence: u8,
    attack: Vec<&'static str>,
    evidence: serde_json::Value,
) -> Detection {
    Detection {
        model: "dns-tunnel",
        ts,
        src,
        dst: None,
        dst_port: None,
        signature: signature.to_string(),
        signature_id,
        severity: if confidence >= 90 { 1 } else { 2 },
        confidence,
        attack,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testgen::{self, evaluate_hosts, DnsKind};
    use super::super::{Models, ModelsConfig};
    use super::*;
    use proptest::prelude::*;

    fn query(t_ms: i64, name: &str, rrtype: u16) -> Observation<'_> {
        Observation::DnsQuery {
            ts: Timestamp::from_micros(t_ms * 1_000),
            src: "10.0.0.3".parse().unwrap(),
            name,
            rrtype,
        }
    }

    #[test]
    fn parent_is_the_registrable_domain() {
        assert_eq!(
            split_parent("a.b.example.com"),
            Some(("a.b", "example.com"))
        );
        assert_eq!(
            split_parent("x.example.co.uk"),
            Some(("x", "example.co.uk"))
        );
        assert_eq!(split_parent("example.com"), Some(("", "example.com")));
        assert_eq!(split_parent("4.3.2.1.in-addr.arpa"), None);
        assert_eq!(split_parent("b.a.ip6.arpa"), None);
        assert_eq!(split_parent("co.uk"), None);
        assert_eq!(split_parent("..la"), None);
        assert_eq!(split_parent("a..example.com"), None);
        assert_eq!(split_parent("printer.corp.internal-nonexistent"), None);
    }

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-12);
        assert!((shannon_entropy("ab.cd") - 2.0).abs() < 1e-12);
    }

    #[test]
    fn hex_chunks_under_one_domain_are_a_tunnel_alerted_once() {
        let mut m = DnsTunnelModel::new(DnsTunnelConfig::default());
        let names: Vec<String> = (0..120u64)
            .map(|i| {
                let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5555_aaaa_1234;
                format!(
                    "{:016x}{:016x}.{:08x}.t.badtunnel.net",
                    x,
                    x.rotate_left(17),
                    i
                )
            })
            .collect();
        let mut out = Vec::new();
        for (i, n) in names.iter().enumerate() {
            m.observe(&query(i as i64 * 400, n, RR_TXT), &mut out);
        }
        let tunnel: Vec<_> = out
            .iter()
            .filter(|d| d.signature_id == sid::DNS_TUNNEL)
            .collect();
        assert_eq!(tunnel.len(), 1, "{out:?}");
        let d = tunnel[0];
        assert_eq!(d.model, "dns-tunnel");
        assert_eq!(d.attack, vec!["T1071.004"]);
        assert_eq!(d.evidence["parent"], "badtunnel.net");
        // TXT queries weigh 2: the 20th unique subdomain completes the evidence.
        assert_eq!(d.evidence["suspicious_subdomains"], 20);
    }

    #[test]
    fn large_unique_volume_is_exfiltration() {
        let mut m = DnsTunnelModel::new(DnsTunnelConfig::default());
        let mut out = Vec::new();
        // Low-entropy but long and unique: exfil by volume only.
        let names: Vec<String> = (0..400)
            .map(|i| format!("aaaa{i:06}bbbbbbbbbbbbbbbbbbbbbbbbbb.exfil.example.org"))
            .collect();
        for (i, n) in names.iter().enumerate() {
            m.observe(&query(i as i64 * 100, n, 1), &mut out);
        }
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].signature_id, sid::DNS_EXFIL);
        assert_eq!(out[0].attack, vec!["T1048", "T1071.004"]);
        assert!(out[0].evidence["unique_subdomain_bytes"].as_u64().unwrap() >= 8192);
    }

    #[test]
    fn repeated_names_cdn_shards_dmarc_and_ptr_stay_quiet() {
        let mut m = DnsTunnelModel::new(DnsTunnelConfig::default());
        let mut out = Vec::new();
        let mut names = Vec::new();
        for i in 0..200 {
            names.push("www.example.com".to_string());
            names.push(format!("e{}.dscb.akamaiedge.net", 1000 + i));
            names.push(format!("r{}---sn-4g5e6nz{}.googlevideo.com", i % 9, i % 7));
            names.push(format!("{}.{}.10.10.in-addr.arpa", i % 250, i / 250));
            names.push(format!("_dmarc.mail{i}.example.org"));
            names.push(format!("d{i:03}x7f2k9q.cloudfront.net"));
        }
        for (i, n) in names.iter().enumerate() {
            m.observe(&query(i as i64 * 50, n, 1), &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn ignore_parents_are_not_scored() {
        let cfg = DnsTunnelConfig {
            ignore_parents: vec!["badtunnel.net".into()],
            ..DnsTunnelConfig::default()
        };
        let mut m = DnsTunnelModel::new(cfg);
        let mut out = Vec::new();
        for i in 0..500u64 {
            let n = format!(
                "{:032x}.badtunnel.net",
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            );
            m.observe(&query(i as i64, &n, RR_TXT), &mut out);
        }
        assert!(out.is_empty());
        assert_eq!(m.tracked_parents(), 0);
    }

    #[test]
    fn generated_traffic_precision_and_recall() {
        let mut rows = Vec::new();
        for kind in [DnsKind::Tunnel, DnsKind::Exfil, DnsKind::SlowTunnel] {
            let (mut tp, mut fp, mut fn_) = (0, 0, 0);
            for seed in 0..20 {
                let stream = testgen::dns_stream(seed, kind);
                let mut models = Models::new(&ModelsConfig::default()).unwrap();
                let out = stream.run(&mut models);
                let r = evaluate_hosts(&stream, &out, "dns-tunnel");
                tp += r.0;
                fp += r.1;
                fn_ += r.2;
            }
            rows.push(testgen::report("dns-tunnel", kind.name(), tp, fp, fn_));
        }
        for r in &rows {
            println!("{r}");
        }
        for r in &rows {
            assert!(r.precision() >= 0.99, "{r}");
        }
        assert!(rows[0].recall() >= 0.99, "{}", rows[0]);
        assert!(rows[1].recall() >= 0.99, "{}", rows[1]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Any name: splitting never panics and the parts rebuild the name.
        #[test]
        fn split_parent_never_panics_and_rebuilds_the_name(name in "[a-z0-9._-]{0,80}") {
            if let Some((sub, parent)) = split_parent(&name) {
                let rebuilt = if sub.is_empty() { parent.to_string() } else { format!("{sub}.{parent}") };
                prop_assert_eq!(rebuilt, name);
            }
        }

        /// Entropy lies between 0 and log2 of the number of characters.
        #[test]
        fn entropy_is_bounded(s in "\\PC{0,100}") {
            let e = shannon_entropy(&s);
            let n = s.bytes().filter(|&b| b != b'.').count();
            prop_assert!(e >= 0.0);
            prop_assert!(e <= (n.max(1) as f64).log2() + 1e-9);
        }

        /// State stays within the caps and alerts are once per (source, parent, variant)
        /// per window.
        #[test]
        fn state_is_capped_and_alerts_rate_limited(
            qs in proptest::collection::vec((0u8..3, 0u8..5, any::<u64>(), 0u16..20), 1..800)
        ) {
            let cfg = DnsTunnelConfig {
                max_parents: 16,
                max_subdomains_per_parent: 30,
                tunnel_threshold: 5.0,
                exfil_bytes: 300,
                min_subdomain_len: 10,
                ..DnsTunnelConfig::default()
            };
            let mut m = DnsTunnelModel::new(cfg);
            let mut out = Vec::new();
            for (i, &(s, p, r, t)) in qs.iter().enumerate() {
                let name = format!("{r:x}{:x}.p{p}.com", r.rotate_left(13));
                let obs = Observation::DnsQuery {
                    ts: Timestamp::from_micros(i as i64 * 200_000),
                    src: IpAddr::from([10, 0, 0, s]),
                    name: &name,
                    rrtype: t,
                };
                m.observe(&obs, &mut out);
                prop_assert!(m.tracked_parents() <= 16);
                for (_, st) in m.parents.values() {
                    prop_assert!(st.entries.len() <= 30);
                }
            }
            let mut last: FxHashMap<(IpAddr, String, u32), i64> = FxHashMap::default();
            for d in &out {
                let k = (d.src, d.evidence["parent"].as_str().unwrap().to_string(), d.signature_id);
                let t = d.ts.as_micros();
                if let Some(prev) = last.insert(k, t) {
                    prop_assert!(t - prev >= m.window);
                }
            }
        }
    }
}
