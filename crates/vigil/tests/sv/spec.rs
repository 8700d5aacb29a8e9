//! A suricata-verify test directory turned into a plan: skip (and why), fail
//! early (and why), or run `vigil scan` on this pcap with these rules and then
//! evaluate these checks. Mirrors upstream `run.py`'s `check_requires`,
//! `check_skip` and `default_args`, for an engine that answers as Suricata
//! [`SURICATA_VERSION`] with the build features in [`VIGIL_FEATURES`].

use super::filter::{self, py_str, Val};
use std::path::{Path, PathBuf};

/// The Suricata version Vigil answers `min-version`/`lt-version`/`version` as.
pub const SURICATA_VERSION: (u64, u64, u64) = (8, 0, 6);

/// Suricata build features (as `suricata --build-info` names them) that Vigil
/// has. A test or check whose `requires.features` names anything else is
/// skipped: e.g. HAVE_LUA, HAVE_NSS, HAVE_LIBNET, LIBNET1.1, HAVE_NFLOG,
/// HAVE_HYPERSCAN, RUST_SSH..., HAVE_NDPI. Add a feature here when Vigil gains it.
pub const VIGIL_FEATURES: &[&str] = &["HAVE_JA3", "HAVE_JA4", "HAVE_LIBJANSSON"];

/// `requires.script` commands (upstream runs them in the Suricata source tree)
/// known to succeed for Suricata [`SURICATA_VERSION`]; any other script makes
/// the test skip, since there is no Suricata tree to run it in.
/// `METADATA_DEFAULTS` is defined in 8.0's src/output-json-alert.c.
pub const SCRIPTS_TRUE_FOR_SURICATA_VERSION: &[&str] =
    &["grep METADATA_DEFAULTS src/output-json-alert.c > /dev/null"];

pub fn version_string() -> String {
    let (a, b, c) = SURICATA_VERSION;
    format!("{a}.{b}.{c}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionOp {
    /// `min-version`: ours >= it.
    Gte,
    /// `lt-version`: ours < it.
    Lt,
    /// `gt-version`: ours > it.
    Gt,
    /// `version`: same major, and minor/patch where given.
    Eq,
}

/// Upstream `parse_suricata_version`: `(\d+)\.?(\d+)?\.?(\d+)?` at the start
/// (after an optional `Suricata version `).
pub fn parse_version(text: &str) -> Option<(u64, Option<u64>, Option<u64>)> {
    let t = text.trim();
    let t = t.strip_prefix("Suricata version ").unwrap_or(t);
    fn digits(s: &str) -> (Option<u64>, &str) {
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            (None, s)
        } else {
            (Some(s[..n].parse().unwrap_or(u64::MAX)), &s[n..])
        }
    }
    let (major, rest) = digits(t);
    let major = major?;
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let (minor, rest) = digits(rest);
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let (patch, _) = digits(rest);
    Some((major, minor, patch))
}

/// Does [`SURICATA_VERSION`] satisfy `op` against the requirement's value (a
/// YAML int, float such as `8.0`, or string such as `8.0.5`)? Missing parts are
/// 0, except for `Eq` where they match anything.
pub fn version_holds(req: &Val, op: VersionOp) -> Result<bool, String> {
    let text = py_str(req);
    let (major, minor, patch) =
        parse_version(&text).ok_or_else(|| format!("cannot parse version {text:?}"))?;
    let ours = SURICATA_VERSION;
    Ok(match op {
        VersionOp::Eq => {
            ours.0 == major
                && minor.is_none_or(|m| m == ours.1)
                && patch.is_none_or(|p| p == ours.2)
        }
        _ => {
            let o = ours.cmp(&(major, minor.unwrap_or(0), patch.unwrap_or(0)));
            match op {
                VersionOp::Gte => o.is_ge(),
                VersionOp::Lt => o.is_lt(),
                VersionOp::Gt => o.is_gt(),
                VersionOp::Eq => unreachable!(),
            }
        }
    })
}

/// Why a requirement is not met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unmet {
    /// Not for this engine: skip.
    Skip(String),
    /// Malformed (upstream raises): fail.
    Error(String),
}

