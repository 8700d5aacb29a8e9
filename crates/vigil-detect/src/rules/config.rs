//! The parts of a Suricata `suricata.yaml` that rule loading needs.
//!
//! Read: `vars` (address and port groups, overlaid on Suricata 8's defaults), IP reputation
//! (`reputation-categories-file`, `default-reputation-path`, `reputation-files`), `datasets`,
//! `threshold-file`, `classification-file`, `default-rule-path`, `rule-files`, and top-level
//! `include` (one file or a list). Every other section is skipped unread, so the rest of a real
//! configuration never gets in the way.
//!
//! Paths resolve as Suricata resolves them, with the configuration file's directory standing
//! in for Suricata's working directory: relative paths against [`SuricataConfig::dir`],
//! reputation files against `default-reputation-path`, rule files against
//! `default-rule-path`, includes against the main file's directory.
//!
//! Includes merge like Suricata's loader: the included file takes effect where the `include`
//! key stands, so keys before it are overridden by the included file and keys after it
//! override it. Mappings (`vars`, `datasets`) merge key by key; scalars and lists are
//! replaced. `!include` tags on values are not supported. An include file that does not exist
//! stops Suricata; [`SuricataConfig::load`] records it in
//! [`SuricataConfig::missing_includes`] and goes on with Vigil's defaults in its place (the
//! suricata-verify fragments include a base config that stands for the defaults), while
//! [`SuricataConfig::load_strict`] refuses it.

use super::ast::DataType;
use super::netset::Vars;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a configuration could not be loaded. Locations are `file:line` where serde_yaml
/// reports one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Yaml {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("{}: include of {} is circular or nested more than {MAX_INCLUDE_DEPTH} deep", path.display(), include.display())]
    Include { path: PathBuf, include: PathBuf },
}

const MAX_INCLUDE_DEPTH: usize = 16;

/// A set from the `datasets:` section. Paths are resolved against the configuration's
/// directory. Suricata's `DatasetsInit` reads `state` (load and save) or else `load`; `save`
/// is kept for callers that want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetDecl {
    pub name: String,
    pub data_type: DataType,
    pub load: Option<PathBuf>,
    pub save: Option<PathBuf>,
    pub state: Option<PathBuf>,
    /// As written (`10mb`); not enforced.
    pub memcap: Option<String>,
    pub hashsize: Option<String>,
}

/// What Vigil reads from suricata.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuricataConfig {
    /// Directory of the configuration file; relative paths resolve against it.
    pub dir: PathBuf,
    pub vars: Vars,
    pub reputation_categories_file: Option<PathBuf>,
    /// Resolved: absolute, or under `default-reputation-path`, or under `dir`.
    pub reputation_files: Vec<PathBuf>,
    pub default_reputation_path: Option<PathBuf>,
    pub datasets: Vec<DatasetDecl>,
    pub threshold_file: Option<PathBuf>,
    pub classification_file: Option<PathBuf>,
    pub default_rule_path: Option<PathBuf>,
    /// As written; see [`SuricataConfig::rule_paths`].
    pub rule_files: Vec<String>,
    /// Included files that did not exist (see the module notes).
    pub missing_includes: Vec<PathBuf>,
    /// Inspection settings as `key = value` in Suricata's dotted names (`stream.midstream`,
    /// `stream.async-oneside`, `stream.midstream-policy`, `exception-policy`), for the scan
    /// to apply under any `--set`.
    pub settings: Vec<(String, String)>,
}

impl SuricataConfig {
    /// Defaults for a configuration living in `dir`: Suricata 8's default vars, nothing else.
    pub fn default_for_dir(dir: impl Into<PathBuf>) -> SuricataConfig {
        SuricataConfig {
            dir: dir.into(),
            vars: Vars::suricata_defaults(),
            reputation_categories_file: None,
            reputation_files: Vec::new(),
            default_reputation_path: None,
            datasets: Vec::new(),
            threshold_file: None,
            classification_file: None,
            default_rule_path: None,
            rule_files: Vec::new(),
            missing_includes: Vec::new(),
            settings: Vec::new(),
        }
    }

