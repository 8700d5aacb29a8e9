//! Synthetic traffic: a pcap writer and packet builders.
//!
//! Tests use these to build captures with exactly the behaviour under test (split ClientHellos,
//! reordered segments, DNS for known-bad names), and the benchmark harness uses them to build a
//! large reproducible capture from real pcaps with shifted addresses.

use crate::pcap::{Timestamp, LINKTYPE_ETHERNET};
use std::io::{self, Write};
use std::net::IpAddr;

/// Writes classic pcap (microsecond resolution, little-endian).
pub struct PcapWriter<W: Write> {
    out: W,
    pub packets: u64,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, linktype: u32) -> io::Result<Self> {
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&262_144u32.to_le_bytes())?;
        out.write_all(&linktype.to_le_bytes())?;
        Ok(PcapWriter { out, packets: 0 })
    }

    pub fn write(&mut self, ts: Timestamp, frame: &[u8]) -> io::Result<()> {
        self.write_with_len(ts, frame, frame.len() as u32)
    }

    pub fn write_with_len(&mut self, ts: Timestamp, frame: &[u8], orig_len: u32) -> io::Result<()> {
        self.out.write_all(&(ts.secs as u32).to_le_bytes())?;
        self.out.write_all(&(ts.nanos / 1000).to_le_bytes())?;
        self.out.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.out.write_all(&orig_len.to_le_bytes())?;
        self.out.write_all(frame)?;
        self.packets += 1;
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

/// Ethernet + IPv4/IPv6 + transport header around `l4` (already including the L4 header).
pub fn ip_frame(src: IpAddr, dst: IpAddr, proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + 40 + l4.len());
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            f.extend_from_slice(&0x0800u16.to_be_bytes());
            let total = (20 + l4.len()) as u16;
            f.extend_from_slice(&[0x45, 0]);
            f.extend_from_slice(&total.to_be_bytes());
            f.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
            f.extend_from_slice(&s.octets());
            f.extend_from_slice(&d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            f.extend_from_slice(&0x86ddu16.to_be_bytes());
            f.extend_from_slice(&[0x60, 0, 0, 0]);
            f.extend_from_slice(&(l4.len() as u16).to_be_bytes());
            f.extend_from_slice(&[proto, 64]);
            f.extend_from_slice(&s.octets());
            f.extend_from_slice(&d.octets());
        }
        _ => panic!("ip_frame: address families differ"),
    }
    f.extend_from_slice(l4);
    f
}

pub fn udp_frame(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    ip_frame(src, dst, 17, &u)
}

#[allow(clippy::too_many_arguments)]
pub fn tcp_frame(
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::with_capacity(20 + payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&ack.to_be_bytes());
    t.extend_from_slice(&[0x50, flags]);
    t.extend_from_slice(&65535u16.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(payload);
    ip_frame(src, dst, 6, &t)
}

/// A TCP connection written as a handshake, data segments and a FIN exchange.
pub struct TcpConversation {
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    pub client_isn: u32,
    pub server_isn: u32,
    /// Frames in wire order, with their offsets in microseconds from the start.
    pub frames: Vec<(u64, Vec<u8>)>,
    seq: [u32; 2],
    clock: u64,
}

impl TcpConversation {
    pub fn new(client: (IpAddr, u16), server: (IpAddr, u16)) -> Self {
        let (ci, si) = (1_000_000u32, 2_000_000u32);
        let mut c = TcpConversation {
            client,
            server,
            client_isn: ci,
            server_isn: si,
            frames: Vec::new(),
            seq: [ci + 1, si + 1],
            clock: 0,
        };
        c.push_raw(true, ci, 0, 0x02, &[]);
        c.push_raw(false, si, ci + 1, 0x12, &[]);
        c.push_raw(true, ci + 1, si + 1, 0x10, &[]);
        c
    }

    fn push_raw(&mut self, from_client: bool, seq: u32, ack: u32, flags: u8, payload: &[u8]) {
        let (s, d) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        self.clock += 1000;
        self.frames.push((
            self.clock,
            tcp_frame(s.0, d.0, s.1, d.1, seq, ack, flags, payload),
        ));
    }

    /// Sends `data` from one side, cut into segments of at most `mss` bytes.
    pub fn send(&mut self, from_client: bool, data: &[u8], mss: usize) {
        let i = usize::from(!from_client);
        for chunk in data.chunks(mss.max(1)) {
            let ack = self.seq[1 - i];
            self.push_raw(from_client, self.seq[i], ack, 0x18, chunk);
            self.seq[i] = self.seq[i].wrapping_add(chunk.len() as u32);
        }
    }

    pub fn close(&mut self) {
        let (c, s) = (self.seq[0], self.seq[1]);
        self.push_raw(true, c, s, 0x11, &[]);
        self.push_raw(false, s, c + 1, 0x11, &[]);
        self.push_raw(true, c + 1, s + 1, 0x10, &[]);
    }

    /// Swaps frames `a` and `b` (to test out-of-order delivery).
    pub fn swap(&mut self, a: usize, b: usize) {
        let (ta, tb) = (self.frames[a].0, self.frames[b].0);
        self.frames.swap(a, b);
        self.frames[a].0 = ta;
        self.frames[b].0 = tb;
    }

    pub fn write_to<W: Write>(&self, w: &mut PcapWriter<W>, start: Timestamp) -> io::Result<()> {
        for (off, f) in &self.frames {
            w.write(Timestamp::from_micros(start.as_micros() + *off as i64), f)?;
        }
        Ok(())
    }
}

/// A DNS query message.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&1u16.to_be_bytes());
    m
}

