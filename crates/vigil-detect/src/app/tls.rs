//! TLS handshake parsing: ClientHello/ServerHello, handshake reassembly from records, and the
//! JA3, JA3S and JA4 fingerprints.
//!
//! * [`HandshakeReader`] turns an in-order TLS byte stream into handshake messages (a message
//!   may span records, a record may hold several messages) until the stream turns encrypted
//!   (ChangeCipherSpec or application data).
//! * [`parse_client_hello`] / [`parse_server_hello`] decode a handshake message body.
//!   Framing errors (lengths running past the message) are errors; a malformed *inner*
//!   extension (e.g. a broken SNI list) only leaves its field empty, as Suricata does.
//! * JA3/JA3S follow Suricata (GREASE removed from ciphers, extensions and groups; the hello's
//!   legacy version field). JA4 follows the FoxIO specification (`000000000000` for empty
//!   cipher or extension lists, no trailing `_` without signature algorithms, the hex rule
//!   for non-alphanumeric ALPN bytes, a one-byte ALPN used as both characters), which is
//!   what FoxIO's reference tools print. Suricata's `ja4.rs` differs only in those corner
//!   cases (it hashes empty lists and always appends `_`), so hellos without signature
//!   algorithms get a different JA4_c there.

use std::collections::VecDeque;
use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use sha2::Sha256;
use thiserror::Error;

use super::dns::escape_bytes;

/// Why TLS data could not be parsed. Offsets are from the start of the handshake message
/// body, or of the stream for [`HandshakeReader`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlsError {
    /// The data ended before a field was complete.
    #[error("tls data truncated at offset {offset}")]
    Truncated {
        /// Offset of the incomplete field.
        offset: usize,
    },
    /// A length field is inconsistent (e.g. an odd cipher-suite list length).
    #[error("invalid tls length field at offset {offset}")]
    BadLength {
        /// Offset of the length field.
        offset: usize,
    },
    /// A record header that is not TLS (unknown content type or version).
    #[error("not a tls record at offset {offset}")]
    NotTls {
        /// Stream offset of the record header.
        offset: usize,
    },
    /// A record longer than TLS allows (2^14 + 2048 bytes).
    #[error("tls record too large at offset {offset}")]
    RecordTooLarge {
        /// Stream offset of the record header.
        offset: usize,
    },
    /// Too many reassembled messages are waiting to be taken with `next_message`.
    #[error("tls handshake queue full at offset {offset}")]
    BufferFull {
        /// Stream offset where the queue overflowed.
        offset: usize,
    },
}

impl TlsError {
    /// The offset where parsing stopped.
    pub fn offset(&self) -> usize {
        match *self {
            TlsError::Truncated { offset }
            | TlsError::BadLength { offset }
            | TlsError::NotTls { offset }
            | TlsError::RecordTooLarge { offset }
            | TlsError::BufferFull { offset } => offset,
        }
    }
}

/// The fields of a ClientHello that detection and fingerprinting use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (`client_version`) field.
    pub legacy_version: u16,
    /// Cipher suites in order, GREASE included.
    pub ciphers: Vec<u16>,
    /// Extension types in order, GREASE included.
    pub extensions: Vec<u16>,
    /// First host name of the server_name extension.
    pub sni: Option<String>,
    /// ALPN protocol names in order.
    pub alpn: Vec<String>,
    /// supported_groups (elliptic curves), GREASE included.
    pub groups: Vec<u16>,
    /// ec_point_formats.
    pub point_formats: Vec<u8>,
    /// signature_algorithms, in order, GREASE included.
    pub sig_algs: Vec<u16>,
    /// supported_versions, GREASE included.
    pub supported_versions: Vec<u16>,
    /// Raw bytes of the first ALPN value when its rendering in `alpn` is lossy (not UTF-8);
    /// JA4's ALPN rule works on bytes.
    alpn_first_raw: Option<Vec<u8>>,
}

/// The fields of a ServerHello that fingerprinting uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` (`server_version`) field.
    pub legacy_version: u16,
    /// Selected cipher suite.
    pub cipher: u16,
    /// Extension types in order.
    pub extensions: Vec<u16>,
    /// Version selected through the supported_versions extension (TLS 1.3).
    pub selected_version: Option<u16>,
}

/// Extension type numbers used here.
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

/// Bounds-checked big-endian reader.
#[derive(Clone)]
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], TlsError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(TlsError::Truncated { offset: self.pos })?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(TlsError::Truncated { offset: self.pos })?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, TlsError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, TlsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A vector with a 1-byte length prefix.
    fn vec8(&mut self) -> Result<&'a [u8], TlsError> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }

    /// A vector with a 2-byte length prefix.
    fn vec16(&mut self) -> Result<&'a [u8], TlsError> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

fn u16s(b: &[u8]) -> Vec<u16> {
    b.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

/// Walks the extension block (if any) at the cursor, calling `f(type, data)` for each.
fn extensions<'a>(
    cur: &mut Cursor<'a>,
    mut f: impl FnMut(u16, &'a [u8]),
) -> Result<Vec<u16>, TlsError> {
    if cur.remaining() == 0 {
        return Ok(Vec::new());
    }
    let start = cur.pos;
    let block = cur.vec16()?;
    let mut c = Cursor {
        buf: cur.buf.get(..cur.pos).unwrap_or_default(),
        pos: start + 2,
    };
    let mut types = Vec::with_capacity(block.len() / 4);
    while c.remaining() > 0 {
        let t = c.u16()?;
        let data = c.vec16()?;
        types.push(t);
        f(t, data);
    }
    Ok(types)
}

/// The first host_name of a server_name extension.
fn sni_from(data: &[u8]) -> Option<String> {
    let mut c = Cursor::new(data);
    let mut list = Cursor::new(c.vec16().ok()?);
    while list.remaining() > 0 {
        let kind = list.u8().ok()?;
        let name = list.vec16().ok()?;
        if kind == 0 {
            return Some(escape_bytes(name));
        }
    }
    None
}

fn parse_client_hello_inner(body: &[u8], dtls: bool) -> Result<ClientHello, TlsError> {
    let mut cur = Cursor::new(body);
    let mut ch = ClientHello {
        legacy_version: cur.u16()?,
        ..ClientHello::default()
    };
    cur.take(32)?; // random
    cur.vec8()?; // session id
    if dtls {
        cur.vec8()?; // cookie
    }
    let at = cur.pos;
    let ciphers = cur.vec16()?;
    if ciphers.len() % 2 != 0 {
        return Err(TlsError::BadLength { offset: at });
    }
    ch.ciphers = u16s(ciphers);
    cur.vec8()?; // compression methods
    ch.extensions = extensions(&mut cur, |t, data| match t {
        ext::SERVER_NAME if ch.sni.is_none() => ch.sni = sni_from(data),
        ext::ALPN => {
            let mut c = Cursor::new(data);
            if let Ok(list) = c.vec16() {
                let mut list = Cursor::new(list);
                while let Ok(p) = list.vec8() {
                    let s = escape_bytes(p);
                    if ch.alpn.is_empty() && s.as_bytes() != p {
                        ch.alpn_first_raw = Some(p.to_vec());
                    }
                    ch.alpn.push(s);
                }
            }
        }
        ext::SUPPORTED_GROUPS => {
            ch.groups = Cursor::new(data).vec16().map(u16s).unwrap_or_default();
        }
        ext::EC_POINT_FORMATS => {
            ch.point_formats = Cursor::new(data)
                .vec8()
                .map(<[u8]>::to_vec)
                .unwrap_or_default();
        }
        ext::SIGNATURE_ALGORITHMS => {
            ch.sig_algs = Cursor::new(data).vec16().map(u16s).unwrap_or_default();
        }
        ext::SUPPORTED_VERSIONS => {
            ch.supported_versions = Cursor::new(data).vec8().map(u16s).unwrap_or_default();
        }
        _ => {}
    })?;
    Ok(ch)
}

/// Parses a ClientHello handshake message body (after the 4-byte handshake header).
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello, TlsError> {
    parse_client_hello_inner(body, false)
}

/// Parses a ServerHello handshake message body (after the 4-byte handshake header),
/// including the pre-draft-22 TLS 1.3 layout (no session id, no compression method).
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut cur = Cursor::new(body);
    let legacy_version = cur.u16()?;
    cur.take(32)?; // random
    let old_draft = legacy_version >> 8 == 0x7f && (legacy_version & 0xff) < 22;
    if !old_draft {
        cur.vec8()?; // session id
    }
    let cipher = cur.u16()?;
    if !old_draft {
        cur.u8()?; // compression method
    }
    let mut selected_version = None;
    let extensions = extensions(&mut cur, |t, data| {
        if t == ext::SUPPORTED_VERSIONS {
            if let [a, b] = *data {
                selected_version = Some(u16::from_be_bytes([a, b]));
            }
        }
    })?;
    Ok(ServerHello {
        legacy_version,
        cipher,
        extensions,
        selected_version,
    })
}