    /// Reads a suricata.yaml (with its includes; missing ones are recorded, not fatal).
    pub fn load(path: impl AsRef<Path>) -> Result<SuricataConfig, ConfigError> {
        SuricataConfig::load_with(path.as_ref(), false)
    }

    /// As [`SuricataConfig::load`], but a missing include file is an error, as in Suricata.
    pub fn load_strict(path: impl AsRef<Path>) -> Result<SuricataConfig, ConfigError> {
        SuricataConfig::load_with(path.as_ref(), true)
    }

    fn load_with(path: &Path, strict: bool) -> Result<SuricataConfig, ConfigError> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut ctx = Ctx {
            main_dir: dir.clone(),
            stack: vec![path.to_path_buf()],
            strict,
            missing: Vec::new(),
        };
        let raw = load_raw(path, &text, &mut ctx)?;
        let mut c = SuricataConfig::from_raw(raw, dir);
        c.missing_includes = ctx.missing;
        Ok(c)
    }

    /// Parses configuration text as if it were a file in `dir` (includes are read from
    /// `dir`); `name` is used in error locations.
    pub fn parse(name: &Path, text: &str, dir: &Path) -> Result<SuricataConfig, ConfigError> {
        let mut ctx = Ctx {
            main_dir: dir.to_path_buf(),
            stack: vec![name.to_path_buf()],
            strict: false,
            missing: Vec::new(),
        };
        let raw = load_raw(name, text, &mut ctx)?;
        let mut c = SuricataConfig::from_raw(raw, dir.to_path_buf());
        c.missing_includes = ctx.missing;
        Ok(c)
    }

    /// A path from the configuration, resolved against [`SuricataConfig::dir`].
    pub fn resolve(&self, p: impl AsRef<Path>) -> PathBuf {
        self.dir.join(p)
    }

    /// `rule-files`, resolved against `default-rule-path` (or `dir` without one).
    pub fn rule_paths(&self) -> Vec<PathBuf> {
        let base = self.default_rule_path.as_deref().unwrap_or(&self.dir);
        self.rule_files.iter().map(|f| base.join(f)).collect()
    }

    fn from_raw(raw: RawConfig, dir: PathBuf) -> SuricataConfig {
        let mut c = SuricataConfig::default_for_dir(dir);
        if let Some(v) = raw.vars {
            for (k, val) in v.address_groups.unwrap_or_default() {
                c.vars.addresses.insert(k, val.0);
            }
            for (k, val) in v.port_groups.unwrap_or_default() {
                c.vars.ports.insert(k, val.0);
            }
        }
        if let Some(st) = raw.stream {
            for (k, v) in [
                ("stream.midstream", st.midstream),
                ("stream.async-oneside", st.async_oneside),
                ("stream.midstream-policy", st.midstream_policy),
            ] {
                if let Some(v) = v.filter(|v| !v.0.is_empty()) {
                    c.settings.push((k.to_string(), v.0));
                }
            }
        }
        if let Some(v) = raw.exception_policy.filter(|v| !v.0.is_empty()) {
            c.settings.push(("exception-policy".to_string(), v.0));
        }
        if let Some(v) = raw.packet_alert_max.filter(|v| !v.0.is_empty()) {
            c.settings.push(("packet-alert-max".to_string(), v.0));
        }
        if let Some(o) = &raw.outputs {
            c.settings.extend(alert_metadata(o));
        }
        let path = |s: Option<Scalar>| s.filter(|s| !s.0.is_empty()).map(|s| c.dir.join(s.0));
        c.reputation_categories_file = path(raw.reputation_categories_file);
        c.default_reputation_path = path(raw.default_reputation_path);
        c.threshold_file = path(raw.threshold_file);
        c.classification_file = path(raw.classification_file);
        c.default_rule_path = path(raw.default_rule_path);
        let rep_base = c.default_reputation_path.clone().unwrap_or(c.dir.clone());
        c.reputation_files = raw
            .reputation_files
            .unwrap_or_default()
            .into_iter()
            .filter(|f| !f.0.is_empty())
            .map(|f| rep_base.join(f.0))
            .collect();
        c.rule_files = raw
            .rule_files
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.0)
            .filter(|f| !f.is_empty())
            .collect();
        // Suricata skips entries without a `type` (`defaults`, `limits`, `rules`, ...).
        for (name, e) in raw.datasets.map(|d| d.0).unwrap_or_default() {
            let DatasetEntry::Set(d) = e else { continue };
            let Some(DatasetType(data_type)) = d.data_type else {
                continue;
            };
            let p = |s: Option<Scalar>| s.filter(|s| !s.0.is_empty()).map(|s| c.dir.join(s.0));
            c.datasets.push(DatasetDecl {
                name,
                data_type,
                load: p(d.load),
                save: p(d.save),
                state: p(d.state),
                memcap: d.memcap.map(|s| s.0),
                hashsize: d.hashsize.map(|s| s.0),
            });
        }
        c
    }
}

