//! Threat-intelligence formats and normalisation.
//!
//! Loads indicator feeds into [`vigil_model::Indicator`]s with canonical values:
//!
//! * [`stix`] — STIX 2.0/2.1 bundles (patterns of `indicator` objects via [`pattern`], and
//!   cyber-observable objects);
//! * [`list`] — plain lists (one value per line, hosts files, `value;comment`, TSV);
//! * [`csvfeed`] — CSV with a header (including MISP CSV exports);
//! * [`normalize`] — the canonical forms and type detection shared by all of them;
//! * [`timestamp`] — the dates feeds carry, read into [`Indicator::valid_from`].
//!
//! Loading never panics. Problems with single records (a bad line, an invalid pattern) become
//! [`Skipped`] records on the [`Feed`]; only problems with the file as a whole (unreadable,
//! malformed JSON, a CSV without a value column, an unknown `#type:` directive) are errors —
//! unless [`LoadOptions::strict`] is set, in which case the first skipped record is an error too.
//!
//! A record whose timestamp cannot be read is not skipped: its indicators are kept with an
//! unknown age and counted in [`Feed::bad_timestamps`]; in strict mode the first such timestamp
//! is an error naming the record and field.
#![forbid(unsafe_code)]

pub mod bundle;
pub mod csvfeed;
pub mod feeds;
pub mod ingest;
pub mod list;
pub mod markings;
pub mod misp;
pub mod normalize;
pub mod pattern;
pub mod stix;
pub mod timestamp;
pub mod validate;
pub mod warninglists;

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use vigil_model::{Confidence, Indicator, Reliability};

pub use normalize::{classify, normalize, NormError};
pub use pattern::{Atom, Pattern, PatternError};

/// Input format of a feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// By extension: `.json` → STIX, `.csv` → CSV; anything else is sniffed: a first
    /// non-whitespace byte of `{` or `[` means STIX, otherwise a text list.
    #[default]
    Auto,
    Stix,
    Csv,
    Text,
}

/// How to load a feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    pub format: Format,
    /// The `source` recorded on every indicator; default: the file name.
    pub source: Option<String>,
    /// Confidence for indicators whose record has none; default 50.
    pub default_confidence: Confidence,
    /// Turn the first skipped record (or unreadable timestamp) into an error.
    pub strict: bool,
    /// The Admiralty grade of this feed's source, stamped on every indicator it loads.
    pub reliability: Option<Reliability>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            format: Format::Auto,
            source: None,
            default_confidence: Confidence::new(50),
            strict: false,
            reliability: None,
        }
    }
}

/// The result of loading one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    pub source: String,
    pub path: PathBuf,
    /// The indicators, unless they were streamed to a sink ([`load_path_with`]).
    pub indicators: Vec<Indicator>,
    /// How many indicators the feed produced (collected or streamed).
    pub count: usize,
    /// Records that could not be used, with where and why.
    pub skipped: Vec<Skipped>,
    /// Records deliberately not turned into indicators and not worth a message: STIX objects of
    /// other types, revoked indicators, non-STIX pattern types, `file` objects without a
    /// supported hash, MISP attributes with `to_ids` false, hosts-file boilerplate
    /// (`127.0.0.1 localhost`).
    pub ignored: usize,
    /// Records kept with an unknown age because their timestamp could not be read (in
    /// strict mode the first one is an error instead).
    pub bad_timestamps: usize,
}

/// A record that was not turned into indicators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// `file:line` for line-based formats, `file: objects[3].pattern` for STIX.
    pub location: String,
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid json: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A problem with the file as a whole at a location (`file:line`), such as an unknown
    /// `#type:` directive in a list.
    #[error("{location}: {message}")]
    Format { location: String, message: String },
    /// An invalid STIX pattern in strict mode.
    #[error("{location}: {source}")]
    Pattern {
        location: String,
        #[source]
        source: PatternError,
    },
    /// An input with unusable records, every one listed; nothing of it was stored.
    #[error("{input}: {} invalid record(s), nothing imported (--skip-invalid imports the rest):{}", problems.len(), list_problems(problems))]
    Invalid {
        input: String,
        problems: Vec<Skipped>,
    },
    /// The first skipped record, in strict mode.
    #[error("{location}: {reason} (strict mode)")]
    Strict { location: String, reason: String },
}

fn list_problems(p: &[Skipped]) -> String {
    let mut s = String::new();
    for x in p.iter().take(50) {
        s.push_str("\n  ");
        s.push_str(&x.to_string());
    }
    if p.len() > 50 {
        s.push_str(&format!("\n  … and {} more", p.len() - 50));
    }
    s
}

