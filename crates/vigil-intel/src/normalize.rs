//! Canonical forms of indicator values.
//!
//! Every indicator that leaves this crate holds its value in the form produced here, and matching
//! engines compare observed traffic against those strings after running the observed value
//! through the same function. All functions are total: they return an error for anything they do
//! not understand and never panic.
//!
//! | type | canonical form |
//! | --- | --- |
//! | ip | `std` display form: `1.2.3.4`, compressed IPv6 `2001:db8::1`; IPv4-mapped IPv6 stays IPv6 (`::ffff:1.2.3.4`) |
//! | cidr | network address with host bits cleared and the prefix length: `10.0.0.0/8` |
//! | domain | lower-case ASCII (IDNA/punycode), no trailing dot, at least two labels |
//! | url | scheme-less `host[:port]/path[?query]` (see [`url`]) |
//! | md5, sha1, sha256, ja3, ja3s | lower-case hex of the exact length |
//! | ja4 | lower-case `t13d1516h2_8daaf6152771_b186095e22b6` |
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vigil_model::IndicatorType;

/// Why a value could not be normalised. Messages are lower-case and quote (a prefix of) the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormError {
    #[error("empty value")]
    Empty,
    #[error("invalid ip address {value:?}: expected an ipv4 or ipv6 address")]
    Ip { value: String },
    #[error("invalid cidr {value:?}: {reason}")]
    Cidr { value: String, reason: &'static str },
    #[error("invalid domain {value:?}: {reason}")]
    Domain { value: String, reason: String },
    #[error("invalid url {value:?}: {reason}")]
    Url { value: String, reason: String },
    #[error("invalid {kind} value {value:?}: expected {expected} hex digits")]
    Hex {
        kind: IndicatorType,
        value: String,
        expected: usize,
    },
    #[error("invalid hash {value:?}: expected 32 (md5), 40 (sha1) or 64 (sha256) hex digits")]
    Hash { value: String },
    #[error(
        "invalid ja4 fingerprint {value:?}: expected the form t13d1516h2_8daaf6152771_b186095e22b6"
    )]
    Ja4 { value: String },
    #[error(
        "unrecognised indicator {value:?}: not an ip, cidr, url, domain, md5/sha1/sha256 hash or ja4"
    )]
    Unrecognised { value: String },
}

/// A short, quotable prefix of a value for error messages (at most 100 characters).
pub(crate) fn snippet(s: &str) -> String {
    const MAX: usize = 100;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn domain_err(value: &str, reason: impl Into<String>) -> NormError {
    NormError::Domain {
        value: snippet(value),
        reason: reason.into(),
    }
}

fn url_err(value: &str, reason: impl Into<String>) -> NormError {
    NormError::Url {
        value: snippet(value),
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Refanging

/// Undoes common "defanging": `hxxp://`, `hxxps://`, `fxp://` (any case) at the start, and the
/// bracketed forms `[.]` `(.)` `{.}` `[dot]` `(dot)` `{dot}` → `.`, `[:]` → `:`, `[://]` → `://`,
/// `[at]` `[@]` `(at)` → `@` anywhere. Returns the input unchanged (borrowed) when there is
/// nothing to undo, which is the common case.
pub fn refang(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let scheme = match bytes.first() {
        Some(b'h' | b'H' | b'f' | b'F') => defanged_scheme(bytes),
        _ => None,
    };
    let has_brackets = memchr::memchr3(b'[', b'(', b'{', bytes).is_some();
    if scheme.is_none() && !has_brackets {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    if let Some((skip, replacement)) = scheme {
        out.push_str(replacement);
        rest = &s[skip..];
    }
    if !has_brackets {
        out.push_str(rest);
        return Cow::Owned(out);
    }
    let rb = rest.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < rb.len() {
        let b = rb[i];
        if matches!(b, b'[' | b'(' | b'{') {
            if let Some((len, rep)) = bracket_token(&rb[i..]) {
                out.push_str(&rest[copied..i]);
                out.push_str(rep);
                i += len;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&rest[copied..]);
    Cow::Owned(out)
}

/// Recognises a defanged scheme at the start; returns (bytes to skip, replacement).
fn defanged_scheme(b: &[u8]) -> Option<(usize, &'static str)> {
    const TABLE: [(&[u8], &str); 5] = [
        (b"hxxps", "https"),
        (b"hxxp", "http"),
        (b"hxps", "https"),
        (b"fxps", "ftps"),
        (b"fxp", "ftp"),
    ];
    for (pat, rep) in TABLE {
        if b.len() > pat.len() && b[..pat.len()].eq_ignore_ascii_case(pat) {
            // Only a scheme if followed by "://", "[:]//" or "[://]".
            let rest = &b[pat.len()..];
            let sep = rest.starts_with(b"://")
                || match bracket_token(rest) {
                    Some((len, ":")) => rest[len..].starts_with(b"//"),
                    Some((_, "://")) => true,
                    _ => false,
                };
            if sep {
                return Some((pat.len(), rep));
            }
        }
    }
    None
}

/// A bracketed defang token at the start of `b`: (its length, its replacement).
fn bracket_token(b: &[u8]) -> Option<(usize, &'static str)> {
    let close = match b.first()? {
        b'[' => b']',
        b'(' => b')',
        b'{' => b'}',
        _ => return None,
    };
    const INNER: [(&[u8], &str); 6] = [
        (b".", "."),
        (b"dot", "."),
        (b"://", "://"),
        (b":", ":"),
        (b"at", "@"),
        (b"@", "@"),
    ];
    for (pat, rep) in INNER {
        let end = 1 + pat.len();
        if b.len() > end && b[1..end].eq_ignore_ascii_case(pat) && b[end] == close {
            return Some((end + 1, rep));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// IP addresses and networks

fn strip_v6_brackets(s: &str) -> &str {
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s)
}

/// Parses an IPv4 or IPv6 address (surrounding whitespace, defanging and `[v6]` brackets are
/// accepted). Leading zeros in IPv4 octets are rejected as ambiguous (octal in some parsers).
pub fn ip(s: &str) -> Result<IpAddr, NormError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    let r = refang(t);
    strip_v6_brackets(&r)
        .parse::<IpAddr>()
        .map_err(|_| NormError::Ip { value: snippet(t) })
}

/// The canonical text of an address (`Display` of std: compressed IPv6).
pub fn ip_string(ip: IpAddr) -> String {
    ip.to_string()
}

/// Parses `addr/len` and clears the host bits: `10.1.2.3/8` → `(10.0.0.0, 8)`.
pub fn cidr(s: &str) -> Result<(IpAddr, u8), NormError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    let r = refang(t);
    let err = |reason| NormError::Cidr {
        value: snippet(t),
        reason,
    };
    let (addr, len) = r
        .split_once('/')
        .ok_or_else(|| err("expected address/prefix-length"))?;
    let addr: IpAddr = strip_v6_brackets(addr.trim())
        .parse()
        .map_err(|_| err("expected an ipv4 or ipv6 network address before '/'"))?;
    let len = len.trim();
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("expected a decimal prefix length after '/'"));
    }
    let len: u8 = len
        .parse()
        .map_err(|_| err("expected a decimal prefix length after '/'"))?;
    match addr {
        IpAddr::V4(a) => {
            if len > 32 {
                return Err(err("prefix length must be at most 32 for ipv4"));
            }
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            Ok((IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask)), len))
        }
        IpAddr::V6(a) => {
            if len > 128 {
                return Err(err("prefix length must be at most 128 for ipv6"));
            }
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            Ok((IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask)), len))
        }
    }
}

