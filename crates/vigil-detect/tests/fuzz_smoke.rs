//! A deterministic smoke run of every fuzz entry point over mutations of real inputs. Not a
//! substitute for `cargo fuzz` (docs/FUZZING.md), but it keeps panics out of CI.

use std::path::{Path, PathBuf};
use vigil_detect::fuzzing;
use vigil_detect::pcap::CaptureReader;

fn captures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/pcaps");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Frames and transport payloads of the sample captures, as seeds.
fn frames() -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    for p in captures() {
        let data = std::fs::read(&p).unwrap();
        let mut r = CaptureReader::new(data.as_slice()).unwrap();
        while let Ok(Some(pkt)) = r.next_packet() {
            out.push((pkt.linktype, pkt.data.to_vec()));
        }
    }
    out
}

fn payloads() -> Vec<Vec<u8>> {
    use vigil_detect::decode::{decode, DecodeOutcome, L4};
    frames()
        .iter()
        .filter_map(|(lt, f)| match decode(*lt, f) {
            Ok(DecodeOutcome::Packet(d)) => match d.l4 {
                L4::Tcp(t) if !t.payload.is_empty() => Some(t.payload.to_vec()),
                L4::Udp { payload, .. } if !payload.is_empty() => Some(payload.to_vec()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn capture_reader_survives_mutated_captures() {
    for p in captures() {
        let seed = std::fs::read(&p).unwrap();
        fuzzing::mutations(&seed, 300, fuzzing::capture);
    }
}

#[test]
fn decoder_survives_mutated_frames() {
    for (_, f) in frames() {
        fuzzing::mutations(&f, 60, fuzzing::decode);
    }
}

#[test]
fn app_parsers_survive_mutated_payloads() {
    let seeds = payloads();
    assert!(seeds.len() > 50);
    for s in &seeds {
        fuzzing::mutations(s, 40, |m| {
            fuzzing::dns(m);
            fuzzing::http(m);
            fuzzing::tls(m);
        });
    }
}
