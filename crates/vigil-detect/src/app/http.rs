//! HTTP/1.x request and response head parsing for an incremental, in-order byte stream.
//!
//! The parsers are stateless: call them on everything buffered since the end of the previous
//! message; they report [`Parse::Incomplete`] until the blank line ending the head has
//! arrived, then the parsed head and how many bytes it took. [`BodySkipper`] then steps over
//! the message body (content-length or chunked with trailers) so pipelined messages are found.
//!
//! Tolerance follows libhtp (Suricata's HTTP parser) where it matters for detection: bare LF
//! line endings, leading empty lines, obsolete header folding, whitespace before the colon,
//! case-insensitive header names, HTTP/0.9 request lines without a protocol. Heads longer
//! than [`MAX_HEAD_LEN`] are rejected. Header values are rendered like Suricata renders
//! bytes in EVE (valid UTF-8 verbatim, otherwise bytes `>= 0x80` as `\xNN`). When a singular
//! header (Host, User-Agent, ...) is repeated, the first occurrence is used.

use memchr::memchr;

use super::dns::escape_bytes;

/// Maximum size of a request or response head, request/status line and final blank line
/// included.
pub const MAX_HEAD_LEN: usize = 64 * 1024;

/// Result of parsing a head from the front of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse<T> {
    /// More bytes are needed.
    Incomplete,
    /// A complete head.
    Done {
        /// The parsed head.
        value: T,
        /// Bytes of the head, including leading empty lines and the final blank line.
        consumed: usize,
    },
    /// Not a valid head; the stream should no longer be parsed as HTTP.
    Invalid {
        /// Offset where parsing stopped.
        offset: usize,
        /// What was wrong (lower case).
        what: &'static str,
    },
}

/// A parsed request head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method token, as sent.
    pub method: String,
    /// Request target as sent (origin, absolute, authority or asterisk form).
    pub uri: String,
    /// Protocol as sent, e.g. `HTTP/1.1`; empty for an HTTP/0.9 request line.
    pub protocol: String,
    /// Host header value, verbatim.
    pub host: Option<String>,
    /// User-Agent header value.
    pub user_agent: Option<String>,
    /// Referer header value.
    pub referer: Option<String>,
    /// Content-Type header value.
    pub content_type: Option<String>,
    /// Content-Length, if present (validated).
    pub content_length: Option<u64>,
    /// `Transfer-Encoding` contains `chunked` (takes precedence over Content-Length).
    pub chunked: bool,
}

/// A parsed response head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Protocol as sent, e.g. `HTTP/1.1`.
    pub protocol: String,
    /// Status code.
    pub status: u16,
    /// Content-Length, if present (validated).
    pub content_length: Option<u64>,
    /// `Transfer-Encoding` contains `chunked`.
    pub chunked: bool,
    /// Content-Type header value.
    pub content_type: Option<String>,
}

impl HttpRequest {
    /// The authority of an authority-form (CONNECT) or absolute-form request target.
    fn uri_authority(&self) -> Option<&str> {
        if self.method.eq_ignore_ascii_case("CONNECT") {
            return Some(self.uri.as_str()).filter(|a| !a.is_empty());
        }
        let (scheme, rest) = self.uri.split_once("://")?;
        let scheme_ok = scheme.bytes().enumerate().all(|(i, c)| {
            c.is_ascii_alphabetic() || (i > 0 && matches!(c, b'0'..=b'9' | b'+' | b'-' | b'.'))
        });
        if scheme.is_empty() || !scheme_ok {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let authority = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        Some(authority).filter(|a| !a.is_empty())
    }

    /// The host[:port] the request is for: the request target's authority if it has one
    /// (libhtp gives it precedence over the Host header, per RFC 7230 §5.4), else Host.
    fn host_port(&self) -> Option<&str> {
        self.uri_authority().or(self.host.as_deref()).map(str::trim)
    }

    /// Suricata's `http.hostname`: the host of the request target or Host header, lowercased,
    /// without port and trailing dots. IPv6 literals keep their brackets, as libhtp does.
    pub fn hostname(&self) -> Option<String> {
        let (host, _) = split_host_port(self.host_port()?);
        let host = host.trim_end_matches('.');
        (!host.is_empty()).then(|| host.to_ascii_lowercase())
    }

    /// The port given with the host (see [`hostname`](Self::hostname)), if any and valid.
    pub fn port(&self) -> Option<u16> {
        let (_, port) = split_host_port(self.host_port()?);
        port?.parse().ok()
    }
}

/// Splits `host[:port]`, handling bracketed IPv6 literals.
fn split_host_port(hp: &str) -> (&str, Option<&str>) {
    if hp.starts_with('[') {
        if let Some(close) = hp.find(']') {
            let (host, rest) = hp.split_at(close + 1);
            return (host, rest.strip_prefix(':'));
        }
        return (hp, None);
    }
    match hp.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hp, None),
    }
}