/// Canonical text of a network: `10.0.0.0/8`, `2001:db8::/32`.
pub fn cidr_string(addr: IpAddr, len: u8) -> String {
    format!("{addr}/{len}")
}

/// Whether `len` covers the whole address (a /32 for IPv4, /128 for IPv6).
pub fn is_host_prefix(addr: IpAddr, len: u8) -> bool {
    match addr {
        IpAddr::V4(_) => len == 32,
        IpAddr::V6(_) => len == 128,
    }
}

/// Canonical text of an address that is already known to parse. An IPv4 address that `std`
/// accepted is already canonical (no leading zeros are accepted), so it is copied as is.
fn canonical_ip_text(text: &str, ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(_) if !text.starts_with('[') => text.to_string(),
        _ => ip.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Domains

/// Normalises a DNS name: trim, refang, strip one trailing dot and a leading `*.` wildcard (a
/// domain indicator already covers subdomains), lower-case, IDNA → punycode, then validate:
/// labels of 1–63 characters from `[a-z0-9_-]`, total length ≤ 253, at least two labels, and a
/// last label that is not all digits (that would be an IP address or garbage).
pub fn domain(s: &str) -> Result<String, NormError> {
    domain_impl(s, false)
}

fn domain_impl(s: &str, allow_single_label: bool) -> Result<String, NormError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    let r = refang(t);
    domain_refanged(t, r.trim(), allow_single_label)
}

/// [`domain`] on input that is already trimmed and refanged; `shown` is quoted in errors.
fn domain_refanged(shown: &str, d: &str, allow_single_label: bool) -> Result<String, NormError> {
    let mut d = d;
    if let Some(x) = d.strip_suffix('.') {
        d = x;
    }
    if let Some(x) = d.strip_prefix("*.") {
        d = x;
    }
    if d.is_empty() {
        return Err(domain_err(shown, "expected a name"));
    }
    let out = if d.is_ascii() {
        // Plain ASCII: UTS 46 would only lower-case it (valid punycode labels re-encode to
        // themselves), so skip the IDNA machinery; invalid characters are caught below.
        d.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(d).map_err(|_| {
            domain_err(
                shown,
                "not a valid internationalised domain name (idna conversion failed)",
            )
        })?
    };
    validate_domain(&out, allow_single_label).map_err(|reason| domain_err(shown, reason))?;
    Ok(out)
}

