//! The deduplicated intel record: one per (indicator type, canonical value), whatever number of
//! feeds, files and regions reported it.
//!
//! [`IntelRecord::merge`] is a join: every field is a join-semilattice (set union, max, min, or
//! a last-writer-wins register ordered by `(updated, payload)`), so merging is commutative,
//! associative and idempotent. Imports, re-imports and — later — replication between regions all
//! use this one merge, and replicas that saw the same claims in any order converge.
//!
//! Sightings are a grow-only counter: one count per reporter, merged by max and summed when
//! read. "Adding the sighting counts" of two records is therefore exact across reporters and
//! still idempotent when the same reporter's count arrives twice.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::indicator::{Confidence, IndicatorType};
use crate::score::{decay_factor, DecayModel, Reliability};
use crate::tlp::Tlp;

const SECS_PER_DAY: f64 = 86_400.0;

/// What one source says about an indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceClaim {
    /// The source's confidence, 0–100.
    pub confidence: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability: Option<Reliability>,
    /// Admiralty information credibility 1–6, when the source states one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credibility: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<i64>,
    /// When this claim was recorded (import time); orders the register part of the claim.
    pub updated: i64,
}

impl SourceClaim {
    /// The last-writer-wins part, as a totally ordered key. Reliability compares by letter and
    /// `None` sorts first, so two different payloads with the same `updated` still have a
    /// deterministic winner.
    fn register_key(&self) -> impl Ord + '_ {
        (
            self.updated,
            self.confidence,
            self.reliability.map(Reliability::as_str),
            self.credibility,
            self.name.as_deref(),
            self.valid_until,
        )
    }

    fn merge(&mut self, other: &SourceClaim) {
        let first_seen = min_opt(self.first_seen, other.first_seen);
        let last_seen = self.last_seen.max(other.last_seen);
        if other.register_key() > self.register_key() {
            self.confidence = other.confidence;
            self.reliability = other.reliability;
            self.credibility = other.credibility;
            self.name.clone_from(&other.name);
            self.valid_until = other.valid_until;
            self.updated = other.updated;
        }
        self.first_seen = first_seen;
        self.last_seen = last_seen;
    }

    /// The claim's weight in the combined confidence: confidence × reliability weight.
    pub fn weighted(&self) -> f64 {
        f64::from(self.confidence.min(100)) / 100.0
            * self.reliability.map_or(1.0, Reliability::weight)
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// Provenance: source name → claim, kept as a vector sorted by name. Nearly every record has one
/// or two sources, and a `BTreeMap` would allocate a whole node (≈1 KiB) for each of millions
/// of records. Serialises as a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sources(Vec<(String, SourceClaim)>);

impl Sources {
    pub fn one(name: String, claim: SourceClaim) -> Sources {
        Sources(vec![(name, claim)])
    }
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| n.as_str().cmp(name))
    }
    pub fn get(&self, name: &str) -> Option<&SourceClaim> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }
    pub fn get_mut(&mut self, name: &str) -> Option<&mut SourceClaim> {
        match self.find(name) {
            Ok(i) => Some(&mut self.0[i].1),
            Err(_) => None,
        }
    }
    /// Inserts or replaces.
    pub fn insert(&mut self, name: String, claim: SourceClaim) {
        match self.find(&name) {
            Ok(i) => self.0[i].1 = claim,
            Err(i) => self.0.insert(i, (name, claim)),
        }
    }
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// In name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &SourceClaim)> + '_ {
        self.0.iter().map(|(n, c)| (n, c))
    }
    pub fn keys(&self) -> impl Iterator<Item = &String> + '_ {
        self.0.iter().map(|(n, _)| n)
    }
    pub fn values(&self) -> impl Iterator<Item = &SourceClaim> + '_ {
        self.0.iter().map(|(_, c)| c)
    }
}

impl<'a> IntoIterator for &'a Sources {
    type Item = (&'a String, &'a SourceClaim);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, SourceClaim)>,
        fn(&'a (String, SourceClaim)) -> (&'a String, &'a SourceClaim),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(n, c)| (n, c))
    }
}

impl FromIterator<(String, SourceClaim)> for Sources {
    fn from_iter<I: IntoIterator<Item = (String, SourceClaim)>>(it: I) -> Sources {
        let mut s = Sources::default();
        for (n, c) in it {
            s.insert(n, c);
        }
        s
    }
}

