//! Loaded data for the `dataset` and `datarep` keywords.
//!
//! Sets are declared by name (from suricata.yaml's `datasets:` section or from rules), loaded
//! once at declaration, and then immutable: [`Datasets`] answers membership and reputation,
//! and [`Datasets::key`] hands out the normalised key so a caller can keep its own mutable
//! overlay for runtime `dataset:set` / `unset`.
//!
//! File format (Suricata's, one value per line, optionally `,<reputation>`):
//!
//! | type | line | key |
//! |---|---|---|
//! | `string` | base64 | the decoded bytes |
//! | `md5` / `sha256` | hex | the 16 / 32 raw bytes |
//! | `ipv4` | dotted quad | 16 bytes, IPv4-mapped IPv6 |
//! | `ip` (and `ipv6`) | IPv4 or IPv6 text | 16 bytes, IPv4 as IPv4-mapped IPv6 |
//!
//! Reputation values are 0–65535 (Suricata's `DataRepType` is a `u16`). Every set accepts
//! both forms of line, as Suricata's loaders do; a value without reputation has reputation 0.
//!
//! Like Suricata (`DatasetGet`), names are case-insensitive; declaring a name again returns
//! the same set when the type agrees and the files are the same or not given, and is an error
//! otherwise. A missing `load` file is an error (Suricata's `fopen(..., "r")` fails), while a
//! missing `state` file (load and save the same file) is an empty set, as Suricata opens it
//! with `"a+"` and so creates it. JSON datasets (Suricata 8 `format json|jsonline`) are not
//! supported and say so.

use super::ast::{DataType, Datarep, Dataset};
use super::config::DatasetDecl;
use base64::Engine as _;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("dataset \"{name}\": {}: {source}", path.display())]
    Io {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("dataset \"{name}\" is already declared with type {existing}; cannot redeclare it as {requested}")]
    TypeConflict {
        name: String,
        existing: DataType,
        requested: DataType,
    },
    #[error("dataset \"{name}\" is already declared with {existing}; cannot redeclare it with {requested}")]
    FileConflict {
        name: String,
        existing: String,
        requested: String,
    },
    #[error("dataset \"{name}\" is used without a type but was not declared before")]
    Undeclared { name: String },
    #[error("dataset \"{name}\": {message}")]
    Invalid { name: String, message: String },
    #[error("dataset \"{name}\": {what} is not supported")]
    Unsupported { name: String, what: String },
}

/// Index of a declared set in its [`Datasets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetId(u32);

impl SetId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where a set is loaded from and saved to. `state` is both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetFiles {
    pub load: Option<PathBuf>,
    pub save: Option<PathBuf>,
}

impl DatasetFiles {
    pub fn load(p: &Path) -> DatasetFiles {
        DatasetFiles {
            load: Some(p.to_path_buf()),
            save: None,
        }
    }

    pub fn state(p: &Path) -> DatasetFiles {
        DatasetFiles {
            load: Some(p.to_path_buf()),
            save: Some(p.to_path_buf()),
        }
    }

    fn is_none(&self) -> bool {
        self.load.is_none() && self.save.is_none()
    }

    fn describe(&self) -> String {
        let p = |o: &Option<PathBuf>| {
            o.as_ref()
                .map_or("none".to_string(), |p| p.display().to_string())
        };
        format!("load {}, save {}", p(&self.load), p(&self.save))
    }
}

/// A value in the normalised key form of its data type (see the module table).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataValue {
    data_type: DataType,
    key: Box<[u8]>,
}

impl DataValue {
    /// From the value part of a dataset file line: base64, hex or IP text.
    pub fn from_file_text(data_type: DataType, text: &str) -> Result<DataValue, String> {
        let key: Vec<u8> = match data_type {
            DataType::String => BASE64
                .decode(text)
                .map_err(|e| format!("\"{}\" is not base64 ({e})", short(text)))?,
            DataType::Md5 => hex_exact(text, 16)
                .ok_or_else(|| format!("\"{}\" is not an md5 (32 hex digits)", short(text)))?,
            DataType::Sha256 => hex_exact(text, 32)
                .ok_or_else(|| format!("\"{}\" is not a sha256 (64 hex digits)", short(text)))?,
            DataType::Ipv4 => text
                .parse::<Ipv4Addr>()
                .map(|a| a.to_ipv6_mapped().octets().to_vec())
                .map_err(|_| format!("\"{}\" is not an IPv4 address", short(text)))?,
            DataType::Ip | DataType::Ipv6 => text
                .parse::<IpAddr>()
                .map(|a| ip_key(a).to_vec())
                .map_err(|_| format!("\"{}\" is not an IP address", short(text)))?,
        };
        Ok(DataValue {
            data_type,
            key: key.into(),
        })
    }

