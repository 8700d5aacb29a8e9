//! Configuration of the behaviour models: one TOML table per model, every key optional.
//!
//! Parsing is two steps: `toml` deserialises into the structs below (`deny_unknown_fields`, so
//! a typo fails loudly), then [`ModelsConfig::validate`] checks the ranges serde cannot
//! express. Either failure becomes a [`ModelError`] that names the file, the key path and what
//! was expected; syntax and type errors also carry the line and column.
//!
//! The shipped default file is `models/models.toml`; a test asserts that it parses to
//! [`ModelsConfig::default`], so the documented values and the code cannot drift apart.

use super::ModelError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// All four models. Missing tables and keys take their defaults.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    pub scan: ScanConfig,
    pub beacon: BeaconConfig,
    pub dns_tunnel: DnsTunnelConfig,
    pub dga: DgaConfig,
}

/// Port and host scans: distinct (destination, port) pairs per source in a sliding window.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    pub enabled: bool,
    /// Sliding window, seconds.
    pub window_secs: u64,
    /// Weighted count of distinct ports on one destination that makes a vertical scan.
    pub vertical_threshold: f64,
    /// Weighted count of distinct destinations on one port that makes a horizontal scan.
    pub horizontal_threshold: f64,
    /// Weight of a pair whose flow ended unanswered (or rejected with a lone RST).
    pub failed_weight: f64,
    /// Weight of a pair that was answered or whose flow has not ended yet.
    pub unconfirmed_weight: f64,
    /// Most sources tracked at once; the longest-idle source is dropped first.
    pub max_sources: usize,
    /// Most (destination, port) pairs tracked per source; the oldest pair is dropped first.
    pub max_pairs_per_source: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            enabled: true,
            window_secs: 60,
            vertical_threshold: 25.0,
            horizontal_threshold: 25.0,
            failed_weight: 1.0,
            unconfirmed_weight: 0.1,
            max_sources: 10_000,
            max_pairs_per_source: 4_096,
        }
    }
}

/// Beaconing: periodic connection starts with low jitter per (source, destination, port).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BeaconConfig {
    pub enabled: bool,
    /// How far back connection starts are kept, seconds; also the re-alert interval.
    pub window_secs: u64,
    /// Connection starts (after merging bursts) needed before the series is scored.
    pub min_connections: usize,
    /// Shortest median interval that can be a beacon, seconds.
    pub min_period_secs: f64,
    /// Longest median interval that can be a beacon, seconds.
    pub max_period_secs: f64,
    /// Largest jitter (median absolute deviation / median interval) that still counts as
    /// periodic.
    pub max_jitter: f64,
    /// Share of intervals that must lie near one, two or three periods.
    pub min_on_beat: f64,
    /// How near counts as on the beat, as a fraction of the period.
    pub beat_tolerance: f64,
    /// Starts closer than this to the previous one are one burst, seconds.
    pub burst_merge_secs: f64,
    /// Most starts kept per series (the newest are kept).
    pub max_samples: usize,
    /// Most (source, destination, port) series tracked at once; the longest-idle goes first.
    pub max_series: usize,
    /// Destination ports never scored (periodic by design: DNS, DHCP, NTP, NetBIOS, SSDP,
    /// mDNS, LLMNR).
    pub ignore_ports: Vec<u16>,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            enabled: true,
            window_secs: 21_600,
            min_connections: 10,
            min_period_secs: 10.0,
            max_period_secs: 3_600.0,
            max_jitter: 0.15,
            min_on_beat: 0.9,
            beat_tolerance: 0.25,
            burst_merge_secs: 1.0,
            max_samples: 32,
            max_series: 20_000,
            ignore_ports: vec![53, 67, 68, 123, 137, 138, 1900, 5353, 5355],
        }
    }
}