impl Serialize for Sources {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Sources {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Sources, D::Error> {
        let m: BTreeMap<String, SourceClaim> = BTreeMap::deserialize(de)?;
        Ok(Sources(m.into_iter().collect()))
    }
}

/// A kill-chain phase, as in STIX `kill_chain_phases`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct KillChainPhase {
    pub kill_chain_name: String,
    pub phase_name: String,
}

/// One indicator, deduplicated across every source that reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelRecord {
    pub kind: IndicatorType,
    /// Canonical value.
    pub value: String,
    /// Provenance: every source's claim, by source name.
    pub sources: Sources,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub labels: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub kill_chain_phases: BTreeSet<KillChainPhase>,
    /// The most restrictive marking any source put on it.
    pub tlp: Tlp,
    /// Sighting counts per reporter (sensor, region or feed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sightings: BTreeMap<String, u64>,
    /// Unix seconds of the latest sighting; resets decay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sighting: Option<i64>,
    /// STIX objects (indicators, observables) that carry this value.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub stix_ids: BTreeSet<String>,
    /// Warninglists the value is on (false-positive risk), by list slug.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub warninglists: BTreeSet<String>,
}

impl IntelRecord {
    /// A record holding one source's claim.
    pub fn new(
        kind: IndicatorType,
        value: String,
        source: String,
        claim: SourceClaim,
        tlp: Tlp,
    ) -> Self {
        IntelRecord {
            kind,
            value,
            sources: Sources::one(source, claim),
            labels: BTreeSet::new(),
            kill_chain_phases: BTreeSet::new(),
            tlp,
            sightings: BTreeMap::new(),
            last_sighting: None,
            stix_ids: BTreeSet::new(),
            warninglists: BTreeSet::new(),
        }
    }

    /// Joins `other` into `self`. Both must describe the same (kind, value); merging records of
    /// different keys is a caller bug and leaves `self` unchanged (returns false).
    pub fn merge(&mut self, other: &IntelRecord) -> bool {
        if self.kind != other.kind || self.value != other.value {
            return false;
        }
        for (name, claim) in &other.sources {
            match self.sources.get_mut(name) {
                Some(mine) => mine.merge(claim),
                None => {
                    self.sources.insert(name.clone(), claim.clone());
                }
            }
        }
        self.labels.extend(other.labels.iter().cloned());
        self.kill_chain_phases
            .extend(other.kill_chain_phases.iter().cloned());
        self.tlp = self.tlp.max(other.tlp);
        for (who, n) in &other.sightings {
            let mine = self.sightings.entry(who.clone()).or_insert(0);
            *mine = (*mine).max(*n);
        }
        self.last_sighting = self.last_sighting.max(other.last_sighting);
        self.stix_ids.extend(other.stix_ids.iter().cloned());
        self.warninglists.extend(other.warninglists.iter().cloned());
        true
    }

    /// Earliest first_seen of any source.
    pub fn first_seen(&self) -> Option<i64> {
        self.sources
            .values()
            .fold(None, |acc, c| min_opt(acc, c.first_seen))
    }

    /// Latest last_seen (else first_seen) of any source.
    pub fn last_seen(&self) -> Option<i64> {
        self.sources
            .values()
            .filter_map(|c| c.last_seen.or(c.first_seen))
            .max()
    }

    /// Latest import of any source's claim.
    pub fn updated(&self) -> i64 {
        self.sources.values().map(|c| c.updated).max().unwrap_or(0)
    }

    pub fn sighting_count(&self) -> u64 {
        self.sightings
            .values()
            .fold(0u64, |a, n| a.saturating_add(*n))
    }

    /// The instant decay counts from, as MISP: the last sighting, else last_seen, else
    /// first_seen.
    pub fn decay_reference(&self) -> Option<i64> {
        self.last_sighting.max(self.last_seen())
    }

    /// Combined confidence of all sources, 0–1: each source's confidence × its reliability
    /// weight, combined as independent corroboration (`1 − Π(1 − cᵢ)`), so a second source
    /// raises the score but never above 100.
    pub fn combined_confidence(&self) -> f64 {
        1.0 - self
            .sources
            .values()
            .map(|c| 1.0 - c.weighted().clamp(0.0, 1.0))
            .product::<f64>()
    }

    /// The record's score at `now` (Unix seconds), with the type's default decay model.
    pub fn score(&self, now: i64) -> RecordScore {
        self.score_with(now, DecayModel::for_type(self.kind))
    }