    /// From an inspected buffer: the bytes for strings; raw digest bytes or their hex for
    /// md5/sha256; 4 or 16 raw bytes (as Suricata's `ip.src`/`ip.dst` give) or IP text for IPs.
    /// `None` when the buffer cannot be a value of this type.
    pub fn from_buffer(data_type: DataType, buf: &[u8]) -> Option<DataValue> {
        Some(DataValue {
            data_type,
            key: lookup_key(data_type, buf)?.into_owned().into(),
        })
    }

    pub fn data_type(&self) -> DataType {
        self.data_type
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }

    pub fn into_key(self) -> Box<[u8]> {
        self.key
    }
}

/// Suricata decodes strictly (no stray characters) but padding is not always written.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

fn short(s: &str) -> String {
    super::parse::snippet(s)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Hex text of exactly `n` bytes.
fn hex_exact(text: impl AsRef<[u8]>, n: usize) -> Option<Vec<u8>> {
    let t = text.as_ref();
    if t.len() != n * 2 {
        return None;
    }
    t.chunks_exact(2)
        .map(|c| Some(hex_val(c[0])? << 4 | hex_val(c[1])?))
        .collect()
}

fn ip_key(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// The key for a buffer, borrowing when the buffer already is one.
fn lookup_key(data_type: DataType, buf: &[u8]) -> Option<Cow<'_, [u8]>> {
    let digest = |n: usize| -> Option<Cow<'_, [u8]>> {
        if buf.len() == n {
            Some(Cow::Borrowed(buf))
        } else {
            hex_exact(buf, n).map(Cow::Owned)
        }
    };
    let ip = |buf: &[u8]| -> Option<IpAddr> {
        // Raw lengths first (what Suricata's lookups take), then text.
        match buf.len() {
            4 => <[u8; 4]>::try_from(buf).ok().map(IpAddr::from),
            16 => <[u8; 16]>::try_from(buf).ok().map(IpAddr::from),
            _ => std::str::from_utf8(buf).ok()?.trim().parse().ok(),
        }
    };
    match data_type {
        DataType::String => Some(Cow::Borrowed(buf)),
        DataType::Md5 => digest(16),
        DataType::Sha256 => digest(32),
        DataType::Ipv4 => {
            let v4 = match ip(buf)? {
                IpAddr::V4(a) => a,
                IpAddr::V6(a) => a.to_ipv4_mapped()?,
            };
            Some(Cow::Owned(v4.to_ipv6_mapped().octets().to_vec()))
        }
        DataType::Ip | DataType::Ipv6 => Some(Cow::Owned(ip_key(ip(buf)?).to_vec())),
    }
}

#[derive(Debug, Clone)]
struct Set {
    name: String,
    data_type: DataType,
    files: DatasetFiles,
    values: FxHashMap<Box<[u8]>, u16>,
}

/// Immutable loaded sets.
#[derive(Debug, Clone, Default)]
pub struct Datasets {
    sets: Vec<Set>,
    /// Lower-cased name → id.
    names: HashMap<String, SetId>,
}

impl Datasets {
    pub fn builder() -> DatasetsBuilder {
        DatasetsBuilder::default()
    }

