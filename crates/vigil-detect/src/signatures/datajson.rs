//! Suricata 8 JSON datasets ("datajson"): a dataset whose entries are JSON objects. A match
//! adds the entry to the alert under `alert.context.<context_key>`.
//!
//! `dataset:isset,NAME,type T,load FILE,format json|ndjson|jsonline,context_key K,
//! value_key a.b[,array_key x.y][,remove_key]`: with `format json` the file is a JSON array
//! (or an object holding the array at `array_key`); with `ndjson`/`jsonline` one object per
//! line. Each entry's value at `value_key` (a dotted path) is the member; with `remove_key`
//! that value is dropped from the stored object.

use crate::rules::ast::{DataType, Dataset, DatasetCommand};
use crate::rules::datasets::DataValue;
use rustc_hash::FxHashMap;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// The JSON options of a `dataset` keyword, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSpec {
    pub format: JsonFormat,
    pub context_key: String,
    pub value_key: String,
    pub array_key: Option<String>,
    pub remove_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonFormat {
    Json,
    Lines,
}

impl JsonSpec {
    /// `Ok(None)` for a plain dataset; an error names what is missing or unknown.
    pub fn from_dataset(d: &Dataset) -> Result<Option<JsonSpec>, String> {
        let get = |k: &str| {
            d.json
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let format = match get("format").map(str::to_ascii_lowercase).as_deref() {
            None | Some("csv") => return Ok(None),
            Some("json") => JsonFormat::Json,
            Some("ndjson") | Some("jsonline") | Some("jsonlines") => JsonFormat::Lines,
            Some(other) => return Err(format!("unknown dataset format \"{other}\"")),
        };
        if get("enrichment_key").is_some() {
            return Err("dataset enrichment_key is not supported".into());
        }
        let context_key = get("context_key")
            .ok_or("a JSON dataset needs context_key")?
            .to_string();
        let value_key = get("value_key")
            .ok_or("a JSON dataset needs value_key")?
            .to_string();
        Ok(Some(JsonSpec {
            format,
            context_key,
            value_key,
            array_key: get("array_key").map(str::to_string),
            remove_key: get("remove_key").is_some(),
        }))
    }
}

/// One loaded JSON dataset: normalised key → entry.
#[derive(Debug)]
pub struct JsonSet {
    pub name: String,
    pub data_type: DataType,
    pub context_key: Arc<str>,
    entries: FxHashMap<Box<[u8]>, Arc<Value>>,
}

impl JsonSet {
    /// Loads `path`; errors name the file, the line (for line formats) and what was expected.
    pub fn load(
        name: &str,
        data_type: DataType,
        spec: &JsonSpec,
        path: &Path,
    ) -> Result<JsonSet, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("dataset {name}: cannot read {}: {e}", path.display()))?;
        let at = |line: Option<usize>| match line {
            Some(l) => format!("{}:{l}", path.display()),
            None => path.display().to_string(),
        };
        let mut items: Vec<(Option<usize>, Value)> = Vec::new();
        match spec.format {
            JsonFormat::Lines => {
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let v: Value = serde_json::from_str(line)
                        .map_err(|e| format!("{}: expected a JSON object: {e}", at(Some(i + 1))))?;
                    items.push((Some(i + 1), v));
                }
            }
            JsonFormat::Json => {
                let doc: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("{}: expected JSON: {e}", at(None)))?;
                let arr = match &spec.array_key {
                    Some(k) => path_get(&doc, k)
                        .cloned()
                        .ok_or_else(|| format!("{}: no array at array_key \"{k}\"", at(None)))?,
                    None => doc,
                };
                let Value::Array(arr) = arr else {
                    return Err(format!("{}: expected a JSON array of objects", at(None)));
                };
                items.extend(arr.into_iter().map(|v| (None, v)));
            }
        }
        let mut entries = FxHashMap::default();
        for (line, mut v) in items {
            // Entries without the value are skipped, as Suricata does.
            let raw = match path_get(&v, &spec.value_key) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            let key = match data_type {
                // JSON values are the text itself, not base64 as in plain dataset files.
                DataType::String => raw.as_bytes().to_vec().into_boxed_slice(),
                t => DataValue::from_file_text(t, &raw)
                    .map_err(|e| format!("{}: {e}", at(line)))?
                    .into_key(),
            };
            if spec.remove_key {
                path_remove(&mut v, &spec.value_key);
            }
            // As Suricata: the first entry for a value wins.
            entries.entry(key).or_insert_with(|| Arc::new(v));
        }
        Ok(JsonSet {
            name: name.to_string(),
            data_type,
            context_key: Arc::from(spec.context_key.as_str()),
            entries,
        })
    }

    /// The entry for an inspected buffer, if it is a member.
    pub fn get(&self, buf: &[u8]) -> Option<&Arc<Value>> {
        let key = match self.data_type {
            DataType::String => buf.to_vec().into_boxed_slice(),
            t => DataValue::from_buffer(t, buf)?.into_key(),
        };
        self.entries.get(&key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Which JSON set a step consults and how.
#[derive(Debug, Clone)]
pub struct JsonStep {
    pub set: u32,
    pub command: DatasetCommand,
}

fn path_get<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |cur, k| cur.get(k))
}

fn path_remove(v: &mut Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((p, l)) => (p, l),
        None => ("", path),
    };
    let target = if parent.is_empty() {
        Some(v)
    } else {
        parent.split('.').try_fold(v, |cur, k| cur.get_mut(k))
    };
    if let Some(Value::Object(m)) = target {
        m.remove(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(
        format: JsonFormat,
        value_key: &str,
        array_key: Option<&str>,
        remove: bool,
    ) -> JsonSpec {
        JsonSpec {
            format,
            context_key: "ctx".into(),
            value_key: value_key.into(),
            array_key: array_key.map(str::to_string),
            remove_key: remove,
        }
    }

    #[test]
    fn json_array_at_nested_array_key_with_nested_value_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.json");
        std::fs::write(
            &p,
            r#"{"info":{"threat":[{"year":2005,"host":{"fqdn":"www.x.com"}},{"year":1,"host":{}}]}}"#,
        )
        .unwrap();
        let s = spec(JsonFormat::Json, "host.fqdn", Some("info.threat"), false);
        // The second entry has no fqdn: it is skipped.
        let set = JsonSet::load("h", DataType::String, &s, &p).unwrap();
        assert_eq!(set.get(b"www.x.com").unwrap()["year"], 2005);
        assert!(set.get(b"x.com").is_none());
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn ndjson_ip_values_with_remove_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.lst");
        std::fs::write(
            &p,
            "{\"ip\": \"10.0.0.1\", \"t\": 1}\n\n{\"ip\": \"10.0.0.2\", \"t\": 2}\n",
        )
        .unwrap();
        let set = JsonSet::load(
            "s",
            DataType::Ip,
            &spec(JsonFormat::Lines, "ip", None, true),
            &p,
        )
        .unwrap();
        let hit = set.get(&[10, 0, 0, 2]).unwrap();
        assert_eq!(**hit, serde_json::json!({"t": 2}));
        std::fs::write(&p, "{\"ip\": \"10.0.0.1\"}\nnot json\n").unwrap();
        let err = JsonSet::load(
            "s",
            DataType::Ip,
            &spec(JsonFormat::Lines, "ip", None, false),
            &p,
        )
        .unwrap_err();
        assert!(err.contains("s.lst:2"), "{err}");
    }
}
