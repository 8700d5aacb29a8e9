//! Lexing and parsing of one rule: header, option splitting with Suricata's escaping rules, and
//! the typed parse of each option. Nothing here panics: every slice is taken at char boundaries
//! found by searching the same string, and all numbers are parsed with checked conversions.

use super::ast::*;
use super::keywords::{self, Kind};
use std::net::{IpAddr, Ipv4Addr};

/// A parse failure before a file and line are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PErr {
    pub keyword: Option<String>,
    pub message: String,
}

pub(crate) type PResult<T> = Result<T, PErr>;

fn err<T>(keyword: &str, message: impl Into<String>) -> PResult<T> {
    Err(PErr {
        keyword: Some(keyword.to_string()),
        message: message.into(),
    })
}

fn header_err<T>(message: impl Into<String>) -> PResult<T> {
    Err(PErr {
        keyword: None,
        message: message.into(),
    })
}

/// Shortens a value for an error message (at a char boundary).
pub(crate) fn snippet(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX).collect();
    out.push('…');
    out
}

/// If a value looks like it swallowed the next option (`100000001 rev:1`), say so.
fn missing_semicolon_hint(v: &str) -> &'static str {
    let mut words = v.split_whitespace();
    words.next();
    for w in words {
        let name = w.split(':').next().unwrap_or("");
        if w.contains(':')
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && keywords::lookup(&name.to_ascii_lowercase()).is_some()
        {
            return " (missing ';'?)";
        }
    }
    ""
}

// ---------------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------------

/// Next whitespace-delimited token; with `lists`, whitespace inside `[...]` does not end it.
fn next_token<'a>(s: &mut &'a str, lists: bool) -> Option<&'a str> {
    let t = s.trim_start();
    if t.is_empty() {
        *s = t;
        return None;
    }
    let mut depth = 0i32;
    let mut end = t.len();
    for (i, c) in t.char_indices() {
        match c {
            '[' if lists => depth += 1,
            ']' if lists => depth -= 1,
            c if c.is_whitespace() && depth <= 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let (tok, rest) = t.split_at(end);
    *s = rest;
    Some(tok)
}

pub(crate) struct Header {
    pub action: Action,
    pub action_scope: Option<String>,
    pub proto: &'static str,
    pub proto_hook: Option<String>,
    pub src: AddrSpec,
    pub src_ports: PortSpec,
    pub direction: Direction,
    pub dst: AddrSpec,
    pub dst_ports: PortSpec,
}

/// Parses the header and returns it with the option text between `(` and the final `)`.
pub(crate) fn parse_header(text: &str) -> PResult<(Header, &str)> {
    let mut s = text;
    let Some(action_tok) = next_token(&mut s, false) else {
        return header_err("empty rule");
    };
    let (action_name, action_scope) = match action_tok.split_once(':') {
        Some((a, scope)) => (a, Some(scope.to_string())),
        None => (action_tok, None),
    };
    let Some(action) = Action::parse(action_name) else {
        return header_err(format!("unknown action \"{}\"", snippet(action_tok)));
    };
    let incomplete = || {
        header_err("incomplete rule header: expected `action proto src_addr src_port direction dst_addr dst_port (options)`")
    };
    let Some(proto_tok) = next_token(&mut s, true) else {
        return incomplete();
    };
    let (proto_name, proto_hook) = match proto_tok.split_once(':') {
        Some((p, hook)) => (p, Some(hook.to_string())),
        None => (proto_tok, None),
    };
    let Some(proto) = keywords::protocol(&proto_name.to_ascii_lowercase()) else {
        return header_err(format!("unknown protocol \"{}\"", snippet(proto_tok)));
    };
    let mut toks = [""; 5];
    for t in toks.iter_mut() {
        match next_token(&mut s, true) {
            Some(x) if !x.starts_with('(') => *t = x,
            _ => return incomplete(),
        }
    }
    let [src, sp, dir, dst, dp] = toks;
    let src = parse_address_spec(src).map_err(|m| PErr {
        keyword: None,
        message: format!("bad source address \"{}\": {m}", snippet(src)),
    })?;
    let src_ports = parse_port_spec(sp).map_err(|m| PErr {
        keyword: None,
        message: format!("bad source port \"{}\": {m}", snippet(sp)),
    })?;
    let direction = match dir {
        "->" => Direction::ToDst,
        "<>" => Direction::Both,
        "=>" => Direction::Transactional,
        _ => {
            return header_err(format!(
                "bad direction \"{}\": expected \"->\", \"<>\" or \"=>\"",
                snippet(dir)
            ))
        }
    };
    let dst = parse_address_spec(dst).map_err(|m| PErr {
        keyword: None,
        message: format!("bad destination address \"{}\": {m}", snippet(dst)),
    })?;
    let dst_ports = parse_port_spec(dp).map_err(|m| PErr {
        keyword: None,
        message: format!("bad destination port \"{}\": {m}", snippet(dp)),
    })?;
    let rest = s.trim();
    let Some(rest) = rest.strip_prefix('(') else {
        return header_err(if rest.is_empty() {
            "missing rule options: expected '(' after the header".to_string()
        } else {
            format!("expected '(' after the header, found \"{}\"", snippet(rest))
        });
    };
    let Some(body) = rest.strip_suffix(')') else {
        return header_err("missing ')' at end of rule");
    };
    Ok((
        Header {
            action,
            action_scope,
            proto,
            proto_hook,
            src,
            src_ports,
            direction,
            dst,
            dst_ports,
        },
        body,
    ))
}

/// Splits a bracket list's inside at top-level commas.
fn split_list(inner: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced ']'".into());
                }
            }
            ',' if depth == 0 => {
                out.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '['".into());
    }
    out.push(inner[start..].trim());
    if out.iter().any(|e| e.is_empty()) {
        return Err("empty list element".into());
    }
    Ok(out)
}

fn valid_var(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

const MAX_NESTING: usize = 32;

/// The shape address and port specs share: `any`, `$VAR`, `!x`, `[a, b, ...]` (nested), or
/// a leaf (an address, network or range; a port or port range).
trait Spec: Sized + PartialEq {
    /// "address" or "port", for messages.
    const WHAT: &'static str;
    fn any() -> Self;
    fn var(name: String) -> Self;
    fn not(inner: Self) -> Self;
    fn list(items: Vec<Self>) -> Self;
    fn leaf(s: &str) -> Result<Self, String>;
}

fn parse_spec<T: Spec>(s: &str, depth: usize) -> Result<T, String> {
    if depth > MAX_NESTING {
        return Err("lists nested too deeply".into());
    }
    if s.is_empty() {
        return Err(format!("empty {}", T::WHAT));
    }
    if let Some(rest) = s.strip_prefix('!') {
        let inner = parse_spec::<T>(rest.trim_start(), depth + 1)?;
        if inner == T::any() {
            return Err("\"!any\" matches nothing".into());
        }
        return Ok(T::not(inner));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let Some(inner) = rest.strip_suffix(']') else {
            return Err("list without closing ']'".into());
        };
        let items = split_list(inner)?;
        return items
            .into_iter()
            .map(|i| parse_spec::<T>(i, depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(T::list);
    }
    if s.eq_ignore_ascii_case("any") {
        return Ok(T::any());
    }
    if let Some(v) = s.strip_prefix('$') {
        if !valid_var(v) {
            return Err(format!("bad variable name \"{}\"", snippet(s)));
        }
        return Ok(T::var(v.to_string()));
    }
    T::leaf(s)
}

/// Parses an address: `any`, `$VAR`, `!x`, `[a,b,...]`, `1.2.3.4`, `10.0.0.0/8`,
/// `10.0.0.0/255.0.0.0`, `1.2.3.4-1.2.3.9`, IPv6 forms.
pub fn parse_address_spec(s: &str) -> Result<AddrSpec, String> {
    parse_spec(s.trim(), 0)
}

impl Spec for AddrSpec {
    const WHAT: &'static str = "address";
    fn any() -> Self {
        AddrSpec::Any
    }
    fn var(name: String) -> Self {
        AddrSpec::Var(name)
    }
    fn not(inner: Self) -> Self {
        AddrSpec::Not(Box::new(inner))
    }
    fn list(items: Vec<Self>) -> Self {
        AddrSpec::List(items)
    }
    fn leaf(s: &str) -> Result<Self, String> {
        if let Some((a, b)) = s.split_once('/') {
            let addr: IpAddr = a
                .parse()
                .map_err(|_| format!("\"{}\" is not an IP address", snippet(a)))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = if let Ok(p) = b.parse::<u8>() {
                p
            } else if let (true, Ok(mask)) = (addr.is_ipv4(), b.parse::<Ipv4Addr>()) {
                let m = u32::from(mask);
                if m.leading_ones() + m.trailing_zeros() != 32 {
                    return Err(format!("netmask {b} is not contiguous"));
                }
                m.leading_ones() as u8
            } else {
                return Err(format!("bad prefix length \"{}\"", snippet(b)));
            };
            if prefix > max {
                return Err(format!("prefix length {prefix} is larger than {max}"));
            }
            return Ok(AddrSpec::Net(IpNet { addr, prefix }));
        }
        if let Ok(addr) = s.parse::<IpAddr>() {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(AddrSpec::Net(IpNet { addr, prefix }));
        }
        if let Some((a, b)) = s.split_once('-') {
            let (Ok(a), Ok(b)) = (a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>()) else {
                return Err(format!("\"{}\" is not an address or range", snippet(s)));
            };
            if a.is_ipv4() != b.is_ipv4() {
                return Err("range mixes IPv4 and IPv6".into());
            }
            if a > b {
                return Err("range start is after its end".into());
            }
            return Ok(AddrSpec::Range(a, b));
        }
        Err(format!("\"{}\" is not an IP address", snippet(s)))
    }
}

/// Parses ports: `any`, `$VAR`, `80`, `1024:`, `:1023`, `a:b`, `!x`, `[a,b,...]`.
pub fn parse_port_spec(s: &str) -> Result<PortSpec, String> {
    parse_spec(s.trim(), 0)
}

fn parse_port_num(s: &str) -> Result<u16, String> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("\"{}\" is not a port number", snippet(s)));
    }
    s.parse::<u16>()
        .map_err(|_| format!("port {} is larger than 65535", snippet(s)))
}

