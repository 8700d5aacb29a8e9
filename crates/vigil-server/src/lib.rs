//! Vigil's region hub: the service sensors report to, analysts and partners query, and other
//! regions sync with. REST under `/api/v1`, TAXII 2.1 under `/taxii2/`, a CrowdSec-compatible
//! decision stream under `/v1/decisions`, Prometheus metrics, tokens with TLP clearance, TLS.
#![forbid(unsafe_code)]

pub mod api;
pub mod auth;
pub mod certs;
pub mod config;
pub mod decisions;
pub mod extract;
pub mod fuzzing;
pub mod hub;
pub mod metrics;
pub mod pool;
pub mod problem;
pub mod serve;
pub mod sightings;
pub mod stream;
pub mod taxii;

pub use config::HubConfig;
pub use hub::Hub;