/// DNS tunnelling and exfiltration per (source, registrable parent domain).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsTunnelConfig {
    pub enabled: bool,
    /// Sliding window, seconds.
    pub window_secs: u64,
    /// Characters (dots excluded) a subdomain needs before it can be suspicious.
    pub min_subdomain_len: usize,
    /// Shannon entropy, bits per character, a subdomain needs before it can be suspicious.
    pub min_entropy: f64,
    /// Weighted count of unique suspicious subdomains under one parent that is a tunnel.
    pub tunnel_threshold: f64,
    /// Weight of a suspicious subdomain queried as TXT or NULL (1.0 for other types).
    pub txt_null_weight: f64,
    /// Bytes of unique subdomains under one parent that is exfiltration.
    pub exfil_bytes: u64,
    /// Most (source, parent) pairs tracked at once; the longest-idle goes first.
    pub max_parents: usize,
    /// Most unique subdomains kept per (source, parent); the oldest goes first.
    pub max_subdomains_per_parent: usize,
    /// Registrable domains never scored (exact match), e.g. anti-virus lookup services.
    pub ignore_parents: Vec<String>,
}

impl Default for DnsTunnelConfig {
    fn default() -> Self {
        DnsTunnelConfig {
            enabled: true,
            window_secs: 60,
            min_subdomain_len: 24,
            min_entropy: 3.3,
            tunnel_threshold: 40.0,
            txt_null_weight: 2.0,
            exfil_bytes: 8_192,
            max_parents: 20_000,
            max_subdomains_per_parent: 2_048,
            ignore_parents: Vec::new(),
        }
    }
}

/// DGA-like names: character trigram log-likelihood of the registrable label.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DgaConfig {
    pub enabled: bool,
    /// Model file; absent means the model embedded in the binary. A relative path is taken
    /// relative to the directory of the config file.
    pub model_path: Option<PathBuf>,
    /// A label scoring below this (mean log2 probability per character) is DGA-like.
    pub threshold: f64,
    /// Labels shorter than this are never scored.
    pub min_len: usize,
    /// Sliding window, seconds.
    pub window_secs: u64,
    /// Distinct DGA-like registrable domains one source must query within the window.
    pub min_distinct_names: usize,
    /// Most sources tracked at once; the longest-idle goes first.
    pub max_sources: usize,
    /// Most DGA-like names kept per source; the oldest goes first.
    pub max_names_per_source: usize,
}

impl Default for DgaConfig {
    fn default() -> Self {
        DgaConfig {
            enabled: true,
            model_path: None,
            threshold: -5.2,
            min_len: 8,
            window_secs: 900,
            min_distinct_names: 4,
            max_sources: 10_000,
            max_names_per_source: 64,
        }
    }
}

impl ModelsConfig {
    /// Reads and validates a TOML file. A relative `dga.model_path` is resolved against the
    /// file's directory.
    pub fn from_toml_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::ConfigIo {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Self::from_toml_str(&path.display().to_string(), &text)?;
        if let Some(p) = cfg.dga.model_path.as_mut() {
            if p.is_relative() {
                if let Some(dir) = path.parent() {
                    *p = dir.join(&*p);
                }
            }
        }
        Ok(cfg)
    }

    /// Parses and validates TOML text; `name` is the file name used in error messages.
    pub fn from_toml_str(name: &str, s: &str) -> Result<Self, ModelError> {
        let cfg: ModelsConfig = toml::from_str(s).map_err(|e| syntax_error(name, s, &e))?;
        cfg.validate(name)?;
        Ok(cfg)
    }