fn check_label(d: &str, start: usize, end: usize) -> Result<(), String> {
    let len = end - start;
    if len == 0 {
        return Err("empty label (consecutive, leading or extra trailing dot)".to_string());
    }
    if len > 63 {
        return Err(format!(
            "label {:?} is {len} characters long, at most 63 allowed",
            snippet(&d[start..end]),
        ));
    }
    Ok(())
}

/// Validates a lower-case ASCII name in one pass; returns the reason on failure.
fn validate_domain(d: &str, allow_single_label: bool) -> Result<(), String> {
    let b = d.as_bytes();
    if b.len() > 253 {
        return Err(format!(
            "name is {} characters long, at most 253 allowed",
            b.len()
        ));
    }
    let mut labels = 1usize;
    let mut start = 0usize;
    let mut digits_only = true;
    for (i, &c) in b.iter().enumerate() {
        if c == b'.' {
            check_label(d, start, i)?;
            labels += 1;
            start = i + 1;
            digits_only = true;
        } else if c.is_ascii_digit() {
        } else if c.is_ascii_lowercase() || c == b'-' || c == b'_' {
            digits_only = false;
        } else {
            let shown = if c.is_ascii_graphic() {
                format!("{:?}", c as char)
            } else {
                format!("byte 0x{c:02x}")
            };
            return Err(format!(
                "character {shown} not allowed (expected letters, digits, '-', '_' and '.')"
            ));
        }
    }
    check_label(d, start, b.len())?;
    if labels < 2 && !allow_single_label {
        return Err("expected at least two labels (single-label names are not indicators)".into());
    }
    if digits_only {
        return Err("last label is numeric (not a domain name; an ip address?)".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// URLs

/// Position of the first `://`.
fn find_scheme_sep(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    memchr::memchr_iter(b':', b).find(|&i| b[i + 1..].starts_with(b"//"))
}

fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphabetic()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Normalises a URL to the scheme-less key `host[:port]/path[?query]` used for matching:
///
/// * trim and refang; the scheme (if any) is lower-cased, used to drop its default port (80 for
///   http/ws, 443 for https/wss, 21 for ftp) and then removed; input without a scheme
///   (`evil.com/a`) is accepted and its port is kept as given;
/// * user information (`user:pass@`) is dropped — it never reaches the wire in HTTP;
/// * the host is lower-cased and IDNA-encoded (or is an IPv4 address, or `[ipv6]`);
/// * the fragment is removed, an empty query (`?` alone) is removed;
/// * percent-encoding: escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded,
///   other escapes get upper-case hex digits, a `%` not starting an escape becomes `%25`, and
///   spaces, controls, non-ASCII bytes and `" < > \` { }` are percent-encoded;
/// * `.` and `..` path segments are resolved; an empty path becomes `/`; path case is kept.
pub fn url(s: &str) -> Result<String, NormError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    let r = refang(t);
    let r: &str = r.trim();
    // Scheme.
    let (scheme, rest) = match find_scheme_sep(r) {
        Some(i) if is_scheme(&r[..i]) => (Some(r[..i].to_ascii_lowercase()), &r[i + 3..]),
        _ => (None, r.strip_prefix("//").unwrap_or(r)),
    };
    // Fragment.
    let rest = match memchr::memchr(b'#', rest.as_bytes()) {
        Some(i) => &rest[..i],
        None => rest,
    };
    // Authority ends at the first '/' or '?'.
    let auth_end = memchr::memchr2(b'/', b'?', rest.as_bytes()).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    let tail = &rest[auth_end..];
    let (path, query) = match memchr::memchr(b'?', tail.as_bytes()) {
        Some(i) => (&tail[..i], Some(&tail[i + 1..])),
        None => (tail, None),
    };
    // Authority: drop userinfo, split host and port.
    let hostport = match memchr::memrchr(b'@', authority.as_bytes()) {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    if hostport.is_empty() {
        return Err(url_err(t, "expected a host"));
    }
    let (host_text, port_text) = if let Some(after_bracket) = hostport.strip_prefix('[') {
        let close = after_bracket
            .find(']')
            .ok_or_else(|| url_err(t, "expected ']' to close the ipv6 host"))?;
        let after = &after_bracket[close + 1..];
        let port = if after.is_empty() {
            None
        } else if let Some(p) = after.strip_prefix(':') {
            Some(p)
        } else {
            return Err(url_err(t, "expected ':port' or a path after the ipv6 host"));
        };
        (&hostport[..close + 2], port)
    } else {
        match memchr::memrchr(b':', hostport.as_bytes()) {
            Some(i) => (&hostport[..i], Some(&hostport[i + 1..])),
            None => (hostport, None),
        }
    };
    let mut out = String::with_capacity(r.len() + 8);
    push_host(&mut out, host_text).map_err(|reason| url_err(t, reason))?;
    if let Some(p) = port_text.filter(|p| !p.is_empty()) {
        if p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(url_err(
                t,
                format!("invalid port {:?}: expected 0–65535", snippet(p)),
            ));
        }
        let port: u16 = p
            .parse()
            .map_err(|_| url_err(t, format!("invalid port {p:?}: expected 0–65535")))?;
        if scheme.as_deref().and_then(default_port) != Some(port) {
            out.push(':');
            out.push_str(&port.to_string());
        }
    }
    let path_start = out.len();
    if path.is_empty() {
        out.push('/');
    } else {
        push_escaped(&mut out, path);
        remove_dot_segments(&mut out, path_start);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        push_escaped(&mut out, q);
    }
    Ok(out)
}

/// Appends the canonical host; returns the reason on failure.
fn push_host(out: &mut String, host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("expected a host".into());
    }
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        let a: Ipv6Addr = inner
            .parse()
            .map_err(|_| format!("invalid ipv6 host {:?}", snippet(host)))?;
        out.push('[');
        out.push_str(&a.to_string());
        out.push(']');
        return Ok(());
    }
    if let Ok(a) = host.parse::<Ipv4Addr>() {
        out.push_str(&a.to_string());
        return Ok(());
    }
    match domain_impl(host, true) {
        Ok(d) => {
            out.push_str(&d);
            Ok(())
        }
        Err(NormError::Domain { reason, .. }) => {
            Err(format!("invalid host {:?}: {reason}", snippet(host)))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn push_pct(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX_UPPER[usize::from(b >> 4)] as char);
    out.push(HEX_UPPER[usize::from(b & 15)] as char);
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends a path or query with normalised percent-encoding (see [`url`]). Output is ASCII.
fn push_escaped(out: &mut String, s: &str) {
    let b = s.as_bytes();
    let mut i = 0;
    let mut run = 0;
    while i < b.len() {
        let c = b[i];
        let special = c == b'%'
            || c <= 0x20
            || c >= 0x7f
            || matches!(c, b'"' | b'<' | b'>' | b'`' | b'{' | b'}');
        if !special {
            i += 1;
            continue;
        }
        // A non-empty run consists of plain ASCII bytes, so it starts and ends on character
        // boundaries (an empty one may sit inside a multi-byte character being escaped).
        if run < i {
            out.push_str(&s[run..i]);
        }
        if c == b'%' {
            match (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            ) {
                (Some(h), Some(l)) => {
                    let v = h * 16 + l;
                    if is_unreserved(v) {
                        out.push(v as char);
                    } else {
                        push_pct(out, v);
                    }
                    i += 3;
                }
                _ => {
                    out.push_str("%25");
                    i += 1;
                }
            }
        } else {
            push_pct(out, c);
            i += 1;
        }
        run = i;
    }
    if run < b.len() {
        out.push_str(&s[run..]);
    }
}

/// Resolves `.` and `..` segments (RFC 3986 §5.2.4) in `out[start..]`, which begins with '/'.
fn remove_dot_segments(out: &mut String, start: usize) {
    let path = &out[start..];
    let has_dots = path.split('/').any(|seg| seg == "." || seg == "..");
    if !has_dots {
        return;
    }
    let mut segs: Vec<&str> = Vec::new();
    let body = path.strip_prefix('/').unwrap_or(path);
    let mut iter = body.split('/').peekable();
    while let Some(seg) = iter.next() {
        let last = iter.peek().is_none();
        match seg {
            "." => {
                if last {
                    segs.push("");
                }
            }
            ".." => {
                segs.pop();
                if last {
                    segs.push("");
                }
            }
            _ => segs.push(seg),
        }
    }
    let mut resolved = String::with_capacity(path.len());
    resolved.push('/');
    resolved.push_str(&segs.join("/"));
    out.truncate(start);
    out.push_str(&resolved);
}

// ---------------------------------------------------------------------------------------------
// Hashes and fingerprints

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Validates a hex string of exactly `len` digits and lower-cases it.
fn hex_of_len(kind: IndicatorType, s: &str, len: usize) -> Result<String, NormError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    if t.len() == len && is_hex(t) {
        Ok(t.to_ascii_lowercase())
    } else {
        Err(NormError::Hex {
            kind,
            value: snippet(t),
            expected: len,
        })
    }
}

/// Recognises an MD5 (32), SHA-1 (40) or SHA-256 (64) hex digest by its length and lower-cases it.
pub fn hash(s: &str) -> Result<(IndicatorType, String), NormError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    let kind = match t.len() {
        32 => IndicatorType::Md5,
        40 => IndicatorType::Sha1,
        64 => IndicatorType::Sha256,
        _ => return Err(NormError::Hash { value: snippet(t) }),
    };
    if !is_hex(t) {
        return Err(NormError::Hash { value: snippet(t) });
    }
    Ok((kind, t.to_ascii_lowercase()))
}

fn is_ja4(b: &[u8]) -> bool {
    let alnum = |c: u8| c.is_ascii_digit() || c.is_ascii_lowercase();
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    b.len() == 36
        && matches!(b[0], b't' | b'q' | b'd')
        && alnum(b[1])
        && alnum(b[2])
        && matches!(b[3], b'd' | b'i')
        && b[4..8].iter().all(u8::is_ascii_digit)
        && alnum(b[8])
        && alnum(b[9])
        && b[10] == b'_'
        && b[11..23].iter().all(|&c| hex(c))
        && b[23] == b'_'
        && b[24..36].iter().all(|&c| hex(c))
}

/// Validates a JA4 TLS client fingerprint
/// (`[tqd][0-9a-z]{2}[di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}`), lower-casing it first.
pub fn ja4(s: &str) -> Result<String, NormError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    let lower = t.to_ascii_lowercase();
    if is_ja4(lower.as_bytes()) {
        Ok(lower)
    } else {
        Err(NormError::Ja4 { value: snippet(t) })
    }
}

