//! Vigil's edge detection engine.
//!
//! Data flow of one packet: [`pcap`] reads a record → [`decode`] walks link, network and
//! transport headers ([`frag`] reassembles IPv4 fragments) → [`engine`] shards by flow hash →
//! [`flow`] finds the bidirectional flow → [`reassembly`] orders TCP payload → [`app`] parses
//! DNS, HTTP and TLS → [`tables`] matches indicators → [`eve`] writes events.
#![forbid(unsafe_code)]

pub mod app;
pub mod checksum;
pub mod decode;
pub mod engine;
pub mod eve;
pub mod flow;
pub mod frag;
pub mod fuzzing;
pub mod models;
pub mod pcap;
pub mod reassembly;
pub mod rules;
pub mod signatures;
pub mod synth;
pub mod tables;
pub mod testdata;
