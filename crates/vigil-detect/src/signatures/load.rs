//! Loading rules for a scan: rule files (or directories of them), an optional suricata.yaml
//! with its variables, reputation files, datasets, classification and threshold files,
//! compiled into a [`SignatureSet`] and an [`AlertPolicy`].

use super::post::{AlertPolicy, Limit, Suppress};
use super::{LoadReport, RuleContext, SignatureSet};
use crate::rules::classification::{ClassificationError, ClassificationTable};
use crate::rules::config::{ConfigError, SuricataConfig};
use crate::rules::datasets::{DatasetError, Datasets};
use crate::rules::iprep::{IpReputation, ReputationError};
use crate::rules::threshold_config::{self, ThresholdConfigError, ThresholdEntry, ThresholdRule};
use crate::rules::{parse_rules, ParseOptions, RuleError};
use std::io;
use std::path::{Path, PathBuf};

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadRequest {
    /// Rule files, or directories searched recursively for `*.rules`.
    pub rules: Vec<PathBuf>,
    /// suricata.yaml; without it Suricata's default variables apply.
    pub config: Option<PathBuf>,
    /// Refuse the whole load when any rule fails to parse or compile.
    pub strict: bool,
    /// threshold.config to use instead of the configuration's `threshold-file`.
    pub threshold_file: Option<PathBuf>,
}

