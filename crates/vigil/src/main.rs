//! `vigil`: the command-line interface. Parsing arguments and printing results only; the work
//! happens in the library crates.
#![forbid(unsafe_code)]

mod cmd_certs;
mod cmd_intel;
mod cmd_models;
mod cmd_region;
mod cmd_rules;
mod cmd_token;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;
use vigil_detect::engine::{self, Input, ScanConfig, ScanReport};
use vigil_detect::eve::EventTypes;
use vigil_detect::signatures::{load as sigload, SignatureSet};
use vigil_detect::tables::{IndicatorTables, TablesBuilder};
use vigil_model::Confidence;

/// Vigil: threat detection at the edge and a global threat-intelligence network.
#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug). VIGIL_LOG overrides, e.g. VIGIL_LOG=debug.
    /// `region serve` logs at info by default.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log lines as text or as JSON objects (one per line, with structured fields).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect captures against indicators, Suricata rules and behaviour models; write EVE JSON.
    ///
    /// Reads pcap and pcapng files (also directories, and - for stdin), follows flows, parses
    /// DNS, HTTP and TLS, and matches IPs, domains, URLs, SNIs, JA3/JA4 and hashes against the
    /// indicators given with --intel, runs the Suricata rules given with --rules, and runs the
    /// behaviour models (scans, beaconing, DNS tunnelling, DGA; --no-models turns them off).
    /// Output is one EVE JSON event per line (alert, dns, tls, http, flow, stats),
    /// byte-identical whatever --threads is.
    ///
    /// Exit status: 0 when the scan completed (alerts or not), 2 for usage errors or unreadable
    /// input.
    ///
    /// Examples:
    ///   vigil scan --intel samples/intel samples/pcaps/vigil-demo.pcap
    ///   vigil scan --intel feed.json --format table capture.pcapng
    ///   vigil scan --rules et-open/ --suricata-config suricata.yaml capture.pcap
    ///   tcpdump -w - | vigil scan --intel ips.txt --eve-types alert -
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),
    /// Suricata rules: check that rule files parse and which rules Vigil can execute.
    #[command(subcommand)]
    Rules(cmd_rules::RulesCommand),
    /// Behaviour models: rebuild the DGA model, check a models.toml.
    #[command(subcommand)]
    Models(cmd_models::ModelsCommand),
    /// Threat-intelligence store: import, collect, validate, show, stats, export feeds.
    #[command(subcommand)]
    Intel(cmd_intel::IntelCommand),
    /// Region hub: serve the REST API, TAXII 2.1 and the decision stream.
    #[command(subcommand)]
    Region(cmd_region::RegionCommand),
    /// Development CA and node certificates for TLS and mutual TLS.
    #[command(subcommand)]
    Certs(cmd_certs::CertsCommand),
    /// API tokens for the region hub: create, list, revoke.
    #[command(subcommand)]
    Token(cmd_token::TokenCommand),
    /// Benchmark helpers: build reproducible large inputs.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Args)]
