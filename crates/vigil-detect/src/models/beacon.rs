//! Beaconing: periodic connections with low jitter.
//!
//! Problem: tell implant check-ins (a connection every P seconds, ± a little jitter) from the
//! irregular connections of people browsing.
//!
//! Per (source, destination, port, protocol) *series* the model keeps the newest
//! `max_samples` connection start times within `window_secs`. Starts closer than
//! `burst_merge_secs` to the previous one are one burst (browsers open parallel
//! connections), so sub-second bursts never look periodic. Once the series has
//! `min_connections` starts it is scored on its inter-arrival times:
//! - *period* = median interval, which must lie in `[min_period_secs, max_period_secs]`;
//! - *jitter* = median absolute deviation / median, which must be at most `max_jitter`;
//! - *on-beat share* = the share of intervals within `beat_tolerance × period` of one, two
//!   or three periods (a missed check-in doubles an interval), which must be at least
//!   `min_on_beat`.
//!
//! The median and MAD are robust to a few missed or extra check-ins; the on-beat share
//! keeps a handful of irregular intervals from looking periodic by chance (with ten starts,
//! an exponential series passes the MAD test alone about once in a hundred windows and
//! both tests less than once in several thousand). Uniform jitter of ±j
//! gives a jitter near j/2, so the default 0.15 accepts implants with up to about 30 %
//! jitter; exponential (Poisson-like) human intervals give about 0.6, lognormal ones more.
//! Ports that are periodic by design (DNS, DHCP, NTP, NetBIOS, SSDP, mDNS, LLMNR) and
//! multicast or broadcast destinations are never scored.

use super::{
    clamp_confidence, round, secs_f64_to_micros, secs_to_micros, sid, BeaconConfig, Detection,
    LruMap, Observation,
};
use crate::pcap::Timestamp;
use serde_json::json;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Ports on which an encrypted channel is the norm, so T1573 is reported too.
const TLS_PORTS: [u16; 9] = [443, 465, 636, 853, 989, 990, 993, 995, 8443];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SeriesKey {
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    proto: u8,
}

#[derive(Debug, Default)]
struct Series {
    /// Burst-merged start times, µs, oldest first.
    starts: VecDeque<i64>,
    last_alert: Option<i64>,
}

/// Inter-arrival statistics of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalStats {
    pub intervals: usize,
    pub median_secs: f64,
    pub mad_secs: f64,
    pub mean_secs: f64,
    /// Coefficient of variation (standard deviation / mean).
    pub cv: f64,
    /// MAD / median.
    pub jitter: f64,
    /// Share of intervals within `tolerance × median` of 1, 2 or 3 medians.
    pub on_beat: f64,
}

/// Median of a non-empty slice (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Statistics of the gaps between consecutive `starts` (µs, ascending), with the on-beat
/// share measured at `tolerance`; `None` for fewer than two starts.
pub fn interval_stats(starts: &[i64], tolerance: f64) -> Option<IntervalStats> {
    if starts.len() < 2 {
        return None;
    }
    let mut gaps: Vec<f64> = starts
        .windows(2)
        .map(|w| (w[1].saturating_sub(w[0])) as f64 / 1e6)
        .collect();
    let n = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / n;
    let var = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / n;
    let med = median(&mut gaps);
    let mut dev: Vec<f64> = gaps.iter().map(|g| (g - med).abs()).collect();
    let mad = median(&mut dev);
    let on_beat = if med > 0.0 {
        gaps.iter()
            .filter(|&&g| {
                let k = (g / med).round();
                (1.0..=3.0).contains(&k) && (g - k * med).abs() <= tolerance * med
            })
            .count() as f64
            / n
    } else {
        0.0
    };
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
    Some(IntervalStats {
        intervals: gaps.len(),
        median_secs: med,
        mad_secs: mad,
        mean_secs: mean,
        cv: ratio(var.sqrt(), mean),
        jitter: ratio(mad, med),
        on_beat,
    })
}