    pub fn score_with(&self, now: i64, model: DecayModel) -> RecordScore {
        let combined = self.combined_confidence();
        let age_days = self
            .decay_reference()
            .map(|t| (now - t) as f64 / SECS_PER_DAY);
        let decay = age_days.map_or(1.0, |t| decay_factor(model, t));
        let value = (combined * decay * 100.0).round().clamp(0.0, 100.0) as u8;
        RecordScore {
            value,
            combined,
            age_days,
            reset_by_sighting: self.last_sighting.is_some()
                && self.last_sighting >= self.last_seen(),
            model,
            decay,
            sources: self
                .sources
                .iter()
                .map(|(name, c)| SourceTerm {
                    source: name.clone(),
                    confidence: c.confidence,
                    reliability: c.reliability,
                    weight: c.reliability.map_or(1.0, Reliability::weight),
                })
                .collect(),
        }
    }

    /// The score as a [`Confidence`].
    pub fn confidence(&self, now: i64) -> Confidence {
        Confidence::new(i64::from(self.score(now).value))
    }
}

/// One source's term in a [`RecordScore`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceTerm {
    pub source: String,
    pub confidence: u8,
    pub reliability: Option<Reliability>,
    pub weight: f64,
}

/// A record's score with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordScore {
    /// 0–100.
    pub value: u8,
    /// Combined source confidence, 0–1.
    pub combined: f64,
    /// Days since the decay reference; `None` when undated.
    pub age_days: Option<f64>,
    /// The age counts from a sighting.
    pub reset_by_sighting: bool,
    pub model: DecayModel,
    pub decay: f64,
    pub sources: Vec<SourceTerm>,
}

