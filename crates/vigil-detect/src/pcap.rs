//! Capture reader for classic libpcap and pcapng files.
//!
//! [`CaptureReader`] auto-detects the format from the first four bytes and reads from any
//! [`std::io::Read`] sequentially (no seeking, so stdin and pipes work). The input is wrapped
//! in a large internal [`BufReader`], and record data is read into one reusable buffer, so
//! reading a packet does not allocate once the buffer has grown to the largest packet seen.
//!
//! Supported:
//! - classic pcap: microsecond (`0xa1b2c3d4`) and nanosecond (`0xa1b23c4d`) magics, both byte
//!   orders; the link type is the global header's `network` field with the FCS bits masked off.
//! - pcapng: Section Header Blocks in both byte orders (a new section resets the interfaces),
//!   Interface Description Blocks (`if_tsresol` as a power of 10 or 2, `if_tsoffset`),
//!   Enhanced Packet Blocks, Simple Packet Blocks and the obsolete Packet Block. All other
//!   block types are skipped after their framing has been validated.
//!
//! Any structural error ends the capture: after a [`CaptureError`] is returned,
//! [`CaptureReader::next_packet`] returns `Ok(None)`.

use std::io::{self, BufRead, BufReader, Read};
use std::time::Duration;

/// BSD loopback encapsulation: 4-byte address family in the writer's byte order.
pub const LINKTYPE_NULL: u32 = 0;
/// IEEE 802.3 Ethernet.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// Raw IP; the version nibble tells IPv4 from IPv6.
pub const LINKTYPE_RAW: u32 = 101;
/// OpenBSD loopback: 4-byte address family in network byte order.
pub const LINKTYPE_LOOP: u32 = 108;
/// Linux "cooked" capture, version 1 (16-byte header).
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// Raw IPv4.
pub const LINKTYPE_IPV4: u32 = 228;
/// Raw IPv6.
pub const LINKTYPE_IPV6: u32 = 229;
/// Linux "cooked" capture, version 2 (20-byte header).
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// Largest classic-pcap record we accept; anything larger is treated as corruption.
pub const MAX_PCAP_CAPLEN: u32 = 256 * 1024;
/// Largest pcapng block we accept; anything larger is treated as corruption.
pub const MAX_PCAPNG_BLOCK: u32 = 256 * 1024 * 1024;
/// Most interfaces one pcapng section may describe.
pub const MAX_PCAPNG_INTERFACES: usize = 65_536;

const PCAP_MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

const BLOCK_IDB: u32 = 0x0000_0001;
const BLOCK_PB: u32 = 0x0000_0002;
const BLOCK_SPB: u32 = 0x0000_0003;
const BLOCK_EPB: u32 = 0x0000_0006;

const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

const READ_BUFFER: usize = 256 * 1024;
/// Record buffers grow by at most this much per read, so a lying length field in a short
/// file cannot make us allocate hundreds of megabytes up front.
const GROW_CHUNK: usize = 1024 * 1024;

const NANOS_PER_SEC: u32 = 1_000_000_000;

/// A capture timestamp: time since the Unix epoch, UTC.
///
/// `nanos` is always below 1 000 000 000; negative times have negative `secs` and
/// non-negative `nanos` (e.g. -0.5 s is `{ secs: -1, nanos: 500_000_000 }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    /// Builds a timestamp, carrying excess nanoseconds into the seconds (saturating).
    pub fn new(secs: i64, nanos: u32) -> Self {
        let carry = i64::from(nanos / NANOS_PER_SEC);
        Timestamp {
            secs: secs.saturating_add(carry),
            nanos: nanos % NANOS_PER_SEC,
        }
    }

    /// Microseconds since the epoch (truncating sub-microsecond digits toward negative
    /// infinity; saturating at the `i64` range).
    pub fn as_micros(self) -> i64 {
        let us = i128::from(self.secs) * 1_000_000 + i128::from(self.nanos / 1_000);
        i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
    }

    /// The timestamp `us` microseconds after the epoch.
    pub fn from_micros(us: i64) -> Self {
        let secs = us.div_euclid(1_000_000);
        // rem_euclid is in 0..1_000_000, so the cast and multiplication cannot overflow.
        let nanos = us.rem_euclid(1_000_000) as u32 * 1_000;
        Timestamp { secs, nanos }
    }

    /// Nanoseconds since the epoch.
    pub fn as_nanos(self) -> i128 {
        i128::from(self.secs) * i128::from(NANOS_PER_SEC) + i128::from(self.nanos)
    }

    /// The timestamp `ns` nanoseconds after the epoch (saturating at the `i64` seconds range).
    pub fn from_nanos(ns: i128) -> Self {
        let per = i128::from(NANOS_PER_SEC);
        let secs = ns.div_euclid(per);
        let nanos = ns.rem_euclid(per) as u32;
        let secs = i64::try_from(secs).unwrap_or(if secs < 0 { i64::MIN } else { i64::MAX });
        Timestamp { secs, nanos }
    }

    /// Seconds since the epoch as a float (for display and rates).
    pub fn as_secs_f64(self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    /// Time elapsed from `earlier` to `self`, or `None` if `earlier` is later than `self`.
    pub fn duration_since(self, earlier: Timestamp) -> Option<Duration> {
        let diff = self.as_nanos().checked_sub(earlier.as_nanos())?;
        if diff < 0 {
            return None;
        }
        let per = i128::from(NANOS_PER_SEC);
        let secs = u64::try_from(diff / per).unwrap_or(u64::MAX);
        Some(Duration::new(secs, (diff % per) as u32))
    }

    /// `self + d`, saturating at the representable maximum.
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        let d_ns = i128::try_from(d.as_nanos()).unwrap_or(i128::MAX);
        Timestamp::from_nanos(self.as_nanos().saturating_add(d_ns))
    }

    /// `self - d`, saturating at the representable minimum.
    pub fn saturating_sub(self, d: Duration) -> Timestamp {
        let d_ns = i128::try_from(d.as_nanos()).unwrap_or(i128::MAX);
        Timestamp::from_nanos(self.as_nanos().saturating_sub(d_ns))
    }
}

/// Which container format the input uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// One packet as read from the capture. `data` borrows the reader's internal buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRecord<'a> {
    pub ts: Timestamp,
    pub linktype: u32,
    /// Captured bytes (possibly fewer than `orig_len` if the capture used a snap length).
    pub data: &'a [u8],
    /// Length of the packet on the wire; never smaller than `data.len()`.
    pub orig_len: u32,
    /// Byte offset of the record header (pcap) or block (pcapng) in the input.
    pub offset: u64,
}

/// Errors from [`CaptureReader`]. Every variant carries the byte offset in the input.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("read error at byte offset {offset}: {source}")]
    Io {
        offset: u64,
        #[source]
        source: io::Error,
    },
    #[error(
        "not a pcap or pcapng file: unknown magic {magic:#010x} at byte offset 0 (expected \
         pcap 0xa1b2c3d4 or 0xa1b23c4d in either byte order, or pcapng 0x0a0d0d0a)"
    )]
    NotACapture { magic: u32 },
    #[error(
        "truncated capture at byte offset {offset}: {what} needs {needed} bytes, only {got} available"
    )]
    Truncated {
        offset: u64,
        what: &'static str,
        needed: u64,
        got: u64,
    },
    #[error("corrupt capture at byte offset {offset}: {what}")]
    Corrupt { offset: u64, what: String },
}

impl CaptureError {
    /// Byte offset in the input where the problem was found.
    pub fn offset(&self) -> u64 {
        match self {
            CaptureError::Io { offset, .. }
            | CaptureError::Truncated { offset, .. }
            | CaptureError::Corrupt { offset, .. } => *offset,
            CaptureError::NotACapture { .. } => 0,
        }
    }
}

fn corrupt(offset: u64, what: impl Into<String>) -> CaptureError {
    CaptureError::Corrupt {
        offset,
        what: what.into(),
    }
}

/// Byte order of the current file or pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }
    fn u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }
    fn u64(self, b: [u8; 8]) -> u64 {
        match self {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        }
    }
    /// Reads a `u16` at `off` in `b`, `None` if out of range.
    fn u16_at(self, b: &[u8], off: usize) -> Option<u16> {
        Some(self.u16(array_at(b, off)?))
    }
    fn u32_at(self, b: &[u8], off: usize) -> Option<u32> {
        Some(self.u32(array_at(b, off)?))
    }
    fn u64_at(self, b: &[u8], off: usize) -> Option<u64> {
        Some(self.u64(array_at(b, off)?))
    }
}

