//! `vigil intel`: the region's threat-intelligence store. The work is in `vigil_intel`
//! (formats, validation, feeds) and `vigil_store` (persistence, collection, export); this
//! module parses arguments and prints.
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use vigil_intel::ingest::{self, IngestOptions, InputFormat};
use vigil_intel::validate::{self, FalsePositiveScreen, RegionPolicy, ValidateOptions};
use vigil_intel::warninglists::{LazyScreen as Screen, Warninglists};
use vigil_model::Tlp;
use vigil_store::collect::{self, parse_admiralty};
use vigil_store::export::{self, Export, ExportFormat, ExportRequest};
use vigil_store::{taxii_client, ImportBatch, SourceInfo, Store};

#[derive(Subcommand)]
pub enum IntelCommand {
    /// Import STIX 2.1/2.0 bundles, MISP events and feed folders, CSV, plain lists, or URLs.
    ///
    /// Everything lands in the region's store (<data-dir>/<region>/intel.db) in one
    /// transaction per input: every STIX object is kept whole, and every indicator value is
    /// normalised and merged into one record per (type, value) with the provenance of every
    /// source. STIX is validated first; an input with invalid records is refused whole, with
    /// each problem listed, unless --skip-invalid is given.
    ///
    /// Exit status 0 when every input was stored; 2 when any input was refused or could not
    /// be read (the other inputs are still stored, each in its own transaction).
    ///
    /// Examples:
    ///   vigil intel import ../shared/data/stix/attack/ics-attack-18.1.json --source mitre --tlp clear
    ///   vigil intel import feed.csv --source partner-x --reliability B2 --confidence 70
    ///   vigil intel import misp-feed/ --format misp
    ///   vigil intel import https://example.org/iocs.txt --source example --tlp green
    ///   VIGIL_TAXII_TOKEN=vgl_… vigil intel import \
    ///       taxii+https://hub:7443/taxii2/eu/collections/<id>/ --source eu-hub
    ///
    /// A taxii+http(s):// collection URL is read page by page. The last date added is kept
    /// as a checkpoint under the source name, so the next run fetches only newer objects
    /// (--full ignores it). Credentials: VIGIL_TAXII_TOKEN (Bearer), or VIGIL_TAXII_USER and
    /// VIGIL_TAXII_PASSWORD (Basic).
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Run the sources of a sources file that are due (or the ones named).
    ///
    /// The sources file (default <data-dir>/sources.toml) lists [[source]] tables with name,
    /// url or path, format, reliability, tlp, confidence, schedule and skip_invalid. Each
    /// source is imported in its own transaction; a failing source is reported with its
    /// reason and the others still run. Exit status 1 if any source failed.
    ///
    /// Example sources.toml:
    ///   [[source]]
    ///   name = "threatfox"
    ///   url = "https://threatfox.abuse.ch/export/csv/recent/"
    ///   format = "csv"
    ///   reliability = "B"
    ///   tlp = "green"
    ///   schedule = "1h"
    #[command(verbatim_doc_comment)]
    Collect(CollectArgs),
    /// Validate a STIX document: structure, ids, timestamps, patterns, references, freshness,
    /// source reliability and false-positive risk (MISP warninglists).
    ///
    /// Exit status 0 when every object is valid (warnings allowed), 1 when any is invalid,
    /// 2 when the file cannot be read or is not JSON.
    ///
    /// Examples:
    ///   vigil intel validate bundle.json
    ///   vigil intel validate bundle.json --for-region eu --format json
    #[command(verbatim_doc_comment)]
    Validate(ValidateArgs),
    /// Show one record or object: provenance, score with its explanation, warninglists,
    /// linked STIX objects.
    ///
    /// ID is a STIX id (indicator--…, ipv4-addr--…, campaign--…), TYPE:VALUE (domain:evil.com),
    /// or a bare value (its type is detected).
    #[command(verbatim_doc_comment)]
    Show(ShowArgs),
    /// Counts: objects by STIX type, records by indicator type, TLP and source.
    Stats(StatsArgs),
    /// Publish a feed: STIX bundle, CSV, text list, Suricata rules, iprep, dataset, MISP feed.
    ///
    /// Every export enforces a TLP ceiling (--max-tlp, default green) and carries metadata
    /// (count, filters, generated_at, content hash): as # comments where the format allows,
    /// and always in <output>.meta.json (vigil-feed.json inside a MISP folder).
    ///
    /// Examples:
    ///   vigil intel export --format stix --max-tlp amber -o intel.json
    ///   vigil intel export --format suricata --type domain --min-confidence 60 -o vigil.rules
    ///   vigil intel export --format iprep --type ip --type cidr -o vigil.iprep
    ///   vigil intel export --format misp -o misp-feed/
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),
}