// ---------------------------------------------------------------------------------------------
// Raw (file-level) form, merged across includes before paths are resolved.
// ---------------------------------------------------------------------------------------------

/// Include handling state.
struct Ctx {
    /// Includes resolve against the main file's directory, as in Suricata.
    main_dir: PathBuf,
    /// Files being read, for cycle detection.
    stack: Vec<PathBuf>,
    strict: bool,
    missing: Vec<PathBuf>,
}

/// Reads one file's raw form and merges its includes in place.
fn load_raw(path: &Path, text: &str, ctx: &mut Ctx) -> Result<RawConfig, ConfigError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let keys: TopKeys = serde_yaml::from_str(text).map_err(|e| yaml_error(path, &e))?;
    if keys.0.is_empty() {
        return Ok(RawConfig::default()); // empty document
    }
    let mut raw: RawConfig = serde_yaml::from_str(text).map_err(|e| yaml_error(path, &e))?;
    let Some(Includes(includes)) = raw.include.take() else {
        return Ok(raw);
    };
    let at = keys
        .0
        .iter()
        .position(|k| k == "include")
        .unwrap_or(keys.0.len());
    let before = |k: &str| keys.0.iter().position(|x| x == k).is_some_and(|i| i < at);
    let (mut merged, after) = raw.split(before);
    for inc in includes.iter().filter(|i| !i.is_empty()) {
        let inc_path = ctx.main_dir.join(inc);
        if ctx.stack.len() >= MAX_INCLUDE_DEPTH || ctx.stack.contains(&inc_path) {
            return Err(ConfigError::Include {
                path: path.to_path_buf(),
                include: inc_path,
            });
        }
        let inc_text = match std::fs::read_to_string(&inc_path) {
            Ok(t) => t,
            Err(e) if !ctx.strict && e.kind() == std::io::ErrorKind::NotFound => {
                ctx.missing.push(inc_path);
                continue;
            }
            Err(source) => {
                return Err(ConfigError::Io {
                    path: inc_path,
                    source,
                })
            }
        };
        ctx.stack.push(inc_path.clone());
        let r = load_raw(&inc_path, &inc_text, ctx);
        ctx.stack.pop();
        merged.overlay(r?);
    }
    merged.overlay(after);
    Ok(merged)
}

