//! DNS message parsing (RFC 1035 wire format) for DNS over UDP, mDNS and DNS over TCP.
//!
//! Semantics follow Suricata's DNS parser so the results can feed EVE `dns` events directly:
//!
//! * Names are decompressed (pointer chains are bounded, names are limited to 255 wire bytes)
//!   and rendered like Suricata's `set_string_from_bytes`: labels joined with `.`, kept
//!   verbatim (case included) when the whole name is valid UTF-8, otherwise every byte
//!   `>= 0x80` is written as `\xNN`. The root name is rendered as [`ROOT_NAME`].
//! * Only the question, answer and authority sections are parsed; the additional section
//!   (EDNS OPT, mDNS extras) is ignored, as Suricata does.
//! * A message whose header or questions cannot be parsed is an error. If a *record* of the
//!   answer or authority section is malformed, the records parsed so far are kept and
//!   [`DnsMessage::malformed`] says where parsing stopped. This keeps the questions (what
//!   detection mostly needs) for truncated UDP responses and sloppy mDNS responders. Inside a
//!   record whose framing is intact, rdata that does not parse as its type (wrong address
//!   length, bad embedded name, ...) is kept raw as [`RData::Other`].

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use thiserror::Error;

/// How the root name (a lone zero-length label) is rendered.
pub const ROOT_NAME: &str = "<root>";

/// Maximum wire length of a name (RFC 1035 §3.1), including length octets and the root label.
const MAX_NAME_WIRE_LEN: usize = 255;
/// Maximum number of compression pointers followed while reading one name.
const MAX_POINTER_JUMPS: usize = 64;
/// Size of the fixed DNS header.
const HEADER_LEN: usize = 12;

/// Why a DNS message could not be parsed. Every variant carries the byte offset (from the
/// start of the message) where parsing stopped.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DnsError {
    /// The message ended before a field was complete.
    #[error("dns message truncated at offset {offset}")]
    Truncated {
        /// Offset of the incomplete field.
        offset: usize,
    },
    /// A label length byte used the reserved `0x40`/`0x80` forms.
    #[error("invalid dns label type at offset {offset}")]
    BadLabel {
        /// Offset of the label length byte.
        offset: usize,
    },
    /// A compression pointer pointed outside the message.
    #[error("dns compression pointer out of range at offset {offset}")]
    BadPointer {
        /// Offset of the pointer.
        offset: usize,
    },
    /// Too many compression pointers were followed (a pointer loop).
    #[error("dns compression pointer loop at offset {offset}")]
    PointerLoop {
        /// Offset of the pointer that exceeded the limit.
        offset: usize,
    },
    /// A name exceeded 255 bytes in wire format.
    #[error("dns name longer than 255 bytes at offset {offset}")]
    NameTooLong {
        /// Offset of the label that made the name too long.
        offset: usize,
    },
}

impl DnsError {
    /// The offset where parsing stopped.
    pub fn offset(&self) -> usize {
        match *self {
            DnsError::Truncated { offset }
            | DnsError::BadLabel { offset }
            | DnsError::BadPointer { offset }
            | DnsError::PointerLoop { offset }
            | DnsError::NameTooLong { offset } => offset,
        }
    }
}

/// A parsed DNS message (query or response).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// The raw 16-bit flags word (Suricata logs it as hex).
    pub flags: u16,
    /// QR bit.
    pub is_response: bool,
    /// OPCODE (4 bits).
    pub opcode: u8,
    /// RCODE from the header (4 bits; extended RCODE bits from EDNS are not merged).
    pub rcode: u8,
    /// Question section.
    pub queries: Vec<DnsQuestion>,
    /// Answer section (possibly partial, see [`DnsMessage::malformed`]).
    pub answers: Vec<DnsRecord>,
    /// Authority section (possibly partial, see [`DnsMessage::malformed`]).
    pub authorities: Vec<DnsRecord>,
    /// Set when a record of the answer or authority section was malformed; the sections hold
    /// the records parsed before it.
    pub malformed: Option<DnsError>,
}

/// One entry of the question section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuestion {
    /// Name as on the wire (case kept), rendered as described in the module docs.
    pub rrname: String,
    /// Query type.
    pub rrtype: u16,
}

/// One resource record of the answer or authority section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Owner name.
    pub rrname: String,
    /// Record type.
    pub rrtype: u16,
    /// Time to live.
    pub ttl: u32,
    /// Decoded record data.
    pub rdata: RData,
}