struct ScanArgs {
    /// Indicator file or directory (STIX 2.1 JSON, CSV with header, or a plain list). Repeatable.
    #[arg(long, value_name = "PATH")]
    intel: Vec<PathBuf>,
    /// Match against the indicator records of an intel store (a --data-dir of `vigil intel`),
    /// every TLP, scored by their merged confidence and decayed from their last sighting.
    #[arg(long, value_name = "DIR")]
    intel_db: Option<PathBuf>,
    /// Region of the store given with --intel-db.
    #[arg(long, value_name = "ID", default_value = vigil_store::DEFAULT_REGION)]
    intel_region: String,
    /// Confidence (0-100) for indicators whose feed gives none.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u8).range(0..=100))]
    intel_confidence: u8,
    /// Admiralty source reliability (A-F) of the feeds: `B` for every feed, or `SOURCE=B` for
    /// one (a feed's source is its file name without extension). Repeatable. It scales alert
    /// confidence with indicator age (MISP's decay model): see `vigil{score}` in alerts.
    #[arg(long, value_name = "[SOURCE=]GRADE")]
    intel_reliability: Vec<String>,
    /// Refuse feeds with unparseable records, and rule files with rules that do not parse or
    /// load, instead of skipping them.
    #[arg(long)]
    strict: bool,
    /// Suricata rule file, or a directory of *.rules files. Repeatable. Rules Vigil cannot
    /// execute are skipped (see `vigil rules check`); broken rules are reported as file:line.
    #[arg(long, value_name = "PATH")]
    rules: Vec<PathBuf>,
    /// suricata.yaml: vars (address-groups, port-groups), reputation files, datasets,
    /// classification and threshold files. Relative paths resolve against its directory.
    #[arg(long, value_name = "FILE")]
    suricata_config: Option<PathBuf>,
    /// Suricata-style setting, KEY=VALUE. Repeatable. Known keys: stream.midstream (true),
    /// stream.async-oneside (false), stream.midstream-policy (ignore; pass-flow, bypass,
    /// drop-flow and reject stop detection on mid-stream sessions), threshold-file.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Turn off the behaviour models (scan, beaconing, DNS tunnelling, DGA).
    #[arg(long)]
    no_models: bool,
    /// Behaviour model settings (TOML, see models/models.toml); default: built-in thresholds.
    #[arg(long, value_name = "FILE")]
    models_config: Option<PathBuf>,
    /// Output format: EVE JSON lines, or a summary table for people.
    #[arg(long, value_enum, default_value_t = Format::Eve)]
    format: Format,
    /// Write output here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Worker threads (flows are sharded by hash). Default: one per CPU.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: Option<u16>,
    /// Print packets, bytes, flows, alerts, skipped and packets/s to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Only write these EVE event types (comma-separated: alert,dns,tls,http,flow,stats).
    #[arg(long, value_name = "LIST", value_parser = parse_event_types)]
    eve_types: Option<EventTypes>,
    /// Skip packets whose IPv4/TCP/UDP/ICMP checksum is wrong (like Suricata's -k all). Off by
    /// default: captures taken on hosts with checksum offload carry wrong checksums.
    #[arg(long)]
    verify_checksums: bool,
    /// Maximum flows tracked at once; the longest-idle flows are evicted beyond it.
    #[arg(long, value_name = "N", default_value_t = 262_144)]
    max_flows: usize,
    /// Captures: pcap or pcapng files, directories (searched recursively), or - for stdin.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Eve,
    Table,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Write the rules that compile to indicator tables (literal dns.query/tls.sni/http.host
    /// matches and IP-only rules): the "IOC subset" of a ruleset.
    IocRules {
        /// Output rule file.
        #[arg(short, long)]
        output: PathBuf,
        /// Rule files or directories.
        #[arg(required = true)]
        rules: Vec<PathBuf>,
    },
    /// Concatenate Ethernet pcaps COPIES times with shifted addresses into one large capture.
    MakeCapture {
        /// Output pcap.
        #[arg(short, long)]
        output: PathBuf,
        /// How many shifted copies of the inputs to write.
        #[arg(long, default_value_t = 100)]
        copies: u32,
        /// pcap files or directories to take packets from.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Write N deterministic mixed indicators (IPs, CIDRs, domains, URLs, hashes, JA4), one per line.
    MakeIntel {
        #[arg(short, long)]
        output: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        count: usize,
    },
}

fn parse_event_types(s: &str) -> Result<EventTypes, String> {
    EventTypes::parse_list(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let serving = matches!(cli.command, Command::Region(_));
    init_logging(cli.verbose.max(u8::from(serving)), cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(verbose: u8, format: LogFormat) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .with_target(false);
    match format {
        LogFormat::Text => fmt.init(),
        LogFormat::Json => fmt.json().flatten_event(true).init(),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan(args),
        Command::Rules(cmd) => cmd_rules::run(cmd),
        Command::Models(cmd) => cmd_models::run(cmd),
        Command::Intel(cmd) => cmd_intel::run(cmd),
        Command::Token(cmd) => cmd_token::run(cmd),
        Command::Region(cmd) => cmd_region::run(cmd),
        Command::Certs(cmd) => cmd_certs::run(cmd),
        Command::Bench(BenchCommand::MakeCapture {
            output,
            copies,
            inputs,
        }) => {
            let files = expand_inputs(&inputs)?;
            let files: Vec<PathBuf> = files
                .into_iter()
                .filter_map(|i| match i {
                    Input::File(p) => Some(p),
                    Input::Stdin => None,
                })
                .collect();
            let out = std::fs::File::create(&output)
                .with_context(|| format!("cannot create {}", output.display()))?;
            let (packets, bytes) = vigil_detect::synth::concatenate_shifted(&files, copies, out)
                .context("building the capture")?;
            eprintln!(
                "wrote {}: {packets} packets, {:.1} MB from {} files x {copies} copies",
                output.display(),
                bytes as f64 / 1e6,
                files.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::IocRules { output, rules }) => {
            let (text, n) = sigload::ioc_subset(&sigload::LoadRequest {
                rules,
                ..Default::default()
            })?;
            std::fs::write(&output, text)
                .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!("wrote {n} rules to {}", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::MakeIntel { output, count }) => {
            let out = std::fs::File::create(&output)
                .with_context(|| format!("cannot create {}", output.display()))?;
            let mut out = io::BufWriter::new(out);
            vigil_detect::synth::mixed_indicator_list(count, &mut out)?;
            out.flush()?;
            eprintln!("wrote {} indicators to {}", count, output.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn scan(args: ScanArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let (tables, load_secs) = load_intel(&args)?;
    let mut settings = Settings::parse_cli(&args.set)?;
    let (sigs, policy, rules_secs, from_config) = load_rules(&args, &settings)?;
    // --set wins over the configuration file.
    settings = Settings::parse(from_config)?.then(settings);
    let models = if args.no_models {
        None
    } else {
        let cfg = match &args.models_config {
            Some(p) => vigil_detect::models::ModelsConfig::from_toml_file(p)?,
            None => vigil_detect::models::ModelsConfig::default(),
        };
        Some(vigil_detect::models::Models::new(&cfg)?)
    };
    let load_secs = load_secs + rules_secs;
    let inputs = expand_inputs(&args.inputs)?;
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Stdin => None,
        })
        .sum();

    let threads = args.threads.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let mut cfg = ScanConfig {
        threads,
        max_flows: args.max_flows,
        verify_checksums: args.verify_checksums,
        ..ScanConfig::default()
    };
    settings.apply(&mut cfg);
    if let Some(t) = args.eve_types {
        cfg.event_types = t;
    }
    if args.format == Format::Table {
        cfg.event_types = EventTypes::none();
    }

    let bar = progress_bar(total_bytes);
    let progress = {
        let bar = bar.clone();
        move |b: u64| bar.set_position(b)
    };
    let scan_started = Instant::now();
    let mut out: Box<dyn Write> = match (&args.output, args.format) {
        (Some(p), Format::Eve) => Box::new(io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        (None, Format::Eve) => Box::new(io::BufWriter::with_capacity(1 << 20, io::stdout().lock())),
        (_, Format::Table) => Box::new(io::sink()),
    };
    let det = engine::Detectors {
        tables: tables.clone(),
        sigs,
        models,
        policy,
    };
    let report = engine::scan(&inputs, &cfg, det, &mut out, &progress)?;
    drop(out);
    bar.finish_and_clear();
    let scan_secs = scan_started.elapsed().as_secs_f64();

    let mut unreadable = false;
    for e in &report.errors {
        unreadable |= e.is_unreadable();
        eprintln!("error: {e}");
    }
    if args.format == Format::Table {
        let mut w: Box<dyn Write> = match &args.output {
            Some(p) => Box::new(std::fs::File::create(p)?),
            None => Box::new(io::stdout().lock()),
        };
        print_table(&mut w, &report, &tables, scan_secs)?;
    }
    if args.stats {
        print_stats(
            &report,
            &tables,
            load_secs,
            scan_secs,
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(if unreadable {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress_bar(total_bytes: u64) -> ProgressBar {
    // Only for people: a terminal on stderr and enough input to be worth watching.
    if !io::stderr().is_terminal() || total_bytes < 32 << 20 {
        return ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} scanning [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn parse_grade(s: &str) -> Result<vigil_model::score::Reliability> {
    s.trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("--intel-reliability {s}: {e}"))
}

/// Loads --rules with --suricata-config; prints rule failures as `file:line: message`.
/// Suricata-style settings Vigil understands, from suricata.yaml and `--set KEY=VALUE`.
#[derive(Default)]
struct Settings {
    midstream: Option<bool>,
    async_oneside: Option<bool>,
    midstream_policy: Option<engine::MidstreamPolicy>,
    /// The `exception-policy` master switch: the midstream policy unless one is given.
    exception_policy: Option<engine::MidstreamPolicy>,
    threshold_file: Option<PathBuf>,
    alert_metadata: Option<bool>,
    alert_verdict: Option<bool>,
    eve_ethernet: Option<bool>,
    packet_alert_max: Option<usize>,
}

impl Settings {
    fn parse_cli(items: &[String]) -> Result<Settings> {
        let mut pairs = Vec::new();
        for item in items {
            let Some((k, v)) = item.split_once('=') else {
                bail!("--set {item}: expected KEY=VALUE");
            };
            pairs.push((k.trim().to_string(), v.trim().to_string()));
        }
        Settings::parse(pairs)
    }

    fn parse(pairs: Vec<(String, String)>) -> Result<Settings> {
        let mut s = Settings::default();
        let boolean = |k: &str, v: &str| -> Result<bool> {
            match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => Ok(true),
                "false" | "no" | "off" | "0" => Ok(false),
                _ => bail!("{k}={v}: expected true or false"),
            }
        };
        let policy = |k: &str, v: &str| -> Result<engine::MidstreamPolicy> {
            Ok(match v {
                "ignore" | "auto" => engine::MidstreamPolicy::Ignore,
                "pass-flow" | "bypass" | "drop-flow" | "reject" | "pass-packet" | "drop-packet" => {
                    engine::MidstreamPolicy::NoInspection
                }
                _ => bail!("{k}={v}: expected ignore, pass-flow, bypass, drop-flow or reject"),
            })
        };
        for (k, v) in &pairs {
            let (k, v) = (k.as_str(), v.as_str());
            match k {
                "stream.midstream" => s.midstream = Some(boolean(k, v)?),
                "stream.async-oneside" => s.async_oneside = Some(boolean(k, v)?),
                "stream.midstream-policy" => s.midstream_policy = Some(policy(k, v)?),
                "exception-policy" => s.exception_policy = Some(policy(k, v)?),
                "threshold-file" => s.threshold_file = Some(PathBuf::from(v)),
                "eve.alert.metadata" => s.alert_metadata = Some(boolean(k, v)?),
                "eve.alert.verdict" => s.alert_verdict = Some(boolean(k, v)?),
                "eve.ethernet" => s.eve_ethernet = Some(boolean(k, v)?),
                "packet-alert-max" => {
                    s.packet_alert_max = Some(
                        v.parse()
                            .map_err(|_| anyhow::anyhow!("{k}={v}: expected a number of alerts"))?,
                    )
                }
                // Read while loading the rules (rule text is kept only when asked for).
                "eve.alert.rule" => {}
                _ => eprintln!("warning: --set {k}: not a setting Vigil uses; ignored"),
            }
        }
        Ok(s)
    }

    /// `self` with every setting `later` gives replacing it.
    fn then(self, later: Settings) -> Settings {
        Settings {
            midstream: later.midstream.or(self.midstream),
            async_oneside: later.async_oneside.or(self.async_oneside),
            midstream_policy: later.midstream_policy.or(self.midstream_policy),
            exception_policy: later.exception_policy.or(self.exception_policy),
            threshold_file: later.threshold_file.or(self.threshold_file),
            alert_metadata: later.alert_metadata.or(self.alert_metadata),
            alert_verdict: later.alert_verdict.or(self.alert_verdict),
            eve_ethernet: later.eve_ethernet.or(self.eve_ethernet),
            packet_alert_max: later.packet_alert_max.or(self.packet_alert_max),
        }
    }

    fn apply(&self, cfg: &mut ScanConfig) {
        if let Some(m) = self.midstream {
            cfg.midstream = m;
        }
        if let Some(a) = self.async_oneside {
            cfg.async_oneside = a;
        }
        if let Some(p) = self.midstream_policy.or(self.exception_policy) {
            cfg.midstream_policy = p;
        }
        if let Some(m) = self.alert_metadata {
            cfg.alert_metadata = m;
        }
        if let Some(v) = self.alert_verdict {
            cfg.alert_verdict = v;
        }
        if let Some(v) = self.eve_ethernet {
            cfg.eve_ethernet = v;
        }
        // Suricata falls back to its default for 0.
        if let Some(n) = self.packet_alert_max.filter(|&n| n > 0) {
            cfg.packet_alert_max = n;
        }
    }
}

type LoadedRules = (
    Arc<SignatureSet>,
    vigil_detect::signatures::post::AlertPolicy,
    f64,
    Vec<(String, String)>,
);

fn load_rules(args: &ScanArgs, settings: &Settings) -> Result<LoadedRules> {
    let t0 = Instant::now();
    if args.rules.is_empty() {
        if args.suricata_config.is_some() {
            bail!("--suricata-config needs --rules");
        }
        return Ok((
            Arc::new(SignatureSet::empty()),
            Default::default(),
            0.0,
            Vec::new(),
        ));
    }
    let loaded = sigload::load(&sigload::LoadRequest {
        rules: args.rules.clone(),
        config: args.suricata_config.clone(),
        strict: args.strict,
        threshold_file: settings.threshold_file.clone(),
    })?;
    for f in &loaded.failures {
        eprintln!("warning: {f}");
    }
    for i in &loaded.policy_ignored {
        eprintln!("warning: threshold file: {i}");
    }
    let r = &loaded.report;
    let secs = t0.elapsed().as_secs_f64();
    if args.stats || !loaded.failures.is_empty() || r.loaded == 0 {
        eprintln!(
            "rules: {} files, {} rules: {} loaded ({} literal, {} fast-pattern, {} ip-indexed, {} unfiltered), {} not executable, {} failed to parse, in {:.2} s",
            loaded.files.len(),
            r.rules + loaded.failures.len(),
            r.loaded,
            r.literal,
            r.prefiltered,
            r.ip_indexed,
            r.unfiltered,
            r.skipped.len(),
            loaded.failures.len(),
            secs
        );
    }
    tracing::info!(
        loaded = r.loaded,
        skipped = r.skipped.len(),
        secs,
        "rules loaded"
    );
    Ok((Arc::new(loaded.set), loaded.policy, secs, loaded.settings))
}

fn load_intel(args: &ScanArgs) -> Result<(Arc<IndicatorTables>, f64)> {
    let t0 = Instant::now();
    let mut builder = TablesBuilder::new();
    let mut default_grade = None;
    let mut per_source = Vec::new();
    for r in &args.intel_reliability {
        match r.split_once('=') {
            Some((src, g)) => per_source.push((src.trim().to_string(), parse_grade(g)?)),
            None => default_grade = Some(parse_grade(r)?),
        }
    }
    let opts = vigil_intel::LoadOptions {
        default_confidence: Confidence::new(i64::from(args.intel_confidence)),
        strict: args.strict,
        reliability: default_grade,
        ..Default::default()
    };
    for path in &args.intel {
        // Indicators stream straight into the tables: a million-line feed is never held twice.
        let mut rejected = 0usize;
        let mut first_rejection = None;
        let feeds = vigil_intel::load_path_with(path, &opts, &mut |ind| {
            if let Err(e) = builder.add(&ind) {
                rejected += 1;
                first_rejection.get_or_insert_with(|| e.to_string());
            }
        })
        .with_context(|| format!("loading indicators from {}", path.display()))?;
        for feed in &feeds {
            if !feed.skipped.is_empty() {
                let first = &feed.skipped[0];
                eprintln!(
                    "warning: {}: skipped {} unusable records (first: {}: {})",
                    feed.path.display(),
                    feed.skipped.len(),
                    first.location,
                    first.reason
                );
            }
            tracing::info!(feed = %feed.source, indicators = feed.count, "loaded feed");
        }
        if let Some(first) = first_rejection {
            eprintln!(
                "warning: {}: {rejected} indicators could not be matched (first: {first})",
                path.display()
            );
        }
    }
    if let Some(dir) = &args.intel_db {
        let path = vigil_store::db_path(dir, &args.intel_region)?;
        if !path.exists() {
            bail!(
                "--intel-db {}: no store for region {} ({} does not exist)",
                dir.display(),
                args.intel_region,
                path.display()
            );
        }
        let store = vigil_store::Store::open_path(&path)?;
        let mut rejected = 0usize;
        store.for_each_record(&vigil_store::RecordFilter::default(), &mut |r| {
            if builder.add(&cmd_intel::record_indicator(&r)).is_err() {
                rejected += 1;
            }
        })?;
        if rejected > 0 {
            eprintln!(
                "warning: {}: {rejected} records could not be matched",
                path.display()
            );
        }
    }
    for (src, grade) in per_source {
        builder
            .set_source_reliability(&src, grade)
            .with_context(|| format!("--intel-reliability {src}={grade}"))?;
    }
    let tables = builder.build();
    Ok((Arc::new(tables), t0.elapsed().as_secs_f64()))
}

/// Files named on the command line, directories searched recursively in sorted order.
fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input::Stdin);
        } else if p.is_dir() {
            let mut files = Vec::new();
            walk_captures(p, &mut files)
                .with_context(|| format!("reading directory {}", p.display()))?;
            if files.is_empty() {
                bail!(
                    "{}: no capture files (*.pcap, *.pcapng, *.cap) in directory",
                    p.display()
                );
            }
            out.extend(files.into_iter().map(Input::File));
        } else {
            // Missing files are reported by the scan as unreadable input, after the others ran.
            out.push(Input::File(p.clone()));
        }
    }
    Ok(out)
}

fn walk_captures(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            walk_captures(&p, out)?;
        } else if matches!(
            p.extension()
                .and_then(|x| x.to_str())
                .map(|x| x.to_ascii_lowercase())
                .as_deref(),
            Some("pcap" | "pcapng" | "cap" | "dmp")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn print_stats(r: &ScanReport, tables: &IndicatorTables, load: f64, scan: f64, total: f64) {
    let c = &r.counters;
    let pps = c.packets as f64 / scan.max(1e-9);
    let mbps = c.bytes as f64 * 8.0 / 1e6 / scan.max(1e-9);
    eprintln!("packets:    {}", c.packets);
    eprintln!("bytes:      {}", c.bytes);
    eprintln!("flows:      {}", c.flows);
    eprintln!("alerts:     {}", c.alerts);
    eprintln!(
        "skipped:    {} (invalid {}, bad checksum {}, capture {}, fragments dropped {})",
        c.skipped(),
        c.invalid,
        c.invalid_checksum,
        c.capture_skipped,
        c.frag_dropped
    );
    eprintln!("evicted:    {} flows", c.flows_evicted);
    eprintln!("indicators: {} loaded in {:.3} s", tables.len(), load);
    eprintln!("scan time:  {scan:.3} s ({total:.3} s total)");
    eprintln!("packets/s:  {pps:.0}");
    eprintln!("Mbit/s:     {mbps:.1}");
    if let Some(rss) = peak_rss_mb() {
        eprintln!("peak RSS:   {rss:.1} MB");
    }
}

fn print_table(
    w: &mut dyn Write,
    r: &ScanReport,
    tables: &IndicatorTables,
    secs: f64,
) -> io::Result<()> {
    let c = &r.counters;
    writeln!(
        w,
        "Scanned {} packets ({:.1} MB), {} flows in {:.2} s; {} indicators loaded.",
        c.packets,
        c.bytes as f64 / 1e6,
        c.flows,
        secs,
        tables.len()
    )?;
    writeln!(
        w,
        "App protocols: http {}, tls {}, dns {} (udp flows) + {} (tcp), unrecognised tcp {}.",
        c.app_http, c.app_tls, c.app_dns_udp, c.app_dns_tcp, c.app_failed
    )?;
    if c.skipped() > 0 {
        writeln!(w, "Skipped packets: {}.", c.skipped())?;
    }
    if r.alerts.is_empty() {
        writeln!(w, "No alerts.")?;
        return Ok(());
    }
    writeln!(w, "\n{} alerts:", c.alerts)?;
    writeln!(
        w,
        "{:>7}  {:>3}  {:<18}  {:<50}  SOURCE",
        "COUNT", "SEV", "FIELD", "SIGNATURE"
    )?;
    for a in &r.alerts {
        let mut sig = a.signature.clone();
        if sig.chars().count() > 50 {
            sig = sig.chars().take(49).collect::<String>() + "…";
        }
        writeln!(
            w,
            "{:>7}  {:>3}  {:<18}  {:<50}  {}",
            a.count, a.severity, a.matched_field, sig, a.source
        )?;
    }
    Ok(())
}
