//! suricata-verify's `filter` check, reproduced from upstream `run.py`
//! (`find_value`, `get_comparison_operator`, `compare_values`, `match_event`,
//! `FilterCheck.run`).
//!
//! Upstream is Python: the expected values come from `yaml.safe_load` and the
//! records from `json.loads`, and they are compared with Python's `==`. [`Val`]
//! holds either side, and [`py_eq`], [`py_str`] and [`py_contains`] give the
//! Python meaning of `==`, `str()` and `in` on it: `1 == 1.0`, `True == 1`, a
//! string never equals a number, a missing key and a JSON `null` are both `None`.

use std::borrow::Cow;

/// A YAML or JSON value, as Python sees it after `yaml.safe_load`/`json.loads`.
#[derive(Clone, Debug)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<Val>),
    /// Keys in document order. JSON keys are always `Val::Str`.
    Map(Vec<(Val, Val)>),
}

impl Val {
    pub fn from_json(v: &serde_json::Value) -> Val {
        use serde_json::Value as J;
        match v {
            J::Null => Val::Null,
            J::Bool(b) => Val::Bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Val::Int(i.into())
                } else if let Some(u) = n.as_u64() {
                    Val::Int(u.into())
                } else {
                    Val::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            J::String(s) => Val::Str(s.clone()),
            J::Array(a) => Val::List(a.iter().map(Val::from_json).collect()),
            J::Object(o) => Val::Map(
                o.iter()
                    .map(|(k, v)| (Val::Str(k.clone()), Val::from_json(v)))
                    .collect(),
            ),
        }
    }

    pub fn from_yaml(v: &serde_yaml::Value) -> Val {
        use serde_yaml::Value as Y;
        match v {
            Y::Null => Val::Null,
            Y::Bool(b) => Val::Bool(*b),
            Y::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Val::Int(i.into())
                } else if let Some(u) = n.as_u64() {
                    Val::Int(u.into())
                } else {
                    Val::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Y::String(s) => Val::Str(s.clone()),
            Y::Sequence(s) => Val::List(s.iter().map(Val::from_yaml).collect()),
            Y::Mapping(m) => Val::Map(
                m.iter()
                    .map(|(k, v)| (Val::from_yaml(k), Val::from_yaml(v)))
                    .collect(),
            ),
            Y::Tagged(t) => Val::from_yaml(&t.value),
        }
    }

    /// Parses YAML text; an empty document is `Null`.
    pub fn parse_yaml(text: &str) -> Result<Val, String> {
        let v: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        Ok(Val::from_yaml(&v))
    }

    /// Python's `key in dict` then `dict[key]`, for a string key.
    pub fn get(&self, key: &str) -> Option<&Val> {
        match self {
            Val::Map(m) => m
                .iter()
                .find(|(k, _)| matches!(k, Val::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::List(l) => !l.is_empty(),
            Val::Map(m) => !m.is_empty(),
        }
    }
}

enum Num {
    I(i128),
    F(f64),
}

/// Python's numeric view: `bool` is an `int` subclass.
fn num(v: &Val) -> Option<Num> {
    match v {
        Val::Bool(b) => Some(Num::I(*b as i128)),
        Val::Int(i) => Some(Num::I(*i)),
        Val::Float(f) => Some(Num::F(*f)),
        _ => None,
    }
}

fn num_eq(a: Num, b: Num) -> bool {
    match (a, b) {
        (Num::I(x), Num::I(y)) => x == y,
        (Num::F(x), Num::F(y)) => x == y,
        (Num::I(i), Num::F(f)) | (Num::F(f), Num::I(i)) => {
            f.is_finite() && f.trunc() == f && f.abs() < 1e38 && f as i128 == i
        }
    }
}

/// Python `a == b`.
pub fn py_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::List(x), Val::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Val::Map(x), Val::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| py_eq(k, k2))
                        .is_some_and(|(_, v2)| py_eq(v, v2))
                })
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => num_eq(x, y),
            _ => false,
        },
    }
}

/// Python `item in container`; a `TypeError` (e.g. `1 in "abc"`, `x in 5`) is `False`,
/// as upstream's `_contains` makes it.
pub fn py_contains(container: &Val, item: &Val) -> bool {
    match container {
        Val::Str(s) => match item {
            Val::Str(i) => s.contains(i.as_str()),
            _ => false,
        },
        Val::List(l) => l.iter().any(|e| py_eq(e, item)),
        Val::Map(m) => {
            !matches!(item, Val::List(_) | Val::Map(_)) && m.iter().any(|(k, _)| py_eq(k, item))
        }
        _ => false,
    }
}