/// A DNS response with one A record answering `name`.
pub fn dns_a_response(id: u16, name: &str, addr: std::net::Ipv4Addr) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
    m.extend_from_slice(&addr.octets());
    m
}

fn push_name(m: &mut Vec<u8>, name: &str) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        m.push(label.len().min(63) as u8);
        m.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    m.push(0);
}

/// A TLS 1.2/1.3-style ClientHello record with SNI, ALPN, groups and signature algorithms.
pub fn tls_client_hello(sni: &str) -> Vec<u8> {
    let mut exts = Vec::new();
    let mut ext = |ty: u16, body: &[u8]| {
        exts.extend_from_slice(&ty.to_be_bytes());
        exts.extend_from_slice(&(body.len() as u16).to_be_bytes());
        exts.extend_from_slice(body);
    };
    let mut sni_body = Vec::new();
    sni_body.extend_from_slice(&((sni.len() + 3) as u16).to_be_bytes());
    sni_body.push(0);
    sni_body.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    sni_body.extend_from_slice(sni.as_bytes());
    ext(0x0000, &sni_body);
    ext(0x000b, &[1, 0]); // ec_point_formats: uncompressed
    ext(0x000a, &[0, 4, 0, 0x1d, 0, 0x17]); // groups: x25519, secp256r1
    ext(0x0010, &[0, 3, 2, b'h', b'2']); // ALPN h2
    ext(0x000d, &[0, 4, 0x04, 0x03, 0x08, 0x04]); // signature algorithms
    ext(0x002b, &[4, 0x03, 0x04, 0x03, 0x03]); // supported_versions: 1.3, 1.2
    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x03]);
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    let ciphers: [u16; 3] = [0x1301, 0x1302, 0xc02f];
    body.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        body.extend_from_slice(&c.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// A TLS ServerHello record selecting TLS 1.2 and ECDHE-RSA-AES128-GCM.
pub fn tls_server_hello() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&[0x03, 0x03]);
    body.extend_from_slice(&[0x22; 32]);
    body.push(0);
    body.extend_from_slice(&0xc02fu16.to_be_bytes());
    body.push(0);
    let ext_block: [u8; 5] = [0xff, 0x01, 0, 1, 0]; // renegotiation_info, empty
    body.extend_from_slice(&(ext_block.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext_block);
    let mut hs = vec![2];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x03];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

pub fn http_get(host: &str, path: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\r\n"
    )
    .into_bytes()
}

