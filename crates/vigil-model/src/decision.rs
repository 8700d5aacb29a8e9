//! Decisions: what sensors and bouncers enforce, made from intel records by a policy.
//!
//! The policy is a pure function over records ([`decide`]); the hub serves its output as a
//! CrowdSec-compatible decision stream ([`CrowdsecDecision`] is the wire shape of CrowdSec's
//! Local API, `GET /v1/decisions/stream`).
use serde::{Deserialize, Serialize};

use crate::indicator::IndicatorType;
use crate::record::IntelRecord;
use crate::tlp::Tlp;

/// CrowdSec's decision scopes Vigil produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    Ip,
    Range,
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Decision {
    pub scope: Scope,
    /// An address, or a network in canonical CIDR form.
    pub value: String,
    /// `ban` (the only type Vigil's policy makes).
    pub kind: String,
    /// Unix seconds when the decision expires.
    pub until: i64,
    pub origin: String,
    /// Why: `vigil/intel` plus the strongest source, e.g. `vigil/intel:threatfox`.
    pub scenario: String,
    /// The record's score when the decision was made.
    pub confidence: u8,
    pub tlp: Tlp,
}

/// Which records become decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionPolicy {
    /// Minimum score (0–100) at decision time.
    pub min_confidence: u8,
    /// How long a decision lasts, in seconds.
    pub duration_secs: i64,
    /// Shortest IPv4 prefix that may be banned as a range; broader networks are left out.
    pub min_prefix_v4: u8,
    /// Shortest IPv6 prefix that may be banned as a range.
    pub min_prefix_v6: u8,
    /// Leave out values on a warninglist (likely false positives: resolvers, CDNs, RFC 1918).
    pub skip_warninglisted: bool,
}

impl Default for DecisionPolicy {
    fn default() -> Self {
        DecisionPolicy {
            min_confidence: 80,
            duration_secs: 4 * 3600,
            min_prefix_v4: 16,
            min_prefix_v6: 32,
            skip_warninglisted: true,
        }
    }
}

/// The decisions `policy` makes from `records` at `now`, sorted (so the output depends only on
/// the input set, not its order).
pub fn decide(records: &[IntelRecord], policy: &DecisionPolicy, now: i64) -> Vec<Decision> {
    let mut out: Vec<Decision> = records
        .iter()
        .filter_map(|r| decide_one(r, policy, now))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn decide_one(r: &IntelRecord, policy: &DecisionPolicy, now: i64) -> Option<Decision> {
    let scope = match r.kind {
        IndicatorType::Ip => Scope::Ip,
        IndicatorType::Cidr => {
            let (addr, len) = r.value.split_once('/')?;
            let len: u8 = len.parse().ok()?;
            let min = if addr.contains(':') {
                policy.min_prefix_v6
            } else {
                policy.min_prefix_v4
            };
            if len < min {
                return None;
            }
            Scope::Range
        }
        _ => return None,
    };
    if policy.skip_warninglisted && !r.warninglists.is_empty() {
        return None;
    }
    let score = r.score(now).value;
    if score < policy.min_confidence {
        return None;
    }
    let strongest = r
        .sources
        .iter()
        .max_by(|a, b| {
            a.1.weighted()
                .total_cmp(&b.1.weighted())
                .then_with(|| b.0.cmp(a.0))
        })
        .map(|(n, _)| n.as_str())
        .unwrap_or("unknown");
    Some(Decision {
        scope,
        value: r.value.clone(),
        kind: "ban".into(),
        until: now.saturating_add(policy.duration_secs.max(0)),
        origin: "vigil".into(),
        scenario: format!("vigil/intel:{strongest}"),
        confidence: score,
        tlp: r.tlp,
    })
}

/// A decision as CrowdSec's Local API writes it in `/v1/decisions/stream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrowdsecDecision {
    pub id: u64,
    /// Remaining lifetime as a Go duration string, e.g. `3h59m55s`.
    pub duration: String,
    pub origin: String,
    pub scenario: String,
    pub scope: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    pub uuid: String,
}