    /// A set by name (case-insensitive).
    pub fn id(&self, name: &str) -> Option<SetId> {
        self.names.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn name(&self, id: SetId) -> Option<&str> {
        self.set(id).map(|s| s.name.as_str())
    }

    pub fn data_type(&self, id: SetId) -> Option<DataType> {
        self.set(id).map(|s| s.data_type)
    }

    /// Where the set's runtime state should be written (`save` or `state`), if anywhere.
    pub fn save_path(&self, id: SetId) -> Option<&Path> {
        self.set(id)?.files.save.as_deref()
    }

    /// Number of loaded values.
    pub fn len(&self, id: SetId) -> usize {
        self.set(id).map_or(0, |s| s.values.len())
    }

    pub fn is_empty(&self, id: SetId) -> bool {
        self.len(id) == 0
    }

    fn set(&self, id: SetId) -> Option<&Set> {
        self.sets.get(id.index())
    }

    /// `dataset:isset`: the buffer, normalised for the set's type, was loaded.
    pub fn contains(&self, id: SetId, value: &[u8]) -> bool {
        self.rep(id, value).is_some()
    }

    /// `datarep`: the loaded reputation of the buffer's value (0 for lines without one).
    pub fn rep(&self, id: SetId, value: &[u8]) -> Option<u32> {
        let s = self.set(id)?;
        let k = lookup_key(s.data_type, value)?;
        s.values.get(&*k).map(|&r| u32::from(r))
    }

    /// Membership of an already-normalised key (from [`Datasets::key`]).
    pub fn contains_key(&self, id: SetId, key: &[u8]) -> bool {
        self.set(id).is_some_and(|s| s.values.contains_key(key))
    }

    /// Membership of an address in an `ipv4` / `ip` set.
    pub fn contains_ip(&self, id: SetId, ip: IpAddr) -> bool {
        self.set(id).is_some_and(|s| match s.data_type {
            DataType::Ipv4 | DataType::Ip | DataType::Ipv6 => {
                s.values.contains_key(&ip_key(ip)[..])
            }
            _ => false,
        })
    }

    /// The normalised key of a buffer for this set, for a caller-side overlay of runtime
    /// `set`/`unset`; `None` if the set is unknown or the buffer is not a value of its type.
    pub fn key(&self, id: SetId, value: &[u8]) -> Option<Box<[u8]>> {
        let s = self.set(id)?;
        Some(lookup_key(s.data_type, value)?.into_owned().into())
    }
}

/// Collects declarations, loading each set's file once.
#[derive(Debug, Default)]
pub struct DatasetsBuilder {
    inner: Datasets,
}

impl DatasetsBuilder {
    /// `dataset` with an optional `load` file (which must exist).
    pub fn declare(
        &mut self,
        name: &str,
        data_type: DataType,
        load: Option<&Path>,
    ) -> Result<SetId, DatasetError> {
        let files = load.map(DatasetFiles::load).unwrap_or_default();
        self.declare_with(name, data_type, &files)
    }

    /// `dataset ... state <file>`: loaded if the file exists, empty otherwise.
    pub fn declare_state(
        &mut self,
        name: &str,
        data_type: DataType,
        state: &Path,
    ) -> Result<SetId, DatasetError> {
        self.declare_with(name, data_type, &DatasetFiles::state(state))
    }

    /// `datarep` with an optional `load` file. Datasets and datareps share one namespace in
    /// Suricata, and every loader reads `value,rep` lines, so this is the same set.
    pub fn declare_rep(
        &mut self,
        name: &str,
        data_type: DataType,
        load: Option<&Path>,
    ) -> Result<SetId, DatasetError> {
        self.declare(name, data_type, load)
    }

    /// The general form: explicit load and save files.
    pub fn declare_with(
        &mut self,
        name: &str,
        data_type: DataType,
        files: &DatasetFiles,
    ) -> Result<SetId, DatasetError> {
        if name.is_empty() {
            return Err(DatasetError::Invalid {
                name: String::new(),
                message: "empty dataset name".into(),
            });
        }
        if let Some(id) = self.inner.id(name) {
            let s = &self.inner.sets[id.index()];
            if s.data_type != data_type {
                return Err(DatasetError::TypeConflict {
                    name: s.name.clone(),
                    existing: s.data_type,
                    requested: data_type,
                });
            }
            // As Suricata: a declaration without files refers to the existing set.
            if !files.is_none() && *files != s.files {
                return Err(DatasetError::FileConflict {
                    name: s.name.clone(),
                    existing: s.files.describe(),
                    requested: files.describe(),
                });
            }
            return Ok(id);
        }
        let values = match &files.load {
            None => FxHashMap::default(),
            Some(p) => {
                let create = files.save.as_ref() == Some(p);
                load_values(name, data_type, p, create)?
            }
        };
        let id =
            SetId(
                u32::try_from(self.inner.sets.len()).map_err(|_| DatasetError::Invalid {
                    name: name.to_string(),
                    message: "too many datasets".into(),
                })?,
            );
        self.inner.sets.push(Set {
            name: name.to_string(),
            data_type,
            files: files.clone(),
            values,
        });
        self.inner.names.insert(name.to_ascii_lowercase(), id);
        Ok(id)
    }

