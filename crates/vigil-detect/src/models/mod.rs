//! Behaviour models: threat detections that are not indicator lists.
//!
//! - [`scan`]: port and host scans (distinct destinations or ports per source in a window);
//! - [`beacon`]: beaconing (periodic connections with low jitter);
//! - [`dns_tunnel`]: DNS tunnelling and exfiltration (long high-entropy subdomains, volume);
//! - [`dga`]: DGA-like names (character trigram model trained from top-site lists).
//!
//! Every model is a pure, deterministic state machine over plain [`Observation`]s. Time is
//! the observations' capture timestamps (and the `now` given to [`Models::tick`]), never the
//! wall clock, so the same input always yields the same [`Detection`]s in the same order.
//! State is bounded by the caps in [`ModelsConfig`]: when a cap is reached the entry idle the
//! longest (oldest timestamp, ties broken by arrival order) is dropped.
//!
//! Each model alerts at most once per (source, subject) per window, and every detection
//! carries severity (1 high … 4 informational, as in Suricata), a confidence 0–100, the
//! ATT&CK techniques the behaviour indicates, and small evidence with a fixed key order.

pub mod beacon;
pub mod config;
pub mod dga;
pub mod dns_tunnel;
pub mod scan;

pub use config::{BeaconConfig, DgaConfig, DnsTunnelConfig, ModelsConfig, ScanConfig};
pub use dga::{registrable_label, train_dga, DgaModel};

use crate::pcap::Timestamp;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::path::PathBuf;

/// Signature ids of the models, in Vigil's reserved range 2 100 000 001 ….
pub mod sid {
    pub const SCAN_VERTICAL: u32 = 2_100_000_001;
    pub const SCAN_HORIZONTAL: u32 = 2_100_000_002;
    pub const BEACON: u32 = 2_100_000_003;
    pub const DNS_TUNNEL: u32 = 2_100_000_004;
    pub const DNS_EXFIL: u32 = 2_100_000_005;
    pub const DGA: u32 = 2_100_000_006;
}

/// What the engine tells the models. Addresses are the flow initiator (`src`) and responder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation<'a> {
    /// First packet of a new flow (once per flow, in capture order).
    FlowStart {
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        dst_port: u16,
        proto: u8,
    },
    /// A flow ended (timeout or shutdown), with its packet and byte counts both ways.
    FlowEnd {
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        dst_port: u16,
        proto: u8,
        pkts_toserver: u64,
        pkts_toclient: u64,
        bytes_toserver: u64,
        bytes_toclient: u64,
    },
    /// A DNS query name seen in a request.
    DnsQuery {
        ts: Timestamp,
        src: IpAddr,
        name: &'a str,
        rrtype: u16,
    },
}

impl Observation<'_> {
    pub fn ts(&self) -> Timestamp {
        match self {
            Observation::FlowStart { ts, .. }
            | Observation::FlowEnd { ts, .. }
            | Observation::DnsQuery { ts, .. } => *ts,
        }
    }
}

/// One alert from a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// `"scan"`, `"beacon"`, `"dns-tunnel"` or `"dga"`.
    pub model: &'static str,
    /// Capture time of the observation that completed the evidence.
    pub ts: Timestamp,
    pub src: IpAddr,
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
    pub signature: String,
    /// Fixed per model and variant, see [`sid`].
    pub signature_id: u32,
    /// 1 (high) … 4 (informational).
    pub severity: u8,
    /// 0–100.
    pub confidence: u8,
    /// ATT&CK technique ids.
    pub attack: Vec<&'static str>,
    /// Small, with a deterministic key order.
    pub evidence: serde_json::Value,
}

impl Detection {
    /// The `vigil` object of the EVE alert: `{"model": …, "evidence": {…}}`.
    pub fn vigil_json(&self) -> serde_json::Value {
        serde_json::json!({ "model": self.model, "evidence": self.evidence })
    }
}

/// Errors of model configuration, model files and model training.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model config {path}: {source}")]
    ConfigIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid model config {}: key `{key}`: {message}", location(file, *line, *col))]
    ConfigSyntax {
        file: String,
        line: Option<usize>,
        col: Option<usize>,
        key: String,
        message: String,
    },
    #[error("invalid model config {file}: key `{key}`: expected {expected}, got {got}")]
    ConfigValue {
        file: String,
        key: String,
        expected: String,
        got: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid DGA model {name}: {reason}")]
    DgaModel { name: String, reason: String },
    #[error("invalid warninglist {path}: {reason}")]
    Warninglist { path: PathBuf, reason: String },
}

fn location(file: &str, line: Option<usize>, col: Option<usize>) -> String {
    match (line, col) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        _ => file.to_string(),
    }
}

/// All enabled models behind one `observe`/`tick` interface.
pub struct Models {
    scan: Option<scan::ScanModel>,
    beacon: Option<beacon::BeaconModel>,
    dns_tunnel: Option<dns_tunnel::DnsTunnelModel>,
    dga: Option<dga::DgaDetector>,
}