/// Receives indicators as they are parsed, so a large feed never sits in memory as a whole.
pub type IndicatorSink<'s> = &'s mut dyn FnMut(Indicator);

/// Collects the output of one file and applies the strict option. Indicators go to the sink
/// when there is one, else into `feed.indicators`.
pub(crate) struct FeedBuilder<'s> {
    pub feed: Feed,
    pub strict: bool,
    sink: Option<IndicatorSink<'s>>,
}

impl<'s> FeedBuilder<'s> {
    pub(crate) fn new(name: &str, opts: &LoadOptions, sink: Option<IndicatorSink<'s>>) -> Self {
        let source = opts.source.clone().unwrap_or_else(|| {
            Path::new(name)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.to_string())
        });
        FeedBuilder {
            feed: Feed {
                source,
                path: PathBuf::from(name),
                indicators: Vec::new(),
                count: 0,
                skipped: Vec::new(),
                ignored: 0,
                bad_timestamps: 0,
            },
            strict: opts.strict,
            sink,
        }
    }

    pub(crate) fn push(&mut self, ind: Indicator) {
        self.feed.count += 1;
        match self.sink.as_mut() {
            Some(sink) => sink(ind),
            None => self.feed.indicators.push(ind),
        }
    }

    pub(crate) fn is_streaming(&self) -> bool {
        self.sink.is_some()
    }

    /// Records a skipped record; in strict mode returns it as an error instead.
    pub(crate) fn skip(&mut self, location: String, reason: String) -> Result<(), IntelError> {
        if self.strict {
            return Err(IntelError::Strict { location, reason });
        }
        self.feed.skipped.push(Skipped { location, reason });
        Ok(())
    }

    /// Records an unreadable timestamp of a record that is kept with an unknown age; in strict
    /// mode returns it as an error instead.
    pub(crate) fn bad_timestamp(
        &mut self,
        location: String,
        reason: String,
    ) -> Result<(), IntelError> {
        if self.strict {
            return Err(IntelError::Strict { location, reason });
        }
        self.feed.bad_timestamps += 1;
        Ok(())
    }
}

/// The shared data folder: `$VIGIL_DATA_DIR`, else `shared/data` beside the repository (the
/// same lookup as `vigil_detect::testdata`, which this crate cannot depend on). Missing data
/// fails the test loudly instead of skipping it.
#[cfg(test)]
pub(crate) fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("VIGIL_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    assert!(
        dir.is_dir(),
        "shared test data not found at {}; set VIGIL_DATA_DIR",
        dir.display()
    );
    Some(dir)
}

/// A JSON syntax error as `file:line:column: invalid json: message`.
pub(crate) fn json_error(name: &str, e: &serde_json::Error) -> IntelError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    IntelError::Json {
        path: name.into(),
        line: e.line(),
        column: e.column(),
        message,
    }
}

/// What a JSON value is, for messages: "a string", "an array", ….
pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Strips a UTF-8 byte-order mark.
pub(crate) fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)
}

/// Loads a file, or every feed file under a directory (recursively, in sorted order). In
/// directories, hidden entries, `LICENSE*`, `README*`, `*.md`, and files that are not feeds
/// (`.rules`, `.yaml`/`.yml`, `.pcap`/`.pcapng`, `.gz`, `.zip`, `.g4`) are skipped; a file named
/// explicitly is always loaded.
pub fn load_path(path: &Path, opts: &LoadOptions) -> Result<Vec<Feed>, IntelError> {
    load_path_inner(path, opts, None)
}

/// Like [`load_path`], but hands every indicator to `sink` as it is parsed instead of keeping
/// it in [`Feed::indicators`]; the returned feeds carry counts and skipped records only. This
/// is how a scanner loads millions of indicators without holding them twice.
pub fn load_path_with(
    path: &Path,
    opts: &LoadOptions,
    sink: &mut dyn FnMut(Indicator),
) -> Result<Vec<Feed>, IntelError> {
    load_path_inner(path, opts, Some(sink))
}

fn load_path_inner(
    path: &Path,
    opts: &LoadOptions,
    mut sink: Option<IndicatorSink<'_>>,
) -> Result<Vec<Feed>, IntelError> {
    let meta = fs::metadata(path).map_err(|source| IntelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files, 0)?;
        let mut feeds = Vec::with_capacity(files.len());
        for f in &files {
            let reborrowed: Option<IndicatorSink<'_>> = match sink.as_mut() {
                Some(s) => Some(&mut **s),
                None => None,
            };
            feeds.push(load_file(f, opts, reborrowed)?);
        }
        Ok(feeds)
    } else {
        Ok(vec![load_file(path, opts, sink)?])
    }
}

const MAX_WALK_DEPTH: usize = 32;