    /// Checks the ranges the types cannot express.
    pub fn validate(&self, file: &str) -> Result<(), ModelError> {
        let v = Validator { file };
        let s = &self.scan;
        v.positive_secs("scan.window_secs", s.window_secs)?;
        v.positive("scan.vertical_threshold", s.vertical_threshold)?;
        v.positive("scan.horizontal_threshold", s.horizontal_threshold)?;
        v.non_negative("scan.failed_weight", s.failed_weight)?;
        v.non_negative("scan.unconfirmed_weight", s.unconfirmed_weight)?;
        v.at_least("scan.max_sources", s.max_sources, 1)?;
        v.at_least("scan.max_pairs_per_source", s.max_pairs_per_source, 1)?;

        let b = &self.beacon;
        v.positive_secs("beacon.window_secs", b.window_secs)?;
        v.at_least("beacon.min_connections", b.min_connections, 3)?;
        v.positive("beacon.min_period_secs", b.min_period_secs)?;
        v.positive("beacon.max_period_secs", b.max_period_secs)?;
        if b.max_period_secs < b.min_period_secs {
            return Err(v.value(
                "beacon.max_period_secs",
                "a number >= beacon.min_period_secs",
                b.max_period_secs,
            ));
        }
        v.positive("beacon.max_jitter", b.max_jitter)?;
        if !(b.min_on_beat.is_finite() && (0.0..=1.0).contains(&b.min_on_beat)) {
            return Err(v.value(
                "beacon.min_on_beat",
                "a number between 0 and 1",
                b.min_on_beat,
            ));
        }
        if !(b.beat_tolerance.is_finite() && b.beat_tolerance > 0.0 && b.beat_tolerance < 0.5) {
            return Err(v.value(
                "beacon.beat_tolerance",
                "a number > 0 and < 0.5",
                b.beat_tolerance,
            ));
        }
        v.non_negative("beacon.burst_merge_secs", b.burst_merge_secs)?;
        v.at_least("beacon.max_samples", b.max_samples, b.min_connections)
            .map_err(|_| {
                v.value(
                    "beacon.max_samples",
                    "an integer >= beacon.min_connections",
                    b.max_samples,
                )
            })?;
        v.at_least("beacon.max_series", b.max_series, 1)?;

        let d = &self.dns_tunnel;
        v.positive_secs("dns_tunnel.window_secs", d.window_secs)?;
        v.at_least("dns_tunnel.min_subdomain_len", d.min_subdomain_len, 1)?;
        v.non_negative("dns_tunnel.min_entropy", d.min_entropy)?;
        v.positive("dns_tunnel.tunnel_threshold", d.tunnel_threshold)?;
        v.non_negative("dns_tunnel.txt_null_weight", d.txt_null_weight)?;
        v.at_least("dns_tunnel.exfil_bytes", d.exfil_bytes, 1)?;
        v.at_least("dns_tunnel.max_parents", d.max_parents, 1)?;
        v.at_least(
            "dns_tunnel.max_subdomains_per_parent",
            d.max_subdomains_per_parent,
            1,
        )?;

        let g = &self.dga;
        if !g.threshold.is_finite() || g.threshold >= 0.0 {
            return Err(v.value(
                "dga.threshold",
                "a negative number (mean log2 probability per character)",
                g.threshold,
            ));
        }
        v.at_least("dga.min_len", g.min_len, 1)?;
        v.positive_secs("dga.window_secs", g.window_secs)?;
        v.at_least("dga.min_distinct_names", g.min_distinct_names, 1)?;
        v.at_least("dga.max_sources", g.max_sources, 1)?;
        v.at_least(
            "dga.max_names_per_source",
            g.max_names_per_source,
            g.min_distinct_names,
        )
        .map_err(|_| {
            v.value(
                "dga.max_names_per_source",
                "an integer >= dga.min_distinct_names",
                g.max_names_per_source,
            )
        })?;
        Ok(())
    }
}

struct Validator<'a> {
    file: &'a str,
}

