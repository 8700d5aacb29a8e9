//! The Python interpreter with the reference peers (stix2-validator, stix2-patterns, pymisp,
//! pymispwarninglists), shared by the peer tests of every crate.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `$VIGIL_PYTHON`, else the workspace's `.venv` (which `.ci/run` installs). Missing is a skip
/// (`None`, with a message), except under `CI`, where it is a failure.
pub fn python() -> Option<PathBuf> {
    let p = std::env::var_os("VIGIL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv/bin/python"));
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must provide the Python peers at {} (see .ci/run)",
        p.display()
    );
    eprintln!("skipped: no python peer at {}", p.display());
    None
}