fn is_feed_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with('.') || lower.starts_with("license") || lower.starts_with("readme") {
        return false;
    }
    let ext = Path::new(&lower)
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    !matches!(
        ext.as_str(),
        "md" | "rules" | "yaml" | "yml" | "pcap" | "pcapng" | "gz" | "zip" | "g4"
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), IntelError> {
    if depth > MAX_WALK_DEPTH {
        return Ok(());
    }
    let io = |source| IntelError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for e in fs::read_dir(dir).map_err(io)? {
        entries.push(e.map_err(io)?);
    }
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let p = e.path();
        let ft = e.file_type().map_err(|source| IntelError::Io {
            path: p.clone(),
            source,
        })?;
        if ft.is_dir() {
            walk(&p, out, depth + 1)?;
        } else if is_feed_file_name(&name) && (ft.is_file() || p.is_file()) {
            // Symlinks to files are followed; symlinks to directories are not (no cycles).
            out.push(p);
        }
    }
    Ok(())
}

fn load_file(
    path: &Path,
    opts: &LoadOptions,
    sink: Option<IndicatorSink<'_>>,
) -> Result<Feed, IntelError> {
    let data = fs::read(path).map_err(|source| IntelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let mut feed = parse_bytes(&name, &data, opts, sink)?;
    feed.path = path.to_path_buf();
    tracing::debug!(
        path = %name,
        indicators = feed.count,
        skipped = feed.skipped.len(),
        ignored = feed.ignored,
        bad_timestamps = feed.bad_timestamps,
        "loaded feed"
    );
    Ok(feed)
}

/// Loads a feed from a reader (stdin, tests); `name` is used for locations, the default source
/// and format detection by extension.
pub fn load_reader(name: &str, mut r: impl Read, opts: &LoadOptions) -> Result<Feed, IntelError> {
    let mut data = Vec::new();
    r.read_to_end(&mut data).map_err(|source| IntelError::Io {
        path: PathBuf::from(name),
        source,
    })?;
    load_bytes(name, &data, opts)
}

/// Loads a feed held in memory.
pub fn load_bytes(name: &str, data: &[u8], opts: &LoadOptions) -> Result<Feed, IntelError> {
    parse_bytes(name, data, opts, None)
}

/// [`load_bytes`], handing every indicator to `sink` instead of collecting it.
pub fn load_bytes_with(
    name: &str,
    data: &[u8],
    opts: &LoadOptions,
    sink: &mut dyn FnMut(Indicator),
) -> Result<Feed, IntelError> {
    parse_bytes(name, data, opts, Some(sink))
}

fn parse_bytes(
    name: &str,
    data: &[u8],
    opts: &LoadOptions,
    sink: Option<IndicatorSink<'_>>,
) -> Result<Feed, IntelError> {
    match detect_format(name, data, opts.format) {
        Format::Stix => stix::parse_with(name, data, opts, sink),
        Format::Csv => csvfeed::parse_with(name, data, opts, sink),
        Format::Text | Format::Auto => list::parse_with(name, data, opts, sink),
    }
}

/// Resolves [`Format::Auto`] for a file name and its content.
pub fn detect_format(name: &str, data: &[u8], format: Format) -> Format {
    if format != Format::Auto {
        return format;
    }
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "json" => Format::Stix,
        "csv" => Format::Csv,
        _ => {
            let first = strip_bom(data)
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .copied();
            if matches!(first, Some(b'{' | b'[')) {
                Format::Stix
            } else {
                Format::Text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_model::IndicatorType as T;

    #[test]
    fn format_detection() {
        assert_eq!(
            detect_format("a.json", b"1.2.3.4", Format::Auto),
            Format::Stix
        );
        assert_eq!(detect_format("a.CSV", b"", Format::Auto), Format::Csv);
        assert_eq!(
            detect_format("a.txt", b"\xEF\xBB\xBF  {", Format::Auto),
            Format::Stix
        );
        assert_eq!(detect_format("-", b"\n[{}]", Format::Auto), Format::Stix);
        assert_eq!(
            detect_format("a.txt", b"1.2.3.4", Format::Auto),
            Format::Text
        );
        assert_eq!(detect_format("a.json", b"{}", Format::Text), Format::Text);
    }

    #[test]
    fn load_reader_auto_detects_each_format() {
        let o = LoadOptions::default();
        let f = load_reader("x.txt", &b"1.2.3.4\nevil.com\n"[..], &o).unwrap();
        assert_eq!(f.indicators.len(), 2);
        assert_eq!(f.source, "x.txt");
        let f = load_reader("x.csv", &b"value\n1.2.3.4\n"[..], &o).unwrap();
        assert_eq!(f.indicators[0].kind, T::Ip);
        let f = load_reader(
            "stdin",
            &br#"{"type":"ipv4-addr","id":"ipv4-addr--1","value":"1.2.3.4"}"#[..],
            &o,
        )
        .unwrap();
        assert_eq!(f.indicators[0].id.as_deref(), Some("ipv4-addr--1"));
    }

    #[test]
    fn strict_turns_the_first_skip_into_an_error() {
        let o = LoadOptions {
            strict: true,
            source: Some("feed-x".into()),
            ..LoadOptions::default()
        };
        let e = load_reader("x.txt", &b"1.2.3.4\nnot a value\n"[..], &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.txt:2: unrecognised indicator \"not\": not an ip, cidr, url, domain, md5/sha1/sha256 hash or ja4 (strict mode)"
        );
        let f = load_reader("x.txt", &b"1.2.3.4\n"[..], &o).unwrap();
        assert_eq!(f.indicators[0].source, "feed-x");
    }

    #[test]
    fn reliability_is_stamped_in_every_format_and_lists_have_no_dates() {
        let o = LoadOptions {
            reliability: Some(Reliability::D),
            ..LoadOptions::default()
        };
        for (name, data) in [
            ("x.txt", &b"1.2.3.4\nevil.example # c2\n"[..]),
            ("x.csv", b"value\n1.2.3.4\n"),
            (
                "x.json",
                br#"{"type":"indicator","pattern":"[ipv4-addr:value = '1.2.3.4']"}"#,
            ),
        ] {
            let f = load_reader(name, data, &o).unwrap();
            assert!(!f.indicators.is_empty());
            for i in &f.indicators {
                assert_eq!(i.reliability, Some(Reliability::D), "{name}");
                assert_eq!(i.valid_from, None, "{name}");
            }
        }
    }

    #[test]
    fn load_path_walks_directories_in_order_and_skips_non_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("sub")).unwrap();
        fs::create_dir(d.join(".git")).unwrap();
        fs::write(d.join("b.txt"), "2.2.2.2\n").unwrap();
        fs::write(d.join("a.csv"), "ip\n1.1.1.1\n").unwrap();
        fs::write(
            d.join("sub/c.json"),
            r#"[{"type":"domain-name","value":"c.example"}]"#,
        )
        .unwrap();
        fs::write(d.join(".hidden.txt"), "3.3.3.3\n").unwrap();
        fs::write(d.join(".git/x.txt"), "3.3.3.3\n").unwrap();
        fs::write(d.join("README.txt"), "docs\n").unwrap();
        fs::write(d.join("LICENSE-CC0"), "text\n").unwrap();
        fs::write(d.join("notes.md"), "text\n").unwrap();
        fs::write(d.join("x.rules"), "alert ip any any -> any any (sid:1;)\n").unwrap();
        let feeds = load_path(d, &LoadOptions::default()).unwrap();
        let names: Vec<_> = feeds.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(names, ["a.csv", "b.txt", "c.json"]);
        assert_eq!(feeds[2].path, d.join("sub/c.json"));
        assert_eq!(feeds[2].indicators[0].value, "c.example");
        assert!(feeds.iter().all(|f| f.skipped.is_empty()));
        // An explicit file is loaded whatever its name.
        let f = load_path(&d.join("README.txt"), &LoadOptions::default()).unwrap();
        assert_eq!(f[0].skipped.len(), 1);
        let e = load_path(&d.join("missing"), &LoadOptions::default()).unwrap_err();
        assert!(e.to_string().starts_with("cannot read "), "{e}");
    }

    /// The shared feed snapshots load as a directory: only the eight `.txt` lists are feeds
    /// (LICENSE*, README*, *.md and the `.rules` files are skipped), and nothing is skipped.
    #[test]
    fn shared_feed_directory_loads() {
        let Some(root) = shared_data().map(|d| d.join("ioc-feeds")) else {
            eprintln!("shared data not found; skipping");
            return;
        };
        let feeds = load_path(&root, &LoadOptions::default()).unwrap();
        let names: Vec<_> = feeds.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(
            names,
            [
                "ipsum.txt",
                "c2-iocs.txt",
                "hash-iocs.txt",
                "ips.txt",
                "urlhaus-filter-domains-online.txt",
                "urlhaus-filter-domains.txt",
                "urlhaus-filter-hosts-online.txt",
                "urlhaus-filter-hosts.txt",
            ]
        );
        let total: usize = feeds.iter().map(|f| f.indicators.len()).sum();
        assert_eq!(
            total,
            120_430 + 1_844 + 3_224 + 19_863 + 2_853 + 25_768 + 619 + 2_689
        );
        assert!(feeds.iter().all(|f| f.skipped.is_empty()));
    }
}