/// The beacon model; see the module documentation.
pub struct BeaconModel {
    cfg: BeaconConfig,
    window: i64,
    burst: i64,
    series: LruMap<SeriesKey, Series>,
}

impl BeaconModel {
    pub fn new(cfg: BeaconConfig) -> Self {
        BeaconModel {
            window: secs_to_micros(cfg.window_secs),
            burst: secs_f64_to_micros(cfg.burst_merge_secs),
            cfg,
            series: LruMap::new(),
        }
    }

    pub fn tracked_series(&self) -> usize {
        self.series.len()
    }

    pub fn observe(&mut self, obs: &Observation<'_>, out: &mut Vec<Detection>) {
        let Observation::FlowStart {
            ts,
            src,
            dst,
            dst_port,
            proto,
        } = *obs
        else {
            return;
        };
        if self.cfg.ignore_ports.contains(&dst_port) || !is_unicast(dst) || src == dst {
            return;
        }
        let now = ts.as_micros();
        let key = SeriesKey {
            src,
            dst,
            port: dst_port,
            proto,
        };
        if self.series.get_mut(&key).is_none() {
            while self.series.len() >= self.cfg.max_series {
                if self.series.pop_oldest().is_none() {
                    break;
                }
            }
        }
        let cutoff = now.saturating_sub(self.window);
        let s = self.series.touch_or_insert_with(&key, now, Series::default);
        while s.starts.front().is_some_and(|&t| t < cutoff) {
            s.starts.pop_front();
        }
        match s.starts.back() {
            // Within a burst, or out of order: the burst's first start stands for it.
            Some(&last) if now - last < self.burst.max(1) => return,
            _ => {}
        }
        s.starts.push_back(now);
        while s.starts.len() > self.cfg.max_samples {
            s.starts.pop_front();
        }
        if s.starts.len() < self.cfg.min_connections
            || s.last_alert.is_some_and(|at| now - at < self.window)
        {
            return;
        }
        let starts: Vec<i64> = s.starts.iter().copied().collect();
        let Some(st) = interval_stats(&starts, self.cfg.beat_tolerance) else {
            return;
        };
        let cfg = &self.cfg;
        if st.median_secs < cfg.min_period_secs
            || st.median_secs > cfg.max_period_secs
            || st.jitter > cfg.max_jitter
            || st.on_beat < cfg.min_on_beat
        {
            return;
        }
        s.last_alert = Some(now);

        let regularity = 1.0 - st.jitter / cfg.max_jitter;
        let extra = (starts.len() - cfg.min_connections) as f64 / cfg.min_connections as f64;
        let confidence = clamp_confidence(50.0 + 30.0 * regularity + 20.0 * extra.min(1.0));
        let severity = if confidence >= 80 { 2 } else { 3 };
        let mut attack = vec!["T1071"];
        if TLS_PORTS.contains(&dst_port) {
            attack.push("T1573");
        }
        let span = (starts[starts.len() - 1] - starts[0]) as f64 / 1e6;
        out.push(Detection {
            model: "beacon",
            ts,
            src,
            dst: Some(dst),
            dst_port: Some(dst_port),
            signature: "VIGIL MODEL beaconing: periodic connections with low jitter".into(),
            signature_id: sid::BEACON,
            severity,
            confidence,
            attack,
            evidence: json!({
                "connections": starts.len(),
                "period_secs": round(st.median_secs, 3),
                "mean_interval_secs": round(st.mean_secs, 3),
                "jitter": round(st.jitter, 4),
                "on_beat": round(st.on_beat, 3),
                "cv": round(st.cv, 4),
                "span_secs": round(span, 3),
                "proto": proto,
                "first_seen": Timestamp::from_micros(starts[0]).as_secs_f64(),
                "window_secs": cfg.window_secs,
            }),
        });
    }

    pub fn tick(&mut self, now: i64, _out: &mut Vec<Detection>) {
        let cutoff = now.saturating_sub(self.window);
        self.series.evict_before(cutoff, |_, _| {});
    }
}