/// Decoded record data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// A record.
    A(Ipv4Addr),
    /// AAAA record.
    Aaaa(Ipv6Addr),
    /// CNAME, NS, PTR or DNAME target.
    Name(String),
    /// MX record.
    Mx {
        /// Preference.
        preference: u16,
        /// Mail exchange host.
        exchange: String,
    },
    /// TXT record: one entry per character-string (Suricata logs each as its own answer).
    Txt(Vec<String>),
    /// SOA record.
    Soa {
        /// Primary name server.
        mname: String,
        /// Responsible mailbox.
        rname: String,
        /// Serial.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expiry.
        expire: u32,
        /// Negative-caching TTL.
        minimum: u32,
    },
    /// SRV record.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: String,
    },
    /// Any other type, or rdata that did not decode as its type: the raw bytes.
    Other(Vec<u8>),
}

/// Record type numbers used by the parser.
mod rr {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const SOA: u16 = 6;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const DNAME: u16 = 39;
}

/// Bounds-checked big-endian reader over a message.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DnsError::Truncated { offset: self.pos })?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(DnsError::Truncated { offset: self.pos })?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, DnsError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, DnsError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Renders bytes like Suricata's `JsonBuilder::set_string_from_bytes`: valid UTF-8 verbatim,
/// otherwise ASCII verbatim and every byte `>= 0x80` as `\xNN`.
pub(crate) fn escape_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(b.len() + 8);
            for &c in b {
                if c.is_ascii() {
                    out.push(char::from(c));
                } else {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\x{c:02x}");
                }
            }
            out
        }
    }
}

/// Reads the (possibly compressed) name starting at `start`. Returns the rendered name and the
/// offset just after the name's bytes at `start` (after the first pointer, if any).
fn read_name(msg: &[u8], start: usize) -> Result<(String, usize), DnsError> {
    let mut raw: Vec<u8> = Vec::new();
    let mut pos = start;
    let mut end: Option<usize> = None;
    let mut jumps = 0usize;
    let mut wire_len = 0usize;
    loop {
        let len = *msg.get(pos).ok_or(DnsError::Truncated { offset: pos })?;
        match len & 0xc0 {
            0x00 => {
                let n = usize::from(len);
                wire_len += n + 1;
                if wire_len > MAX_NAME_WIRE_LEN {
                    return Err(DnsError::NameTooLong { offset: pos });
                }
                if n == 0 {
                    return Ok((render_name(&raw), end.unwrap_or(pos + 1)));
                }
                let label = msg
                    .get(pos + 1..pos + 1 + n)
                    .ok_or(DnsError::Truncated { offset: pos + 1 })?;
                if !raw.is_empty() {
                    raw.push(b'.');
                }
                raw.extend_from_slice(label);
                pos += 1 + n;
            }
            0xc0 => {
                let lo = *msg
                    .get(pos + 1)
                    .ok_or(DnsError::Truncated { offset: pos + 1 })?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(lo);
                if end.is_none() {
                    end = Some(pos + 2);
                }
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(DnsError::PointerLoop { offset: pos });
                }
                if target >= msg.len() {
                    return Err(DnsError::BadPointer { offset: pos });
                }
                pos = target;
            }
            _ => return Err(DnsError::BadLabel { offset: pos }),
        }
    }
}

fn render_name(raw: &[u8]) -> String {
    if raw.is_empty() {
        ROOT_NAME.to_owned()
    } else {
        escape_bytes(raw)
    }
}

fn read_question(msg: &[u8], cur: &mut Cursor<'_>) -> Result<DnsQuestion, DnsError> {
    let (rrname, next) = read_name(msg, cur.pos)?;
    cur.pos = next;
    let rrtype = cur.u16()?;
    let _class = cur.u16()?;
    Ok(DnsQuestion { rrname, rrtype })
}

fn read_record(msg: &[u8], cur: &mut Cursor<'_>) -> Result<DnsRecord, DnsError> {
    let (rrname, next) = read_name(msg, cur.pos)?;
    cur.pos = next;
    let rrtype = cur.u16()?;
    let _class = cur.u16()?;
    let ttl = cur.u32()?;
    let rdlen = usize::from(cur.u16()?);
    let start = cur.pos;
    let raw = cur.take(rdlen)?;
    let rdata = decode_rdata(msg, rrtype, start, raw).unwrap_or_else(|| RData::Other(raw.to_vec()));
    Ok(DnsRecord {
        rrname,
        rrtype,
        ttl,
        rdata,
    })
}