/// A YAML mapping as (string key, value) pairs; `null` is empty.
pub fn entries(v: &Val, what: &str) -> Result<Vec<(String, Val)>, String> {
    match v {
        Val::Null => Ok(Vec::new()),
        Val::Map(m) => m.iter().map(|(k, v)| Ok((py_str(k), v.clone()))).collect(),
        other => Err(format!(
            "{what} is not a mapping: {}",
            filter::inline(other)
        )),
    }
}

fn list_of_strings(v: &Val) -> Vec<String> {
    match v {
        Val::List(l) => l.iter().map(py_str).collect(),
        Val::Null => Vec::new(),
        other => vec![py_str(other)],
    }
}

fn on_path(cmd: &str) -> bool {
    if cmd.contains('/') {
        return Path::new(cmd).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Upstream `check_requires`, for Vigil. Keys are checked in order; the first
/// unmet one decides.
pub fn check_requires(reqs: &[(String, Val)], test_dir: &Path) -> Result<(), Unmet> {
    let version = |v: &Val, op, msg: &str| match version_holds(v, op) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Unmet::Skip(format!("{msg} {}", py_str(v)))),
        Err(e) => Err(Unmet::Error(e)),
    };
    for (key, v) in reqs {
        match key.as_str() {
            "min-version" => version(v, VersionOp::Gte, "requires at least version")?,
            "lt-version" => version(v, VersionOp::Lt, "for version less than")?,
            "gt-version" => version(v, VersionOp::Gt, "for version greater than")?,
            "version" => version(v, VersionOp::Eq, "only for version")?,
            "features" => {
                if let Some(f) = list_of_strings(v)
                    .into_iter()
                    .find(|f| !VIGIL_FEATURES.contains(&f.as_str()))
                {
                    return Err(Unmet::Skip(format!("requires feature {f}")));
                }
            }
            "command" => {
                if let Some(c) = list_of_strings(v).into_iter().find(|c| !on_path(c)) {
                    return Err(Unmet::Skip(format!("requires command {c}")));
                }
            }
            "env" => {
                if let Some(e) = list_of_strings(v)
                    .into_iter()
                    .find(|e| std::env::var_os(e).is_none())
                {
                    return Err(Unmet::Skip(format!("requires env var {e}")));
                }
            }
            "files" => {
                if let Some(f) = list_of_strings(v)
                    .into_iter()
                    .find(|f| !test_dir.join(f).exists())
                {
                    return Err(Unmet::Skip(format!("requires file {f}")));
                }
            }
            "script" => {
                if let Some(s) = list_of_strings(v).into_iter().find(|s| {
                    !SCRIPTS_TRUE_FOR_SURICATA_VERSION
                        .iter()
                        .any(|k| normalize_ws(k) == normalize_ws(s))
                }) {
                    return Err(Unmet::Skip(format!(
                        "requires script `{s}` (runs against a Suricata build; not evaluable for Vigil)"
                    )));
                }
            }
            "pcap" => {}
            "lambda" => {
                return Err(Unmet::Skip(format!(
                    "requires lambda `{}` (a Python expression; not evaluable)",
                    py_str(v)
                )))
            }
            "os" => {
                let os = match std::env::consts::OS {
                    "macos" => "darwin",
                    o => o,
                };
                if !os.starts_with(&py_str(v).to_lowercase()) {
                    return Err(Unmet::Skip(format!("requires os {}", py_str(v))));
                }
            }
            "arch" => {
                if !std::env::consts::ARCH.starts_with(&py_str(v).to_lowercase()) {
                    return Err(Unmet::Skip(format!("requires arch {}", py_str(v))));
                }
            }
            other => return Err(Unmet::Error(format!("unknown requires type: {other}"))),
        }
    }
    Ok(())
}

/// A `filter` check on alerts, ready to evaluate.
#[derive(Clone, Debug)]
pub struct AlertFilter {
    /// 1-based position in `checks:`.
    pub index: usize,
    pub count: Val,
    pub conditions: Vec<(String, Val)>,
    /// The `match:` mapping as written, for messages and the report.
    pub match_val: Val,
    /// `filename:` when the check reads another file than eve.json.
    pub filename: Option<String>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug)]