impl Models {
    /// Builds the enabled models; loads the DGA model from `cfg.dga.model_path` or the
    /// embedded default.
    pub fn new(cfg: &ModelsConfig) -> Result<Models, ModelError> {
        cfg.validate("(in memory)")?;
        let dga = if cfg.dga.enabled {
            let model = match &cfg.dga.model_path {
                Some(path) => DgaModel::from_file(path)?,
                None => DgaModel::embedded()?,
            };
            Some(dga::DgaDetector::new(cfg.dga.clone(), model))
        } else {
            None
        };
        Ok(Models {
            scan: cfg
                .scan
                .enabled
                .then(|| scan::ScanModel::new(cfg.scan.clone())),
            beacon: cfg
                .beacon
                .enabled
                .then(|| beacon::BeaconModel::new(cfg.beacon.clone())),
            dns_tunnel: cfg
                .dns_tunnel
                .enabled
                .then(|| dns_tunnel::DnsTunnelModel::new(cfg.dns_tunnel.clone())),
            dga,
        })
    }

    /// Feeds one observation to every interested model; detections are appended to `out`.
    pub fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Detection>) {
        match obs {
            Observation::FlowStart { .. } | Observation::FlowEnd { .. } => {
                if let Some(m) = self.scan.as_mut() {
                    m.observe(obs, out);
                }
                if let Some(m) = self.beacon.as_mut() {
                    m.observe(obs, out);
                }
            }
            Observation::DnsQuery { .. } => {
                if let Some(m) = self.dns_tunnel.as_mut() {
                    m.observe(obs, out);
                }
                if let Some(m) = self.dga.as_mut() {
                    m.observe(obs, out);
                }
            }
        }
    }

    /// Advances capture time: drops state that has left every window. Call periodically with
    /// the capture time and at the end; it never un-does or repeats an alert.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Detection>) {
        let now = now.as_micros();
        if let Some(m) = self.scan.as_mut() {
            m.tick(now, out);
        }
        if let Some(m) = self.beacon.as_mut() {
            m.tick(now, out);
        }
        if let Some(m) = self.dns_tunnel.as_mut() {
            m.tick(now, out);
        }
        if let Some(m) = self.dga.as_mut() {
            m.tick(now, out);
        }
    }

    /// End of input (`now` = last packet time). All models decide on observation, so this is
    /// a final [`Models::tick`]; it exists so that a model that scores at window end can be
    /// added without changing callers.
    pub fn finish(&mut self, now: Timestamp, out: &mut Vec<Detection>) {
        self.tick(now, out);
    }

    /// Entries held by each model (for tests and stats): scan pairs, beacon series, DNS
    /// parents, DGA sources.
    pub fn state_sizes(&self) -> [usize; 4] {
        [
            self.scan.as_ref().map_or(0, |m| m.tracked_pairs()),
            self.beacon.as_ref().map_or(0, |m| m.tracked_series()),
            self.dns_tunnel.as_ref().map_or(0, |m| m.tracked_parents()),
            self.dga.as_ref().map_or(0, |m| m.tracked_sources()),
        ]
    }
}

const MICROS: i64 = 1_000_000;