/// The loaded rules and what happened on the way.
pub struct Loaded {
    pub set: SignatureSet,
    pub report: LoadReport,
    /// Rules that did not parse (`file:line: message`).
    pub failures: Vec<RuleError>,
    pub policy: AlertPolicy,
    /// threshold.config lines Vigil does not apply (e.g. `rate_filter`), with why.
    pub policy_ignored: Vec<String>,
    pub files: Vec<PathBuf>,
    /// Inspection settings from the configuration (see [`SuricataConfig::settings`]).
    pub settings: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Reputation(#[from] ReputationError),
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    #[error(transparent)]
    Classification(#[from] ClassificationError),
    #[error(transparent)]
    Threshold(#[from] ThresholdConfigError),
    #[error("{}", strict_message(.failures, .skipped))]
    Strict {
        failures: Vec<RuleError>,
        skipped: Vec<String>,
    },
}

fn strict_message(failures: &[RuleError], skipped: &[String]) -> String {
    let mut lines: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
    lines.extend(skipped.iter().cloned());
    format!(
        "--strict: {} rule(s) failed to load:\n  {}",
        lines.len(),
        lines.join("\n  ")
    )
}

/// The files to read: each file as given, each directory's `*.rules` (recursively, sorted).
pub fn rule_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let entries = std::fs::read_dir(&d).map_err(|source| LoadError::Io {
                    path: d.clone(),
                    source,
                })?;
                for e in entries {
                    let path = e
                        .map_err(|source| LoadError::Io {
                            path: d.clone(),
                            source,
                        })?
                        .path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|x| x == "rules") {
                        found.push(path);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Loads and compiles everything `req` names.
pub fn load(req: &LoadRequest) -> Result<Loaded, LoadError> {
    let config = match &req.config {
        Some(p) => SuricataConfig::load(p)?,
        None => SuricataConfig::default_for_dir(Path::new(".")),
    };
    let classification = match &config.classification_file {
        Some(p) if p.exists() => {
            let text = read(p)?;
            ClassificationTable::parse(&p.display().to_string(), &text)?
        }
        _ => ClassificationTable::et_open(),
    };
    let iprep = match &config.reputation_categories_file {
        Some(cats) => Some(IpReputation::load(cats, &config.reputation_files)?),
        None => None,
    };
    let mut datasets = Datasets::builder();
    for d in &config.datasets {
        datasets.declare_config(d)?;
    }

    let files = rule_files(&req.rules)?;
    let mut rules = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        let set = parse_rules(
            &path.display().to_string(),
            &String::from_utf8_lossy(&bytes),
            &ParseOptions::default(),
        );
        rules.extend(set.rules);
        failures.extend(set.failures);
    }
    let (set, report) = SignatureSet::build(
        rules,
        RuleContext {
            vars: &config.vars,
            classification: &classification,
            iprep: iprep.as_ref(),
            datasets,
            config_dir: Some(config.dir.clone()),
            json_sets: Vec::new(),
            keep_text: config
                .settings
                .iter()
                .any(|(k, v)| k == "eve.alert.rule" && v == "true"),
        },
    );
    // Rules that are only non-executable are reported, never fatal; rules that could not be
    // compiled for a reason in the user's files (undefined variable, dataset file) are.
    let broken: Vec<String> = report
        .skipped
        .iter()
        .filter(|s| s.reasons.iter().any(|r| !is_unsupported_feature(&r.reason)))
        .map(|s| {
            let why: Vec<String> = s.reasons.iter().map(|r| r.to_string()).collect();
            format!("{}: sid {}: {}", s.location, s.sid, why.join("; "))
        })
        .collect();
    if req.strict && (!failures.is_empty() || !broken.is_empty()) {
        return Err(LoadError::Strict {
            failures,
            skipped: broken,
        });
    }

    let threshold_file = req
        .threshold_file
        .as_ref()
        .or(config.threshold_file.as_ref());
    let (policy, policy_ignored) = match threshold_file {
        Some(p) if p.exists() => {
            let entries = threshold_config::load_threshold_config(p)?;
            build_policy(&entries, &config)
        }
        _ => (AlertPolicy::default(), Vec::new()),
    };
    Ok(Loaded {
        set,
        report,
        failures,
        policy,
        policy_ignored,
        files,
        settings: config.settings,
    })
}

fn read(p: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(p).map_err(|source| LoadError::Io {
        path: p.to_path_buf(),
        source,
    })
}

/// Reasons that mean "Vigil cannot execute this yet", as opposed to a problem in the input.
fn is_unsupported_feature(reason: &str) -> bool {
    reason.contains("not supported")
        || reason.contains("cannot run")
        || reason.contains("not executed")
}

fn build_policy(entries: &[ThresholdEntry], config: &SuricataConfig) -> (AlertPolicy, Vec<String>) {
    let mut policy = AlertPolicy::default();
    let mut ignored = Vec::new();
    for e in entries {
        let (gid, sid) = (e.gid, e.sid);
        match &e.rule {
            ThresholdRule::Threshold(t) => {
                policy.limits.insert((gid, sid), Limit::Threshold(t.clone()));
            }
            ThresholdRule::Suppress(by) => {
                let only = match by {
                    None => None,
                    Some(by) => match config.vars.resolve_addr(&by.ip) {
                        Ok(set) => Some((by.track, set)),
                        Err(err) => {
                            ignored.push(format!("line {}: suppress gen_id {gid}, sig_id {sid}: {err}", e.line));
                            continue;
                        }
                    },
                };
                policy.suppress.push(Suppress { gid, sid, only });
            }
            ThresholdRule::RateFilter(_) => ignored.push(format!(
                "line {}: rate_filter gen_id {gid}, sig_id {sid}: rate_filter changes rule actions (IPS) and is not applied",
                e.line
            )),
        }
    }
    (policy, ignored)
}

/// The rules of `req` that run as indicators (literal tables or the IP index), as rule text:
/// the "IOC subset" of a ruleset, for benchmarks and for sensors that only want those.
pub fn ioc_subset(req: &LoadRequest) -> Result<(String, usize), LoadError> {
    let loaded = load(req)?;
    let keep: std::collections::HashSet<(String, usize)> = loaded
        .set
        .sigs
        .iter()
        .filter(|s| matches!(s.prefilter, "literal" | "ip-index"))
        .map(|s| (s.location.file.to_string(), s.location.line))
        .collect();
    let mut out = String::new();
    let mut n = 0;
    for path in &loaded.files {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        let set = parse_rules(
            &name,
            &String::from_utf8_lossy(&bytes),
            &ParseOptions::default(),
        );
        for r in set.rules {
            if keep.contains(&(name.clone(), r.location.line)) {
                out.push_str(&r.text);
                out.push('\n');
                n += 1;
            }
        }
    }
    Ok((out, n))
}