pub enum CheckPlan {
    /// An alert filter to evaluate.
    Evaluate(AlertFilter),
    /// An alert filter whose own requirements exclude this engine.
    Skipped {
        index: usize,
        label: String,
        reason: String,
    },
    /// An alert filter that cannot be evaluated as written: fails.
    Invalid {
        index: usize,
        label: String,
        reason: String,
    },
    /// Any other check (stats, shell, file-compare, non-alert filter).
    NotEvaluated { index: usize, label: String },
}

impl CheckPlan {
    pub fn is_alert(&self) -> bool {
        !matches!(self, CheckPlan::NotEvaluated { .. })
    }
}

const FILTER_KEYS: &[&str] = &[
    "count",
    "match",
    "filename",
    "requires",
    "comment",
    // Older run.py took these beside `requires:`.
    "version",
    "min-version",
    "lt-version",
    "feature",
];

/// The words YAML 1.1 (PyYAML, which upstream uses) reads as booleans but YAML
/// 1.2 (serde_yaml) reads as strings.
const YAML11_BOOLS: &[(&str, bool)] = &[
    ("yes", true),
    ("Yes", true),
    ("YES", true),
    ("on", true),
    ("On", true),
    ("ON", true),
    ("no", false),
    ("No", false),
    ("NO", false),
    ("off", false),
    ("Off", false),
    ("OFF", false),
];

/// Whether `key: word` appears with `word` unquoted in the raw YAML text.
fn unquoted_value(raw: &str, key: &str, word: &str) -> bool {
    raw.lines().any(|line| {
        let l = line.trim_start();
        let l = l.strip_prefix("- ").map(str::trim_start).unwrap_or(l);
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(|r| r.split(" #").next().unwrap_or(r).trim() == word)
            .unwrap_or(false)
    })
}

/// Gives a plain `yes`/`no`/`on`/`off` value the boolean meaning PyYAML gives it.
fn yaml11_bools(conds: &mut [(String, Val)], raw: &str) {
    for (k, v) in conds.iter_mut() {
        if let Val::Str(s) = v {
            if let Some((_, b)) = YAML11_BOOLS.iter().find(|(w, _)| w == s) {
                if unquoted_value(raw, k, s) {
                    *v = Val::Bool(*b);
                }
            }
        }
    }
}

fn filter_label(f: &Val) -> String {
    match f.get("match").and_then(|m| m.get("event_type")) {
        Some(Val::Str(t)) => format!("filter:{t}"),
        Some(other) => format!("filter:{}", filter::inline(other)),
        None => "filter:*".into(),
    }
}

/// Classifies every check of `checks:`.
pub fn plan_checks(checks: &Val, raw: &str, test_dir: &Path) -> Result<Vec<CheckPlan>, String> {
    let list = match checks {
        Val::Null => return Ok(Vec::new()),
        Val::List(l) => l,
        other => return Err(format!("checks is not a list: {}", filter::inline(other))),
    };
    let mut out = Vec::new();
    for (i, check) in list.iter().enumerate() {
        let index = i + 1;
        for (kind, body) in entries(check, "a check")? {
            if kind != "filter" {
                out.push(CheckPlan::NotEvaluated { index, label: kind });
                continue;
            }
            let label = filter_label(&body);
            let is_alert = matches!(
                body.get("match").and_then(|m| m.get("event_type")),
                Some(Val::Str(t)) if t == "alert"
            );
            if !is_alert {
                out.push(CheckPlan::NotEvaluated { index, label });
                continue;
            }
            out.push(plan_alert_filter(index, label, &body, raw, test_dir));
        }
    }
    Ok(out)
}

