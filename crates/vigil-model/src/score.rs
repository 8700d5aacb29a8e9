//! Scoring of indicator hits: the feed's confidence, weighted by how reliable its source is and
//! decayed with the indicator's age.
//!
//! `value = round(base × reliability weight × decay)`, where the decay is MISP's polynomial
//! decaying model (`Polynomial.php`, from "An indicator scoring method for MISP platforms"):
//! `decay = max(0, 1 − (t/τ)^(1/δ))` for an age of `t` days, a lifetime of `τ` days and a decay
//! speed `δ`. A larger `δ` front-loads the decay (the curve drops steeply at first); a `δ`
//! below 1 keeps the score high for most of the lifetime and drops it near the end.
//!
//! Pure arithmetic: the caller supplies the age (`now − valid_from`), so a scan of an old capture
//! can score against the capture's time rather than the wall clock.
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

use crate::indicator::{Confidence, IndicatorType};

const SECS_PER_DAY: f64 = 86_400.0;

/// Admiralty (NATO AJP-2.1) source reliability grade, configured per feed.
///
/// Weights (see [`Reliability::weight`]) scale a source's own confidence. They fall with the
/// grade so that the same claimed confidence counts for less from a worse source, and `F`
/// ("cannot be judged", i.e. no track record) sits between `C` and `D`: an unknown source is not
/// known to be bad, so it must not be punished like `E`, but it has not earned `B` either.
/// A feed with no grade configured at all is scored by its own confidence alone (weight 1.0),
/// as before grades existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reliability {
    /// Completely reliable: no doubt about authenticity or competence; a history of complete
    /// reliability. Weight 1.0.
    A,
    /// Usually reliable: minor doubt; valid information most of the time. Weight 0.9.
    B,
    /// Fairly reliable: doubt; has provided valid information in the past. Weight 0.75.
    C,
    /// Not usually reliable: significant doubt; valid information only at times. Weight 0.5.
    D,
    /// Unreliable: a history of invalid information. Weight 0.25.
    E,
    /// Reliability cannot be judged: no basis for evaluation. Weight 0.6.
    F,
}

impl Reliability {
    pub const ALL: [Reliability; 6] = [
        Reliability::A,
        Reliability::B,
        Reliability::C,
        Reliability::D,
        Reliability::E,
        Reliability::F,
    ];

    /// The grade letter, `"A"` to `"F"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reliability::A => "A",
            Reliability::B => "B",
            Reliability::C => "C",
            Reliability::D => "D",
            Reliability::E => "E",
            Reliability::F => "F",
        }
    }

    /// The grade's name in the Admiralty scale.
    pub fn description(self) -> &'static str {
        match self {
            Reliability::A => "completely reliable",
            Reliability::B => "usually reliable",
            Reliability::C => "fairly reliable",
            Reliability::D => "not usually reliable",
            Reliability::E => "unreliable",
            Reliability::F => "reliability cannot be judged",
        }
    }

    /// Multiplier applied to the confidence of indicators from a source with this grade.
    pub fn weight(self) -> f64 {
        match self {
            Reliability::A => 1.0,
            Reliability::B => 0.9,
            Reliability::C => 0.75,
            Reliability::D => 0.5,
            Reliability::E => 0.25,
            Reliability::F => 0.6,
        }
    }
}

impl fmt::Display for Reliability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown source reliability {0:?} (expected an Admiralty grade A to F)")]
pub struct UnknownReliability(pub String);

impl FromStr for Reliability {
    type Err = UnknownReliability;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "A" => Ok(Reliability::A),
            "B" => Ok(Reliability::B),
            "C" => Ok(Reliability::C),
            "D" => Ok(Reliability::D),
            "E" => Ok(Reliability::E),
            "F" => Ok(Reliability::F),
            _ => Err(UnknownReliability(s.to_string())),
        }
    }
}

impl Serialize for Reliability {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Reliability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// MISP's polynomial decaying model: lifetime `τ` in days and decay speed `δ`.
///
/// Any values are accepted; [`decay_factor`] stays within 0–1 whatever they are (a lifetime
/// that is not positive, or a negative or NaN speed, decays everything with a positive age to 0;
/// `δ = 0` is a step: full score until `τ`, then 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecayModel {
    /// `τ`: days after which the score reaches 0.
    pub lifetime_days: f64,
    /// `δ`: the curve's shape; the exponent is `1/δ`.
    pub decay_speed: f64,
}