/// Shifts every IPv4 address in an Ethernet frame by `k << 16` and every IPv6 address's second
/// 16-bit group by `k`, so that copies of a capture become distinct flows. Returns `false` for
/// frames it cannot shift (they are still usable unchanged).
pub fn shift_addresses(frame: &mut [u8], k: u32) -> bool {
    let mut off = 12;
    let mut ethertype = match frame.get(12..14) {
        Some(b) => u16::from_be_bytes([b[0], b[1]]),
        None => return false,
    };
    while matches!(ethertype, 0x8100 | 0x88a8 | 0x9100) {
        off += 4;
        ethertype = match frame.get(off..off + 2) {
            Some(b) => u16::from_be_bytes([b[0], b[1]]),
            None => return false,
        };
    }
    let ip = off + 2;
    match ethertype {
        0x0800 if frame.len() >= ip + 20 => {
            for a in [ip + 12, ip + 16] {
                let v = u32::from_be_bytes([frame[a], frame[a + 1], frame[a + 2], frame[a + 3]]);
                frame[a..a + 4].copy_from_slice(&v.wrapping_add(k << 16).to_be_bytes());
            }
            true
        }
        0x86dd if frame.len() >= ip + 40 => {
            for a in [ip + 8 + 2, ip + 24 + 2] {
                let v = u16::from_be_bytes([frame[a], frame[a + 1]]);
                frame[a..a + 2].copy_from_slice(&v.wrapping_add(k as u16).to_be_bytes());
            }
            true
        }
        _ => false,
    }
}

/// Builds a large capture from Ethernet pcaps: every input `copies` times, addresses shifted per
/// copy, files laid end to end in time. Returns (packets, bytes) written.
pub fn concatenate_shifted<W: Write>(
    inputs: &[std::path::PathBuf],
    copies: u32,
    out: W,
) -> Result<(u64, u64), crate::pcap::CaptureError> {
    use crate::pcap::{CaptureError, CaptureReader};
    let io_err = |e: io::Error| CaptureError::Io {
        offset: 0,
        source: e,
    };
    let mut w = PcapWriter::new(io::BufWriter::new(out), LINKTYPE_ETHERNET).map_err(io_err)?;
    let mut clock = Timestamp {
        secs: 1_700_000_000,
        nanos: 0,
    };
    let mut bytes = 0u64;
    let mut frame = Vec::new();
    for k in 0..copies {
        for path in inputs {
            let f = std::fs::File::open(path).map_err(io_err)?;
            let mut r = CaptureReader::new(io::BufReader::new(f))?;
            let mut first: Option<i64> = None;
            let mut last = clock.as_micros();
            while let Ok(Some(p)) = r.next_packet() {
                if p.linktype != LINKTYPE_ETHERNET {
                    break;
                }
                let base = *first.get_or_insert(p.ts.as_micros());
                let at = clock.as_micros() + (p.ts.as_micros() - base).max(0);
                last = last.max(at);
                frame.clear();
                frame.extend_from_slice(p.data);
                shift_addresses(&mut frame, k);
                w.write_with_len(Timestamp::from_micros(at), &frame, p.orig_len)
                    .map_err(io_err)?;
                bytes += u64::from(p.orig_len);
            }
            clock = Timestamp::from_micros(last + 1_000_000);
        }
    }
    let packets = w.packets;
    w.into_inner().flush().map_err(io_err)?;
    Ok((packets, bytes))
}

/// A deterministic list of `n` mixed indicators, one per line, for load benchmarks: IPv4
/// addresses, CIDRs, domains, URLs, SHA-256 and MD5 hashes, JA3 and JA4 fingerprints.
pub fn mixed_indicator_list(n: usize, mut out: impl Write) -> io::Result<()> {
    let mut x: u64 = 0x243f_6a88_85a3_08d3;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..n {
        let r = next();
        match i % 20 {
            0..=7 => writeln!(out, "{}", std::net::Ipv4Addr::from(r as u32))?,
            8 => writeln!(
                out,
                "{}/{}",
                std::net::Ipv4Addr::from(r as u32 & 0xffff_ff00),
                24
            )?,
            9..=14 => writeln!(out, "{:x}-{}.example{}.com", r, i, r % 97)?,
            15 | 16 => writeln!(
                out,
                "http://{:x}.example.net/p/{}?q={}",
                r >> 20,
                i,
                r % 1000
            )?,
            17 => writeln!(out, "{:016x}{:016x}{:016x}{:016x}", r, next(), next(), i)?,
            18 => writeln!(out, "{:016x}{:016x}", r, i)?,
            _ => writeln!(
                out,
                "t13d{:02}{:02}h2_{:012x}_{:012x}",
                r % 99,
                i % 99,
                r >> 16,
                (i as u64) << 4
            )?,
        }
    }
    Ok(())
}