fn plan_alert_filter(
    index: usize,
    label: String,
    body: &Val,
    raw: &str,
    test_dir: &Path,
) -> CheckPlan {
    let invalid = |reason: String| CheckPlan::Invalid {
        index,
        label: label.clone(),
        reason,
    };
    let fields = match entries(body, "filter") {
        Ok(f) => f,
        Err(e) => return invalid(e),
    };
    if let Some((k, _)) = fields
        .iter()
        .find(|(k, _)| !FILTER_KEYS.contains(&k.as_str()))
    {
        return invalid(format!("unexpected key in filter check: {k}"));
    }
    // Requirements: `requires:` plus the older check-level keys.
    let mut reqs = match entries(body.get("requires").unwrap_or(&Val::Null), "requires") {
        Ok(r) => r,
        Err(e) => return invalid(e),
    };
    for k in ["version", "min-version", "lt-version"] {
        if let Some(v) = body.get(k) {
            reqs.push((k.to_string(), v.clone()));
        }
    }
    if let Some(f) = body.get("feature") {
        reqs.push(("features".into(), Val::List(vec![f.clone()])));
    }
    match check_requires(&reqs, test_dir) {
        Ok(()) => {}
        Err(Unmet::Skip(reason)) => {
            return CheckPlan::Skipped {
                index,
                label,
                reason,
            }
        }
        Err(Unmet::Error(e)) => return invalid(e),
    }
    let Some(count) = body.get("count").cloned() else {
        return invalid("filter check missing count".into());
    };
    let Some(match_val) = body.get("match").cloned() else {
        return invalid("filter check missing match".into());
    };
    let mut conditions = match filter::conditions(&match_val) {
        Ok(c) => c,
        Err(e) => return invalid(e),
    };
    yaml11_bools(&mut conditions, raw);
    CheckPlan::Evaluate(AlertFilter {
        index,
        count,
        conditions,
        match_val,
        filename: body.get("filename").map(py_str),
        comment: body.get("comment").map(py_str),
    })
}

#[derive(Clone, Debug)]
pub enum Rules {
    Files(Vec<PathBuf>),
    /// `rules:` text from test.yaml, to be written to a file.
    Inline(String),
}

/// What to run.
#[derive(Clone, Debug)]
pub struct RunSpec {
    pub pcap: PathBuf,
    pub rules: Rules,
    pub config: Option<PathBuf>,
    /// `-k all` in `args:`.
    pub verify_checksums: bool,
    /// `--set KEY=VALUE` settings passed through to `vigil scan --set` (`${TEST_DIR}`
    /// expanded); Vigil warns about keys it does not use.
    pub sets: Vec<String>,
    /// `env:` of test.yaml, passed to the scan.
    pub env: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub enum Action {
    Skip(String),
    Fail(String),
    Run(RunSpec),
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub checks: Vec<CheckPlan>,
    /// Things worth a word in the detail line: ignored args, env, ...
    pub notes: Vec<String>,
    pub action: Action,
}

fn files_with_ext(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| exts.iter().any(|x| n.ends_with(x)))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(unix)]
fn our_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}
#[cfg(not(unix))]
fn our_uid() -> Option<u32> {
    None
}

/// Upstream `check_skip`: the test's own `skip:` list.
fn check_skip(skip: &Val, notes: &mut Vec<String>) -> Option<String> {
    match skip {
        Val::Bool(true) => return Some("skipped by default (skip: true)".into()),
        Val::List(items) => {
            for s in items {
                let msg = s.get("msg").map(py_str);
                if let Some(uid) = s.get("uid") {
                    if our_uid().is_some_and(|u| py_str(uid) == u.to_string()) {
                        return Some(msg.unwrap_or_else(|| format!("not for uid {}", py_str(uid))));
                    }
                }
                if let Some(f) = s.get("feature") {
                    if VIGIL_FEATURES.contains(&py_str(f).as_str()) {
                        return Some(
                            msg.unwrap_or_else(|| format!("not for feature {}", py_str(f))),
                        );
                    }
                }
                if s.get("config").is_some() {
                    notes.push("skip.config not evaluated".into());
                }
            }
        }
        _ => {}
    }
    None
}

