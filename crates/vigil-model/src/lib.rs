//! The shared vocabulary of Vigil. Plain data, no I/O, so every other crate can depend on it.
#![forbid(unsafe_code)]

pub mod indicator;
pub mod tlp;

pub use indicator::{Confidence, Indicator, IndicatorType, Severity};
pub use tlp::Tlp;