impl Spec for PortSpec {
    const WHAT: &'static str = "port";
    fn any() -> Self {
        PortSpec::Any
    }
    fn var(name: String) -> Self {
        PortSpec::Var(name)
    }
    fn not(inner: Self) -> Self {
        PortSpec::Not(Box::new(inner))
    }
    fn list(items: Vec<Self>) -> Self {
        PortSpec::List(items)
    }
    fn leaf(s: &str) -> Result<Self, String> {
        if let Some((a, b)) = s.split_once(':') {
            let lo = if a.trim().is_empty() {
                0
            } else {
                parse_port_num(a)?
            };
            let hi = if b.trim().is_empty() {
                u16::MAX
            } else {
                parse_port_num(b)?
            };
            if a.trim().is_empty() && b.trim().is_empty() {
                return Err("range without bounds".into());
            }
            if lo > hi {
                return Err(format!("port range {lo}:{hi} is empty (start after end)"));
            }
            return Ok(PortSpec::Range(lo, hi));
        }
        Ok(PortSpec::Port(parse_port_num(s)?))
    }
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/// One option as split from the option text: name as written and the trimmed raw value.
pub(crate) struct RawOption<'a> {
    pub name: &'a str,
    pub value: Option<&'a str>,
}

/// Splits the text between `(` and `)` into options. An option ends at the first `;` that is
/// not preceded by a backslash (Suricata's rule); quotes do not protect a `;`.
pub(crate) fn split_options(body: &str) -> PResult<Vec<RawOption<'_>>> {
    let bytes = body.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos >= bytes.len() {
            break;
        }
        let start = pos;
        let mut end = None;
        let mut i = start;
        while i < bytes.len() {
            if bytes[i] == b';' && (i == start || bytes[i - 1] != b'\\') {
                end = Some(i);
                break;
            }
            i += 1;
        }
        // `start` and `end` sit on ASCII bytes, so they are char boundaries.
        let Some(end) = end else {
            let opt = &body[start..];
            let name = opt.split(':').next().unwrap_or("").trim();
            return err(
                name,
                format!(
                    "missing ';' after the \"{}\" option \"{}\"",
                    snippet(name),
                    snippet(opt.trim())
                ),
            );
        };
        let opt = &body[start..end];
        let (name, value) = match opt.find(':') {
            Some(c) => (opt[..c].trim(), Some(opt[c + 1..].trim())),
            None => (opt.trim(), None),
        };
        if name.is_empty() {
            return header_err(if value.is_some() {
                format!("option without keyword \"{}\"", snippet(opt))
            } else {
                "empty option (stray ';')".to_string()
            });
        }
        if name.chars().any(char::is_whitespace) {
            let first = name.split_whitespace().next().unwrap_or(name);
            return err(
                first,
                format!(
                    "bad option \"{}\": keyword contains whitespace (missing ';' or ':'?)",
                    snippet(opt.trim())
                ),
            );
        }
        out.push(RawOption {
            name,
            value: value.filter(|v| !v.is_empty()),
        });
        pos = end + 1;
    }
    Ok(out)
}

/// The inside of a double-quoted value. The closing quote must not be escaped.
pub(crate) fn unquote<'a>(kw: &str, v: &'a str) -> PResult<&'a str> {
    let Some(rest) = v.strip_prefix('"') else {
        return err(
            kw,
            format!(
                "\"{kw}\" value must be double-quoted: {}{}",
                snippet(v),
                missing_semicolon_hint(v)
            ),
        );
    };
    let Some(inner) = rest.strip_suffix('"') else {
        return err(
            kw,
            format!(
                "unterminated quoted string in \"{kw}\" value {} (missing '\"' or ';'?)",
                snippet(v)
            ),
        );
    };
    let trailing = inner.bytes().rev().take_while(|b| *b == b'\\').count();
    if trailing % 2 == 1 {
        return err(
            kw,
            format!(
                "unterminated quoted string in \"{kw}\" value {}: the closing quote is escaped",
                snippet(v)
            ),
        );
    }
    Ok(inner)
}

/// Quotes are optional: strip them if the value is a proper quoted string.
fn unquote_opt<'a>(kw: &str, v: &'a str) -> PResult<&'a str> {
    if v.starts_with('"') {
        unquote(kw, v)
    } else {
        Ok(v)
    }
}