/// The request methods recognised by [`looks_like_request`] (libhtp's list plus WebDAV/CalDAV).
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"MKCALENDAR",
    b"REPORT",
    b"CHECKOUT",
    b"CHECKIN",
    b"UNCHECKOUT",
    b"VERSION-CONTROL",
    b"MERGE",
    b"MKWORKSPACE",
    b"MKACTIVITY",
    b"BASELINE-CONTROL",
    b"LABEL",
    b"UPDATE",
];

/// Protocol-detection probe for the client side: a known method (any case) followed by a
/// space or tab. A non-empty buffer that is still a prefix of such a start (e.g. `"GE"`)
/// also counts, so detection can wait for more bytes.
pub fn looks_like_request(buf: &[u8]) -> bool {
    !buf.is_empty()
        && METHODS.iter().any(|m| match buf.get(m.len()) {
            Some(&sep) => buf[..m.len()].eq_ignore_ascii_case(m) && matches!(sep, b' ' | b'\t'),
            None => m[..buf.len()].eq_ignore_ascii_case(buf),
        })
}

/// Protocol-detection probe for the server side: starts with `HTTP/1.` (any case), or is a
/// non-empty prefix of it.
pub fn looks_like_response(buf: &[u8]) -> bool {
    const P: &[u8] = b"HTTP/1.";
    let n = buf.len().min(P.len());
    n > 0 && buf[..n].eq_ignore_ascii_case(&P[..n])
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn trim_ws(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ws(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_ws(*last) {
            break;
        }
        s = rest;
    }
    s
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Number of leading bytes that form empty lines (`\r\n` or `\n`).
fn leading_empty_lines(buf: &[u8]) -> usize {
    let mut i = 0;
    loop {
        match (buf.get(i), buf.get(i + 1)) {
            (Some(b'\n'), _) => i += 1,
            (Some(b'\r'), Some(b'\n')) => i += 2,
            _ => return i,
        }
    }
}

/// Finds the blank line that ends a head. `nl` is the offset of a `\n` ending a non-empty
/// line; returns the offset just past the blank line.
fn find_head_end(buf: &[u8], mut nl: usize) -> Option<usize> {
    loop {
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (Some(b'\n'), _) => return Some(nl + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(nl + 3),
            _ => {}
        }
        nl = nl + 1 + memchr(b'\n', buf.get(nl + 1..)?)?;
    }
}

/// Where the head starting at `start` ends, or the `Parse` to return if it does not.
fn head_bounds<T>(buf: &[u8], start: usize, first_nl: usize) -> Result<usize, Parse<T>> {
    let too_large = Parse::Invalid {
        offset: start + MAX_HEAD_LEN,
        what: "header too large",
    };
    match find_head_end(buf, first_nl) {
        Some(end) if end - start <= MAX_HEAD_LEN => Ok(end),
        Some(_) => Err(too_large),
        None if buf.len() - start > MAX_HEAD_LEN => Err(too_large),
        None => Err(Parse::Incomplete),
    }
}

/// The first line of a head: `(start, offset of its '\n')`, or the `Parse` to return.
fn first_line<T>(buf: &[u8]) -> Result<(usize, usize), Parse<T>> {
    let start = leading_empty_lines(buf);
    match memchr(b'\n', &buf[start..]) {
        Some(i) if i < MAX_HEAD_LEN => Ok((start, start + i)),
        Some(_) => Err(Parse::Invalid {
            offset: start + MAX_HEAD_LEN,
            what: "header too large",
        }),
        None if buf.len() - start >= MAX_HEAD_LEN => Err(Parse::Invalid {
            offset: start + MAX_HEAD_LEN,
            what: "header too large",
        }),
        None => Err(Parse::Incomplete),
    }
}

/// Headers both directions care about.
#[derive(Default)]
struct Common {
    content_length: Option<u64>,
    chunked: bool,
    content_type: Option<String>,
}

impl Common {
    /// Applies one header; `Err` carries what was wrong.
    fn apply(&mut self, name: &[u8], value: &[u8]) -> Result<bool, &'static str> {
        if name.eq_ignore_ascii_case(b"content-length") {
            let v = parse_content_length(value).ok_or("invalid content-length")?;
            if self.content_length.is_some_and(|old| old != v) {
                return Err("conflicting content-length");
            }
            self.content_length = Some(v);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if value.windows(7).any(|w| w.eq_ignore_ascii_case(b"chunked")) {
                self.chunked = true;
            }
        } else if name.eq_ignore_ascii_case(b"content-type") {
            set_once(&mut self.content_type, value);
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

fn set_once(slot: &mut Option<String>, value: &[u8]) {
    if slot.is_none() {
        *slot = Some(escape_bytes(value));
    }
}

/// Content-Length: digits with optional surrounding whitespace (as libhtp), no overflow.
fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = trim_ws(v);
    if v.is_empty() {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &c| {
        if c.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(c - b'0'))
        } else {
            None
        }
    })
}

/// A header being collected: name, value (owned only once folding occurs), line offset.
type Header<'a> = (&'a [u8], std::borrow::Cow<'a, [u8]>, usize);

/// Calls `f(name, value, offset)` for each header of `buf[from..end]` (the lines after the
/// start line, blank line included), joining folded continuation lines with a single space.
fn for_each_header(
    buf: &[u8],
    from: usize,
    end: usize,
    mut f: impl FnMut(&[u8], &[u8], usize) -> Result<(), &'static str>,
) -> Result<(), (usize, &'static str)> {
    // Current header: (name, value, offset); the value is owned only once folding occurs.
    let mut cur: Option<Header<'_>> = None;
    let mut pos = from;
    while pos < end {
        let nl = memchr(b'\n', &buf[pos..end]).map_or(end, |i| pos + i);
        let line = strip_cr(&buf[pos..nl]);
        let line_at = pos;
        pos = nl + 1;
        if line.is_empty() {
            break;
        }
        if is_ws(line[0]) {
            // obs-fold: continuation of the previous header value.
            if let Some((_, value, _)) = cur.as_mut() {
                let more = trim_ws(line);
                if !more.is_empty() {
                    let v = value.to_mut();
                    if !v.is_empty() {
                        v.push(b' ');
                    }
                    v.extend_from_slice(more);
                }
            }
            continue;
        }
        if let Some((name, value, at)) = cur.take() {
            f(name, &value, at).map_err(|what| (at, what))?;
        }
        // Lines without a colon or with an empty name are ignored, as libhtp tolerates them.
        if let Some(colon) = memchr(b':', line) {
            let name = trim_ws(&line[..colon]);
            if !name.is_empty() {
                cur = Some((name, trim_ws(&line[colon + 1..]).into(), line_at));
            }
        }
    }
    if let Some((name, value, at)) = cur {
        f(name, &value, at).map_err(|what| (at, what))?;
    }
    Ok(())
}

/// Splits a request line into method, target and protocol (empty for HTTP/0.9).
fn split_request_line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let line = trim_ws(line);
    let m_end = line.iter().position(|&c| is_ws(c))?;
    let (method, rest) = line.split_at(m_end);
    let rest = trim_ws(rest);
    if rest.is_empty() {
        return None;
    }
    match rest.iter().rposition(|&c| is_ws(c)) {
        // Target with no protocol: HTTP/0.9.
        None => Some((method, rest, &[])),
        Some(p) => {
            let protocol = &rest[p + 1..];
            // Spaces inside the target are tolerated when the last token is the protocol.
            let target = trim_ws(&rest[..p]);
            (protocol.len() >= 5 && protocol[..5].eq_ignore_ascii_case(b"HTTP/"))
                .then_some((method, target, protocol))
        }
    }
}