impl Decision {
    /// The wire form at `now`, with the stream's id and uuid for this decision.
    pub fn to_crowdsec(&self, id: u64, uuid: String, now: i64) -> CrowdsecDecision {
        CrowdsecDecision {
            id,
            duration: go_duration(self.until.saturating_sub(now).max(0)),
            origin: self.origin.clone(),
            scenario: self.scenario.clone(),
            scope: match self.scope {
                Scope::Ip => "Ip".into(),
                Scope::Range => "Range".into(),
            },
            kind: self.kind.clone(),
            value: self.value.clone(),
            uuid,
        }
    }
}

/// Seconds as Go's `time.Duration.String()` prints whole seconds: `0s`, `45s`, `3m0s`,
/// `3h59m55s`.
pub fn go_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::SourceClaim;
    use proptest::prelude::*;

    fn rec(kind: IndicatorType, value: &str, confidence: u8) -> IntelRecord {
        IntelRecord::new(
            kind,
            value.into(),
            "feed".into(),
            SourceClaim {
                confidence,
                reliability: None,
                credibility: None,
                name: None,
                first_seen: None,
                last_seen: None,
                valid_until: None,
                updated: 0,
            },
            Tlp::Green,
        )
    }

    #[test]
    fn confident_addresses_and_narrow_ranges_become_bans() {
        let mut fp = rec(IndicatorType::Ip, "8.8.8.8", 100);
        fp.warninglists.insert("public-dns-v4".into());
        let recs = [
            rec(IndicatorType::Ip, "203.0.113.7", 90),
            rec(IndicatorType::Ip, "203.0.113.8", 50),
            rec(IndicatorType::Cidr, "198.51.100.0/24", 95),
            rec(IndicatorType::Cidr, "10.0.0.0/8", 95),
            rec(IndicatorType::Domain, "evil.example", 99),
            fp,
        ];
        let d = decide(&recs, &DecisionPolicy::default(), 1000);
        let got: Vec<(Scope, &str)> = d.iter().map(|d| (d.scope, d.value.as_str())).collect();
        assert_eq!(
            got,
            [
                (Scope::Ip, "203.0.113.7"),
                (Scope::Range, "198.51.100.0/24")
            ]
        );
        assert_eq!(d[0].until, 1000 + 4 * 3600);
        assert_eq!(d[0].scenario, "vigil/intel:feed");
    }

    #[test]
    fn the_wire_form_is_crowdsecs() {
        let d = decide(
            &[rec(IndicatorType::Ip, "203.0.113.7", 90)],
            &DecisionPolicy::default(),
            0,
        );
        let c = d[0].to_crowdsec(7, "u-1".into(), 5);
        assert_eq!(
            (c.duration.as_str(), c.scope.as_str(), c.kind.as_str(), c.id),
            ("3h59m55s", "Ip", "ban", 7)
        );
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(180), "3m0s");
    }

    fn arb_record() -> impl Strategy<Value = IntelRecord> {
        (
            prop::sample::select(vec![
                (IndicatorType::Ip, "192.0.2.1"),
                (IndicatorType::Ip, "2001:db8::1"),
                (IndicatorType::Cidr, "192.0.2.0/24"),
                (IndicatorType::Cidr, "10.0.0.0/8"),
                (IndicatorType::Cidr, "2001:db8::/16"),
                (IndicatorType::Domain, "evil.example"),
            ]),
            0u8..=100,
            any::<bool>(),
        )
            .prop_map(|((k, v), c, listed)| {
                let mut r = rec(k, v, c);
                if listed {
                    r.warninglists.insert("list".into());
                }
                r
            })
    }

    proptest! {
        #[test]
        fn decisions_respect_the_policy_and_ignore_input_order(
            mut recs in prop::collection::vec(arb_record(), 0..8),
            min in 0u8..=100,
        ) {
            let policy = DecisionPolicy { min_confidence: min, ..DecisionPolicy::default() };
            let d = decide(&recs, &policy, 0);
            for x in &d {
                prop_assert!(x.confidence >= min);
                if let Some((_, len)) = x.value.split_once('/') {
                    let len: u8 = len.parse().unwrap();
                    let min_len = if x.value.contains(':') { 32 } else { 16 };
                    prop_assert!(len >= min_len);
                }
                prop_assert!(recs.iter().any(|r| r.value == x.value && r.warninglists.is_empty()));
            }
            recs.reverse();
            prop_assert_eq!(decide(&recs, &policy, 0), d);
        }
    }
}
