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

/// The shared data folder: `$VIGIL_DATA_DIR`, else `shared/data` beside the repository, else
/// /work/shared/data.
fn shared_data() -> PathBuf {
    vigil_detect::testdata::shared_data_dir()
}

#[test]
fn rule_parser_survives_mutated_rules() {
    let et = shared_data().join("et-open");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&et)
        .unwrap_or_else(|e| panic!("{} unreadable ({e})", et.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rules"))
        .collect();
    files.sort();
    // ~200 single rules spread over ET Open (active and commented-out), 40 mutations each.
    let mut lines = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        lines.extend(
            text.lines()
                .filter(|l| l.contains("sid:"))
                .map(str::to_string),
        );
    }
    let step = (lines.len() / 200).max(1);
    let seeds: Vec<&String> = lines.iter().step_by(step).collect();
    assert!(seeds.len() >= 200, "{}", seeds.len());
    for s in &seeds {
        fuzzing::mutations(s.as_bytes(), 40, fuzzing::rules);
    }
    // Whole rule files: small ET files and the suricata-verify multi-line rules.
    let mut whole: Vec<PathBuf> = [
        "emerging-dns.rules",
        "emerging-telnet.rules",
        "dshield.rules",
    ]
    .iter()
    .map(|n| et.join(n))
    .collect();
    whole.push(shared_data().join("suricata-verify/tests/detect-pcrexform-05/test.rules"));
    whole.push(shared_data().join("suricata-verify/tests/dnp3/dnp3-flood/test.rules"));
    for f in whole {
        let seed = std::fs::read(&f).unwrap_or_else(|e| panic!("{} unreadable ({e})", f.display()));
        fuzzing::mutations(&seed, 30, fuzzing::rules);
    }
}

#[test]
fn intel_entry_survives_mutated_feeds() {
    let intel = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/vigil-intel/tests/data");
    let mut seeds: Vec<PathBuf> = vec![
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/intel/demo-bundle.json"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/intel/c2-ips.csv"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/intel/c2-domains.txt"),
        intel.join("misp/event.json"),
        intel.join("warninglists-sample.tsv"),
        shared_data().join("stix/cti-stix2-json-schemas/examples/indicators-for-C2-with-COA.json"),
    ];
    for e in std::fs::read_dir(intel.join("stix-invalid")).unwrap() {
        seeds.push(e.unwrap().path());
    }
    seeds.sort();
    for f in seeds {
        let seed = std::fs::read(&f).unwrap_or_else(|e| panic!("{} unreadable ({e})", f.display()));
        fuzzing::mutations(&seed, 60, fuzzing::intel);
    }
}