/// Parses a request head from the front of `buf`.
pub fn parse_request_head(buf: &[u8]) -> Parse<HttpRequest> {
    let (start, nl) = match first_line(buf) {
        Ok(v) => v,
        Err(p) => return p,
    };
    let line = strip_cr(&buf[start..nl]);
    let Some((method, uri, protocol)) = split_request_line(line) else {
        return Parse::Invalid {
            offset: start,
            what: "invalid request line",
        };
    };
    if method.is_empty() || !method.iter().all(|&c| is_tchar(c)) {
        return Parse::Invalid {
            offset: start,
            what: "invalid request method",
        };
    }
    let mut req = HttpRequest {
        method: escape_bytes(method),
        uri: escape_bytes(uri),
        protocol: escape_bytes(protocol),
        ..HttpRequest::default()
    };
    if protocol.is_empty() {
        // HTTP/0.9: no headers.
        return Parse::Done {
            value: req,
            consumed: nl + 1,
        };
    }
    let end = match head_bounds(buf, start, nl) {
        Ok(end) => end,
        Err(p) => return p,
    };
    let mut common = Common::default();
    let res = for_each_header(buf, nl + 1, end, |name, value, _| {
        let slot = if name.eq_ignore_ascii_case(b"host") {
            &mut req.host
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            &mut req.user_agent
        } else if name.eq_ignore_ascii_case(b"referer") {
            &mut req.referer
        } else {
            return common.apply(name, value).map(drop);
        };
        set_once(slot, value);
        Ok(())
    });
    if let Err((offset, what)) = res {
        return Parse::Invalid { offset, what };
    }
    req.content_length = common.content_length;
    req.chunked = common.chunked;
    req.content_type = common.content_type;
    Parse::Done {
        value: req,
        consumed: end,
    }
}

