//! Alert rate limits: `threshold`, `detection_filter` and threshold.config `suppress`.
//!
//! Thresholds track sources, destinations or rules across flows, so they cannot run inside a
//! flow shard without making output depend on the thread count. They run where events are
//! merged, in capture order, as a pure state machine over (time, rule, tracked key) with
//! Suricata's counting rules (detect-engine-threshold.c).

use crate::rules::ast::{DetectionFilter, Threshold, ThresholdType, Track};
use rustc_hash::FxHashMap;
use std::net::IpAddr;

/// One rate limit on a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    Threshold(Threshold),
    Detection(DetectionFilter),
}

impl Limit {
    fn track(&self) -> Track {
        match self {
            Limit::Threshold(t) => t.track,
            Limit::Detection(d) => d.track,
        }
    }
}

/// What an alert looked like, for tracking.
#[derive(Debug, Clone, Copy)]
pub struct AlertFacts {
    /// Seconds of the packet's capture time.
    pub ts: u64,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub flow_id: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TrackKey {
    Rule,
    Ip(IpAddr),
    Pair(IpAddr, IpAddr),
    Flow(u64),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    start: u64,
    count: u64,
    next: u64,
}

/// Threshold state, keyed by (rule id, tracked key).
#[derive(Debug, Default)]
pub struct Thresholds {
    state: FxHashMap<(u32, TrackKey), Entry>,
}

impl Thresholds {
    /// Whether the match of rule `rule` described by `f` produces an alert under `limit`.
    pub fn admit(&mut self, rule: u32, limit: &Limit, f: &AlertFacts) -> bool {
        let key = match limit.track() {
            Track::BySrc => TrackKey::Ip(f.src),
            Track::ByDst => TrackKey::Ip(f.dst),
            Track::ByRule => TrackKey::Rule,
            Track::ByBoth => TrackKey::Pair(f.src, f.dst),
            Track::ByFlow => TrackKey::Flow(f.flow_id),
        };
        let ts = f.ts;
        let (count, seconds) = match limit {
            Limit::Threshold(t) => (u64::from(t.count), u64::from(t.seconds)),
            Limit::Detection(d) => (u64::from(d.count), u64::from(d.seconds)),
        };
        let Some(e) = self.state.get_mut(&(rule, key)) else {
            let mut e = Entry {
                start: ts,
                count: 1,
                next: count,
            };
            let alert = match limit {
                Limit::Threshold(t) => match t.kind {
                    ThresholdType::Limit => true,
                    ThresholdType::Threshold | ThresholdType::Both => count <= 1,
                    ThresholdType::Backoff => {
                        // Alerts on the count-th match, then every multiplier-fold later.
                        if count <= 1 {
                            e.next = u64::from(t.multiplier.unwrap_or(10));
                            true
                        } else {
                            false
                        }
                    }
                },
                Limit::Detection(_) => count == 0,
            };
            if matches!(limit, Limit::Threshold(t) if t.kind == ThresholdType::Threshold)
                && count <= 1
            {
                e.count = 0;
            }
            self.state.insert((rule, key), e);
            return alert;
        };
        let in_window = ts.saturating_sub(e.start) < seconds;
        match limit {
            Limit::Threshold(t) => match t.kind {
                ThresholdType::Limit => {
                    if in_window {
                        if e.count < count {
                            e.count += 1;
                            return true;
                        }
                        false
                    } else {
                        e.start = ts;
                        e.count = 1;
                        true
                    }
                }
                ThresholdType::Threshold => {
                    if in_window {
                        e.count += 1;
                        if e.count >= count {
                            e.count = 0;
                            return true;
                        }
                        false
                    } else {
                        e.start = ts;
                        e.count = 1;
                        count <= 1
                    }
                }
                ThresholdType::Both => {
                    if in_window {
                        e.count += 1;
                        e.count == count
                    } else {
                        e.start = ts;
                        e.count = 1;
                        count <= 1
                    }
                }
                ThresholdType::Backoff => {
                    e.count += 1;
                    if e.count == e.next {
                        e.next = e.next.saturating_mul(u64::from(t.multiplier.unwrap_or(10)));
                        return true;
                    }
                    false
                }
            },
            Limit::Detection(_) => {
                if in_window {
                    e.count += 1;
                    e.count > count
                } else {
                    e.start = ts;
                    e.count = 1;
                    count == 0
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.state.len()
    }

    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }
}

/// A `suppress` entry: no alerts for a rule (sid 0: every rule of the gid), optionally only
/// when the tracked address is in `ips`.
#[derive(Debug, Clone)]
pub struct Suppress {
    pub gid: u32,
    pub sid: u32,
    /// `None`: always; otherwise the side tracked and the addresses suppressed.
    pub only: Option<(SuppressTrack, crate::rules::netset::IpSet)>,
}

pub use crate::rules::threshold_config::SuppressTrack;

/// threshold.config: limits that replace a rule's own, and suppressions.
#[derive(Debug, Clone, Default)]
pub struct AlertPolicy {
    pub limits: FxHashMap<(u32, u32), Limit>,
    pub suppress: Vec<Suppress>,
}

impl AlertPolicy {
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty() && self.suppress.is_empty()
    }

    /// The limit configured for gid:sid; `gid,0` entries apply to every rule of the gid and
    /// `0,0` to every rule.
    pub fn limit(&self, gid: u32, sid: u32) -> Option<&Limit> {
        self.limits
            .get(&(gid, sid))
            .or_else(|| self.limits.get(&(gid, 0)))
            .or_else(|| self.limits.get(&(0, 0)))
    }

    pub fn suppressed(&self, gid: u32, sid: u32, f: &AlertFacts) -> bool {
        self.suppress.iter().any(|s| {
            (s.gid == gid || s.gid == 0)
                && (s.sid == sid || s.sid == 0)
                && match &s.only {
                    None => true,
                    Some((SuppressTrack::BySrc, ips)) => ips.contains(f.src),
                    Some((SuppressTrack::ByDst, ips)) => ips.contains(f.dst),
                    Some((SuppressTrack::ByEither, ips)) => {
                        ips.contains(f.src) || ips.contains(f.dst)
                    }
                }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(ts: u64, src: &str) -> AlertFacts {
        AlertFacts {
            ts,
            src: src.parse().unwrap(),
            dst: "10.0.0.1".parse().unwrap(),
            flow_id: 1,
        }
    }

    fn threshold(kind: ThresholdType, track: Track, count: u32, seconds: u32) -> Limit {
        Limit::Threshold(Threshold {
            kind,
            track,
            count,
            seconds,
            multiplier: None,
        })
    }

    fn run(limit: &Limit, times: &[(u64, &str)]) -> Vec<bool> {
        let mut t = Thresholds::default();
        times
            .iter()
            .map(|&(ts, src)| t.admit(7, limit, &facts(ts, src)))
            .collect()
    }

    #[test]
    fn limit_alerts_count_times_per_window_and_key() {
        let l = threshold(ThresholdType::Limit, Track::BySrc, 2, 60);
        let r = run(
            &l,
            &[
                (0, "1.1.1.1"),
                (1, "1.1.1.1"),
                (2, "1.1.1.1"),
                (3, "2.2.2.2"),
                (61, "1.1.1.1"),
            ],
        );
        assert_eq!(r, [true, true, false, true, true]);
    }

    #[test]
    fn threshold_alerts_every_nth_match() {
        let l = threshold(ThresholdType::Threshold, Track::ByRule, 3, 60);
        let r = run(
            &l,
            &[
                (0, "a::1"),
                (1, "a::2"),
                (2, "a::3"),
                (3, "a::4"),
                (4, "a::5"),
                (5, "a::6"),
            ],
        );
        assert_eq!(r, [false, false, true, false, false, true]);
    }

    #[test]
    fn both_alerts_once_per_window_when_count_is_reached() {
        let l = threshold(ThresholdType::Both, Track::BySrc, 2, 10);
        let r = run(
            &l,
            &[
                (0, "1.1.1.1"),
                (1, "1.1.1.1"),
                (2, "1.1.1.1"),
                (20, "1.1.1.1"),
                (21, "1.1.1.1"),
            ],
        );
        assert_eq!(r, [false, true, false, false, true]);
    }

    #[test]
    fn detection_filter_alerts_after_count_matches() {
        let l = Limit::Detection(DetectionFilter {
            track: Track::BySrc,
            count: 2,
            seconds: 60,
        });
        let r = run(
            &l,
            &[
                (0, "1.1.1.1"),
                (1, "1.1.1.1"),
                (2, "1.1.1.1"),
                (3, "1.1.1.1"),
            ],
        );
        assert_eq!(r, [false, false, true, true]);
    }

    #[test]
    fn backoff_alerts_on_first_then_geometrically() {
        let l = Limit::Threshold(Threshold {
            kind: ThresholdType::Backoff,
            track: Track::ByFlow,
            count: 1,
            seconds: 0,
            multiplier: Some(10),
        });
        let times: Vec<(u64, &str)> = (0..120).map(|i| (i, "1.1.1.1")).collect();
        let alerts: Vec<usize> = run(&l, &times)
            .iter()
            .enumerate()
            .filter(|(_, a)| **a)
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(alerts, [1, 10, 100]);
    }
}
