//! Port and host scans: distinct (destination, port) pairs per source in a sliding window.
//!
//! Problem: decide, per source, whether the destinations and ports it tried within the last
//! `window_secs` look like reconnaissance, without flagging a browser that opens thirty TLS
//! connections to fifteen CDNs in a minute.
//!
//! Each distinct (destination, port, protocol) pair a source tried is one *pair* with an
//! outcome: *failed* when its flow ended unanswered (no packet back) or, for TCP, rejected
//! (at most one packet back: a RST, or a SYN/ACK the scanner reset); *unconfirmed* while the
//! flow is still open or when it was answered. A subject's score is
//! `failed × failed_weight + unconfirmed × unconfirmed_weight`:
//! - **vertical** scan: the pairs on one destination (distinct ports on one host);
//! - **horizontal** scan: the pairs on one (port, protocol) (distinct hosts on one port).
//!
//! With the defaults (1.0 and 0.1, threshold 25) a scan needs 25 failed pairs, or 250 pairs
//! that were answered or are still open — ordinary browsing reaches neither. A pair counts
//! from its last activity (start or end), so unanswered attempts, which end when the engine
//! times their flow out, are counted at the time their failure is known, as Zeek's scan
//! detector does.

use super::{
    clamp_confidence, round, secs_to_micros, sid, Detection, LruMap, Observation, ScanConfig,
};
use crate::pcap::Timestamp;
use rustc_hash::FxHashMap;
use serde_json::json;
use std::net::IpAddr;

const TCP: u8 = 6;
/// Destinations or ports listed in the evidence.
const EVIDENCE_SAMPLE: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PairKey {
    dst: IpAddr,
    port: u16,
    proto: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Open,
    Failed,
    Answered,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    failed: u32,
    unconfirmed: u32,
}

impl Tally {
    fn add(&mut self, outcome: Outcome, delta: i32) {
        let slot = if outcome == Outcome::Failed {
            &mut self.failed
        } else {
            &mut self.unconfirmed
        };
        *slot = slot.saturating_add_signed(delta);
    }