/// Removes backslash escapes (`\x` → `x`), as Suricata does for msg.
fn unescape_lenient(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut esc = false;
    for c in s.chars() {
        if esc {
            out.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes a content string (without its quotes): `|hex|` blocks and `\;` `\"` `\\` `\:`.
pub(crate) fn parse_content_bytes(kw: &str, s: &str) -> PResult<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut hex = false;
    let mut esc = false;
    let mut nibble: Option<u8> = None;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        if esc {
            match c {
                ';' | '"' | '\\' | ':' => out.push(c as u8),
                _ => {
                    return err(
                        kw,
                        format!(
                            "invalid escape \"\\{c}\" in \"{kw}\" (only \\; \\\" \\\\ and \\: are allowed; use |hex| for other bytes)"
                        ),
                    )
                }
            }
            esc = false;
            continue;
        }
        if c == '|' {
            if hex && nibble.is_some() {
                return err(
                    kw,
                    format!("incomplete hex byte in \"{kw}\" (odd number of hex digits)"),
                );
            }
            hex = !hex;
            continue;
        }
        if hex {
            if let Some(d) = c.to_digit(16) {
                let d = d as u8;
                match nibble.take() {
                    Some(h) => out.push(h << 4 | d),
                    None => nibble = Some(d),
                }
            } else if c == ' ' || c == '\t' {
                if nibble.is_some() {
                    return err(kw, format!("incomplete hex byte in \"{kw}\""));
                }
            } else {
                return err(kw, format!("invalid hex character '{c}' in \"{kw}\""));
            }
            continue;
        }
        match c {
            '\\' => esc = true,
            '"' => {
                return err(
                    kw,
                    format!("unescaped '\"' inside \"{kw}\" (write \\\" or |22|)"),
                )
            }
            _ => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    if esc {
        return err(kw, format!("trailing backslash in \"{kw}\""));
    }
    if hex {
        return err(
            kw,
            format!("unterminated hex block in \"{kw}\" (missing closing '|')"),
        );
    }
    if out.is_empty() {
        return err(kw, format!("empty \"{kw}\""));
    }
    Ok(out)
}

fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn parse_i64(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(r) => parse_u64(r).and_then(|v| i64::try_from(v).ok()).map(|v| -v),
        None => parse_u64(s.strip_prefix('+').unwrap_or(s)).and_then(|v| i64::try_from(v).ok()),
    }
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// A number or a byte_extract variable.
fn parse_num(kw: &str, v: &str) -> PResult<Num> {
    let v = v.trim();
    if let Some(n) = parse_i64(v) {
        return Ok(Num::Lit(n));
    }
    if is_ident(v) {
        return Ok(Num::Var(v.to_string()));
    }
    err(
        kw,
        format!(
            "invalid \"{kw}\" value \"{}\": expected a number or a variable{}",
            snippet(v),
            missing_semicolon_hint(v)
        ),
    )
}

fn parse_u32_kw(kw: &str, v: &str) -> PResult<u32> {
    let t = v.trim();
    if let Some(n) = parse_u64(t).and_then(|n| u32::try_from(n).ok()) {
        return Ok(n);
    }
    if let Some((num, rest)) = t.split_once(char::is_whitespace) {
        if parse_u64(num).is_some() {
            return err(
                kw,
                format!(
                    "missing ';' after \"{kw}:{num}\" (before \"{}\")",
                    snippet(rest.trim())
                ),
            );
        }
    }
    err(
        kw,
        format!(
            "invalid \"{kw}\" value \"{}\": expected a number{}",
            snippet(t),
            missing_semicolon_hint(t)
        ),
    )
}

fn parse_small<T: TryFrom<u64>>(kw: &str, what: &str, v: &str) -> PResult<T> {
    parse_u64(v).and_then(|n| T::try_from(n).ok()).map_or_else(
        || {
            err(
                kw,
                format!(
                    "invalid {what} \"{}\" in \"{kw}\"{}",
                    snippet(v.trim()),
                    missing_semicolon_hint(v)
                ),
            )
        },
        Ok,
    )
}

/// Integer match: `N`, `=N`, `!N`, `<N`, `<=N`, `>N`, `>=N`, `a<>b`, `a-b`, `!a-b`.
pub(crate) fn parse_int_match(kw: &str, v: &str) -> PResult<IntMatch> {
    let bad = || {
        err(
            kw,
            format!(
                "invalid \"{kw}\" value \"{}\": expected N, <N, >N, <=N, >=N, !N or A<>B{}",
                snippet(v.trim()),
                missing_semicolon_hint(v)
            ),
        )
    };
    let s: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    let (neg, s) = match s.strip_prefix('!') {
        Some(r) => (true, r.to_string()),
        None => (false, s),
    };
    let range = |a: &str, b: &str| -> Option<(u64, u64)> {
        let (a, b) = (parse_u64(a)?, parse_u64(b)?);
        (a < b).then_some((a, b))
    };
    if let Some((a, b)) = s.split_once("<>") {
        return match range(a, b) {
            Some((a, b)) if neg => Ok(IntMatch::NotRange(a, b)),
            Some((a, b)) => Ok(IntMatch::Range(a, b)),
            None => bad(),
        };
    }
    type Ctor = fn(u64) -> IntMatch;
    let ops: [(&str, Ctor); 6] = [
        ("<=", IntMatch::Le),
        (">=", IntMatch::Ge),
        ("!=", IntMatch::Ne),
        ("<", IntMatch::Lt),
        (">", IntMatch::Gt),
        ("=", IntMatch::Eq),
    ];
    for (op, f) in ops {
        if let Some(r) = s.strip_prefix(op) {
            return match (parse_u64(r), neg) {
                (Some(n), false) => Ok(f(n)),
                _ => bad(),
            };
        }
    }
    if let Some((a, b)) = s.split_once('-') {
        return match range(a, b) {
            Some((a, b)) if neg => Ok(IntMatch::NotRange(a, b)),
            Some((a, b)) => Ok(IntMatch::Range(a, b)),
            None => bad(),
        };
    }
    match parse_u64(&s) {
        Some(n) if neg => Ok(IntMatch::Ne(n)),
        Some(n) => Ok(IntMatch::Eq(n)),
        None => bad(),
    }
}

/// Comma-separated list, trimmed; empty elements are an error.
fn comma_list<'a>(kw: &str, v: &'a str) -> PResult<Vec<&'a str>> {
    let items: Vec<&str> = v.split(',').map(str::trim).collect();
    if items.iter().any(|i| i.is_empty()) {
        return err(
            kw,
            format!("empty element in \"{kw}\" value \"{}\"", snippet(v)),
        );
    }
    Ok(items)
}

/// `key value` pairs separated by commas (threshold, dataset options, byte_math, ...).
fn key_values<'a>(kw: &str, items: &[&'a str]) -> PResult<Vec<(&'a str, &'a str)>> {
    items
        .iter()
        .map(|i| {
            let (k, v) = i.split_once(char::is_whitespace).unwrap_or((i, ""));
            if k.is_empty() {
                err(kw, format!("bad \"{kw}\" option \"{}\"", snippet(i)))
            } else {
                Ok((k, v.trim()))
            }
        })
        .collect()
}

fn parse_track(kw: &str, v: &str) -> PResult<Track> {
    Ok(match v {
        "by_src" => Track::BySrc,
        "by_dst" => Track::ByDst,
        "by_rule" => Track::ByRule,
        "by_both" => Track::ByBoth,
        "by_flow" => Track::ByFlow,
        _ => {
            return err(
                kw,
                format!(
                    "invalid track \"{}\" in \"{kw}\": expected by_src, by_dst, by_rule, by_both or by_flow",
                    snippet(v)
                ),
            )
        }
    })
}

fn parse_threshold(kw: &str, v: &str) -> PResult<Threshold> {
    let items = comma_list(kw, v)?;
    let (mut kind, mut track, mut count, mut seconds, mut multiplier) =
        (None, None, None, None, None);
    for (k, val) in key_values(kw, &items)? {
        match k {
            "type" => {
                kind = Some(match val {
                    "limit" => ThresholdType::Limit,
                    "threshold" => ThresholdType::Threshold,
                    "both" => ThresholdType::Both,
                    "backoff" => ThresholdType::Backoff,
                    _ => {
                        return err(
                            kw,
                            format!(
                        "invalid threshold type \"{}\": expected limit, threshold, both or backoff",
                        snippet(val)
                    ),
                        )
                    }
                })
            }
            "track" => track = Some(parse_track(kw, val)?),
            "count" => count = Some(parse_small::<u32>(kw, "count", val)?),
            "seconds" => seconds = Some(parse_small::<u32>(kw, "seconds", val)?),
            "multiplier" => multiplier = Some(parse_small::<u32>(kw, "multiplier", val)?),
            _ => return err(kw, format!("unknown \"{kw}\" option \"{}\"", snippet(k))),
        }
    }
    let Some(kind) = kind else {
        return err(kw, format!("\"{kw}\" needs \"type\""));
    };
    let Some(track) = track else {
        return err(kw, format!("\"{kw}\" needs \"track\""));
    };
    let Some(count) = count else {
        return err(kw, format!("\"{kw}\" needs \"count\""));
    };
    let seconds = match (kind, seconds) {
        (ThresholdType::Backoff, s) => {
            if multiplier.is_none() {
                return err(kw, format!("\"{kw}\" type backoff needs \"multiplier\""));
            }
            s.unwrap_or(0)
        }
        (_, Some(s)) => s,
        (_, None) => return err(kw, format!("\"{kw}\" needs \"seconds\"")),
    };
    Ok(Threshold {
        kind,
        track,
        count,
        seconds,
        multiplier,
    })
}

fn parse_detection_filter(kw: &str, v: &str) -> PResult<DetectionFilter> {
    let items = comma_list(kw, v)?;
    let (mut track, mut count, mut seconds) = (None, None, None);
    for (k, val) in key_values(kw, &items)? {
        match k {
            "track" => track = Some(parse_track(kw, val)?),
            "count" => count = Some(parse_small::<u32>(kw, "count", val)?),
            "seconds" => seconds = Some(parse_small::<u32>(kw, "seconds", val)?),
            "unique_on" => {}
            _ => return err(kw, format!("unknown \"{kw}\" option \"{}\"", snippet(k))),
        }
    }
    match (track, count, seconds) {
        (Some(track), Some(count), Some(seconds)) => Ok(DetectionFilter {
            track,
            count,
            seconds,
        }),
        _ => err(kw, format!("\"{kw}\" needs track, count and seconds")),
    }
}

