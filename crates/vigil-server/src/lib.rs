//! The region hub. For now: the development PKI that hubs and sensors use for TLS and mutual
//! TLS (`vigil certs init`), and the decision feed the CrowdSec-compatible stream will serve.
#![forbid(unsafe_code)]

pub mod certs;
pub mod decisions;