impl DecayModel {
    /// Default model per indicator type.
    ///
    /// | type | τ (days) | δ | source |
    /// |---|---:|---:|---|
    /// | domain, url | 120 | 2 | MISP's default "NIDS Simple Decaying Model" (`lifetime` 120, `decay_speed` 2, Polynomial), which MISP applies to domain, hostname, url and ip attributes |
    /// | ip, cidr | 60 | 2 | δ as MISP's NIDS model; τ halved to 60 days as in OpenCTI's built-in IP decay rule, because addresses are reassigned (cloud, dynamic pools) much sooner than names are re-registered. MISP stores networks as ip attributes, so CIDRs decay alike |
    /// | ja3, ja3s, ja4 | 365 | 1 | our choice (MISP has no default for fingerprints): a fingerprint names a TLS stack, which lives as long as the malware build, but is shared by more software as time goes on, so a linear year |
    /// | md5, sha1, sha256 | 1095 | 0.5 | our choice (MISP has no default for hashes): a sample's hash never changes meaning, so it stays near full score for years (0.89 after one year) |
    pub fn for_type(kind: IndicatorType) -> DecayModel {
        use IndicatorType as T;
        let (lifetime_days, decay_speed) = match kind {
            T::Domain | T::Url => (120.0, 2.0),
            T::Ip | T::Cidr => (60.0, 2.0),
            T::Ja3 | T::Ja3s | T::Ja4 => (365.0, 1.0),
            T::Md5 | T::Sha1 | T::Sha256 => (1095.0, 0.5),
        };
        DecayModel {
            lifetime_days,
            decay_speed,
        }
    }
}

/// `max(0, 1 − (t/τ)^(1/δ))` for an age of `age_days`: 1.0 for ages ≤ 0 (and NaN), 0 from `τ`
/// on. Always within 0–1.
///
/// Unlike MISP, which scores a negative age as 0, an indicator dated in the future keeps its
/// full score: that is clock skew between the feed and the sensor, not staleness.
pub fn decay_factor(model: DecayModel, age_days: f64) -> f64 {
    // NaN ages count as unknown; a NaN lifetime compares as neither and gives 0.
    if age_days.is_nan() || age_days <= 0.0 {
        return 1.0;
    }
    if age_days.partial_cmp(&model.lifetime_days) != Some(std::cmp::Ordering::Less) {
        return 0.0;
    }
    let d = 1.0 - (age_days / model.lifetime_days).powf(1.0 / model.decay_speed);
    if d > 0.0 {
        d.min(1.0)
    } else {
        0.0
    }
}

/// A scored indicator hit, with everything needed to explain the number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `round(base × reliability_weight × decay)`, 0–100, never above `base`.
    pub value: u8,
    /// The indicator's confidence.
    pub base: u8,
    /// The source's grade, if one is configured.
    pub reliability: Option<Reliability>,
    /// 1.0 without a grade.
    pub reliability_weight: f64,
    /// `now − valid_from` in days; `None` when the indicator has no date.
    pub age_days: Option<f64>,
    /// The decay model used.
    pub model: DecayModel,
    /// 1.0 when the age is unknown.
    pub decay: f64,
}

impl Score {
    /// One line, e.g. `base 80 × reliability B 0.90 × decay 0.75 (age 12.0 d, τ 120 d, δ 2.0) = 54`.
    pub fn explanation(&self) -> String {
        let rel = match self.reliability {
            Some(r) => format!("reliability {r} {:.2}", self.reliability_weight),
            None => format!("reliability unset {:.2}", self.reliability_weight),
        };
        let age = match self.age_days {
            Some(a) => format!("age {a:.1} d"),
            None => "age unknown".to_string(),
        };
        format!(
            "base {} × {rel} × decay {:.2} ({age}, τ {} d, δ {:.1}) = {}",
            self.base, self.decay, self.model.lifetime_days, self.model.decay_speed, self.value
        )
    }
}

/// Scores an indicator of type `kind` with its type's default [`DecayModel`]. No reliability
/// counts as weight 1.0; an unknown age (`None`) as no decay.
pub fn score(
    base: Confidence,
    reliability: Option<Reliability>,
    kind: IndicatorType,
    age_secs: Option<i64>,
) -> Score {
    score_with_model(base, reliability, DecayModel::for_type(kind), age_secs)
}

