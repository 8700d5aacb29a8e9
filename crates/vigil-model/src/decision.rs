//! Decisions: what sensors and bouncers enforce, made from intel records and sensor alerts by
//! a policy.
//!
//! Everything here is a pure function over plain data: [`decide`] (records → bans),
//! [`decide_alerts`] (alerts → bans of the attacking address), [`combine`] (one decision per
//! target), [`stabilize`] (keep `until` across recomputations so unchanged decisions do not
//! churn), [`next_wake`] (when the set must be recomputed) and [`DecisionFilter`] (what one
//! bouncer may and wants to see, TLP clearance included). The hub serves the output as a
//! CrowdSec-compatible decision stream ([`CrowdsecDecision`] is the wire shape of CrowdSec's
//! Local API, `GET /v1/decisions/stream`).
use std::net::IpAddr;

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
    /// Minimum confidence (0–100) of a sensor alert for its attacking address to be banned.
    pub min_alert_confidence: u8,
}

impl Default for DecisionPolicy {
    fn default() -> Self {
        DecisionPolicy {
            min_confidence: 80,
            duration_secs: 4 * 3600,
            min_prefix_v4: 16,
            min_prefix_v6: 32,
            skip_warninglisted: true,
            min_alert_confidence: 90,
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
    let mut until = now.saturating_add(policy.duration_secs.max(0));
    if let Some(end) = validity_end(r) {
        if end <= now {
            return None;
        }
        until = until.min(end);
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
        until,
        origin: "vigil".into(),
        scenario: format!("vigil/intel:{strongest}"),
        confidence: score,
        tlp: r.tlp,
    })
}

/// When every source's claim has lapsed: the latest `valid_until`, if each claim states one.
/// A source that sets no end keeps the record valid.
fn validity_end(r: &IntelRecord) -> Option<i64> {
    let mut end = None;
    for c in r.sources.values() {
        let u = c.valid_until?;
        end = Some(end.map_or(u, |e: i64| e.max(u)));
    }
    end
}

/// What a sensor alert says about its attacker, as the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertEvidence {
    /// The attacking side: EVE `alert.source.ip` when present, else `src_ip`.
    pub attacker: IpAddr,
    /// The sensor's confidence (0–100); `None` when the alert was not scored.
    pub confidence: Option<u8>,
    /// Unix seconds the hub received the alert.
    pub received: i64,
    pub tlp: Tlp,
    /// What fired: the rule's signature id or the indicator that matched.
    pub reason: String,
    /// The attacker is on a warninglist (resolvers, CDNs, private ranges).
    pub warninglisted: bool,
}

