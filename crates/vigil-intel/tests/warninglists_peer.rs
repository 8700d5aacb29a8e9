//! `Warninglists::check` agrees with pymispwarninglists (CIDR-correct mode) on every line of
//! `tests/data/warninglists-sample.tsv`, run live through `scripts/warninglists-oracle.py`
//! over the same list files.
//!
//! The peer is located through `VIGIL_PYTHON` (default `<workspace>/.venv/bin/python`). Without
//! it the test is skipped, unless `CI` is set, where it fails. The oracle takes about 30 s
//! (loading the CIDR lists into pymispwarninglists dominates).

mod peer;
use peer::*;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil_intel::warninglists::{ListType, Warninglists};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn joined(mut slugs: Vec<&str>) -> String {
    slugs.sort_unstable();
    slugs.join(",")
}

#[test]
fn check_agrees_with_pymispwarninglists_on_the_sample() {
    let Some(py) = python() else {
        eprintln!("skipped: no python peer");
        return;
    };
    let lists = workspace().join("data/warninglists");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/warninglists-sample.tsv");
    let out = Command::new(&py)
        .arg(workspace().join("scripts/warninglists-oracle.py"))
        .arg(&lists)
        .arg(&sample)
        .output()
        .expect("run the oracle");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers = String::from_utf8(out.stdout).unwrap();
    let w = Warninglists::load_dir(&lists).unwrap();

    let text = std::fs::read_to_string(&sample).unwrap();
    let rows: Vec<(&str, &str)> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once('\t').expect("misp_type<TAB>value"))
        .collect();
    let answers: Vec<&str> = answers.lines().collect();
    assert_eq!(rows.len(), answers.len(), "one answer per sample line");

    let mut mismatches = Vec::new();
    let mut kinds_hit = std::collections::BTreeSet::new();
    for ((misp_type, value), answer) in rows.iter().zip(&answers) {
        let (peer, regex) = answer.split_once('\t').unwrap_or((answer, ""));
        let hits = w.check(misp_type, value);
        kinds_hit.extend(hits.iter().map(|h| h.kind));
        let ours = joined(
            hits.iter()
                .filter(|h| h.kind != ListType::Regex)
                .map(|h| h.list)
                .collect(),
        );
        let ours_regex = joined(
            hits.iter()
                .filter(|h| h.kind == ListType::Regex)
                .map(|h| h.list)
                .collect(),
        );
        if ours != peer || ours_regex != regex {
            mismatches.push(format!(
                "{misp_type}\t{value:?}: vigil [{ours}] [{ours_regex}], peer [{peer}] [{regex}]"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} sample lines disagree:\n{}",
        mismatches.len(),
        rows.len(),
        mismatches.join("\n")
    );
    // The sample exercises every list type.
    assert_eq!(kinds_hit.into_iter().collect::<Vec<_>>(), ListType::ALL);
    eprintln!("{} sample lines agree with pymispwarninglists", rows.len());
}
