//! Our STIX pattern parser agrees with `stix2-patterns` (PyPI, the OASIS reference validator)
//! on every line of `tests/data/patterns.txt`: valid and invalid patterns covering every
//! operator, the qualifiers, object paths, all literal kinds, quoting and escapes.
//!
//! The peer runs live through `$VIGIL_PYTHON` (default `<workspace>/.venv/bin/python`); without
//! it the test is skipped, except under `CI`, where it fails.
mod peer;
use peer::*;
use std::path::Path;
use std::process::Command;

use vigil_intel::pattern;

/// Lines where we knowingly differ from stix2-patterns, with the reason.
const EXCEPTIONS: &[(&str, &str)] = &[(
    "[process:arguments[-1] = '-e']",
    "STIXPattern.g4's indexPathStep allows IntNegLiteral; stix2-patterns' inspector reads only \
     IntPosLiteral and raises AttributeError (the oracle prints `crash`); we accept it",
)];

#[test]
fn pattern_parser_agrees_with_stix2_patterns_on_the_corpus() {
    let Some(py) = python() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = dir.join("tests/data/patterns.txt");
    let out = Command::new(&py)
        .arg(dir.join("../../scripts/stix2-patterns-oracle.py"))
        .arg(&corpus)
        .output()
        .expect("run stix2-patterns oracle");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts = String::from_utf8(out.stdout).expect("utf-8");
    let text = std::fs::read_to_string(&corpus).expect("corpus");
    let lines: Vec<&str> = text.lines().collect();
    let verdicts: Vec<&str> = verdicts.lines().collect();
    assert_eq!(lines.len(), verdicts.len(), "one verdict per line");
    let (mut valid, mut invalid, mut disagree) = (0, 0, Vec::new());
    for (n, (line, peer)) in lines.iter().zip(&verdicts).enumerate() {
        if *peer == "skip" {
            continue;
        }
        if *peer == "crash" {
            // A peer crash is no verdict: only a documented exception may produce one.
            assert!(
                EXCEPTIONS.iter().any(|(p, _)| p == line),
                "line {}: stix2-patterns crashed on {line:?}; add it to EXCEPTIONS with the reason",
                n + 1
            );
            assert!(pattern::parse(line).is_ok(), "{line:?}");
            continue;
        }
        let peer_ok = *peer == "valid";
        if peer_ok {
            valid += 1;
        } else {
            invalid += 1;
        }
        let ours = pattern::parse(line);
        if ours.is_ok() != peer_ok && !EXCEPTIONS.iter().any(|(p, _)| p == line) {
            disagree.push(format!(
                "line {}: {line:?}: stix2-patterns says {peer}, we say {}",
                n + 1,
                match &ours {
                    Ok(_) => "valid".to_string(),
                    Err(e) => format!("invalid ({e})"),
                }
            ));
        }
    }
    assert!(
        valid + invalid >= 150,
        "corpus too small: {}",
        valid + invalid
    );
    assert!(
        valid >= 50 && invalid >= 50,
        "{valid} valid, {invalid} invalid"
    );
    assert!(
        disagree.is_empty(),
        "{} disagreements:\n{}",
        disagree.len(),
        disagree.join("\n")
    );
}
