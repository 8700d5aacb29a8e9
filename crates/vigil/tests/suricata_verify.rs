//! Runs suricata-verify tests through the real `vigil scan` and evaluates their
//! alert checks (`filter` checks whose `match` has `event_type: alert`).
//!
//! A `harness = false` test target: `cargo test -p vigil --test suricata_verify`.
//! Prints `PASS|FAIL|SKIP  <test>  <reason>` per test (plus an indented detail
//! line), then `suricata-verify: P passed, F failed, S skipped (of T)`.
//!
//! Environment:
//! - `SURICATA_VERIFY_TESTS=DIR`: the tests directory (default: the development
//!   set in `../shared/data/suricata-verify/tests` beside the workspace). For any
//!   other directory the pass floor is not applied: the run only reports.
//! - `SURICATA_VERIFY_JSON=FILE`: also write a JSON report there.
//! - `SURICATA_VERIFY_OUT=DIR`: keep each test's output (eve.json, stdout,
//!   stderr) in `DIR/<test>/` instead of a temporary directory.
//! - `SURICATA_VERIFY_BIN=FILE`: run this binary instead of the `vigil` built
//!   with the test.
//!
//! Arguments after `--` that are not flags (other than `suricata_verify`, the
//! name this harness lists itself under) select tests whose path contains them;
//! the floor is then not applied.
//!
//! See docs/SURICATA-VERIFY.md.

mod sv;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use sv::filter::to_json;
use sv::spec::{self, Action, CheckPlan, CheckResult, Rules, RunSpec};

/// The development set must pass at least this many tests: what passes today. Raise it
/// whenever the engine passes more, so that a regression fails the build.
const MIN_PASSES: usize = 62;

/// Tests run at once (the machines have 2 cores).
const JOBS: usize = 2;

/// A scan that takes longer fails (upstream's PROC_TIMEOUT).
const TIMEOUT: Duration = Duration::from_secs(300);

/// The name this harness lists itself under for test runners.
const HARNESS: &str = "suricata_verify";

/// Flags of libtest that take a value, so that the value is not read as a test filter.
const VALUE_FLAGS: &[&str] = &[
    "--test-threads",
    "--format",
    "--skip",
    "--logfile",
    "--color",
    "--shuffle-seed",
    "-Z",
];

fn below_floor(passed: usize) -> bool {
    passed < MIN_PASSES
}

struct Outcome {
    test: String,
    status: &'static str,
    reason: String,
    details: Vec<String>,
    command: Vec<String>,
    checks: Vec<CheckResult>,
}

fn default_dirs() -> Vec<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    vec![
        workspace.join("../shared/data/suricata-verify/tests"),
        PathBuf::from("/work/shared/data/suricata-verify/tests"),
    ]
}