fn array_at<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)?.try_into().ok()
}

/// Timestamp resolution of a pcapng interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsResol {
    /// Units of 10^-n seconds, n <= 38.
    Pow10(u8),
    /// Units of 2^-n seconds, n <= 127.
    Pow2(u8),
}

impl TsResol {
    fn to_timestamp(self, units: u64, offset_secs: i64) -> Timestamp {
        let units = u128::from(units);
        let (secs, nanos) = match self {
            TsResol::Pow10(n) => {
                // n <= 38, so 10^n fits in a u128.
                let per = 10u128.pow(u32::from(n));
                let frac = units % per;
                // frac < 2^64 and the factor is at most 10^9 < 2^30, so no overflow.
                let nanos = if n <= 9 {
                    frac * 10u128.pow(9 - u32::from(n))
                } else {
                    frac * u128::from(NANOS_PER_SEC) / per
                };
                (units / per, nanos)
            }
            TsResol::Pow2(n) => {
                let n = u32::from(n);
                let secs = units.checked_shr(n).unwrap_or(0);
                let frac = if n >= 64 {
                    units
                } else {
                    units & ((1u128 << n) - 1)
                };
                // frac < 2^64, times 10^9 < 2^94: fits.
                let nanos = (frac * u128::from(NANOS_PER_SEC))
                    .checked_shr(n)
                    .unwrap_or(0);
                (secs, nanos)
            }
        };
        let secs = i64::try_from(secs).unwrap_or(i64::MAX);
        // nanos < 10^9 by construction.
        Timestamp::new(secs.saturating_add(offset_secs), nanos as u32)
    }
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    resol: TsResol,
    ts_offset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Active,
    Done,
}

/// Sequential reader for pcap and pcapng captures.
pub struct CaptureReader<R: Read> {
    inner: BufReader<R>,
    format: CaptureFormat,
    endian: Endian,
    state: State,
    /// Bytes consumed from the input so far.
    pos: u64,
    skipped: u64,
    /// Reusable record/block buffer; only its first `len` bytes are valid per record.
    buf: Vec<u8>,
    // classic pcap
    pcap_nanos: bool,
    pcap_linktype: u32,
    // pcapng
    interfaces: Vec<Interface>,
    /// Timestamp of the last packet returned (used for timestamp-less simple packet blocks).
    last_ts: Timestamp,
}

impl<R: Read> std::fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format)
            .field("endian", &self.endian)
            .field("state", &self.state)
            .field("pos", &self.pos)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