    /// A set declared in suricata.yaml (paths already resolved by [`super::config`]).
    /// As Suricata's `DatasetsInit`, `state` takes precedence over `load`.
    pub fn declare_config(&mut self, d: &DatasetDecl) -> Result<SetId, DatasetError> {
        let files = match (&d.state, &d.load) {
            (Some(s), _) => DatasetFiles::state(s),
            (None, load) => DatasetFiles {
                load: load.clone(),
                save: d.save.clone(),
            },
        };
        self.declare_with(&d.name, d.data_type, &files)
    }

    /// A `dataset:` rule option. `load` is relative to `rule_dir` (the rule file's directory);
    /// `save`/`state` to `data_dir` (Suricata's `$LOCALSTATEDIR/suricata/data`). Without a
    /// type the set must have been declared already.
    pub fn declare_rule_dataset(
        &mut self,
        d: &Dataset,
        rule_dir: &Path,
        data_dir: &Path,
    ) -> Result<SetId, DatasetError> {
        if let Some((k, v)) = d
            .json
            .iter()
            .find(|(k, v)| !(k == "format" && v.eq_ignore_ascii_case("csv")))
        {
            return Err(DatasetError::Unsupported {
                name: d.name.clone(),
                what: format!("the JSON dataset option \"{k} {v}\" (Suricata 8 datajson)"),
            });
        }
        if d.state.is_some() && (d.load.is_some() || d.save.is_some()) {
            return Err(DatasetError::Invalid {
                name: d.name.clone(),
                message: "\"state\" cannot be combined with \"load\" or \"save\"".into(),
            });
        }
        let files = match &d.state {
            Some(s) => DatasetFiles::state(&data_dir.join(s)),
            None => DatasetFiles {
                load: d.load.as_ref().map(|l| rule_dir.join(l)),
                save: d.save.as_ref().map(|s| data_dir.join(s)),
            },
        };
        self.declare_typed(&d.name, d.data_type, &files)
    }

    /// A `datarep:` rule option; `load` is relative to `rule_dir`.
    pub fn declare_rule_datarep(
        &mut self,
        d: &Datarep,
        rule_dir: &Path,
    ) -> Result<SetId, DatasetError> {
        let files = DatasetFiles {
            load: d.load.as_ref().map(|l| rule_dir.join(l)),
            save: None,
        };
        self.declare_typed(&d.name, d.data_type, &files)
    }

    fn declare_typed(
        &mut self,
        name: &str,
        data_type: Option<DataType>,
        files: &DatasetFiles,
    ) -> Result<SetId, DatasetError> {
        match data_type {
            Some(t) => self.declare_with(name, t, files),
            None => {
                let id = self
                    .inner
                    .id(name)
                    .ok_or_else(|| DatasetError::Undeclared {
                        name: name.to_string(),
                    })?;
                let t = self.inner.sets[id.index()].data_type;
                self.declare_with(name, t, files)
            }
        }
    }

    /// A set declared so far, with its type.
    pub fn get(&self, name: &str) -> Option<(SetId, DataType)> {
        let id = self.inner.id(name)?;
        Some((id, self.inner.sets[id.index()].data_type))
    }

    pub fn build(self) -> Datasets {
        self.inner
    }
}

/// Reads a set's file. `create`: a missing file is an empty set (Suricata's `state`).
fn load_values(
    name: &str,
    data_type: DataType,
    path: &Path,
    create: bool,
) -> Result<FxHashMap<Box<[u8]>, u16>, DatasetError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(DatasetError::Io {
                name: name.to_string(),
                path: path.to_path_buf(),
                source,
            })
        }
    };
    parse_values(data_type, path, &bytes)
}