/// Reads `dir/test.yaml` and decides what to do with the test.
pub fn plan(dir: &Path) -> Plan {
    let mut notes = Vec::new();
    let fail = |checks, notes, r: String| Plan {
        checks,
        notes,
        action: Action::Fail(r),
    };
    let raw = match std::fs::read_to_string(dir.join("test.yaml")) {
        Ok(r) => r,
        Err(e) => return fail(Vec::new(), notes, format!("cannot read test.yaml: {e}")),
    };
    let cfg = match Val::parse_yaml(&raw) {
        Ok(Val::Null) => Val::Map(Vec::new()),
        Ok(v @ Val::Map(_)) => v,
        Ok(_) => return fail(Vec::new(), notes, "test.yaml is not a mapping".into()),
        Err(e) => return fail(Vec::new(), notes, format!("test.yaml: {e}")),
    };
    let get = |k: &str| cfg.get(k).unwrap_or(&Val::Null);
    let checks = match plan_checks(get("checks"), &raw, dir) {
        Ok(c) => c,
        Err(e) => return fail(Vec::new(), notes, e),
    };
    let done = |checks, notes, action| Plan {
        checks,
        notes,
        action,
    };
    let skip = |checks, notes, r: String| done(checks, notes, Action::Skip(r));

    let requires = match entries(get("requires"), "requires") {
        Ok(r) => r,
        Err(e) => return fail(checks, notes, e),
    };
    match check_requires(&requires, dir) {
        Ok(()) => {}
        Err(Unmet::Skip(r)) => return skip(checks, notes, r),
        Err(Unmet::Error(e)) => return fail(checks, notes, e),
    }
    if let Some(r) = check_skip(get("skip"), &mut notes) {
        return skip(checks, notes, r);
    }
    if cfg.get("command").is_some() {
        return skip(
            checks,
            notes,
            "runs its own command instead of reading a pcap".into(),
        );
    }
    if matches!(cfg.get("pcap"), Some(Val::Bool(false))) {
        return skip(checks, notes, "pcap: false (no capture to read)".into());
    }
    if let Some(code) = cfg
        .get("exit-code")
        .filter(|c| !filter::py_eq(c, &Val::Int(0)))
    {
        return skip(
            checks,
            notes,
            format!("expects Suricata's exit code {}", py_str(code)),
        );
    }
    if cfg.get("setup").is_some() {
        return skip(checks, notes, "needs setup scripts".into());
    }
    if !checks.iter().any(CheckPlan::is_alert) {
        return skip(
            checks,
            notes,
            "no filter check with event_type: alert".into(),
        );
    }
    if !checks
        .iter()
        .any(|c| matches!(c, CheckPlan::Evaluate(_) | CheckPlan::Invalid { .. }))
    {
        let why: Vec<String> = checks
            .iter()
            .filter_map(|c| match c {
                CheckPlan::Skipped { index, reason, .. } => Some(format!("#{index} {reason}")),
                _ => None,
            })
            .collect();
        return skip(
            checks,
            notes,
            format!("every alert check is skipped: {}", why.join("; ")),
        );
    }

    // The capture.
    let pcap = match cfg.get("pcap") {
        Some(Val::Str(p)) => {
            let path = dir.join(p);
            if !path.is_file() {
                return fail(checks, notes, format!("pcap {p} does not exist"));
            }
            path
        }
        Some(other) if !other.is_null() => {
            return fail(
                checks,
                notes,
                format!("pcap: {} is not a path", filter::inline(other)),
            )
        }
        _ => {
            let found = files_with_ext(dir, &[".pcap", ".pcapng"]);
            match found.len() {
                1 => found.into_iter().next().unwrap(),
                0 => {
                    let why = if requires.iter().any(|(k, v)| k == "pcap" && !v.truthy()) {
                        "requires.pcap: false and no pcap to read"
                    } else {
                        "no pcap file found"
                    };
                    return skip(checks, notes, why.into());
                }
                _ => {
                    let names: Vec<String> = found.iter().map(|p| file_name(p)).collect();
                    return fail(
                        checks,
                        notes,
                        format!("more than one pcap file: {}", names.join(", ")),
                    );
                }
            }
        }
    };
    let pcap = pcap.canonicalize().unwrap_or(pcap);

    // The rules.
    let rules = match cfg.get("rules") {
        Some(Val::Str(text)) => Rules::Inline(text.clone()),
        Some(Val::List(lines)) => {
            Rules::Inline(lines.iter().map(py_str).collect::<Vec<_>>().join("\n"))
        }
        Some(other) if !other.is_null() => {
            return fail(
                checks,
                notes,
                format!("rules: {} is not rule text", filter::inline(other)),
            )
        }
        _ => {
            let mut files = Vec::new();
            for f in files_with_ext(dir, &[".rules"]) {
                let name = file_name(&f);
                if name.ends_with("firewall.rules") {
                    return skip(
                        checks,
                        notes,
                        format!("{name}: firewall mode is not supported"),
                    );
                }
                // Upstream loads `min<version>.rules` only from that version on.
                if let Some(v) = name
                    .strip_prefix("min")
                    .and_then(|n| n.strip_suffix(".rules"))
                    .filter(|v| parse_version(v).is_some())
                {
                    if !version_holds(&Val::Str(v.into()), VersionOp::Gte).unwrap_or(true) {
                        notes.push(format!("{name} not loaded (for later versions)"));
                        continue;
                    }
                }
                files.push(f.canonicalize().unwrap_or(f));
            }
            Rules::Files(files)
        }
    };

    let config = Some(dir.join("suricata.yaml"))
        .filter(|p| p.is_file())
        .map(|p| p.canonicalize().unwrap_or(p));

    // Suricata's command-line args: upstream splits each entry on whitespace.
    let args: Vec<String> = match get("args") {
        Val::List(l) => l.iter().map(py_str).collect(),
        Val::Null => Vec::new(),
        other => vec![py_str(other)],
    };
    let tokens: Vec<&str> = args.iter().flat_map(|a| a.split_whitespace()).collect();
    let mut verify_checksums = false;
    let mut sets: Vec<String> = Vec::new();
    let mut ignored: Vec<String> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        match (tokens[i], tokens.get(i + 1)) {
            ("-k", Some(&"none")) => i += 1, // Vigil's default
            ("-k", Some(&"all")) => {
                verify_checksums = true;
                i += 1
            }
            ("--set", Some(v)) => {
                sets.push(v.replace("${TEST_DIR}", &dir.display().to_string()));
                i += 1
            }
            (t, _) => ignored.push(t.to_string()),
        }
        i += 1;
    }
    if verify_checksums {
        notes.push("-k all → --verify-checksums".into());
    }
    if !ignored.is_empty() {
        notes.push(format!("args ignored: {}", ignored.join(" ")));
    }
    if file_name(dir).contains("ips") {
        notes.push("Suricata would run this with --simulate-ips (not applied)".into());
    }
    let env = match entries(get("env"), "env") {
        Ok(e) => e
            .into_iter()
            .map(|(k, v)| (k, py_str(&v)))
            .collect::<Vec<_>>(),
        Err(e) => return fail(checks, notes, e),
    };
    if !env.is_empty() {
        let kv: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        notes.push(format!("env: {}", kv.join(" ")));
    }
    done(
        checks,
        notes,
        Action::Run(RunSpec {
            pcap,
            rules,
            config,
            verify_checksums,
            sets,
            env,
        }),
    )
}