fn parse_flow(kw: &str, v: &str) -> PResult<FlowSpec> {
    let mut f = FlowSpec::default();
    for item in comma_list(kw, v)? {
        let l = item.to_ascii_lowercase();
        let dir = match l.as_str() {
            "to_server" | "from_client" => Some(FlowDirection::ToServer),
            "to_client" | "from_server" => Some(FlowDirection::ToClient),
            "established" => {
                f.established = true;
                None
            }
            "not_established" => {
                f.not_established = true;
                None
            }
            "stateless" => {
                f.stateless = true;
                None
            }
            "only_stream" => {
                f.only_stream = true;
                None
            }
            "no_stream" => {
                f.no_stream = true;
                None
            }
            "only_frag" => {
                f.only_frag = true;
                None
            }
            "no_frag" => {
                f.no_frag = true;
                None
            }
            _ => {
                return err(
                    kw,
                    format!(
                        "unknown flow option \"{}\"{}",
                        snippet(item),
                        missing_semicolon_hint(v)
                    ),
                )
            }
        };
        if let Some(d) = dir {
            if f.direction.is_some_and(|old| old != d) {
                return err(kw, "flow: to_server and to_client both given");
            }
            f.direction = Some(d);
        }
        f.options.push(l);
    }
    if f.established && f.not_established {
        return err(kw, "flow: established and not_established both given");
    }
    if f.only_stream && f.no_stream {
        return err(kw, "flow: only_stream and no_stream both given");
    }
    Ok(f)
}

fn parse_bits_command(kw: &str, c: &str) -> PResult<BitsCommand> {
    Ok(match c.trim().to_ascii_lowercase().as_str() {
        "set" => BitsCommand::Set,
        "isset" => BitsCommand::IsSet,
        "isnotset" => BitsCommand::IsNotSet,
        "unset" => BitsCommand::Unset,
        "toggle" => BitsCommand::Toggle,
        "noalert" => BitsCommand::NoAlert,
        _ => {
            return err(
                kw,
                format!(
                    "unknown \"{kw}\" command \"{}\": expected set, isset, isnotset, unset, toggle or noalert",
                    snippet(c.trim())
                ),
            )
        }
    })
}

fn valid_bit_name(n: &str) -> bool {
    !n.is_empty() && !n.chars().any(|c| c.is_whitespace() || c == ',' || c == ';')
}

fn parse_flowbits(kw: &str, v: &str) -> PResult<Flowbits> {
    let (cmd, names) = match v.split_once(',') {
        Some((c, n)) => (c, Some(n.trim())),
        None => (v, None),
    };
    let command = parse_bits_command(kw, cmd)?;
    let Some(names) = names else {
        if command == BitsCommand::NoAlert {
            return Ok(Flowbits {
                command,
                names: Vec::new(),
                group: BitsGroup::Single,
            });
        }
        return err(kw, format!("\"{kw}:{}\" needs a flowbit name", cmd.trim()));
    };
    if command == BitsCommand::NoAlert {
        return err(kw, format!("\"{kw}:noalert\" takes no name"));
    }
    let (group, parts): (BitsGroup, Vec<&str>) = match (names.contains('|'), names.contains('&')) {
        (true, true) => return err(kw, format!("\"{kw}\" mixes '|' and '&'")),
        (true, false) => (BitsGroup::Any, names.split('|').map(str::trim).collect()),
        (false, true) => (BitsGroup::All, names.split('&').map(str::trim).collect()),
        (false, false) => (BitsGroup::Single, vec![names]),
    };
    if let Some(bad) = parts.iter().find(|n| !valid_bit_name(n)) {
        return err(
            kw,
            format!(
                "invalid flowbit name \"{}\"{}",
                snippet(bad),
                missing_semicolon_hint(names)
            ),
        );
    }
    Ok(Flowbits {
        command,
        names: parts.into_iter().map(String::from).collect(),
        group,
    })
}

fn parse_xbits(kw: &str, v: &str) -> PResult<Xbits> {
    let items = comma_list(kw, v)?;
    let command = parse_bits_command(kw, items[0])?;
    let name = items.get(1).copied().unwrap_or("");
    if command != BitsCommand::NoAlert && !valid_bit_name(name) {
        return err(kw, format!("\"{kw}\" needs a bit name"));
    }
    let (mut track, mut expire) = (None, None);
    for (k, val) in key_values(kw, items.get(2..).unwrap_or(&[]))? {
        match k {
            "track" => track = Some(val.to_string()),
            "expire" => expire = Some(parse_small::<u32>(kw, "expire", val)?),
            _ => return err(kw, format!("unknown \"{kw}\" option \"{}\"", snippet(k))),
        }
    }
    Ok(Xbits {
        command,
        name: name.to_string(),
        track,
        expire,
    })
}

fn parse_iprep(kw: &str, v: &str) -> PResult<Iprep> {
    let items = comma_list(kw, v)?;
    if !(3..=4).contains(&items.len()) {
        return err(
            kw,
            format!(
                "\"{kw}\" needs side,category,operator,value (got \"{}\")",
                snippet(v)
            ),
        );
    }
    let side = match items[0] {
        "any" => IprepSide::Any,
        "src" => IprepSide::Src,
        "dst" => IprepSide::Dst,
        "both" => IprepSide::Both,
        s => {
            return err(
                kw,
                format!(
                    "invalid iprep side \"{}\": expected any, src, dst or both",
                    snippet(s)
                ),
            )
        }
    };
    let category = items[1].to_string();
    match (items[2], items.get(3)) {
        ("isset", None) => Ok(Iprep {
            side,
            category,
            cmp: None,
            isset: Some(true),
        }),
        ("isnotset", None) => Ok(Iprep {
            side,
            category,
            cmp: None,
            isset: Some(false),
        }),
        (op, Some(val)) => {
            let Some(op) =
                CmpOp::parse(op).filter(|o| matches!(o, CmpOp::Lt | CmpOp::Gt | CmpOp::Eq))
            else {
                return err(
                    kw,
                    format!(
                        "invalid iprep operator \"{}\": expected <, > or =",
                        snippet(op)
                    ),
                );
            };
            let val: u8 = parse_small(kw, "value", val)?;
            if val > 127 {
                return err(kw, format!("iprep value {val} is out of range 0-127"));
            }
            Ok(Iprep {
                side,
                category,
                cmp: Some((op, val)),
                isset: None,
            })
        }
        _ => err(kw, format!("\"{kw}\" needs a value after the operator")),
    }
}

fn parse_data_type(kw: &str, v: &str) -> PResult<DataType> {
    DataType::parse(v).map_or_else(
        || {
            err(
                kw,
                format!(
                    "invalid \"{kw}\" type \"{}\": expected string, md5, sha256, ipv4, ipv6 or ip",
                    snippet(v)
                ),
            )
        },
        Ok,
    )
}

fn parse_dataset(kw: &str, v: &str) -> PResult<Dataset> {
    let items = comma_list(kw, v)?;
    let command = match items[0] {
        "set" => DatasetCommand::Set,
        "isset" => DatasetCommand::IsSet,
        "isnotset" => DatasetCommand::IsNotSet,
        "unset" => DatasetCommand::Unset,
        c => {
            return err(
                kw,
                format!(
                    "unknown dataset command \"{}\": expected set, isset, isnotset or unset",
                    snippet(c)
                ),
            )
        }
    };
    let Some(name) = items.get(1).filter(|n| valid_bit_name(n)) else {
        return err(kw, "dataset needs a name after the command");
    };
    let mut d = Dataset {
        command,
        name: name.to_string(),
        data_type: None,
        load: None,
        save: None,
        state: None,
        memcap: None,
        hashsize: None,
        json: Vec::new(),
    };
    for (k, val) in key_values(kw, items.get(2..).unwrap_or(&[]))? {
        let need = |val: &str| -> PResult<String> {
            if val.is_empty() {
                err(kw, format!("dataset option \"{k}\" needs a value"))
            } else {
                Ok(val.to_string())
            }
        };
        match k {
            "type" => d.data_type = Some(parse_data_type(kw, val)?),
            "load" => d.load = Some(need(val)?),
            "save" => d.save = Some(need(val)?),
            "state" => d.state = Some(need(val)?),
            "memcap" => d.memcap = Some(need(val)?),
            "hashsize" => d.hashsize = Some(parse_small(kw, "hashsize", val)?),
            "format" | "context_key" | "value_key" | "array_key" | "enrichment_key"
            | "remove_key" => d.json.push((k.to_string(), val.to_string())),
            _ => return err(kw, format!("unknown dataset option \"{}\"", snippet(k))),
        }
    }
    Ok(d)
}