/// Bans of the attacking addresses of confident alerts. A ban lasts `duration_secs` from the
/// alert's arrival, so it is the same decision at every recomputation and expires by itself.
/// Sorted, like [`decide`].
pub fn decide_alerts(alerts: &[AlertEvidence], policy: &DecisionPolicy, now: i64) -> Vec<Decision> {
    let mut out: Vec<Decision> = alerts
        .iter()
        .filter(|a| {
            a.confidence
                .is_some_and(|c| c >= policy.min_alert_confidence)
        })
        .filter(|a| !(policy.skip_warninglisted && a.warninglisted))
        .filter_map(|a| {
            let until = a.received.saturating_add(policy.duration_secs.max(0));
            (until > now).then(|| Decision {
                scope: Scope::Ip,
                value: a.attacker.to_string(),
                kind: "ban".into(),
                until,
                origin: "vigil".into(),
                scenario: format!("vigil/alert:{}", a.reason),
                confidence: a.confidence.unwrap_or(0),
                tlp: a.tlp,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One decision per (scope, value) out of candidates from any source: the most shareable
/// (lowest TLP) wins, so a bouncer cleared for GREEN still gets a ban that GREEN intel
/// justifies; then the longest-lasting. Sorted by (scope, value).
pub fn combine(mut candidates: Vec<Decision>) -> Vec<Decision> {
    candidates.sort_by(|a, b| {
        (a.scope, &a.value, a.tlp, std::cmp::Reverse(a.until), a).cmp(&(
            b.scope,
            &b.value,
            b.tlp,
            std::cmp::Reverse(b.until),
            b,
        ))
    });
    candidates.dedup_by(|later, first| later.scope == first.scope && later.value == first.value);
    candidates
}

/// The decision to publish for `next`, given the one published before for the same target.
///
/// A recomputation moves `until` forward (it is `now + duration`) and the confidence with
/// decay; publishing that each time would delete and re-add every ban on every change. So the
/// previous decision stays as it is while it has at least half its duration left, is not
/// outlived by what the sources now allow (`next.until` ≥ its `until`), and says the same
/// thing otherwise (kind, origin, scenario, TLP). It is renewed to `next` once half of it has
/// run, which leaves bouncers (which time bans out themselves) a full half-duration of margin.
pub fn stabilize(
    prev: Option<&Decision>,
    next: Decision,
    policy: &DecisionPolicy,
    now: i64,
) -> Decision {
    let Some(p) = prev else { return next };
    let same = p.scope == next.scope
        && p.value == next.value
        && p.kind == next.kind
        && p.origin == next.origin
        && p.scenario == next.scenario
        && p.tlp == next.tlp;
    let half = policy.duration_secs.max(0) / 2;
    let fresh = p.until.saturating_sub(now) >= half && p.until > now;
    if same && fresh && next.until >= p.until {
        p.clone()
    } else {
        next
    }
}

/// When the decision set must next be recomputed without new input: the earliest instant a
/// decision is due for renewal (half its duration left, see [`stabilize`]) or expires.
/// `None` when there is nothing to watch.
pub fn next_wake<'a>(
    decisions: impl IntoIterator<Item = &'a Decision>,
    policy: &DecisionPolicy,
    now: i64,
) -> Option<i64> {
    let half = policy.duration_secs.max(0) / 2;
    decisions
        .into_iter()
        .map(|d| {
            let renew = d.until.saturating_sub(half);
            if renew > now {
                renew
            } else {
                d.until
            }
        })
        .min()
}

/// What one bouncer gets: the decisions its clearance allows (`max_tlp`) and its query asks
/// for (CrowdSec's `scopes`, `origins`, `scenarios_containing`, `scenarios_not_containing`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFilter {
    /// The caller's clearance; nothing above it is ever admitted.
    pub max_tlp: Tlp,
    /// Scopes asked for; CrowdSec's default is `ip,range`.
    pub scopes: Vec<Scope>,
    /// Only these origins (empty: any).
    pub origins: Vec<String>,
    /// Only scenarios containing one of these (empty: any).
    pub scenarios_containing: Vec<String>,
    /// No scenario containing any of these.
    pub scenarios_not_containing: Vec<String>,
}

/// A query parameter that is not a list CrowdSec accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown decision scope {0:?} (expected a comma-separated list of ip, range)")]
pub struct UnknownScope(pub String);

impl DecisionFilter {
    /// Everything `max_tlp` allows, in CrowdSec's default scopes.
    pub fn cleared(max_tlp: Tlp) -> DecisionFilter {
        DecisionFilter {
            max_tlp,
            scopes: vec![Scope::Ip, Scope::Range],
            origins: Vec::new(),
            scenarios_containing: Vec::new(),
            scenarios_not_containing: Vec::new(),
        }
    }

    /// Parses CrowdSec's `scopes` parameter (`ip,range`, case-insensitive). Scopes Vigil never
    /// makes (`country`, `as`, `username` …) are accepted and select nothing, as at CrowdSec.
    pub fn parse_scopes(list: &str) -> Result<Vec<Scope>, UnknownScope> {
        let mut out = Vec::new();
        for s in split_list(list) {
            match s.to_ascii_lowercase().as_str() {
                "ip" => out.push(Scope::Ip),
                "range" => out.push(Scope::Range),
                "" => {}
                other if other.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => {}
                _ => return Err(UnknownScope(s.to_string())),
            }
        }
        Ok(out)
    }

    pub fn admits(&self, d: &Decision) -> bool {
        d.tlp <= self.max_tlp
            && self.scopes.contains(&d.scope)
            && (self.origins.is_empty() || self.origins.contains(&d.origin))
            && (self.scenarios_containing.is_empty()
                || self
                    .scenarios_containing
                    .iter()
                    .any(|s| d.scenario.contains(s.as_str())))
            && !self
                .scenarios_not_containing
                .iter()
                .any(|s| d.scenario.contains(s.as_str()))
    }
}

/// Splits a comma-separated query value, dropping blanks.
pub fn split_list(list: &str) -> impl Iterator<Item = &str> + '_ {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// An address or network as an inclusive interval of one family, for live lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    v6: bool,
    start: u128,
    end: u128,
}

impl Span {
    /// `203.0.113.7`, `2001:db8::1`, `198.51.100.0/24` or `2001:db8::/32`; `None` otherwise.
    pub fn parse(s: &str) -> Option<Span> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().ok()?)),
            None => (s, None),
        };
        let (v6, bits, width) = match addr.trim().parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => (false, u128::from(u32::from(a)), 32u8),
            IpAddr::V6(a) => (true, u128::from(a), 128u8),
        };
        let len = len.unwrap_or(width);
        if len > width {
            return None;
        }
        let host_bits = u32::from(width - len);
        let mask = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        Some(Span {
            v6,
            start: bits & !mask,
            end: bits | mask,
        })
    }

    pub fn contains(&self, other: &Span) -> bool {
        self.v6 == other.v6 && self.start <= other.start && other.end <= self.end
    }
}