/// Decodes rdata located at `msg[start..start + raw.len()]`; `None` if it does not fit its type.
fn decode_rdata(msg: &[u8], rrtype: u16, start: usize, raw: &[u8]) -> Option<RData> {
    let end = start + raw.len();
    // A name inside rdata may point anywhere in the message, but its own bytes must lie
    // inside the rdata.
    let name_at = |at: usize| -> Option<(String, usize)> {
        let (name, next) = read_name(msg, at).ok()?;
        (next <= end).then_some((name, next))
    };
    match rrtype {
        rr::A => Some(RData::A(Ipv4Addr::from(<[u8; 4]>::try_from(raw).ok()?))),
        rr::AAAA => Some(RData::Aaaa(Ipv6Addr::from(<[u8; 16]>::try_from(raw).ok()?))),
        rr::NS | rr::CNAME | rr::PTR | rr::DNAME => Some(RData::Name(name_at(start)?.0)),
        rr::MX => {
            let mut cur = Cursor::new(raw, 0);
            let preference = cur.u16().ok()?;
            let (exchange, _) = name_at(start + 2)?;
            Some(RData::Mx {
                preference,
                exchange,
            })
        }
        rr::SRV => {
            let mut cur = Cursor::new(raw, 0);
            let priority = cur.u16().ok()?;
            let weight = cur.u16().ok()?;
            let port = cur.u16().ok()?;
            let (target, _) = name_at(start + 6)?;
            Some(RData::Srv {
                priority,
                weight,
                port,
                target,
            })
        }
        rr::SOA => {
            let (mname, next) = name_at(start)?;
            let (rname, next) = name_at(next)?;
            let mut cur = Cursor::new(raw, next - start);
            Some(RData::Soa {
                mname,
                rname,
                serial: cur.u32().ok()?,
                refresh: cur.u32().ok()?,
                retry: cur.u32().ok()?,
                expire: cur.u32().ok()?,
                minimum: cur.u32().ok()?,
            })
        }
        rr::TXT => {
            let mut cur = Cursor::new(raw, 0);
            let mut strings = Vec::new();
            while cur.pos < raw.len() {
                let n = usize::from(cur.u8().ok()?);
                strings.push(escape_bytes(cur.take(n).ok()?));
            }
            Some(RData::Txt(strings))
        }
        _ => None,
    }
}

/// Parses one DNS message (the UDP payload, or one length-delimited message of a TCP stream).
pub fn parse_message(buf: &[u8]) -> Result<DnsMessage, DnsError> {
    let mut cur = Cursor::new(buf, 0);
    let id = cur.u16()?;
    let flags = cur.u16()?;
    let qdcount = usize::from(cur.u16()?);
    let ancount = usize::from(cur.u16()?);
    let nscount = usize::from(cur.u16()?);
    let _arcount = cur.u16()?;
    debug_assert_eq!(cur.pos, HEADER_LEN);

    // Never trust counts for allocation: a question takes at least 5 bytes, a record 11.
    let left = buf.len().saturating_sub(HEADER_LEN);
    let mut queries = Vec::with_capacity(qdcount.min(left / 5));
    for _ in 0..qdcount {
        queries.push(read_question(buf, &mut cur)?);
    }

    let mut msg = DnsMessage {
        id,
        flags,
        is_response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        rcode: (flags & 0x0f) as u8,
        queries,
        answers: Vec::new(),
        authorities: Vec::new(),
        malformed: None,
    };
    for (count, authority) in [(ancount, false), (nscount, true)] {
        let left = buf.len().saturating_sub(cur.pos);
        let mut records = Vec::with_capacity(count.min(left / 11));
        let mut failed = None;
        for _ in 0..count {
            match read_record(buf, &mut cur) {
                Ok(r) => records.push(r),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        if authority {
            msg.authorities = records;
        } else {
            msg.answers = records;
        }
        if failed.is_some() {
            msg.malformed = failed;
            break;
        }
    }
    Ok(msg)
}

/// Suricata's name for a record type (`rrtype` in EVE). Unknown types are rendered as their
/// decimal number, as Suricata does. Spellings follow Suricata exactly, including its
/// historical quirks (`ND` for MD, `NSAPPT`, `CDSNKEY`), so events compare equal; `SVCB` and
/// `CAA` are named too.
pub fn rrtype_name(t: u16) -> Cow<'static, str> {
    let name = match t {
        1 => "A",
        2 => "NS",
        3 => "ND", // sic: Suricata's spelling of MD
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAPPT", // sic
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        55 => "HIP",
        59 => "CDS",
        60 => "CDSNKEY", // sic: Suricata's spelling of CDNSKEY
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        249 => "TKEY",
        250 => "TSIG",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        _ => return Cow::Owned(t.to_string()),
    };
    Cow::Borrowed(name)
}

/// Suricata's name for a response code (`rcode` in EVE); unknown codes are rendered as their
/// decimal number. Codes 16..=22 only occur as EDNS extended RCODEs.
pub fn rcode_name(rcode: u8) -> Cow<'static, str> {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS/BADSIG",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        _ => return Cow::Owned(rcode.to_string()),
    };
    Cow::Borrowed(name)
}

