//! The suricata-verify harness's logic, shared by the `suricata_verify` runner
//! and the `sv_checks` unit tests: upstream's filter-check semantics
//! ([`filter`]) and the test.yaml → plan step ([`spec`]).
#![allow(dead_code)]

pub mod filter;
pub mod spec;

use std::path::{Path, PathBuf};

/// Every directory under `root` (not `root` itself) that holds a `test.yaml`,
/// sorted by path. As upstream, a test directory is not searched further, and
/// symlinked directories are followed.
pub fn discover(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        if !seen.insert(dir.canonicalize().unwrap_or_else(|_| dir.clone())) {
            continue;
        }
        if dir != root && dir.join("test.yaml").is_file() {
            found.push(dir);
            continue;
        }
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                }
            }
        }
    }
    found.sort();
    found
}

/// `dir` relative to `root`, with `/` separators.
pub fn rel_name(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
