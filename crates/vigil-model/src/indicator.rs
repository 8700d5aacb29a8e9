//! Indicators of compromise as plain data.
//!
//! An [`Indicator`] always holds its value in canonical form (see `vigil-intel`'s normaliser);
//! matching engines rely on that and never re-normalise stored values.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::score::Reliability;

/// What an indicator's value denotes, and therefore which traffic fields it is matched against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorType {
    /// A single IPv4 or IPv6 address.
    Ip,
    /// An IPv4 or IPv6 network in canonical form (`10.0.0.0/8`).
    Cidr,
    /// A DNS name; matches the name itself and its subdomains.
    Domain,
    /// A URL in canonical form without scheme: `host[:port]/path[?query]`.
    Url,
    Ja3,
    Ja3s,
    Ja4,
    Md5,
    Sha1,
    Sha256,
}

impl IndicatorType {
    pub const ALL: [IndicatorType; 10] = [
        IndicatorType::Ip,
        IndicatorType::Cidr,
        IndicatorType::Domain,
        IndicatorType::Url,
        IndicatorType::Ja3,
        IndicatorType::Ja3s,
        IndicatorType::Ja4,
        IndicatorType::Md5,
        IndicatorType::Sha1,
        IndicatorType::Sha256,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorType::Ip => "ip",
            IndicatorType::Cidr => "cidr",
            IndicatorType::Domain => "domain",
            IndicatorType::Url => "url",
            IndicatorType::Ja3 => "ja3",
            IndicatorType::Ja3s => "ja3s",
            IndicatorType::Ja4 => "ja4",
            IndicatorType::Md5 => "md5",
            IndicatorType::Sha1 => "sha1",
            IndicatorType::Sha256 => "sha256",
        }
    }
}

impl fmt::Display for IndicatorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown indicator type {0:?} (expected one of ip, cidr, domain, url, ja3, ja3s, ja4, md5, sha1, sha256)")]
pub struct UnknownIndicatorType(pub String);

impl FromStr for IndicatorType {
    type Err = UnknownIndicatorType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "ip" | "ipv4" | "ipv6" | "ip-dst" | "ip-src" | "ipv4-addr" | "ipv6-addr"
            | "address" => IndicatorType::Ip,
            "cidr" | "network" | "subnet" | "ip-range" => IndicatorType::Cidr,
            "domain" | "hostname" | "domain-name" | "fqdn" | "host" | "sni" => {
                IndicatorType::Domain
            }
            "url" | "uri" => IndicatorType::Url,
            "ja3" | "ja3-fingerprint-md5" => IndicatorType::Ja3,
            "ja3s" => IndicatorType::Ja3s,
            "ja4" => IndicatorType::Ja4,
            "md5" => IndicatorType::Md5,
            "sha1" | "sha-1" => IndicatorType::Sha1,
            "sha256" | "sha-256" => IndicatorType::Sha256,
            _ => return Err(UnknownIndicatorType(s.to_string())),
        })
    }
}

/// Confidence 0–100, as in STIX 2.1 `confidence`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Confidence(u8);

impl Confidence {
    pub const MAX: Confidence = Confidence(100);

    /// Clamps to 0–100 so that a sloppy feed cannot produce an out-of-range score.
    pub fn new(v: i64) -> Confidence {
        Confidence(v.clamp(0, 100) as u8)
    }
    pub fn get(self) -> u8 {
        self.0
    }
}

/// Suricata severity: 1 is the most severe, 4 the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Severity(u8);

impl Severity {
    pub fn new(v: u8) -> Severity {
        Severity(v.clamp(1, 4))
    }
    pub fn get(self) -> u8 {
        self.0
    }
    /// Derives a Suricata severity from a confidence: confident indicators rank higher.
    pub fn from_confidence(c: Confidence) -> Severity {
        match c.get() {
            80..=100 => Severity(1),
            50..=79 => Severity(2),
            20..=49 => Severity(3),
            _ => Severity(4),
        }
    }
}

/// One indicator of compromise, with its canonical value and provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub kind: IndicatorType,
    /// Canonical value (lower-case domain, canonical CIDR, scheme-less URL, lower-case hash …).
    pub value: String,
    /// The feed or file the indicator came from.
    pub source: String,
    /// STIX id or feed-specific id, when the source has one.
    pub id: Option<String>,
    pub confidence: Confidence,
    pub severity: Severity,
    /// Human-readable description (STIX name, MISP comment, list comment).
    pub name: Option<String>,
    /// When the indicator became valid or was first seen, in Unix seconds (STIX `valid_from`,
    /// a feed's `first_seen`); the reference point of age decay. `None`: unknown age.
    #[serde(default)]
    pub valid_from: Option<i64>,
    /// The Admiralty grade configured for the feed this indicator came from.
    #[serde(default)]
    pub reliability: Option<Reliability>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip_and_common_aliases_parse() {
        for t in IndicatorType::ALL {
            assert_eq!(t.as_str().parse::<IndicatorType>().unwrap(), t);
        }
        assert_eq!(
            "domain-name".parse::<IndicatorType>().unwrap(),
            IndicatorType::Domain
        );
        assert_eq!(
            "ipv4-addr".parse::<IndicatorType>().unwrap(),
            IndicatorType::Ip
        );
        assert!("mutex".parse::<IndicatorType>().is_err());
    }

    #[test]
    fn confidence_is_clamped_and_maps_to_severity() {
        assert_eq!(Confidence::new(250).get(), 100);
        assert_eq!(Confidence::new(-3).get(), 0);
        assert_eq!(Severity::from_confidence(Confidence::new(90)).get(), 1);
        assert_eq!(Severity::from_confidence(Confidence::new(10)).get(), 4);
    }

    #[test]
    fn indicators_serialised_before_provenance_existed_still_load() {
        let old = r#"{"kind":"ip","value":"192.0.2.1","source":"f","id":null,
            "confidence":60,"severity":2,"name":null}"#;
        let i: Indicator = serde_json::from_str(old).unwrap();
        assert_eq!((i.valid_from, i.reliability), (None, None));
        let new = Indicator {
            valid_from: Some(1_700_000_000),
            reliability: Some(Reliability::B),
            ..i
        };
        let json = serde_json::to_string(&new).unwrap();
        assert!(
            json.contains(r#""valid_from":1700000000,"reliability":"B""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Indicator>(&json).unwrap(), new);
    }
}
