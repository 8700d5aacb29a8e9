//! The shared vocabulary of Vigil. Plain data, no I/O, so every other crate can depend on it.
#![forbid(unsafe_code)]

pub mod access;
pub mod clock;
pub mod decision;
pub mod indicator;
pub mod record;
pub mod score;
pub mod tlp;

pub use access::{Action, Principal, Role};
pub use clock::{Clock, ManualClock, SystemClock};
pub use decision::{
    combine, decide, decide_alerts, next_wake, stabilize, AlertEvidence, Decision, DecisionFilter,
    DecisionPolicy, Lookup, Scope, Span,
};
pub use indicator::{Confidence, Indicator, IndicatorType, Severity};
pub use record::{IntelRecord, KillChainPhase, RecordScore, SourceClaim, Sources};
pub use score::{score, DecayModel, Reliability, Score};
pub use tlp::Tlp;
