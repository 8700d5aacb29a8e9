//! The hub's configuration file (`vigil region serve --config hub.toml`). Every table is
//! optional; command-line flags override the file.
//!
//! ```toml
//! listen = "127.0.0.1:7443"
//! warninglists = "data/warninglists"   # or false to turn screening off
//!
//! [limits]
//! max_body_bytes = 33554432            # 32 MiB
//! page_size = 100                      # default page of list endpoints
//! max_page_size = 1000
//!
//! [decisions]                          # vigil_model::DecisionPolicy
//! min_confidence = 80
//! duration_secs = 14400
//!
//! [collect]
//! interval_secs = 300                  # run due sources of <data-dir>/sources.toml; 0 = never
//!
//! [tls]
//! cert = "certs/hub.pem"
//! key = "certs/hub-key.pem"
//! client_ca = "certs/ca.pem"           # require client certificates (mutual TLS)
//! ```
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vigil_model::DecisionPolicy;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "Limits::default_body")]
    pub max_body_bytes: usize,
    #[serde(default = "Limits::default_page")]
    pub page_size: usize,
    #[serde(default = "Limits::default_max_page")]
    pub max_page_size: usize,
}

impl Limits {
    fn default_body() -> usize {
        32 << 20
    }
    fn default_page() -> usize {
        100
    }
    fn default_max_page() -> usize {
        1000
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: Limits::default_body(),
            page_size: Limits::default_page(),
            max_page_size: Limits::default_max_page(),
        }
    }
}

/// Scheduled collection of the sources in `<data-dir>/sources.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Collect {
    /// How often the hub looks for due sources; 0 turns scheduled collection off.
    #[serde(default = "Collect::default_interval")]
    pub interval_secs: u64,
}

impl Collect {
    fn default_interval() -> u64 {
        300
    }
}

impl Default for Collect {
    fn default() -> Self {
        Collect {
            interval_secs: Collect::default_interval(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// When set, clients must present a certificate issued by this CA.
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
}

/// Warninglist screening: a folder, or `false` for none. Absent means the default folder.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum WarninglistSetting {
    Dir(PathBuf),
    Enabled(bool),
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<SocketAddr>,
    warninglists: Option<WarninglistSetting>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    decisions: DecisionPolicy,
    #[serde(default)]
    collect: Collect,
    tls: Option<TlsFiles>,
}

/// A validated hub configuration.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub region: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// `None`: no screening.
    pub warninglists: Option<PathBuf>,
    pub limits: Limits,
    pub decisions: DecisionPolicy,
    pub collect: Collect,
    pub tls: Option<TlsFiles>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7443";

impl HubConfig {
    /// Defaults for `region` over `data_dir`.
    pub fn new(region: &str, data_dir: &Path) -> HubConfig {
        HubConfig {
            region: region.to_string(),
            data_dir: data_dir.to_path_buf(),
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            warninglists: vigil_intel::warninglists::Warninglists::default_dir(),
            limits: Limits::default(),
            decisions: DecisionPolicy::default(),
            collect: Collect::default(),
            tls: None,
        }
    }

    /// Reads `path` over the defaults.
    pub fn load(region: &str, data_dir: &Path, path: &Path) -> Result<HubConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: File = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let mut c = HubConfig::new(region, data_dir);
        if let Some(l) = file.listen {
            c.listen = l;
        }
        match file.warninglists {
            None => {}
            Some(WarninglistSetting::Enabled(true)) => {}
            Some(WarninglistSetting::Enabled(false)) => c.warninglists = None,
            Some(WarninglistSetting::Dir(d)) => c.warninglists = Some(d),
        }
        c.limits = file.limits;
        c.decisions = file.decisions;
        c.collect = file.collect;
        c.tls = file.tls;
        c.validate().map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Ok(c)
    }

    /// Checks what types cannot: sizes and the region name.
    pub fn validate(&self) -> Result<(), ConfigError> {
        vigil_store::check_region(&self.region).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let l = &self.limits;
        if l.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(format!(
                "limits.max_body_bytes = {}: must be at least 1024",
                l.max_body_bytes
            )));
        }
        if l.page_size == 0 || l.max_page_size < l.page_size {
            return Err(ConfigError::Invalid(format!(
                "limits.page_size = {} must be between 1 and limits.max_page_size = {}",
                l.page_size, l.max_page_size
            )));
        }
        if self.decisions.min_confidence > 100 {
            return Err(ConfigError::Invalid(format!(
                "decisions.min_confidence = {}: must be 0-100",
                self.decisions.min_confidence
            )));
        }
        if self.decisions.min_alert_confidence > 100 {
            return Err(ConfigError::Invalid(format!(
                "decisions.min_alert_confidence = {}: must be 0-100",
                self.decisions.min_alert_confidence
            )));
        }
        if self.decisions.duration_secs <= 0 {
            return Err(ConfigError::Invalid(
                "decisions.duration_secs must be positive".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<HubConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hub.toml");
        std::fs::write(&p, text).unwrap();
        HubConfig::load("eu", dir.path(), &p)
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let c = load("").unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.limits, Limits::default());
        assert_eq!(c.decisions, DecisionPolicy::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_file_and_key() {
        let e = load("[limits]\nmax_body = 5\n").unwrap_err().to_string();
        assert!(e.contains("hub.toml") && e.contains("max_body"), "{e}");
        let e = load("[limits]\nmax_body_bytes = 5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_body_bytes = 5"), "{e}");
        let e = load("[decisions]\nmin_confidence = 101\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("min_confidence"), "{e}");
        let c = load("warninglists = false\nlisten = \"0.0.0.0:9000\"\n").unwrap();
        assert!(c.warninglists.is_none());
        assert_eq!(c.listen.port(), 9000);
    }
}