fn yaml_error(path: &Path, e: &serde_yaml::Error) -> ConfigError {
    let mut message = e.to_string();
    let line = e.location().map(|l| {
        // serde_yaml appends the location; it goes in front instead.
        let suffix = format!(" at line {} column {}", l.line(), l.column());
        if let Some(m) = message.strip_suffix(&suffix) {
            message = m.to_string();
        }
        l.line()
    });
    ConfigError::Yaml {
        path: path.to_path_buf(),
        line,
        message,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawConfig {
    vars: Option<RawVars>,
    #[serde(rename = "reputation-categories-file")]
    reputation_categories_file: Option<Scalar>,
    #[serde(rename = "default-reputation-path")]
    default_reputation_path: Option<Scalar>,
    #[serde(rename = "reputation-files")]
    reputation_files: Option<Vec<Scalar>>,
    datasets: Option<Ordered<DatasetEntry>>,
    #[serde(rename = "threshold-file")]
    threshold_file: Option<Scalar>,
    #[serde(rename = "classification-file")]
    classification_file: Option<Scalar>,
    #[serde(rename = "default-rule-path")]
    default_rule_path: Option<Scalar>,
    #[serde(rename = "rule-files")]
    rule_files: Option<Vec<Scalar>>,
    stream: Option<RawStream>,
    #[serde(rename = "exception-policy")]
    exception_policy: Option<Scalar>,
    /// Only `eve-log` → `types` → `alert` → `metadata`/`verdict` is read (see
    /// [`alert_metadata`]).
    outputs: Option<serde_yaml::Value>,
    #[serde(rename = "packet-alert-max")]
    packet_alert_max: Option<Scalar>,
    include: Option<Includes>,
}

/// The eve-log alert `metadata` option: `false` drops the flow, app-layer and rule metadata
/// from alerts; `{rule: {raw: true}}` adds the rule text. As `(key, value)` settings.
fn alert_metadata(outputs: &serde_yaml::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(list) = outputs.as_sequence() else {
        return out;
    };
    for o in list {
        match o.get("eve-log").and_then(|e| e.get("ethernet")) {
            Some(serde_yaml::Value::Bool(v)) => out.push(("eve.ethernet".into(), v.to_string())),
            Some(serde_yaml::Value::String(v)) => out.push(("eve.ethernet".into(), v.clone())),
            _ => {}
        }
        let Some(types) = o
            .get("eve-log")
            .and_then(|e| e.get("types"))
            .and_then(|t| t.as_sequence())
        else {
            continue;
        };
        for t in types {
            // YAML 1.1 booleans (`yes`) arrive as strings; the settings parser reads both.
            match t.get("alert").and_then(|a| a.get("verdict")) {
                Some(serde_yaml::Value::Bool(v)) => {
                    out.push(("eve.alert.verdict".into(), v.to_string()))
                }
                Some(serde_yaml::Value::String(v)) => {
                    out.push(("eve.alert.verdict".into(), v.clone()))
                }
                _ => {}
            }
            let Some(meta) = t.get("alert").and_then(|a| a.get("metadata")) else {
                continue;
            };
            match meta {
                serde_yaml::Value::Bool(b) => {
                    out.push(("eve.alert.metadata".into(), b.to_string()))
                }
                serde_yaml::Value::String(s) => out.push(("eve.alert.metadata".into(), s.clone())),
                m => {
                    let raw = m.get("rule").and_then(|r| r.get("raw"));
                    match raw {
                        Some(serde_yaml::Value::Bool(b)) => {
                            out.push(("eve.alert.rule".into(), b.to_string()))
                        }
                        Some(serde_yaml::Value::String(v)) => {
                            let on = matches!(
                                v.to_ascii_lowercase().as_str(),
                                "yes" | "true" | "on" | "1"
                            );
                            out.push(("eve.alert.rule".into(), on.to_string()))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out
}

/// The `stream` settings that change what a sensor inspects.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawStream {
    midstream: Option<Scalar>,
    #[serde(rename = "async-oneside")]
    async_oneside: Option<Scalar>,
    #[serde(rename = "midstream-policy")]
    midstream_policy: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawVars {
    #[serde(rename = "address-groups")]
    address_groups: Option<BTreeMap<String, Scalar>>,
    #[serde(rename = "port-groups")]
    port_groups: Option<BTreeMap<String, Scalar>>,
}

impl RawConfig {
    /// Splits by top-level key: `(keys for which before(key), the rest)`.
    fn split(self, before: impl Fn(&str) -> bool) -> (RawConfig, RawConfig) {
        let (mut a, mut b) = (RawConfig::default(), RawConfig::default());
        macro_rules! part {
            ($($f:ident = $k:literal),*) => {$(
                if before($k) { a.$f = self.$f; } else { b.$f = self.$f; }
            )*};
        }
        part!(
            vars = "vars",
            reputation_categories_file = "reputation-categories-file",
            default_reputation_path = "default-reputation-path",
            reputation_files = "reputation-files",
            datasets = "datasets",
            threshold_file = "threshold-file",
            classification_file = "classification-file",
            default_rule_path = "default-rule-path",
            rule_files = "rule-files",
            stream = "stream",
            exception_policy = "exception-policy",
            outputs = "outputs",
            packet_alert_max = "packet-alert-max"
        );
        (a, b)
    }

    /// Applies `o` on top of `self`.
    fn overlay(&mut self, o: RawConfig) {
        macro_rules! replace {
            ($($f:ident),*) => {$(
                if o.$f.is_some() { self.$f = o.$f; }
            )*};
        }
        replace!(
            reputation_categories_file,
            default_reputation_path,
            reputation_files,
            threshold_file,
            classification_file,
            default_rule_path,
            rule_files,
            stream,
            exception_policy,
            outputs,
            packet_alert_max
        );
        if let Some(v) = o.vars {
            let mine = self.vars.get_or_insert_with(RawVars::default);
            if let Some(a) = v.address_groups {
                mine.address_groups
                    .get_or_insert_with(BTreeMap::new)
                    .extend(a);
            }
            if let Some(p) = v.port_groups {
                mine.port_groups.get_or_insert_with(BTreeMap::new).extend(p);
            }
        }
        if let Some(Ordered(sets)) = o.datasets {
            let mine = &mut self.datasets.get_or_insert_with(|| Ordered(Vec::new())).0;
            for (name, e) in sets {
                match mine.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, cur)) => cur.overlay(e),
                    None => mine.push((name, e)),
                }
            }
        }
    }
}

/// A YAML scalar as text, the way Suricata reads every configuration value (`22` and `"22"`
/// alike). `~`/empty is the empty string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// `include: file` or `include: [a, b]`.
#[derive(Debug, Default)]
struct Includes(Vec<String>);

impl<'de> Deserialize<'de> for Includes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Includes, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Includes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file name or a list of file names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Includes, E> {
                Ok(Includes(vec![v.to_string()]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Includes, E> {
                Ok(Includes::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Includes, A::Error> {
                let mut out = Vec::new();
                while let Some(Scalar(f)) = s.next_element()? {
                    out.push(f);
                }
                Ok(Includes(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Top-level keys in document order (values skipped), to place `include`.
struct TopKeys(Vec<String>);

impl<'de> Deserialize<'de> for TopKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TopKeys, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of configuration sections")
            }
            fn visit_unit<E: de::Error>(self) -> Result<TopKeys, E> {
                Ok(TopKeys(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<TopKeys, E> {
                Ok(TopKeys(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<TopKeys, A::Error> {
                let mut keys = Vec::new();
                while let Some(Scalar(k)) = m.next_key()? {
                    m.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(TopKeys(keys))
            }
        }
        d.deserialize_any(V)
    }
}

/// A mapping kept in document order.
#[derive(Debug)]
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ordered<V>, D::Error> {
        struct Vis<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Ordered<V>, E> {
                Ok(Ordered(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(Scalar(k)) = m.next_key()? {
                    out.push((k, m.next_value()?));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_any(Vis(std::marker::PhantomData))
    }
}

/// A child of `datasets:`: a set (a mapping) or a setting such as `enabled: yes`.
#[derive(Debug)]
enum DatasetEntry {
    Set(RawDataset),
    Other,
}

#[derive(Debug, Default)]
struct RawDataset {
    data_type: Option<DatasetType>,
    load: Option<Scalar>,
    save: Option<Scalar>,
    state: Option<Scalar>,
    memcap: Option<Scalar>,
    hashsize: Option<Scalar>,
}

impl DatasetEntry {
    fn overlay(&mut self, o: DatasetEntry) {
        match (self, o) {
            (DatasetEntry::Set(a), DatasetEntry::Set(b)) => {
                macro_rules! replace {
                    ($($f:ident),*) => {$( if b.$f.is_some() { a.$f = b.$f; } )*};
                }
                replace!(data_type, load, save, state, memcap, hashsize);
            }
            (me, o) => *me = o,
        }
    }
}

impl<'de> Deserialize<'de> for DatasetEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DatasetEntry, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DatasetEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dataset definition or a setting")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<DatasetEntry, A::Error> {
                let mut d = RawDataset::default();
                while let Some(Scalar(k)) = m.next_key()? {
                    match k.as_str() {
                        "type" => d.data_type = Some(m.next_value()?),
                        "load" => d.load = Some(m.next_value()?),
                        "save" => d.save = Some(m.next_value()?),
                        "state" => d.state = Some(m.next_value()?),
                        "memcap" => d.memcap = Some(m.next_value()?),
                        "hashsize" => d.hashsize = Some(m.next_value()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(DatasetEntry::Set(d))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<DatasetEntry, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(DatasetEntry::Other)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<DatasetEntry, E> {
                Ok(DatasetEntry::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<DatasetEntry, E> {
                Ok(DatasetEntry::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<DatasetEntry, E> {
                Ok(DatasetEntry::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<DatasetEntry, E> {
                Ok(DatasetEntry::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<DatasetEntry, E> {
                Ok(DatasetEntry::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<DatasetEntry, E> {
                Ok(DatasetEntry::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A dataset `type`, checked while parsing so the error carries the line.
#[derive(Debug, Clone, Copy)]
struct DatasetType(DataType);

impl<'de> Deserialize<'de> for DatasetType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DatasetType, D::Error> {
        let Scalar(s) = Scalar::deserialize(d)?;
        DataType::parse(&s).map(DatasetType).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown dataset type \"{s}\": expected string, md5, sha256, ipv4 or ip"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv_tests() -> PathBuf {
        crate::testdata::shared_data_dir().join("suricata-verify/tests")
    }

    fn parse(text: &str) -> Result<SuricataConfig, ConfigError> {
        SuricataConfig::parse(Path::new("suricata.yaml"), text, Path::new("/etc/suricata"))
    }

    /// Every suricata.yaml-format file in the suricata-verify tests (`test.yaml` is the test
    /// description, not a configuration).
    fn config_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                config_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml")
                && p.file_name().is_some_and(|n| n != "test.yaml")
            {
                out.push(p);
            }
        }
    }

    #[test]
    fn every_suricata_verify_config_loads() {
        let mut files = Vec::new();
        config_files(&sv_tests(), &mut files);
        files.sort();
        assert!(files.len() >= 30, "{} config files", files.len());
        for f in &files {
            let c = SuricataConfig::load(f).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(c.dir, f.parent().unwrap());
            // Only suricata-verify's own etc/ base configs are outside the copied subset.
            for m in &c.missing_includes {
                assert!(
                    m.starts_with(f.parent().unwrap().join("../../etc")),
                    "{}",
                    m.display()
                );
            }
            // Every variable of every configuration resolves.
            for name in c.vars.addresses.keys() {
                c.vars
                    .resolve_addr(&crate::rules::AddrSpec::Var(name.clone()))
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            for name in c.vars.ports.keys() {
                c.vars
                    .resolve_port(&crate::rules::PortSpec::Var(name.clone()))
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
        }
    }

    #[test]
    fn include_of_suricata_verify_default_yaml() {
        let dir = sv_tests().join("alert-testmyids");
        let c = SuricataConfig::load(dir.join("suricata.yaml")).unwrap();
        // From default.yaml, via `include: default.yaml`.
        assert_eq!(
            c.vars.addresses["HOME_NET"],
            "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"
        );
        assert_eq!(c.vars.ports["ORACLE_PORTS"], "1521");
        assert_eq!(
            c.default_rule_path.as_deref(),
            Some(Path::new("/home/jason/projects/oi../../etc/suricata/rules"))
        );
        assert_eq!(
            c.classification_file,
            Some(dir.join("../../etc/classification.config"))
        );
        assert!(c.rule_files.contains(&"botcc.rules".to_string()));
        assert!(c.rule_files.iter().all(|f| !f.starts_with('#')));
        assert_eq!(
            c.rule_paths()[0],
            Path::new("/home/jason/projects/oi../../etc/suricata/rules/botcc.rules")
        );
        assert_eq!(c.threshold_file, None);
        assert!(c.reputation_files.is_empty());
    }

    #[test]
    fn sections_paths_and_vars() {
        let c = parse(
            r#"%YAML 1.1
---
vars:
  address-groups:
    HOME_NET: "[10.0.0.0/8]"
    DMZ: 192.0.2.0/24
  port-groups:
    HTTP_PORTS: "[80,8080]"
    SSH_PORTS: 2222
default-rule-path: rules
rule-files:
  - a.rules
  - /abs/b.rules
classification-file: classification.config
threshold-file: /etc/suricata/threshold.config
reputation-categories-file: iprep/categories.txt
default-reputation-path: iprep
reputation-files:
  - reputation.list
  - /var/rep.list
datasets:
  defaults:
    memcap: 100mb
    hashsize: 2048
  ua-seen:
    type: string
    load: ua.lst
  dns-sha256-seen:
    type: sha256
    state: dns-sha256-seen.lst
    hashsize: 1024
  rules:
    allow-absolute-filenames: false
  enabled: yes
outputs:
  - eve-log: {enabled: yes}
app-layer: {protocols: {dns: {enabled: yes, tcp: [1, 2]}}}
"#,
        )
        .unwrap();
        let etc = Path::new("/etc/suricata");
        assert_eq!(c.vars.addresses["HOME_NET"], "[10.0.0.0/8]");
        assert_eq!(c.vars.addresses["DMZ"], "192.0.2.0/24");
        assert_eq!(c.vars.addresses["EXTERNAL_NET"], "!$HOME_NET");
        assert_eq!(c.vars.ports["SSH_PORTS"], "2222");
        assert_eq!(c.vars.ports["FTP_PORTS"], "21");
        assert_eq!(
            c.rule_paths(),
            [etc.join("rules/a.rules"), PathBuf::from("/abs/b.rules")]
        );
        assert_eq!(
            c.classification_file,
            Some(etc.join("classification.config"))
        );
        assert_eq!(
            c.threshold_file.as_deref(),
            Some(Path::new("/etc/suricata/threshold.config"))
        );
        assert_eq!(
            c.reputation_categories_file,
            Some(etc.join("iprep/categories.txt"))
        );
        assert_eq!(
            c.reputation_files,
            [
                etc.join("iprep/reputation.list"),
                PathBuf::from("/var/rep.list")
            ]
        );
        assert_eq!(c.datasets.len(), 2);
        assert_eq!(c.datasets[0].name, "ua-seen");
        assert_eq!(c.datasets[0].data_type, DataType::String);
        assert_eq!(c.datasets[0].load, Some(etc.join("ua.lst")));
        assert_eq!(c.datasets[1].state, Some(etc.join("dns-sha256-seen.lst")));
        assert_eq!(c.datasets[1].hashsize.as_deref(), Some("1024"));
        let home = c
            .vars
            .resolve_addr(&crate::rules::AddrSpec::Var("EXTERNAL_NET".into()))
            .unwrap();
        assert!(!home.contains("10.1.1.1".parse().unwrap()));
    }

    #[test]
    fn empty_documents_and_defaults() {
        for text in ["", "%YAML 1.1\n---\n", "---\n# only a comment\n", "{}"] {
            let c = parse(text).unwrap();
            assert_eq!(
                c,
                SuricataConfig::default_for_dir("/etc/suricata"),
                "{text:?}"
            );
        }
        let d = SuricataConfig::default_for_dir("x");
        assert_eq!(d.vars, Vars::suricata_defaults());
        assert_eq!(d.resolve("a/b"), Path::new("x/a/b"));
    }

    #[test]
    fn errors_name_file_line_and_expectation() {
        let e =
            parse("%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: [1, 2]\n").unwrap_err();
        let s = e.to_string();
        assert!(matches!(e, ConfigError::Yaml { line: Some(5), .. }), "{s}");
        assert!(
            s.starts_with("suricata.yaml:5: ") && s.contains("expected a string or number"),
            "{s}"
        );
        let e = parse("datasets:\n  x:\n    type: strin\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("suricata.yaml:3: ") && e.contains("expected string, md5"),
            "{e}"
        );
        let e = parse("rule-files: a.rules\n").unwrap_err().to_string();
        assert!(
            e.starts_with("suricata.yaml:1: ") && e.contains("sequence"),
            "{e}"
        );
        let e = parse("vars: [\n").unwrap_err().to_string();
        assert!(e.starts_with("suricata.yaml:"), "{e}");
        let e = parse("- a\n- b\n").unwrap_err().to_string();
        assert!(e.contains("mapping of configuration sections"), "{e}");
        let e = SuricataConfig::load("/nonexistent/suricata.yaml").unwrap_err();
        assert!(matches!(e, ConfigError::Io { .. }));
    }

    #[test]
    fn includes_merge_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("base.yaml"),
            "%YAML 1.1\n---\nvars:\n  address-groups:\n    HOME_NET: \"10.0.0.0/8\"\n    A: 1.1.1.1\nthreshold-file: base.config\nrule-files: [base.rules]\ndatasets:\n  s:\n    type: md5\n    load: base.lst\n",
        )
        .unwrap();
        std::fs::write(d.join("local.yaml"), "classification-file: local.config\n").unwrap();
        std::fs::write(
            d.join("suricata.yaml"),
            "%YAML 1.1\n---\nthreshold-file: early.config\nclassification-file: main.config\ninclude: [base.yaml, local.yaml]\nvars:\n  address-groups:\n    A: 2.2.2.2\ndatasets:\n  s:\n    load: main.lst\n",
        )
        .unwrap();
        let c = SuricataConfig::load(d.join("suricata.yaml")).unwrap();
        // Before the include: overridden by it. After: overrides it.
        assert_eq!(c.threshold_file, Some(d.join("base.config")));
        assert_eq!(c.classification_file, Some(d.join("local.config")));
        assert_eq!(c.vars.addresses["HOME_NET"], "10.0.0.0/8");
        assert_eq!(c.vars.addresses["A"], "2.2.2.2");
        assert_eq!(c.rule_files, ["base.rules"]);
        assert_eq!(c.datasets.len(), 1);
        assert_eq!(c.datasets[0].data_type, DataType::Md5);
        assert_eq!(c.datasets[0].load, Some(d.join("main.lst")));

        std::fs::write(d.join("loop.yaml"), "include: loop.yaml\n").unwrap();
        let e = SuricataConfig::load(d.join("loop.yaml")).unwrap_err();
        assert!(matches!(e, ConfigError::Include { .. }), "{e}");
        std::fs::write(d.join("missing.yaml"), "include: nope.yaml\n").unwrap();
        let e = SuricataConfig::load_strict(d.join("missing.yaml")).unwrap_err();
        assert!(e.to_string().contains("nope.yaml"), "{e}");
        let c = SuricataConfig::load(d.join("missing.yaml")).unwrap();
        assert_eq!(c.missing_includes, [d.join("nope.yaml")]);
        assert_eq!(c.vars, Vars::suricata_defaults());
    }

    #[test]
    fn config_datasets_load_through_the_builder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ua.lst"), "Zm9v\n").unwrap();
        std::fs::write(
            dir.path().join("suricata.yaml"),
            "datasets:\n  ua-seen:\n    type: string\n    load: ua.lst\n  seen:\n    type: ip\n    state: seen.lst\n",
        )
        .unwrap();
        let c = SuricataConfig::load(dir.path().join("suricata.yaml")).unwrap();
        let mut b = crate::rules::datasets::Datasets::builder();
        let ids: Vec<_> = c
            .datasets
            .iter()
            .map(|d| b.declare_config(d).unwrap())
            .collect();
        let d = b.build();
        assert!(d.contains(ids[0], b"foo"));
        assert!(d.is_empty(ids[1]));
    }
}