impl Validator<'_> {
    fn value(&self, key: &str, expected: &str, got: impl std::fmt::Display) -> ModelError {
        ModelError::ConfigValue {
            file: self.file.to_string(),
            key: key.to_string(),
            expected: expected.to_string(),
            got: got.to_string(),
        }
    }

    fn positive_secs(&self, key: &str, v: u64) -> Result<(), ModelError> {
        // Windows beyond a year are certainly a unit mistake and would only grow state.
        if v == 0 || v > 366 * 86_400 {
            return Err(self.value(key, "a number of seconds between 1 and 31622400", v));
        }
        Ok(())
    }

    fn positive(&self, key: &str, v: f64) -> Result<(), ModelError> {
        if !(v.is_finite() && v > 0.0) {
            return Err(self.value(key, "a finite number > 0", v));
        }
        Ok(())
    }

    fn non_negative(&self, key: &str, v: f64) -> Result<(), ModelError> {
        if !(v.is_finite() && v >= 0.0) {
            return Err(self.value(key, "a finite number >= 0", v));
        }
        Ok(())
    }

    fn at_least<T: PartialOrd + std::fmt::Display>(
        &self,
        key: &str,
        v: T,
        min: T,
    ) -> Result<(), ModelError> {
        if v < min {
            return Err(self.value(key, &format!("an integer >= {min}"), v));
        }
        Ok(())
    }
}

