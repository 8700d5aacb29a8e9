//! Packet decoder: link layer → IPv4/IPv6 → TCP/UDP/ICMP.
//!
//! [`decode`] takes one captured frame and its pcap link type and returns borrowed views into
//! the frame; nothing is copied or allocated. Every read is bounds-checked, so malformed input
//! yields a [`DecodeError`], never a panic. Checksums are not validated (captures taken with
//! checksum offload routinely carry bad ones).
//!
//! IPv4 fragments are returned as [`DecodeOutcome::Fragment`] for [`crate::frag`] to
//! reassemble; the reassembled datagram goes back through [`decode_ip`]. IPv6 fragments are
//! not reassembled: a fragment header that is not atomic (offset 0 with M clear) yields
//! [`L4::Other`] with the payload after the fragment header and `ip_proto` set to the
//! fragment header's next-header value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::pcap::{
    LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2,
    LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
};

/// Ethertype of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// Ethertype of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// 802.1ad service VLAN tag (QinQ outer tag).
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
/// Pre-standard QinQ outer tag.
pub const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// IP protocol numbers used by the decoder.
pub mod ip_proto {
    pub const HOPOPT: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6_ROUTE: u8 = 43;
    pub const IPV6_FRAG: u8 = 44;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const IPV6_NONXT: u8 = 59;
    pub const IPV6_OPTS: u8 = 60;
    pub const MOBILITY: u8 = 135;
}

/// TCP header flag bits (`TcpSegment::flags`).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// A decoded IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// VLAN IDs (12-bit), outermost first; only the first `vlan_count` entries are meaningful.
    pub vlan: [u16; 2],
    /// Number of VLAN tags recorded (0..=2; deeper stacks are decoded but not recorded).
    pub vlan_count: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol, after any IPv6 extension headers.
    pub ip_proto: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IP length on the wire (header + payload) from the IP header, for byte counters. May
    /// exceed the captured bytes when the capture was truncated by a snap length.
    pub ip_len: u32,
    pub l4: L4<'a>,
    /// The IPv4 header as captured (empty for IPv6), for checksum verification.
    pub ip_header: &'a [u8],
    /// The whole transport segment (header and payload) as captured.
    pub l4_bytes: &'a [u8],
}

/// Transport layer of a decoded packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L4<'a> {
    Tcp(TcpSegment<'a>),
    /// `payload` is trimmed to the UDP length field (and to the captured bytes).
    Udp {
        sport: u16,
        dport: u16,
        payload: &'a [u8],
    },
    /// ICMPv4 or ICMPv6. `payload` is everything after the 8-byte ICMP header (type, code,
    /// checksum and the 4-byte rest-of-header), e.g. the quoted datagram of an error message.
    Icmp {
        icmp_type: u8,
        code: u8,
        payload: &'a [u8],
    },
    /// Any other protocol (or a non-atomic IPv6 fragment): the bytes after the IP headers.
    Other {
        payload: &'a [u8],
    },
}

/// A TCP segment. Options are skipped; `payload` starts after the data offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    /// Flag bits, see [`tcp_flags`] (NS is not included).
    pub flags: u8,
    pub window: u16,
    pub payload: &'a [u8],
}

/// An IPv4 fragment (MF set or non-zero offset), for [`crate::frag::FragmentTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Fragment<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub id: u16,
    pub proto: u8,
    /// Fragment offset in bytes.
    pub offset: u32,
    pub more_fragments: bool,
    /// The IPv4 header including options.
    pub header: &'a [u8],
    /// Fragment payload, trimmed to the total length (and to the captured bytes).
    pub payload: &'a [u8],
    pub vlan: [u16; 2],
    pub vlan_count: u8,
}

/// Result of decoding a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeOutcome<'a> {
    Packet(Decoded<'a>),
    Fragment(Ipv4Fragment<'a>),
    /// Not IPv4/IPv6. `ethertype` is the Ethernet/SLL protocol field, or for NULL/LOOP
    /// captures the address family (truncated to 16 bits).
    NotIp {
        ethertype: u16,
    },
}

/// Decoding failure. `offset` is the byte offset in the frame (or datagram) passed in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "truncated {layer} header at byte offset {offset}: needs {needed} bytes, only {got} available"
    )]
    Truncated {
        layer: &'static str,
        offset: usize,
        needed: usize,
        got: usize,
    },
    #[error("invalid {layer} header at byte offset {offset}: {what}")]
    Invalid {
        layer: &'static str,
        offset: usize,
        what: &'static str,
    },
    #[error("unsupported link type {0}")]
    UnsupportedLinktype(u32),
}

impl DecodeError {
    /// Byte offset of the offending header, if any.
    pub fn offset(&self) -> Option<usize> {
        match self {
            DecodeError::Truncated { offset, .. } | DecodeError::Invalid { offset, .. } => {
                Some(*offset)
            }
            DecodeError::UnsupportedLinktype(_) => None,
        }
    }
}

/// A bounds-checked view of one header within the frame, remembering its frame offset.
#[derive(Clone, Copy)]
struct View<'a> {
    bytes: &'a [u8],
    /// Offset of `bytes[0]` in the buffer originally passed to the decoder.
    base: usize,
}