/// Parses a response head from the front of `buf`.
pub fn parse_response_head(buf: &[u8]) -> Parse<HttpResponse> {
    let (start, nl) = match first_line(buf) {
        Ok(v) => v,
        Err(p) => return p,
    };
    let line = trim_ws(strip_cr(&buf[start..nl]));
    let p_end = line.iter().position(|&c| is_ws(c)).unwrap_or(line.len());
    let protocol = &line[..p_end];
    if protocol.len() < 5 || !protocol[..5].eq_ignore_ascii_case(b"HTTP/") {
        return Parse::Invalid {
            offset: start,
            what: "invalid status line",
        };
    }
    let rest = trim_ws(&line[p_end..]);
    let code = &rest[..rest.iter().position(|&c| is_ws(c)).unwrap_or(rest.len())];
    let status = match code {
        [a, b, c] if code.iter().all(u8::is_ascii_digit) => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => {
            let offset = start + (line.len() - rest.len());
            return Parse::Invalid {
                offset,
                what: "invalid status code",
            };
        }
    };
    let end = match head_bounds(buf, start, nl) {
        Ok(end) => end,
        Err(p) => return p,
    };
    let mut common = Common::default();
    let res = for_each_header(buf, nl + 1, end, |name, value, _| {
        common.apply(name, value).map(drop)
    });
    if let Err((offset, what)) = res {
        return Parse::Invalid { offset, what };
    }
    let resp = HttpResponse {
        protocol: escape_bytes(protocol),
        status,
        content_length: common.content_length,
        chunked: common.chunked,
        content_type: common.content_type,
    };
    Parse::Done {
        value: resp,
        consumed: end,
    }
}

/// Where a [`BodySkipper`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// `n` more body bytes.
    Length(u64),
    /// Reading a chunk-size line; `size` so far, `digits` seen, inside a chunk extension.
    ChunkSize { size: u64, digits: u8, ext: bool },
    /// `n` more bytes of chunk data.
    ChunkData(u64),
    /// The CRLF after chunk data; `cr` once the `\r` was seen.
    ChunkEnd { cr: bool },
    /// Trailer section; `empty` while the current line has no content yet.
    Trailers { empty: bool },
    /// Everything up to the end of the connection.
    UntilClose,
    /// Body complete.
    Done,
    /// Malformed chunked framing: the rest of the stream is swallowed.
    Failed,
}

/// Skips a message body so that pipelined requests/responses can be found: content-length,
/// chunked (with chunk extensions and trailers), or until the connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySkipper {
    state: Body,
}

impl BodySkipper {
    fn new(chunked: bool, length: Option<u64>, until_close: bool) -> Self {
        let state = if chunked {
            Body::ChunkSize {
                size: 0,
                digits: 0,
                ext: false,
            }
        } else {
            match length {
                Some(0) => Body::Done,
                Some(n) => Body::Length(n),
                None if until_close => Body::UntilClose,
                None => Body::Done,
            }
        };
        BodySkipper { state }
    }

    /// The body of a request: chunked, content-length, or none.
    pub fn for_request(req: &HttpRequest) -> Self {
        Self::new(req.chunked, req.content_length, false)
    }