fn canon(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// The tests directory and whether it is the development set (floor applies).
fn tests_dir() -> Result<(PathBuf, bool), String> {
    let dev = default_dirs()
        .into_iter()
        .find(|d| d.is_dir())
        .map(|d| canon(&d));
    match std::env::var_os("SURICATA_VERIFY_TESTS") {
        Some(d) => {
            let d = PathBuf::from(d);
            if !d.is_dir() {
                return Err(format!(
                    "SURICATA_VERIFY_TESTS={} is not a directory",
                    d.display()
                ));
            }
            let d = canon(&d);
            let is_dev = dev.as_ref() == Some(&d);
            Ok((d, is_dev))
        }
        None => dev.map(|d| (d, true)).ok_or_else(|| {
            let tried: Vec<String> = default_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            format!(
                "suricata-verify tests not found (tried {}); set SURICATA_VERIFY_TESTS to the tests directory",
                tried.join(", ")
            )
        }),
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

fn count_labels(labels: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for l in labels {
        match counts.iter_mut().find(|(k, _)| k == l) {
            Some((_, n)) => *n += 1,
            None => counts.push((l.clone(), 1)),
        }
    }
    counts.sort();
    counts
        .iter()
        .map(|(k, n)| format!("{k}×{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `vigil scan` for one test; Ok(()) when it exited 0.
fn scan(
    bin: &Path,
    test_dir: &Path,
    run: &RunSpec,
    out: &Path,
    command: &mut Vec<String>,
) -> Result<(), String> {
    let mut args: Vec<String> = vec!["scan".into(), "--format".into(), "eve".into()];
    args.push("--output".into());
    args.push(out.join("eve.json").display().to_string());
    // One worker thread: JOBS tests already share the cores.
    args.extend(["--threads".into(), "1".into()]);
    if run.verify_checksums {
        args.push("--verify-checksums".into());
    }
    for kv in &run.sets {
        args.extend(["--set".into(), kv.clone()]);
    }
    let rule_files = match &run.rules {
        Rules::Files(f) => f.clone(),
        Rules::Inline(text) => {
            let p = out.join("test.rules");
            std::fs::write(&p, text).map_err(|e| format!("cannot write {}: {e}", p.display()))?;
            vec![p]
        }
    };
    for r in &rule_files {
        args.push("--rules".into());
        args.push(r.display().to_string());
    }
    if let Some(c) = &run.config {
        args.push("--suricata-config".into());
        args.push(c.display().to_string());
    }
    args.push(run.pcap.display().to_string());
    command.push(bin.display().to_string());
    command.extend(args.iter().cloned());

    let stdout = std::fs::File::create(out.join("stdout")).map_err(|e| e.to_string())?;
    let stderr_path = out.join("stderr");
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.args(&args)
        .current_dir(test_dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .env("TZ", "UTC")
        .env("TEST_DIR", test_dir)
        .env("OUTPUT_DIR", out);
    for (k, v) in &run.env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("vigil timed out after {}s", TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for vigil: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let code = status
        .code()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "a signal".into());
    Err(format!("vigil exited with {code}: {}", first_line(&err)))
}

fn run_one(root: &Path, dir: &Path, bin: &Path, keep: Option<&Path>) -> Outcome {
    let test = sv::rel_name(root, dir);
    let plan = spec::plan(dir);
    let mut details = plan.notes.clone();
    let mut checks: Vec<CheckResult> = Vec::new();
    let mut not_evaluated = Vec::new();
    let mut skipped = Vec::new();
    for c in &plan.checks {
        let blank = |index: usize, label: &str, status, message: String| CheckResult {
            index,
            label: label.to_string(),
            status,
            message,
            expected: None,
            got: None,
            match_val: None,
        };
        match c {
            CheckPlan::NotEvaluated { index, label } => {
                not_evaluated.push(label.clone());
                checks.push(blank(*index, label, "not-evaluated", String::new()));
            }
            CheckPlan::Skipped {
                index,
                label,
                reason,
            } => {
                skipped.push(format!("#{index} {reason}"));
                checks.push(blank(*index, label, "skip", reason.clone()));
            }
            CheckPlan::Invalid {
                index,
                label,
                reason,
            } => checks.push(blank(
                *index,
                label,
                "fail",
                format!("check #{index}: {reason}"),
            )),
            CheckPlan::Evaluate(_) => {}
        }
    }
    if !not_evaluated.is_empty() {
        details.push(format!("not evaluated: {}", count_labels(&not_evaluated)));
    }
    if !skipped.is_empty() {
        details.push(format!("checks skipped: {}", skipped.join("; ")));
    }
    let mut outcome = Outcome {
        test,
        status: "SKIP",
        reason: String::new(),
        details,
        command: Vec::new(),
        checks,
    };
    let run = match &plan.action {
        Action::Skip(r) => {
            outcome.reason = r.clone();
            return outcome;
        }
        Action::Fail(r) => {
            outcome.status = "FAIL";
            outcome.reason = r.clone();
            return outcome;
        }
        Action::Run(run) => run,
    };

    let _tmp;
    let out: PathBuf = match keep {
        Some(k) => {
            let d = k.join(&outcome.test);
            let _ = std::fs::remove_dir_all(&d);
            if let Err(e) = std::fs::create_dir_all(&d) {
                outcome.status = "FAIL";
                outcome.reason = format!("cannot create {}: {e}", d.display());
                return outcome;
            }
            d
        }
        None => match tempfile::tempdir() {
            Ok(t) => {
                let p = t.path().to_path_buf();
                _tmp = t;
                p
            }
            Err(e) => {
                outcome.status = "FAIL";
                outcome.reason = format!("cannot create a temporary directory: {e}");
                return outcome;
            }
        },
    };

    if let Err(e) = scan(bin, dir, run, &out, &mut outcome.command) {
        outcome.status = "FAIL";
        outcome.reason = e;
        return outcome;
    }
    for c in &plan.checks {
        if let CheckPlan::Evaluate(f) = c {
            outcome.checks.push(spec::evaluate(f, &out));
        }
    }
    outcome.checks.sort_by_key(|c| c.index);
    let failing: Vec<&CheckResult> = outcome
        .checks
        .iter()
        .filter(|c| c.status == "fail")
        .collect();
    let passing = outcome.checks.iter().filter(|c| c.status == "pass").count();
    if let Some(first) = failing.first() {
        outcome.status = "FAIL";
        outcome.reason = first.message.clone();
        if failing.len() > 1 {
            outcome.reason.push_str(&format!(
                " (and {} more failing check{})",
                failing.len() - 1,
                if failing.len() > 2 { "s" } else { "" }
            ));
            let rest: Vec<String> = failing[1..].iter().map(|c| c.message.clone()).collect();
            outcome.details.push(format!("also: {}", rest.join("; ")));
        }
    } else {
        outcome.status = "PASS";
        outcome.reason = format!(
            "{passing}/{passing} alert check{} passed",
            if passing == 1 { "" } else { "s" }
        );
    }
    outcome
}

fn report_json(
    path: &Path,
    root: &Path,
    outcomes: &[Outcome],
    totals: (usize, usize, usize),
    floor: bool,
) -> Result<(), String> {
    let tests: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            let checks: Vec<serde_json::Value> = o
                .checks
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "index": c.index,
                        "kind": c.label,
                        "status": c.status,
                        "expected": c.expected.as_ref().map(to_json),
                        "got": c.got,
                        "match": c.match_val.as_ref().map(to_json),
                        "message": c.message,
                    })
                })
                .collect();
            serde_json::json!({
                "test": o.test,
                "status": o.status.to_lowercase(),
                "reason": o.reason,
                "details": o.details,
                "command": o.command,
                "checks": checks,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "tests_dir": root.display().to_string(),
        "suricata_version": spec::version_string(),
        "passed": totals.0,
        "failed": totals.1,
        "skipped": totals.2,
        "total": outcomes.len(),
        "min_passes": MIN_PASSES,
        "floor_applied": floor,
        "tests": tests,
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    // The libtest protocol that cargo-nextest (CI) drives: `--list --format
    // terse` lists the single test `suricata_verify` (and no ignored one), then
    // `suricata_verify --exact --nocapture` runs it.
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| argv.iter().any(|a| a == f);
    if flag("--list") {
        if !flag("--ignored") {
            println!("{HARNESS}: test");
        }
        return ExitCode::SUCCESS;
    }
    if flag("--ignored") {
        return ExitCode::SUCCESS;
    }
    let mut patterns = Vec::new();
    let mut it = argv.iter();
    while let Some(a) = it.next() {
        if VALUE_FLAGS.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') && a != HARNESS {
            patterns.push(a.clone());
        }
    }

    let (root, is_dev) = match tests_dir() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("suricata-verify: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bin = std::env::var_os("SURICATA_VERIFY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_vigil")));
    let keep = std::env::var_os("SURICATA_VERIFY_OUT").map(PathBuf::from);

    let mut dirs: Vec<(String, PathBuf)> = sv::discover(&root)
        .into_iter()
        .map(|d| (sv::rel_name(&root, &d), d))
        .filter(|(name, _)| patterns.is_empty() || patterns.iter().any(|p| name.contains(p)))
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        if !patterns.is_empty() {
            // Like libtest, a filter that selects nothing is not a failure
            // (`cargo test -p vigil some_other_test` passes its filter here too).
            println!("suricata-verify: no test matches {patterns:?}");
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "suricata-verify: error: no test (a directory with test.yaml) under {}",
            root.display()
        );
        return ExitCode::FAILURE;
    }
    println!(
        "suricata-verify: {} tests in {} with {} (as Suricata {})",
        dirs.len(),
        root.display(),
        bin.display(),
        spec::version_string()
    );

    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..dirs.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..JOBS.min(dirs.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((_, dir)) = dirs.get(i) else { break };
                let o = run_one(&root, dir, &bin, keep.as_deref());
                results.lock().unwrap()[i] = Some(o);
            });
        }
    });
    let outcomes: Vec<Outcome> = results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|o| o.expect("every test ran"))
        .collect();

    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for o in &outcomes {
        match o.status {
            "PASS" => passed += 1,
            "FAIL" => failed += 1,
            _ => skipped += 1,
        }
        println!("{:<4}  {}  {}", o.status, o.test, o.reason);
        if !o.details.is_empty() {
            println!("      {}", o.details.join(" | "));
        }
    }
    println!(
        "suricata-verify: {passed} passed, {failed} failed, {skipped} skipped (of {})",
        outcomes.len()
    );

    let floor = is_dev && patterns.is_empty();
    if let Some(path) = std::env::var_os("SURICATA_VERIFY_JSON") {
        if let Err(e) = report_json(
            Path::new(&path),
            &root,
            &outcomes,
            (passed, failed, skipped),
            floor,
        ) {
            eprintln!("suricata-verify: error: cannot write the JSON report: {e}");
            return ExitCode::FAILURE;
        }
    }
    if floor && below_floor(passed) {
        eprintln!(
            "suricata-verify: error: {passed} passed, below the floor of {MIN_PASSES} (MIN_PASSES in {})",
            file!()
        );
        return ExitCode::FAILURE;
    }
    if !floor {
        println!("suricata-verify: report only (floor applies to the full development set)");
    }
    ExitCode::SUCCESS
}
