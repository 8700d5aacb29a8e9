//! Suricata's `classification.config`: `config classification: shortname,description,priority`
//! lines (`#` comments and blank lines allowed). The classtype of a rule gives its default
//! priority. ET Open's copy (BSD, see `rules/LICENSE-ET`) is embedded as the default table.

use std::collections::HashMap;

/// ET Open's `classification.config`, shipped in the repository at `rules/`.
pub const ET_CLASSIFICATION_CONFIG: &str = include_str!("../../../../rules/classification.config");

/// One classtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    pub name: String,
    pub description: String,
    pub priority: u8,
}

/// A bad line in a classification file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ClassificationError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// classtype name → classification. `Default` is the embedded ET Open table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassificationTable {
    entries: Vec<Classification>,
    index: HashMap<String, usize>,
}

impl ClassificationTable {
    /// Parses a classification.config. A later line for the same name replaces the earlier
    /// one (as Suricata does). Any malformed line is an error naming file:line.
    pub fn parse(file: &str, text: &str) -> Result<Self, ClassificationError> {
        let mut t = ClassificationTable::empty();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |message: String| ClassificationError {
                file: file.to_string(),
                line: i + 1,
                message,
            };
            let Some(rest) = line
                .strip_prefix("config")
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix("classification"))
                .map(str::trim_start)
                .and_then(|r| r.strip_prefix(':'))
            else {
                return Err(fail(format!(
                    "expected \"config classification: name,description,priority\", got \"{}\"",
                    super::parse::snippet(line)
                )));
            };
            let mut parts = rest.splitn(3, ',').map(str::trim);
            let (Some(name), Some(description), Some(prio)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(fail(
                    "classification needs name, description and priority".into(),
                ));
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(fail(format!(
                    "invalid classification name \"{}\"",
                    super::parse::snippet(name)
                )));
            }
            let priority = match prio.parse::<u8>() {
                Ok(p) if p >= 1 => p,
                _ => {
                    return Err(fail(format!(
                        "invalid classification priority \"{}\"",
                        super::parse::snippet(prio)
                    )))
                }
            };
            t.insert(Classification {
                name: name.to_string(),
                description: description.to_string(),
                priority,
            });
        }
        Ok(t)
    }

    fn insert(&mut self, c: Classification) {
        match self.index.get(&c.name) {
            Some(&i) => {
                if let Some(e) = self.entries.get_mut(i) {
                    *e = c;
                }
            }
            None => {
                self.index.insert(c.name.clone(), self.entries.len());
                self.entries.push(c);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&Classification> {
        self.index.get(name).and_then(|&i| self.entries.get(i))
    }

    /// Default priority of a classtype.
    pub fn priority(&self, name: &str) -> Option<u8> {
        self.get(name).map(|c| c.priority)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Classification> {
        self.entries.iter()
    }

    /// A table without entries.
    pub fn empty() -> Self {
        ClassificationTable {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The embedded ET Open table.
    pub fn et_open() -> Self {
        // The embedded file is tested to parse; fall back to empty rather than panic.
        Self::parse("classification.config", ET_CLASSIFICATION_CONFIG)
            .unwrap_or_else(|_| Self::empty())
    }
}

impl Default for ClassificationTable {
    /// The embedded ET Open table.
    fn default() -> Self {
        Self::et_open()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_et_table() {
        let t = ClassificationTable::parse("classification.config", ET_CLASSIFICATION_CONFIG)
            .expect("embedded table parses");
        assert_eq!(t.len(), 42);
        assert_eq!(t.priority("trojan-activity"), Some(1));
        assert_eq!(t.priority("bad-unknown"), Some(2));
        assert_eq!(t.priority("not-suspicious"), Some(3));
        assert_eq!(
            t.get("trojan-activity").map(|c| c.description.as_str()),
            Some("A Network Trojan was detected")
        );
        assert_eq!(ClassificationTable::et_open(), t);
        assert_eq!(ClassificationTable::default(), t);
        assert!(ClassificationTable::empty().is_empty());
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let e =
            ClassificationTable::parse("c.config", "# x\nconfig classification: a,b,1\nbogus\n")
                .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("c.config:3: "), "{e}");
        assert!(ClassificationTable::parse("c", "config classification: a,b").is_err());
        assert!(ClassificationTable::parse("c", "config classification: a,b,x").is_err());
        assert!(ClassificationTable::parse("c", "config classification: a b,b,1").is_err());
        let t = ClassificationTable::parse(
            "c",
            "config classification: a,first,1\nconfig classification: a,second, 2\n",
        )
        .unwrap();
        assert_eq!((t.len(), t.priority("a")), (1, Some(2)));
    }

    #[test]
    fn rule_priority_falls_back_to_classtype() {
        let t = ClassificationTable::et_open();
        let r = crate::rules::parse_rule(
            "alert ip any any -> any any (classtype:trojan-activity; sid:1;)",
        )
        .unwrap();
        assert_eq!(r.effective_priority(&t), 1);
        let r = crate::rules::parse_rule(
            "alert ip any any -> any any (classtype:trojan-activity; priority:4; sid:1;)",
        )
        .unwrap();
        assert_eq!(r.effective_priority(&t), 4);
        let r = crate::rules::parse_rule("alert ip any any -> any any (sid:1;)").unwrap();
        assert_eq!(r.effective_priority(&t), 3);
    }
}