    /// The body of a response to a `request_method` request. HEAD responses and 1xx, 204 and
    /// 304 responses have none; a successful CONNECT turns into a tunnel (until close); a
    /// response with neither chunked encoding nor content-length lasts until close.
    pub fn for_response(resp: &HttpResponse, request_method: &str) -> Self {
        let no_body = request_method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&resp.status)
            || resp.status == 204
            || resp.status == 304;
        if no_body {
            return BodySkipper { state: Body::Done };
        }
        if request_method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&resp.status) {
            return BodySkipper {
                state: Body::UntilClose,
            };
        }
        Self::new(resp.chunked, resp.content_length, true)
    }

    /// `true` once the body is complete.
    pub fn finished(&self) -> bool {
        self.state == Body::Done
    }

    /// `true` if chunked framing was malformed; the skipper then consumes everything and
    /// never finishes, as the stream can no longer be followed.
    pub fn failed(&self) -> bool {
        self.state == Body::Failed
    }

    /// Consumes body bytes from the front of `data`. Returns how many bytes belonged to the
    /// body and whether the body is now complete (the rest of `data` is the next message).
    pub fn consume(&mut self, data: &[u8]) -> (usize, bool) {
        let mut i = 0;
        while i < data.len() {
            match self.state {
                Body::Done => break,
                Body::UntilClose | Body::Failed => i = data.len(),
                Body::Length(n) | Body::ChunkData(n) => {
                    let left = (data.len() - i) as u64;
                    let take = n.min(left);
                    i += take as usize;
                    let n = n - take;
                    self.state = match self.state {
                        Body::Length(_) if n == 0 => Body::Done,
                        Body::Length(_) => Body::Length(n),
                        _ if n == 0 => Body::ChunkEnd { cr: false },
                        _ => Body::ChunkData(n),
                    };
                }
                Body::ChunkSize { size, digits, ext } => {
                    let c = data[i];
                    i += 1;
                    self.state = match c {
                        b'\n' if digits == 0 => Body::Failed,
                        b'\n' if size == 0 => Body::Trailers { empty: true },
                        b'\n' => Body::ChunkData(size),
                        _ if ext => Body::ChunkSize { size, digits, ext },
                        b';' | b' ' | b'\t' | b'\r' if digits > 0 => Body::ChunkSize {
                            size,
                            digits,
                            ext: true,
                        },
                        // Leading whitespace before the size is tolerated.
                        b' ' | b'\t' if digits == 0 => Body::ChunkSize { size, digits, ext },
                        _ => match (char::from(c).to_digit(16), size.checked_mul(16)) {
                            (Some(d), Some(s)) if digits < 16 => Body::ChunkSize {
                                size: s + u64::from(d),
                                digits: digits + 1,
                                ext,
                            },
                            _ => Body::Failed,
                        },
                    };
                }
                Body::ChunkEnd { cr } => {
                    let c = data[i];
                    i += 1;
                    self.state = match c {
                        b'\r' if !cr => Body::ChunkEnd { cr: true },
                        b'\n' => Body::ChunkSize {
                            size: 0,
                            digits: 0,
                            ext: false,
                        },
                        _ => Body::Failed,
                    };
                }
                Body::Trailers { empty } => {
                    let c = data[i];
                    i += 1;
                    self.state = match c {
                        b'\n' if empty => Body::Done,
                        b'\n' => Body::Trailers { empty: true },
                        b'\r' => Body::Trailers { empty },
                        _ => Body::Trailers { empty: false },
                    };
                }
            }
        }
        (i, self.state == Body::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testutil;

    fn done<T: std::fmt::Debug>(p: Parse<T>) -> (T, usize) {
        match p {
            Parse::Done { value, consumed } => (value, consumed),
            other => panic!("expected Done, got {other:?}"),
        }
    }

    const GET: &[u8] = b"GET /index.html?q=1 HTTP/1.1\r\nHost: Example.COM.:8080\r\n\
User-Agent: curl/8.0\r\nReferer: http://ref/\r\nAccept: */*\r\n\r\n";

    #[test]
    fn simple_get() {
        let (req, n) = done(parse_request_head(GET));
        assert_eq!(n, GET.len());
        assert_eq!(req.method, "GET");
        assert_eq!(req.uri, "/index.html?q=1");
        assert_eq!(req.protocol, "HTTP/1.1");
        assert_eq!(req.host.as_deref(), Some("Example.COM.:8080"));
        assert_eq!(req.hostname().as_deref(), Some("example.com"));
        assert_eq!(req.port(), Some(8080));
        assert_eq!(req.user_agent.as_deref(), Some("curl/8.0"));
        assert_eq!(req.referer.as_deref(), Some("http://ref/"));
        assert_eq!(
            (req.content_length, req.chunked, req.content_type),
            (None, false, None)
        );
        // Trailing bytes (the next request) are not consumed.
        let mut two = GET.to_vec();
        two.extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert_eq!(done(parse_request_head(&two)).1, GET.len());
    }

    #[test]
    fn every_prefix_is_incomplete() {
        for len in 0..GET.len() {
            assert_eq!(
                parse_request_head(&GET[..len]),
                Parse::Incomplete,
                "len {len}"
            );
        }
        let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
        for len in 0..resp.len() {
            assert_eq!(
                parse_response_head(&resp[..len]),
                Parse::Incomplete,
                "len {len}"
            );
        }
    }

    #[test]
    fn tolerant_syntax() {
        // Bare LF, leading empty lines, folding, odd case and whitespace before the colon.
        let raw = b"\r\n\nPOST /a HTTP/1.0\nhOsT : a.example\nUser-Agent: Mozilla/5.0\n \
(X11;\n\t Linux)\nX-Empty:\nno colon here\nContent-length:  12 \n\nbody";
        let (req, n) = done(parse_request_head(raw));
        assert_eq!(n, raw.len() - 4);
        assert_eq!(req.method, "POST");
        assert_eq!(req.protocol, "HTTP/1.0");
        assert_eq!(req.host.as_deref(), Some("a.example"));
        assert_eq!(req.user_agent.as_deref(), Some("Mozilla/5.0 (X11; Linux)"));
        assert_eq!(req.content_length, Some(12));
        // Spaces inside the target when the protocol is last; tabs as separators.
        let (req, _) = done(parse_request_head(b"GET /a b\tHTTP/1.1\r\n\r\n"));
        assert_eq!(req.uri, "/a b");
        // HTTP/0.9: no protocol, no headers; consumed ends at the request line.
        let (req, n) = done(parse_request_head(b"GET /old\r\nrest"));
        assert_eq!(
            (req.protocol.as_str(), req.uri.as_str(), n),
            ("", "/old", 10)
        );
        // Repeated singular headers: the first wins; equal content-lengths are fine.
        let raw = b"GET / HTTP/1.1\r\nHost: one\r\nHost: two\r\nContent-Length: 1\r\n\
Content-Length: 1\r\n\r\n";
        let (req, _) = done(parse_request_head(raw));
        assert_eq!(
            (req.host.as_deref(), req.content_length),
            (Some("one"), Some(1))
        );
        // Non-UTF-8 values are escaped like Suricata does.
        let (req, _) = done(parse_request_head(
            b"GET / HTTP/1.1\r\nUser-Agent: a\xffb\r\n\r\n",
        ));
        assert_eq!(req.user_agent.as_deref(), Some("a\\xffb"));
    }

    #[test]
    fn invalid_heads() {
        let inv = |p: Parse<HttpRequest>| match p {
            Parse::Invalid { offset, what } => (offset, what),
            other => panic!("expected Invalid, got {other:?}"),
        };
        let raw = b"\x16\x03\x01 / HTTP/1.1\r\n";
        assert_eq!(inv(parse_request_head(raw)), (0, "invalid request method"));
        assert_eq!(
            inv(parse_request_head(b"GET\r\n\r\n")),
            (0, "invalid request line")
        );
        assert_eq!(
            inv(parse_request_head(b"GET / FOO/1\r\n\r\n")),
            (0, "invalid request line")
        );
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n";
        assert_eq!(inv(parse_request_head(raw)), (25, "invalid content-length"));
        let raw = b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(
            inv(parse_request_head(raw)),
            (35, "conflicting content-length")
        );
        let raw = b"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert_eq!(inv(parse_request_head(raw)).1, "invalid content-length");
        // Head size limit: without an end, and with an end past the limit.
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        while big.len() <= MAX_HEAD_LEN {
            big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        assert_eq!(
            inv(parse_request_head(&big)),
            (MAX_HEAD_LEN, "header too large")
        );
        big.extend_from_slice(b"\r\n");
        assert_eq!(
            inv(parse_request_head(&big)),
            (MAX_HEAD_LEN, "header too large")
        );
        let line = vec![b'G'; MAX_HEAD_LEN + 1];
        assert_eq!(
            inv(parse_request_head(&line)),
            (MAX_HEAD_LEN, "header too large")
        );
        // Just under the limit is fine.
        let mut ok = b"GET / HTTP/1.1\r\nX: ".to_vec();
        ok.resize(MAX_HEAD_LEN - 4, b'a');
        ok.extend_from_slice(b"\r\n\r\n");
        assert_eq!(done(parse_request_head(&ok)).1, MAX_HEAD_LEN);
        let resp = |b: &[u8]| match parse_response_head(b) {
            Parse::Invalid { offset, what } => (offset, what),
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert_eq!(resp(b"HTTX/1.1 200 OK\r\n\r\n"), (0, "invalid status line"));
        assert_eq!(
            resp(b"\r\nHTTP/1.1 2000 OK\r\n\r\n"),
            (11, "invalid status code")
        );
        assert_eq!(resp(b"HTTP/1.1 OK\r\n\r\n"), (9, "invalid status code"));
    }

    #[test]
    fn hostname_forms() {
        let req = |raw: &[u8]| done(parse_request_head(raw)).0;
        let r = req(b"CONNECT www.Example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\n\r\n");
        assert_eq!(
            (r.hostname().as_deref(), r.port()),
            (Some("www.example.com"), Some(443))
        );
        // CONNECT without Host.
        let r = req(b"CONNECT [2001:DB8::1]:8443 HTTP/1.1\r\n\r\n");
        assert_eq!(
            (r.hostname().as_deref(), r.port()),
            (Some("[2001:db8::1]"), Some(8443))
        );
        // Absolute form takes precedence over Host (libhtp / RFC 7230 5.4); userinfo dropped.
        let r = req(b"GET http://user:pw@Proxy.Test./x?y HTTP/1.1\r\nHost: other\r\n\r\n");
        assert_eq!(
            (r.hostname().as_deref(), r.port()),
            (Some("proxy.test"), None)
        );
        let r = req(b"GET HTTPS://h.test:81 HTTP/1.1\r\n\r\n");
        assert_eq!(
            (r.hostname().as_deref(), r.port()),
            (Some("h.test"), Some(81))
        );
        // Origin form: Host header, IPv6 literal, bad port, empty host.
        let r = req(b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
        assert_eq!(
            (r.hostname().as_deref(), r.port()),
            (Some("[::1]"), Some(80))
        );
        let r = req(b"GET / HTTP/1.1\r\nHost: h:99999\r\n\r\n");
        assert_eq!((r.hostname().as_deref(), r.port()), (Some("h"), None));
        let r = req(b"GET / HTTP/1.1\r\nHost: ...\r\n\r\n");
        assert_eq!(r.hostname(), None);
        let r = req(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!((r.hostname(), r.port()), (None, None));
        // A path containing "://" is not an absolute URI.
        let r = req(b"GET /redirect?to=http://x HTTP/1.1\r\nHost: real\r\n\r\n");
        assert_eq!(r.hostname().as_deref(), Some("real"));
    }

    #[test]
    fn probes() {
        assert!(looks_like_request(b"GET / HTTP/1.1"));
        assert!(looks_like_request(b"get\t/"));
        assert!(looks_like_request(b"PROPFIND /x"));
        assert!(looks_like_request(b"GE"));
        assert!(looks_like_request(b"OPTIONS"));
        assert!(!looks_like_request(b""));
        assert!(!looks_like_request(b"GETX /"));
        assert!(!looks_like_request(b"\x16\x03\x01"));
        assert!(looks_like_response(b"HTTP/1.1 200 OK"));
        assert!(looks_like_response(b"HTT"));
        assert!(!looks_like_response(b"HTTP/2"));
        assert!(!looks_like_response(b""));
    }

    /// Minimal engine-like driver: buffers, parses heads, skips bodies.
    fn drive_requests(chunks: &[&[u8]]) -> (Vec<HttpRequest>, usize) {
        let mut buf: Vec<u8> = Vec::new();
        let mut skipper: Option<BodySkipper> = None;
        let mut out = Vec::new();
        let mut body_bytes = 0;
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            loop {
                if let Some(s) = skipper.as_mut() {
                    let (n, fin) = s.consume(&buf);
                    body_bytes += n;
                    buf.drain(..n);
                    if !fin {
                        break;
                    }
                    skipper = None;
                }
                match parse_request_head(&buf) {
                    Parse::Incomplete => break,
                    Parse::Done { value, consumed } => {
                        buf.drain(..consumed);
                        skipper = Some(BodySkipper::for_request(&value));
                        out.push(value);
                    }
                    Parse::Invalid { offset, what } => panic!("invalid at {offset}: {what}"),
                }
            }
        }
        if let Some(s) = skipper {
            assert!(s.finished(), "body unfinished at end");
        }
        assert!(buf.is_empty());
        (out, body_bytes)
    }

    const PIPELINE: &[u8] = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\
POST /2 HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhello\
POST /3 HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 99\r\n\r\n\
4;name=v\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n\
HEAD /4 HTTP/1.1\nHost: d\n\n";

    #[test]
    fn pipelined_requests_split_everywhere() {
        let (reqs, body) = drive_requests(&[PIPELINE]);
        let hosts: Vec<_> = reqs.iter().map(|r| r.host.clone().unwrap()).collect();
        assert_eq!(hosts, ["a", "b", "c", "d"]);
        assert!(reqs[2].chunked);
        assert_eq!(body, 5 + chunked_body_len());
        for split in 0..=PIPELINE.len() {
            let (a, b) = PIPELINE.split_at(split);
            assert_eq!(
                drive_requests(&[a, b]),
                (reqs.clone(), body),
                "split {split}"
            );
        }
        let bytes: Vec<&[u8]> = PIPELINE.chunks(1).collect();
        assert_eq!(drive_requests(&bytes), (reqs, body));
    }

    /// Length of the chunked body (framing and trailers included) in PIPELINE.
    fn chunked_body_len() -> usize {
        let start = memchr::memmem::find(PIPELINE, b"4;name").unwrap();
        let end = memchr::memmem::find(PIPELINE, b"HEAD /4").unwrap();
        end - start
    }

    #[test]
    fn response_bodies() {
        let resp = |raw: &[u8]| done(parse_response_head(raw));
        let (r, n) =
            resp(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 4\r\n\r\nbody");
        assert_eq!(
            (r.status, r.content_length, r.content_type.as_deref()),
            (200, Some(4), Some("text/html"))
        );
        assert_eq!(n, 63);
        let mut s = BodySkipper::for_response(&r, "GET");
        assert_eq!(s.consume(b"bo"), (2, false));
        assert_eq!(s.consume(b"dyHTTP"), (2, true));
        assert_eq!(s.consume(b"x"), (0, true));
        // HEAD, 1xx, 204, 304: no body regardless of headers.
        assert!(BodySkipper::for_response(&r, "head").finished());
        for status in [100, 101, 204, 304] {
            let r = HttpResponse {
                status,
                content_length: Some(10),
                ..r.clone()
            };
            assert!(BodySkipper::for_response(&r, "GET").finished());
        }
        // No length: until close. CONNECT 200: tunnel.
        let (r, _) = resp(b"HTTP/1.0 200 OK\r\n\r\n");
        let mut s = BodySkipper::for_response(&r, "GET");
        assert_eq!(s.consume(b"everything"), (10, false));
        let mut s = BodySkipper::for_response(&r, "CONNECT");
        assert_eq!(s.consume(b"\x16\x03\x01"), (3, false));
        // Chunked response with no trailers, split byte by byte.
        let (r, _) = resp(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        let body = b"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\nNEXT";
        let mut s = BodySkipper::for_response(&r, "GET");
        let mut used = 0;
        for b in body.chunks(1) {
            let (n, fin) = s.consume(b);
            used += n;
            if fin {
                break;
            }
        }
        assert_eq!(used, body.len() - 4);
        // Malformed chunk sizes fail closed.
        for bad in [
            &b"zz\r\n"[..],
            b"\r\n",
            b"11111111111111111\r\n",
            b"1\r\nab",
        ] {
            let mut s = BodySkipper::for_response(&r, "GET");
            let (n, fin) = s.consume(bad);
            assert_eq!((n, fin, s.failed()), (bad.len(), false, true), "{bad:?}");
        }
        // Zero content-length, and requests without a body.
        let r = HttpResponse {
            status: 200,
            content_length: Some(0),
            ..Default::default()
        };
        assert!(BodySkipper::for_response(&r, "GET").finished());
        assert!(BodySkipper::for_request(&HttpRequest::default()).finished());
    }

    #[test]
    fn truncation_and_mutation_never_panic() {
        let samples: Vec<&[u8]> = vec![
            GET,
            PIPELINE,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            b"CONNECT [::1]:443 HTTP/1.1\r\n\r\n",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for s in samples {
            for len in 0..=s.len() {
                let p = &s[..len];
                let _ = parse_request_head(p);
                let _ = parse_response_head(p);
                let _ = (looks_like_request(p), looks_like_response(p));
                let mut sk = BodySkipper::new(true, None, false);
                let _ = sk.consume(p);
            }
            for _ in 0..500 {
                let mut m = s.to_vec();
                for _ in 0..3 {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let i = (state % m.len() as u64) as usize;
                    m[i] = (state >> 32) as u8;
                }
                if let Parse::Done { value, consumed } = parse_request_head(&m) {
                    assert!(consumed <= m.len());
                    let _ = (value.hostname(), value.port());
                    let mut sk = BodySkipper::for_request(&value);
                    assert!(sk.consume(&m[consumed..]).0 <= m.len() - consumed);
                }
                if let Parse::Done { value, consumed } = parse_response_head(&m) {
                    let mut sk = BodySkipper::for_response(&value, "GET");
                    assert!(sk.consume(&m[consumed..]).0 <= m.len() - consumed);
                }
            }
        }
    }

    /// (file, host per tshark `-e http.host`, method, uri, user agent, request body length,
    /// response status, response content-length, response content-type)
    type Capture = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        usize,
        u16,
        u64,
        &'static str,
    );

    const CAPTURES: &[Capture] = &[
        (
            "pcaps/zeek/http/get.pcap",
            "bro.org",
            "GET",
            "/download/CHANGES.bro-aux.txt",
            "Wget/1.14 (darwin12.2.0)",
            0,
            200,
            4705,
            "text/plain; charset=UTF-8",
        ),
        (
            "pcaps/zeek/http-vlan-0.pcap",
            "bro.org",
            "GET",
            "/download/CHANGES.bro-aux.txt",
            "Wget/1.14 (darwin12.2.0)",
            0,
            200,
            4705,
            "text/plain; charset=UTF-8",
        ),
        (
            "pcaps/zeek/http/post.pcap",
            "httpbin.org",
            "POST",
            "/post",
            "curl/7.29.0",
            11,
            200,
            366,
            "application/json",
        ),
        (
            "pcaps/zeek/http/proxy.pcap",
            "bro.org",
            "GET",
            "HTTP://bro.org/",
            "curl/7.33.0",
            0,
            200,
            15961,
            "text/html; charset=UTF-8",
        ),
    ];

    #[test]
    fn captures_match_tshark() {
        for &(file, host, method, uri, ua, req_body, status, resp_len, ctype) in CAPTURES {
            let pcap = testutil::read_data(file);
            let ports = testutil::tcp_client_ports(&pcap, 80);
            assert_eq!(ports.len(), 1, "{file}");
            // Client side: whole stream and segment by segment.
            let client = testutil::tcp_segments(&pcap, 80, ports[0], true);
            let segs: Vec<&[u8]> = client.iter().map(Vec::as_slice).collect();
            let whole = client.concat();
            let (reqs, body) = drive_requests(&[&whole]);
            assert_eq!(drive_requests(&segs), (reqs.clone(), body), "{file}");
            assert_eq!(reqs.len(), 1, "{file}");
            let r = &reqs[0];
            assert_eq!(r.host.as_deref(), Some(host), "{file}");
            assert_eq!(r.hostname().as_deref(), Some(host), "{file}");
            assert_eq!((r.method.as_str(), r.uri.as_str()), (method, uri), "{file}");
            assert_eq!(r.user_agent.as_deref(), Some(ua), "{file}");
            assert_eq!(body, req_body, "{file}");
            if method == "POST" {
                assert_eq!(
                    r.content_type.as_deref(),
                    Some("application/x-www-form-urlencoded")
                );
            }
            // Server side: head, then the body runs exactly to the end of the stream.
            let server = testutil::tcp_stream(&pcap, 80, ports[0], false);
            let (resp, n) = done(parse_response_head(&server));
            assert_eq!(resp.status, status, "{file}");
            assert_eq!(resp.content_length, Some(resp_len), "{file}");
            assert_eq!(resp.content_type.as_deref(), Some(ctype), "{file}");
            let mut s = BodySkipper::for_response(&resp, method);
            assert_eq!(s.consume(&server[n..]), (server.len() - n, true), "{file}");
        }
    }
}