// ---------------------------------------------------------------------------------------------
// Dispatch

/// Normalises a value of a known type. Strict per type: `Ip` must be a single address, `Cidr`
/// always yields `net/len` (a bare address becomes `/32` or `/128`). Use [`normalize_as`] when
/// the type is a hint (feeds often put networks in "ip" columns).
pub fn normalize(kind: IndicatorType, value: &str) -> Result<String, NormError> {
    match kind {
        IndicatorType::Ip => {
            let a = ip(value)?;
            Ok(a.to_string())
        }
        IndicatorType::Cidr => {
            if value.contains('/') {
                let (a, l) = cidr(value)?;
                Ok(cidr_string(a, l))
            } else {
                let a = ip(value)?;
                let l = if a.is_ipv4() { 32 } else { 128 };
                Ok(cidr_string(a, l))
            }
        }
        IndicatorType::Domain => domain(value),
        IndicatorType::Url => url(value),
        IndicatorType::Ja3 | IndicatorType::Ja3s | IndicatorType::Md5 => {
            hex_of_len(kind, value, 32)
        }
        IndicatorType::Sha1 => hex_of_len(kind, value, 40),
        IndicatorType::Sha256 => hex_of_len(kind, value, 64),
        IndicatorType::Ja4 => ja4(value),
    }
}