/// Turns a `toml` error into one that names file, line, column and the dotted key path.
fn syntax_error(file: &str, src: &str, e: &toml::de::Error) -> ModelError {
    let (line, col, key) = match e.span() {
        Some(span) => {
            let (line, col) = line_col(src, span.start);
            (Some(line), Some(col), key_path_at(src, span.start))
        }
        None => (None, None, None),
    };
    ModelError::ConfigSyntax {
        file: file.to_string(),
        line,
        col,
        key: key.unwrap_or_else(|| "(top level)".to_string()),
        message: e.message().trim().to_string(),
    }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The dotted key path of the `key = value` line (or `[table]` header) containing `offset`,
/// reconstructed from the nearest table header above it. This covers the flat two-level shape
/// of the model config, which is all that `deny_unknown_fields` accepts anyway.
fn key_path_at(src: &str, offset: usize) -> Option<String> {
    let mut table: Option<String> = None;
    let mut pos = 0;
    for line in src.split_inclusive('\n') {
        let end = pos + line.len();
        let trimmed = line.trim();
        let header = trimmed
            .strip_prefix('[')
            .and_then(|r| r.split(']').next())
            .map(|h| h.trim().trim_matches('[').trim().to_string());
        if offset < end || end == src.len() {
            if let Some(h) = header {
                return Some(h);
            }
            let key = trimmed.split('=').next()?.trim().trim_matches('"');
            if key.is_empty() || key.starts_with('#') {
                return table;
            }
            return Some(match table {
                Some(t) => format!("{t}.{key}"),
                None => key.to_string(),
            });
        }
        if let Some(h) = header {
            table = Some(h);
        }
        pos = end;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../../../models/models.toml");

    #[test]
    fn shipped_config_file_equals_the_defaults() {
        let cfg = ModelsConfig::from_toml_str("models/models.toml", SHIPPED).unwrap();
        assert_eq!(cfg, ModelsConfig::default());
    }

    #[test]
    fn shipped_config_file_documents_every_key() {
        // Every key of every table appears in the file (as a setting or, for optional keys,
        // as a commented example), so the file is the complete reference.
        for (table, keys) in [
            (
                "scan",
                &[
                    "enabled",
                    "window_secs",
                    "vertical_threshold",
                    "horizontal_threshold",
                    "failed_weight",
                    "unconfirmed_weight",
                    "max_sources",
                    "max_pairs_per_source",
                ][..],
            ),
            (
                "beacon",
                &[
                    "enabled",
                    "window_secs",
                    "min_connections",
                    "min_period_secs",
                    "max_period_secs",
                    "max_jitter",
                    "min_on_beat",
                    "beat_tolerance",
                    "burst_merge_secs",
                    "max_samples",
                    "max_series",
                    "ignore_ports",
                ][..],
            ),
            (
                "dns_tunnel",
                &[
                    "enabled",
                    "window_secs",
                    "min_subdomain_len",
                    "min_entropy",
                    "tunnel_threshold",
                    "txt_null_weight",
                    "exfil_bytes",
                    "max_parents",
                    "max_subdomains_per_parent",
                    "ignore_parents",
                ][..],
            ),
            (
                "dga",
                &[
                    "enabled",
                    "model_path",
                    "threshold",
                    "min_len",
                    "window_secs",
                    "min_distinct_names",
                    "max_sources",
                    "max_names_per_source",
                ][..],
            ),
        ] {
            let start = SHIPPED.find(&format!("[{table}]")).unwrap();
            let rest = &SHIPPED[start + 1..];
            let section = &rest[..rest.find("\n[").unwrap_or(rest.len())];
            for key in keys {
                let set = section.lines().any(|l| {
                    let l = l.trim_start_matches(['#', ' ']);
                    l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}="))
                });
                assert!(set, "models.toml does not document {table}.{key}");
            }
        }
    }

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(
            ModelsConfig::from_toml_str("empty.toml", "").unwrap(),
            ModelsConfig::default()
        );
    }

    #[test]
    fn unknown_key_names_file_line_and_key_path() {
        let err = ModelsConfig::from_toml_str("m.toml", "[scan]\nenabled = true\nwindw_secs = 5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("m.toml:3:1"), "{err}");
        assert!(err.contains("scan.windw_secs"), "{err}");
        assert!(err.contains("unknown field"), "{err}");
        assert!(
            err.contains("window_secs"),
            "expected keys are listed: {err}"
        );
    }

    #[test]
    fn negative_window_is_a_type_error_naming_the_key() {
        let err = ModelsConfig::from_toml_str("m.toml", "[beacon]\nwindow_secs = -60\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("m.toml:2:15"), "{err}");
        assert!(err.contains("beacon.window_secs"), "{err}");
        assert!(err.contains("u64"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_expected_type() {
        let err = ModelsConfig::from_toml_str("m.toml", "[dga]\nenabled = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("dga.enabled"), "{err}");
        assert!(err.contains("expected a boolean"), "{err}");
    }

    #[test]
    fn zero_window_and_out_of_range_values_are_rejected() {
        let err = ModelsConfig::from_toml_str("m.toml", "[dns_tunnel]\nwindow_secs = 0\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid model config m.toml: key `dns_tunnel.window_secs`: expected a number of \
             seconds between 1 and 31622400, got 0"
        );
        let err = ModelsConfig::from_toml_str("m.toml", "[dga]\nthreshold = 1.5\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("dga.threshold") && err.contains("negative"),
            "{err}"
        );
        let err = ModelsConfig::from_toml_str(
            "m.toml",
            "[beacon]\nmin_period_secs = 60.0\nmax_period_secs = 30.0\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("beacon.max_period_secs"), "{err}");
    }

    #[test]
    fn unknown_table_is_rejected() {
        let err = ModelsConfig::from_toml_str("m.toml", "[scans]\nenabled = false\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("m.toml:1:"), "{err}");
        assert!(err.contains("unknown field `scans`"), "{err}");
    }

    #[test]
    fn relative_model_path_is_resolved_against_the_config_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(&path, "[dga]\nmodel_path = \"dga.json\"\n").unwrap();
        let cfg = ModelsConfig::from_toml_file(&path).unwrap();
        assert_eq!(cfg.dga.model_path, Some(dir.path().join("dga.json")));
        let err = ModelsConfig::from_toml_file(&dir.path().join("missing.toml")).unwrap_err();
        assert!(err.to_string().contains("missing.toml"), "{err}");
    }

    #[test]
    fn models_can_be_disabled_one_by_one() {
        let cfg = ModelsConfig::from_toml_str(
            "m.toml",
            "[scan]\nenabled = false\n[dga]\nenabled = false\n",
        )
        .unwrap();
        assert!(!cfg.scan.enabled && !cfg.dga.enabled);
        assert!(cfg.beacon.enabled && cfg.dns_tunnel.enabled);
    }
}