impl<'a> View<'a> {
    /// Ensures at least `n` bytes are available, else `Truncated` naming `layer`.
    fn need(self, layer: &'static str, n: usize) -> Result<(), DecodeError> {
        if self.bytes.len() < n {
            return Err(DecodeError::Truncated {
                layer,
                offset: self.base,
                needed: n,
                got: self.bytes.len(),
            });
        }
        Ok(())
    }
    fn invalid(self, layer: &'static str, what: &'static str) -> DecodeError {
        DecodeError::Invalid {
            layer,
            offset: self.base,
            what,
        }
    }
    fn u8(self, at: usize) -> u8 {
        self.bytes.get(at).copied().unwrap_or(0)
    }
    fn u16(self, at: usize) -> u16 {
        match self.bytes.get(at..at + 2) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }
    fn u32(self, at: usize) -> u32 {
        match self.bytes.get(at..at + 4) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }
    fn arr<const N: usize>(self, at: usize) -> [u8; N] {
        self.bytes
            .get(at..at + N)
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; N])
    }
    /// Bytes from `at` on (empty if past the end).
    fn rest(self, at: usize) -> View<'a> {
        View {
            bytes: self.bytes.get(at..).unwrap_or(&[]),
            base: self.base + at.min(self.bytes.len()),
        }
    }
    /// The first `n` bytes (all of them if fewer).
    fn take(self, n: usize) -> View<'a> {
        View {
            bytes: self.bytes.get(..n).unwrap_or(self.bytes),
            base: self.base,
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Vlans {
    ids: [u16; 2],
    count: u8,
}

/// Decodes a captured frame of the given pcap link type.
pub fn decode(linktype: u32, frame: &[u8]) -> Result<DecodeOutcome<'_>, DecodeError> {
    let v = View {
        bytes: frame,
        base: 0,
    };
    match linktype {
        LINKTYPE_ETHERNET => {
            v.need("ethernet", 14)?;
            ethertype_payload(v.u16(12), v.rest(14), Vlans::default())
        }
        LINKTYPE_LINUX_SLL => {
            v.need("linux sll", 16)?;
            ethertype_payload(v.u16(14), v.rest(16), Vlans::default())
        }
        LINKTYPE_LINUX_SLL2 => {
            v.need("linux sll2", 20)?;
            ethertype_payload(v.u16(0), v.rest(20), Vlans::default())
        }
        LINKTYPE_RAW | LINKTYPE_IPV4 | LINKTYPE_IPV6 => ip_by_version(v, Vlans::default()),
        LINKTYPE_NULL | LINKTYPE_LOOP => {
            v.need("loopback", 4)?;
            let raw: [u8; 4] = v.arr(0);
            let family = if linktype == LINKTYPE_LOOP {
                u32::from_be_bytes(raw)
            } else {
                // Host byte order of the capturing machine: families are small numbers, so
                // whichever interpretation fits in the low 16 bits is the right one.
                let le = u32::from_le_bytes(raw);
                if le > 0xFFFF {
                    u32::from_be_bytes(raw)
                } else {
                    le
                }
            };
            let payload = v.rest(4);
            match family {
                2 => ipv4(payload, Vlans::default()),
                10 | 24 | 28 | 30 => ipv6(payload, Vlans::default()),
                other => Ok(DecodeOutcome::NotIp {
                    ethertype: other as u16,
                }),
            }
        }
        other => Err(DecodeError::UnsupportedLinktype(other)),
    }
}

/// Decodes a complete IPv4 or IPv6 datagram (e.g. the output of fragment reassembly),
/// choosing the version from the first nibble.
pub fn decode_ip(
    datagram: &[u8],
    vlan: [u16; 2],
    vlan_count: u8,
) -> Result<DecodeOutcome<'_>, DecodeError> {
    let vlans = Vlans {
        ids: vlan,
        count: vlan_count.min(2),
    };
    ip_by_version(
        View {
            bytes: datagram,
            base: 0,
        },
        vlans,
    )
}

fn ip_by_version(v: View<'_>, vlans: Vlans) -> Result<DecodeOutcome<'_>, DecodeError> {
    v.need("ip", 1)?;
    match v.u8(0) >> 4 {
        4 => ipv4(v, vlans),
        6 => ipv6(v, vlans),
        _ => Err(v.invalid("ip", "ip version is neither 4 nor 6")),
    }
}

/// Dispatches on an ethertype, unwrapping any number of VLAN tags (recording the first two).
fn ethertype_payload(
    mut ethertype: u16,
    mut v: View<'_>,
    mut vlans: Vlans,
) -> Result<DecodeOutcome<'_>, DecodeError> {
    while matches!(
        ethertype,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
    ) {
        v.need("vlan", 4)?;
        if let Some(slot) = vlans.ids.get_mut(usize::from(vlans.count)) {
            *slot = v.u16(0) & 0x0FFF;
            vlans.count += 1;
        }
        ethertype = v.u16(2);
        v = v.rest(4);
    }
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(v, vlans),
        ETHERTYPE_IPV6 => ipv6(v, vlans),
        other => Ok(DecodeOutcome::NotIp { ethertype: other }),
    }
}