impl RecordScore {
    /// e.g. `1 − (1 − 80×B 0.90)(1 − 60×F 0.60) = 0.83 × decay 0.75 (age 12.0 d since last
    /// sighting, τ 120 d, δ 2.0) = 62`.
    pub fn explanation(&self) -> String {
        let terms: Vec<String> = self
            .sources
            .iter()
            .map(|t| match t.reliability {
                Some(r) => format!("{} {}×{r} {:.2}", t.source, t.confidence, t.weight),
                None => format!("{} {}", t.source, t.confidence),
            })
            .collect();
        let combined = if terms.len() == 1 {
            format!("confidence {}", terms[0])
        } else {
            format!("corroborated 1 − Π(1 − cᵢ) over [{}]", terms.join(", "))
        };
        let age = match self.age_days {
            Some(a) if self.reset_by_sighting => format!("{a:.1} d since last sighting"),
            Some(a) => format!("age {a:.1} d"),
            None => "age unknown".to_string(),
        };
        format!(
            "{combined} = {:.2} × decay {:.2} ({age}, τ {} d, δ {:.1}) = {}",
            self.combined, self.decay, self.model.lifetime_days, self.model.decay_speed, self.value
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claim(conf: u8, rel: Option<Reliability>, first: Option<i64>, updated: i64) -> SourceClaim {
        SourceClaim {
            confidence: conf,
            reliability: rel,
            credibility: None,
            name: None,
            first_seen: first,
            last_seen: first,
            valid_until: None,
            updated,
        }
    }

    fn rec(source: &str, c: SourceClaim, tlp: Tlp) -> IntelRecord {
        IntelRecord::new(
            IndicatorType::Domain,
            "evil.example".into(),
            source.into(),
            c,
            tlp,
        )
    }

    #[test]
    fn merging_two_feeds_keeps_both_and_takes_the_stricter_marking_and_wider_window() {
        let mut a = rec(
            "feed-a",
            claim(80, Some(Reliability::B), Some(100), 1),
            Tlp::Green,
        );
        a.labels.insert("c2".into());
        a.sightings.insert("sensor-1".into(), 3);
        let mut b = rec("feed-b", claim(60, None, Some(50), 2), Tlp::Amber);
        b.labels.insert("botnet".into());
        b.sightings.insert("sensor-2".into(), 2);
        b.sources.get_mut("feed-b").unwrap().last_seen = Some(900);
        a.merge(&b);
        assert_eq!(a.sources.len(), 2);
        assert_eq!(a.tlp, Tlp::Amber);
        assert_eq!((a.first_seen(), a.last_seen()), (Some(50), Some(900)));
        assert_eq!(a.labels.len(), 2);
        assert_eq!(a.sighting_count(), 5);
        // 1 − (1 − 0.72)(1 − 0.6) = 0.888
        assert!((a.combined_confidence() - 0.888).abs() < 1e-9);
    }

    #[test]
    fn a_newer_claim_from_the_same_source_replaces_its_confidence() {
        let mut a = rec("feed", claim(90, None, Some(10), 1), Tlp::Clear);
        let b = rec("feed", claim(20, None, Some(30), 5), Tlp::Clear);
        a.merge(&b);
        let c = a.sources.get("feed").unwrap();
        assert_eq!(
            (c.confidence, c.first_seen, c.last_seen),
            (20, Some(10), Some(30))
        );
    }

    #[test]
    fn records_of_different_values_do_not_merge() {
        let mut a = rec("f", claim(1, None, None, 1), Tlp::Clear);
        let mut b = a.clone();
        b.value = "other.example".into();
        assert!(!a.merge(&b));
        assert_eq!(a.value, "evil.example");
    }

    #[test]
    fn a_sighting_resets_decay() {
        let day = 86_400;
        let mut r = rec("f", claim(100, None, Some(0), 0), Tlp::Clear);
        let old = r.score(60 * day);
        assert_eq!(old.value, 29, "{}", old.explanation()); // 1 − √(60/120)
        r.last_sighting = Some(59 * day);
        let fresh = r.score(60 * day);
        assert!(fresh.reset_by_sighting);
        assert_eq!(fresh.value, 91, "{}", fresh.explanation()); // 1 − √(1/120)
        assert!(fresh.explanation().contains("since last sighting"));
    }

    fn arb_claim() -> impl Strategy<Value = SourceClaim> {
        (
            0u8..=100,
            prop::option::of(prop::sample::select(Reliability::ALL.to_vec())),
            prop::option::of(1u8..=6),
            prop::option::of(prop::sample::select(vec!["a".to_string(), "b".into()])),
            prop::option::of(0i64..100),
            prop::option::of(0i64..100),
            prop::option::of(0i64..100),
            0i64..5,
        )
            .prop_map(
                |(confidence, reliability, credibility, name, f, l, v, updated)| SourceClaim {
                    confidence,
                    reliability,
                    credibility,
                    name,
                    first_seen: f,
                    last_seen: l,
                    valid_until: v,
                    updated,
                },
            )
    }

    fn arb_record() -> impl Strategy<Value = IntelRecord> {
        let names = || prop::sample::select(vec!["s1".to_string(), "s2".into(), "s3".into()]);
        (
            prop::collection::btree_map(names(), arb_claim(), 1..3),
            prop::collection::btree_set(
                prop::sample::select(vec!["x".to_string(), "y".into()]),
                0..2,
            ),
            prop::sample::select(Tlp::ALL.to_vec()),
            prop::collection::btree_map(names(), 0u64..10, 0..3),
            prop::option::of(0i64..100),
            prop::collection::btree_set(
                prop::sample::select(vec!["indicator--1".to_string(), "indicator--2".into()]),
                0..2,
            ),
            prop::collection::btree_set(
                (
                    prop::sample::select(vec!["k".to_string()]),
                    prop::sample::select(vec!["p1".to_string(), "p2".into()]),
                )
                    .prop_map(|(kill_chain_name, phase_name)| KillChainPhase {
                        kill_chain_name,
                        phase_name,
                    }),
                0..2,
            ),
        )
            .prop_map(
                |(sources, labels, tlp, sightings, last_sighting, stix_ids, kill_chain_phases)| {
                    IntelRecord {
                        kind: IndicatorType::Domain,
                        value: "evil.example".into(),
                        sources: sources.into_iter().collect(),
                        labels,
                        kill_chain_phases,
                        tlp,
                        sightings,
                        last_sighting,
                        warninglists: stix_ids
                            .iter()
                            .map(|s| s.replace("indicator--", "list-"))
                            .collect(),
                        stix_ids,
                    }
                },
            )
    }

    fn merged(a: &IntelRecord, b: &IntelRecord) -> IntelRecord {
        let mut m = a.clone();
        assert!(m.merge(b));
        m
    }

    proptest! {
        #[test]
        fn merge_is_commutative(a in arb_record(), b in arb_record()) {
            prop_assert_eq!(merged(&a, &b), merged(&b, &a));
        }

        #[test]
        fn merge_is_associative(a in arb_record(), b in arb_record(), c in arb_record()) {
            prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        }

        #[test]
        fn merge_is_idempotent(a in arb_record(), b in arb_record()) {
            prop_assert_eq!(merged(&a, &a), a.clone());
            let ab = merged(&a, &b);
            prop_assert_eq!(merged(&ab, &b), ab.clone());
        }

        #[test]
        fn combined_confidence_is_at_least_the_best_source_and_at_most_one(a in arb_record()) {
            let best = a.sources.values().map(SourceClaim::weighted).fold(0.0, f64::max);
            let c = a.combined_confidence();
            prop_assert!(c + 1e-12 >= best && c <= 1.0 + 1e-12);
        }
    }
}