/// [`score`] with an explicit decay model (for configured per-type overrides).
pub fn score_with_model(
    base: Confidence,
    reliability: Option<Reliability>,
    model: DecayModel,
    age_secs: Option<i64>,
) -> Score {
    let base = base.get();
    let reliability_weight = reliability.map_or(1.0, Reliability::weight);
    let age_days = age_secs.map(|s| s as f64 / SECS_PER_DAY);
    let decay = age_days.map_or(1.0, |t| decay_factor(model, t));
    // Both factors are within 0–1, so the product never exceeds the integer base and rounding
    // cannot push it above.
    let value = (f64::from(base) * reliability_weight * decay)
        .round()
        .clamp(0.0, f64::from(base)) as u8;
    Score {
        value,
        base,
        reliability,
        reliability_weight,
        age_days,
        model,
        decay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400;

    #[test]
    fn reliability_parses_case_insensitively_and_serialises_as_the_letter() {
        for r in Reliability::ALL {
            assert_eq!(r.as_str().parse::<Reliability>().unwrap(), r);
            assert_eq!(r.as_str().to_lowercase().parse::<Reliability>().unwrap(), r);
        }
        assert_eq!(" b ".parse::<Reliability>().unwrap(), Reliability::B);
        let e = "G".parse::<Reliability>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown source reliability \"G\" (expected an Admiralty grade A to F)"
        );
        assert!("AB".parse::<Reliability>().is_err());
        assert!("".parse::<Reliability>().is_err());
        assert_eq!(serde_json::to_string(&Reliability::C).unwrap(), "\"C\"");
        assert_eq!(
            serde_json::from_str::<Reliability>("\"e\"").unwrap(),
            Reliability::E
        );
        assert!(serde_json::from_str::<Reliability>("\"Z\"").is_err());
        assert_eq!(Reliability::F.description(), "reliability cannot be judged");
    }

    #[test]
    fn weights_fall_with_the_grade_and_unknown_is_not_unreliable() {
        let w: Vec<f64> = Reliability::ALL[..5].iter().map(|r| r.weight()).collect();
        assert!(w.windows(2).all(|p| p[0] > p[1]), "{w:?}");
        assert!(Reliability::F.weight() > Reliability::E.weight());
        assert!(Reliability::F.weight() > Reliability::D.weight());
        assert!(Reliability::F.weight() < Reliability::C.weight());
    }

    #[test]
    fn decay_follows_the_misp_polynomial() {
        let m = DecayModel {
            lifetime_days: 120.0,
            decay_speed: 2.0,
        };
        assert_eq!(decay_factor(m, 0.0), 1.0);
        assert_eq!(decay_factor(m, -5.0), 1.0);
        assert_eq!(decay_factor(m, f64::NAN), 1.0);
        // 1 − (30/120)^(1/2) = 0.5
        assert!((decay_factor(m, 30.0) - 0.5).abs() < 1e-12);
        assert_eq!(decay_factor(m, 120.0), 0.0);
        assert_eq!(decay_factor(m, 1e9), 0.0);
        let linear = DecayModel {
            lifetime_days: 10.0,
            decay_speed: 1.0,
        };
        assert!((decay_factor(linear, 2.5) - 0.75).abs() < 1e-12);
        let step = DecayModel {
            lifetime_days: 10.0,
            decay_speed: 0.0,
        };
        assert_eq!(decay_factor(step, 9.99), 1.0);
        assert_eq!(decay_factor(step, 10.0), 0.0);
        for bad in [
            DecayModel {
                lifetime_days: 0.0,
                decay_speed: 1.0,
            },
            DecayModel {
                lifetime_days: f64::NAN,
                decay_speed: 1.0,
            },
            DecayModel {
                lifetime_days: 10.0,
                decay_speed: f64::NAN,
            },
            DecayModel {
                lifetime_days: 10.0,
                decay_speed: -1.0,
            },
        ] {
            assert_eq!(decay_factor(bad, 1.0), 0.0, "{bad:?}");
        }
    }

    #[test]
    fn per_type_defaults_order_ips_fastest_and_hashes_slowest() {
        use IndicatorType as T;
        let at = |k, days| decay_factor(DecayModel::for_type(k), days);
        for days in [1.0, 7.0, 30.0, 90.0] {
            assert!(at(T::Ip, days) <= at(T::Domain, days));
            assert!(at(T::Domain, days) <= at(T::Ja3, days));
            assert!(at(T::Ja3, days) <= at(T::Sha256, days));
        }
        assert_eq!(DecayModel::for_type(T::Cidr), DecayModel::for_type(T::Ip));
        assert_eq!(
            DecayModel::for_type(T::Url),
            DecayModel::for_type(T::Domain)
        );
        assert_eq!(DecayModel::for_type(T::Ja4), DecayModel::for_type(T::Ja3s));
        assert_eq!(DecayModel::for_type(T::Md5), DecayModel::for_type(T::Sha1));
        assert!((at(T::Sha256, 365.0) - (1.0 - 1.0 / 9.0)).abs() < 1e-12);
    }

    #[test]
    fn score_combines_the_three_factors_and_explains_itself() {
        let s = score(
            Confidence::new(80),
            Some(Reliability::B),
            IndicatorType::Domain,
            Some(30 * DAY),
        );
        assert_eq!(s.base, 80);
        assert_eq!(s.reliability_weight, 0.9);
        assert!((s.decay - 0.5).abs() < 1e-12);
        assert_eq!(s.value, 36);
        assert_eq!(
            s.explanation(),
            "base 80 × reliability B 0.90 × decay 0.50 (age 30.0 d, τ 120 d, δ 2.0) = 36"
        );
        let s = score(Confidence::new(70), None, IndicatorType::Ip, None);
        assert_eq!((s.value, s.reliability_weight, s.decay), (70, 1.0, 1.0));
        assert_eq!(
            s.explanation(),
            "base 70 × reliability unset 1.00 × decay 1.00 (age unknown, τ 60 d, δ 2.0) = 70"
        );
        // Future-dated: clock skew, full score.
        let s = score(Confidence::new(70), None, IndicatorType::Ip, Some(-DAY));
        assert_eq!((s.value, s.decay, s.age_days), (70, 1.0, Some(-1.0)));
        let s = score(
            Confidence::new(100),
            Some(Reliability::A),
            IndicatorType::Ip,
            Some(61 * DAY),
        );
        assert_eq!(s.value, 0);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"reliability\":\"A\""), "{json}");
    }

    fn any_reliability() -> impl Strategy<Value = Option<Reliability>> {
        prop_oneof![
            Just(None),
            prop::sample::select(Reliability::ALL.to_vec()).prop_map(Some)
        ]
    }

    fn any_kind() -> impl Strategy<Value = IndicatorType> {
        prop::sample::select(IndicatorType::ALL.to_vec())
    }

    fn any_age() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![
            Just(None),
            (-10 * DAY..4000 * DAY).prop_map(Some),
            any::<i64>().prop_map(Some),
        ]
    }

    proptest! {
        #[test]
        fn value_is_a_percentage_never_above_base(
            base in 0i64..=100, r in any_reliability(), k in any_kind(), age in any_age(),
        ) {
            let s = score(Confidence::new(base), r, k, age);
            prop_assert!(s.value <= 100);
            prop_assert!(i64::from(s.value) <= base);
            prop_assert!((0.0..=1.0).contains(&s.decay));
        }

        #[test]
        fn older_never_scores_higher(
            base in 0i64..=100, r in any_reliability(), k in any_kind(),
            a in -10 * DAY..4000 * DAY, extra in 0i64..4000 * DAY,
        ) {
            let young = score(Confidence::new(base), r, k, Some(a));
            let old = score(Confidence::new(base), r, k, Some(a + extra));
            prop_assert!(old.decay <= young.decay);
            prop_assert!(old.value <= young.value);
            // An unknown age is never worse than a known one.
            prop_assert!(score(Confidence::new(base), r, k, None).value >= young.value);
        }

        #[test]
        fn better_grades_never_score_lower(
            base in 0i64..=100, k in any_kind(), age in any_age(),
        ) {
            let v = |r| score(Confidence::new(base), r, k, age).value;
            let order = [None, Some(Reliability::A), Some(Reliability::B),
                Some(Reliability::C), Some(Reliability::D), Some(Reliability::E)];
            for p in order.windows(2) {
                prop_assert!(v(p[0]) >= v(p[1]), "{:?} < {:?}", p[0], p[1]);
            }
        }

        #[test]
        fn decay_stays_in_range_for_any_model(
            tau in prop::num::f64::ANY, delta in prop::num::f64::ANY, t in prop::num::f64::ANY,
        ) {
            let d = decay_factor(DecayModel { lifetime_days: tau, decay_speed: delta }, t);
            prop_assert!((0.0..=1.0).contains(&d), "{}", d);
        }
    }
}