/// Splits DNS-over-TCP messages (RFC 1035 §4.2.2: 2-byte big-endian length prefix) out of an
/// in-order byte stream.
///
/// [`push`](TcpDnsFramer::push) moves every complete message into a ready queue at once, so
/// the partial-message buffer never exceeds [`TcpDnsFramer::CAPACITY`] (one maximum-size
/// message plus its prefix). Drain the queue with [`next_message`](TcpDnsFramer::next_message)
/// after each push; if a caller does not, messages beyond [`TcpDnsFramer::MAX_QUEUED`] bytes
/// are dropped and counted in [`dropped`](TcpDnsFramer::dropped).
///
/// ```
/// # use vigil_detect::app::dns::TcpDnsFramer;
/// let mut framer = TcpDnsFramer::new();
/// framer.push(&[0, 2, 0xab]);
/// assert_eq!(framer.next_message(), None);
/// framer.push(&[0xcd, 0, 1]);
/// assert_eq!(framer.next_message(), Some(vec![0xab, 0xcd]));
/// assert_eq!(framer.buffered(), 2);
/// ```
#[derive(Debug, Default, Clone)]
pub struct TcpDnsFramer {
    /// The incomplete message at the head of the stream, prefix included.
    partial: Vec<u8>,
    ready: std::collections::VecDeque<Vec<u8>>,
    ready_bytes: usize,
    dropped: u64,
}

impl TcpDnsFramer {
    /// Maximum size of the partial-message buffer: a 65535-byte message plus its prefix.
    pub const CAPACITY: usize = 2 + 65535;
    /// Maximum number of message bytes waiting in the ready queue.
    pub const MAX_QUEUED: usize = 1 << 20;

    /// An empty framer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends in-order stream bytes, splitting off every message they complete.
    pub fn push(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.partial.len() < 2 {
                let n = (2 - self.partial.len()).min(data.len());
                self.partial.extend_from_slice(&data[..n]);
                data = &data[n..];
                if self.partial.len() < 2 {
                    return;
                }
            }
            let want = 2 + usize::from(u16::from_be_bytes([self.partial[0], self.partial[1]]));
            if self.partial.len() == 2 && data.len() >= want - 2 {
                // Fast path: the whole message is in `data`; copy it once.
                let (msg, rest) = data.split_at(want - 2);
                self.enqueue(msg.to_vec());
                self.partial.clear();
                data = rest;
                continue;
            }
            let n = (want - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.partial.len() == want {
                let msg = self.partial.split_off(2);
                self.partial.clear();
                self.enqueue(msg);
            }
        }
    }

    fn enqueue(&mut self, msg: Vec<u8>) {
        if self.ready_bytes + msg.len() > Self::MAX_QUEUED {
            self.dropped += 1;
            return;
        }
        self.ready_bytes += msg.len();
        self.ready.push_back(msg);
    }

    /// The next complete message (without its length prefix), oldest first.
    pub fn next_message(&mut self) -> Option<Vec<u8>> {
        let msg = self.ready.pop_front()?;
        self.ready_bytes -= msg.len();
        Some(msg)
    }

    /// Bytes of the incomplete message at the head of the stream (prefix included).
    pub fn buffered(&self) -> usize {
        self.partial.len()
    }

