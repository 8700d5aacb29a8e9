//! Who may do what: roles, the actions a region hub exposes, and TLP clearance.
//!
//! Pure decisions over plain data; the hub's handlers ask [`Principal::may`] and
//! [`Principal::cleared_for`] and never decide on their own.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::tlp::Tlp;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including tokens and sources.
    Admin,
    /// Reads and curates intel: import, validate, export, collect.
    Analyst,
    /// A sensor: reads feeds and decisions, reports sightings and alerts.
    Edge,
    /// Another organisation: reads what it is cleared for, contributes to the partner
    /// collection.
    Partner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Edge, Role::Partner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Edge => "edge",
            Role::Partner => "partner",
        }
    }

    /// The clearance a token of this role gets when none is given: partners see what TLP
    /// lets an organisation share with its community (GREEN), sensors what an organisation
    /// shares internally (AMBER), staff everything.
    pub fn default_max_tlp(self) -> Tlp {
        match self {
            Role::Admin | Role::Analyst => Tlp::Red,
            Role::Edge => Tlp::Amber,
            Role::Partner => Tlp::Green,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?} (expected admin, analyst, edge or partner)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Search and read intel objects, records, feeds and stats (within clearance).
    ReadIntel,
    /// Create or import intel into the region's own collections.
    WriteIntel,
    /// Add objects to the partner-contributed collection.
    Contribute,
    /// Read the decision stream.
    ReadDecisions,
    /// Post sightings and alerts from sensors.
    ReportSightings,
    /// Run collection of named sources.
    Collect,
    /// Create, list and revoke tokens.
    ManageTokens,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::ReadIntel,
        Action::WriteIntel,
        Action::Contribute,
        Action::ReadDecisions,
        Action::ReportSightings,
        Action::Collect,
        Action::ManageTokens,
    ];
}

/// Whether `role` may perform `action`.
pub fn allows(role: Role, action: Action) -> bool {
    use Action as A;
    match role {
        Role::Admin => true,
        Role::Analyst => !matches!(action, A::ManageTokens),
        Role::Edge => matches!(action, A::ReadIntel | A::ReadDecisions | A::ReportSightings),
        Role::Partner => matches!(action, A::ReadIntel | A::Contribute),
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    /// The most restrictive TLP this caller may receive.
    pub max_tlp: Tlp,
    /// A token bound to a region is only valid at that region's hub.
    pub region: Option<String>,
}

impl Principal {
    pub fn may(&self, action: Action) -> bool {
        allows(self.role, action)
    }

    /// Whether data marked `tlp` may be shown to this caller, ids and counts included.
    pub fn cleared_for(&self, tlp: Tlp) -> bool {
        tlp <= self.max_tlp
    }

    /// Whether the token may be used at the hub of `region`.
    pub fn valid_in(&self, region: &str) -> bool {
        self.region.as_deref().is_none_or(|r| r == region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_manage_tokens_and_partners_only_read_and_contribute() {
        for r in Role::ALL {
            assert_eq!(allows(r, Action::ManageTokens), r == Role::Admin);
        }
        let partner: Vec<Action> = Action::ALL
            .into_iter()
            .filter(|a| allows(Role::Partner, *a))
            .collect();
        assert_eq!(partner, [Action::ReadIntel, Action::Contribute]);
        assert!(allows(Role::Edge, Action::ReportSightings));
        assert!(!allows(Role::Edge, Action::WriteIntel));
    }

    #[test]
    fn region_bound_tokens_are_valid_only_there() {
        let p = Principal {
            name: "s".into(),
            role: Role::Edge,
            max_tlp: Tlp::Amber,
            region: Some("eu-west".into()),
        };
        assert!(p.valid_in("eu-west") && !p.valid_in("us-east"));
    }

    fn tlp() -> impl Strategy<Value = Tlp> {
        prop::sample::select(Tlp::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn clearance_is_monotonic(max in tlp(), a in tlp(), b in tlp()) {
            let p = Principal { name: "p".into(), role: Role::Partner, max_tlp: max, region: None };
            // Cleared for something means cleared for everything less restrictive.
            if a <= b && p.cleared_for(b) {
                prop_assert!(p.cleared_for(a));
            }
            prop_assert_eq!(p.cleared_for(a), a <= max);
        }

        #[test]
        fn sensors_and_partners_never_exceed_analysts(a in prop::sample::select(Action::ALL.to_vec())) {
            for r in [Role::Edge, Role::Partner] {
                prop_assert!(!allows(r, a) || allows(Role::Analyst, a));
            }
        }
    }
}