/// Handshake message type of a Certificate message.
pub const HS_CERTIFICATE: u8 = 11;
/// Handshake message type of a CertificateRequest message.
pub const HS_CERTIFICATE_REQUEST: u8 = 13;
/// Handshake message type of a ServerHelloDone message.
pub const HS_SERVER_HELLO_DONE: u8 = 14;

/// The DER certificates of a Certificate handshake message body (TLS 1.0 to 1.2 framing: a
/// 3-byte chain length, then 3-byte-length-prefixed certificates; the first is the sender's
/// own). The chain length must fit the body; like Suricata, certificates are taken until
/// one runs past the chain (the ones before it are kept), and zero-length entries end the
/// list. Returns an error only when the chain header is broken.
pub fn certificate_list(body: &[u8]) -> Result<Vec<&[u8]>, TlsError> {
    let mut cur = Cursor::new(body);
    let total = u24(&mut cur).ok_or(TlsError::Truncated { offset: 0 })?;
    if total > cur.remaining() {
        return Err(TlsError::BadLength { offset: 0 });
    }
    let mut chain = Cursor::new(&body[3..3 + total]);
    let mut certs = Vec::new();
    while chain.remaining() > 0 {
        let Some(len) = u24(&mut chain) else { break };
        if len == 0 {
            break;
        }
        match chain.take(len) {
            Ok(der) => certs.push(der),
            Err(_) => break,
        }
    }
    Ok(certs)
}

/// Parses a ClientHello carried unfragmented in one DTLS datagram (record header, 12-byte
/// DTLS handshake header, cookie field). Use [`DtlsHelloReassembler`] when the hello may be
/// fragmented across datagrams.
pub fn dtls_client_hello(datagram: &[u8]) -> Option<ClientHello> {
    DtlsHelloReassembler::new().push(datagram)
}

/// Reassembles a DTLS ClientHello that may be fragmented across records and datagrams
/// (handshake fragments carry offset and length). Fragments may arrive in any order and
/// overlap; a fragment of a different message sequence number restarts the assembly.
/// Hellos larger than 64 KiB are ignored.
#[derive(Debug, Clone, Default)]
pub struct DtlsHelloReassembler {
    /// (message sequence, message length) of the hello being assembled.
    current: Option<(u16, usize)>,
    buf: Vec<u8>,
    have: Vec<bool>,
    missing: usize,
}

impl DtlsHelloReassembler {
    /// An empty reassembler.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one datagram (client to server); returns the ClientHello once complete.
    pub fn push(&mut self, datagram: &[u8]) -> Option<ClientHello> {
        let mut rec = Cursor::new(datagram);
        while rec.remaining() >= 13 {
            let (ty, major) = (rec.u8().ok()?, rec.u8().ok()?);
            rec.take(1 + 2 + 6).ok()?; // minor version, epoch, sequence number
            let payload = rec.vec16().ok()?;
            if major != 0xfe {
                return None;
            }
            if ty != CT_HANDSHAKE {
                continue;
            }
            let mut hs = Cursor::new(payload);
            while hs.remaining() >= 12 {
                let msg_type = hs.u8().ok()?;
                let len = u24(&mut hs)?;
                let seq = hs.u16().ok()?;
                let (off, flen) = (u24(&mut hs)?, u24(&mut hs)?);
                let frag = hs.take(flen).ok()?;
                if msg_type != 1 {
                    continue;
                }
                if let Some(ch) = self.fragment(seq, len, off, frag) {
                    return Some(ch);
                }
            }
        }
        None
    }

    fn fragment(&mut self, seq: u16, len: usize, off: usize, frag: &[u8]) -> Option<ClientHello> {
        let end = off.checked_add(frag.len())?;
        if len > MAX_HANDSHAKE_MSG || end > len {
            return None;
        }
        if self.current != Some((seq, len)) {
            self.current = Some((seq, len));
            self.buf = vec![0; len];
            self.have = vec![false; len];
            self.missing = len;
        }
        self.buf.get_mut(off..end)?.copy_from_slice(frag);
        for h in self.have.get_mut(off..end)? {
            if !*h {
                *h = true;
                self.missing -= 1;
            }
        }
        if self.missing > 0 {
            return None;
        }
        self.current = None;
        let body = std::mem::take(&mut self.buf);
        self.have = Vec::new();
        parse_client_hello_inner(&body, true).ok()
    }
}

