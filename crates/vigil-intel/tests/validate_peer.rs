//! `vigil_intel::validate` calls the same objects invalid as `stix2-validator` (the OASIS
//! reference validator, run live through `$VIGIL_PYTHON`, default `<workspace>/.venv/bin/python`;
//! skipped without it, except under `CI`) on the ATT&CK for ICS bundle, every OASIS example,
//! and the broken documents in `tests/data/stix-invalid/`.
//!
//! Differences by design, excluded explicitly below:
//! * `dangling-reference`: stix2-validator does not resolve references (its `--enforce_refs`
//!   is off by default and only covers relationships), so an object whose only errors are
//!   dangling references is left out of our side of the comparison.
mod peer;
use peer::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil_intel::validate::{validate_json, Report, ValidateOptions};

/// Error codes stix2-validator does not check (see the module docs).
const NOT_CHECKED_BY_PEER: &[&str] = &["dangling-reference"];

fn data_dir() -> PathBuf {
    std::env::var_os("VIGIL_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

fn peer_invalid(py: &Path, file: &Path) -> BTreeSet<String> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/stix2-validator-oracle.py");
    let out = Command::new(py)
        .arg(script)
        .arg(file)
        .output()
        .expect("run oracle");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("oracle json");
    assert!(v["fatal"].is_null(), "{}: {}", file.display(), v["fatal"]);
    v["invalid"]
        .as_array()
        .expect("invalid list")
        .iter()
        .filter_map(|s| s.as_str().map(String::from))
        .collect()
}

fn our_invalid(r: &Report) -> BTreeSet<String> {
    r.objects
        .iter()
        .filter(|o| {
            o.errors
                .iter()
                .any(|e| !NOT_CHECKED_BY_PEER.contains(&e.code.as_str()))
        })
        .map(|o| o.id.clone())
        .collect()
}

fn files() -> Vec<PathBuf> {
    let data = data_dir();
    let mut v = vec![data.join("stix/attack/ics-attack-18.1.json")];
    for dir in [
        "stix/cti-stix2-json-schemas/examples",
        "stix/cti-stix2-json-schemas/examples/threat-reports",
    ] {
        let mut fs: Vec<PathBuf> = std::fs::read_dir(data.join(dir))
            .expect("examples")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        fs.sort();
        v.extend(fs);
    }
    let mut broken: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stix-invalid"))
            .expect("stix-invalid")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
    broken.sort();
    v.extend(broken);
    v
}

#[test]
fn invalid_objects_match_stix2_validator() {
    let Some(py) = python() else { return };
    let opts = ValidateOptions::at(1_767_225_600);
    let mut failures = Vec::new();
    for f in files() {
        let data = std::fs::read(&f).expect("read");
        let r = validate_json(&f.display().to_string(), &data, &opts).expect("json");
        let ours = our_invalid(&r);
        let peer = peer_invalid(&py, &f);
        if ours != peer {
            let detail: Vec<String> = r
                .objects
                .iter()
                .flat_map(|o| o.errors.iter())
                .map(|e| format!("    {}: {}: {}", e.path, e.code, e.message))
                .collect();
            failures.push(format!(
                "{}:\n  only ours: {:?}\n  only stix2-validator: {:?}\n{}",
                f.display(),
                ours.difference(&peer).collect::<Vec<_>>(),
                peer.difference(&ours).collect::<Vec<_>>(),
                detail.join("\n")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn broken_documents_fail_with_the_expected_codes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stix-invalid");
    let opts = ValidateOptions::at(1_767_225_600);
    for (file, code) in [
        ("missing-required-property.json", "missing-property"),
        ("bad-id.json", "invalid-id"),
        ("bad-timestamp.json", "invalid-timestamp"),
        ("bad-pattern.json", "invalid-pattern"),
        ("dangling-reference.json", "dangling-reference"),
        ("bad-type-name.json", "invalid-type-name"),
        ("modified-before-created.json", "timestamp-order"),
    ] {
        let data = std::fs::read(dir.join(file)).expect("read");
        let r = validate_json(file, &data, &opts).expect("json");
        assert!(!r.is_valid(), "{file}");
        assert!(
            r.summary.by_code.contains_key(code),
            "{file}: {:?}",
            r.summary.by_code
        );
    }
}