fn ipv4(v: View<'_>, vlans: Vlans) -> Result<DecodeOutcome<'_>, DecodeError> {
    v.need("ipv4", 20)?;
    let b0 = v.u8(0);
    if b0 >> 4 != 4 {
        return Err(v.invalid("ipv4", "version is not 4"));
    }
    let hl = usize::from(b0 & 0x0F) * 4;
    if hl < 20 {
        return Err(v.invalid("ipv4", "header length below 20 bytes"));
    }
    v.need("ipv4", hl)?;
    let total = usize::from(v.u16(2));
    // A total length of 0 is what TCP segmentation offload leaves in captured outgoing
    // packets; use the captured length then.
    let (wire_len, end) = if total == 0 {
        (v.bytes.len(), v.bytes.len())
    } else if total < hl {
        return Err(v.invalid("ipv4", "total length smaller than header length"));
    } else {
        // Trims Ethernet padding; a shorter capture (snap length) keeps what is there.
        (total, total.min(v.bytes.len()))
    };
    let dgram = v.take(end);
    let frag_field = v.u16(6);
    let more_fragments = frag_field & 0x2000 != 0;
    let frag_offset = u32::from(frag_field & 0x1FFF) * 8;
    let proto = v.u8(9);
    let src = Ipv4Addr::from(v.arr::<4>(12));
    let dst = Ipv4Addr::from(v.arr::<4>(16));
    let header = dgram.take(hl).bytes;
    let payload = dgram.rest(hl);
    if more_fragments || frag_offset != 0 {
        return Ok(DecodeOutcome::Fragment(Ipv4Fragment {
            src,
            dst,
            id: v.u16(4),
            proto,
            offset: frag_offset,
            more_fragments,
            header,
            payload: payload.bytes,
            vlan: vlans.ids,
            vlan_count: vlans.count,
        }));
    }
    let l4_bytes = payload.bytes;
    let l4 = transport(proto, payload)?;
    Ok(DecodeOutcome::Packet(Decoded {
        vlan: vlans.ids,
        vlan_count: vlans.count,
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        ip_proto: proto,
        ttl: v.u8(8),
        ip_len: u32::try_from(wire_len).unwrap_or(u32::MAX),
        l4,
        ip_header: header,
        l4_bytes,
    }))
}

fn ipv6<'a>(v: View<'a>, vlans: Vlans) -> Result<DecodeOutcome<'a>, DecodeError> {
    v.need("ipv6", 40)?;
    if v.u8(0) >> 4 != 6 {
        return Err(v.invalid("ipv6", "version is not 6"));
    }
    let plen = usize::from(v.u16(4));
    // Payload length 0 means a jumbogram (or offload); use what was captured.
    let captured_payload = v.bytes.len() - 40;
    let (wire_len, payload_end) = if plen == 0 {
        (v.bytes.len(), v.bytes.len())
    } else {
        (40 + plen, 40 + plen.min(captured_payload))
    };
    let src = IpAddr::V6(Ipv6Addr::from(v.arr::<16>(8)));
    let dst = IpAddr::V6(Ipv6Addr::from(v.arr::<16>(24)));
    let ttl = v.u8(7);
    let mut next = v.u8(6);
    let mut cur = v.take(payload_end).rest(40);
    let packet = |ip_proto: u8, l4: L4<'a>, l4_bytes: &'a [u8]| Decoded {
        vlan: vlans.ids,
        vlan_count: vlans.count,
        src,
        dst,
        ip_proto,
        ttl,
        ip_len: u32::try_from(wire_len).unwrap_or(u32::MAX),
        l4,
        ip_header: &[],
        l4_bytes,
    };
    loop {
        let hdr_len = match next {
            ip_proto::HOPOPT | ip_proto::IPV6_ROUTE | ip_proto::IPV6_OPTS | ip_proto::MOBILITY => {
                cur.need("ipv6 extension", 2)?;
                (usize::from(cur.u8(1)) + 1) * 8
            }
            ip_proto::AH => {
                cur.need("ipv6 authentication", 2)?;
                (usize::from(cur.u8(1)) + 2) * 4
            }
            ip_proto::IPV6_FRAG => {
                cur.need("ipv6 fragment", 8)?;
                let inner = cur.u8(0);
                let off_m = cur.u16(2);
                let atomic = off_m & 0xFFF9 == 0; // offset 0 and M clear
                if !atomic {
                    let payload = cur.rest(8).bytes;
                    return Ok(DecodeOutcome::Packet(packet(
                        inner,
                        L4::Other { payload },
                        payload,
                    )));
                }
                8
            }
            ip_proto::IPV6_NONXT => {
                return Ok(DecodeOutcome::Packet(packet(
                    ip_proto::IPV6_NONXT,
                    L4::Other { payload: cur.bytes },
                    cur.bytes,
                )));
            }
            proto => {
                let l4_bytes = cur.bytes;
                let l4 = transport(proto, cur)?;
                return Ok(DecodeOutcome::Packet(packet(proto, l4, l4_bytes)));
            }
        };
        let layer = match next {
            ip_proto::AH => "ipv6 authentication",
            ip_proto::IPV6_FRAG => "ipv6 fragment",
            _ => "ipv6 extension",
        };
        cur.need(layer, hdr_len)?;
        next = cur.u8(0);
        cur = cur.rest(hdr_len);
    }
}