/// Parses a dataset file's contents; `path` is for error locations.
pub fn parse_values(
    data_type: DataType,
    path: &Path,
    bytes: &[u8],
) -> Result<FxHashMap<Box<[u8]>, u16>, DatasetError> {
    let mut values = FxHashMap::default();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let err = |message: String| DatasetError::Parse {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|_| err("line is not valid UTF-8".into()))?
            .trim();
        if line.is_empty() {
            continue;
        }
        let (value, rep) = match line.split_once(',') {
            Some((v, r)) => {
                let r = r.trim();
                let rep = Some(r)
                    .filter(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|r| r.parse::<u16>().ok())
                    .ok_or_else(|| {
                        err(format!(
                            "reputation \"{}\" is not a number from 0 to 65535",
                            short(r)
                        ))
                    })?;
                (v.trim(), rep)
            }
            None => (line, 0),
        };
        let v = DataValue::from_file_text(data_type, value).map_err(err)?;
        values.insert(v.into_key(), rep);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv6Addr;

    fn sv(test: &str) -> PathBuf {
        crate::testdata::shared_data_dir()
            .join("suricata-verify/tests")
            .join(test)
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn suricata_verify_datarep_files() {
        let mut b = Datasets::builder();
        let s = b
            .declare_rep(
                "dns_string",
                DataType::String,
                Some(&sv("datarep-02/dns_string.rep")),
            )
            .unwrap();
        let m = b
            .declare_rep(
                "dns_md5",
                DataType::Md5,
                Some(&sv("datarep-02/dns_md5.rep")),
            )
            .unwrap();
        let h = b
            .declare_rep(
                "dns_sha256",
                DataType::Sha256,
                Some(&sv("datarep-02/dns_sha256.rep")),
            )
            .unwrap();
        let d = b.build();
        assert_eq!(d.rep(s, b"google.com"), Some(255));
        assert_eq!(d.rep(s, b"google.co"), None);
        // The rules hash dns.query with to_md5 / to_sha256; the raw digests are looked up.
        use md5::Digest as _;
        let md5 = md5::Md5::digest(b"google.com");
        assert_eq!(d.rep(m, &md5), Some(255));
        assert_eq!(d.rep(m, b"1d5920f4b44b27a802bd77c4f0536f5a"), Some(255));
        assert_eq!(d.rep(m, b"1D5920F4B44B27A802BD77C4F0536F5A"), Some(255));
        assert_eq!(d.rep(m, b"5ababd603b22780302dd8d83498e5172"), Some(100));
        let sha = sha2::Sha256::digest(b"google.com");
        assert_eq!(d.rep(h, &sha), Some(255));
        assert_eq!(d.len(h), 2);
        assert!(d.contains(h, &sha));
        assert!(!d.contains(h, b"google.com"));
    }

    #[test]
    fn suricata_verify_ip_datasets() {
        let mut b = Datasets::builder();
        let v4 = b
            .declare(
                "ipv4-list",
                DataType::Ipv4,
                Some(&sv("datasets-09-load/datasets-ipv4.csv")),
            )
            .unwrap();
        let ip = b
            .declare(
                "ip-list",
                DataType::Ip,
                Some(&sv("datasets-09-load/datasets-ip.csv")),
            )
            .unwrap();
        let d = b.build();
        let a: Ipv4Addr = "82.165.177.154".parse().unwrap();
        // ip.dst gives 4 raw bytes for IPv4; `::ffff:a.b.c.d` in an `ip` file is the same key.
        for id in [v4, ip] {
            assert!(d.contains(id, &a.octets()));
            assert!(d.contains(id, b"82.165.177.154"));
            assert!(d.contains(id, &a.to_ipv6_mapped().octets()));
            assert!(d.contains_ip(id, IpAddr::V4(a)));
            assert!(!d.contains(id, &[82, 165, 177, 155]));
        }
        assert!(!d.contains(v4, &Ipv6Addr::LOCALHOST.octets()));
    }

    #[test]
    fn every_suricata_verify_csv_set_loads() {
        // Every line-format (.lst/.csv/.rep) data file the tests reference, by the type the
        // rules give it. JSON-valued .lst files of the datajson tests are refused below.
        let cases = [
            ("datarep-01/dns_string.rep", DataType::String),
            ("datarep-02/dns_string.rep", DataType::String),
            ("datarep-02/dns_md5.rep", DataType::Md5),
            ("datarep-02/dns_sha256.rep", DataType::Sha256),
            ("datasets-09-load/datasets-ipv4.csv", DataType::Ipv4),
            ("datasets-09-load/datasets-ip.csv", DataType::Ip),
        ];
        for (i, (f, t)) in cases.iter().enumerate() {
            let mut b = Datasets::builder();
            let id = b.declare(&format!("s{i}"), *t, Some(&sv(f))).unwrap();
            assert!(!b.build().is_empty(id), "{f}");
        }
    }

    #[test]
    fn rule_options_resolve_paths_and_refuse_json() {
        let dir = sv("datasets-09-load");
        let rules = crate::rules::parse_rules(
            "test.rules",
            &std::fs::read_to_string(dir.join("test.rules")).unwrap(),
            &Default::default(),
        );
        let mut b = Datasets::builder();
        let mut ids = Vec::new();
        for r in &rules.rules {
            for o in &r.options {
                if let crate::rules::OptionValue::Dataset(ds) = &o.parsed {
                    ids.push(
                        b.declare_rule_dataset(ds, &dir, Path::new("/nonexistent"))
                            .unwrap(),
                    );
                }
            }
        }
        // sid 1 and 2 share ipv4-list; sid 3 is ip-list.
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);

        let dir = sv("datajson/datajson-04-hashes");
        let rules = crate::rules::parse_rules(
            "test.rules",
            &std::fs::read_to_string(dir.join("test.rules")).unwrap(),
            &Default::default(),
        );
        let mut seen = 0;
        for r in &rules.rules {
            for o in &r.options {
                if let crate::rules::OptionValue::Dataset(ds) = &o.parsed {
                    let e = b.declare_rule_dataset(ds, &dir, &dir).unwrap_err();
                    assert!(matches!(e, DatasetError::Unsupported { .. }), "{e}");
                    assert!(e.to_string().contains("JSON"), "{e}");
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 2);
    }

    #[test]
    fn declarations_share_or_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "ua.lst",
            "TW96aWxsYS80LjAgKGNvbXBhdGlibGU7ICk=\n\nZm9v\n",
        );
        let g = write(dir.path(), "other.lst", "");
        let mut b = Datasets::builder();
        let a = b.declare("UA-Seen", DataType::String, Some(&f)).unwrap();
        assert_eq!(b.declare("ua-seen", DataType::String, Some(&f)).unwrap(), a);
        assert_eq!(b.declare("ua-seen", DataType::String, None).unwrap(), a);
        assert_eq!(b.get("UA-SEEN"), Some((a, DataType::String)));
        let e = b.declare("ua-seen", DataType::Md5, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "dataset \"UA-Seen\" is already declared with type string; cannot redeclare it as md5"
        );
        assert!(matches!(
            b.declare("ua-seen", DataType::String, Some(&g)),
            Err(DatasetError::FileConflict { .. })
        ));
        let n = b.declare("new", DataType::Sha256, None).unwrap();
        let d = b.build();
        assert!(d.contains(a, b"Mozilla/4.0 (compatible; )"));
        assert!(d.contains(a, b"foo"));
        assert_eq!(d.rep(a, b"foo"), Some(0));
        assert_eq!(d.len(a), 2);
        assert!(d.is_empty(n));
        assert_eq!(d.name(a), Some("UA-Seen"));
        assert_eq!(d.id("ua-SEEN"), Some(a));
        assert_eq!(d.key(a, b"x").as_deref(), Some(&b"x"[..]));
        assert!(d.contains_key(a, b"foo"));
        assert_eq!(d.key(n, b"abc"), None);
    }

    #[test]
    fn missing_files_follow_suricata() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.lst");
        let mut b = Datasets::builder();
        let e = b
            .declare("x", DataType::String, Some(&missing))
            .unwrap_err();
        assert!(matches!(e, DatasetError::Io { .. }), "{e}");
        assert!(e.to_string().contains("nope.lst"), "{e}");
        let s = b.declare_state("y", DataType::String, &missing).unwrap();
        let d = b.build();
        assert!(d.is_empty(s));
        assert_eq!(d.save_path(s), Some(missing.as_path()));
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for (t, text, line, what) in [
            (DataType::String, "Zm9v\n!!!\n", 2, "not base64"),
            (DataType::String, "Zm9v,70000\n", 1, "reputation"),
            (DataType::String, "Zm9v,\n", 1, "reputation"),
            (
                DataType::Md5,
                "00112233445566778899aabbccddeeff\n0011\n",
                2,
                "md5",
            ),
            (DataType::Sha256, "zz\n", 1, "sha256"),
            (DataType::Ipv4, "1.2.3.4\n::1\n", 2, "IPv4"),
            (DataType::Ipv4, "::ffff:1.2.3.4\n", 1, "IPv4"),
            (DataType::Ip, "1.2.3.4\r\n\r\nfoo\r\n", 3, "IP address"),
        ] {
            let p = write(dir.path(), "bad.lst", text);
            let e = Datasets::builder()
                .declare("bad", t, Some(&p))
                .unwrap_err()
                .to_string();
            let want = format!("{}:{line}: ", p.display());
            assert!(e.starts_with(&want) && e.contains(what), "{t}: {e}");
        }
    }

    #[test]
    fn lookup_normalisation() {
        let v = |t, b: &[u8]| DataValue::from_buffer(t, b).map(DataValue::into_key);
        assert_eq!(v(DataType::Md5, &[0; 16]).as_deref(), Some(&[0u8; 16][..]));
        assert_eq!(
            v(DataType::Md5, &[b'0'; 32]).as_deref(),
            Some(&[0u8; 16][..])
        );
        assert_eq!(v(DataType::Md5, &[0; 15]), None);
        assert_eq!(v(DataType::Md5, &[b'g'; 32]), None);
        assert_eq!(
            v(DataType::Sha256, &[7; 32]).as_deref(),
            Some(&[7u8; 32][..])
        );
        let mapped = Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped().octets();
        assert_eq!(
            v(DataType::Ip, &[10, 0, 0, 1]).as_deref(),
            Some(&mapped[..])
        );
        assert_eq!(v(DataType::Ip, b"10.0.0.1").as_deref(), Some(&mapped[..]));
        assert_eq!(
            v(DataType::Ipv4, b"::ffff:10.0.0.1").as_deref(),
            Some(&mapped[..])
        );
        assert_eq!(v(DataType::Ipv4, b"::1"), None);
        assert_eq!(
            v(DataType::Ip, b"2001:db8::1").as_deref(),
            Some(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets()[..])
        );
        assert_eq!(v(DataType::Ip, b"nop"), None);
        assert_eq!(v(DataType::Ip, b"no such address"), None);
        let f = DataValue::from_file_text(DataType::String, "Zm9vYg").unwrap();
        assert_eq!(f.as_bytes(), b"foob");
        assert_eq!(f.data_type(), DataType::String);
    }

    proptest! {
        #[test]
        fn string_sets_round_trip(values in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..40), 0..20)) {
            let text: String = values
                .iter()
                .map(|v| base64::engine::general_purpose::STANDARD.encode(v) + "\n")
                .collect();
            let map = parse_values(DataType::String, Path::new("t"), text.as_bytes()).unwrap();
            for v in &values {
                prop_assert!(map.contains_key(&v[..]));
            }
        }

        #[test]
        fn parsing_and_lookup_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), probe in prop::collection::vec(any::<u8>(), 0..70)) {
            for t in [DataType::String, DataType::Md5, DataType::Sha256, DataType::Ipv4, DataType::Ipv6, DataType::Ip] {
                let _ = parse_values(t, Path::new("t"), &bytes);
                let _ = DataValue::from_buffer(t, &probe);
            }
        }
    }
}