/// Result of one evaluated (or skipped) check.
#[derive(Clone, Debug)]
pub struct CheckResult {
    pub index: usize,
    pub label: String,
    /// "pass", "fail", "skip" or "not-evaluated".
    pub status: &'static str,
    pub message: String,
    pub expected: Option<Val>,
    pub got: Option<usize>,
    pub match_val: Option<Val>,
}

/// Evaluates an alert filter against the scan's output directory.
pub fn evaluate(f: &AlertFilter, out_dir: &Path) -> CheckResult {
    let mut r = CheckResult {
        index: f.index,
        label: "filter:alert".into(),
        status: "fail",
        message: String::new(),
        expected: Some(f.count.clone()),
        got: None,
        match_val: Some(f.match_val.clone()),
    };
    let file = f.filename.clone().unwrap_or_else(|| "eve.json".into());
    let path = out_dir.join(&file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => {
            r.message = format!(
                "check #{}: {file} does not exist (vigil scan writes only eve.json)",
                f.index
            );
            return r;
        }
    };
    match filter::count_matches(&text, &f.conditions) {
        Err(e) => r.message = format!("check #{}: {file}: {e}", f.index),
        Ok(n) => {
            r.got = Some(n);
            if filter::py_eq(&Val::Int(n as i128), &f.count) {
                r.status = "pass";
            } else {
                let comment = f
                    .comment
                    .as_ref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                r.message = format!(
                    "check #{}{comment}: expected {} got {n} for {}",
                    f.index,
                    filter::inline(&f.count),
                    filter::inline(&f.match_val)
                );
            }
        }
    }
    r
}