fn parse_datarep(kw: &str, v: &str) -> PResult<Datarep> {
    let items = comma_list(kw, v)?;
    if items.len() < 3 {
        return err(kw, "datarep needs name, operator and value");
    }
    let Some(op) = CmpOp::parse(items[1]) else {
        return err(
            kw,
            format!("invalid datarep operator \"{}\"", snippet(items[1])),
        );
    };
    let mut d = Datarep {
        name: items[0].to_string(),
        op,
        value: parse_small(kw, "value", items[2])?,
        data_type: None,
        load: None,
        memcap: None,
        hashsize: None,
    };
    for (k, val) in key_values(kw, items.get(3..).unwrap_or(&[]))? {
        match k {
            "type" => d.data_type = Some(parse_data_type(kw, val)?),
            "load" => d.load = Some(val.to_string()),
            "memcap" => d.memcap = Some(val.to_string()),
            "hashsize" => d.hashsize = Some(parse_small(kw, "hashsize", val)?),
            _ => return err(kw, format!("unknown datarep option \"{}\"", snippet(k))),
        }
    }
    Ok(d)
}

/// Suricata's pcre modifiers that select a buffer.
fn pcre_buffer_flag(c: char) -> Option<&'static str> {
    Some(match c {
        'U' => "http.uri",
        'I' => "http.uri.raw",
        'V' => "http.user_agent",
        'W' => "http.host",
        'Z' => "http.host.raw",
        'H' => "http.header",
        'D' => "http.header.raw",
        'M' => "http.method",
        'C' => "http.cookie",
        'P' => "http.request_body",
        'Q' => "file.data",
        'S' => "http.stat_code",
        'Y' => "http.stat_msg",
        _ => return None,
    })
}

pub(crate) fn parse_pcre(kw: &str, v: &str) -> PResult<Pcre> {
    let (negated, v) = match v.strip_prefix('!') {
        Some(r) => (true, r.trim_start()),
        None => (false, v),
    };
    let inner = unquote(kw, v)?;
    let Some(body) = inner.strip_prefix('/') else {
        return err(
            kw,
            format!(
                "\"{kw}\" must look like \"/regex/flags\", got \"{}\"",
                snippet(inner)
            ),
        );
    };
    let Some(last) = body.rfind('/') else {
        return err(
            kw,
            format!("\"{kw}\" regex has no closing '/': \"{}\"", snippet(inner)),
        );
    };
    let pattern = &body[..last];
    let after = &body[last + 1..];
    let (flags, capture) = match after.split_once(',') {
        Some((f, c)) => (f.trim(), Some(c.trim().to_string())),
        None => (after.trim(), None),
    };
    let mut p = Pcre {
        pattern: pattern.to_string(),
        flags: flags.to_string(),
        negated,
        capture,
        ..Pcre::default()
    };
    for c in flags.chars() {
        match c {
            'i' => p.caseless = true,
            's' => p.dotall = true,
            'm' => p.multiline = true,
            'x' => p.extended = true,
            'A' => p.anchored = true,
            'E' => p.dollar_endonly = true,
            'G' => p.ungreedy = true,
            'R' => p.relative = true,
            'B' => p.rawbytes = true,
            'O' => p.match_limit = true,
            c => match pcre_buffer_flag(c) {
                Some(buf) => {
                    if let Some((old, _)) = p.buffer_flag.filter(|(o, _)| *o != c) {
                        return err(
                            kw,
                            format!("pcre modifiers '{old}' and '{c}' select different buffers"),
                        );
                    }
                    p.buffer_flag = Some((c, buf));
                }
                None => {
                    return err(
                        kw,
                        format!(
                            "unknown pcre modifier '{c}' in \"{}\"{}",
                            snippet(flags),
                            missing_semicolon_hint(flags)
                        ),
                    )
                }
            },
        }
    }
    Ok(p)
}

fn parse_fast_pattern(kw: &str, v: Option<&str>) -> PResult<FastPattern> {
    let Some(v) = v else {
        return Ok(FastPattern::Default);
    };
    if v.eq_ignore_ascii_case("only") {
        return Ok(FastPattern::Only);
    }
    if let Some((a, b)) = v.split_once(',') {
        if let (Some(offset), Some(length)) = (
            parse_u64(a).and_then(|x| u16::try_from(x).ok()),
            parse_u64(b).and_then(|x| u16::try_from(x).ok()),
        ) {
            return Ok(FastPattern::Chop { offset, length });
        }
    }
    err(
        kw,
        format!(
            "invalid fast_pattern value \"{}\": expected nothing, \"only\" or \"offset,length\"",
            snippet(v)
        ),
    )
}

fn byte_flag_ok(f: &str) -> bool {
    matches!(
        f,
        "relative"
            | "big"
            | "little"
            | "dce"
            | "string"
            | "hex"
            | "dec"
            | "oct"
            | "align"
            | "from_beginning"
            | "from_end"
    )
}

/// Splits trailing byte_* flags into plain flags and `key value` settings.
/// Plain flags and `key value` settings of a byte_* keyword.
type ByteFlags<'a> = (Vec<String>, Vec<(&'a str, &'a str)>);

fn byte_flags<'a>(kw: &str, items: &[&'a str]) -> PResult<ByteFlags<'a>> {
    let mut flags = Vec::new();
    let mut kvs = Vec::new();
    for it in items {
        match it.split_once(char::is_whitespace) {
            Some((k, v)) => kvs.push((k, v.trim())),
            None if byte_flag_ok(it) => flags.push(it.to_string()),
            None => return err(kw, format!("unknown \"{kw}\" option \"{}\"", snippet(it))),
        }
    }
    Ok((flags, kvs))
}

/// Byte count of byte_test/byte_jump/byte_extract: up to 8 binary, up to 23 as a string
/// (Suricata accepts 0 with `string`).
fn parse_bytes_count(kw: &str, s: &str) -> PResult<u8> {
    match parse_u64(s) {
        Some(n @ 0..=23) => Ok(n as u8),
        _ => err(
            kw,
            format!(
                "invalid byte count \"{}\" in \"{kw}\": expected 0 to 23",
                snippet(s)
            ),
        ),
    }
}

/// A bitmask: hexadecimal, with or without `0x`.
fn parse_bitmask(kw: &str, s: &str) -> PResult<u64> {
    let h = s.trim();
    let h = h
        .strip_prefix("0x")
        .or_else(|| h.strip_prefix("0X"))
        .unwrap_or(h);
    match u64::from_str_radix(h, 16) {
        Ok(v) if !h.starts_with('+') => Ok(v),
        _ => err(
            kw,
            format!("invalid bitmask \"{}\" in \"{kw}\"", snippet(s)),
        ),
    }
}

fn parse_byte_test(kw: &str, v: &str) -> PResult<ByteTest> {
    let items = comma_list(kw, v)?;
    if items.len() < 4 {
        return err(kw, "byte_test needs bytes, operator, value and offset");
    }
    let bytes = parse_bytes_count(kw, items[0])?;
    let (negated, op) = match items[1].strip_prefix('!') {
        Some(r) if !r.is_empty() => (true, r.trim()),
        Some(_) => (true, "="),
        None => (false, items[1]),
    };
    if !matches!(op, "<" | ">" | "=" | "<=" | ">=" | "&" | "^") {
        return err(
            kw,
            format!("invalid byte_test operator \"{}\"", snippet(items[1])),
        );
    }
    let value = parse_num(kw, items[2])?;
    let offset = parse_num(kw, items[3])?;
    let (flags, kvs) = byte_flags(kw, &items[4..])?;
    let mut bitmask = None;
    for (k, val) in kvs {
        match k {
            "bitmask" => bitmask = Some(parse_bitmask(kw, val)?),
            _ => return err(kw, format!("unknown \"{kw}\" option \"{}\"", snippet(k))),
        }
    }
    Ok(ByteTest {
        bytes,
        negated,
        op: op.to_string(),
        value,
        offset,
        flags,
        bitmask,
    })
}

