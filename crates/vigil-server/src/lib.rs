//! The region hub. For now: the development PKI that hubs and sensors use for TLS and mutual
//! TLS (`vigil certs init`).
#![forbid(unsafe_code)]

pub mod certs;