    fn is_empty(&self) -> bool {
        self.failed == 0 && self.unconfirmed == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Subject {
    Host(IpAddr),
    Port(u16, u8),
}

struct SourceState {
    pairs: LruMap<PairKey, Outcome>,
    by_host: FxHashMap<IpAddr, Tally>,
    by_port: FxHashMap<(u16, u8), Tally>,
    /// Last alert time per subject; entries leave once a window has passed.
    alerted: FxHashMap<Subject, i64>,
}

impl SourceState {
    fn new() -> Self {
        SourceState {
            pairs: LruMap::new(),
            by_host: FxHashMap::default(),
            by_port: FxHashMap::default(),
            alerted: FxHashMap::default(),
        }
    }

    fn account(&mut self, key: PairKey, outcome: Outcome, delta: i32) {
        let host = self.by_host.entry(key.dst).or_default();
        host.add(outcome, delta);
        if host.is_empty() {
            self.by_host.remove(&key.dst);
        }
        let port = self.by_port.entry((key.port, key.proto)).or_default();
        port.add(outcome, delta);
        if port.is_empty() {
            self.by_port.remove(&(key.port, key.proto));
        }
    }

    fn expire(&mut self, cutoff: i64) {
        let mut gone = Vec::new();
        self.pairs.evict_before(cutoff, |k, o| gone.push((k, o)));
        for (k, o) in gone {
            self.account(k, o, -1);
        }
        self.alerted.retain(|_, at| *at >= cutoff);
    }
}

/// The scan model; see the module documentation.
pub struct ScanModel {
    cfg: ScanConfig,
    window: i64,
    sources: LruMap<IpAddr, SourceState>,
    pairs: usize,
}

impl ScanModel {
    pub fn new(cfg: ScanConfig) -> Self {
        ScanModel {
            window: secs_to_micros(cfg.window_secs),
            cfg,
            sources: LruMap::new(),
            pairs: 0,
        }
    }

    /// Pairs held over all sources.
    pub fn tracked_pairs(&self) -> usize {
        self.pairs
    }

    pub fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Detection>) {
        let (ts, src, key, outcome) = match *obs {
            Observation::FlowStart {
                ts,
                src,
                dst,
                dst_port,
                proto,
            } => (
                ts,
                src,
                PairKey {
                    dst,
                    port: dst_port,
                    proto,
                },
                None,
            ),
            Observation::FlowEnd {
                ts,
                src,
                dst,
                dst_port,
                proto,
                pkts_toserver: _,
                pkts_toclient,
                ..
            } => {
                // A TCP peer that sends at most one packet back (RST, or a SYN/ACK that the
                // scanner resets) never held a conversation.
                let failed = pkts_toclient == 0 || (proto == TCP && pkts_toclient <= 1);
                let outcome = if failed {
                    Outcome::Failed
                } else {
                    Outcome::Answered
                };
                let key = PairKey {
                    dst,
                    port: dst_port,
                    proto,
                };
                (ts, src, key, Some(outcome))
            }
            Observation::DnsQuery { .. } => return,
        };
        let now = ts.as_micros();
        let cutoff = now.saturating_sub(self.window);

        if self.sources.get_mut(&src).is_none() {
            while self.sources.len() >= self.cfg.max_sources {
                match self.sources.pop_oldest() {
                    Some((_, s)) => self.pairs -= s.pairs.len(),
                    None => break,
                }
            }
        }
        let state = self
            .sources
            .touch_or_insert_with(&src, now, SourceState::new);
        let before = state.pairs.len();
        state.expire(cutoff);

        let previous = state.pairs.get_mut(&key).map(|o| *o);
        let next = match (previous, outcome) {
            (Some(Outcome::Answered), _) => Outcome::Answered,
            (_, Some(o)) => o,
            (Some(p), None) => p,
            (None, None) => Outcome::Open,
        };
        if previous.is_none() {
            while state.pairs.len() >= self.cfg.max_pairs_per_source {
                match state.pairs.pop_oldest() {
                    Some((k, o)) => state.account(k, o, -1),
                    None => break,
                }
            }
        }
        *state.pairs.touch_or_insert_with(&key, now, || next) = next;
        if let Some(p) = previous {
            state.account(key, p, -1);
        }
        state.account(key, next, 1);
        self.pairs = self.pairs + state.pairs.len() - before;

        for subject in [Subject::Host(key.dst), Subject::Port(key.port, key.proto)] {
            if let Some(d) = self.evaluate(src, subject, ts) {
                out.push(d);
            }
        }
    }

    pub fn tick(&mut self, now: i64, _out: &mut Vec<Detection>) {
        let cutoff = now.saturating_sub(self.window);
        let mut dropped = 0;
        self.sources
            .evict_before(cutoff, |_, s| dropped += s.pairs.len());
        self.pairs -= dropped;
    }

    fn evaluate(&mut self, src: IpAddr, subject: Subject, ts: Timestamp) -> Option<Detection> {
        let cfg = &self.cfg;
        let state = self.sources.get_mut(&src)?;
        let (tally, threshold) = match subject {
            Subject::Host(h) => (*state.by_host.get(&h)?, cfg.vertical_threshold),
            Subject::Port(p, pr) => (*state.by_port.get(&(p, pr))?, cfg.horizontal_threshold),
        };
        let score = f64::from(tally.failed) * cfg.failed_weight
            + f64::from(tally.unconfirmed) * cfg.unconfirmed_weight;
        if score < threshold || state.alerted.contains_key(&subject) {
            return None;
        }
        let now = ts.as_micros();
        state.alerted.insert(subject, now);

        let distinct = tally.failed + tally.unconfirmed;
        let failed_ratio = f64::from(tally.failed) / f64::from(distinct.max(1));
        let excess = (score / threshold - 1.0).clamp(0.0, 1.0);
        let confidence = clamp_confidence(40.0 + 40.0 * failed_ratio + 20.0 * excess);
        let severity = if confidence >= 80 { 2 } else { 3 };
        let common = |variant: &str| {
            json!({
                "variant": variant,
                "window_secs": cfg.window_secs,
                "failed": tally.failed,
                "unconfirmed": tally.unconfirmed,
                "score": round(score, 2),
                "threshold": threshold,
            })
        };
        let d = match subject {
            Subject::Host(host) => {
                let mut ports: Vec<(u16, u8)> = state
                    .pairs
                    .values()
                    .filter(|(k, _)| k.dst == host)
                    .map(|(k, _)| (k.port, k.proto))
                    .collect();
                ports.sort_unstable();
                ports.truncate(EVIDENCE_SAMPLE);
                let mut evidence = common("vertical");
                evidence["distinct_ports"] = json!(distinct);
                evidence["ports"] = json!(ports.iter().map(|p| p.0).collect::<Vec<_>>());
                Detection {
                    model: "scan",
                    ts,
                    src,
                    dst: Some(host),
                    dst_port: None,
                    signature: "VIGIL MODEL port scan: many ports tried on one host".into(),
                    signature_id: sid::SCAN_VERTICAL,
                    severity,
                    confidence,
                    attack: vec!["T1046"],
                    evidence,
                }
            }
            Subject::Port(port, proto) => {
                let mut hosts: Vec<IpAddr> = state
                    .pairs
                    .values()
                    .filter(|(k, _)| k.port == port && k.proto == proto)
                    .map(|(k, _)| k.dst)
                    .collect();
                hosts.sort_unstable();
                hosts.truncate(EVIDENCE_SAMPLE);
                let mut evidence = common("horizontal");
                evidence["port"] = json!(port);
                evidence["proto"] = json!(proto);
                evidence["distinct_hosts"] = json!(distinct);
                evidence["hosts"] = json!(hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>());
                Detection {
                    model: "scan",
                    ts,
                    src,
                    dst: None,
                    dst_port: Some(port),
                    signature: "VIGIL MODEL host scan: one port tried on many hosts".into(),
                    signature_id: sid::SCAN_HORIZONTAL,
                    severity,
                    confidence,
                    attack: vec!["T1046"],
                    evidence,
                }
            }
        };
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testgen::{self, evaluate_hosts, ScanKind};
    use super::super::{Models, ModelsConfig};
    use super::*;
    use proptest::prelude::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::new(s, 0)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn start(t: i64, src: &str, dst: &str, port: u16) -> Observation<'static> {
        Observation::FlowStart {
            ts: ts(t),
            src: ip(src),
            dst: ip(dst),
            dst_port: port,
            proto: TCP,
        }
    }

    fn end(t: i64, src: &str, dst: &str, port: u16, back: u64) -> Observation<'static> {
        Observation::FlowEnd {
            ts: ts(t),
            src: ip(src),
            dst: ip(dst),
            dst_port: port,
            proto: TCP,
            pkts_toserver: 1,
            pkts_toclient: back,
            bytes_toserver: 60,
            bytes_toclient: 60 * back,
        }
    }