/// The demo capture shipped as `samples/pcaps/vigil-demo.pcap`: benign browsing mixed with
/// traffic to the reserved `.example` names and TEST-NET addresses listed in `samples/intel`.
/// A test checks that the committed file is exactly this output.
pub fn demo_capture() -> Vec<u8> {
    let ip = |s: &str| -> IpAddr { s.parse().expect("literal address") };
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).expect("writing to memory");
    let mut t = Timestamp {
        secs: 1_767_225_600,
        nanos: 0,
    }; // 2026-01-01T00:00:00Z
    let mut step = |ms: i64| {
        t = Timestamp::from_micros(t.as_micros() + ms * 1000);
        t
    };
    let host = ip("192.0.2.10");
    let resolver = ip("192.0.2.53");
    let write = |w: &mut PcapWriter<Vec<u8>>, at: Timestamp, f: Vec<u8>| {
        w.write(at, &f).expect("writing to memory")
    };

    // Benign and malicious DNS lookups, each answered.
    let lookups = [
        ("www.wikipedia.org", "198.51.100.7"),
        ("c2.evil-updates.example", "203.0.113.66"),
        ("api.weather.example.com", "198.51.100.8"),
        ("login.phish-bank.example", "203.0.113.80"),
    ];
    for (i, (name, addr)) in lookups.iter().enumerate() {
        let id = 0x1000 + i as u16;
        let sport = 53000 + i as u16;
        let q = dns_query(id, name, 1);
        write(&mut w, step(10), udp_frame(host, resolver, sport, 53, &q));
        let a = dns_a_response(id, name, addr.parse().expect("literal address"));
        write(&mut w, step(15), udp_frame(resolver, host, 53, sport, &a));
    }

    // TLS to the phishing host; the ClientHello is split in two segments sent out of order.
    let mut tls = TcpConversation::new((host, 50001), (ip("203.0.113.80"), 443));
    let hello = tls_client_hello("login.phish-bank.example");
    tls.send(true, &hello, hello.len() / 2 + 1);
    let n = tls.frames.len();
    tls.swap(n - 2, n - 1);
    tls.send(false, &tls_server_hello(), 1400);
    tls.close();
    let start = step(50);
    tls.write_to(&mut w, start).expect("writing to memory");

    // Benign TLS.
    let mut ok = TcpConversation::new((host, 50002), (ip("198.51.100.7"), 443));
    ok.send(true, &tls_client_hello("www.wikipedia.org"), 1400);
    ok.send(false, &tls_server_hello(), 1400);
    ok.close();
    let start = step(200);
    ok.write_to(&mut w, start).expect("writing to memory");

    // HTTP download of a known-bad URL, two pipelined requests.
    let mut web = TcpConversation::new((host, 50003), (ip("198.51.100.99"), 80));
    let mut reqs = http_get(
        "dl.malware-drop.example",
        "/payload/./stage2.bin",
        "curl/8.5.0",
    );
    reqs.extend(http_get(
        "dl.malware-drop.example",
        "/favicon.ico",
        "curl/8.5.0",
    ));
    web.send(true, &reqs, 60);
    let body = b"MZ\x90\x00stage2";
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut r = resp.into_bytes();
    r.extend_from_slice(body);
    r.extend_from_slice(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    web.send(false, &r, 1400);
    web.close();
    let start = step(300);
    web.write_to(&mut w, start).expect("writing to memory");

    // A beacon to a listed C2 address over a non-standard port.
    let mut beacon = TcpConversation::new((host, 50004), (ip("203.0.113.66"), 8443));
    beacon.send(true, b"\x00\x01hello-c2", 1400);
    beacon.close();
    let start = step(400);
    beacon.write_to(&mut w, start).expect("writing to memory");

    w.into_inner()
}