    /// Messages dropped because the ready queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Drops everything buffered or queued (e.g. after a gap in the stream).
    pub fn clear(&mut self) {
        self.partial.clear();
        self.ready.clear();
        self.ready_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testutil;

    /// Builds a message from a header and raw section bytes.
    fn msg(id: u16, flags: u16, counts: [u16; 4], body: &[u8]) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&id.to_be_bytes());
        m.extend_from_slice(&flags.to_be_bytes());
        for c in counts {
            m.extend_from_slice(&c.to_be_bytes());
        }
        m.extend_from_slice(body);
        m
    }

    fn name(labels: &[&str]) -> Vec<u8> {
        let mut v = Vec::new();
        for l in labels {
            v.push(l.len() as u8);
            v.extend_from_slice(l.as_bytes());
        }
        v.push(0);
        v
    }

    fn query_sample() -> Vec<u8> {
        let mut body = name(&["www", "Example", "com"]);
        body.extend_from_slice(&[0, 1, 0, 1]);
        msg(0x1234, 0x0100, [1, 0, 0, 0], &body)
    }

    /// A response using compression everywhere: question at offset 12 (`www.example.com`,
    /// `example.com` starts at offset 16).
    fn response_sample() -> Vec<u8> {
        let mut b = name(&["www", "example", "com"]);
        b.extend_from_slice(&[0, 1, 0, 1]);
        let rr = |b: &mut Vec<u8>, owner: &[u8], t: u16, ttl: u32, rdata: &[u8]| {
            b.extend_from_slice(owner);
            b.extend_from_slice(&t.to_be_bytes());
            b.extend_from_slice(&[0, 1]);
            b.extend_from_slice(&ttl.to_be_bytes());
            b.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            b.extend_from_slice(rdata);
        };
        // CNAME www.example.com -> cdn.example.com ("cdn" + pointer to example.com).
        rr(
            &mut b,
            &[0xc0, 12],
            5,
            300,
            &[3, b'c', b'd', b'n', 0xc0, 16],
        );
        // A, AAAA for the pointer-to-pointer name (pointer to the CNAME's rdata at 45).
        rr(&mut b, &[0xc0, 45], 1, 60, &[192, 0, 2, 1]);
        rr(
            &mut b,
            &[0xc0, 45],
            28,
            60,
            &[0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        );
        // MX 10 mail.example.com.
        rr(
            &mut b,
            &[0xc0, 16],
            15,
            3600,
            &[0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 16],
        );
        // TXT with two strings, one not UTF-8.
        rr(
            &mut b,
            &[0xc0, 16],
            16,
            1,
            &[5, b'h', b'e', b'l', b'l', b'o', 2, 0xff, b'x'],
        );
        // SRV 1 2 443 target example.com.
        rr(&mut b, &[0xc0, 16], 33, 5, &[0, 1, 0, 2, 1, 0xbb, 0xc0, 16]);
        // A record with a wrong length: kept raw.
        rr(&mut b, &[0xc0, 16], 1, 5, &[1, 2, 3]);
        // HTTPS record: opaque.
        rr(&mut b, &[0xc0, 16], 65, 5, &[0, 1, 0]);
        // Authority: SOA ns1.example.com. hostmaster.example.com.
        let mut soa = vec![3, b'n', b's', b'1', 0xc0, 16];
        soa.extend_from_slice(&[
            10, b'h', b'o', b's', b't', b'm', b'a', b's', b't', b'e', b'r',
        ]);
        soa.extend_from_slice(&[0xc0, 16]);
        for v in [2024u32, 7200, 900, 1209600, 86400] {
            soa.extend_from_slice(&v.to_be_bytes());
        }
        rr(&mut b, &[0xc0, 16], 6, 900, &soa);
        // Additional: OPT on the root name, never parsed.
        rr(&mut b, &[0], 41, 0, &[]);
        msg(0xbeef, 0x8583, [1, 8, 1, 1], &b)
    }

    #[test]
    fn parses_query() {
        let m = parse_message(&query_sample()).unwrap();
        assert_eq!(m.id, 0x1234);
        assert!(!m.is_response);
        assert_eq!(m.opcode, 0);
        assert_eq!(
            m.queries,
            vec![DnsQuestion {
                rrname: "www.Example.com".into(),
                rrtype: 1
            }]
        );
        assert!(m.answers.is_empty() && m.malformed.is_none());
    }

    #[test]
    fn parses_response_with_compression() {
        let m = parse_message(&response_sample()).unwrap();
        assert!(m.is_response);
        assert_eq!(m.rcode, 3);
        assert_eq!(rcode_name(m.rcode), "NXDOMAIN");
        assert_eq!(m.flags, 0x8583);
        assert_eq!(m.malformed, None);
        assert_eq!(m.queries[0].rrname, "www.example.com");
        let a = &m.answers;
        assert_eq!(a.len(), 8);
        assert_eq!(a[0].rrname, "www.example.com");
        assert_eq!(a[0].ttl, 300);
        assert_eq!(a[0].rdata, RData::Name("cdn.example.com".into()));
        assert_eq!(a[1].rrname, "cdn.example.com");
        assert_eq!(a[1].rdata, RData::A(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(a[2].rdata, RData::Aaaa("2001:db8::1".parse().unwrap()));
        assert_eq!(
            a[3].rdata,
            RData::Mx {
                preference: 10,
                exchange: "mail.example.com".into()
            }
        );
        assert_eq!(
            a[4].rdata,
            RData::Txt(vec!["hello".into(), "\\xffx".into()])
        );
        assert_eq!(
            a[5].rdata,
            RData::Srv {
                priority: 1,
                weight: 2,
                port: 443,
                target: "example.com".into()
            }
        );
        assert_eq!(a[6].rdata, RData::Other(vec![1, 2, 3]));
        assert_eq!(a[7].rrtype, 65);
        assert_eq!(a[7].rdata, RData::Other(vec![0, 1, 0]));
        assert_eq!(
            m.authorities,
            vec![DnsRecord {
                rrname: "example.com".into(),
                rrtype: 6,
                ttl: 900,
                rdata: RData::Soa {
                    mname: "ns1.example.com".into(),
                    rname: "hostmaster.example.com".into(),
                    serial: 2024,
                    refresh: 7200,
                    retry: 900,
                    expire: 1209600,
                    minimum: 86400,
                },
            }]
        );
    }

    #[test]
    fn root_and_escaped_names() {
        let mut body = vec![0, 0, 2, 0, 1];
        body.extend_from_slice(&[2, 0xc3, 0xa9, 1, 0xff, 0, 0, 1, 0, 1]);
        body.extend_from_slice(&[1, b'a', 1, 0x07, 0, 0, 1, 0, 1]);
        let m = parse_message(&msg(1, 0, [3, 0, 0, 0], &body)).unwrap();
        assert_eq!(m.queries[0].rrname, ROOT_NAME);
        assert_eq!(m.queries[0].rrtype, 2);
        // Not valid UTF-8 as a whole: bytes >= 0x80 escaped.
        assert_eq!(m.queries[1].rrname, "\\xc3\\xa9.\\xff");
        // Valid UTF-8 (control characters included) is kept verbatim, like Suricata.
        assert_eq!(m.queries[2].rrname, "a.\u{7}");
        let body = [2, 0xc3, 0xa9, 0, 0, 1, 0, 1];
        let m = parse_message(&msg(1, 0, [1, 0, 0, 0], &body)).unwrap();
        assert_eq!(m.queries[0].rrname, "é");
    }

    #[test]
    fn pointer_loops_and_bad_names() {
        // Pointer to itself at offset 12.
        let m = msg(1, 0, [1, 0, 0, 0], &[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(parse_message(&m), Err(DnsError::PointerLoop { offset: 12 }));
        // Two pointers pointing at each other.
        let m = msg(1, 0, [1, 0, 0, 0], &[0xc0, 14, 0xc0, 12]);
        assert!(matches!(
            parse_message(&m),
            Err(DnsError::PointerLoop { .. })
        ));
        // A label looping back to itself grows the name until the length limit.
        let m = msg(1, 0, [1, 0, 0, 0], b"\x0aaaaaaaaaaa\xc0\x0c");
        assert!(matches!(
            parse_message(&m),
            Err(DnsError::NameTooLong { .. })
        ));
        // Pointer beyond the message.
        let m = msg(1, 0, [1, 0, 0, 0], &[0xc0, 0xff, 0, 1, 0, 1]);
        assert_eq!(parse_message(&m), Err(DnsError::BadPointer { offset: 12 }));
        // Reserved label types.
        let m = msg(1, 0, [1, 0, 0, 0], &[0x41, 0, 0, 1, 0, 1]);
        assert_eq!(parse_message(&m), Err(DnsError::BadLabel { offset: 12 }));
        // 255 wire bytes is the maximum: 3 * (1 + 63) + (1 + 61) + 1 (root label).
        let label = "x".repeat(63);
        let mut long = name(&[&label, &label, &label, &label[..61]]);
        long.extend_from_slice(&[0, 1, 0, 1]);
        let m = parse_message(&msg(1, 0, [1, 0, 0, 0], &long)).unwrap();
        assert_eq!(m.queries[0].rrname.len(), 63 * 3 + 61 + 3);
        let mut too_long = name(&[&label, &label, &label, &label]);
        too_long.extend_from_slice(&[0, 1, 0, 1]);
        let err = parse_message(&msg(1, 0, [1, 0, 0, 0], &too_long)).unwrap_err();
        assert_eq!(
            err,
            DnsError::NameTooLong {
                offset: 12 + 64 * 3
            }
        );
        assert_eq!(err.offset(), 204);
        assert_eq!(
            err.to_string(),
            "dns name longer than 255 bytes at offset 204"
        );
    }

    #[test]
    fn malformed_answers_keep_questions() {
        let full = response_sample();
        // Cut inside the third answer's rdata.
        let cut = &full[..80];
        let m = parse_message(cut).unwrap();
        assert_eq!(m.queries.len(), 1);
        assert_eq!(m.answers.len(), 2);
        assert_eq!(m.malformed, Some(DnsError::Truncated { offset: 79 }));
        // Header or question problems are errors.
        assert_eq!(
            parse_message(&full[..11]),
            Err(DnsError::Truncated { offset: 10 })
        );
        assert_eq!(
            parse_message(&full[..20]),
            Err(DnsError::Truncated { offset: 17 })
        );
    }

    #[test]
    fn huge_counts_do_not_allocate_or_panic() {
        let m = msg(1, 0x8000, [0, 0xffff, 0xffff, 0xffff], &[]);
        let r = parse_message(&m).unwrap();
        assert_eq!(r.malformed, Some(DnsError::Truncated { offset: 12 }));
        let m = msg(1, 0, [0xffff, 0, 0, 0], &[0, 0, 1, 0, 1]);
        assert_eq!(parse_message(&m), Err(DnsError::Truncated { offset: 17 }));
    }

    /// xorshift64*, deterministic.
    fn rng(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn all_samples() -> Vec<Vec<u8>> {
        let mut v = vec![query_sample(), response_sample()];
        let pcap = testutil::read_data("pcaps/zeek/dns/mdns.pcap");
        v.extend(testutil::udp_payloads(&pcap).into_iter().map(|p| p.payload));
        let pcap = testutil::read_data("pcaps/zeek/dns-https.pcap");
        v.extend(testutil::udp_payloads(&pcap).into_iter().map(|p| p.payload));
        v
    }

    #[test]
    fn truncation_and_mutation_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for sample in all_samples() {
            assert!(parse_message(&sample).is_ok());
            for len in 0..sample.len() {
                let _ = parse_message(&sample[..len]);
            }
            for _ in 0..300 {
                let mut m = sample.clone();
                for _ in 0..1 + rng(&mut state) % 4 {
                    let i = (rng(&mut state) % m.len() as u64) as usize;
                    m[i] = rng(&mut state) as u8;
                }
                if let Ok(r) = parse_message(&m) {
                    for q in &r.queries {
                        assert!(q.rrname.len() <= 4 * 255);
                    }
                }
            }
        }
    }

    #[test]
    fn names_tables() {
        assert_eq!(rrtype_name(1), "A");
        assert_eq!(rrtype_name(28), "AAAA");
        assert_eq!(rrtype_name(65), "HTTPS");
        assert_eq!(rrtype_name(64), "SVCB");
        assert_eq!(rrtype_name(41), "OPT");
        assert_eq!(rrtype_name(255), "ANY");
        assert_eq!(rrtype_name(12345), "12345");
        assert_eq!(rcode_name(0), "NOERROR");
        assert_eq!(rcode_name(5), "REFUSED");
        assert_eq!(rcode_name(15), "15");
    }

    #[test]
    fn mdns_capture_matches_tshark() {
        // Expectations from `tshark -r mdns.pcap -Y mdns -T fields -e dns.qry.name ...`.
        let ipp = ["_ipp._tcp.local", "_ipps._tcp.local"];
        let rev6a = "4.c.d.4.1.e.e.f.f.f.6.d.c.3.8.8.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa";
        let rev6b = "f.2.8.f.3.6.5.1.6.c.b.5.8.6.9.5.5.3.2.8.c.3.0.c.e.9.2.4.2.5.d.f.ip6.arpa";
        let host = "johanna-QEMU-Virtual-Machine.local";
        let rev4 = "7.2.0.10.in-addr.arpa";
        let any6: &[&str] = &[rev6a, host, rev6b];
        let any4: &[&str] = &[rev6a, host, rev4, rev6b];
        // (frame, queries, answers, authorities)
        let expected: &[(usize, &[&str], usize, usize)] = &[
            (1, &ipp, 0, 0),
            (2, &ipp, 0, 0),
            (3, &[], 4, 0),
            (4, &[], 6, 0),
            (9, &ipp, 0, 0),
            (10, &ipp, 0, 0),
            (11, any6, 0, 4),
            (12, any4, 0, 6),
            (13, any6, 0, 4),
            (14, any4, 0, 6),
            (17, any6, 0, 4),
            (18, any4, 0, 6),
            (19, &[], 6, 0),
            (20, &[], 4, 0),
            (21, &ipp, 0, 0),
            (22, &ipp, 0, 0),
            (23, &[], 6, 0),
            (24, &[], 4, 0),
        ];
        let pcap = testutil::read_data("pcaps/zeek/dns/mdns.pcap");
        let pkts: Vec<_> = testutil::udp_payloads(&pcap)
            .into_iter()
            .filter(|p| p.dport == 5353)
            .collect();
        assert_eq!(pkts.len(), expected.len());
        for (p, &(frame, queries, answers, auths)) in pkts.iter().zip(expected) {
            assert_eq!(p.frame, frame);
            let m = parse_message(&p.payload).unwrap();
            assert_eq!(m.malformed, None, "frame {frame}");
            let names: Vec<&str> = m.queries.iter().map(|q| q.rrname.as_str()).collect();
            assert_eq!(names, queries, "frame {frame}");
            assert_eq!(m.answers.len(), answers, "frame {frame}");
            assert_eq!(m.authorities.len(), auths, "frame {frame}");
            assert_eq!(m.is_response, answers > 0);
        }
        // Frame 4: answer types and data as tshark shows them.
        let m = parse_message(&pkts[3].payload).unwrap();
        let types: Vec<u16> = m.answers.iter().map(|a| a.rrtype).collect();
        assert_eq!(types, [28, 12, 28, 12, 1, 12]);
        assert_eq!(m.answers[0].rrname, host);
        assert_eq!(
            m.answers[0].rdata,
            RData::Aaaa("fd52:429e:c03c:8235:883c:d6ff:fee1:4dc4".parse().unwrap())
        );
        assert_eq!(m.answers[1].rrname, rev6a);
        assert_eq!(m.answers[1].rdata, RData::Name(host.into()));
        assert_eq!(m.answers[4].rdata, RData::A(Ipv4Addr::new(10, 0, 2, 7)));
        assert_eq!(m.answers[5].rrname, rev4);
        // Frame 12: ANY questions.
        let m = parse_message(&pkts[7].payload).unwrap();
        assert!(m.queries.iter().all(|q| rrtype_name(q.rrtype) == "ANY"));
    }

    #[test]
    fn https_rr_capture() {
        let pcap = testutil::read_data("pcaps/zeek/dns-https.pcap");
        let pkts = testutil::udp_payloads(&pcap);
        assert_eq!(pkts.len(), 2);
        let q = parse_message(&pkts[0].payload).unwrap();
        assert_eq!(q.id, 0xf29f);
        assert_eq!(q.flags, 0x0120);
        assert_eq!(
            q.queries,
            vec![DnsQuestion {
                rrname: "cloudflare.com".into(),
                rrtype: 65
            }]
        );
        assert_eq!(rrtype_name(q.queries[0].rrtype), "HTTPS");
        let r = parse_message(&pkts[1].payload).unwrap();
        assert_eq!(r.flags, 0x8180);
        assert_eq!(rcode_name(r.rcode), "NOERROR");
        assert_eq!(r.answers.len(), 1);
        assert_eq!(r.answers[0].rrname, "cloudflare.com");
        assert_eq!(r.answers[0].rrtype, 65);
        assert_eq!(r.answers[0].ttl, 129);
        match &r.answers[0].rdata {
            RData::Other(raw) => {
                assert_eq!(raw.len(), 79);
                // SvcPriority 1, TargetName "." (root).
                assert_eq!(&raw[..3], &[0, 1, 0]);
            }
            other => panic!("unexpected rdata {other:?}"),
        }
    }

    #[test]
    fn tcp_capture_through_framer() {
        let pcap = testutil::read_data("pcaps/zeek/dns-edns-tcp-keepalive.pcap");
        let conns = testutil::tcp_client_ports(&pcap, 53);
        assert_eq!(conns, [56974, 56977]);
        for (port, id) in conns.into_iter().zip([0x8076u16, 0x607f]) {
            for to_server in [true, false] {
                let stream = testutil::tcp_stream(&pcap, 53, port, to_server);
                // Whole segments, then byte by byte.
                for chunk in [stream.len(), 1] {
                    let mut framer = TcpDnsFramer::new();
                    let mut got = Vec::new();
                    for piece in stream.chunks(chunk) {
                        framer.push(piece);
                        while let Some(m) = framer.next_message() {
                            got.push(parse_message(&m).unwrap());
                        }
                    }
                    assert_eq!(framer.buffered(), 0);
                    assert_eq!(got.len(), 1);
                    let m = &got[0];
                    assert_eq!(m.id, id);
                    assert_eq!(m.is_response, !to_server);
                    assert_eq!(m.queries[0].rrname, "wikipedia.org");
                    if to_server {
                        assert_eq!(m.flags, 0x0120);
                        assert!(m.answers.is_empty());
                    } else {
                        assert_eq!(m.flags, 0x8500);
                        assert_eq!(m.answers.len(), 1);
                        assert_eq!(m.answers[0].ttl, 600);
                        assert_eq!(
                            m.answers[0].rdata,
                            RData::A(Ipv4Addr::new(208, 80, 154, 224))
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn framer_splits_and_is_bounded() {
        let mut framer = TcpDnsFramer::new();
        // A maximum-size message byte by byte: the partial buffer tops out at CAPACITY.
        let mut data = vec![0xff, 0xff];
        data.extend(std::iter::repeat_n(7u8, 65535));
        for b in data.chunks(4096) {
            framer.push(b);
            assert!(framer.buffered() <= TcpDnsFramer::CAPACITY);
        }
        assert_eq!(framer.buffered(), 0);
        assert_eq!(framer.next_message().map(|m| m.len()), Some(65535));
        // Several messages in one push, the last one incomplete.
        framer.push(&[0, 1, 9, 0, 0, 0, 2, 1]);
        assert_eq!(framer.next_message(), Some(vec![9]));
        assert_eq!(framer.next_message(), Some(vec![]));
        assert_eq!(framer.next_message(), None);
        assert_eq!(framer.buffered(), 3);
        framer.push(&[2]);
        assert_eq!(framer.next_message(), Some(vec![1, 2]));
        // Undrained queue: bounded, overflow counted.
        for _ in 0..20 {
            framer.push(&data);
        }
        assert_eq!(framer.dropped(), 4);
        framer.clear();
        assert_eq!((framer.buffered(), framer.next_message()), (0, None));
        framer.push(&[0]);
        assert_eq!(framer.buffered(), 1);
    }
}
