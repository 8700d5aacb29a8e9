//! IPv4 header and TCP/UDP/ICMP checksums (RFC 1071), for `--verify-checksums`.
//!
//! Off by default: captures taken on the sending host usually carry checksums the NIC would
//! have filled in later (offload), and rejecting those packets would blind the sensor.

use crate::decode::Decoded;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    /// The capture holds too few bytes (snap length) to check.
    Unknown,
}

fn add(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    let mut acc = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => add(add(0, &s.octets()), &d.octets()),
        (s, d) => {
            let (s, d) = (to_v6(s), to_v6(d));
            add(add(0, &s), &d)
        }
    };
    acc += u32::from(proto);
    acc += (len as u32 & 0xffff) + ((len as u32) >> 16);
    acc
}

fn to_v6(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    }
}

/// Checks the IPv4 header checksum and the transport checksum of a decoded packet.
pub fn verify(d: &Decoded<'_>) -> Verdict {
    if !d.ip_header.is_empty() && fold(add(0, d.ip_header)) != 0xffff {
        return Verdict::Invalid;
    }
    let l4 = d.l4_bytes;
    let v6 = d.src.is_ipv6();
    let ip_payload_len = (d.ip_len as usize).saturating_sub(d.ip_header.len());
    let (len, covers) = match d.ip_proto {
        6 => (ip_payload_len, true),
        17 => {
            let Some(b) = l4.get(4..8) else {
                return Verdict::Unknown;
            };
            if !v6 && b[2] == 0 && b[3] == 0 {
                return Verdict::Valid; // IPv4 UDP without checksum
            }
            (usize::from(u16::from_be_bytes([b[0], b[1]])), true)
        }
        1 => (ip_payload_len, false),
        58 => (ip_payload_len, true),
        _ => return Verdict::Valid,
    };
    if v6 && d.ip_proto == 6 {
        // IPv6 has no header checksum and ip_len counts extension headers; use what we have.
        return check(d, l4, l4.len(), covers);
    }
    let Some(seg) = l4.get(..len) else {
        return Verdict::Unknown;
    };
    check(d, seg, len, covers)
}

fn check(d: &Decoded<'_>, seg: &[u8], len: usize, pseudo_header: bool) -> Verdict {
    let base = if pseudo_header {
        pseudo(d.src, d.dst, d.ip_proto, len)
    } else {
        0
    };
    if fold(add(base, seg)) == 0xffff {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, DecodeOutcome};
    use crate::pcap::{CaptureReader, LINKTYPE_ETHERNET};

    fn packets(path: &str) -> Vec<(u32, Vec<u8>)> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples/pcaps")
            .join(path);
        let data = std::fs::read(p).unwrap();
        let mut r = CaptureReader::new(data.as_slice()).unwrap();
        let mut out = Vec::new();
        while let Ok(Some(pkt)) = r.next_packet() {
            out.push((pkt.linktype, pkt.data.to_vec()));
        }
        out
    }

    #[test]
    fn real_tcp_and_udp_checksums_verify_and_a_flipped_bit_does_not() {
        // http/get.pcap was captured off the wire: its checksums are genuine.
        let pkts = packets("zeek/http/get.pcap");
        let mut checked = 0;
        for (lt, f) in &pkts {
            assert_eq!(*lt, LINKTYPE_ETHERNET);
            if let Ok(DecodeOutcome::Packet(d)) = decode(*lt, f) {
                assert_eq!(verify(&d), Verdict::Valid);
                checked += 1;
            }
            let mut bad = f.clone();
            let last = bad.len() - 1;
            bad[last] ^= 0x40;
            if let Ok(DecodeOutcome::Packet(d)) = decode(*lt, &bad) {
                if !d.l4_bytes.is_empty() {
                    assert_eq!(verify(&d), Verdict::Invalid);
                }
            }
        }
        assert!(checked > 10);
        let mdns = packets("zeek/dns/mdns.pcap");
        let valid = mdns
            .iter()
            .filter_map(|(lt, f)| match decode(*lt, f) {
                Ok(DecodeOutcome::Packet(d)) => Some(verify(&d)),
                _ => None,
            })
            .filter(|v| *v == Verdict::Valid)
            .count();
        assert!(valid > 10, "IPv4 and IPv6 UDP checksums verify");
    }

    #[test]
    fn generated_packets_without_checksums_are_invalid_except_udp_zero() {
        let a = "192.0.2.1".parse().unwrap();
        let b = "192.0.2.2".parse().unwrap();
        let f = crate::synth::tcp_frame(a, b, 1, 2, 0, 0, 0x02, b"");
        let Ok(DecodeOutcome::Packet(d)) = decode(LINKTYPE_ETHERNET, &f) else {
            panic!()
        };
        assert_eq!(verify(&d), Verdict::Invalid);
        let f = crate::synth::udp_frame(a, b, 1, 2, b"x");
        let Ok(DecodeOutcome::Packet(d)) = decode(LINKTYPE_ETHERNET, &f) else {
            panic!()
        };
        // synth leaves the IPv4 header checksum at zero, so the header fails first.
        assert_eq!(verify(&d), Verdict::Invalid);
    }
}