/// Ethernet frames carrying one IPv4 datagram cut into fragments of at most `chunk` payload
/// bytes (rounded down to a multiple of 8, as the offset field requires).
pub fn ipv4_fragments(
    src: std::net::Ipv4Addr,
    dst: std::net::Ipv4Addr,
    proto: u8,
    id: u16,
    l4: &[u8],
    chunk: usize,
) -> Vec<Vec<u8>> {
    let chunk = (chunk / 8).max(1) * 8;
    let mut out = Vec::new();
    let mut off = 0;
    while off < l4.len() || (off == 0 && l4.is_empty()) {
        let end = (off + chunk).min(l4.len());
        let more = end < l4.len();
        let mut f = Vec::with_capacity(34 + end - off);
        f.extend_from_slice(&MAC_B);
        f.extend_from_slice(&MAC_A);
        f.extend_from_slice(&0x0800u16.to_be_bytes());
        f.extend_from_slice(&[0x45, 0]);
        f.extend_from_slice(&((20 + end - off) as u16).to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        let flags_off = ((off / 8) as u16) | if more { 0x2000 } else { 0 };
        f.extend_from_slice(&flags_off.to_be_bytes());
        f.extend_from_slice(&[64, proto, 0, 0]);
        f.extend_from_slice(&src.octets());
        f.extend_from_slice(&dst.octets());
        f.extend_from_slice(&l4[off..end]);
        out.push(f);
        if end == l4.len() {
            break;
        }
        off = end;
    }
    out
}

/// A capture with one host showing each behaviour the models look for, next to ordinary
/// lookups: a vertical port scan (40 ports answered with RST), beaconing (a TLS connection
/// every 60 s ± 1 s, 14 times), DNS tunnelling (80 long high-entropy subdomains of one
/// parent in a minute) and DGA-like lookups (8 random-looking `.com` names).
pub fn behaviour_capture() -> Vec<u8> {
    let ip = |s: &str| -> IpAddr { s.parse().expect("literal address") };
    let mut w = PcapWriter::new(Vec::new(), LINKTYPE_ETHERNET).expect("writing to memory");
    let start = Timestamp {
        secs: 1_767_225_600,
        nanos: 0,
    };
    let at = |ms: i64| Timestamp::from_micros(start.as_micros() + ms * 1000);
    let mut frames: Vec<(Timestamp, Vec<u8>)> = Vec::new();
    let resolver = ip("192.0.2.53");

    // Vertical scan: SYN to 40 ports, each refused with RST-ACK.
    let (scanner, victim) = (ip("192.0.2.66"), ip("198.51.100.20"));
    for (i, port) in (20u16..60).enumerate() {
        let t = 1_000 + i as i64 * 50;
        let sport = 41000 + i as u16;
        frames.push((
            at(t),
            tcp_frame(scanner, victim, sport, port, 7, 0, 0x02, &[]),
        ));
        frames.push((
            at(t + 1),
            tcp_frame(victim, scanner, port, sport, 0, 8, 0x14, &[]),
        ));
    }

    // Beaconing: a short TLS session to the same server every 60 s with ±1 s jitter.
    let (implant, c2) = (ip("192.0.2.77"), ip("203.0.113.9"));
    let mut rng = 0x5eed_u64;
    for i in 0..14i64 {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let jitter = (rng >> 33) as i64 % 2000 - 1000;
        let mut c = TcpConversation::new((implant, 50000 + i as u16), (c2, 443));
        c.send(true, &tls_client_hello("updates.cdn-check.example"), 1400);
        c.send(false, &tls_server_hello(), 1400);
        c.close();
        let t0 = at(10_000 + i * 60_000 + jitter);
        for (off, f) in &c.frames {
            frames.push((
                Timestamp::from_micros(t0.as_micros() + *off as i64),
                f.clone(),
            ));
        }
    }

    // DNS tunnelling: 80 queries with 40-character encoded labels under one parent.
    let tunneler = ip("192.0.2.88");
    const B32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    for i in 0..80u16 {
        let label: String = (0..40)
            .map(|k| {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let _ = k;
                B32[(rng >> 59) as usize] as char
            })
            .collect();
        let name = format!("{label}.exfil-tunnel.net");
        let q = dns_query(0x2000 + i, &name, 16);
        frames.push((
            at(2_000 + i64::from(i) * 500),
            udp_frame(tunneler, resolver, 30000 + i, 53, &q),
        ));
    }

    // DGA-like lookups from one host.
    let infected = ip("192.0.2.99");
    for (i, name) in [
        "xjkqwvzbtrplm.com",
        "qzvkxwjtbnrpd.com",
        "vbxqzkjwtpmrl.com",
        "kzqxjvwbtnrlp.com",
        "wqxzvjkbtpnrm.com",
        "jxqvzkwbrtplm.com",
        "zqkxvjwbtnrpd.com",
        "bxvqzjkwtrpml.com",
    ]
    .iter()
    .enumerate()
    {
        let q = dns_query(0x3000 + i as u16, name, 1);
        frames.push((
            at(5_000 + i as i64 * 3_000),
            udp_frame(infected, resolver, 31000 + i as u16, 53, &q),
        ));
    }

    frames.sort_by_key(|(t, _)| *t);
    for (t, f) in frames {
        w.write(t, &f).expect("writing to memory");
    }
    w.into_inner()
}