fn parse_byte_jump(kw: &str, v: &str) -> PResult<ByteJump> {
    let items = comma_list(kw, v)?;
    if items.len() < 2 {
        return err(kw, "byte_jump needs bytes and offset");
    }
    let bytes = match parse_num(kw, items[0])? {
        Num::Lit(n) => Num::Lit(i64::from(parse_bytes_count(kw, &n.to_string())?)),
        var => var,
    };
    let offset = parse_num(kw, items[1])?;
    let (flags, kvs) = byte_flags(kw, &items[2..])?;
    let (mut multiplier, mut post_offset, mut bitmask) = (None, None, None);
    for (k, val) in kvs {
        match k {
            "multiplier" => multiplier = Some(parse_small(kw, "multiplier", val)?),
            "post_offset" => post_offset = Some(parse_num(kw, val)?),
            "bitmask" => bitmask = Some(parse_bitmask(kw, val)?),
            _ => return err(kw, format!("unknown \"{kw}\" option \"{}\"", snippet(k))),
        }
    }
    Ok(ByteJump {
        bytes,
        offset,
        flags,
        multiplier,
        post_offset,
        bitmask,
    })
}

fn parse_byte_extract(kw: &str, v: &str) -> PResult<ByteExtract> {
    let items = comma_list(kw, v)?;
    if items.len() < 3 {
        return err(kw, "byte_extract needs bytes, offset and a variable name");
    }
    let bytes = parse_bytes_count(kw, items[0])?;
    let Some(offset) = parse_i64(items[1]) else {
        return err(
            kw,
            format!("invalid byte_extract offset \"{}\"", snippet(items[1])),
        );
    };
    if !is_ident(items[2]) {
        return err(
            kw,
            format!("invalid byte_extract variable \"{}\"", snippet(items[2])),
        );
    }
    let (flags, kvs) = byte_flags(kw, &items[3..])?;
    let (mut multiplier, mut align, mut bitmask) = (None, None, None);
    for (k, val) in kvs {
        match k {
            "multiplier" => multiplier = Some(parse_small(kw, "multiplier", val)?),
            "align" => align = Some(parse_small(kw, "align", val)?),
            "bitmask" => bitmask = Some(parse_bitmask(kw, val)?),
            _ => return err(kw, format!("unknown \"{kw}\" option \"{}\"", snippet(k))),
        }
    }
    Ok(ByteExtract {
        bytes,
        offset,
        name: items[2].to_string(),
        flags,
        multiplier,
        align,
        bitmask,
    })
}

fn parse_byte_math(kw: &str, v: &str) -> PResult<ByteMath> {
    let items = comma_list(kw, v)?;
    let (mut bytes, mut offset, mut oper, mut rvalue, mut result) = (None, None, None, None, None);
    let mut flags = Vec::new();
    let mut bitmask = None;
    for (k, val) in key_values(kw, &items)? {
        match (k, val) {
            ("bytes", v) => bytes = Some(parse_num(kw, v)?),
            ("offset", v) => offset = parse_i64(v),
            ("oper", v) if matches!(v, "+" | "-" | "*" | "/" | "<<" | ">>") => {
                oper = Some(v.to_string())
            }
            ("rvalue", v) => rvalue = Some(parse_num(kw, v)?),
            ("result", v) if is_ident(v) => result = Some(v.to_string()),
            ("relative" | "dce", "") => flags.push(k.to_string()),
            ("endian" | "string", v) if !v.is_empty() => flags.push(format!("{k} {v}")),
            ("bitmask", v) => bitmask = Some(parse_bitmask(kw, v)?),
            _ => {
                return err(
                    kw,
                    format!(
                        "invalid byte_math option \"{} {}\"",
                        snippet(k),
                        snippet(val)
                    ),
                )
            }
        }
    }
    match (bytes, offset, oper, rvalue, result) {
        (Some(bytes), Some(offset), Some(oper), Some(rvalue), Some(result)) => Ok(ByteMath {
            bytes,
            offset,
            oper,
            rvalue,
            result,
            flags,
            bitmask,
        }),
        _ => err(kw, "byte_math needs bytes, offset, oper, rvalue and result"),
    }
}

fn parse_isdataat(kw: &str, v: &str) -> PResult<Isdataat> {
    let (negated, v) = match v.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let items = comma_list(kw, v)?;
    let offset = parse_num(kw, items[0])?;
    let (mut relative, mut rawbytes) = (false, false);
    for it in &items[1..] {
        match *it {
            "relative" => relative = true,
            "rawbytes" => rawbytes = true,
            _ => return err(kw, format!("unknown isdataat option \"{}\"", snippet(it))),
        }
    }
    Ok(Isdataat {
        negated,
        offset,
        relative,
        rawbytes,
    })
}

fn parse_transform(canonical: &'static str, kw: &str, v: Option<&str>) -> PResult<Transform> {
    Ok(match canonical {
        "dotprefix" => Transform::Dotprefix,
        "to_lowercase" => Transform::ToLowercase,
        "to_uppercase" => Transform::ToUppercase,
        "to_md5" => Transform::ToMd5,
        "to_sha1" => Transform::ToSha1,
        "to_sha256" => Transform::ToSha256,
        "strip_whitespace" => Transform::StripWhitespace,
        "compress_whitespace" => Transform::CompressWhitespace,
        "url_decode" => Transform::UrlDecode,
        "header_lowercase" => Transform::HeaderLowercase,
        "strip_pseudo_headers" => Transform::StripPseudoHeaders,
        "domain" => Transform::Domain,
        "tld" => Transform::Tld,
        "pcrexform" => {
            let Some(v) = v else {
                return err(kw, "pcrexform needs a quoted regex");
            };
            Transform::Pcrexform(unquote(kw, v)?.to_string())
        }
        "xor" => {
            let Some(v) = v else {
                return err(kw, "xor needs a quoted hex key");
            };
            let key = unquote(kw, v)?;
            if key.is_empty() || key.len() % 2 != 0 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                return err(kw, format!("invalid xor key \"{}\"", snippet(key)));
            }
            let bytes = (0..key.len())
                .step_by(2)
                .filter_map(|i| key.get(i..i + 2))
                .filter_map(|h| u8::from_str_radix(h, 16).ok())
                .collect();
            Transform::Xor(bytes)
        }
        other => Transform::Other(other, v.map(String::from)),
    })
}