/// Python `len(x)`, with upstream's `-1` for values without a length.
pub fn py_len(v: &Val) -> i128 {
    match v {
        Val::Str(s) => s.chars().count() as i128,
        Val::List(l) => l.len() as i128,
        Val::Map(m) => m.len() as i128,
        _ => -1,
    }
}

/// Python `str(x)`.
pub fn py_str(v: &Val) -> String {
    match v {
        Val::Str(s) => s.clone(),
        _ => py_repr(v),
    }
}

/// Python `repr(x)` (containers print their items with `repr`).
pub fn py_repr(v: &Val) -> String {
    match v {
        Val::Null => "None".into(),
        Val::Bool(true) => "True".into(),
        Val::Bool(false) => "False".into(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => py_float(*f),
        Val::Str(s) => py_str_repr(s),
        Val::List(l) => format!("[{}]", l.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Val::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr(float)`: shortest round-trip digits, positional for exponents
/// -4..16, else `1e+16` style.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let body = if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            let (int, frac) = if digits.len() > point {
                (digits[..point].to_string(), digits[point..].to_string())
            } else {
                (
                    format!("{digits}{}", "0".repeat(point - digits.len())),
                    "0".to_string(),
                )
            };
            format!("{int}.{frac}")
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        format!(
            "{m}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        )
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

fn py_str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Suffix operators that end a dotted path (`tls.sni.__startswith`): the value
/// found so far is returned and the operator is applied by [`match_event`].
pub const MATCH_OPERATORS: &[&str] = &["__contains", "__find", "__startswith", "__endswith"];
/// Numeric comparison suffixes (`pcap_cnt.__gt`).
pub const COMPARISON_OPERATORS: &[&str] = &["__gt", "__gte", "__lt", "__lte"];

/// `name[3]` → (`name`, Some(3)); upstream's `^(.*)\[(\d+)\]$` (greedy, so
/// `a[0][1]` is key `a[0]`, index 1).
fn split_index(part: &str) -> (&str, Option<usize>) {
    if let Some(body) = part.strip_suffix(']') {
        if let Some(open) = body.rfind('[') {
            let digits = &body[open + 1..];
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                // An index too large for usize is past any array's end, as in Python.
                return (&body[..open], Some(digits.parse().unwrap_or(usize::MAX)));
            }
        }
    }
    (part, None)
}

/// Upstream `find_value`: the value at dotted path `name` in `obj`, `None` when a
/// key is missing, an index is out of range, or a non-object is walked into.
/// A part `__len` returns the length of the value reached (-1 if it has none);
/// an operator part returns the value reached.
pub fn find_value<'a>(name: &str, obj: &'a Val) -> Option<Cow<'a, Val>> {
    let parts: Vec<&str> = name.split('.').collect();
    find_in(&parts, obj)
}

fn find_in<'a>(parts: &[&str], cur: &'a Val) -> Option<Cow<'a, Val>> {
    let Some((part, rest)) = parts.split_first() else {
        return Some(Cow::Borrowed(cur));
    };
    if *part == "__len" {
        return Some(Cow::Owned(Val::Int(py_len(cur))));
    }
    if MATCH_OPERATORS.contains(part) || COMPARISON_OPERATORS.contains(part) {
        return Some(Cow::Borrowed(cur));
    }
    let (key, index) = split_index(part);
    let Val::Map(_) = cur else { return None };
    let v = cur.get(key)?;
    match index {
        None => find_in(rest, v),
        Some(i) => match v {
            Val::List(l) => find_in(rest, l.get(i)?),
            // Python indexes a str by code point.
            Val::Str(s) => {
                let ch = Val::Str(s.chars().nth(i)?.to_string());
                find_in(rest, &ch).map(|c| Cow::Owned(c.into_owned()))
            }
            _ => None,
        },
    }
}

/// Upstream `get_comparison_operator`: the part after the last dot, if it is one
/// of [`COMPARISON_OPERATORS`].
pub fn comparison_operator(key: &str) -> Option<&'static str> {
    let suffix = key.rsplit('.').next().unwrap_or(key);
    COMPARISON_OPERATORS
        .iter()
        .copied()
        .find(|op| *op == suffix)
}

/// Upstream `compare_values`: numbers only, never booleans.
pub fn compare_values(actual: Option<&Val>, expected: &Val, op: &str) -> bool {
    let (Some(a), b) = (actual, expected) else {
        return false;
    };
    let as_num = |v: &Val| match v {
        Val::Int(i) => Some(Num::I(*i)),
        Val::Float(f) => Some(Num::F(*f)),
        _ => None,
    };
    let (Some(x), Some(y)) = (as_num(a), as_num(b)) else {
        return false;
    };
    let ord = match (x, y) {
        (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
        (Num::I(x), Num::F(y)) => (x as f64).partial_cmp(&y),
        (Num::F(x), Num::I(y)) => x.partial_cmp(&(y as f64)),
        (Num::F(x), Num::F(y)) => x.partial_cmp(&y),
    };
    let Some(ord) = ord else { return false };
    match op {
        "__gt" => ord.is_gt(),
        "__gte" => ord.is_ge(),
        "__lt" => ord.is_lt(),
        "__lte" => ord.is_le(),
        _ => false,
    }
}

/// Python `find_value(...) is None`: a missing key and a JSON `null` alike.
fn found(v: Option<Cow<'_, Val>>) -> Option<Cow<'_, Val>> {
    v.filter(|v| !v.is_null())
}

fn key_names(expected: &Val) -> Result<Vec<&str>, String> {
    let items: Vec<&Val> = match expected {
        Val::List(l) => l.iter().collect(),
        v => vec![v],
    };
    items
        .into_iter()
        .map(|i| {
            i.as_str()
                .ok_or_else(|| format!("has-key/not-has-key needs key names, got {}", py_repr(i)))
        })
        .collect()
}

/// Upstream `match_event`: does `event` satisfy every condition of `conditions`
/// (the check's `match:` mapping, in order)? `Err` is what raises in Python (and
/// fails the check there).
pub fn match_event(conditions: &[(String, Val)], event: &Val) -> Result<bool, String> {
    for (key, expected) in conditions {
        let ok = match key.as_str() {
            "has-key" => key_names(expected)?
                .into_iter()
                .all(|k| found(find_value(k, event)).is_some()),
            "not-has-key" => key_names(expected)?
                .into_iter()
                .all(|k| found(find_value(k, event)).is_none()),
            _ => {
                let val = found(find_value(key, event));
                let val = val.as_deref();
                if key.ends_with("__find")
                    || key.ends_with("__startswith")
                    || key.ends_with("__endswith")
                {
                    val.is_some_and(|v| {
                        let (hay, needle) = (py_str(v), py_str(expected));
                        if key.ends_with("__find") {
                            hay.contains(&needle)
                        } else if key.ends_with("__startswith") {
                            hay.starts_with(&needle)
                        } else {
                            hay.ends_with(&needle)
                        }
                    })
                } else if key.ends_with("__contains") {
                    val.is_some_and(|v| py_contains(v, expected))
                } else if let Some(op) = comparison_operator(key) {
                    compare_values(val, expected, op)
                } else {
                    py_eq(val.unwrap_or(&Val::Null), expected)
                }
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The check's `match:` mapping as (key, expected) pairs.
pub fn conditions(match_map: &Val) -> Result<Vec<(String, Val)>, String> {
    match match_map {
        Val::Map(m) => m
            .iter()
            .map(|(k, v)| match k {
                Val::Str(s) => Ok((s.clone(), v.clone())),
                other => Err(format!("match key {} is not a string", py_repr(other))),
            })
            .collect(),
        Val::Null => Ok(Vec::new()),
        other => Err(format!("match is not a mapping: {}", py_repr(other))),
    }
}

/// Counts the records of an EVE JSON-lines text that match; a line that is not
/// JSON is an error, as `json.loads` raises upstream.
pub fn count_matches(eve: &str, conditions: &[(String, Val)]) -> Result<usize, String> {
    let mut n = 0;
    for (i, line) in eve.lines().enumerate() {
        let rec: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {} is not JSON: {e}", i + 1))?;
        if match_event(conditions, &Val::from_json(&rec))? {
            n += 1;
        }
    }
    Ok(n)
}

/// A compact, YAML-flow-like rendering of a value for messages: `{event_type: alert, alert.signature_id: 1}`.
pub fn inline(v: &Val) -> String {
    match v {
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) => py_float(*f),
        Val::Str(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || "._-/:@".contains(c))
                && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "null" | "yes" | "no" | "on" | "off"
                );
            if plain {
                s.clone()
            } else {
                serde_json::to_string(s).unwrap_or_else(|_| s.clone())
            }
        }
        Val::List(l) => format!("[{}]", l.iter().map(inline).collect::<Vec<_>>().join(", ")),
        Val::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The same value as JSON, for the JSON report.
pub fn to_json(v: &Val) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Val::Null => J::Null,
        Val::Bool(b) => J::Bool(*b),
        Val::Int(i) => i64::try_from(*i)
            .map(J::from)
            .or_else(|_| u64::try_from(*i).map(J::from))
            .unwrap_or_else(|_| J::String(i.to_string())),
        Val::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or_else(|| J::String(py_float(*f))),
        Val::Str(s) => J::String(s.clone()),
        Val::List(l) => J::Array(l.iter().map(to_json).collect()),
        Val::Map(m) => J::Object(m.iter().map(|(k, v)| (py_str(k), to_json(v))).collect()),
    }
}