    fn run(model: &mut ScanModel, obs: &[Observation<'_>]) -> Vec<Detection> {
        let mut out = Vec::new();
        for o in obs {
            model.observe(o, &mut out);
        }
        out
    }

    #[test]
    fn rejected_ports_on_one_host_are_a_vertical_scan_alerted_once() {
        let mut m = ScanModel::new(ScanConfig::default());
        let mut obs = Vec::new();
        for p in 1..=100u16 {
            obs.push(start(100, "10.0.0.5", "10.0.0.9", p));
            obs.push(end(101, "10.0.0.5", "10.0.0.9", p, 1));
        }
        let out = run(&mut m, &obs);
        assert_eq!(out.len(), 1, "{out:?}");
        let d = &out[0];
        assert_eq!(d.signature_id, sid::SCAN_VERTICAL);
        assert_eq!(d.dst, Some(ip("10.0.0.9")));
        assert_eq!(d.attack, vec!["T1046"]);
        assert_eq!(d.evidence["failed"], 25);
        assert_eq!(d.evidence["variant"], "vertical");
        assert!(d.confidence >= 75, "{}", d.confidence);
    }

    #[test]
    fn thirty_answered_tls_connections_to_fifteen_cdns_stay_quiet() {
        let mut m = ScanModel::new(ScanConfig::default());
        let mut obs = Vec::new();
        for i in 0..30u8 {
            let dst = format!("93.184.{}.{}", i % 15, 10 + i % 15);
            obs.push(start(i64::from(i), "192.168.1.20", &dst, 443));
        }
        for i in 0..30u8 {
            let dst = format!("93.184.{}.{}", i % 15, 10 + i % 15);
            obs.push(Observation::FlowEnd {
                ts: ts(40 + i64::from(i)),
                src: ip("192.168.1.20"),
                dst: ip(&dst),
                dst_port: 443,
                proto: TCP,
                pkts_toserver: 20,
                pkts_toclient: 30,
                bytes_toserver: 3_000,
                bytes_toclient: 40_000,
            });
        }
        assert!(run(&mut m, &obs).is_empty());
    }

    #[test]
    fn unanswered_sweep_of_one_port_is_a_horizontal_scan() {
        let mut m = ScanModel::new(ScanConfig::default());
        let mut obs = Vec::new();
        for h in 1..=40u8 {
            obs.push(start(10, "10.0.0.5", &format!("10.1.0.{h}"), 445));
        }
        // Nothing yet: 40 open attempts weigh 4.
        assert!(run(&mut m, &obs).is_empty());
        let ends: Vec<_> = (1..=40u8)
            .map(|h| end(70, "10.0.0.5", &format!("10.1.0.{h}"), 445, 0))
            .collect();
        let out = run(&mut m, &ends);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].signature_id, sid::SCAN_HORIZONTAL);
        assert_eq!(out[0].dst_port, Some(445));
        // 24 failed + 16 still-open attempts: 24 + 16 × 0.1 ≥ 25.
        assert_eq!(out[0].evidence["failed"], 24);
        assert_eq!(out[0].evidence["distinct_hosts"], 40);
        assert_eq!(out[0].evidence["hosts"][0], "10.1.0.1");
    }

    #[test]
    fn a_fast_scan_without_flow_ends_is_caught_by_volume() {
        let mut m = ScanModel::new(ScanConfig::default());
        let obs: Vec<_> = (1..=1000u16)
            .map(|p| start(5, "10.0.0.5", "10.0.0.9", p))
            .collect();
        let out = run(&mut m, &obs);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].evidence["distinct_ports"], 250);
        assert!(out[0].confidence < 70);
    }

    #[test]
    fn a_scan_alerts_again_only_after_a_window() {
        let mut m = ScanModel::new(ScanConfig::default());
        let mut alerts = Vec::new();
        // 30 new failed ports every 30 s for 2.5 minutes.
        for round in 0..5u16 {
            let t = i64::from(round) * 30;
            let obs: Vec<_> = (1..=30u16)
                .map(|p| end(t, "10.0.0.5", "10.0.0.9", round * 100 + p, 0))
                .collect();
            alerts.extend(run(&mut m, &obs).into_iter().map(|d| d.ts.secs));
        }
        // The alert at 0 s suppresses the subject until the window (60 s) has passed.
        assert_eq!(alerts, vec![0, 90]);
    }

    #[test]
    fn caps_bound_sources_and_pairs() {
        let cfg = ScanConfig {
            max_sources: 3,
            max_pairs_per_source: 10,
            ..ScanConfig::default()
        };
        let mut m = ScanModel::new(cfg);
        let mut out = Vec::new();
        for s in 0..10u8 {
            for p in 0..50u16 {
                m.observe(&start(1, &format!("10.0.0.{s}"), "10.9.9.9", p), &mut out);
            }
        }
        assert_eq!(m.sources.len(), 3);
        assert_eq!(m.tracked_pairs(), 30);
        m.tick(secs_to_micros(1_000), &mut out);
        assert_eq!(m.tracked_pairs(), 0);
        assert_eq!(m.sources.len(), 0);
    }

    #[test]
    fn generated_traffic_precision_and_recall() {
        let mut rows = Vec::new();
        for kind in [
            ScanKind::Vertical,
            ScanKind::Horizontal,
            ScanKind::SlowVertical,
        ] {
            let mut tp = 0;
            let mut fp = 0;
            let mut fn_ = 0;
            for seed in 0..20 {
                let stream = testgen::scan_stream(seed, kind);
                let mut models = Models::new(&ModelsConfig::default()).unwrap();
                let out = stream.run(&mut models);
                let r = evaluate_hosts(&stream, &out, "scan");
                tp += r.0;
                fp += r.1;
                fn_ += r.2;
            }
            rows.push(testgen::report("scan", kind.name(), tp, fp, fn_));
        }
        for r in &rows {
            println!("{r}");
        }
        for r in &rows {
            assert!(r.precision() >= 0.99 && r.recall() >= 0.95, "{r}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the traffic: one alert per (source, subject) per window, state within the
        /// caps, and the same input gives the same output.
        #[test]
        fn alerts_are_rate_limited_state_is_capped_and_output_is_deterministic(
            events in proptest::collection::vec(
                (0i64..400, 0u8..4, 0u8..40, 0u16..60, any::<bool>(), 0u64..3), 1..600)
        ) {
            // Four sources fit the source cap, so alert suppression is never forgotten by an
            // eviction; the pair cap is exercised.
            let cfg = ScanConfig {
                max_sources: 4,
                max_pairs_per_source: 50,
                vertical_threshold: 5.0,
                horizontal_threshold: 5.0,
                ..ScanConfig::default()
            };
            let mut sorted = events.clone();
            sorted.sort_by_key(|e| e.0);
            let obs: Vec<Observation<'static>> = sorted.iter().map(|&(t, s, d, p, is_end, back)| {
                let src = format!("10.0.0.{s}");
                let dst = format!("10.1.0.{d}");
                if is_end { end(t, &src, &dst, p, back) } else { start(t, &src, &dst, p) }
            }).collect();
            let mut a = ScanModel::new(cfg.clone());
            let mut b = ScanModel::new(cfg.clone());
            let out_a = run(&mut a, &obs);
            let out_b = run(&mut b, &obs);
            prop_assert_eq!(&out_a, &out_b);
            prop_assert!(a.sources.len() <= 4);
            prop_assert!(a.tracked_pairs() <= 200);
            let mut last: FxHashMap<(IpAddr, u32, Option<IpAddr>, Option<u16>), i64> =
                FxHashMap::default();
            for d in &out_a {
                let k = (d.src, d.signature_id, d.dst, d.dst_port);
                let t = d.ts.as_micros();
                if let Some(prev) = last.insert(k, t) {
                    prop_assert!(t - prev >= a.window, "{:?} twice within a window", k);
                }
            }
        }
    }
}