/// Like [`normalize`], but treats `Ip`/`Cidr` as one family: a value with `/` becomes a `Cidr`
/// (or an `Ip` for a full-length prefix), a bare address an `Ip`, and `ip:port` / `[v6]:port`
/// an `Ip` (port dropped). Returns the type actually produced.
pub fn normalize_as(
    kind: IndicatorType,
    value: &str,
) -> Result<(IndicatorType, String), NormError> {
    match kind {
        IndicatorType::Ip | IndicatorType::Cidr => ip_family(value),
        _ => normalize(kind, value).map(|v| (kind, v)),
    }
}

fn ip_family(value: &str) -> Result<(IndicatorType, String), NormError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(NormError::Empty);
    }
    let r = refang(t);
    let r: &str = &r;
    if memchr::memchr(b'/', r.as_bytes()).is_some() {
        let (a, l) = cidr(r)?;
        return Ok(if is_host_prefix(a, l) {
            (IndicatorType::Ip, a.to_string())
        } else {
            (IndicatorType::Cidr, cidr_string(a, l))
        });
    }
    if let Ok(a) = strip_v6_brackets(r).parse::<IpAddr>() {
        return Ok((IndicatorType::Ip, canonical_ip_text(r, a)));
    }
    if let Some(a) = split_port(r).and_then(|h| strip_v6_brackets(h).parse::<IpAddr>().ok()) {
        return Ok((IndicatorType::Ip, a.to_string()));
    }
    Err(NormError::Ip { value: snippet(t) })
}

/// `host:port` → `host` when the port is 1–5 digits and the host has no other ':' (or is
/// bracketed IPv6).
fn split_port(s: &str) -> Option<&str> {
    let i = memchr::memrchr(b':', s.as_bytes())?;
    let (host, port) = (&s[..i], &s[i + 1..]);
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if host.is_empty() || (host.contains(':') && !(host.starts_with('[') && host.ends_with(']'))) {
        return None;
    }
    Some(host)
}

/// Detects the type of a bare value and returns its canonical form, or `None` when it is none
/// of the supported types. Order: URL (has `scheme://`), CIDR (`addr/len`, or `Ip` for a
/// full-length prefix), URL (`host/…` with a dotted host, an IP or `[v6]`), IP, MD5/SHA-1/
/// SHA-256 (32/40/64 hex digits), JA4, domain. `host:port` without a path is reduced to the host
/// (`1.2.3.4:443` → Ip, `evil.com:8080` → Domain).
pub fn classify(value: &str) -> Option<(IndicatorType, String)> {
    let t = value.trim();
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    // Fast path for the most common feed content: a plain dotted-quad IPv4 address.
    if b.len() <= 15 && b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return t
            .parse::<Ipv4Addr>()
            .ok()
            .map(|_| (IndicatorType::Ip, t.to_string()));
    }
    // Hashes: fixed lengths of pure hex.
    if matches!(b.len(), 32 | 40 | 64) && is_hex(t) {
        return hash(t).ok();
    }
    let r = refang(t);
    let r: &str = &r;
    if let Some(i) = find_scheme_sep(r) {
        if is_scheme(&r[..i]) {
            return url(r).ok().map(|u| (IndicatorType::Url, u));
        }
        return None;
    }
    if let Some(slash) = memchr::memchr(b'/', r.as_bytes()) {
        let head = &r[..slash];
        let tail = &r[slash + 1..];
        if !tail.is_empty() && tail.len() <= 3 && tail.bytes().all(|c| c.is_ascii_digit()) {
            if let Ok(res) = ip_family(r) {
                return Some(res);
            }
        }
        let host = split_port(head).unwrap_or(head);
        let hostish = strip_v6_brackets(host).parse::<IpAddr>().is_ok()
            || (host.contains('.') && domain(host).is_ok());
        if hostish {
            return url(r).ok().map(|u| (IndicatorType::Url, u));
        }
        return None;
    }
    let ip_chars = r
        .bytes()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, b'.' | b':' | b'[' | b']'));
    if ip_chars {
        if let Ok(res) = ip_family(r) {
            return Some(res);
        }
    }
    if b.len() == 36 {
        if let Ok(j) = ja4(r) {
            return Some((IndicatorType::Ja4, j));
        }
    }
    if let Ok(d) = domain_refanged(r, r, false) {
        return Some((IndicatorType::Domain, d));
    }
    if let Some(host) = split_port(r) {
        if let Ok(d) = domain_refanged(host, host, false) {
            return Some((IndicatorType::Domain, d));
        }
    }
    None
}