fn transport(proto: u8, v: View<'_>) -> Result<L4<'_>, DecodeError> {
    match proto {
        ip_proto::TCP => {
            v.need("tcp", 20)?;
            let hl = usize::from(v.u8(12) >> 4) * 4;
            if hl < 20 {
                return Err(v.invalid("tcp", "data offset below 5"));
            }
            v.need("tcp", hl)?;
            Ok(L4::Tcp(TcpSegment {
                sport: v.u16(0),
                dport: v.u16(2),
                seq: v.u32(4),
                ack: v.u32(8),
                flags: v.u8(13),
                window: v.u16(14),
                payload: v.rest(hl).bytes,
            }))
        }
        ip_proto::UDP => {
            v.need("udp", 8)?;
            let len = usize::from(v.u16(4));
            let end = match len {
                // Length 0 is used by IPv6 jumbograms; take what the IP layer gave us.
                0 => v.bytes.len(),
                1..=7 => return Err(v.invalid("udp", "length field below 8")),
                n => n.min(v.bytes.len()),
            };
            Ok(L4::Udp {
                sport: v.u16(0),
                dport: v.u16(2),
                payload: v.take(end).rest(8).bytes,
            })
        }
        ip_proto::ICMP | ip_proto::ICMPV6 => {
            let layer = if proto == ip_proto::ICMP {
                "icmp"
            } else {
                "icmpv6"
            };
            v.need(layer, 8)?;
            Ok(L4::Icmp {
                icmp_type: v.u8(0),
                code: v.u8(1),
                payload: v.rest(8).bytes,
            })
        }
        _ => Ok(L4::Other { payload: v.bytes }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::tests::{data_dir, files_with_suffix};
    use crate::pcap::CaptureReader;

    // ------------------------------------------------------------ frame builders

    pub(crate) fn tcp(sport: u16, dport: u16, flags: u8, opts: &[u8], payload: &[u8]) -> Vec<u8> {
        assert_eq!(opts.len() % 4, 0);
        let mut v = Vec::new();
        v.extend_from_slice(&sport.to_be_bytes());
        v.extend_from_slice(&dport.to_be_bytes());
        v.extend_from_slice(&0x0102_0304u32.to_be_bytes());
        v.extend_from_slice(&0x0506_0708u32.to_be_bytes());
        v.push((((20 + opts.len()) / 4) << 4) as u8);
        v.push(flags);
        v.extend_from_slice(&4096u16.to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent
        v.extend_from_slice(opts);
        v.extend_from_slice(payload);
        v
    }

    pub(crate) fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&sport.to_be_bytes());
        v.extend_from_slice(&dport.to_be_bytes());
        v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        v.extend_from_slice(&[0xde, 0xad]); // checksum: never validated
        v.extend_from_slice(payload);
        v
    }

    pub(crate) fn icmp(t: u8, code: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![t, code, 0, 0, 0, 1, 0, 2];
        v.extend_from_slice(payload);
        v
    }

    /// IPv4 packet; `frag` is the raw flags/offset field.
    pub(crate) fn ipv4(proto: u8, id: u16, frag: u16, opts: &[u8], payload: &[u8]) -> Vec<u8> {
        assert_eq!(opts.len() % 4, 0);
        let hl = 20 + opts.len();
        let mut v = vec![0x40 | (hl / 4) as u8, 0];
        v.extend_from_slice(&((hl + payload.len()) as u16).to_be_bytes());
        v.extend_from_slice(&id.to_be_bytes());
        v.extend_from_slice(&frag.to_be_bytes());
        v.push(64);
        v.push(proto);
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&[192, 0, 2, 1]);
        v.extend_from_slice(&[198, 51, 100, 2]);
        v.extend_from_slice(opts);
        v.extend_from_slice(payload);
        v
    }

    pub(crate) const V6_SRC: [u8; 16] =
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    pub(crate) const V6_DST: [u8; 16] =
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    pub(crate) fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x60, 0, 0, 0];
        v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        v.push(next);
        v.push(33);
        v.extend_from_slice(&V6_SRC);
        v.extend_from_slice(&V6_DST);
        v.extend_from_slice(payload);
        v
    }

    /// An 8-byte-unit extension header (hop-by-hop, routing, destination options).
    fn ext(next: u8, units: u8) -> Vec<u8> {
        let mut v = vec![next, units];
        v.resize(8 * (usize::from(units) + 1), 0x01); // PadN-ish filler
        v
    }

    pub(crate) fn eth(ethertype: u16, tags: &[(u16, u16)], payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        for &(tpid, tci) in tags {
            v.extend_from_slice(&tpid.to_be_bytes());
            v.extend_from_slice(&tci.to_be_bytes());
        }
        v.extend_from_slice(&ethertype.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn packet(o: Result<DecodeOutcome<'_>, DecodeError>) -> Decoded<'_> {
        match o {
            Ok(DecodeOutcome::Packet(d)) => d,
            other => panic!("expected a packet, got {other:?}"),
        }
    }

    fn v4(a: [u8; 4]) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(a))
    }

    // ------------------------------------------------------------ link layers

    #[test]
    fn ethernet_ipv4_tcp_with_options_and_padding() {
        let seg = tcp(
            1234,
            443,
            tcp_flags::SYN | tcp_flags::ACK,
            &[2, 4, 5, 0xb4],
            b"hi",
        );
        let ip = ipv4(ip_proto::TCP, 7, 0x4000, &[1, 1, 1, 0], &seg);
        let mut frame = eth(ETHERTYPE_IPV4, &[], &ip);
        frame.resize(frame.len() + 10, 0xEE); // Ethernet trailer / padding
        let d = packet(decode(LINKTYPE_ETHERNET, &frame));
        assert_eq!(d.vlan_count, 0);
        assert_eq!(d.src, v4([192, 0, 2, 1]));
        assert_eq!(d.dst, v4([198, 51, 100, 2]));
        assert_eq!(d.ip_proto, ip_proto::TCP);
        assert_eq!(d.ttl, 64);
        assert_eq!(d.ip_len, ip.len() as u32);
        let L4::Tcp(t) = d.l4 else {
            panic!("{:?}", d.l4)
        };
        assert_eq!((t.sport, t.dport), (1234, 443));
        assert_eq!((t.seq, t.ack, t.window), (0x0102_0304, 0x0506_0708, 4096));
        assert_eq!(t.flags, tcp_flags::SYN | tcp_flags::ACK);
        assert_eq!(t.payload, b"hi");
    }

    #[test]
    fn vlan_tags() {
        let ip = ipv4(ip_proto::UDP, 1, 0, &[], &udp(53, 5353, b"q"));
        type Case<'a> = (&'a [(u16, u16)], [u16; 2], u8);
        let cases: &[Case<'_>] = &[
            (&[(0x8100, 0x2064)], [100, 0], 1),
            (&[(0x88a8, 0x0010), (0x8100, 0xF020)], [16, 32], 2),
            (&[(0x9100, 5), (0x8100, 6)], [5, 6], 2),
            (&[(0x88a8, 1), (0x8100, 2), (0x8100, 3)], [1, 2], 2),
            (&[(0x8100, 0)], [0, 0], 1),
        ];
        for (tags, want, n) in cases {
            let frame = eth(ETHERTYPE_IPV4, tags, &ip);
            let d = packet(decode(LINKTYPE_ETHERNET, &frame));
            assert_eq!((d.vlan, d.vlan_count), (*want, *n), "{tags:?}");
            assert!(matches!(
                d.l4,
                L4::Udp {
                    sport: 53,
                    dport: 5353,
                    payload: b"q"
                }
            ));
        }
        // VLAN-tagged ARP is not IP; a cut-off tag is truncated.
        let frame = eth(0x0806, &[(0x8100, 7)], &[0; 28]);
        assert_eq!(
            decode(LINKTYPE_ETHERNET, &frame),
            Ok(DecodeOutcome::NotIp { ethertype: 0x0806 })
        );
        let frame = eth(0x8100, &[], &[0, 1]);
        assert!(matches!(
            decode(LINKTYPE_ETHERNET, &frame),
            Err(DecodeError::Truncated {
                layer: "vlan",
                offset: 14,
                needed: 4,
                got: 2
            })
        ));
    }

    #[test]
    fn fragments_carry_vlans() {
        let ip = ipv4(ip_proto::UDP, 0x1234, 0x2000 | 3, &[], &[9; 16]);
        let frame = eth(ETHERTYPE_IPV4, &[(0x8100, 42)], &ip);
        let Ok(DecodeOutcome::Fragment(f)) = decode(LINKTYPE_ETHERNET, &frame) else {
            panic!()
        };
        assert_eq!(
            (f.id, f.proto, f.offset, f.more_fragments),
            (0x1234, 17, 24, true)
        );
        assert_eq!(f.header.len(), 20);
        assert_eq!(f.payload, [9; 16]);
        assert_eq!((f.vlan, f.vlan_count), ([42, 0], 1));
        assert_eq!(f.src, Ipv4Addr::new(192, 0, 2, 1));
        // Last fragment: MF clear, offset set.
        let ip = ipv4(ip_proto::UDP, 1, 185, &[], &[1; 3]);
        let Ok(DecodeOutcome::Fragment(f)) = decode(LINKTYPE_RAW, &ip) else {
            panic!()
        };
        assert_eq!((f.offset, f.more_fragments), (1480, false));
        // DF alone is not a fragment.
        let ip = ipv4(ip_proto::UDP, 1, 0x4000, &[], &udp(1, 2, b""));
        packet(decode(LINKTYPE_RAW, &ip));
    }

    #[test]
    fn cooked_raw_and_loopback_link_types() {
        let ip4 = ipv4(ip_proto::UDP, 1, 0, &[], &udp(10, 20, b"abc"));
        let ip6 = ipv6(ip_proto::TCP, &tcp(10, 20, tcp_flags::ACK, &[], b"xyz"));
        let check4 = |linktype: u32, frame: &[u8]| {
            let d = packet(decode(linktype, frame));
            assert_eq!(d.src, v4([192, 0, 2, 1]), "linktype {linktype}");
            assert!(matches!(
                d.l4,
                L4::Udp {
                    sport: 10,
                    dport: 20,
                    payload: b"abc"
                }
            ));
        };
        let check6 = |linktype: u32, frame: &[u8]| {
            let d = packet(decode(linktype, frame));
            assert_eq!(
                d.src,
                IpAddr::V6(Ipv6Addr::from(V6_SRC)),
                "linktype {linktype}"
            );
            assert_eq!(d.ttl, 33);
            assert_eq!(d.ip_len, ip6.len() as u32);
            assert!(matches!(
                d.l4,
                L4::Tcp(TcpSegment {
                    payload: b"xyz",
                    ..
                })
            ));
        };
        // Linux SLL: 16-byte header, protocol at 14.
        let sll = |proto: u16, ip: &[u8]| {
            let mut v = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
            v.extend_from_slice(&proto.to_be_bytes());
            v.extend_from_slice(ip);
            v
        };
        check4(LINKTYPE_LINUX_SLL, &sll(ETHERTYPE_IPV4, &ip4));
        check6(LINKTYPE_LINUX_SLL, &sll(ETHERTYPE_IPV6, &ip6));
        // SLL with an in-band VLAN tag.
        let mut tagged = vec![0x00, 0x07];
        tagged.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        tagged.extend_from_slice(&ip4);
        let frame = sll(ETHERTYPE_VLAN, &tagged);
        let d = packet(decode(LINKTYPE_LINUX_SLL, &frame));
        assert_eq!((d.vlan, d.vlan_count), ([7, 0], 1));
        // SLL2: 20-byte header, protocol at 0.
        let sll2 = |proto: u16, ip: &[u8]| {
            let mut v = proto.to_be_bytes().to_vec();
            v.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
            v.extend_from_slice(ip);
            v
        };
        check4(LINKTYPE_LINUX_SLL2, &sll2(ETHERTYPE_IPV4, &ip4));
        check6(LINKTYPE_LINUX_SLL2, &sll2(ETHERTYPE_IPV6, &ip6));
        assert_eq!(
            decode(LINKTYPE_LINUX_SLL2, &sll2(0x0806, &[0; 28])),
            Ok(DecodeOutcome::NotIp { ethertype: 0x0806 })
        );
        // Raw IP by version nibble.
        for lt in [LINKTYPE_RAW, LINKTYPE_IPV4] {
            check4(lt, &ip4);
        }
        for lt in [LINKTYPE_RAW, LINKTYPE_IPV6] {
            check6(lt, &ip6);
        }
        assert!(matches!(
            decode(LINKTYPE_RAW, &[0x50; 40]),
            Err(DecodeError::Invalid {
                layer: "ip",
                offset: 0,
                ..
            })
        ));
        assert!(matches!(
            decode(LINKTYPE_RAW, &[]),
            Err(DecodeError::Truncated { layer: "ip", .. })
        ));
        // NULL: host byte order, either one.
        let with_af = |af: [u8; 4], ip: &[u8]| {
            let mut v = af.to_vec();
            v.extend_from_slice(ip);
            v
        };
        check4(LINKTYPE_NULL, &with_af(2u32.to_le_bytes(), &ip4));
        check4(LINKTYPE_NULL, &with_af(2u32.to_be_bytes(), &ip4));
        for af in [10u32, 24, 28, 30] {
            check6(LINKTYPE_NULL, &with_af(af.to_le_bytes(), &ip6));
            check6(LINKTYPE_NULL, &with_af(af.to_be_bytes(), &ip6));
            check6(LINKTYPE_LOOP, &with_af(af.to_be_bytes(), &ip6));
        }
        // LOOP is network byte order only.
        check4(LINKTYPE_LOOP, &with_af(2u32.to_be_bytes(), &ip4));
        assert_eq!(
            decode(LINKTYPE_LOOP, &with_af(2u32.to_le_bytes(), &ip4)),
            Ok(DecodeOutcome::NotIp { ethertype: 0 })
        );
        assert_eq!(
            decode(LINKTYPE_NULL, &with_af(7u32.to_le_bytes(), &ip4)),
            Ok(DecodeOutcome::NotIp { ethertype: 7 })
        );
        assert_eq!(
            decode(LINKTYPE_NULL, &[2, 0]),
            Err(DecodeError::Truncated {
                layer: "loopback",
                offset: 0,
                needed: 4,
                got: 2
            })
        );
        assert_eq!(
            decode(147, &ip4),
            Err(DecodeError::UnsupportedLinktype(147))
        );
        assert_eq!(
            decode(LINKTYPE_ETHERNET, &eth(0x88cc, &[], &[1, 2, 3])),
            Ok(DecodeOutcome::NotIp { ethertype: 0x88cc })
        );
        // An IPv6 ethertype carrying an IPv4 header is invalid.
        let long4 = ipv4(ip_proto::UDP, 1, 0, &[], &udp(10, 20, &[0; 40]));
        assert!(matches!(
            decode(LINKTYPE_ETHERNET, &eth(ETHERTYPE_IPV6, &[], &long4)),
            Err(DecodeError::Invalid {
                layer: "ipv6",
                offset: 14,
                ..
            })
        ));
    }

    // ------------------------------------------------------------ IP and transport

    #[test]
    fn ipv6_extension_header_chain() {
        let inner = udp(547, 546, b"dhcp");
        // hop-by-hop -> routing -> destination options -> AH -> UDP
        let mut ah = vec![ip_proto::UDP, 4]; // (4 + 2) * 4 = 24 bytes
        ah.resize(24, 0xAA);
        let mut chain = ext(ip_proto::IPV6_ROUTE, 0);
        chain.extend(ext(ip_proto::IPV6_OPTS, 1));
        chain.extend(ext(ip_proto::AH, 0));
        chain.extend(ah);
        chain.extend(&inner);
        let pkt = ipv6(ip_proto::HOPOPT, &chain);
        let d = packet(decode(LINKTYPE_RAW, &pkt));
        assert_eq!(d.ip_proto, ip_proto::UDP);
        assert_eq!(d.ip_len, pkt.len() as u32);
        assert!(matches!(
            d.l4,
            L4::Udp {
                sport: 547,
                dport: 546,
                payload: b"dhcp"
            }
        ));

        // Mobility header then no-next-header.
        let mut chain = ext(ip_proto::MOBILITY, 0);
        chain[0] = ip_proto::IPV6_NONXT;
        chain.extend_from_slice(b"junk");
        let frame = ipv6(ip_proto::MOBILITY, &chain);
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert_eq!(d.ip_proto, ip_proto::IPV6_NONXT);
        assert_eq!(d.l4, L4::Other { payload: b"junk" });

        // ICMPv6 after hop-by-hop.
        let mut chain = ext(ip_proto::ICMPV6, 0);
        chain.extend(icmp(143, 0, &[0, 0, 0, 1]));
        let frame = ipv6(ip_proto::HOPOPT, &chain);
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert_eq!(d.ip_proto, ip_proto::ICMPV6);
        assert_eq!(
            d.l4,
            L4::Icmp {
                icmp_type: 143,
                code: 0,
                payload: &[0, 0, 0, 1]
            }
        );

        // Extension header running past the packet.
        let pkt = ipv6(ip_proto::HOPOPT, &[ip_proto::UDP, 3, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode(LINKTYPE_RAW, &pkt),
            Err(DecodeError::Truncated {
                layer: "ipv6 extension",
                offset: 40,
                needed: 32,
                got: 8
            })
        );
    }

    #[test]
    fn ipv6_fragments() {
        let body = udp(1, 2, b"0123456789");
        let frag_hdr = |off_m: u16| {
            let mut v = vec![ip_proto::UDP, 0];
            v.extend_from_slice(&off_m.to_be_bytes());
            v.extend_from_slice(&0xCAFEu32.to_be_bytes());
            v
        };
        // First fragment (offset 0, M set), a middle one and the last: all L4::Other.
        for off_m in [0x0001u16, (8 << 3) | 1, 16 << 3] {
            let mut p = frag_hdr(off_m);
            p.extend_from_slice(&body);
            let frame = ipv6(ip_proto::IPV6_FRAG, &p);
            let d = packet(decode(LINKTYPE_RAW, &frame));
            assert_eq!(d.ip_proto, ip_proto::UDP, "{off_m:#x}");
            assert_eq!(d.l4, L4::Other { payload: &body });
        }
        // Atomic fragment: decoded normally.
        let mut p = frag_hdr(0);
        p.extend_from_slice(&body);
        let frame = ipv6(ip_proto::IPV6_FRAG, &p);
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert!(matches!(
            d.l4,
            L4::Udp {
                sport: 1,
                dport: 2,
                payload: b"0123456789"
            }
        ));
    }

    #[test]
    fn ipv4_lengths() {
        let seg = tcp(80, 5555, tcp_flags::PSH | tcp_flags::ACK, &[], &[7; 100]);
        let ip = ipv4(ip_proto::TCP, 1, 0, &[], &seg);
        // Snap length cut the payload: not an error, ip_len keeps the header's total.
        let d = packet(decode(LINKTYPE_RAW, &ip[..80]));
        assert_eq!(d.ip_len, 140);
        let L4::Tcp(t) = d.l4 else { panic!() };
        assert_eq!(t.payload.len(), 40);
        // Total length 0 (segmentation offload): use the captured length.
        let mut tso = ip.clone();
        tso[2..4].copy_from_slice(&[0, 0]);
        let d = packet(decode(LINKTYPE_RAW, &tso));
        assert_eq!(d.ip_len, 140);
        // Total length below the header length.
        let mut bad = ip.clone();
        bad[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert!(matches!(
            decode(LINKTYPE_RAW, &bad),
            Err(DecodeError::Invalid {
                layer: "ipv4",
                offset: 0,
                ..
            })
        ));
        // IHL below 5.
        let mut bad = ip.clone();
        bad[0] = 0x44;
        assert!(matches!(
            decode(LINKTYPE_RAW, &bad),
            Err(DecodeError::Invalid { layer: "ipv4", .. })
        ));
        // IHL beyond the capture.
        let mut bad = ip[..30].to_vec();
        bad[0] = 0x4F;
        assert_eq!(
            decode(LINKTYPE_RAW, &bad),
            Err(DecodeError::Truncated {
                layer: "ipv4",
                offset: 0,
                needed: 60,
                got: 30
            })
        );
        // IPv6 payload length beyond the capture.
        let p6 = ipv6(ip_proto::UDP, &udp(1, 2, &[0; 50]));
        let d = packet(decode(LINKTYPE_RAW, &p6[..70]));
        assert_eq!(d.ip_len, 98);
        assert!(matches!(d.l4, L4::Udp { payload, .. } if payload.len() == 22));
    }

    #[test]
    fn transport_validation() {
        // TCP data offset below 5.
        let mut seg = tcp(1, 2, 0, &[], b"");
        seg[12] = 0x40;
        let err = decode(LINKTYPE_RAW, &ipv4(ip_proto::TCP, 1, 0, &[], &seg)).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Invalid {
                layer: "tcp",
                offset: 20,
                what: "data offset below 5"
            }
        );
        assert_eq!(
            err.to_string(),
            "invalid tcp header at byte offset 20: data offset below 5"
        );
        // TCP options beyond the segment.
        let mut seg = tcp(1, 2, 0, &[], b"");
        seg[12] = 0xF0;
        assert_eq!(
            decode(LINKTYPE_RAW, &ipv4(ip_proto::TCP, 1, 0, &[], &seg)),
            Err(DecodeError::Truncated {
                layer: "tcp",
                offset: 20,
                needed: 60,
                got: 20
            })
        );
        // UDP length trims trailing bytes; below 8 is invalid; 0 means "use IP length".
        let mut dg = udp(1, 2, b"abcdef");
        dg[4..6].copy_from_slice(&10u16.to_be_bytes());
        let frame = ipv4(ip_proto::UDP, 1, 0, &[], &dg);
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert!(matches!(d.l4, L4::Udp { payload: b"ab", .. }));
        dg[4..6].copy_from_slice(&3u16.to_be_bytes());
        assert!(matches!(
            decode(LINKTYPE_RAW, &ipv4(ip_proto::UDP, 1, 0, &[], &dg)),
            Err(DecodeError::Invalid { layer: "udp", .. })
        ));
        dg[4..6].copy_from_slice(&0u16.to_be_bytes());
        let frame = ipv4(ip_proto::UDP, 1, 0, &[], &dg);
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert!(matches!(
            d.l4,
            L4::Udp {
                payload: b"abcdef",
                ..
            }
        ));
        // UDP length beyond the capture keeps what is there.
        dg[4..6].copy_from_slice(&500u16.to_be_bytes());
        let frame = ipv4(ip_proto::UDP, 1, 0, &[], &dg);
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert!(matches!(
            d.l4,
            L4::Udp {
                payload: b"abcdef",
                ..
            }
        ));
        // ICMP.
        let frame = ipv4(ip_proto::ICMP, 1, 0, &[], &icmp(8, 0, b"ping"));
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert_eq!(
            d.l4,
            L4::Icmp {
                icmp_type: 8,
                code: 0,
                payload: b"ping"
            }
        );
        assert_eq!(
            decode(
                LINKTYPE_RAW,
                &ipv4(ip_proto::ICMP, 1, 0, &[], &[3, 1, 0, 0])
            ),
            Err(DecodeError::Truncated {
                layer: "icmp",
                offset: 20,
                needed: 8,
                got: 4
            })
        );
        // Other protocols (GRE here) pass the payload through.
        let frame = ipv4(47, 1, 0, &[], b"gre!");
        let d = packet(decode(LINKTYPE_RAW, &frame));
        assert_eq!((d.ip_proto, d.l4), (47, L4::Other { payload: b"gre!" }));
    }

    /// Truncating a valid frame at every length never panics, and errors point inside it.
    #[test]
    fn truncated_at_every_byte() {
        let mut chain = ext(ip_proto::IPV6_FRAG, 0);
        chain.extend_from_slice(&[ip_proto::TCP, 0, 0, 0, 0, 0, 0, 1]);
        chain.extend(tcp(1, 2, 0, &[1, 1, 1, 1], b"data"));
        let frames: Vec<(u32, Vec<u8>)> = vec![
            (
                LINKTYPE_ETHERNET,
                eth(
                    ETHERTYPE_IPV4,
                    &[(0x88a8, 1), (0x8100, 2)],
                    &ipv4(
                        ip_proto::TCP,
                        1,
                        0,
                        &[0; 4],
                        &tcp(1, 2, 0, &[0; 8], b"payload"),
                    ),
                ),
            ),
            (
                LINKTYPE_ETHERNET,
                eth(ETHERTYPE_IPV6, &[], &ipv6(ip_proto::HOPOPT, &chain)),
            ),
            (
                LINKTYPE_RAW,
                ipv4(ip_proto::UDP, 1, 0, &[], &udp(1, 2, b"x")),
            ),
            (
                LINKTYPE_RAW,
                ipv4(ip_proto::ICMP, 1, 0, &[], &icmp(0, 0, b"x")),
            ),
            (LINKTYPE_RAW, ipv4(ip_proto::UDP, 1, 0x2001, &[], b"frag")),
            (
                LINKTYPE_NULL,
                [vec![30, 0, 0, 0], ipv6(ip_proto::UDP, &udp(1, 2, b""))].concat(),
            ),
        ];
        for (lt, frame) in &frames {
            let full = decode(*lt, frame);
            assert!(full.is_ok(), "{full:?}");
            for cut in 0..frame.len() {
                match decode(*lt, &frame[..cut]) {
                    Ok(_) => {}
                    Err(e) => {
                        let off = e.offset().unwrap();
                        assert!(off <= cut, "{e}");
                        if let DecodeError::Truncated {
                            needed,
                            got,
                            offset,
                            ..
                        } = e
                        {
                            assert!(got < needed);
                            assert_eq!(offset + got, cut, "{e}");
                        }
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            lt in proptest::sample::select(vec![0u32, 1, 101, 108, 113, 228, 229, 276, 9999]),
        ) {
            let _ = decode(lt, &data);
            let _ = decode_ip(&data, [0, 0], 0);
        }

        #[test]
        fn mutated_frames_never_panic(
            idx in 0usize..80, val in proptest::prelude::any::<u8>(), cut in 0usize..90,
        ) {
            let mut chain = ext(ip_proto::AH, 0);
            chain.extend_from_slice(&[ip_proto::UDP, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            chain.extend(udp(1, 2, b"abc"));
            let mut f = eth(ETHERTYPE_IPV6, &[(0x8100, 1)], &ipv6(ip_proto::IPV6_OPTS, &chain));
            if let Some(b) = f.get_mut(idx) { *b = val; }
            f.truncate(cut);
            let _ = decode(LINKTYPE_ETHERNET, &f);
        }
    }

    // ------------------------------------------------------------ real captures

    struct Sums {
        packets: usize,
        tcp_payload: usize,
        udp_payload: usize,
        ip_len: u64,
        ports: Vec<(u16, u16)>,
        vlan_tagged: usize,
        other: usize,
        icmp: usize,
    }

    fn decode_file(path: &std::path::Path) -> Sums {
        let file = std::fs::File::open(path).unwrap();
        let mut r = CaptureReader::new(file).unwrap();
        let mut s = Sums {
            packets: 0,
            tcp_payload: 0,
            udp_payload: 0,
            ip_len: 0,
            ports: Vec::new(),
            vlan_tagged: 0,
            other: 0,
            icmp: 0,
        };
        while let Some(p) = r.next_packet().unwrap() {
            s.packets += 1;
            let d = packet(decode(p.linktype, p.data));
            s.ip_len += u64::from(d.ip_len);
            s.vlan_tagged += usize::from(d.vlan_count > 0);
            match d.l4 {
                L4::Tcp(t) => {
                    s.tcp_payload += t.payload.len();
                    s.ports.push((t.sport, t.dport));
                }
                L4::Udp {
                    sport,
                    dport,
                    payload,
                } => {
                    s.udp_payload += payload.len();
                    s.ports.push((sport, dport));
                }
                L4::Icmp { .. } => s.icmp += 1,
                L4::Other { .. } => s.other += 1,
            }
        }
        s
    }

    /// (file, packets, TCP payload bytes, UDP payload bytes, sum of IP lengths, server port),
    /// from `tshark -T fields -e tcp.len -e udp.length -e ip.len -e ipv6.plen`.
    const ZEEK_SUMS: &[(&str, usize, usize, usize, u64, u16)] = &[
        ("tls/chrome-34-google.pcap", 42, 8094, 0, 10298, 443),
        ("tls/dtls1_2.pcap", 16, 0, 2723, 3171, 4400),
        ("tls/openjdk-25.0.2-zeek.org.pcap", 6, 3377, 0, 3649, 443),
        (
            "tls/tls-13draft19-early-data.pcap",
            50,
            11876,
            0,
            14456,
            13443,
        ),
        ("tls/tls1_1.pcap", 23, 5268, 0, 6248, 443),
        ("dns-https.pcap", 2, 0, 189, 245, 53),
        ("dns/mdns.pcap", 24, 0, 3486, 4518, 5353),
        ("http/get.pcap", 14, 5143, 0, 5891, 80),
        ("http/post.pcap", 14, 679, 0, 1427, 80),
        ("http/proxy.pcap", 26, 16345, 0, 17717, 0),
        ("dns-edns-tcp-keepalive.pcap", 20, 294, 0, 1374, 53),
    ];

    #[test]
    fn zeek_captures_decode_like_tshark() {
        let dir = data_dir().join("pcaps/zeek");
        if !dir.is_dir() {
            eprintln!("skipping: {} not found", dir.display());
            return;
        }
        for &(name, packets, tcp, udp, ip_len, port) in ZEEK_SUMS {
            let s = decode_file(&dir.join(name));
            assert_eq!(s.packets, packets, "{name}");
            assert_eq!(s.tcp_payload, tcp, "{name}");
            assert_eq!(s.udp_payload, udp, "{name}");
            assert_eq!(s.ip_len, ip_len, "{name}");
            assert_eq!(s.vlan_tagged, 0, "{name}");
            if port != 0 {
                assert!(
                    s.ports.iter().all(|&(a, b)| a == port || b == port),
                    "{name}: {:?}",
                    s.ports
                );
            }
        }
        // mdns.pcap: 3 IGMP packets (Other) and 3 MLDv2 reports behind hop-by-hop options.
        let s = decode_file(&dir.join("dns/mdns.pcap"));
        assert_eq!((s.other, s.icmp), (3, 3));
    }

    #[test]
    fn zeek_vlan_capture() {
        let path = data_dir().join("pcaps/zeek/http-vlan-0.pcap");
        if !path.exists() {
            eprintln!("skipping: {} not found", path.display());
            return;
        }
        // From tshark: -e tcp.len -e ip.len
        let tcp_len = [0usize, 0, 0, 136, 0, 1448, 1448, 1448, 663, 0, 0, 0, 0, 0];
        let ip_len = [
            64u32, 60, 52, 188, 52, 1500, 1500, 1500, 715, 52, 52, 52, 52, 52,
        ];
        let mut r = CaptureReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut i = 0;
        while let Some(p) = r.next_packet().unwrap() {
            let d = packet(decode(p.linktype, p.data));
            assert_eq!((d.vlan, d.vlan_count), ([0, 0], 1));
            assert_eq!(d.ip_len, ip_len[i]);
            let L4::Tcp(t) = d.l4 else { panic!() };
            assert_eq!(t.payload.len(), tcp_len[i], "packet {}", i + 1);
            let client = if i % 2 == 0 || i == 3 {
                (59856, 80)
            } else {
                (80, 59856)
            };
            assert!(
                (t.sport, t.dport) == client || (t.dport, t.sport) == client,
                "{:?}",
                (t.sport, t.dport)
            );
            if i == 0 {
                assert_eq!(d.src, v4([141, 142, 228, 5]));
                assert_eq!(t.flags, tcp_flags::SYN);
            }
            i += 1;
        }
        assert_eq!(i, 14);
    }

    #[test]
    fn zeek_sll2_capture() {
        let path = data_dir().join("pcaps/zeek/tls/openjdk-25.0.2-zeek.org.pcap");
        if !path.exists() {
            eprintln!("skipping: {} not found", path.display());
            return;
        }
        let mut r = CaptureReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(p.linktype, LINKTYPE_LINUX_SLL2);
        let d = packet(decode(p.linktype, p.data));
        assert_eq!(d.src, v4([192, 168, 64, 6]));
        assert_eq!(d.dst, v4([192, 0, 78, 150]));
        let L4::Tcp(t) = d.l4 else { panic!() };
        assert_eq!((t.sport, t.dport, t.flags), (55058, 443, tcp_flags::SYN));
    }

    #[test]
    fn suricata_verify_captures_decode() {
        let dir = data_dir().join("suricata-verify/tests");
        if !dir.is_dir() {
            eprintln!("skipping: {} not found", dir.display());
            return;
        }
        let mut errors = Vec::new();
        let mut packets = 0;
        for path in files_with_suffix(&dir, ".pcap") {
            let mut r = CaptureReader::new(std::fs::File::open(&path).unwrap()).unwrap();
            while let Some(p) = r.next_packet().unwrap() {
                packets += 1;
                if let Err(e) = decode(p.linktype, p.data) {
                    errors.push(format!("{}: {e}", path.display()));
                }
            }
        }
        assert!(packets > 2000);
        // The only malformed packets: two SYNs whose 24-byte TCP header does not fit the
        // IPv4 total length of 40 (tshark: "Short segment ... Malformed Packet").
        let want = "mac-eve-packet/test.pcap: truncated tcp header at byte offset 34: needs 24 \
                    bytes, only 20 available";
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors.iter().all(|e| e.ends_with(want)), "{errors:#?}");
    }
}