#[derive(Args, Clone)]
pub struct StoreArgs {
    /// Directory holding one store per region.
    #[arg(long, value_name = "DIR", default_value = "vigil-data")]
    pub data_dir: PathBuf,
    /// Region whose store to use.
    #[arg(long, value_name = "ID", default_value = vigil_store::DEFAULT_REGION)]
    pub region: String,
}

impl StoreArgs {
    pub fn open(&self) -> Result<Store> {
        Store::open(&self.data_dir, &self.region).with_context(|| {
            format!(
                "opening the {} store under {}",
                self.region,
                self.data_dir.display()
            )
        })
    }
}

#[derive(Args)]
pub struct ImportArgs {
    /// Files, directories (a MISP feed folder has manifest.json), http(s):// URLs, or TAXII 2.1
    /// collections (taxii+https://host/taxii2/ROOT/collections/ID/).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<String>,
    /// For TAXII collections: fetch everything, ignoring the stored added_after checkpoint.
    #[arg(long)]
    full: bool,
    #[arg(long, default_value = "auto", value_parser = clap::builder::TypedValueParser::try_map(clap::builder::PossibleValuesParser::new(InputFormat::NAMES), |s| s.parse::<InputFormat>()))]
    format: InputFormat,
    /// Source name recorded in the provenance of every record; default: the file name.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Admiralty source reliability A-F, optionally with information credibility 1-6 (B2).
    #[arg(long, value_name = "GRADE")]
    reliability: Option<String>,
    /// Marking for objects and values the input leaves unmarked.
    #[arg(long, value_name = "LEVEL", default_value = "amber", value_parser = parse_tlp)]
    tlp: Tlp,
    /// Confidence 0-100 for records that carry none.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u8).range(0..=100))]
    confidence: u8,
    /// Store the valid records of a partly broken input and list the skipped ones.
    #[arg(long)]
    skip_invalid: bool,
    #[command(flatten)]
    screen: ScreenArgs,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub struct CollectArgs {
    /// Sources to run (default: every source that is due).
    #[arg(value_name = "SOURCE")]
    names: Vec<String>,
    /// Sources file; default <data-dir>/sources.toml.
    #[arg(long, value_name = "FILE")]
    sources: Option<PathBuf>,
    /// Run every source now, due or not.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    screen: ScreenArgs,
    #[arg(long, value_enum, default_value_t = TextJson::Text)]
    format: TextJson,
    #[command(flatten)]
    store: StoreArgs,
}

/// False-positive screening against the MISP warninglists.
#[derive(Args)]
pub struct ScreenArgs {
    /// MISP warninglists folder (default: VIGIL_WARNINGLISTS, ./data/warninglists, or the
    /// copy shipped with Vigil).
    #[arg(long, value_name = "DIR")]
    warninglists: Option<PathBuf>,
    /// Do not screen values against the warninglists.
    #[arg(long)]
    no_warninglists: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum TextJson {
    Text,
    Json,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// STIX JSON document (bundle, array of objects, or one object).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Also check that the objects may be shared to this region: TLP against
    /// --region-max-tlp and x_vigil_residency.
    #[arg(long, value_name = "R")]
    for_region: Option<String>,
    /// The highest TLP the region in --for-region may receive.
    #[arg(long, value_name = "LEVEL", default_value = "amber", value_parser = parse_tlp)]
    region_max_tlp: Tlp,
    /// Admiralty grade of the document's source (A-F, optionally with credibility: B2).
    #[arg(long, value_name = "GRADE")]
    reliability: Option<String>,
    #[command(flatten)]
    screen: ScreenArgs,
    #[arg(long, value_enum, default_value_t = TextJson::Text)]
    format: TextJson,
}

#[derive(Args)]
pub struct ShowArgs {
    #[arg(value_name = "ID")]
    id: String,
    #[arg(long, value_enum, default_value_t = TextJson::Text)]
    format: TextJson,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub struct StatsArgs {
    #[arg(long, value_enum, default_value_t = TextJson::Text)]
    format: TextJson,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_parser = clap::builder::TypedValueParser::try_map(clap::builder::PossibleValuesParser::new(ExportFormat::ALL.map(ExportFormat::as_str)), |s| s.parse::<ExportFormat>()))]
    format: ExportFormat,
    /// Indicator type (ip, cidr, domain, url, ja3, ja3s, ja4, md5, sha1, sha256) or, for
    /// STIX, an object type (campaign, attack-pattern, …). Repeatable.
    #[arg(long = "type", value_name = "T")]
    types: Vec<String>,
    /// Only indicators scoring at least N now (confidence × reliability × decay).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=100))]
    min_confidence: u8,
    /// Highest TLP in the feed; anything above is withheld, including references to it.
    #[arg(long, value_name = "LEVEL", default_value = "green", value_parser = parse_tlp)]
    max_tlp: Tlp,
    /// Only what changed within this long (90m, 24h, 7d).
    #[arg(long, value_name = "DURATION")]
    since: Option<String>,
    /// Only records and objects from these sources. Repeatable.
    #[arg(long, value_name = "NAME")]
    source: Vec<String>,
    /// File (or folder for --format misp); default stdout.
    #[arg(short, long, value_name = "PATH")]
    output: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

/// `--reliability` as (grade, credibility).
fn admiralty(arg: Option<&str>) -> Result<(Option<vigil_model::Reliability>, Option<u8>)> {
    match arg {
        Some(r) => {
            let (g, c) = parse_admiralty(r).map_err(anyhow::Error::msg)?;
            Ok((Some(g), c))
        }
        None => Ok((None, None)),
    }
}

fn parse_tlp(s: &str) -> std::result::Result<Tlp, String> {
    s.parse()
        .map_err(|e: vigil_model::tlp::UnknownTlp| e.to_string())
}

/// A store record as a scan indicator: the merged confidence (reliability already applied per
/// source) and the decay reference (last sighting, else last seen) as its date, so the scan
/// decays it at packet time like any dated indicator.
pub fn record_indicator(r: &vigil_model::IntelRecord) -> vigil_model::Indicator {
    let confidence = vigil_model::Confidence::new((r.combined_confidence() * 100.0).round() as i64);
    let best = r
        .sources
        .iter()
        .max_by(|a, b| a.1.weighted().total_cmp(&b.1.weighted()))
        .map(|(name, _)| name.clone())
        .unwrap_or_default();
    vigil_model::Indicator {
        kind: r.kind,
        value: r.value.clone(),
        source: best,
        id: Some(
            r.stix_ids
                .iter()
                .find(|s| s.starts_with("indicator--"))
                .cloned()
                .unwrap_or_else(|| vigil_intel::bundle::record_id(r.kind, &r.value)),
        ),
        confidence,
        severity: vigil_model::Severity::from_confidence(confidence),
        name: r.sources.values().find_map(|c| c.name.clone()),
        valid_from: r.decay_reference(),
        reliability: None,
    }
}

pub fn now() -> i64 {
    use vigil_model::Clock as _;
    vigil_model::SystemClock.now()
}

fn load_screen(args: &ScreenArgs) -> Result<Option<Screen>> {
    if args.no_warninglists {
        return Ok(None);
    }
    let dir = match &args.warninglists {
        Some(d) => d.clone(),
        None => match Warninglists::default_dir() {
            Some(d) => d,
            None => {
                eprintln!("warning: no MISP warninglists found (set VIGIL_WARNINGLISTS or --warninglists); false-positive screening is off");
                return Ok(None);
            }
        },
    };
    if !dir.is_dir() {
        bail!("--warninglists {}: not a directory", dir.display());
    }
    Ok(Some(Screen::new(dir)))
}

pub fn run(cmd: IntelCommand) -> Result<ExitCode> {
    match cmd {
        IntelCommand::Import(a) => import(a),
        IntelCommand::Collect(a) => collect_cmd(a),
        IntelCommand::Validate(a) => validate_cmd(a),
        IntelCommand::Show(a) => show(a),
        IntelCommand::Stats(a) => stats(a),
        IntelCommand::Export(a) => export_cmd(a),
    }
}

fn source_name(arg: &Option<String>, path: &str) -> String {
    if let Some(s) = arg {
        return s.clone();
    }
    let trimmed = path.trim_end_matches('/');
    let base = trimmed.rsplit('/').next().unwrap_or(trimmed);
    let base = base.split('?').next().unwrap_or(base);
    match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ if base.is_empty() => path.to_string(),
        _ => base.to_string(),
    }
}

fn progress_bar(len: u64, what: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || len < 100_000 {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb.set_message(what.to_string());
    Some(pb)
}

fn import(a: ImportArgs) -> Result<ExitCode> {
    let (reliability, credibility) = admiralty(a.reliability.as_deref())?;
    let screen = load_screen(&a.screen)?;
    let mut store = a.store.open()?;
    let format = a.format;
    let now = now();
    let mut results = Vec::new();
    let mut failed = false;
    for p in &a.paths {
        let started = std::time::Instant::now();
        let source = source_name(&a.source, p);
        // TAXII: the checkpoint this run reaches, stored once the import has landed.
        let mut taxii_checkpoint: Option<String> = None;
        let info = SourceInfo {
            name: source.clone(),
            reliability,
            credibility,
            tlp: a.tlp,
            confidence: a.confidence,
        };
        let batch = {
            let known = |id: &str| store.has_object(id).unwrap_or(false);
            let opts = IngestOptions {
                format,
                source: source.clone(),
                confidence: a.confidence,
                reliability,
                credibility,
                tlp: a.tlp,
                now,
                skip_invalid: a.skip_invalid,
                screen: screen.as_ref().map(|s| s as &dyn FalsePositiveScreen),
                known_ids: Some(&known),
            };
            if taxii_client::is_taxii_url(p) {
                let after = if a.full {
                    None
                } else {
                    store.collect_state(&source)?.checkpoint
                };
                let fetched = taxii_client::auth_from_env(None).and_then(|auth| {
                    taxii_client::fetch_collection(
                        p,
                        after.as_deref(),
                        auth.as_ref(),
                        std::time::Duration::from_secs(120),
                    )
                });
                match fetched {
                    Ok(f) => {
                        tracing::info!(pages = f.pages, objects = f.objects.len(), "taxii fetch");
                        taxii_checkpoint = f.last_added.clone().or(after);
                        let opts = IngestOptions {
                            format: InputFormat::Stix,
                            ..opts
                        };
                        ingest::ingest_bytes(p, &f.to_document(), &opts)
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                        continue;
                    }
                }
            } else if p.starts_with("http://") || p.starts_with("https://") {
                match collect::fetch(p, None, std::time::Duration::from_secs(120)) {
                    Ok(collect::Fetched::Data { bytes, .. }) => {
                        ingest::ingest_bytes(p, &bytes, &opts)
                    }
                    // No ETag was sent, so a 304 is the server's mistake.
                    Ok(collect::Fetched::NotModified) => {
                        eprintln!("error: {p}: HTTP 304 to a request without If-None-Match");
                        failed = true;
                        continue;
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                        continue;
                    }
                }
            } else {
                ingest::ingest_path(Path::new(p), &opts)
            }
        };
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        for s in &batch.skipped {
            eprintln!("skipped: {s}");
        }
        for w in batch.warnings.iter().take(20) {
            tracing::info!(warning = %w, "validation");
        }
        let total = (batch.objects.len() + batch.records.len()) as u64;
        let pb = progress_bar(total, &format!("importing {source}"));
        let skipped = batch.skipped.len();
        let fp = batch.false_positive_risk;
        let upgraded = batch.upgraded;
        let warnings = batch.warnings.len();
        let summary = store.import(
            &info,
            ImportBatch {
                objects: batch.objects,
                records: batch.records,
                collection: None,
            },
            now,
            &mut |n| {
                if let Some(pb) = &pb {
                    pb.set_position(n as u64);
                }
            },
        );
        if let Some(pb) = pb {
            pb.finish_and_clear();
        }
        let summary = summary.with_context(|| format!("storing {p}"))?;
        if taxii_checkpoint.is_some() {
            let mut st = store.collect_state(&source)?;
            st.last_run = Some(now);
            st.last_ok = Some(now);
            st.last_error = None;
            st.checkpoint = taxii_checkpoint;
            store
                .set_collect_state(&source, &st)
                .with_context(|| format!("recording the TAXII checkpoint of {source}"))?;
        }
        let secs = started.elapsed().as_secs_f64();
        if !a.json {
            println!(
                "{p}: source {source}: {:.2} s, {} objects stored ({} unchanged), {} records new, {} merged, {} duplicates in input, {} sightings; {} skipped, {} on warninglists, {} validation warnings{}",
                secs,
                summary.objects_added,
                summary.objects_unchanged,
                summary.records_new,
                summary.records_merged,
                summary.duplicates_in_batch,
                summary.sightings,
                skipped,
                fp,
                warnings,
                if upgraded > 0 {
                    format!(", {upgraded} STIX 2.0 objects upgraded")
                } else {
                    String::new()
                }
            );
        }
        results.push(serde_json::json!({
            "input": p, "source": source, "summary": summary, "skipped": skipped,
            "false_positive_risk": fp, "validation_warnings": warnings, "upgraded": upgraded,
            "seconds": secs,
        }));
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"imports": results}))?
        );
    }
    Ok(if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn collect_cmd(a: CollectArgs) -> Result<ExitCode> {
    let file = a
        .sources
        .clone()
        .unwrap_or_else(|| a.store.data_dir.join("sources.toml"));
    let sources = collect::load_sources(&file)?;
    for n in &a.names {
        if !sources.iter().any(|s| &s.name == n) {
            bail!("{}: no source named {n:?}", file.display());
        }
    }
    let screen = load_screen(&a.screen)?;
    let mut store = a.store.open()?;
    let results = collect::collect(
        &mut store,
        &sources,
        &a.names,
        a.force,
        now(),
        screen.as_ref().map(|s| s as &dyn FalsePositiveScreen),
    );
    let failed = results.iter().any(|r| !r.ok);
    match a.format {
        TextJson::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"results": results}))?
        ),
        TextJson::Text => {
            for r in &results {
                match (&r.summary, &r.reason) {
                    (Some(s), _) => println!(
                        "{}: {}: {} objects, {} records new, {} merged, {} skipped",
                        r.source,
                        r.status,
                        s.objects_added,
                        s.records_new,
                        s.records_merged,
                        r.skipped
                    ),
                    (None, Some(reason)) => println!("{}: {}: {reason}", r.source, r.status),
                    (None, None) => println!("{}: {}", r.source, r.status),
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn validate_cmd(a: ValidateArgs) -> Result<ExitCode> {
    let data = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let (reliability, credibility) = admiralty(a.reliability.as_deref())?;
    let screen = load_screen(&a.screen)?;
    let opts = ValidateOptions {
        now: now(),
        screen: screen.as_ref().map(|s| s as &dyn FalsePositiveScreen),
        region: a.for_region.as_ref().map(|r| RegionPolicy {
            region: r.clone(),
            max_tlp: a.region_max_tlp,
        }),
        reliability,
        credibility,
        known_ids: None,
    };
    let report = validate::validate_json(&a.file.display().to_string(), &data, &opts)?;
    match a.format {
        TextJson::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        TextJson::Text => print!("{}", report.render_text()),
    }
    Ok(if report.summary.invalid > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn show(a: ShowArgs) -> Result<ExitCode> {
    let store = a.store.open()?;
    let now = now();
    let found = match store.lookup(&a.id) {
        Ok(f) => f,
        Err(vigil_store::query::LookupError::NotFound(what)) => {
            bail!("{what}: not in {}", store.path().display())
        }
        Err(e) => return Err(e.into()),
    };
    let (object, records) = (found.object, found.records);
    let shown: Vec<serde_json::Value> = records
        .iter()
        .map(|r| vigil_store::query::record_view(r, now))
        .collect();
    match a.format {
        TextJson::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "object": object.as_ref().map(|o| &o.object), "records": shown,
            }))?
        ),
        TextJson::Text => {
            let mut out = std::io::stdout().lock();
            if let Some(o) = &object {
                writeln!(
                    out,
                    "{} ({}, tlp {}, source {}, modified {})",
                    o.id, o.kind, o.tlp, o.source, o.modified
                )?;
                if let Some(n) = o.object.get("name").and_then(|v| v.as_str()) {
                    writeln!(out, "  name: {n}")?;
                }
                if let Some(p) = o.object.get("pattern").and_then(|v| v.as_str()) {
                    writeln!(out, "  pattern: {p}")?;
                }
            }
            for r in &records {
                let score = r.score(now);
                writeln!(
                    out,
                    "{}:{}  score {}  tlp {}",
                    r.kind, r.value, score.value, r.tlp
                )?;
                writeln!(out, "  score: {}", score.explanation())?;
                for (name, c) in &r.sources {
                    writeln!(
                        out,
                        "  source {name}: confidence {}{}{}",
                        c.confidence,
                        c.reliability
                            .map(|g| format!(", reliability {g}"))
                            .unwrap_or_default(),
                        c.first_seen
                            .map(|t| format!(
                                ", first seen {}",
                                vigil_intel::timestamp::format_rfc3339(t)
                            ))
                            .unwrap_or_default()
                    )?;
                }
                if !r.labels.is_empty() {
                    writeln!(
                        out,
                        "  labels: {}",
                        r.labels.iter().cloned().collect::<Vec<_>>().join(", ")
                    )?;
                }
                if r.sighting_count() > 0 {
                    writeln!(out, "  sightings: {}", r.sighting_count())?;
                }
                if !r.warninglists.is_empty() {
                    writeln!(
                        out,
                        "  false-positive risk: on warninglists {}",
                        r.warninglists
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )?;
                }
                for s in &r.stix_ids {
                    writeln!(out, "  stix: {s}")?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn stats(a: StatsArgs) -> Result<ExitCode> {
    let store = a.store.open()?;
    let s = store.stats()?;
    match a.format {
        TextJson::Json => println!("{}", serde_json::to_string_pretty(&s)?),
        TextJson::Text => {
            println!(
                "store {} (schema v{}), {} imports",
                s.path, s.schema_version, s.imports
            );
            println!("objects by type ({} versions stored):", s.object_versions);
            for (k, v) in &s.by_type {
                println!("  {k:<28} {v:>10}");
            }
            println!("records: {}", s.records);
            for (k, v) in &s.records_by_kind {
                println!("  {k:<28} {v:>10}");
            }
            println!("records by tlp:");
            for (k, v) in &s.records_by_tlp {
                println!("  {k:<28} {v:>10}");
            }
            println!("records by source:");
            for (k, v) in &s.records_by_source {
                println!("  {k:<28} {v:>10}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export_cmd(a: ExportArgs) -> Result<ExitCode> {
    let store = a.store.open()?;
    let now = now();
    let since = a
        .since
        .as_deref()
        .map(vigil_intel::timestamp::parse_duration)
        .transpose()
        .map_err(anyhow::Error::msg)?
        .map(|d| now - d);
    let req = ExportRequest {
        format: a.format,
        types: a.types.clone(),
        min_confidence: a.min_confidence,
        max_tlp: a.max_tlp,
        since,
        sources: a.source.clone(),
        now,
    };
    let out = export::export(&store, &req)?;
    match out {
        Export::File { body, meta, extra } => {
            let meta_json = serde_json::to_string_pretty(&meta)?;
            match &a.output {
                Some(path) => {
                    write_atomic(path, &body)?;
                    for (suffix, data) in &extra {
                        write_atomic(&with_suffix(path, suffix), data)?;
                    }
                    write_atomic(&with_suffix(path, ".meta.json"), meta_json.as_bytes())?;
                    eprintln!(
                        "{}: {} {} entries ({} omitted: not expressible in this format), {}",
                        path.display(),
                        meta.count,
                        meta.format,
                        meta.omitted,
                        meta.content_hash
                    );
                }
                None => {
                    std::io::stdout().lock().write_all(&body)?;
                    // Formats without comments cannot carry it inline.
                    if matches!(a.format, ExportFormat::Stix | ExportFormat::Dataset) {
                        eprintln!("{meta_json}");
                    }
                }
            }
        }
        Export::Misp { events, meta } => {
            let Some(dir) = &a.output else {
                bail!("--format misp writes a feed folder: give it with --output DIR");
            };
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let summary = vigil_intel::misp::write_feed(dir, &events)?;
            write_atomic(
                &dir.join("vigil-feed.json"),
                serde_json::to_string_pretty(&meta)?.as_bytes(),
            )?;
            eprintln!(
                "{}: MISP feed with {} events, {} attributes, {}",
                dir.display(),
                summary.events,
                summary.attributes,
                meta.content_hash
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes through a temporary file and a rename, so a reader never sees half a feed.
fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = with_suffix(path, ".tmp");
    std::fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