fn secs_to_micros(secs: u64) -> i64 {
    i64::try_from(secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(MICROS)
}

fn secs_f64_to_micros(secs: f64) -> i64 {
    // Config validation keeps these finite and non-negative; `as` saturates regardless.
    (secs * MICROS as f64).round() as i64
}

/// Rounds for evidence, so that printed numbers stay short.
fn round(v: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

fn clamp_confidence(v: f64) -> u8 {
    if v.is_nan() {
        return 0;
    }
    v.round().clamp(0.0, 100.0) as u8
}

/// A map whose entries are ordered by last use (capture time, then arrival), for
/// deterministic idle eviction and oldest-first capping.
struct LruMap<K, V> {
    map: FxHashMap<K, (V, (i64, u64))>,
    order: BTreeMap<(i64, u64), K>,
    seq: u64,
}

impl<K: Hash + Eq + Clone, V> LruMap<K, V> {
    fn new() -> Self {
        LruMap {
            map: FxHashMap::default(),
            order: BTreeMap::new(),
            seq: 0,
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        self.map.get_mut(k).map(|(v, _)| v)
    }

    /// Marks `k` used at `ts` (never moving it back in time) and returns it, inserting
    /// `make()` if absent. Does not enforce a cap; see [`LruMap::pop_oldest`].
    fn touch_or_insert_with(&mut self, k: &K, ts: i64, make: impl FnOnce() -> V) -> &mut V {
        self.seq += 1;
        let seq = self.seq;
        match self.map.get_mut(k) {
            Some((_, stamp)) => {
                self.order.remove(stamp);
                *stamp = (stamp.0.max(ts), seq);
                self.order.insert(*stamp, k.clone());
            }
            None => {
                self.map.insert(k.clone(), (make(), (ts, seq)));
                self.order.insert((ts, seq), k.clone());
            }
        }
        &mut self.map.get_mut(k).expect("inserted above").0
    }

    /// Removes and returns the least recently used entry.
    fn pop_oldest(&mut self) -> Option<(K, V)> {
        let (_, k) = self.order.pop_first()?;
        let (v, _) = self.map.remove(&k)?;
        Some((k, v))
    }

    /// The least recently used entry's last-use time.
    fn oldest_ts(&self) -> Option<i64> {
        self.order.first_key_value().map(|((ts, _), _)| *ts)
    }

    /// Removes entries last used before `cutoff`, oldest first.
    fn evict_before(&mut self, cutoff: i64, mut on_evict: impl FnMut(K, V)) {
        while self.oldest_ts().is_some_and(|ts| ts < cutoff) {
            if let Some((k, v)) = self.pop_oldest() {
                on_evict(k, v);
            }
        }
    }

    fn values(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, v))
    }
}

/// Generated observation streams for the models' tests: benign browsing and background
/// traffic with deterministic pseudo-randomness, plus each model's behaviour.
#[cfg(test)]
pub(crate) mod testgen;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_map_evicts_by_time_then_arrival() {
        let mut m: LruMap<u32, &str> = LruMap::new();
        m.touch_or_insert_with(&1, 10, || "a");
        m.touch_or_insert_with(&2, 10, || "b");
        m.touch_or_insert_with(&3, 5, || "c");
        assert_eq!(m.pop_oldest(), Some((3, "c")));
        // Touching at an older time keeps the newer stamp but refreshes arrival order.
        m.touch_or_insert_with(&1, 0, || unreachable!());
        assert_eq!(m.pop_oldest(), Some((2, "b")));
        let mut evicted = Vec::new();
        m.evict_before(11, |k, _| evicted.push(k));
        assert_eq!(evicted, vec![1]);
        assert_eq!(m.len(), 0);
    }

    #[test]
    fn disabled_models_produce_nothing_and_hold_nothing() {
        let mut cfg = ModelsConfig::default();
        cfg.scan.enabled = false;
        cfg.beacon.enabled = false;
        cfg.dns_tunnel.enabled = false;
        cfg.dga.enabled = false;
        let mut models = Models::new(&cfg).unwrap();
        let mut out = Vec::new();
        let stream = testgen::scan_stream(1, testgen::ScanKind::Vertical);
        for obs in &stream.observations {
            models.observe(&obs.as_observation(), &mut out);
        }
        assert!(out.is_empty());
        assert_eq!(models.state_sizes(), [0, 0, 0, 0]);
    }

    #[test]
    fn same_input_gives_the_same_detections() {
        for stream in [
            testgen::scan_stream(3, testgen::ScanKind::Horizontal),
            testgen::dns_stream(3, testgen::DnsKind::Tunnel),
            testgen::dga_stream(3, testgen::DgaKind::Ramnit, &[]),
        ] {
            let cfg = ModelsConfig::default();
            let a = stream.run(&mut Models::new(&cfg).unwrap());
            let b = stream.run(&mut Models::new(&cfg).unwrap());
            assert!(!a.is_empty());
            assert_eq!(a, b);
            let json_a: Vec<String> = a.iter().map(|d| d.vigil_json().to_string()).collect();
            let json_b: Vec<String> = b.iter().map(|d| d.vigil_json().to_string()).collect();
            assert_eq!(json_a, json_b);
        }
    }

    #[test]
    fn every_detection_carries_severity_confidence_and_attack() {
        let stream = testgen::dns_stream(5, testgen::DnsKind::Exfil);
        let out = stream.run(&mut Models::new(&ModelsConfig::default()).unwrap());
        assert!(!out.is_empty());
        for d in &out {
            assert!((1..=4).contains(&d.severity), "{d:?}");
            assert!(d.confidence <= 100);
            assert!(!d.attack.is_empty());
            assert!((sid::SCAN_VERTICAL..=sid::DGA).contains(&d.signature_id));
            assert!(d.evidence.is_object());
        }
    }

    #[test]
    fn detection_vigil_object_has_model_and_evidence() {
        let d = Detection {
            model: "scan",
            ts: Timestamp::default(),
            src: "10.0.0.1".parse().unwrap(),
            dst: None,
            dst_port: None,
            signature: "x".into(),
            signature_id: sid::SCAN_VERTICAL,
            severity: 3,
            confidence: 50,
            attack: vec!["T1046"],
            evidence: serde_json::json!({"a": 1}),
        };
        assert_eq!(
            d.vigil_json(),
            serde_json::json!({"model": "scan", "evidence": {"a": 1}})
        );
    }
}