/// [`classify`] with an error naming the value when nothing matched.
pub fn classify_or_err(value: &str) -> Result<(IndicatorType, String), NormError> {
    classify(value).ok_or_else(|| {
        if value.trim().is_empty() {
            NormError::Empty
        } else {
            NormError::Unrecognised {
                value: snippet(value.trim()),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use IndicatorType as T;

    #[test]
    fn refang_variants() {
        assert!(matches!(refang("evil.com"), Cow::Borrowed(_)));
        assert_eq!(refang("hxxp://evil[.]com/a"), "http://evil.com/a");
        assert_eq!(refang("HXXPS://evil(.)com"), "https://evil.com");
        assert_eq!(refang("fxp://a{.}b"), "ftp://a.b");
        assert_eq!(refang("evil[dot]com"), "evil.com");
        assert_eq!(refang("hxxp[:]//x[.]y"), "http://x.y");
        assert_eq!(refang("http[://]x.y"), "http://x.y");
        assert_eq!(refang("user[at]x.y"), "user@x.y");
        assert_eq!(refang("1[.]2[.]3[.]4"), "1.2.3.4");
        // IPv6 literals and unrelated brackets are untouched.
        assert_eq!(refang("http://[::1]/"), "http://[::1]/");
        assert_eq!(refang("a[b]c"), "a[b]c");
        assert_eq!(refang("[."), "[.");
        assert_eq!(refang("hxxp"), "hxxp");
        assert_eq!(refang("fxp:0/"), "fxp:0/");
        assert_eq!(refang("hxxp:x"), "hxxp:x");
        assert_eq!(url("a@fXP:0").unwrap(), "fxp:0/");
    }

    #[test]
    fn domains() {
        assert_eq!(domain(" Evil.COM. ").unwrap(), "evil.com");
        assert_eq!(domain("evil[.]com").unwrap(), "evil.com");
        assert_eq!(domain("*.evil.com").unwrap(), "evil.com");
        assert_eq!(domain("bücher.example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(domain("BÜCHER.example").unwrap(), "xn--bcher-kva.example");
        assert_eq!(
            domain("xn--bcher-kva.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(
            domain("my_host.duckdns.org").unwrap(),
            "my_host.duckdns.org"
        );
        assert!(domain("localhost").is_err());
        assert!(domain("").is_err());
        assert!(domain("a..b").is_err());
        assert!(domain("evil.com..").is_err());
        assert!(domain("1.2.3.4").is_err());
        assert!(domain("domain autuo.xicp.net").is_err());
        assert!(domain(&format!("{}.com", "a".repeat(64))).is_err());
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(long.len() > 253);
        assert!(domain(&long).is_err());
        let e = domain("ex ample.com").unwrap_err().to_string();
        assert!(e.contains("not allowed"), "{e}");
    }

    #[test]
    fn ips_and_cidrs() {
        assert_eq!(ip(" 1.2.3.4 ").unwrap().to_string(), "1.2.3.4");
        assert_eq!(ip("2001:DB8:0:0::1").unwrap().to_string(), "2001:db8::1");
        assert_eq!(ip("[::1]").unwrap().to_string(), "::1");
        assert_eq!(ip("::ffff:1.2.3.4").unwrap().to_string(), "::ffff:1.2.3.4");
        assert!(ip("01.2.3.4").is_err());
        assert!(ip("1.2.3").is_err());
        assert!(ip("256.1.1.1").is_err());
        assert_eq!(normalize(T::Ip, "1[.]2.3.4").unwrap(), "1.2.3.4");
        let (a, l) = cidr("10.1.2.3/8").unwrap();
        assert_eq!(cidr_string(a, l), "10.0.0.0/8");
        let (a, l) = cidr("2001:db8:ffff::1/32").unwrap();
        assert_eq!(cidr_string(a, l), "2001:db8::/32");
        assert_eq!(cidr_string(cidr("0.0.0.0/0").unwrap().0, 0), "0.0.0.0/0");
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr("::/129").is_err());
        assert!(cidr("10.0.0.0/").is_err());
        assert!(cidr("10.0.0.0/x").is_err());
        assert!(cidr("10.0.0.0").is_err());
        assert!(cidr("10.0.0/8").is_err());
        assert_eq!(normalize(T::Cidr, "1.2.3.4").unwrap(), "1.2.3.4/32");
        assert_eq!(
            normalize_as(T::Cidr, "1.2.3.4/32").unwrap(),
            (T::Ip, "1.2.3.4".into())
        );
        assert_eq!(
            normalize_as(T::Ip, "1.2.3.4:443").unwrap(),
            (T::Ip, "1.2.3.4".into())
        );
        assert_eq!(
            normalize_as(T::Ip, "[2001:db8::1]:443").unwrap(),
            (T::Ip, "2001:db8::1".into())
        );
        assert_eq!(
            normalize_as(T::Ip, "10.0.0.1/24").unwrap(),
            (T::Cidr, "10.0.0.0/24".into())
        );
        assert!(normalize_as(T::Ip, "2001:db8::1:443x").is_err());
    }

    #[test]
    fn urls() {
        let u = |s: &str| url(s).unwrap();
        assert_eq!(u("http://Evil.COM"), "evil.com/");
        assert_eq!(u("HTTP://evil.com:80/a"), "evil.com/a");
        assert_eq!(u("https://evil.com:443/a"), "evil.com/a");
        assert_eq!(u("http://evil.com:443/a"), "evil.com:443/a");
        assert_eq!(u("https://evil.com:0080/a"), "evil.com:80/a");
        assert_eq!(
            u("hxxps://evil[.]com/Path/X?q=1#frag"),
            "evil.com/Path/X?q=1"
        );
        assert_eq!(u("evil.com/a"), "evil.com/a");
        assert_eq!(u("//evil.com/a"), "evil.com/a");
        assert_eq!(u("evil.com:8080"), "evil.com:8080/");
        assert_eq!(u("http://user:pw@evil.com/"), "evil.com/");
        assert_eq!(u("http://evil.com/a/./b/../c"), "evil.com/a/c");
        assert_eq!(u("http://evil.com/a/.."), "evil.com/");
        assert_eq!(u("http://evil.com/a/%2e%2E/b"), "evil.com/b");
        assert_eq!(u("http://evil.com/../../x"), "evil.com/x");
        assert_eq!(u("http://evil.com/%7euser/%2f%3a"), "evil.com/~user/%2F%3A");
        assert_eq!(u("http://evil.com/a b/ü"), "evil.com/a%20b/%C3%BC");
        assert_eq!(u("http://evil.com/100%/x"), "evil.com/100%25/x");
        assert_eq!(u("http://evil.com/a?"), "evil.com/a");
        assert_eq!(u("http://evil.com?x=%41"), "evil.com/?x=A");
        assert_eq!(u("http://[2001:DB8::1]:8080/x"), "[2001:db8::1]:8080/x");
        assert_eq!(u("http://1.2.3.4/x"), "1.2.3.4/x");
        assert_eq!(u("http://bücher.example/"), "xn--bcher-kva.example/");
        assert_eq!(u("http://intranet/x"), "intranet/x");
        assert_eq!(
            u("http://evil.com/redirect?u=http://x.y/"),
            "evil.com/redirect?u=http://x.y/"
        );
        assert!(url("http:///x").is_err());
        assert!(url("http://evil.com:99999/").is_err());
        assert!(url("http://evil.com:abc/").is_err());
        assert!(url("http://[::1/").is_err());
        assert!(url("http://ev il.com/").is_err());
        assert!(url("").is_err());
    }

    #[test]
    fn hashes_and_fingerprints() {
        let md5 = "D41D8CD98F00B204E9800998ECF8427E";
        assert_eq!(hash(md5).unwrap(), (T::Md5, md5.to_ascii_lowercase()));
        assert_eq!(hash(&"a".repeat(40)).unwrap().0, T::Sha1);
        assert_eq!(hash(&"a".repeat(64)).unwrap().0, T::Sha256);
        assert!(hash(&"g".repeat(32)).is_err());
        assert!(hash("abc").is_err());
        assert!(normalize(T::Sha1, md5).is_err());
        assert_eq!(normalize(T::Ja3, md5).unwrap(), md5.to_ascii_lowercase());
        let j = "t13d1516h2_8daaf6152771_b186095e22b6";
        assert_eq!(ja4(&j.to_ascii_uppercase()).unwrap(), j);
        assert!(ja4("t13d1516h2_8daaf6152771_b186095e22bz").is_err());
        assert!(ja4("x13d1516h2_8daaf6152771_b186095e22b6").is_err());
        assert!(ja4("t13x1516h2_8daaf6152771_b186095e22b6").is_err());
        assert!(ja4("t13d1516h2_8daaf6152771").is_err());
        let e = normalize(T::Md5, "xyz").unwrap_err().to_string();
        assert_eq!(e, "invalid md5 value \"xyz\": expected 32 hex digits");
    }

    #[test]
    fn classification() {
        let c = |s: &str| classify(s);
        assert_eq!(c("1.2.3.4"), Some((T::Ip, "1.2.3.4".into())));
        assert_eq!(c("2001:db8:0::1"), Some((T::Ip, "2001:db8::1".into())));
        assert_eq!(c("10.0.0.1/8"), Some((T::Cidr, "10.0.0.0/8".into())));
        assert_eq!(c("10.0.0.1/32"), Some((T::Ip, "10.0.0.1".into())));
        assert_eq!(c("2001:db8::/32"), Some((T::Cidr, "2001:db8::/32".into())));
        assert_eq!(c("http://evil.com/x"), Some((T::Url, "evil.com/x".into())));
        assert_eq!(c("evil.com/x"), Some((T::Url, "evil.com/x".into())));
        assert_eq!(c("1.2.3.4:8080/x"), Some((T::Url, "1.2.3.4:8080/x".into())));
        assert_eq!(c("evil[.]com"), Some((T::Domain, "evil.com".into())));
        assert_eq!(c("Evil.com"), Some((T::Domain, "evil.com".into())));
        assert_eq!(c("evil.com:8080"), Some((T::Domain, "evil.com".into())));
        assert_eq!(c("1.2.3.4:443"), Some((T::Ip, "1.2.3.4".into())));
        assert_eq!(c(&"A".repeat(32)), Some((T::Md5, "a".repeat(32))));
        assert_eq!(c(&"b".repeat(40)), Some((T::Sha1, "b".repeat(40))));
        assert_eq!(c(&"c".repeat(64)), Some((T::Sha256, "c".repeat(64))));
        assert_eq!(
            c("t13d1516h2_8daaf6152771_b186095e22b6"),
            Some((T::Ja4, "t13d1516h2_8daaf6152771_b186095e22b6".into()))
        );
        assert_eq!(c("localhost"), None);
        assert_eq!(c("foo/bar"), None);
        assert_eq!(c("1.2.3.256"), None);
        assert_eq!(c("a b"), None);
        assert_eq!(c(""), None);
        assert_eq!(c("x://"), None);
        assert_eq!(c("a b://x"), None);
        assert_eq!(c("::"), Some((T::Ip, "::".into())));
        assert!(classify_or_err("zzz")
            .unwrap_err()
            .to_string()
            .contains("unrecognised"));
    }

    fn idempotent(kind: IndicatorType, s: &str) -> Result<(), TestCaseError> {
        if let Ok(once) = normalize(kind, s) {
            let twice = normalize(kind, &once);
            prop_assert_eq!(Ok(once.clone()), twice, "input {:?}", s);
        }
        if let Ok((k1, once)) = normalize_as(kind, s) {
            prop_assert_eq!(normalize_as(k1, &once), Ok((k1, once.clone())));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn domain_idempotent(s in "(\\*\\.)?[a-zA-Z0-9_ü\u{00c9}-]{1,12}(\\.[a-zA-Z0-9ß-]{1,12}){0,3}\\.?") {
            idempotent(T::Domain, &s)?;
        }

        #[test]
        fn url_idempotent(
            s in "((?i:https?|ftp|hxxp)://)?([a-z]{1,3}@)?[a-zA-Z0-9ü.-]{1,12}(:[0-9]{1,5})?(/[a-zA-Z0-9 %.~ü?#&=:/-]{0,10}){0,4}"
        ) {
            idempotent(T::Url, &s)?;
            if let Some((k, v)) = classify(&s) {
                prop_assert_eq!(normalize_as(k, &v), Ok((k, v.clone())));
            }
        }

        #[test]
        fn url_urlish_alphabet_idempotent(s in "(hxxp|fxp|http|HTTP)?(:|://|\\[:\\]//|\\[\\.\\])?[a-cA-Cx0-9.:/?#%@\\[\\]()_~ü -]{0,30}") {
            idempotent(T::Url, &s)?;
            idempotent(T::Domain, &s)?;
            idempotent(T::Ip, &s)?;
            if let Some((k, v)) = classify(&s) {
                prop_assert_eq!(normalize_as(k, &v), Ok((k, v.clone())));
            }
        }

        #[test]
        fn url_any_string_idempotent(s in "\\PC{0,40}") {
            idempotent(T::Url, &s)?;
        }

        #[test]
        fn ip_idempotent(a: std::net::Ipv4Addr, b: std::net::Ipv6Addr, len in 0u8..=130) {
            idempotent(T::Ip, &a.to_string())?;
            idempotent(T::Ip, &b.to_string())?;
            idempotent(T::Cidr, &format!("{a}/{len}"))?;
            idempotent(T::Cidr, &format!("{b}/{len}"))?;
            idempotent(T::Ip, &format!("[{b}]:{len}"))?;
        }

        #[test]
        fn classify_never_panics_and_is_stable(s in "\\PC{0,60}") {
            if let Some((k, v)) = classify(&s) {
                prop_assert_eq!(normalize_as(k, &v), Ok((k, v.clone())));
            }
        }
    }
}
