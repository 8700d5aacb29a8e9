//! `vigil rules ...`: Suricata rule tooling. `check` parses rule files and reports what parsed,
//! what Vigil can execute, which keywords keep the rest from executing, and every failure.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use vigil_detect::rules::{self, ParseOptions};

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Parse Suricata rule files; report parsed, executable and failed rules.
    ///
    /// Prints one line per file (`FILE: R rules, P parsed, E executable, F failed`), a table of
    /// the keywords that make rules non-executable (number of rules per keyword), each failure
    /// as `file:line: message`, and last the total line
    /// `N rules, P parsed, E executable, F failed`.
    ///
    /// A rule that uses keywords Vigil cannot execute yet still parses; a failure is a real
    /// syntax error (missing `;`, bad quoting, unknown keyword, bad address or port, duplicate
    /// sid).
    ///
    /// Exit status: 0 when no rule failed, 1 otherwise, 2 for unreadable input.
    ///
    /// Examples:
    ///   vigil rules check ../shared/data/et-open
    ///   vigil rules check --include-commented --format json emerging-dns.rules
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
}

#[derive(Args)]
pub struct CheckArgs {
    /// Rule files, or directories (every *.rules file below them).
    #[arg(required = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Also parse commented-out rules (`#alert ...`), as ET Open ships its disabled rules.
    #[arg(long)]
    pub include_commented: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Accepted for symmetry with `vigil scan --strict`: check already exits 1 on any failure.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

pub fn run(cmd: RulesCommand) -> Result<ExitCode> {
    match cmd {
        RulesCommand::Check(args) => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            let report = check(&args)?;
            report.write(args.format, &mut out)?;
            out.flush()?;
            Ok(if report.total.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rules: usize,
    pub parsed: usize,
    pub executable: usize,
    pub failed: usize,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.rules += o.rules;
        self.parsed += o.parsed;
        self.executable += o.executable;
        self.failed += o.failed;
    }

    fn line(&self) -> String {
        format!(
            "{} rules, {} parsed, {} executable, {} failed",
            self.rules, self.parsed, self.executable, self.failed
        )
    }
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub file: String,
    pub line: usize,
    pub keyword: Option<String>,
    pub message: String,
}

/// What `rules check` found, in output order.
#[derive(Debug, Serialize)]
pub struct Report {
    pub files: Vec<FileReport>,
    /// keyword → number of rules that use it non-executably.
    pub unsupported: BTreeMap<String, usize>,
    pub failures: Vec<Failure>,
    pub total: Counts,
}

/// Parses every file and checks every rule's executability.
pub fn check(args: &CheckArgs) -> Result<Report> {
    let opts = ParseOptions {
        include_commented: args.include_commented,
    };
    let mut report = Report {
        files: Vec::new(),
        unsupported: BTreeMap::new(),
        failures: Vec::new(),
        total: Counts::default(),
    };
    let mut unsupported: HashMap<String, usize> = HashMap::new();
    for path in vigil_detect::signatures::load::rule_files(&args.files)? {
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        let text = String::from_utf8_lossy(&bytes);
        let set = rules::parse_rules(&name, &text, &opts);
        let mut counts = Counts {
            rules: set.total(),
            parsed: set.rules.len(),
            executable: 0,
            failed: set.failures.len(),
        };
        for r in &set.rules {
            match r.executable() {
                Ok(()) => counts.executable += 1,
                Err(reasons) => {
                    let mut kws: Vec<String> = reasons.into_iter().map(|u| u.keyword).collect();
                    kws.sort();
                    kws.dedup();
                    for k in kws {
                        *unsupported.entry(k).or_default() += 1;
                    }
                }
            }
        }
        report
            .failures
            .extend(set.failures.into_iter().map(|e| Failure {
                file: e.file,
                line: e.line,
                keyword: e.keyword,
                message: e.message,
            }));
        report.total.add(&counts);
        report.files.push(FileReport { path: name, counts });
    }
    report.unsupported = unsupported.into_iter().collect();
    Ok(report)
}

impl Report {
    /// Unsupported keywords by number of rules, most first (ties by name).
    pub fn unsupported_sorted(&self) -> Vec<(&str, usize)> {
        let mut v: Vec<(&str, usize)> = self
            .unsupported
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    pub fn write(&self, format: CheckFormat, out: &mut dyn Write) -> io::Result<()> {
        match format {
            CheckFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)
            }
            CheckFormat::Text => {
                for f in &self.files {
                    writeln!(out, "{}: {}", f.path, f.counts.line())?;
                }
                let table = self.unsupported_sorted();
                if !table.is_empty() {
                    let width = table.iter().map(|(k, _)| k.len()).max().unwrap_or(0).max(7);
                    writeln!(out)?;
                    writeln!(
                        out,
                        "{:<width$}  rules (not executable because of it)",
                        "keyword"
                    )?;
                    for (k, n) in table {
                        writeln!(out, "{k:<width$}  {n:>5}")?;
                    }
                }
                if !self.failures.is_empty() {
                    writeln!(out)?;
                    for f in &self.failures {
                        writeln!(out, "{}:{}: {}", f.file, f.line, f.message)?;
                    }
                }
                writeln!(out, "{}", self.total.line())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir() -> PathBuf {
        vigil_detect::testdata::shared_data_dir()
    }

    fn args(files: Vec<PathBuf>, include_commented: bool) -> CheckArgs {
        CheckArgs {
            files,
            include_commented,
            format: CheckFormat::Text,
            strict: false,
        }
    }

    fn text(report: &Report) -> String {
        let mut buf = Vec::new();
        report.write(CheckFormat::Text, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn et_open_checks_clean() {
        let report = check(&args(vec![data_dir().join("et-open")], false)).unwrap();
        assert_eq!(report.files.len(), 51);
        assert_eq!(
            (report.total.rules, report.total.parsed, report.total.failed),
            (24_827, 24_827, 0)
        );
        assert!(report.total.executable > 12_000);
        let out = text(&report);
        let last = out.lines().last().unwrap();
        assert_eq!(
            last,
            format!(
                "24827 rules, 24827 parsed, {} executable, 0 failed",
                report.total.executable
            )
        );
        assert!(out.contains("emerging-dns.rules: "), "{out}");
        assert!(out.contains("\nkeyword "), "{out}");
        // The table is sorted by count.
        let table = report.unsupported_sorted();
        assert!(table.windows(2).all(|w| w[0].1 >= w[1].1));

        let all = check(&args(vec![data_dir().join("et-open")], true)).unwrap();
        assert_eq!(
            (all.total.rules, all.total.parsed, all.total.failed),
            (34_850, 34_850, 0)
        );
    }

    #[test]
    fn urlhaus_failures_are_listed_before_the_summary() {
        let dir = data_dir().join("ioc-feeds/urlhaus-filter");
        let report = check(&args(vec![dir.clone()], false)).unwrap();
        assert_eq!(
            report.total,
            Counts {
                rules: 9_216,
                parsed: 3_510,
                executable: 3_510,
                failed: 5_706
            }
        );
        let out = text(&report);
        let online = dir.join("urlhaus-filter-suricata-online.rules");
        let first = format!(
            "{}:7: missing ';' after \"sid:100000001\" (before \"rev:1\")",
            online.display()
        );
        assert!(out.lines().any(|l| l == first), "{first}");
        assert_eq!(
            out.lines().last(),
            Some("9216 rules, 3510 parsed, 3510 executable, 5706 failed")
        );
        let failures_at = out.find(&first).unwrap();
        let summary_at = out.rfind("9216 rules").unwrap();
        assert!(failures_at < summary_at);
    }

    #[test]
    fn json_output_has_the_documented_shape() {
        let dir = data_dir().join("suricata-verify/tests/detect-flowbits");
        let report = check(&args(vec![dir], false)).unwrap();
        let mut buf = Vec::new();
        report.write(CheckFormat::Json, &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        for k in ["files", "unsupported", "failures", "total"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        let f = &v["files"][0];
        for k in ["path", "rules", "parsed", "executable", "failed"] {
            assert!(f.get(k).is_some(), "{k}");
        }
        assert_eq!(v["total"]["rules"], 11);
        assert_eq!(v["total"]["failed"], 0);
    }

    #[test]
    fn unreadable_input_is_an_error() {
        assert!(check(&args(vec![PathBuf::from("/nonexistent/x.rules")], false)).is_err());
    }

    #[test]
    fn run_exit_codes() {
        let dir = data_dir().join("suricata-verify/tests/detect-flowbits");
        let code = run(RulesCommand::Check(args(vec![dir], false))).unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.rules");
        std::fs::write(&bad, "alert tcp any any -> any any (msg:\"x\" sid:1;)\n").unwrap();
        let code = run(RulesCommand::Check(args(vec![bad], false))).unwrap();
        assert_eq!(code, ExitCode::from(1));
    }
}