/// What `GET /v1/decisions` looks up (CrowdSec's live mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// `ip=` or `range=`: decisions whose target contains it (`contains=true`, the default),
    /// or that lie inside it (`contains=false`).
    Span { span: Span, contains: bool },
    /// `scope=` and `value=`: that exact target.
    Exact { scope: Option<Scope>, value: String },
    /// No target: every decision the filter admits.
    All,
}

impl Lookup {
    pub fn matches(&self, d: &Decision) -> bool {
        match self {
            Lookup::All => true,
            Lookup::Exact { scope, value } => {
                scope.is_none_or(|s| s == d.scope) && *value == d.value
            }
            Lookup::Span { span, contains } => match Span::parse(&d.value) {
                Some(target) if *contains => target.contains(span),
                Some(target) => span.contains(&target),
                None => false,
            },
        }
    }
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

    fn alert(ip: &str, confidence: Option<u8>, received: i64, tlp: Tlp) -> AlertEvidence {
        AlertEvidence {
            attacker: ip.parse().unwrap(),
            confidence,
            received,
            tlp,
            reason: "2100001".into(),
            warninglisted: false,
        }
    }

    #[test]
    fn confident_alerts_ban_their_attacker_for_a_duration_from_arrival() {
        let p = DecisionPolicy {
            duration_secs: 100,
            ..DecisionPolicy::default()
        };
        let mut listed = alert("9.9.9.9", Some(99), 0, Tlp::Clear);
        listed.warninglisted = true;
        let alerts = [
            alert("203.0.113.9", Some(95), 50, Tlp::Amber),
            alert("203.0.113.10", Some(89), 50, Tlp::Clear),
            alert("203.0.113.11", None, 50, Tlp::Clear),
            alert("203.0.113.12", Some(99), 0, Tlp::Clear),
            listed,
        ];
        let d = decide_alerts(&alerts, &p, 120);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (
                d[0].value.as_str(),
                d[0].until,
                d[0].tlp,
                d[0].scenario.as_str()
            ),
            ("203.0.113.9", 150, Tlp::Amber, "vigil/alert:2100001")
        );
        // The same alert at a later recomputation is the same decision.
        assert_eq!(decide_alerts(&alerts, &p, 140), d);
        assert!(decide_alerts(&alerts, &p, 150).is_empty(), "expired");
    }

    #[test]
    fn a_records_stated_end_caps_its_ban_and_a_lapsed_record_bans_nothing() {
        let mut r = rec(IndicatorType::Ip, "203.0.113.7", 95);
        if let Some(c) = r.sources.get_mut("feed") {
            c.valid_until = Some(1_000 + 60);
        }
        let p = DecisionPolicy::default();
        assert_eq!(decide(std::slice::from_ref(&r), &p, 1_000)[0].until, 1_060);
        assert!(decide(&[r], &p, 1_060).is_empty());
    }

    #[test]
    fn combining_keeps_the_most_shareable_then_the_longest_decision_per_target() {
        let mut green = decide(
            &[rec(IndicatorType::Ip, "203.0.113.9", 95)],
            &DecisionPolicy::default(),
            0,
        );
        let amber_longer = decide_alerts(
            &[alert("203.0.113.9", Some(99), 10, Tlp::Amber)],
            &DecisionPolicy::default(),
            0,
        );
        green.extend(amber_longer);
        let c = combine(green);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].tlp, Tlp::Green);
    }

    #[test]
    fn lookups_match_addresses_inside_ranges_and_exact_targets() {
        let p = DecisionPolicy::default();
        let d = decide(
            &[
                rec(IndicatorType::Cidr, "198.51.100.0/24", 95),
                rec(IndicatorType::Ip, "2001:db8::1", 95),
            ],
            &p,
            0,
        );
        // Sorted: Ip before Range.
        let (v6, range) = (&d[0], &d[1]);
        let ip = |s: &str, contains| Lookup::Span {
            span: Span::parse(s).unwrap(),
            contains,
        };
        assert!(ip("198.51.100.77", true).matches(range));
        assert!(!ip("198.51.101.1", true).matches(range));
        assert!(ip("198.51.0.0/16", false).matches(range));
        assert!(!ip("198.51.0.0/16", true).matches(range));
        assert!(ip("2001:db8::1", true).matches(v6));
        assert!(
            !ip("::ffff:198.51.100.7", true).matches(range),
            "families differ"
        );
        let exact = Lookup::Exact {
            scope: Some(Scope::Range),
            value: "198.51.100.0/24".into(),
        };
        assert!(exact.matches(range) && !exact.matches(v6));
        assert_eq!(Span::parse("10.0.0.0/33"), None);
        assert_eq!(Span::parse("not an ip"), None);
        assert!(Span::parse("0.0.0.0/0").is_some() && Span::parse("::/0").is_some());
    }

    #[test]
    fn filters_follow_crowdsecs_query_parameters() {
        let d = decide(
            &[rec(IndicatorType::Ip, "203.0.113.7", 90)],
            &DecisionPolicy::default(),
            0,
        );
        let mut f = DecisionFilter::cleared(Tlp::Green);
        assert!(f.admits(&d[0]));
        f.scenarios_containing = vec!["ssh".into(), "intel".into()];
        assert!(f.admits(&d[0]));
        f.scenarios_not_containing = vec!["feed".into()];
        assert!(!f.admits(&d[0]));
        let mut f = DecisionFilter::cleared(Tlp::Green);
        f.origins = vec!["crowdsec".into()];
        assert!(!f.admits(&d[0]));
        f.scopes = DecisionFilter::parse_scopes("Range, country").unwrap();
        assert_eq!(f.scopes, [Scope::Range]);
        assert!(DecisionFilter::parse_scopes("ip;drop").is_err());
        assert!(
            !DecisionFilter::cleared(Tlp::Clear).admits(&d[0]),
            "GREEN above CLEAR"
        );
    }

    fn arb_fixed() -> Decision {
        Decision {
            scope: Scope::Ip,
            value: "192.0.2.1".into(),
            kind: "ban".into(),
            until: 0,
            origin: "vigil".into(),
            scenario: "vigil/intel:a".into(),
            confidence: 90,
            tlp: Tlp::Green,
        }
    }

    fn arb_decision() -> impl Strategy<Value = Decision> {
        (
            prop::sample::select(vec!["192.0.2.1", "192.0.2.0/24", "2001:db8::1"]),
            prop::sample::select(vec!["vigil/intel:a", "vigil/alert:1"]),
            0usize..5,
            -50i64..200,
            0u8..=100,
        )
            .prop_map(|(v, scen, tlp, until, confidence)| Decision {
                scope: if v.contains('/') {
                    Scope::Range
                } else {
                    Scope::Ip
                },
                value: v.into(),
                kind: "ban".into(),
                until,
                origin: "vigil".into(),
                scenario: scen.into(),
                confidence,
                tlp: Tlp::ALL[tlp],
            })
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

        /// Recomputing an unchanged decision within the first half of its life publishes the
        /// same decision (no churn); it never outlives what the sources allow; it is renewed
        /// to a full `next` once half has run; recomputing at the same instant is idempotent.
        #[test]
        fn stabilized_decisions_do_not_churn_and_never_outlive_their_sources(
            made_at in 0i64..1000,
            later in 0i64..200,
            duration in 2i64..100,
            cap in prop::option::of(0i64..1500),
        ) {
            let policy = DecisionPolicy { duration_secs: duration, ..DecisionPolicy::default() };
            let at = |now: i64| {
                let until = (now + duration).min(cap.unwrap_or(i64::MAX));
                Decision { until, ..arb_fixed() }
            };
            let first = stabilize(None, at(made_at), &policy, made_at);
            let now = made_at + later;
            let next = at(now);
            let s = stabilize(Some(&first), next.clone(), &policy, now);
            prop_assert!(s.until <= next.until, "outlives its sources");
            prop_assert_eq!(stabilize(Some(&s), next.clone(), &policy, now), s.clone());
            if first.until > now && first.until - now >= duration / 2 && next.until >= first.until {
                prop_assert_eq!(&s, &first);
            } else {
                prop_assert_eq!(&s, &next);
            }
            // Whatever was kept, it has at least half a duration left unless the source ends
            // it sooner.
            if next.until > now {
                prop_assert!(s.until - now >= (duration / 2).min(next.until - now));
            }
        }

        /// A changed decision (another scenario or TLP) is published at once.
        #[test]
        fn a_changed_decision_replaces_the_previous_one(prev in arb_decision(), next in arb_decision(), now in -50i64..200) {
            let s = stabilize(Some(&prev), next.clone(), &DecisionPolicy::default(), now);
            if prev.scenario != next.scenario || prev.tlp != next.tlp || prev.value != next.value {
                prop_assert_eq!(s, next);
            }
        }

        /// No filter ever admits a decision above the caller's clearance.
        #[test]
        fn clearance_holds_whatever_the_query(
            d in arb_decision(),
            max in 0usize..5,
            want in prop::collection::vec("[a-z/:]{0,6}", 0..3),
            avoid in prop::collection::vec("[a-z/:]{0,6}", 0..3),
        ) {
            let max_tlp = Tlp::ALL[max];
            let f = DecisionFilter {
                scenarios_containing: want,
                scenarios_not_containing: avoid,
                ..DecisionFilter::cleared(max_tlp)
            };
            if f.admits(&d) {
                prop_assert!(d.tlp <= max_tlp);
            }
        }

        /// The wake-up is never in the past of a live decision and never after its expiry.
        #[test]
        fn the_next_wake_comes_before_any_decision_expires(
            ds in prop::collection::vec(arb_decision(), 0..6),
            now in -50i64..200,
        ) {
            let live: Vec<&Decision> = ds.iter().filter(|d| d.until > now).collect();
            let wake = next_wake(live.iter().copied(), &DecisionPolicy::default(), now);
            prop_assert_eq!(wake.is_some(), !live.is_empty());
            for d in live {
                prop_assert!(wake.unwrap() <= d.until);
                prop_assert!(wake.unwrap() > now);
            }
        }
    }
}