fn u24(c: &mut Cursor<'_>) -> Option<usize> {
    let b = c.take(3).ok()?;
    Some(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
}

/// Record content types.
const CT_CHANGE_CIPHER_SPEC: u8 = 20;
const CT_ALERT: u8 = 21;
const CT_HANDSHAKE: u8 = 22;
const CT_APPLICATION_DATA: u8 = 23;
const CT_HEARTBEAT: u8 = 24;

/// Largest record payload TLS allows (2^14 plus expansion).
const MAX_RECORD: usize = (1 << 14) + 2048;
/// Handshake messages larger than this are skipped (not returned).
const MAX_HANDSHAKE_MSG: usize = 64 * 1024;
/// Bytes of complete messages that may wait in the queue.
const MAX_QUEUED: usize = 256 * 1024;

/// Reassembles handshake messages from an in-order stream of TLS records, until the stream
/// turns encrypted (ChangeCipherSpec or application data), after which input is ignored and
/// [`done`](Self::done) is true. Alerts and heartbeats are skipped.
///
/// Memory is bounded: record payloads are streamed, one incomplete handshake message of at
/// most 64 KiB is buffered (larger messages, e.g. huge certificate chains, are skipped), and
/// at most 256 KiB of complete messages wait for [`next_message`](Self::next_message).
#[derive(Debug, Clone, Default)]
pub struct HandshakeReader {
    /// Stream bytes consumed so far (for error offsets).
    offset: usize,
    rec_hdr: [u8; 5],
    rec_hdr_len: usize,
    /// Content type and bytes left of the record being read, if inside one.
    record: Option<(u8, usize)>,
    hs_hdr: [u8; 4],
    hs_hdr_len: usize,
    hs_body: Vec<u8>,
    hs_want: usize,
    hs_skip: usize,
    ready: VecDeque<(u8, Vec<u8>)>,
    ready_bytes: usize,
    done: bool,
    failed: Option<TlsError>,
}

impl HandshakeReader {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds in-order stream bytes. After an error the reader stays failed and returns the
    /// same error; after the handshake turned encrypted, input is ignored.
    pub fn push(&mut self, data: &[u8]) -> Result<(), TlsError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut data = data;
        while !data.is_empty() && !self.done {
            let Some((ty, left)) = self.record else {
                let n = (5 - self.rec_hdr_len).min(data.len());
                self.rec_hdr[self.rec_hdr_len..self.rec_hdr_len + n].copy_from_slice(&data[..n]);
                self.rec_hdr_len += n;
                self.offset += n;
                data = &data[n..];
                if self.rec_hdr_len == 5 {
                    self.rec_hdr_len = 0;
                    self.start_record()?;
                }
                continue;
            };
            let n = left.min(data.len());
            if ty == CT_HANDSHAKE {
                self.handshake_bytes(&data[..n])?;
            }
            self.offset += n;
            data = &data[n..];
            self.record = (left > n).then_some((ty, left - n));
        }
        Ok(())
    }

    fn fail(&mut self, e: TlsError) -> Result<(), TlsError> {
        self.failed = Some(e.clone());
        Err(e)
    }

    fn start_record(&mut self) -> Result<(), TlsError> {
        let [ty, major, _, hi, lo] = self.rec_hdr;
        let at = self.offset - 5;
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if major != 3 {
            return self.fail(TlsError::NotTls { offset: at });
        }
        match ty {
            CT_CHANGE_CIPHER_SPEC | CT_APPLICATION_DATA => self.done = true,
            CT_HANDSHAKE | CT_ALERT | CT_HEARTBEAT if len > MAX_RECORD => {
                return self.fail(TlsError::RecordTooLarge { offset: at });
            }
            CT_HANDSHAKE | CT_ALERT | CT_HEARTBEAT => {
                self.record = (len > 0).then_some((ty, len));
            }
            _ => return self.fail(TlsError::NotTls { offset: at }),
        }
        Ok(())
    }

    /// Handshake-layer bytes from a record payload.
    fn handshake_bytes(&mut self, mut data: &[u8]) -> Result<(), TlsError> {
        let mut at = self.offset;
        while !data.is_empty() {
            let n = if self.hs_skip > 0 {
                let n = self.hs_skip.min(data.len());
                self.hs_skip -= n;
                n
            } else if self.hs_hdr_len < 4 {
                let n = (4 - self.hs_hdr_len).min(data.len());
                self.hs_hdr[self.hs_hdr_len..self.hs_hdr_len + n].copy_from_slice(&data[..n]);
                self.hs_hdr_len += n;
                if self.hs_hdr_len == 4 {
                    let [_, a, b, c] = self.hs_hdr;
                    let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
                    if len > MAX_HANDSHAKE_MSG {
                        self.hs_skip = len;
                        self.hs_hdr_len = 0;
                    } else {
                        self.hs_want = len;
                        self.hs_body = Vec::with_capacity(len);
                        if len == 0 {
                            self.finish_message(at + n)?;
                        }
                    }
                }
                n
            } else {
                let n = (self.hs_want - self.hs_body.len()).min(data.len());
                self.hs_body.extend_from_slice(&data[..n]);
                if self.hs_body.len() == self.hs_want {
                    self.finish_message(at + n)?;
                }
                n
            };
            data = &data[n..];
            at += n;
        }
        Ok(())
    }

    fn finish_message(&mut self, at: usize) -> Result<(), TlsError> {
        self.hs_hdr_len = 0;
        let body = std::mem::take(&mut self.hs_body);
        if self.ready_bytes + body.len() > MAX_QUEUED {
            return self.fail(TlsError::BufferFull { offset: at });
        }
        self.ready_bytes += body.len();
        self.ready.push_back((self.hs_hdr[0], body));
        Ok(())
    }

    /// The next complete handshake message: its type and body (without the 4-byte header).
    pub fn next_message(&mut self) -> Option<(u8, Vec<u8>)> {
        let msg = self.ready.pop_front()?;
        self.ready_bytes -= msg.1.len();
        Some(msg)
    }

    /// `true` once ChangeCipherSpec or application data was seen: the rest is encrypted.
    pub fn done(&self) -> bool {
        self.done
    }

    /// Stream bytes consumed so far.
    pub fn consumed(&self) -> usize {
        self.offset
    }
}

/// Protocol-detection probe: a handshake record (`0x16`) with version `0x0300..=0x0304` that,
/// once six bytes are available, carries a ClientHello or ServerHello. A shorter buffer that
/// is still a prefix of such a record counts too.
pub fn looks_like_tls(buf: &[u8]) -> bool {
    match buf {
        [] => false,
        [0x16] | [0x16, 3] => true,
        [0x16, 3, minor, ..] if *minor <= 4 => buf.get(5).is_none_or(|t| matches!(t, 1 | 2)),
        _ => false,
    }
}

/// GREASE values (RFC 8701): `0x?a?a` with equal bytes.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn push_list<T: std::fmt::Display>(s: &mut String, items: impl Iterator<Item = T>) {
    for (i, v) in items.enumerate() {
        if i > 0 {
            s.push('-');
        }
        // Writing to a String cannot fail.
        let _ = write!(s, "{v}");
    }
}

fn no_grease(v: &[u16]) -> impl Iterator<Item = u16> + '_ {
    v.iter().copied().filter(|v| !is_grease(*v))
}

/// The JA3 string: `version,ciphers,extensions,groups,point_formats`, decimal values joined
/// with `-`, GREASE removed.
pub fn ja3_string(ch: &ClientHello) -> String {
    let mut s = String::with_capacity(64 + 6 * (ch.ciphers.len() + ch.extensions.len()));
    let _ = write!(s, "{},", ch.legacy_version);
    push_list(&mut s, no_grease(&ch.ciphers));
    s.push(',');
    push_list(&mut s, no_grease(&ch.extensions));
    s.push(',');
    push_list(&mut s, no_grease(&ch.groups));
    s.push(',');
    push_list(&mut s, ch.point_formats.iter());
    s
}

