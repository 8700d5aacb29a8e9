//! Times `vigil_intel::validate::validate_json` on a file, then `stix2-validator` on the same
//! file (via `$VIGIL_PYTHON`, default `<workspace>/.venv/bin/python`), and prints both.
//!
//! `cargo run --release -p vigil-intel --example validate_bench -- FILE`
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use vigil_intel::validate::{validate_json, ValidateOptions};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: validate_bench FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(&path).expect("read file");
    let opts = ValidateOptions::at(1_767_225_600); // 2026-01-01, fixed so runs compare
    let mut best = f64::MAX;
    let mut report = None;
    for _ in 0..20 {
        let t = Instant::now();
        let r = validate_json(&path, &data, &opts).expect("valid json");
        best = best.min(t.elapsed().as_secs_f64());
        report = Some(r);
    }
    let Some(r) = report else { return };
    println!(
        "vigil: {} objects ({} invalid, {} errors, {} warnings) in {:.1} ms (best of 20)",
        r.summary.objects,
        r.summary.invalid,
        r.summary.errors,
        r.summary.warnings,
        best * 1e3
    );
    let parse = Instant::now();
    let v: serde_json::Value = serde_json::from_slice(&data).expect("json");
    println!(
        "  (of which JSON parsing {:.1} ms)",
        parse.elapsed().as_secs_f64() * 1e3
    );
    drop(v);
    for f in r.objects.iter().flat_map(|o| o.errors.iter()).take(8) {
        println!("  {}: error[{}]: {}", f.path, f.code, f.message);
    }
    for (code, n) in &r.summary.by_code {
        println!("  {code}: {n}");
    }
    let python = std::env::var_os("VIGIL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
        });
    if !python.exists() {
        println!(
            "stix2-validator: skipped (no python at {})",
            python.display()
        );
        return;
    }
    let t = Instant::now();
    let out = Command::new(&python)
        .args(["-c", "import sys\nfrom stix2validator import validate_file, ValidationOptions\nr = validate_file(sys.argv[1], ValidationOptions(silent=True))\nprint(r.is_valid)", &path])
        .output()
        .expect("run python");
    println!(
        "stix2-validator: valid={} in {:.2} s (incl. interpreter start)",
        String::from_utf8_lossy(&out.stdout).trim(),
        t.elapsed().as_secs_f64()
    );
}