fn is_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testgen::{self, evaluate_hosts, BeaconKind};
    use super::super::{Models, ModelsConfig};
    use super::*;
    use proptest::prelude::*;

    fn start_at(us: i64, dst: &str, port: u16) -> Observation<'static> {
        Observation::FlowStart {
            ts: Timestamp::from_micros(us),
            src: "10.0.0.7".parse().unwrap(),
            dst: dst.parse().unwrap(),
            dst_port: port,
            proto: 6,
        }
    }

    fn feed(m: &mut BeaconModel, times_secs: &[f64], dst: &str, port: u16) -> Vec<Detection> {
        let mut out = Vec::new();
        for &t in times_secs {
            m.observe(&start_at((t * 1e6) as i64, dst, port), &mut out);
        }
        out
    }

    #[test]
    fn interval_stats_of_a_clock_have_no_jitter() {
        let st = interval_stats(&[0, 60_000_000, 120_000_000, 180_000_000], 0.25).unwrap();
        assert_eq!(st.intervals, 3);
        assert_eq!(st.median_secs, 60.0);
        assert_eq!(st.jitter, 0.0);
        assert_eq!(st.cv, 0.0);
        assert_eq!(st.on_beat, 1.0);
        assert!(interval_stats(&[5], 0.25).is_none());
        // A missed check-in is still on the beat.
        let st = interval_stats(&[0, 60, 120, 240, 300].map(|s| s * 1_000_000), 0.25).unwrap();
        assert_eq!((st.median_secs, st.on_beat), (60.0, 1.0));
    }

    #[test]
    fn sixty_second_beacon_with_ten_percent_jitter_alerts_once() {
        let mut m = BeaconModel::new(BeaconConfig::default());
        let mut t = 0.0;
        let mut times = Vec::new();
        for i in 0..30 {
            // Deterministic ±10 % jitter.
            t += 60.0 * (1.0 + 0.1 * (((i * 7) % 11) as f64 / 5.0 - 1.0));
            times.push(t);
        }
        let out = feed(&mut m, &times, "203.0.113.50", 443);
        assert_eq!(out.len(), 1, "{out:?}");
        let d = &out[0];
        assert_eq!(d.signature_id, sid::BEACON);
        assert_eq!(d.attack, vec!["T1071", "T1573"]);
        assert_eq!(d.evidence["connections"], 10);
        let period = d.evidence["period_secs"].as_f64().unwrap();
        assert!((54.0..66.0).contains(&period), "{period}");
        assert!(d.evidence["jitter"].as_f64().unwrap() <= 0.15);
    }

    #[test]
    fn sub_second_bursts_and_short_periods_are_ignored() {
        let mut m = BeaconModel::new(BeaconConfig::default());
        // Exactly every 2 s: too fast to be a beacon by the default minimum period.
        let fast: Vec<f64> = (0..50).map(|i| f64::from(i) * 2.0).collect();
        assert!(feed(&mut m, &fast, "203.0.113.1", 80).is_empty());
        // Bursts of 5 connections 0.2 s apart every 300 s merge into one start per burst:
        // the series is a 300 s beacon, not a 0.2 s one.
        let bursts: Vec<f64> = (0..12)
            .flat_map(|b| (0..5).map(move |i| f64::from(b) * 300.0 + f64::from(i) * 0.2))
            .collect();
        let out = feed(&mut m, &bursts, "203.0.113.2", 443);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].evidence["period_secs"], 300.0);
        assert_eq!(out[0].evidence["connections"], 10);
    }

    #[test]
    fn ignored_ports_and_multicast_are_never_scored() {
        let mut m = BeaconModel::new(BeaconConfig::default());
        let clock: Vec<f64> = (0..40).map(|i| f64::from(i) * 64.0).collect();
        assert!(feed(&mut m, &clock, "198.51.100.1", 123).is_empty());
        assert!(feed(&mut m, &clock, "224.0.0.251", 8009).is_empty());
        assert_eq!(m.tracked_series(), 0);
    }

    #[test]
    fn a_beacon_alerts_again_after_a_window() {
        let cfg = BeaconConfig {
            window_secs: 600,
            ..BeaconConfig::default()
        };
        let mut m = BeaconModel::new(cfg);
        let clock: Vec<f64> = (0..60).map(|i| f64::from(i) * 30.0).collect();
        let out = feed(&mut m, &clock, "203.0.113.9", 8080);
        let at: Vec<i64> = out.iter().map(|d| d.ts.secs).collect();
        assert_eq!(at, vec![270, 870, 1470]);
        assert_eq!(out[0].attack, vec!["T1071"]);
    }

    #[test]
    fn series_cap_evicts_the_longest_idle() {
        let cfg = BeaconConfig {
            max_series: 5,
            ..BeaconConfig::default()
        };
        let mut m = BeaconModel::new(cfg);
        let mut out = Vec::new();
        for i in 0..50u8 {
            m.observe(
                &start_at(i64::from(i) * 1_000_000, &format!("203.0.113.{i}"), 443),
                &mut out,
            );
        }
        assert_eq!(m.tracked_series(), 5);
        m.tick(100 * 86_400 * 1_000_000, &mut out);
        assert_eq!(m.tracked_series(), 0);
    }

    #[test]
    fn generated_traffic_precision_and_recall() {
        let mut rows = Vec::new();
        for kind in [
            BeaconKind::Steady,
            BeaconKind::Jittered,
            BeaconKind::Lossy,
            BeaconKind::HeavyJitter,
        ] {
            let (mut tp, mut fp, mut fn_) = (0, 0, 0);
            for seed in 0..20 {
                let stream = testgen::beacon_stream(seed, kind);
                let mut models = Models::new(&ModelsConfig::default()).unwrap();
                let out = stream.run(&mut models);
                let r = evaluate_hosts(&stream, &out, "beacon");
                tp += r.0;
                fp += r.1;
                fn_ += r.2;
            }
            rows.push(testgen::report("beacon", kind.name(), tp, fp, fn_));
        }
        for r in &rows {
            println!("{r}");
        }
        for r in &rows {
            assert!(r.precision() >= 0.95, "{r}");
        }
        assert!(rows[0].recall() >= 0.99, "{}", rows[0]);
        assert!(rows[1].recall() >= 0.9, "{}", rows[1]);
        assert!(rows[2].recall() >= 0.8, "{}", rows[2]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A clock-exact series with a period in range always alerts, on its
        /// `min_connections`-th start, and exactly once per window.
        #[test]
        fn exact_periodic_series_alerts_once_per_window(period in 10u32..600, n in 10usize..80) {
            let cfg = BeaconConfig::default();
            let mut m = BeaconModel::new(cfg.clone());
            let times: Vec<f64> = (0..n).map(|i| i as f64 * f64::from(period)).collect();
            let out = feed(&mut m, &times, "203.0.113.77", 443);
            // Alerts fall on the 8th start and then on the first start a window later.
            let window = cfg.window_secs as usize;
            let mut expected = Vec::new();
            for i in cfg.min_connections - 1..n {
                let t = i * period as usize;
                if expected.last().is_none_or(|&prev: &usize| t - prev >= window) {
                    expected.push(t);
                }
            }
            let got: Vec<usize> = out.iter().map(|d| d.ts.secs as usize).collect();
            prop_assert_eq!(got, expected);
        }

        /// Interval statistics are finite and non-negative for any ascending starts.
        #[test]
        fn interval_stats_are_finite(mut starts in proptest::collection::vec(0i64..1_000_000_000_000, 2..64)) {
            starts.sort_unstable();
            let st = interval_stats(&starts, 0.25).unwrap();
            prop_assert!(st.median_secs >= 0.0 && st.mad_secs >= 0.0 && st.mean_secs >= 0.0);
            prop_assert!(st.jitter >= 0.0 && st.cv >= 0.0);
            prop_assert!((0.0..=1.0).contains(&st.on_beat));
            prop_assert!(st.mad_secs.is_finite() && st.median_secs.is_finite());
        }
    }
}