/// The JA3S string: `version,cipher,extensions`.
pub fn ja3s_string(sh: &ServerHello) -> String {
    let mut s = format!("{},{},", sh.legacy_version, sh.cipher);
    push_list(&mut s, no_grease(&sh.extensions));
    s
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Lowercase hex MD5 of a string (the JA3/JA3S hash).
pub fn md5_hex(s: &str) -> String {
    hex(&Md5::digest(s.as_bytes()))
}

/// The transport a ClientHello was seen on (first character of JA4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TLS over TCP: `t`.
    Tcp,
    /// QUIC: `q`.
    Quic,
    /// DTLS: `d`.
    Dtls,
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// JA4's two ALPN characters for the first ALPN value: its first and last byte if both are
/// ASCII alphanumeric, else the first hex digit of the first byte and the last hex digit of
/// the last byte; `00` if there is none.
fn ja4_alpn(first: &[u8]) -> [char; 2] {
    let (Some(&a), Some(&b)) = (first.first(), first.last()) else {
        return ['0', '0'];
    };
    if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() {
        [char::from(a), char::from(b)]
    } else {
        let h = |n: u8| char::from_digit(u32::from(n), 16).unwrap_or('0');
        [h(a >> 4), h(b & 0x0f)]
    }
}

/// First 12 hex characters of the SHA-256 of `s`, or `000000000000` for an empty list.
fn ja4_hash(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_owned();
    }
    let mut h = hex(&Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

fn hex_list(items: impl Iterator<Item = u16>) -> String {
    let mut s = String::new();
    for (i, v) in items.enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
    s
}

/// The three parts of JA4 before hashing (JA4_r without the hashes applied): the prefix,
/// the sorted cipher list and the sorted extension list plus signature algorithms.
fn ja4_raw(ch: &ClientHello, transport: Transport) -> (String, String, String) {
    let proto = match transport {
        Transport::Tcp => 't',
        Transport::Quic => 'q',
        Transport::Dtls => 'd',
    };
    let version = no_grease(&ch.supported_versions)
        .max()
        .unwrap_or(ch.legacy_version);
    let sni = if ch.extensions.contains(&ext::SERVER_NAME) {
        'd'
    } else {
        'i'
    };
    let ciphers = no_grease(&ch.ciphers).count().min(99);
    let exts = no_grease(&ch.extensions).count().min(99);
    let first_alpn = match (&ch.alpn_first_raw, ch.alpn.first()) {
        (Some(raw), _) => raw.as_slice(),
        (None, Some(a)) => a.as_bytes(),
        (None, None) => &[],
    };
    let [a0, a1] = ja4_alpn(first_alpn);
    let v = ja4_version(version);
    let a = format!("{proto}{v}{sni}{ciphers:02}{exts:02}{a0}{a1}");

    let mut sorted: Vec<u16> = no_grease(&ch.ciphers).collect();
    sorted.sort_unstable();
    let b = hex_list(sorted.into_iter());

    let mut sorted: Vec<u16> = no_grease(&ch.extensions)
        .filter(|&e| e != ext::SERVER_NAME && e != ext::ALPN)
        .collect();
    sorted.sort_unstable();
    let mut c = hex_list(sorted.into_iter());
    if !c.is_empty() && no_grease(&ch.sig_algs).next().is_some() {
        c.push('_');
        c.push_str(&hex_list(no_grease(&ch.sig_algs)));
    }
    (a, b, c)
}

/// The JA4 fingerprint (FoxIO specification), e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`.
pub fn ja4(ch: &ClientHello, transport: Transport) -> String {
    let (a, b, c) = ja4_raw(ch, transport);
    format!("{a}_{}_{}", ja4_hash(&b), ja4_hash(&c))
}

/// Suricata's `tls.version` string for a protocol version (`SSLVersionToString`), including
/// its TLS 1.3 draft names. Suricata prints unknown versions as `0x%04x`; those (and 0) are
/// `"UNDETERMINED"` here.
pub fn version_name(v: u16) -> &'static str {
    const DRAFTS: [&str; 13] = [
        "TLS 1.3 draft-16",
        "TLS 1.3 draft-17",
        "TLS 1.3 draft-18",
        "TLS 1.3 draft-19",
        "TLS 1.3 draft-20",
        "TLS 1.3 draft-21",
        "TLS 1.3 draft-22",
        "TLS 1.3 draft-23",
        "TLS 1.3 draft-24",
        "TLS 1.3 draft-25",
        "TLS 1.3 draft-26",
        "TLS 1.3 draft-27",
        "TLS 1.3 draft-28",
    ];
    match v {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv1", // sic: Suricata's string for TLS 1.0
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0x7f01..=0x7f0f => "TLS 1.3 draft-<16",
        0x7f10..=0x7f1c => DRAFTS[usize::from(v - 0x7f10)],
        0xfb14 => "TLS 1.3 draft-20-fb",
        0xfb15 => "TLS 1.3 draft-21-fb",
        0xfb16 => "TLS 1.3 draft-22-fb",
        0xfb17 => "TLS 1.3 draft-23-fb",
        0xfb1a => "TLS 1.3 draft-26-fb",
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        _ => "UNDETERMINED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testutil;

    /// Builds a ClientHello body.
    #[derive(Default)]
    struct Ch {
        version: u16,
        ciphers: Vec<u16>,
        exts: Vec<(u16, Vec<u8>)>,
    }

    fn v16(items: &[u16]) -> Vec<u8> {
        let mut v = ((items.len() * 2) as u16).to_be_bytes().to_vec();
        for i in items {
            v.extend_from_slice(&i.to_be_bytes());
        }
        v
    }

    impl Ch {
        fn body(&self, dtls_cookie: Option<&[u8]>) -> Vec<u8> {
            let mut b = self.version.to_be_bytes().to_vec();
            b.extend_from_slice(&[7; 32]);
            b.extend_from_slice(&[3, 1, 2, 3]); // session id
            if let Some(c) = dtls_cookie {
                b.push(c.len() as u8);
                b.extend_from_slice(c);
            }
            b.extend(v16(&self.ciphers));
            b.extend_from_slice(&[1, 0]);
            let mut e = Vec::new();
            for (t, d) in &self.exts {
                e.extend_from_slice(&t.to_be_bytes());
                e.extend_from_slice(&(d.len() as u16).to_be_bytes());
                e.extend_from_slice(d);
            }
            b.extend_from_slice(&(e.len() as u16).to_be_bytes());
            b.extend(e);
            b
        }
    }

    fn sni_ext(name: &str) -> Vec<u8> {
        let mut v = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        v.push(0);
        v.extend_from_slice(&(name.len() as u16).to_be_bytes());
        v.extend_from_slice(name.as_bytes());
        v
    }

    fn alpn_ext(protos: &[&[u8]]) -> Vec<u8> {
        let mut l = Vec::new();
        for p in protos {
            l.push(p.len() as u8);
            l.extend_from_slice(p);
        }
        let mut v = (l.len() as u16).to_be_bytes().to_vec();
        v.extend(l);
        v
    }

    /// The FoxIO JA4 specification's example hello, with GREASE sprinkled in.
    fn foxio_example(with_sigs: bool) -> Ch {
        let mut exts: Vec<(u16, Vec<u8>)> = vec![(0x0a0a, vec![])];
        for t in [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ] {
            let data = match t {
                0x0000 => sni_ext("example.com"),
                0x0010 => alpn_ext(&[b"h2", b"http/1.1"]),
                0x000d if with_sigs => v16(&[
                    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x2a2a,
                ]),
                0x000d => v16(&[]),
                0x002b => {
                    let mut v = vec![6];
                    v.extend_from_slice(&[0xda, 0xda, 0x03, 0x04, 0x03, 0x03]);
                    v
                }
                0x000a => v16(&[0x1a1a, 29, 23, 24]),
                0x000b => vec![1, 0],
                _ => vec![],
            };
            exts.push((t, data));
        }
        Ch {
            version: 0x0303,
            ciphers: vec![
                0x5a5a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            exts,
        }
    }

    #[test]
    fn client_hello_fields_and_fingerprints() {
        let ch = parse_client_hello(&foxio_example(true).body(None)).unwrap();
        assert_eq!(ch.legacy_version, 0x0303);
        assert_eq!(ch.ciphers.len(), 16);
        assert_eq!(ch.extensions.len(), 17);
        assert_eq!(ch.extensions[0], 0x0a0a);
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        assert_eq!(ch.alpn, ["h2", "http/1.1"]);
        assert_eq!(ch.groups, [0x1a1a, 29, 23, 24]);
        assert_eq!(ch.point_formats, [0]);
        assert_eq!(ch.sig_algs.len(), 9);
        assert_eq!(ch.supported_versions, [0xdada, 0x0304, 0x0303]);
        // FoxIO's documented example (technical_details/JA4.md), GREASE ignored everywhere.
        assert_eq!(
            ja4(&ch, Transport::Tcp),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        assert_eq!(
            ja4(&ch, Transport::Quic),
            "q13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        let ja3 = ja3_string(&ch);
        assert_eq!(
            ja3,
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
             27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
        );
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        // Without signature algorithms the hash input has no trailing '_' (spec: 6d807ffa2a79).
        let ch = parse_client_hello(&foxio_example(false).body(None)).unwrap();
        assert_eq!(
            ja4(&ch, Transport::Tcp),
            "t13d1516h2_8daaf6152771_6d807ffa2a79"
        );
        // No ciphers, no extensions: zero hashes; no supported_versions: legacy version.
        let bare = Ch {
            version: 0x0301,
            ..Ch::default()
        };
        let ch = parse_client_hello(&bare.body(None)).unwrap();
        assert_eq!(
            ja4(&ch, Transport::Tcp),
            "t10i000000_000000000000_000000000000"
        );
        assert_eq!(ja3_string(&ch), "769,,,,");
    }

    #[test]
    fn ja4_details() {
        assert_eq!(ja4_alpn(b""), ['0', '0']);
        assert_eq!(ja4_alpn(b"h2"), ['h', '2']);
        assert_eq!(ja4_alpn(b"http/1.1"), ['h', '1']);
        assert_eq!(ja4_alpn(b"a"), ['a', 'a']);
        // The spec's hex examples.
        assert_eq!(ja4_alpn(&[0xab]), ['a', 'b']);
        assert_eq!(ja4_alpn(&[0xab, 0xcd]), ['a', 'd']);
        assert_eq!(ja4_alpn(&[0x30, 0xab]), ['3', 'b']);
        assert_eq!(ja4_alpn(&[0x30, 0x31, 0xab, 0xcd]), ['3', 'd']);
        assert_eq!(ja4_alpn(&[0x30, 0xab, 0xcd, 0x31]), ['0', '1']);
        // A non-UTF-8 ALPN value goes through the raw bytes, not its escaped rendering.
        let mut ex = foxio_example(true);
        ex.exts[4].1 = alpn_ext(&[&[0xab, 0xcd], b"h2"]);
        let ch = parse_client_hello(&ex.body(None)).unwrap();
        assert_eq!(ch.alpn, ["\\xab\\xcd", "h2"]);
        assert!(ja4(&ch, Transport::Tcp).starts_with("t13d1516ad_"));
        // Counts are capped at 99; unknown versions are "00"; DTLS versions.
        let many = Ch {
            version: 0x0305,
            ciphers: (1..=150).collect(),
            exts: (0x100..0x200).map(|t| (t, vec![])).collect(),
        };
        let ch = parse_client_hello(&many.body(None)).unwrap();
        assert!(ja4(&ch, Transport::Dtls).starts_with("d00i999900_"));
        let ch = ClientHello {
            legacy_version: 0xfefd,
            ..ClientHello::default()
        };
        assert!(ja4(&ch, Transport::Dtls).starts_with("dd2i"));
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a));
        assert!(!is_grease(0x0b0b) && !is_grease(0x1301));
    }

    #[test]
    fn server_hello() {
        let mut b = 0x0303u16.to_be_bytes().to_vec();
        b.extend_from_slice(&[1; 32]);
        b.extend_from_slice(&[0]); // empty session id
        b.extend_from_slice(&[0x13, 0x01, 0]);
        b.extend_from_slice(&[0, 12, 0, 0x2b, 0, 2, 3, 4, 0, 0x33, 0, 2, 0, 0]);
        let sh = parse_server_hello(&b).unwrap();
        assert_eq!(sh.cipher, 0x1301);
        assert_eq!(sh.extensions, [43, 51]);
        assert_eq!(sh.selected_version, Some(0x0304));
        assert_eq!(ja3s_string(&sh), "771,4865,43-51");
        // Extension block longer than the message.
        let mut long = b.clone();
        long[39] = 13;
        assert_eq!(
            parse_server_hello(&long),
            Err(TlsError::Truncated { offset: 40 })
        );
        // Draft-19 layout: no session id, no compression.
        let mut d = 0x7f13u16.to_be_bytes().to_vec();
        d.extend_from_slice(&[1; 32]);
        d.extend_from_slice(&[0x13, 0x02, 0, 4, 0, 40, 0, 0]);
        let sh = parse_server_hello(&d).unwrap();
        assert_eq!(ja3s_string(&sh), "32531,4866,40");
        // No extensions at all (TLS 1.0 style).
        let sh = parse_server_hello(&b[..38]).unwrap();
        assert_eq!((sh.extensions.len(), sh.selected_version), (0, None));
    }

    #[test]
    fn malformed_hellos() {
        let body = foxio_example(true).body(None);
        // Odd cipher list length.
        let mut odd = body.clone();
        odd[35 + 4] = 0x1f;
        assert_eq!(
            parse_client_hello(&odd),
            Err(TlsError::BadLength { offset: 38 })
        );
        // Broken inner SNI list: the extension is recorded, the name is not.
        let mut ex = foxio_example(true);
        ex.exts[2].1 = vec![0, 50, 0, 0, 3, b'a'];
        let ch = parse_client_hello(&ex.body(None)).unwrap();
        assert_eq!((ch.sni.as_deref(), ch.extensions.len()), (None, 17));
        assert!(ja4(&ch, Transport::Tcp).starts_with("t13d"));
        let e = parse_client_hello(&body[..20]).unwrap_err();
        assert_eq!(e, TlsError::Truncated { offset: 2 });
        assert_eq!(e.to_string(), "tls data truncated at offset 2");
    }

    /// Wraps handshake bytes into records of at most `max` payload bytes.
    fn records(ty: u8, data: &[u8], max: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for c in data.chunks(max) {
            out.extend_from_slice(&[ty, 3, 3]);
            out.extend_from_slice(&(c.len() as u16).to_be_bytes());
            out.extend_from_slice(c);
        }
        out
    }

    fn hs_msg(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![ty];
        m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend_from_slice(body);
        m
    }

    fn read_all(chunks: &[&[u8]]) -> (Vec<(u8, Vec<u8>)>, bool) {
        let mut r = HandshakeReader::new();
        let mut out = Vec::new();
        for c in chunks {
            r.push(c).unwrap();
            while let Some(m) = r.next_message() {
                out.push(m);
            }
        }
        (out, r.done())
    }

    #[test]
    fn reassembly_across_records_and_pushes() {
        let ch = foxio_example(true).body(None);
        // One message over several records, then three messages in one record, then CCS and
        // an encrypted record that must be ignored.
        let mut stream = records(22, &hs_msg(1, &ch), 50);
        let mut flight = hs_msg(2, b"sh");
        flight.extend(hs_msg(11, &[9; 300]));
        flight.extend(hs_msg(14, b""));
        stream.extend(records(22, &flight, 1000));
        stream.extend(records(21, &[1, 0], 10)); // a warning alert, skipped
        stream.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
        stream.extend(records(22, &hs_msg(20, &[0; 12]), 100));
        let expected = vec![
            (1, ch.clone()),
            (2, b"sh".to_vec()),
            (11, vec![9; 300]),
            (14, vec![]),
        ];
        assert_eq!(read_all(&[&stream]), (expected.clone(), true));
        for split in 0..stream.len() {
            let (a, b) = stream.split_at(split);
            assert_eq!(read_all(&[a, b]), (expected.clone(), true), "split {split}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(read_all(&bytes), (expected, true));
        // Not done before the ChangeCipherSpec.
        assert!(!read_all(&[&stream[..stream.len() - 30]]).1);
    }

    #[test]
    fn reader_errors_and_limits() {
        let mut r = HandshakeReader::new();
        assert_eq!(
            r.push(b"GET / HTTP/1.1\r\n"),
            Err(TlsError::NotTls { offset: 0 })
        );
        assert_eq!(r.push(&[22, 3, 1]), Err(TlsError::NotTls { offset: 0 }));
        let mut r = HandshakeReader::new();
        let mut s = records(22, &hs_msg(1, b"x"), 100);
        s.extend_from_slice(&[25, 3, 3, 0, 0]);
        assert_eq!(r.push(&s), Err(TlsError::NotTls { offset: 10 }));
        assert_eq!(r.next_message(), Some((1, b"x".to_vec())));
        let mut r = HandshakeReader::new();
        assert_eq!(
            r.push(&[22, 3, 3, 0x48, 0x01]),
            Err(TlsError::RecordTooLarge { offset: 0 })
        );
        // A handshake message over 64 KiB is skipped; the next one is returned.
        let mut big = hs_msg(11, &vec![0; 70_000]);
        big.extend(hs_msg(14, b""));
        let (msgs, done) = read_all(&[&records(22, &big, 16384)]);
        assert_eq!((msgs, done), (vec![(14, vec![])], false));
        // The ready queue is bounded when nobody drains it.
        let mut r = HandshakeReader::new();
        let msg = records(22, &hs_msg(11, &vec![0; 60_000]), 16384);
        let mut err = None;
        for _ in 0..6 {
            if let Err(e) = r.push(&msg) {
                err = Some(e);
                break;
            }
        }
        assert!(matches!(err, Some(TlsError::BufferFull { .. })));
        // Empty records and zero-length messages.
        let mut s = vec![22, 3, 3, 0, 0];
        s.extend(records(22, &hs_msg(0, b""), 10));
        assert_eq!(read_all(&[&s]).0, vec![(0, vec![])]);
    }

    #[test]
    fn certificate_lists() {
        let cert = |n: usize, b: u8| {
            let mut v = (n as u32).to_be_bytes()[1..].to_vec();
            v.extend(vec![b; n]);
            v
        };
        let chain = |certs: &[Vec<u8>]| {
            let c = certs.concat();
            let mut v = (c.len() as u32).to_be_bytes()[1..].to_vec();
            v.extend(c);
            v
        };
        let body = chain(&[cert(3, 1), cert(2, 2)]);
        assert_eq!(certificate_list(&body), Ok(vec![&[1u8; 3][..], &[2; 2]]));
        assert_eq!(certificate_list(&chain(&[])), Ok(vec![]));
        // A certificate running past the chain ends the list; earlier ones are kept.
        let mut c = chain(&[cert(3, 1)]);
        c.extend([0, 0, 9, 7]);
        c[2] += 4;
        assert_eq!(certificate_list(&c), Ok(vec![&[1u8; 3][..]]));
        assert_eq!(
            certificate_list(&[0, 0]),
            Err(TlsError::Truncated { offset: 0 })
        );
        assert_eq!(
            certificate_list(&[0, 0, 5, 0]),
            Err(TlsError::BadLength { offset: 0 })
        );
        // A large chain spanning several records and pushes comes through whole.
        let big = chain(&[cert(5000, 7), cert(9000, 8)]);
        let mut stream = records(22, &hs_msg(2, b"sh"), 100);
        stream.extend(records(
            22,
            &[hs_msg(11, &big), hs_msg(14, b"")].concat(),
            4000,
        ));
        let pushes: Vec<&[u8]> = stream.chunks(1448).collect();
        let (msgs, _) = read_all(&pushes);
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[1].0, HS_CERTIFICATE);
        let certs = certificate_list(&msgs[1].1).unwrap();
        assert_eq!(
            certs.iter().map(|c| c.len()).collect::<Vec<_>>(),
            [5000, 9000]
        );
    }

    #[test]
    fn probe() {
        assert!(looks_like_tls(&[0x16]));
        assert!(looks_like_tls(&[0x16, 3, 1, 0, 0x80]));
        assert!(looks_like_tls(&[0x16, 3, 1, 2, 0, 1, 0, 1, 0xfc]));
        assert!(looks_like_tls(&[0x16, 3, 3, 0, 0x50, 2]));
        assert!(!looks_like_tls(&[0x16, 3, 3, 0, 0x50, 11]));
        assert!(!looks_like_tls(&[0x16, 3, 5]));
        assert!(!looks_like_tls(&[0x17, 3, 3]));
        assert!(!looks_like_tls(b""));
        assert!(!looks_like_tls(b"GET /"));
    }

    #[test]
    fn version_names() {
        assert_eq!(version_name(0x0303), "TLS 1.2");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        assert_eq!(version_name(0x0301), "TLSv1");
        assert_eq!(version_name(0x0300), "SSLv3");
        assert_eq!(version_name(0x0002), "SSLv2");
        assert_eq!(version_name(0x7f13), "TLS 1.3 draft-19");
        assert_eq!(version_name(0x7f1c), "TLS 1.3 draft-28");
        assert_eq!(version_name(0x7f0e), "TLS 1.3 draft-<16");
        assert_eq!(version_name(0xfefd), "DTLS 1.2");
        assert_eq!(version_name(0), "UNDETERMINED");
        assert_eq!(version_name(0x1234), "UNDETERMINED");
    }

    /// Expected values for one TLS connection of a capture: SNI per tshark
    /// `-e tls.handshake.extensions_server_name`, JA3/JA3S per tshark `tls.handshake.ja3*`
    /// (Wireshark 4.0) and, where named, Suricata-verify rule contents.
    struct Conn {
        file: &'static str,
        port: u16,
        sni: Option<&'static str>,
        ja3: &'static str,
        ja3s: &'static str,
        /// JA4 b and c parts per the Zeek JA4 package baselines, when available.
        ja4: Option<&'static str>,
    }

    const CONNS: &[Conn] = &[
        Conn {
            file: "pcaps/zeek/tls/chrome-34-google.pcap",
            port: 443,
            sni: Some("google.de"),
            ja3: "a607f3a5c94c2ee592af1456f36c8367",
            ja3s: "9f5e2e0d84076af5475bbe44debdb03e",
            ja4: Some("t12d2011s3_8dd61975155f_06a4338d0495"),
        },
        Conn {
            file: "pcaps/zeek/tls/openjdk-25.0.2-zeek.org.pcap",
            port: 443,
            sni: Some("zeek.org"),
            ja3: "bddb16608b241c89053080cf80771423",
            ja3s: "15af977ce25de452b96affa2addb1036",
            ja4: None,
        },
        Conn {
            file: "pcaps/zeek/tls/tls1_1.pcap",
            port: 443,
            sni: None,
            ja3: "5eb6e1fe80f696450a62a48bb3d6a965",
            ja3s: "b5237e0430ad71aac52aa90b6627cb5f",
            // The Zeek JA4 package hashes "000a,000b,000f,0023_" (trailing '_', as Suricata
            // does) to e190e6f68b9b; the FoxIO spec omits the '_' without signature
            // algorithms. Raw form checked in `ja4_raw_forms`.
            ja4: Some("t11i500400_59a6c70126c8_282f11336259"),
        },
        Conn {
            file: "pcaps/zeek/tls/tls-13draft19-early-data.pcap",
            port: 13443,
            sni: None,
            ja3: "7e39335db773838c84df131a7658a1f9",
            ja3s: "cd05e941742c0d4f628a68716ca021f9",
            ja4: Some("t00i310900_e8f1e7e78f70_c5203e7bca43"),
        },
        Conn {
            file: "suricata-verify/tests/tls/tls-certs-alert/input.pcap",
            port: 443,
            sni: Some("example.com"),
            // detect-bidir-ja3: ja3.string starts with "771,49196-49200".
            ja3: "1fe4c7a3544eb27afec2adfb3a3dbf60",
            // detect-bidir-ja3: ja3s.hash 5d79edf64e03689ff559a54e9d9487bc.
            ja3s: "5d79edf64e03689ff559a54e9d9487bc",
            ja4: None,
        },
        Conn {
            file: "suricata-verify/tests/bug-8336-01-default-track-only/input.pcap",
            port: 443,
            sni: Some("docs.suricata.io"),
            // bug-8336: ja3.hash fae0e5d9..., ja3s.hash 907bf3ec...
            ja3: "fae0e5d973c96ae1888b99538efa0363",
            ja3s: "907bf3ecef1c987c889946b737b43de8",
            ja4: None,
        },
        Conn {
            file: "suricata-verify/tests/tls/tls-client-hello-frag-01/dump_mtu300.pcap",
            port: 443,
            sni: Some("www.google.com"),
            ja3: "a64c29923906f2a1be278be1da0714fa",
            ja3s: "a27e76e64afe9199440ad714848966f8",
            ja4: None,
        },
        Conn {
            file: "suricata-verify/tests/tls/tls-store-02/tls-client-auth.pcap",
            port: 8081,
            sni: Some("localhost"),
            ja3: "2a26b1a62e40d25d4de3babc9d532f30",
            ja3s: "a9e3ed16ee3208291487c8d2aa2ad924",
            ja4: None,
        },
    ];

    /// Runs one direction of a connection through the reader, segment by segment, and
    /// returns the first hello body of type `want`.
    fn hello(segments: &[Vec<u8>], want: u8) -> (Vec<u8>, bool) {
        let mut r = HandshakeReader::new();
        let mut found = None;
        for s in segments {
            r.push(s).unwrap();
            while let Some((ty, body)) = r.next_message() {
                if ty == want && found.is_none() {
                    found = Some(body);
                }
            }
        }
        (found.expect("hello present"), r.done())
    }

    #[test]
    fn captures_match_oracles() {
        for c in CONNS {
            let pcap = testutil::read_data(c.file);
            let client_port = testutil::tcp_client_ports(&pcap, c.port)[0];
            let segs = testutil::tcp_segments(&pcap, c.port, client_port, true);
            let (body, _) = hello(&segs, 1);
            let ch = parse_client_hello(&body).unwrap();
            assert_eq!(ch.sni.as_deref(), c.sni, "{}", c.file);
            assert_eq!(md5_hex(&ja3_string(&ch)), c.ja3, "{}", c.file);
            if let Some(j) = c.ja4 {
                assert_eq!(ja4(&ch, Transport::Tcp), j, "{}", c.file);
            }
            // Byte-by-byte delivery gives the same message.
            let one: Vec<Vec<u8>> = segs.concat().chunks(1).map(<[u8]>::to_vec).collect();
            assert_eq!(hello(&one, 1).0, body);
            let segs = testutil::tcp_segments(&pcap, c.port, client_port, false);
            let (body, _) = hello(&segs, 2);
            let sh = parse_server_hello(&body).unwrap();
            assert_eq!(md5_hex(&ja3s_string(&sh)), c.ja3s, "{}", c.file);
        }
    }

    #[test]
    fn capture_details() {
        // detect-bidir-ja3's ja3.string content.
        let pcap = testutil::read_data("suricata-verify/tests/tls/tls-certs-alert/input.pcap");
        let port = testutil::tcp_client_ports(&pcap, 443)[0];
        let (body, done) = hello(&testutil::tcp_segments(&pcap, 443, port, true), 1);
        assert!(done, "client turned encrypted after ChangeCipherSpec");
        let ch = parse_client_hello(&body).unwrap();
        assert!(ja3_string(&ch).starts_with("771,49196-49200"));
        // Full JA3 strings per tshark's tls.handshake.ja3_full.
        let pcap = testutil::read_data("pcaps/zeek/tls/openjdk-25.0.2-zeek.org.pcap");
        let port = testutil::tcp_client_ports(&pcap, 443)[0];
        let ch = parse_client_hello(&hello(&testutil::tcp_segments(&pcap, 443, port, true), 1).0)
            .unwrap();
        assert_eq!(
            ja3_string(&ch),
            "771,4866-4865-4867-49196-49195-52393-49200-52392-49199-159-52394-163-158-162-49188-\
             49192-49187-49191-107-106-103-64-49162-49172-49161-49171-57-56-51-50-255,\
             0-5-10-11-16-17-23-35-13-43-45-50-51,29-23-24-25-30-256-257-258-259-260,0"
        );
        assert_eq!(
            version_name(no_grease(&ch.supported_versions).max().unwrap()),
            "TLS 1.3"
        );
        let (body, _) = hello(&testutil::tcp_segments(&pcap, 443, port, false), 2);
        let sh = parse_server_hello(&body).unwrap();
        assert_eq!(ja3s_string(&sh), "771,4866,43-51");
        assert_eq!(sh.selected_version, Some(0x0304));
        // The draft-19 capture holds a second (0-RTT) connection.
        let pcap = testutil::read_data("pcaps/zeek/tls/tls-13draft19-early-data.pcap");
        let ports = testutil::tcp_client_ports(&pcap, 13443);
        assert_eq!(ports.len(), 2);
        let segs = testutil::tcp_segments(&pcap, 13443, ports[1], true);
        let ch = parse_client_hello(&hello(&segs, 1).0).unwrap();
        assert_eq!(
            md5_hex(&ja3_string(&ch)),
            "ed9124b23109dcaafd6ee8658fd49284"
        );
        let (body, _) = hello(&testutil::tcp_segments(&pcap, 13443, ports[1], false), 2);
        let sh = parse_server_hello(&body).unwrap();
        assert_eq!(
            md5_hex(&ja3s_string(&sh)),
            "98608fd44e22395cd5b24412b9b24ba7"
        );
        assert_eq!(version_name(sh.legacy_version), "TLS 1.3 draft-19");
        // tls-fingerprint-alert: ClientHello only.
        let pcap =
            testutil::read_data("suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap");
        let port = testutil::tcp_client_ports(&pcap, 443)[0];
        let ch = parse_client_hello(&hello(&testutil::tcp_segments(&pcap, 443, port, true), 1).0)
            .unwrap();
        assert_eq!(ch.sni.as_deref(), Some("www.google.com"));
        assert_eq!(
            md5_hex(&ja3_string(&ch)),
            "39d8c2cad4b5f346d621cbcca5b6189b"
        );
    }

    #[test]
    fn ja4_raw_forms() {
        // tls1_1.pcap: the raw lists from the Zeek JA4 package baseline.
        let pcap = testutil::read_data("pcaps/zeek/tls/tls1_1.pcap");
        let port = testutil::tcp_client_ports(&pcap, 443)[0];
        let ch = parse_client_hello(&hello(&testutil::tcp_segments(&pcap, 443, port, true), 1).0)
            .unwrap();
        let (a, b, c) = ja4_raw(&ch, Transport::Tcp);
        assert_eq!(a, "t11i500400");
        assert!(b.starts_with("0004,0005,0007,000a,000d,0010,0013,0016,002f,0030,"));
        assert!(b.ends_with(",c00f,c011,c012,c013,c014"));
        assert_eq!(c, "000a,000b,000f,0023");
        assert_eq!(ja4_hash(&format!("{c}_")), "e190e6f68b9b");
        // FoxIO's JA4_r for its example hello.
        let ch = parse_client_hello(&foxio_example(true).body(None)).unwrap();
        let (a, b, c) = ja4_raw(&ch, Transport::Tcp);
        assert_eq!(
            format!("{a}_{b}_{c}"),
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,\
             cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,\
             0804,0401,0503,0805,0501,0806,0601"
        );
    }

    /// A DTLS datagram with one handshake record holding one ClientHello fragment.
    fn dtls_datagram(seq: u16, body: &[u8], off: usize, frag_len: usize) -> Vec<u8> {
        let frag = &body[off..off + frag_len];
        let mut dg = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1];
        dg.extend_from_slice(&((frag.len() + 12) as u16).to_be_bytes());
        dg.push(1);
        dg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        dg.extend_from_slice(&seq.to_be_bytes());
        dg.extend_from_slice(&(off as u32).to_be_bytes()[1..]);
        dg.extend_from_slice(&(frag.len() as u32).to_be_bytes()[1..]);
        dg.extend_from_slice(frag);
        dg
    }

    #[test]
    fn dtls_capture() {
        let pcap = testutil::read_data("pcaps/zeek/tls/dtls1_2.pcap");
        let mut r = DtlsHelloReassembler::new();
        let hellos: Vec<(usize, ClientHello)> = testutil::udp_payloads(&pcap)
            .into_iter()
            .filter(|p| p.dport == 4400)
            .filter_map(|p| r.push(&p.payload).map(|ch| (p.frame, ch)))
            .collect();
        // Complete at frames 2 and 5 per tshark (fragmented; the second carries the cookie).
        assert_eq!(hellos.iter().map(|h| h.0).collect::<Vec<_>>(), [2, 5]);
        for (_, ch) in &hellos {
            assert_eq!(ch.legacy_version, 0xfefd);
            assert_eq!(md5_hex(&ja3_string(ch)), "3c3d129780d0066cd8936a6291a8d44f");
            // JA4 b and c parts per the Zeek JA4 package baseline for this capture.
            assert_eq!(
                ja4(ch, Transport::Dtls),
                "dd2i800500_9cedc1f1428b_a1e935682795"
            );
        }
        assert_eq!(version_name(hellos[0].1.legacy_version), "DTLS 1.2");
        // A single-datagram hello with a cookie, built by hand.
        let mut ex = foxio_example(true);
        ex.version = 0xfefd;
        let body = ex.body(Some(&[0xc0; 20]));
        let dg = dtls_datagram(0, &body, 0, body.len());
        let ch = dtls_client_hello(&dg).unwrap();
        assert_eq!(ch.sni.as_deref(), Some("example.com"));
        for len in 0..dg.len() {
            assert!(dtls_client_hello(&dg[..len]).is_none());
        }
        // Fragments out of order and overlapping, and a restart on a new message sequence.
        let mut r = DtlsHelloReassembler::new();
        assert!(r.push(&dtls_datagram(0, &body, 100, 50)).is_none());
        assert!(r.push(&dtls_datagram(1, &body, 0, 60)).is_none());
        assert!(r
            .push(&dtls_datagram(1, &body, 100, body.len() - 100))
            .is_none());
        assert!(r.push(&dtls_datagram(1, &body, 50, 20)).is_none());
        assert!(dtls_client_hello(&dtls_datagram(1, &body, 100, body.len() - 100)).is_none());
        let ch = r.push(&dtls_datagram(1, &body, 60, 50));
        assert_eq!(ch.and_then(|c| c.sni).as_deref(), Some("example.com"));
    }

    #[test]
    fn truncation_and_mutation_never_panic() {
        let mut samples = vec![
            foxio_example(true).body(None),
            foxio_example(false).body(None),
        ];
        let mut streams = Vec::new();
        for c in CONNS.iter().take(4) {
            let pcap = testutil::read_data(c.file);
            let port = testutil::tcp_client_ports(&pcap, c.port)[0];
            for to_server in [true, false] {
                let segs = testutil::tcp_segments(&pcap, c.port, port, to_server);
                samples.push(hello(&segs, if to_server { 1 } else { 2 }).0);
                streams.push(segs.concat());
            }
        }
        let mut state = 0x1234_5678_9abc_def1u64;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for s in &samples {
            for len in 0..s.len() {
                let p = &s[..len];
                let _ = parse_client_hello(p).map(|ch| (ja3_string(&ch), ja4(&ch, Transport::Tcp)));
                let _ = parse_server_hello(p).map(|sh| ja3s_string(&sh));
                let _ = parse_client_hello_inner(p, true);
            }
            for _ in 0..300 {
                let mut m = s.clone();
                for _ in 0..1 + rnd() % 4 {
                    let i = (rnd() % m.len() as u64) as usize;
                    m[i] = rnd() as u8;
                }
                let _ = parse_client_hello(&m).map(|ch| ja4(&ch, Transport::Quic));
                let _ = parse_server_hello(&m);
            }
        }
        for s in &streams {
            for len in 0..s.len().min(4000) {
                let mut r = HandshakeReader::new();
                let _ = r.push(&s[..len]);
                while r.next_message().is_some() {}
                let _ = looks_like_tls(&s[..len]);
            }
            for _ in 0..100 {
                let mut m = s.clone();
                let i = (rnd() % m.len() as u64) as usize;
                m[i] = rnd() as u8;
                let mut r = HandshakeReader::new();
                for c in m.chunks(1 + (rnd() % 700) as usize) {
                    if r.push(c).is_err() {
                        break;
                    }
                }
                while let Some((ty, body)) = r.next_message() {
                    if ty == 1 {
                        let _ = parse_client_hello(&body);
                    }
                }
            }
        }
    }
}