/// Parses one option's value into its typed form. `canonical` and `kind` come from the
/// keyword table; `kw` is the keyword as written (lower-cased) for messages.
pub(crate) fn parse_option_value(
    canonical: &'static str,
    kind: Kind,
    kw: &str,
    value: Option<&str>,
) -> PResult<OptionValue> {
    match kind {
        Kind::NoValue | Kind::Sticky(_) | Kind::Modifier(_) | Kind::Transform => {
            if let Some(v) = value {
                return err(
                    kw,
                    format!(
                        "\"{kw}\" takes no value, got \"{}\"{}",
                        snippet(v),
                        missing_semicolon_hint(v)
                    ),
                );
            }
        }
        Kind::Value => {
            if value.is_none() {
                return err(kw, format!("\"{kw}\" needs a value"));
            }
        }
        Kind::OptValue | Kind::TransformValue => {}
    }
    match kind {
        Kind::Sticky("pkt_data") => return Ok(OptionValue::StickyBuffer(Buffer::Payload)),
        Kind::Sticky(b) => return Ok(OptionValue::StickyBuffer(Buffer::Sticky(b))),
        Kind::Modifier(b) => return Ok(OptionValue::ContentModifier(Buffer::Sticky(b))),
        Kind::Transform | Kind::TransformValue => {
            return parse_transform(canonical, kw, value).map(OptionValue::Transform)
        }
        _ => {}
    }
    let v = value.unwrap_or("");
    Ok(match canonical {
        "msg" => OptionValue::Msg(unescape_lenient(unquote_opt(kw, v)?)),
        "sid" => {
            let n = parse_u32_kw(kw, v)?;
            if n == 0 {
                return err(kw, "sid 0 is not allowed");
            }
            OptionValue::Sid(n)
        }
        "rev" => OptionValue::Rev(parse_u32_kw(kw, v)?),
        "gid" => OptionValue::Gid(parse_u32_kw(kw, v)?),
        "classtype" => {
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return err(
                    kw,
                    format!(
                        "invalid classtype \"{}\"{}",
                        snippet(v),
                        missing_semicolon_hint(v)
                    ),
                );
            }
            OptionValue::Classtype(v.to_string())
        }
        "priority" => match parse_u64(v) {
            Some(n @ 1..=255) => OptionValue::Priority(n as u8),
            _ => {
                return err(
                    kw,
                    format!(
                        "invalid priority \"{}\": expected 1 to 255{}",
                        snippet(v),
                        missing_semicolon_hint(v)
                    ),
                )
            }
        },
        "reference" => match v.split_once(',') {
            Some((k, val)) if !k.trim().is_empty() && !val.trim().is_empty() => {
                OptionValue::Reference(Reference {
                    kind: k.trim().to_string(),
                    value: val.trim().to_string(),
                })
            }
            _ => {
                return err(
                    kw,
                    format!(
                        "invalid reference \"{}\": expected \"type,value\"",
                        snippet(v)
                    ),
                )
            }
        },
        "metadata" => OptionValue::Metadata(
            v.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| match e.split_once(char::is_whitespace) {
                    Some((k, val)) => (k.to_string(), val.trim().to_string()),
                    None => (e.to_string(), String::new()),
                })
                .collect(),
        ),
        "target" => OptionValue::Target(match v {
            "src_ip" => Target::SrcIp,
            "dest_ip" => Target::DestIp,
            _ => {
                return err(
                    kw,
                    format!(
                        "invalid target \"{}\": expected src_ip or dest_ip",
                        snippet(v)
                    ),
                )
            }
        }),
        "tag" => {
            let items = comma_list(kw, v)?;
            let kind = items[0].to_string();
            if !matches!(kind.as_str(), "host" | "session") {
                return err(
                    kw,
                    format!(
                        "invalid tag type \"{}\": expected host or session",
                        snippet(&kind)
                    ),
                );
            }
            let count = match items.get(1) {
                Some(c) => Some(parse_small::<u32>(kw, "count", c)?),
                None => None,
            };
            OptionValue::Tag(Tag {
                kind,
                count,
                metric: items.get(2).map(|s| s.to_string()),
                direction: items.get(3).map(|s| s.to_string()),
            })
        }
        "noalert" => OptionValue::Noalert,
        "content" | "uricontent" => {
            let (negated, v) = match v.strip_prefix('!') {
                Some(r) => (true, r.trim_start()),
                None => (false, v),
            };
            let inner = unquote(kw, v)?;
            OptionValue::Content(Content {
                pattern: parse_content_bytes(kw, inner)?,
                negated,
                ..Content::default()
            })
        }
        "tls.subject" | "tls.issuerdn" | "tls.fingerprint" => {
            // Suricata: quotes mandatory, `!` before them negates; the subject and issuer
            // match as a case-sensitive substring (strstr), the fingerprint ignoring case.
            let (negated, v) = match v.strip_prefix('!') {
                Some(r) => (true, r.trim_start()),
                None => (false, v),
            };
            let inner = unquote(kw, v)?;
            if inner.is_empty() {
                return err(kw, format!("\"{kw}\" needs a non-empty value"));
            }
            let buffer = match canonical {
                "tls.subject" => "tls.cert_subject",
                "tls.issuerdn" => "tls.cert_issuer",
                _ => "tls.cert_fingerprint",
            };
            OptionValue::BufferContent {
                buffer: Buffer::Sticky(buffer),
                content: Content {
                    pattern: inner.as_bytes().to_vec(),
                    negated,
                    nocase: canonical == "tls.fingerprint",
                    ..Content::default()
                },
            }
        }
        "nocase" => OptionValue::Nocase,
        "rawbytes" => OptionValue::Rawbytes,
        "depth" => OptionValue::Depth(parse_num(kw, v)?),
        "offset" => OptionValue::Offset(parse_num(kw, v)?),
        "distance" => OptionValue::Distance(parse_num(kw, v)?),
        "within" => OptionValue::Within(parse_num(kw, v)?),
        "startswith" => OptionValue::StartsWith,
        "endswith" => OptionValue::EndsWith,
        "fast_pattern" => OptionValue::FastPattern(parse_fast_pattern(kw, value)?),
        "bsize" => OptionValue::Bsize(parse_int_match(kw, v)?),
        "dsize" => OptionValue::Dsize(parse_int_match(kw, v)?),
        "urilen" => {
            let (cmp, raw) = match v.rsplit_once(',') {
                Some((c, "raw")) => (c, true),
                Some((c, "norm")) => (c, false),
                _ => (v, false),
            };
            OptionValue::Urilen {
                cmp: parse_int_match(kw, cmp)?,
                raw,
            }
        }
        "ttl" | "itype" | "icode" | "id" | "icmp_id" | "icmp_seq" | "tcp.window" | "tcp.mss"
        | "fragoffset" | "tls.cert_chain_len" => OptionValue::Int(parse_int_match(kw, v)?),
        "pcre" => OptionValue::Pcre(parse_pcre(kw, v)?),
        "flow" => OptionValue::Flow(parse_flow(kw, v)?),
        "flowbits" => OptionValue::Flowbits(parse_flowbits(kw, v)?),
        "xbits" => OptionValue::Xbits(parse_xbits(kw, v)?),
        "threshold" => OptionValue::Threshold(parse_threshold(kw, v)?),
        "detection_filter" => OptionValue::DetectionFilter(parse_detection_filter(kw, v)?),
        "iprep" => OptionValue::Iprep(parse_iprep(kw, v)?),
        "dataset" => OptionValue::Dataset(parse_dataset(kw, v)?),
        "datarep" => OptionValue::Datarep(parse_datarep(kw, v)?),
        "byte_test" => OptionValue::ByteTest(parse_byte_test(kw, v)?),
        "byte_jump" => OptionValue::ByteJump(parse_byte_jump(kw, v)?),
        "byte_extract" => OptionValue::ByteExtract(parse_byte_extract(kw, v)?),
        "byte_math" => OptionValue::ByteMath(parse_byte_math(kw, v)?),
        "isdataat" => OptionValue::Isdataat(parse_isdataat(kw, v)?),
        "app-layer-protocol" => {
            let (negated, rest) = match v.strip_prefix('!') {
                Some(r) => (true, r.trim()),
                None => (false, v),
            };
            let (protocol, mode) = match rest.split_once(',') {
                Some((p, m)) => (p.trim(), Some(m.trim().to_string())),
                None => (rest, None),
            };
            if protocol.is_empty() || protocol.contains(char::is_whitespace) {
                return err(kw, format!("invalid app-layer-protocol \"{}\"", snippet(v)));
            }
            OptionValue::AppLayerProtocol {
                negated,
                protocol: protocol.to_string(),
                mode,
            }
        }
        "app-layer-event" => {
            if v.contains(char::is_whitespace) {
                return err(
                    kw,
                    format!(
                        "invalid app-layer-event \"{}\"{}",
                        snippet(v),
                        missing_semicolon_hint(v)
                    ),
                );
            }
            OptionValue::AppLayerEvent(v.to_string())
        }
        "ssl_state" | "ssl_version" | "tls.version" => {
            let items: Vec<String> = v.split([',', '|']).map(|s| s.trim().to_string()).collect();
            if items
                .iter()
                .any(|i| i.is_empty() || i.contains(char::is_whitespace))
            {
                return err(kw, format!("invalid \"{kw}\" value \"{}\"", snippet(v)));
            }
            OptionValue::NameList(items)
        }
        "stream_size" => {
            let items = comma_list(kw, v)?;
            let (Some(side), Some(op), Some(val)) = (items.first(), items.get(1), items.get(2))
            else {
                return err(kw, "stream_size needs side, operator and value");
            };
            if !matches!(*side, "server" | "client" | "both" | "either") {
                return err(
                    kw,
                    format!("invalid stream_size side \"{}\"", snippet(side)),
                );
            }
            let Some(op) = CmpOp::parse(op) else {
                return err(
                    kw,
                    format!("invalid stream_size operator \"{}\"", snippet(op)),
                );
            };
            OptionValue::StreamSize {
                side: side.to_string(),
                op,
                value: parse_small(kw, "value", val)?,
            }
        }
        "lua" => {
            let (negated, script) = match v.strip_prefix('!') {
                Some(r) => (true, r.trim()),
                None => (false, v),
            };
            OptionValue::Lua {
                negated,
                script: script.to_string(),
            }
        }
        "base64_decode" => {
            let (mut bytes, mut offset, mut relative) = (None, None, false);
            if let Some(v) = value {
                for (k, val) in key_values(kw, &comma_list(kw, v)?)? {
                    match (k, val) {
                        ("bytes", n) => bytes = Some(parse_small(kw, "bytes", n)?),
                        ("offset", n) => offset = Some(parse_small(kw, "offset", n)?),
                        ("relative", "") => relative = true,
                        _ => {
                            return err(
                                kw,
                                format!("unknown base64_decode option \"{}\"", snippet(k)),
                            )
                        }
                    }
                }
            }
            OptionValue::Base64Decode {
                bytes,
                offset,
                relative,
            }
        }
        "flowint" => {
            let items = comma_list(kw, v)?;
            if items.len() < 2 || !is_ident(items[0]) {
                return err(kw, format!("invalid flowint \"{}\"", snippet(v)));
            }
            OptionValue::Flowint {
                name: items[0].to_string(),
                op: items[1].to_string(),
                value: items.get(2).map(|s| s.to_string()),
            }
        }
        "ip_proto" => {
            let (op, proto) = match v.chars().next() {
                Some(c @ ('!' | '<' | '>')) => (Some(c), v[1..].trim()),
                _ => (None, v),
            };
            if proto.is_empty() || !proto.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return err(kw, format!("invalid ip_proto \"{}\"", snippet(v)));
            }
            OptionValue::IpProto {
                op,
                proto: proto.to_string(),
            }
        }
        _ => OptionValue::Generic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(parse_address_spec("any"), Ok(AddrSpec::Any));
        assert_eq!(
            parse_address_spec("$HOME_NET"),
            Ok(AddrSpec::Var("HOME_NET".into()))
        );
        assert!(matches!(
            parse_address_spec("!$HOME_NET"),
            Ok(AddrSpec::Not(b)) if *b == AddrSpec::Var("HOME_NET".into())
        ));
        let l = parse_address_spec("[10.0.0.0/8, ![10.1.0.0/16,10.2.0.1], 2001:db8::/32]").unwrap();
        let AddrSpec::List(items) = l else {
            panic!("not a list")
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(items[1], AddrSpec::Not(_)));
        assert_eq!(
            parse_address_spec("10.0.0.0/255.255.0.0"),
            Ok(AddrSpec::Net(IpNet {
                addr: "10.0.0.0".parse().unwrap(),
                prefix: 16
            }))
        );
        assert!(matches!(
            parse_address_spec("1.2.3.4-1.2.3.9"),
            Ok(AddrSpec::Range(_, _))
        ));
        for bad in [
            "1.2.3",
            "1.2.3.4/33",
            "[1.2.3.4",
            "!any",
            "[]",
            "[1.1.1.1,,2.2.2.2]",
            "$",
            "::1/129",
            "1.2.3.9-1.2.3.4",
            "10.0.0.0/255.0.255.0",
            "foo",
        ] {
            assert!(parse_address_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(parse_port_spec("any"), Ok(PortSpec::Any));
        assert_eq!(parse_port_spec("80"), Ok(PortSpec::Port(80)));
        assert_eq!(parse_port_spec("1024:"), Ok(PortSpec::Range(1024, 65535)));
        assert_eq!(parse_port_spec(":1023"), Ok(PortSpec::Range(0, 1023)));
        assert_eq!(
            parse_port_spec("[80,!443, 8000:8080,$HTTP_PORTS]").map(|p| match p {
                PortSpec::List(l) => l.len(),
                _ => 0,
            }),
            Ok(4)
        );
        for bad in [
            "65536", "80:79", ":", "[80", "!any", "http", "-1", "1:2:3", "[80,]",
        ] {
            assert!(parse_port_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn option_splitting_follows_suricata_escapes() {
        let opts = split_options(r#"msg:"a\;b"; content:"x\"y"; nocase; sid:1;"#).unwrap();
        let names: Vec<_> = opts.iter().map(|o| o.name).collect();
        assert_eq!(names, ["msg", "content", "nocase", "sid"]);
        assert_eq!(opts[0].value, Some(r#""a\;b""#));
        let e = split_options(r#"msg:"x"; sid:1"#).err().unwrap();
        assert_eq!(e.keyword.as_deref(), Some("sid"));
        assert!(e.message.contains("missing ';'"), "{}", e.message);
    }

    #[test]
    fn content_bytes() {
        assert_eq!(
            parse_content_bytes("content", r#"uid=0|28|root|29 0d0a|\;\"\\\:"#).unwrap(),
            b"uid=0(root)\r\n;\"\\:".to_vec()
        );
        for bad in ["|4|", "|zz|", "a|41", r"a\n", "a\"b", r"a\", ""] {
            assert!(parse_content_bytes("content", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn int_matches() {
        let p = |s| parse_int_match("bsize", s);
        assert_eq!(p("10"), Ok(IntMatch::Eq(10)));
        assert_eq!(p("<10"), Ok(IntMatch::Lt(10)));
        assert_eq!(p(">= 3"), Ok(IntMatch::Ge(3)));
        assert_eq!(p("!0"), Ok(IntMatch::Ne(0)));
        assert_eq!(p("5<>10"), Ok(IntMatch::Range(5, 10)));
        assert_eq!(p("5-10"), Ok(IntMatch::Range(5, 10)));
        assert!(IntMatch::Range(5, 10).matches(6) && !IntMatch::Range(5, 10).matches(5));
        for bad in ["", "x", "10<>5", "<", "5<>", "1.5"] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pcre_forms() {
        let p = parse_pcre("pcre", r#""/a\/b;c/Ui""#).unwrap();
        assert_eq!(p.pattern, r"a\/b;c");
        assert!(p.caseless);
        assert_eq!(p.buffer_flag, Some(('U', "http.uri")));
        let p = parse_pcre("pcre", r#"!"/x/R""#).unwrap();
        assert!(p.negated && p.relative);
        for bad in [r#""/x/q""#, r#""x""#, r#"/x/"#, r#""/x""#, r#""/x/UH""#] {
            assert!(parse_pcre("pcre", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sid_missing_semicolon_message() {
        let e = parse_option_value("sid", Kind::Value, "sid", Some("100000001 rev:1")).unwrap_err();
        assert_eq!(
            e.message,
            "missing ';' after \"sid:100000001\" (before \"rev:1\")"
        );
    }

    #[test]
    fn threshold_and_friends() {
        let t =
            parse_threshold("threshold", "type limit, track by_src, count 1, seconds 60").unwrap();
        assert_eq!(t.kind, ThresholdType::Limit);
        assert_eq!((t.count, t.seconds), (1, 60));
        assert!(parse_threshold("threshold", "type limit, track by_src, count 1").is_err());
        assert!(
            parse_threshold("threshold", "type often, track by_src, count 1, seconds 1").is_err()
        );
        let f = parse_flowbits("flowbits", "isnotset, fb1|fb2 ").unwrap();
        assert_eq!(f.group, BitsGroup::Any);
        assert_eq!(f.names, ["fb1", "fb2"]);
        assert!(parse_flowbits("flowbits", "set").is_err());
        assert!(parse_flowbits("flowbits", "frob,x").is_err());
        let d = parse_dataset(
            "dataset",
            "isset,ipv4-list,type ipv4,load datasets-ipv4.csv",
        )
        .unwrap();
        assert_eq!(d.data_type, Some(DataType::Ipv4));
        let r = parse_datarep("datarep", "dns_md5, >, 200, load dns_md5.rep, type md5").unwrap();
        assert_eq!((r.op, r.value), (CmpOp::Gt, 200));
        let i = parse_iprep("iprep", "src,CnC,>,30").unwrap();
        assert_eq!(i.cmp, Some((CmpOp::Gt, 30)));
        assert!(parse_iprep("iprep", "src,CnC,>,300").is_err());
    }
}