/// Reads until `dst` is full or EOF, retrying on `Interrupted`; counts bytes into `pos`.
fn read_full<R: Read>(r: &mut R, dst: &mut [u8], pos: &mut u64) -> io::Result<usize> {
    let mut got = 0;
    while got < dst.len() {
        let Some(rest) = dst.get_mut(got..) else {
            break;
        };
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => {
                let n = n.min(rest.len());
                got += n;
                *pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl<R: Read> CaptureReader<R> {
    /// Wraps `reader`, reading and validating the file header (pcap global header or the
    /// first pcapng Section Header Block).
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        let mut r = CaptureReader {
            inner: BufReader::with_capacity(READ_BUFFER, reader),
            format: CaptureFormat::Pcap,
            endian: Endian::Little,
            state: State::Active,
            pos: 0,
            skipped: 0,
            buf: Vec::new(),
            pcap_nanos: false,
            pcap_linktype: 0,
            interfaces: Vec::new(),
            last_ts: Timestamp::default(),
        };
        let mut magic = [0u8; 4];
        let got = r.read_exact_at(&mut magic)?;
        if got < 4 {
            return Err(CaptureError::Truncated {
                offset: 0,
                what: "file header",
                needed: 24,
                got: got as u64,
            });
        }
        let be = u32::from_be_bytes(magic);
        let le = u32::from_le_bytes(magic);
        if be == PCAPNG_SHB {
            r.format = CaptureFormat::PcapNg;
            r.read_section_header(0, magic)?;
            return Ok(r);
        }
        let (endian, nanos) = match (be, le) {
            (PCAP_MAGIC_MICROS, _) => (Endian::Big, false),
            (PCAP_MAGIC_NANOS, _) => (Endian::Big, true),
            (_, PCAP_MAGIC_MICROS) => (Endian::Little, false),
            (_, PCAP_MAGIC_NANOS) => (Endian::Little, true),
            _ => return Err(CaptureError::NotACapture { magic: be }),
        };
        r.endian = endian;
        r.pcap_nanos = nanos;
        let mut rest = [0u8; 20];
        let got = r.read_exact_at(&mut rest)?;
        if got < rest.len() {
            return Err(CaptureError::Truncated {
                offset: 0,
                what: "pcap file header",
                needed: 24,
                got: 4 + got as u64,
            });
        }
        let major = endian.u16([rest[0], rest[1]]);
        if major != 2 {
            return Err(corrupt(
                4,
                format!("unsupported pcap version {major} (expected 2)"),
            ));
        }
        let network = endian.u32([rest[16], rest[17], rest[18], rest[19]]);
        r.pcap_linktype = network & 0x0FFF_FFFF;
        Ok(r)
    }

    /// Container format detected from the magic.
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Packet records skipped without ending the capture (e.g. a pcapng packet block naming
    /// an interface that was never described).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Number of input bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.pos
    }

    /// Reads the next packet. `Ok(None)` at a clean end of input, and forever after an error.
    pub fn next_packet(&mut self) -> Result<Option<PacketRecord<'_>>, CaptureError> {
        if self.state == State::Done {
            return Ok(None);
        }
        let res = match self.format {
            CaptureFormat::Pcap => self.next_pcap(),
            CaptureFormat::PcapNg => self.next_pcapng(),
        };
        match res {
            Ok(Some(p)) => {
                self.last_ts = p.ts;
                let data = self.buf.get(p.data_start..p.data_end).unwrap_or(&[]);
                Ok(Some(PacketRecord {
                    ts: p.ts,
                    linktype: p.linktype,
                    data,
                    orig_len: p.orig_len,
                    offset: p.offset,
                }))
            }
            Ok(None) => {
                self.state = State::Done;
                Ok(None)
            }
            Err(e) => {
                self.state = State::Done;
                Err(e)
            }
        }
    }

    /// `read_full` on the inner reader, mapping I/O errors to [`CaptureError::Io`].
    fn read_exact_at(&mut self, dst: &mut [u8]) -> Result<usize, CaptureError> {
        read_full(&mut self.inner, dst, &mut self.pos).map_err(|source| CaptureError::Io {
            offset: self.pos,
            source,
        })
    }

    /// Reads up to `n` bytes into `self.buf[..n]`, growing the buffer gradually; returns how
    /// many bytes were read (less than `n` only at EOF).
    fn read_into_buf(&mut self, n: usize) -> Result<usize, CaptureError> {
        let mut got = 0;
        while got < n {
            let end = n.min(got.saturating_add(GROW_CHUNK));
            if self.buf.len() < end {
                self.buf.resize(end, 0);
            }
            let Some(dst) = self.buf.get_mut(got..end) else {
                break;
            };
            let k = read_full(&mut self.inner, dst, &mut self.pos).map_err(|source| {
                CaptureError::Io {
                    offset: self.pos,
                    source,
                }
            })?;
            got += k;
            if got < end {
                break;
            }
        }
        Ok(got)
    }

    /// Discards up to `n` bytes of input; returns how many were discarded.
    fn discard(&mut self, n: u64) -> Result<u64, CaptureError> {
        let mut left = n;
        while left > 0 {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b.len(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(CaptureError::Io {
                        offset: self.pos,
                        source,
                    })
                }
            };
            if avail == 0 {
                break;
            }
            let k = (avail as u64).min(left);
            // k <= avail, which is a usize.
            self.inner.consume(k as usize);
            left -= k;
            self.pos += k;
        }
        Ok(n - left)
    }

    // ---------------------------------------------------------------- classic pcap

    fn next_pcap(&mut self) -> Result<Option<RawPacket>, CaptureError> {
        let offset = self.pos;
        let mut hdr = [0u8; 16];
        let got = self.read_exact_at(&mut hdr)?;
        if got == 0 {
            return Ok(None);
        }
        if got < hdr.len() {
            return Err(CaptureError::Truncated {
                offset,
                what: "pcap record header",
                needed: 16,
                got: got as u64,
            });
        }
        let e = self.endian;
        let ts_sec = e.u32([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let ts_frac = e.u32([hdr[4], hdr[5], hdr[6], hdr[7]]);
        let caplen = e.u32([hdr[8], hdr[9], hdr[10], hdr[11]]);
        let orig_len = e.u32([hdr[12], hdr[13], hdr[14], hdr[15]]);
        if caplen > MAX_PCAP_CAPLEN {
            return Err(corrupt(
                offset,
                format!(
                    "pcap record captured length {caplen} exceeds the maximum {MAX_PCAP_CAPLEN}"
                ),
            ));
        }
        // caplen <= 256 KiB, so it fits a usize.
        let n = caplen as usize;
        let got = self.read_into_buf(n)?;
        if got < n {
            return Err(CaptureError::Truncated {
                offset,
                what: "pcap record",
                needed: 16 + u64::from(caplen),
                got: 16 + got as u64,
            });
        }
        let ts = if self.pcap_nanos {
            Timestamp::new(i64::from(ts_sec), ts_frac)
        } else {
            let secs = i64::from(ts_sec) + i64::from(ts_frac / 1_000_000);
            Timestamp::new(secs, (ts_frac % 1_000_000) * 1_000)
        };
        Ok(Some(RawPacket {
            ts,
            linktype: self.pcap_linktype,
            data_start: 0,
            data_end: n,
            orig_len: orig_len.max(caplen),
            offset,
        }))
    }

    // ---------------------------------------------------------------- pcapng

    /// Reads the rest of a Section Header Block whose first four bytes (`block_type`, the
    /// palindromic SHB type) were already consumed at `offset`.
    fn read_section_header(
        &mut self,
        offset: u64,
        block_type: [u8; 4],
    ) -> Result<(), CaptureError> {
        debug_assert_eq!(u32::from_be_bytes(block_type), PCAPNG_SHB);
        let mut head = [0u8; 8];
        let got = self.read_exact_at(&mut head)?;
        if got < head.len() {
            return Err(CaptureError::Truncated {
                offset,
                what: "pcapng section header block",
                needed: 28,
                got: 4 + got as u64,
            });
        }
        let bom = [head[4], head[5], head[6], head[7]];
        let endian = if u32::from_le_bytes(bom) == PCAPNG_BYTE_ORDER_MAGIC {
            Endian::Little
        } else if u32::from_be_bytes(bom) == PCAPNG_BYTE_ORDER_MAGIC {
            Endian::Big
        } else {
            return Err(corrupt(
                offset + 8,
                format!(
                    "pcapng section header has bad byte-order magic {:#010x} (expected 0x1a2b3c4d)",
                    u32::from_be_bytes(bom)
                ),
            ));
        };
        let total = endian.u32([head[0], head[1], head[2], head[3]]);
        // type + length + bom + version(4) + section length(8) + trailing length.
        check_block_len(offset, total, 28)?;
        // Remaining: version, section length, options, trailing length.
        let rest = total as usize - 12;
        let got = self.read_into_buf(rest)?;
        if got < rest {
            return Err(CaptureError::Truncated {
                offset,
                what: "pcapng section header block",
                needed: u64::from(total),
                got: 12 + got as u64,
            });
        }
        let trailer = endian.u32_at(&self.buf, rest - 4).unwrap_or(0);
        if trailer != total {
            return Err(bad_trailer(offset, total, trailer));
        }
        let major = endian.u16_at(&self.buf, 0).unwrap_or(0);
        let minor = endian.u16_at(&self.buf, 2).unwrap_or(0);
        if major != 1 {
            return Err(corrupt(
                offset + 12,
                format!("unsupported pcapng version {major}.{minor} (expected 1.x)"),
            ));
        }
        self.endian = endian;
        self.interfaces.clear();
        Ok(())
    }

    fn next_pcapng(&mut self) -> Result<Option<RawPacket>, CaptureError> {
        loop {
            let offset = self.pos;
            let mut head = [0u8; 4];
            let got = self.read_exact_at(&mut head)?;
            if got == 0 {
                return Ok(None);
            }
            if got < head.len() {
                return Err(CaptureError::Truncated {
                    offset,
                    what: "pcapng block header",
                    needed: 12,
                    got: got as u64,
                });
            }
            if u32::from_be_bytes(head) == PCAPNG_SHB {
                self.read_section_header(offset, head)?;
                continue;
            }
            let e = self.endian;
            let block_type = e.u32(head);
            let mut len_bytes = [0u8; 4];
            let got = self.read_exact_at(&mut len_bytes)?;
            if got < len_bytes.len() {
                return Err(CaptureError::Truncated {
                    offset,
                    what: "pcapng block header",
                    needed: 12,
                    got: 4 + got as u64,
                });
            }
            let total = e.u32(len_bytes);
            check_block_len(offset, total, 12)?;
            // Body plus trailing length.
            let rest = total as usize - 8;
            let wanted = matches!(block_type, BLOCK_IDB | BLOCK_PB | BLOCK_SPB | BLOCK_EPB);
            if !wanted {
                let body = u64::from(total) - 12;
                let got = self.discard(body)?;
                let mut trailer = [0u8; 4];
                let got_t = if got == body {
                    self.read_exact_at(&mut trailer)?
                } else {
                    0
                };
                if got < body || got_t < trailer.len() {
                    return Err(CaptureError::Truncated {
                        offset,
                        what: "pcapng block",
                        needed: u64::from(total),
                        got: 8 + got + got_t as u64,
                    });
                }
                let trailer = e.u32(trailer);
                if trailer != total {
                    return Err(bad_trailer(offset, total, trailer));
                }
                continue;
            }
            let got = self.read_into_buf(rest)?;
            if got < rest {
                return Err(CaptureError::Truncated {
                    offset,
                    what: block_name(block_type),
                    needed: u64::from(total),
                    got: 8 + got as u64,
                });
            }
            let trailer = e.u32_at(&self.buf, rest - 4).unwrap_or(0);
            if trailer != total {
                return Err(bad_trailer(offset, total, trailer));
            }
            let body_len = rest - 4;
            match block_type {
                BLOCK_IDB => self.parse_idb(offset, body_len)?,
                BLOCK_EPB | BLOCK_PB => {
                    if let Some(p) = self.parse_epb(offset, body_len, block_type == BLOCK_PB)? {
                        return Ok(Some(p));
                    }
                }
                _ => {
                    if let Some(p) = self.parse_spb(offset, body_len)? {
                        return Ok(Some(p));
                    }
                }
            }
        }
    }

    /// Parses an Interface Description Block whose body is `self.buf[..body_len]`.
    fn parse_idb(&mut self, offset: u64, body_len: usize) -> Result<(), CaptureError> {
        let e = self.endian;
        let body = self.buf.get(..body_len).unwrap_or(&[]);
        let (Some(linktype), Some(snaplen)) = (e.u16_at(body, 0), e.u32_at(body, 4)) else {
            return Err(corrupt(
                offset,
                format!("interface description block body is {body_len} bytes, needs 8"),
            ));
        };
        let mut iface = Interface {
            linktype: u32::from(linktype),
            snaplen,
            resol: TsResol::Pow10(6),
            ts_offset: 0,
        };
        let mut pos = 8usize;
        while let (Some(code), Some(len)) = (e.u16_at(body, pos), e.u16_at(body, pos + 2)) {
            if code == OPT_ENDOFOPT {
                break;
            }
            let opt_off = offset + 8 + pos as u64;
            let start = pos + 4;
            let Some(value) = body.get(start..start + usize::from(len)) else {
                return Err(corrupt(
                    opt_off,
                    format!("interface option {code} of length {len} overruns its block"),
                ));
            };
            match code {
                OPT_IF_TSRESOL => {
                    let &[v] = value else {
                        return Err(corrupt(
                            opt_off,
                            format!("if_tsresol option has length {len}, expected 1"),
                        ));
                    };
                    let n = v & 0x7f;
                    iface.resol = if v & 0x80 != 0 {
                        TsResol::Pow2(n)
                    } else if n <= 38 {
                        TsResol::Pow10(n)
                    } else {
                        return Err(corrupt(
                            opt_off,
                            format!("if_tsresol 10^-{n} is out of range"),
                        ));
                    };
                }
                OPT_IF_TSOFFSET => {
                    let Some(v) = e.u64_at(value, 0).filter(|_| value.len() == 8) else {
                        return Err(corrupt(
                            opt_off,
                            format!("if_tsoffset option has length {len}, expected 8"),
                        ));
                    };
                    iface.ts_offset = v as i64;
                }
                _ => {}
            }
            // Values are padded to 32 bits.
            pos = start + usize::from(len).div_ceil(4) * 4;
        }
        if self.interfaces.len() >= MAX_PCAPNG_INTERFACES {
            return Err(corrupt(
                offset,
                format!("more than {MAX_PCAPNG_INTERFACES} interfaces in one pcapng section"),
            ));
        }
        self.interfaces.push(iface);
        Ok(())
    }

    /// Parses an Enhanced Packet Block (or an obsolete Packet Block if `obsolete`).
    fn parse_epb(
        &mut self,
        offset: u64,
        body_len: usize,
        obsolete: bool,
    ) -> Result<Option<RawPacket>, CaptureError> {
        let e = self.endian;
        let body = self.buf.get(..body_len).unwrap_or(&[]);
        let what = if obsolete {
            "packet block"
        } else {
            "enhanced packet block"
        };
        let fields = || {
            let if_id = if obsolete {
                u32::from(e.u16_at(body, 0)?)
            } else {
                e.u32_at(body, 0)?
            };
            Some((
                if_id,
                e.u32_at(body, 4)?,
                e.u32_at(body, 8)?,
                e.u32_at(body, 12)?,
                e.u32_at(body, 16)?,
            ))
        };
        let Some((if_id, ts_hi, ts_lo, caplen, orig_len)) = fields() else {
            return Err(corrupt(
                offset,
                format!("{what} body is {body_len} bytes, needs at least 20"),
            ));
        };
        let room = body_len - 20;
        if caplen as usize > room {
            return Err(corrupt(
                offset + 20,
                format!("{what} captured length {caplen} exceeds the {room} bytes in the block"),
            ));
        }
        let Some(iface) = self.interfaces.get(if_id as usize) else {
            self.skipped += 1;
            return Ok(None);
        };
        let units = (u64::from(ts_hi) << 32) | u64::from(ts_lo);
        Ok(Some(RawPacket {
            ts: iface.resol.to_timestamp(units, iface.ts_offset),
            linktype: iface.linktype,
            data_start: 20,
            data_end: 20 + caplen as usize,
            orig_len: orig_len.max(caplen),
            offset,
        }))
    }

    /// Parses a Simple Packet Block.
    fn parse_spb(
        &mut self,
        offset: u64,
        body_len: usize,
    ) -> Result<Option<RawPacket>, CaptureError> {
        let Some(orig_len) = self.endian.u32_at(&self.buf, 0).filter(|_| body_len >= 4) else {
            return Err(corrupt(
                offset,
                format!("simple packet block body is {body_len} bytes, needs at least 4"),
            ));
        };
        let Some(iface) = self.interfaces.first() else {
            self.skipped += 1;
            return Ok(None);
        };
        let mut caplen = (body_len - 4).min(orig_len as usize);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        Ok(Some(RawPacket {
            // Simple packet blocks carry no timestamp; reuse the previous packet's so time
            // never jumps back to the epoch.
            ts: self.last_ts,
            linktype: iface.linktype,
            data_start: 4,
            data_end: 4 + caplen,
            orig_len: orig_len.max(caplen as u32),
            offset,
        }))
    }
}

/// A packet located in the reader's buffer; converted to [`PacketRecord`] at the API edge.
struct RawPacket {
    ts: Timestamp,
    linktype: u32,
    data_start: usize,
    data_end: usize,
    orig_len: u32,
    offset: u64,
}

fn check_block_len(offset: u64, total: u32, min: u32) -> Result<(), CaptureError> {
    if total < min || total & 3 != 0 || total > MAX_PCAPNG_BLOCK {
        return Err(corrupt(
            offset + 4,
            format!(
                "pcapng block total length {total} is invalid (must be a multiple of 4, at \
                 least {min}, at most {MAX_PCAPNG_BLOCK})"
            ),
        ));
    }
    Ok(())
}

fn bad_trailer(offset: u64, total: u32, trailer: u32) -> CaptureError {
    corrupt(
        offset + u64::from(total) - 4,
        format!("pcapng block trailing length {trailer} does not match leading length {total}"),
    )
}

fn block_name(block_type: u32) -> &'static str {
    match block_type {
        BLOCK_IDB => "pcapng interface description block",
        BLOCK_PB => "pcapng packet block",
        BLOCK_SPB => "pcapng simple packet block",
        BLOCK_EPB => "pcapng enhanced packet block",
        _ => "pcapng block",
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Root of the shared test data (override with `VIGIL_DATA_DIR`).
    pub(crate) fn data_dir() -> PathBuf {
        crate::testdata::shared_data_dir()
    }

    /// All files under `dir` (recursively) whose name ends with `suffix`, sorted.
    pub(crate) fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for ent in rd.flatten() {
                let p = ent.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.to_string_lossy().ends_with(suffix) {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// Owned copy of a packet record, for comparisons.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Owned {
        pub ts: Timestamp,
        pub linktype: u32,
        pub data: Vec<u8>,
        pub orig_len: u32,
        pub offset: u64,
    }

    pub(crate) type ReadAll<'a> = (
        Vec<Owned>,
        Option<CaptureError>,
        Option<CaptureReader<&'a [u8]>>,
    );

    /// Reads everything; returns the packets, the terminating error if any, and the reader.
    pub(crate) fn read_all(bytes: &[u8]) -> ReadAll<'_> {
        let mut r = match CaptureReader::new(bytes) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e), None),
        };
        let mut out = Vec::new();
        loop {
            match r.next_packet() {
                Ok(Some(p)) => out.push(Owned {
                    ts: p.ts,
                    linktype: p.linktype,
                    data: p.data.to_vec(),
                    orig_len: p.orig_len,
                    offset: p.offset,
                }),
                Ok(None) => return (out, None, Some(r)),
                Err(e) => {
                    // The reader is finished after an error.
                    assert!(r.next_packet().unwrap().is_none());
                    return (out, Some(e), Some(r));
                }
            }
        }
    }

    // ------------------------------------------------------------ writers

    pub(crate) struct Pkt<'a> {
        pub secs: u32,
        pub frac: u32,
        pub data: &'a [u8],
        pub orig_len: u32,
    }

    fn put16(out: &mut Vec<u8>, be: bool, v: u16) {
        out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn put32(out: &mut Vec<u8>, be: bool, v: u32) {
        out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
    }
    fn put64(out: &mut Vec<u8>, be: bool, v: u64) {
        out.extend_from_slice(&if be { v.to_be_bytes() } else { v.to_le_bytes() });
    }

    /// Serializes a classic pcap file.
    pub(crate) fn pcap_file(be: bool, nanos: bool, network: u32, pkts: &[Pkt<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        put32(
            &mut out,
            be,
            if nanos {
                PCAP_MAGIC_NANOS
            } else {
                PCAP_MAGIC_MICROS
            },
        );
        put16(&mut out, be, 2);
        put16(&mut out, be, 4);
        put32(&mut out, be, 0);
        put32(&mut out, be, 0);
        put32(&mut out, be, 65535);
        put32(&mut out, be, network);
        for p in pkts {
            put32(&mut out, be, p.secs);
            put32(&mut out, be, p.frac);
            put32(&mut out, be, p.data.len() as u32);
            put32(&mut out, be, p.orig_len);
            out.extend_from_slice(p.data);
        }
        out
    }

    /// Incremental pcapng writer.
    pub(crate) struct NgWriter {
        pub out: Vec<u8>,
        be: bool,
    }

    impl NgWriter {
        pub(crate) fn new(be: bool) -> Self {
            let mut w = NgWriter {
                out: Vec::new(),
                be,
            };
            w.shb(be);
            w
        }

        /// Writes a block with the given type and (unpadded) body.
        pub(crate) fn block(&mut self, block_type: u32, body: &[u8]) {
            let padded = body.len().div_ceil(4) * 4;
            let total = (12 + padded) as u32;
            put32(&mut self.out, self.be, block_type);
            put32(&mut self.out, self.be, total);
            self.out.extend_from_slice(body);
            self.out.resize(self.out.len() + padded - body.len(), 0);
            put32(&mut self.out, self.be, total);
        }

        /// Starts a new section in the given byte order.
        pub(crate) fn shb(&mut self, be: bool) {
            self.be = be;
            let mut body = Vec::new();
            put32(&mut body, be, PCAPNG_BYTE_ORDER_MAGIC);
            put16(&mut body, be, 1);
            put16(&mut body, be, 0);
            put64(&mut body, be, u64::MAX);
            // An shb_userappl option, to exercise option skipping.
            put16(&mut body, be, 4);
            put16(&mut body, be, 5);
            body.extend_from_slice(b"vigil\0\0\0");
            put16(&mut body, be, 0);
            put16(&mut body, be, 0);
            self.block(PCAPNG_SHB, &body);
        }

        pub(crate) fn idb(
            &mut self,
            linktype: u16,
            snaplen: u32,
            tsresol: Option<u8>,
            tsoffset: Option<i64>,
        ) {
            let be = self.be;
            let mut body = Vec::new();
            put16(&mut body, be, linktype);
            put16(&mut body, be, 0);
            put32(&mut body, be, snaplen);
            // if_name, to exercise skipping of unknown options with padding.
            put16(&mut body, be, 2);
            put16(&mut body, be, 3);
            body.extend_from_slice(b"en0\0");
            if let Some(r) = tsresol {
                put16(&mut body, be, OPT_IF_TSRESOL);
                put16(&mut body, be, 1);
                body.extend_from_slice(&[r, 0, 0, 0]);
            }
            if let Some(o) = tsoffset {
                put16(&mut body, be, OPT_IF_TSOFFSET);
                put16(&mut body, be, 8);
                put64(&mut body, be, o as u64);
            }
            put16(&mut body, be, 0);
            put16(&mut body, be, 0);
            self.block(BLOCK_IDB, &body);
        }

        pub(crate) fn epb(&mut self, if_id: u32, units: u64, data: &[u8], orig_len: u32) {
            let be = self.be;
            let mut body = Vec::new();
            put32(&mut body, be, if_id);
            put32(&mut body, be, (units >> 32) as u32);
            put32(&mut body, be, units as u32);
            put32(&mut body, be, data.len() as u32);
            put32(&mut body, be, orig_len);
            body.extend_from_slice(data);
            body.resize(body.len().div_ceil(4) * 4, 0);
            // epb_flags option.
            put16(&mut body, be, 2);
            put16(&mut body, be, 4);
            put32(&mut body, be, 1);
            put16(&mut body, be, 0);
            put16(&mut body, be, 0);
            self.block(BLOCK_EPB, &body);
        }

        pub(crate) fn pb(&mut self, if_id: u16, units: u64, data: &[u8], orig_len: u32) {
            let be = self.be;
            let mut body = Vec::new();
            put16(&mut body, be, if_id);
            put16(&mut body, be, 0);
            put32(&mut body, be, (units >> 32) as u32);
            put32(&mut body, be, units as u32);
            put32(&mut body, be, data.len() as u32);
            put32(&mut body, be, orig_len);
            body.extend_from_slice(data);
            self.block(BLOCK_PB, &body);
        }

        pub(crate) fn spb(&mut self, data: &[u8], orig_len: u32) {
            let mut body = Vec::new();
            put32(&mut body, self.be, orig_len);
            body.extend_from_slice(data);
            self.block(BLOCK_SPB, &body);
        }
    }

    /// Converts a classic pcap (as read by us) into pcapng with one interface.
    fn to_pcapng(pkts: &[Owned], linktype: u16, be: bool, nanos: bool) -> Vec<u8> {
        let mut w = NgWriter::new(be);
        w.idb(linktype, 262144, nanos.then_some(9), None);
        // Skipped blocks interleaved: name resolution, interface statistics, custom.
        w.block(4, &[0, 0, 0, 0]);
        for p in pkts {
            let units = if nanos {
                p.ts.secs as u64 * 1_000_000_000 + u64::from(p.ts.nanos)
            } else {
                p.ts.secs as u64 * 1_000_000 + u64::from(p.ts.nanos / 1000)
            };
            w.epb(0, units, &p.data, p.orig_len);
        }
        w.block(5, &[0; 20]);
        w.block(0x0000_0BAD, b"custom!");
        w.out
    }

    // ------------------------------------------------------------ classic pcap

    #[test]
    fn timestamp_helpers() {
        let t = Timestamp::from_micros(1_500_001);
        assert_eq!(
            t,
            Timestamp {
                secs: 1,
                nanos: 500_001_000
            }
        );
        assert_eq!(t.as_micros(), 1_500_001);
        let n = Timestamp::from_micros(-1);
        assert_eq!(
            n,
            Timestamp {
                secs: -1,
                nanos: 999_999_000
            }
        );
        assert_eq!(n.as_micros(), -1);
        assert_eq!(
            Timestamp::new(1, 2_500_000_000),
            Timestamp {
                secs: 3,
                nanos: 500_000_000
            }
        );
        assert_eq!(
            Timestamp::new(2, 0).duration_since(Timestamp::new(1, 999_999_999)),
            Some(Duration::from_nanos(1))
        );
        assert_eq!(
            Timestamp::new(1, 0).duration_since(Timestamp::new(2, 0)),
            None
        );
        assert_eq!(
            Timestamp::new(1, 900_000_000).saturating_add(Duration::from_millis(200)),
            Timestamp::new(2, 100_000_000)
        );
        assert_eq!(
            Timestamp::new(2, 100_000_000).saturating_sub(Duration::from_millis(200)),
            Timestamp::new(1, 900_000_000)
        );
        assert_eq!(
            Timestamp::new(i64::MAX, 0)
                .saturating_add(Duration::MAX)
                .secs,
            i64::MAX
        );
        assert_eq!(Timestamp::from_micros(i64::MIN).as_micros(), i64::MIN);
        assert_eq!(Timestamp::new(i64::MAX, 999_999_999).as_micros(), i64::MAX);
    }

    #[test]
    fn pcap_all_variants() {
        let a = [1u8, 2, 3, 4, 5];
        let b = [9u8; 60];
        for be in [false, true] {
            for nanos in [false, true] {
                let frac = if nanos { 123_456_789 } else { 123_456 };
                let pkts = [
                    Pkt {
                        secs: 1_600_000_000,
                        frac,
                        data: &a,
                        orig_len: 5,
                    },
                    Pkt {
                        secs: 1_600_000_001,
                        frac: 0,
                        data: &b,
                        orig_len: 1514,
                    },
                    Pkt {
                        secs: 0,
                        frac: 0,
                        data: &[],
                        orig_len: 0,
                    },
                ];
                let file = pcap_file(be, nanos, LINKTYPE_ETHERNET | 0x1000_0000, &pkts);
                let (got, err, r) = read_all(&file);
                assert!(err.is_none(), "{err:?}");
                let r = r.unwrap();
                assert_eq!(r.format(), CaptureFormat::Pcap);
                assert_eq!(r.bytes_read(), file.len() as u64);
                assert_eq!(r.skipped(), 0);
                assert_eq!(got.len(), 3);
                let want_nanos = if nanos { 123_456_789 } else { 123_456_000 };
                assert_eq!(
                    got[0].ts,
                    Timestamp {
                        secs: 1_600_000_000,
                        nanos: want_nanos
                    }
                );
                assert_eq!(got[0].linktype, LINKTYPE_ETHERNET);
                assert_eq!(got[0].data, a);
                assert_eq!(got[0].offset, 24);
                assert_eq!(got[1].data, b);
                assert_eq!(got[1].orig_len, 1514);
                assert_eq!(got[1].offset, 24 + 16 + 5);
                assert!(got[2].data.is_empty());
                assert_eq!(got[2].offset, 24 + 16 + 5 + 16 + 60);
            }
        }
    }

    #[test]
    fn pcap_oversized_fraction_and_caplen_over_orig_len() {
        let d = [7u8; 10];
        let pkts = [Pkt {
            secs: 10,
            frac: 2_500_000,
            data: &d,
            orig_len: 4,
        }];
        let file = pcap_file(false, false, 101, &pkts);
        let (got, err, r) = read_all(&file);
        assert!(err.is_none());
        assert_eq!(
            got[0].ts,
            Timestamp {
                secs: 12,
                nanos: 500_000_000
            }
        );
        // orig_len is raised to the captured length and this is not a skip.
        assert_eq!(got[0].orig_len, 10);
        assert_eq!(got[0].data.len(), 10);
        assert_eq!(got[0].linktype, LINKTYPE_RAW);
        assert_eq!(r.unwrap().skipped(), 0);
    }

    #[test]
    fn header_errors() {
        let err = CaptureReader::new(&[][..]).unwrap_err();
        assert!(
            matches!(
                err,
                CaptureError::Truncated {
                    offset: 0,
                    got: 0,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.offset(), 0);
        let err = CaptureReader::new(&[0xd4, 0xc3][..]).unwrap_err();
        assert!(matches!(
            err,
            CaptureError::Truncated {
                offset: 0,
                got: 2,
                ..
            }
        ));
        let err = CaptureReader::new(&b"GET / HTTP/1.1\r\n"[..]).unwrap_err();
        assert!(matches!(
            err,
            CaptureError::NotACapture { magic: 0x4745_5420 }
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("0x47455420") && msg.contains("0xa1b2c3d4"),
            "{msg}"
        );
        assert!(
            msg.contains("0xa1b23c4d") && msg.contains("0x0a0d0d0a"),
            "{msg}"
        );
        let file = pcap_file(false, false, 1, &[]);
        let err = CaptureReader::new(&file[..20]).unwrap_err();
        assert!(matches!(
            err,
            CaptureError::Truncated {
                offset: 0,
                needed: 24,
                got: 20,
                ..
            }
        ));
        let mut bad_version = file.clone();
        bad_version[4] = 9;
        let err = CaptureReader::new(&bad_version[..]).unwrap_err();
        assert!(
            matches!(err, CaptureError::Corrupt { offset: 4, .. }),
            "{err:?}"
        );
        // A header alone is a valid, empty capture.
        let (got, err, _) = read_all(&file);
        assert!(got.is_empty() && err.is_none());
    }

    #[test]
    fn pcap_record_errors() {
        let d = [1u8; 100];
        let pkts = [
            Pkt {
                secs: 1,
                frac: 0,
                data: &d,
                orig_len: 100,
            },
            Pkt {
                secs: 2,
                frac: 0,
                data: &d,
                orig_len: 100,
            },
        ];
        let file = pcap_file(true, false, 1, &pkts);
        // Cut inside the second record's data.
        let cut = &file[..file.len() - 10];
        let (got, err, _) = read_all(cut);
        assert_eq!(got.len(), 1);
        match err.unwrap() {
            CaptureError::Truncated {
                offset,
                needed,
                got,
                what,
            } => {
                assert_eq!(offset, 24 + 116);
                assert_eq!(needed, 116);
                assert_eq!(got, 106);
                assert_eq!(what, "pcap record");
            }
            e => panic!("{e:?}"),
        }
        // Cut inside the second record header.
        let (got, err, _) = read_all(&file[..24 + 116 + 5]);
        assert_eq!(got.len(), 1);
        assert!(matches!(
            err,
            Some(CaptureError::Truncated {
                offset: 140,
                needed: 16,
                got: 5,
                ..
            })
        ));
        // Absurd captured length.
        let mut bad = file.clone();
        bad[24 + 8..24 + 12].copy_from_slice(&(MAX_PCAP_CAPLEN + 1).to_be_bytes());
        let (got, err, _) = read_all(&bad);
        assert!(got.is_empty());
        let err = err.unwrap();
        assert!(matches!(err, CaptureError::Corrupt { offset: 24, .. }));
        assert!(err.to_string().contains("byte offset 24"), "{err}");
    }

    /// A reader that hands out at most `chunk` bytes per call and interleaves
    /// `Interrupted` errors.
    struct Dribble<'a> {
        data: &'a [u8],
        chunk: usize,
        flip: bool,
    }

    impl Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.flip = !self.flip;
            if self.flip {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "again"));
            }
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    struct Failing {
        left: usize,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = self.left.min(buf.len());
            let file = pcap_file(false, false, 1, &[]);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = file.get(i).copied().unwrap_or(0);
            }
            self.left -= n;
            Ok(n)
        }
    }

    #[test]
    fn small_reads_and_io_errors() {
        let d = [3u8; 300];
        let pkts = [
            Pkt {
                secs: 1,
                frac: 0,
                data: &d,
                orig_len: 300,
            },
            Pkt {
                secs: 2,
                frac: 5,
                data: &d[..7],
                orig_len: 300,
            },
        ];
        let file = pcap_file(false, true, 1, &pkts);
        let (want, _, _) = read_all(&file);
        let mut r = CaptureReader::new(Dribble {
            data: &file,
            chunk: 3,
            flip: false,
        })
        .unwrap();
        let mut n = 0;
        while let Some(p) = r.next_packet().unwrap() {
            assert_eq!(p.data, &want[n].data[..]);
            assert_eq!(p.ts, want[n].ts);
            n += 1;
        }
        assert_eq!(n, 2);

        // The global header is fine, then the read fails at byte 24.
        let mut r = CaptureReader::new(Failing { left: 24 }).unwrap();
        let err = r.next_packet().unwrap_err();
        assert!(
            matches!(err, CaptureError::Io { offset: 24, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("disk on fire"));
        assert!(r.next_packet().unwrap().is_none());
    }

    // ------------------------------------------------------------ pcapng

    #[test]
    fn pcapng_blocks_both_byte_orders() {
        let d1 = [0x45u8; 40];
        let d2 = [0x60u8; 33];
        for be in [false, true] {
            let mut w = NgWriter::new(be);
            w.idb(1, 0, None, None); // microseconds
            w.idb(101, 0, Some(9), Some(100)); // nanoseconds, +100 s
            w.idb(228, 0, Some(0x80 | 20), None); // 2^-20 s
            w.epb(0, 1_600_000_000_123_456, &d1, 60);
            w.epb(1, 1_600_000_000_123_456_789, &d2, 33);
            w.epb(2, (5u64 << 20) | (1 << 19), &d2[..10], 33);
            w.epb(7, 0, &d1, 40); // undefined interface: skipped
            w.pb(0, 2_000_000, &d2, 33);
            w.spb(&d1, 40);
            w.spb(&d1, 10); // orig_len smaller than the padded data: trimmed to 10
            let (got, err, r) = read_all(&w.out);
            assert!(err.is_none(), "{err:?}");
            let r = r.unwrap();
            assert_eq!(r.format(), CaptureFormat::PcapNg);
            assert_eq!(r.skipped(), 1);
            assert_eq!(r.bytes_read(), w.out.len() as u64);
            assert_eq!(got.len(), 6);
            assert_eq!(
                got[0].ts,
                Timestamp {
                    secs: 1_600_000_000,
                    nanos: 123_456_000
                }
            );
            assert_eq!(got[0].linktype, 1);
            assert_eq!(got[0].data, d1);
            assert_eq!(got[0].orig_len, 60);
            assert_eq!(
                got[1].ts,
                Timestamp {
                    secs: 1_600_000_100,
                    nanos: 123_456_789
                }
            );
            assert_eq!(got[1].linktype, 101);
            assert_eq!(got[1].data, d2);
            assert_eq!(
                got[2].ts,
                Timestamp {
                    secs: 5,
                    nanos: 500_000_000
                }
            );
            assert_eq!(got[2].linktype, 228);
            assert_eq!(got[2].data, &d2[..10]);
            assert_eq!(got[3].ts, Timestamp { secs: 2, nanos: 0 });
            assert_eq!(got[3].data, d2);
            // SPB: interface 0, previous timestamp.
            assert_eq!(got[4].linktype, 1);
            assert_eq!(got[4].ts, got[3].ts);
            assert_eq!(got[4].data, d1);
            assert_eq!(got[5].data, &d1[..10]);
            assert_eq!(got[5].orig_len, 10);
            // Offsets point at block starts, strictly increasing.
            assert!(got.windows(2).all(|w| w[0].offset < w[1].offset));
            let first_off = got[0].offset as usize;
            let ty = if be {
                BLOCK_EPB.to_be_bytes()
            } else {
                BLOCK_EPB.to_le_bytes()
            };
            assert_eq!(&w.out[first_off..first_off + 4], &ty);
        }
    }

    #[test]
    fn pcapng_multiple_sections_reset_interfaces() {
        let d = [1u8, 2, 3, 4, 5, 6, 7];
        let mut w = NgWriter::new(false);
        w.idb(1, 0, None, None);
        w.idb(113, 0, None, None);
        w.epb(1, 1_000_000, &d, 7);
        w.shb(true); // new section, other byte order: interfaces reset
        w.epb(0, 1_000_000, &d, 7); // no interface yet: skipped
        w.spb(&d, 7); // no interface 0 either: skipped
        w.idb(276, 0, Some(3), None); // milliseconds
        w.epb(0, 1_500, &d, 7);
        w.epb(1, 1_500, &d, 7); // interface 1 is from the old section: skipped
        let (got, err, r) = read_all(&w.out);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(r.unwrap().skipped(), 3);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].linktype, LINKTYPE_LINUX_SLL);
        assert_eq!(got[0].ts, Timestamp::new(1, 0));
        assert_eq!(got[1].linktype, LINKTYPE_LINUX_SLL2);
        assert_eq!(got[1].ts, Timestamp::new(1, 500_000_000));
        assert_eq!(got[1].data, d);
    }

    #[test]
    fn pcapng_tsresol_extremes() {
        let d = [0u8; 4];
        let mut w = NgWriter::new(false);
        w.idb(1, 0, Some(0), Some(-10)); // seconds, offset -10
        w.idb(1, 0, Some(38), None); // 10^-38: everything is a tiny fraction of a second
        w.idb(1, 0, Some(0x80 | 127), None);
        w.idb(1, 0, Some(0x80), None); // 2^0: seconds
        w.epb(0, u64::MAX, &d, 4);
        w.epb(0, 5, &d, 4);
        w.epb(1, u64::MAX, &d, 4);
        w.epb(2, u64::MAX, &d, 4);
        w.epb(3, 42, &d, 4);
        let (got, err, _) = read_all(&w.out);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(got[0].ts.secs, i64::MAX - 10); // saturated then offset
        assert_eq!(got[1].ts, Timestamp::new(-5, 0));
        assert_eq!(got[2].ts, Timestamp::new(0, 0));
        assert_eq!(got[3].ts, Timestamp::new(0, 0));
        assert_eq!(got[4].ts, Timestamp::new(42, 0));

        let mut w = NgWriter::new(true);
        w.idb(1, 0, Some(39), None);
        let (_, err, _) = read_all(&w.out);
        let err = err.unwrap();
        assert!(matches!(err, CaptureError::Corrupt { .. }));
        assert!(err.to_string().contains("if_tsresol"), "{err}");
    }

    /// Patches the `u32` at `at` in `file` (little-endian file).
    fn patch32(file: &mut [u8], at: usize, v: u32) {
        file[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn pcapng_structural_errors() {
        let d = [0xAAu8; 8];
        let mut w = NgWriter::new(false);
        let shb_len = w.out.len();
        w.idb(1, 0, None, None);
        let idb_end = w.out.len();
        w.epb(0, 1, &d, 8);
        let epb_len = w.out.len() - idb_end;
        w.epb(0, 2, &d, 8);
        let good = w.out.clone();
        assert_eq!(read_all(&good).0.len(), 2);

        let expect_corrupt = |file: &[u8], want_packets: usize, want_offset: u64, needle: &str| {
            let (got, err, _) = read_all(file);
            assert_eq!(got.len(), want_packets);
            let err = err.expect("an error");
            assert!(matches!(err, CaptureError::Corrupt { .. }), "{err:?}");
            assert_eq!(err.offset(), want_offset, "{err}");
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        };
        let second = idb_end + epb_len;
        // Length not a multiple of 4.
        let mut f = good.clone();
        patch32(&mut f, second + 4, epb_len as u32 + 2);
        expect_corrupt(&f, 1, second as u64 + 4, "multiple of 4");
        // Length below the 12-byte minimum.
        let mut f = good.clone();
        patch32(&mut f, second + 4, 8);
        expect_corrupt(&f, 1, second as u64 + 4, "at least 12");
        // Absurdly large length.
        let mut f = good.clone();
        patch32(&mut f, second + 4, 0xFFFF_FFF0);
        expect_corrupt(&f, 1, second as u64 + 4, "at most");
        // Trailing length mismatch.
        let mut f = good.clone();
        let last = f.len() - 4;
        patch32(&mut f, last, 1234);
        expect_corrupt(&f, 1, last as u64, "trailing length 1234");
        // EPB captured length beyond the block.
        let mut f = good.clone();
        patch32(&mut f, second + 20, 200);
        expect_corrupt(&f, 1, second as u64 + 20, "captured length 200");
        // EPB too short for its fixed fields (12-byte framing + 8 bytes of body).
        let mut ng = NgWriter::new(false);
        ng.idb(1, 0, None, None);
        ng.block(BLOCK_EPB, &[0; 8]);
        expect_corrupt(&ng.out, 0, (ng.out.len() - 20) as u64, "needs at least 20");
        // IDB option overrunning the block.
        let mut ng = NgWriter::new(false);
        ng.block(BLOCK_IDB, &[1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 200, 0]);
        expect_corrupt(&ng.out, 0, shb_len as u64 + 16, "overruns");
        // Short IDB.
        let mut ng = NgWriter::new(false);
        ng.block(BLOCK_IDB, &[1, 0, 0, 0]);
        expect_corrupt(&ng.out, 0, shb_len as u64, "needs 8");
        // Bad byte-order magic in the first and in a later section.
        let mut f = good.clone();
        patch32(&mut f, 8, 0x1234_5678);
        let err = CaptureReader::new(&f[..]).unwrap_err();
        assert!(
            matches!(err, CaptureError::Corrupt { offset: 8, .. }),
            "{err:?}"
        );
        let mut ng = NgWriter::new(false);
        ng.idb(1, 0, None, None);
        ng.epb(0, 1, &d, 8);
        let at = ng.out.len();
        ng.shb(false);
        patch32(&mut ng.out, at + 8, 0);
        expect_corrupt(&ng.out, 1, at as u64 + 8, "byte-order magic");
        // Unsupported major version.
        let mut f = good.clone();
        f[12] = 2;
        let err = CaptureReader::new(&f[..]).unwrap_err();
        assert!(
            matches!(err, CaptureError::Corrupt { offset: 12, .. }),
            "{err:?}"
        );
        // Truncated SHB.
        let err = CaptureReader::new(&good[..10]).unwrap_err();
        assert!(
            matches!(
                err,
                CaptureError::Truncated {
                    offset: 0,
                    got: 10,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn pcapng_huge_claimed_block_in_short_file_does_not_preallocate() {
        let mut w = NgWriter::new(false);
        w.idb(1, 0, None, None);
        let at = w.out.len();
        w.epb(0, 1, &[1, 2, 3], 3);
        patch32(&mut w.out, at + 4, MAX_PCAPNG_BLOCK);
        let mut r = CaptureReader::new(&w.out[..]).unwrap();
        let err = r.next_packet().unwrap_err();
        assert!(
            matches!(err, CaptureError::Truncated { offset, needed, .. }
                if offset == at as u64 && needed == u64::from(MAX_PCAPNG_BLOCK)),
            "{err:?}"
        );
        assert!(r.buf.capacity() <= 2 * GROW_CHUNK, "{}", r.buf.capacity());
        // Same for a skipped block type.
        let mut w = NgWriter::new(false);
        let at = w.out.len();
        w.block(0x0BAD, &[0; 16]);
        patch32(&mut w.out, at + 4, MAX_PCAPNG_BLOCK);
        let (got, err, r) = read_all(&w.out);
        assert!(got.is_empty());
        assert!(matches!(err, Some(CaptureError::Truncated { .. })));
        assert!(r.unwrap().buf.capacity() <= 2 * GROW_CHUNK);
    }

    // ------------------------------------------------------------ truncation

    /// Offsets at which records/blocks end (where a cut is a clean EOF), computed
    /// independently of the reader from the length fields.
    fn boundaries(file: &[u8]) -> Vec<usize> {
        let le32 = |at: usize, be: bool| {
            let b: [u8; 4] = file[at..at + 4].try_into().unwrap();
            if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let mut out = Vec::new();
        if file[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
            let mut at = 0;
            let mut be = false;
            while at < file.len() {
                if file[at..at + 4] == [0x0a, 0x0d, 0x0d, 0x0a] {
                    be = file[at + 8] == 0x1a;
                }
                at += le32(at + 4, be) as usize;
                out.push(at);
            }
        } else {
            let be = file[0] == 0xa1;
            let mut at = 24;
            out.push(at);
            while at < file.len() {
                at += 16 + le32(at + 8, be) as usize;
                out.push(at);
            }
        }
        out
    }

    /// Cuts `file` at every length in `lens` and checks the reader's behaviour.
    fn check_truncations(file: &[u8], lens: impl Iterator<Item = usize>) {
        let (full, err, _) = read_all(file);
        assert!(err.is_none(), "{err:?}");
        let bounds = boundaries(file);
        assert_eq!(bounds.last(), Some(&file.len()));
        for cut in lens {
            let (got, err, r) = read_all(&file[..cut]);
            assert!(got.len() <= full.len());
            assert_eq!(got[..], full[..got.len()], "cut at {cut}");
            // Every packet that fits entirely before the cut was returned.
            let complete = full
                .iter()
                .take_while(|p| bounds.iter().any(|&b| b > p.offset as usize && b <= cut))
                .count();
            assert_eq!(got.len(), complete, "cut {cut}");
            if let Some(e) = &err {
                assert!(e.offset() <= cut as u64, "cut {cut}: {e}");
                assert!(
                    matches!(e, CaptureError::Truncated { .. }),
                    "cut {cut}: {e:?}"
                );
                assert!(!bounds.contains(&cut), "cut {cut}: {e}");
            } else {
                // Clean EOF only happens at a record/block boundary.
                assert!(bounds.contains(&cut), "cut {cut}");
                assert_eq!(r.unwrap().bytes_read(), cut as u64);
            }
        }
    }

    #[test]
    fn truncation_at_every_length() {
        let path = data_dir().join("pcaps/zeek/dns-edns-tcp-keepalive.pcap");
        if let Ok(file) = std::fs::read(&path) {
            check_truncations(&file, 0..=file.len());
            let (pkts, _, _) = read_all(&file);
            for be in [false, true] {
                let ng = to_pcapng(&pkts, 1, be, be);
                check_truncations(&ng, 0..=ng.len());
            }
        } else {
            eprintln!("skipping: {} not found", path.display());
        }
        // Synthetic too, independent of the data directory.
        let d = [5u8; 33];
        let pkts = [
            Pkt {
                secs: 1,
                frac: 2,
                data: &d,
                orig_len: 33,
            },
            Pkt {
                secs: 3,
                frac: 4,
                data: &d[..1],
                orig_len: 33,
            },
        ];
        let f = pcap_file(true, true, 1, &pkts);
        check_truncations(&f, 0..=f.len());
        let mut w = NgWriter::new(true);
        w.idb(1, 0, None, None);
        w.epb(0, 1, &d, 33);
        w.block(0x0BAD, &d);
        w.spb(&d, 40);
        w.shb(false);
        w.idb(1, 0, None, None);
        w.pb(0, 7, &d, 33);
        check_truncations(&w.out, 0..=w.out.len());
    }

    // ------------------------------------------------------------ real files

    /// Packet counts verified with `tshark -r FILE -T fields -e frame.number | wc -l`.
    const ZEEK_COUNTS: &[(&str, usize, u32)] = &[
        ("dns-edns-tcp-keepalive.pcap", 20, LINKTYPE_ETHERNET),
        ("dns-https.pcap", 2, LINKTYPE_ETHERNET),
        ("dns/mdns.pcap", 24, LINKTYPE_ETHERNET),
        ("http-vlan-0.pcap", 14, LINKTYPE_ETHERNET),
        ("http/get.pcap", 14, LINKTYPE_ETHERNET),
        ("http/post.pcap", 14, LINKTYPE_ETHERNET),
        ("http/proxy.pcap", 26, LINKTYPE_ETHERNET),
        ("tls/chrome-34-google.pcap", 42, LINKTYPE_ETHERNET),
        ("tls/dtls1_2.pcap", 16, LINKTYPE_ETHERNET),
        ("tls/openjdk-25.0.2-zeek.org.pcap", 6, LINKTYPE_LINUX_SLL2),
        ("tls/tls-13draft19-early-data.pcap", 50, LINKTYPE_ETHERNET),
        ("tls/tls1_1.pcap", 23, LINKTYPE_ETHERNET),
    ];

    #[test]
    fn zeek_pcaps_packet_counts() {
        let dir = data_dir().join("pcaps/zeek");
        if !dir.is_dir() {
            eprintln!("skipping: {} not found", dir.display());
            return;
        }
        let all = files_with_suffix(&dir, ".pcap");
        assert_eq!(
            all.len(),
            ZEEK_COUNTS.len(),
            "new pcaps in {}: {all:?}",
            dir.display()
        );
        for &(name, count, linktype) in ZEEK_COUNTS {
            let file = std::fs::read(dir.join(name)).unwrap();
            // Through a real File as well as a slice.
            let mut r = CaptureReader::new(std::fs::File::open(dir.join(name)).unwrap()).unwrap();
            let mut n = 0;
            while let Some(p) = r.next_packet().unwrap() {
                assert_eq!(p.linktype, linktype, "{name}");
                n += 1;
            }
            assert_eq!(n, count, "{name}");
            assert_eq!(r.bytes_read(), file.len() as u64, "{name}");
            let (pkts, err, _) = read_all(&file);
            assert!(err.is_none(), "{name}: {err:?}");
            assert_eq!(pkts.len(), count, "{name}");
            // pcapng conversions in both byte orders and resolutions read back identically.
            for (be, nanos) in [(false, false), (true, true), (false, true), (true, false)] {
                let ng = to_pcapng(&pkts, linktype as u16, be, nanos);
                let (back, err, _) = read_all(&ng);
                assert!(err.is_none(), "{name}: {err:?}");
                assert_eq!(back.len(), pkts.len());
                for (a, b) in back.iter().zip(&pkts) {
                    assert_eq!(
                        (a.ts, a.linktype, &a.data, a.orig_len),
                        (b.ts, b.linktype, &b.data, b.orig_len)
                    );
                }
            }
        }
        // Spot values from tshark (frame.time_epoch, frame.len).
        let (pkts, _, _) = read_all(&std::fs::read(dir.join("dns-https.pcap")).unwrap());
        assert_eq!(pkts[0].ts, Timestamp::new(1_632_928_690, 500_620_000));
        assert_eq!((pkts[0].data.len(), pkts[0].orig_len), (97, 97));
        assert_eq!(pkts[1].ts, Timestamp::new(1_632_928_690, 528_268_000));
        assert_eq!(pkts[1].data.len(), 176);
        assert_eq!(pkts[0].offset, 24);
        assert_eq!(pkts[1].offset, 24 + 16 + 97);
        let (pkts, _, _) =
            read_all(&std::fs::read(dir.join("tls/openjdk-25.0.2-zeek.org.pcap")).unwrap());
        assert_eq!(pkts[5].ts, Timestamp::new(1_776_243_128, 913_922_000));
        assert_eq!(pkts[5].data.len(), 2980);
    }

    #[test]
    fn suricata_verify_pcaps_read_cleanly() {
        let dir = data_dir().join("suricata-verify/tests");
        if !dir.is_dir() {
            eprintln!("skipping: {} not found", dir.display());
            return;
        }
        let mut files = files_with_suffix(&dir, ".pcap");
        files.extend(files_with_suffix(&dir, ".pcapng"));
        assert!(files.len() >= 35, "{}", files.len());
        let mut total = 0;
        for f in &files {
            let mut r = CaptureReader::new(std::fs::File::open(f).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let mut n = 0u64;
            while let Some(p) = r
                .next_packet()
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
            {
                assert!(!p.data.is_empty());
                n += 1;
            }
            assert!(n > 0, "{}", f.display());
            assert_eq!(r.skipped(), 0);
            total += n;
        }
        // issue-4220-01-ids/1flowB.pcap alone has 1358 packets.
        assert!(total > 2000, "{total}");
    }

    /// Cross-check against an independent pcapng writer when Wireshark's `editcap` exists.
    #[test]
    fn editcap_pcapng_matches_pcap() {
        let editcap = Path::new("/usr/bin/editcap");
        let src = data_dir().join("pcaps/zeek/tls/openjdk-25.0.2-zeek.org.pcap");
        if !editcap.exists() || !src.exists() {
            eprintln!("skipping: editcap or data not available");
            return;
        }
        let (want, _, _) = read_all(&std::fs::read(&src).unwrap());
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out.pcapng");
        let status = std::process::Command::new(editcap)
            .args(["-F", "pcapng"])
            .arg(&src)
            .arg(&out)
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("skipping: editcap failed");
            return;
        }
        let converted = std::fs::read(&out).unwrap();
        let (got, err, r) = read_all(&converted);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(r.unwrap().format(), CaptureFormat::PcapNg);
        assert_eq!(got.len(), want.len());
        for (a, b) in got.iter().zip(&want) {
            assert_eq!(
                (a.ts, a.linktype, &a.data, a.orig_len),
                (b.ts, b.linktype, &b.data, b.orig_len)
            );
        }
    }
}
