//! Application-layer parsers. Each works on borrowed bytes, never panics on malformed input,
//! and reports errors with the offset where parsing stopped.
pub mod dns;
pub mod http;
pub mod tls;
pub mod x509;

/// Test-only helpers shared by the parser tests: a deliberately tiny classic-pcap reader that
/// extracts UDP/TCP payloads, independent of the real capture pipeline in `pcap`/`decode`.
#[cfg(test)]
pub(crate) mod testutil {
    use std::path::PathBuf;

    /// Where the shared data sets live: `$VIGIL_DATA_DIR`, else `<repo>/../shared/data`.
    pub(crate) fn data_dir() -> PathBuf {
        crate::testdata::shared_data_dir()
    }

    /// Reads a shared data file; panics with a clear message if it is missing.
    pub(crate) fn read_data(rel: &str) -> Vec<u8> {
        let path = data_dir().join(rel);
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "shared test data {} unreadable ({e}); set VIGIL_DATA_DIR",
                path.display()
            )
        })
    }

    /// One transport-layer packet of a capture.
    #[derive(Debug, Clone)]
    pub(crate) struct Pkt {
        /// 1-based frame number, as tshark counts.
        pub frame: usize,
        /// 6 (TCP) or 17 (UDP).
        pub proto: u8,
        pub sport: u16,
        pub dport: u16,
        /// TCP sequence number (0 for UDP).
        pub seq: u32,
        pub payload: Vec<u8>,
    }

    fn be16(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
    }

    fn be32(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }

    /// All UDP/TCP packets of a classic pcap (Ethernet with VLAN tags, Linux SLL/SLL2,
    /// BSD loopback, raw IP).
    /// Non-IP frames, fragments and anything unparsable are skipped.
    pub(crate) fn packets(pcap: &[u8]) -> Vec<Pkt> {
        let magic = pcap.get(..4).expect("pcap header");
        let le = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
            [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
            _ => panic!("not a classic pcap"),
        };
        let u32_at = |at: usize| -> Option<u32> {
            let b: [u8; 4] = pcap.get(at..at + 4)?.try_into().ok()?;
            Some(if le {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            })
        };
        let linktype = u32_at(20).expect("linktype");
        let mut out = Vec::new();
        let mut off = 24;
        let mut frame = 0;
        while let Some(caplen) = u32_at(off + 8) {
            let start = off + 16;
            let Some(data) = pcap.get(start..start + caplen as usize) else {
                break;
            };
            off = start + caplen as usize;
            frame += 1;
            let ip = match linktype {
                1 => ethernet_payload(data),
                113 => data.get(16..).and_then(|d| Some((be16(data, 14)?, d))),
                276 => data.get(20..).and_then(|d| Some((be16(data, 0)?, d))),
                // BSD loopback: a 4-byte address family, then IP.
                0 | 108 => data.get(4..).and_then(ip_version),
                101 | 12 => ip_version(data),
                _ => None,
            };
            if let Some(p) = ip.and_then(|(et, d)| ip_packet(et, d)) {
                out.push(Pkt { frame, ..p });
            }
        }
        out
    }

    fn ip_version(d: &[u8]) -> Option<(u16, &[u8])> {
        match d.first()? >> 4 {
            4 => Some((0x0800, d)),
            6 => Some((0x86dd, d)),
            _ => None,
        }
    }

    fn ethernet_payload(frame: &[u8]) -> Option<(u16, &[u8])> {
        let mut et = be16(frame, 12)?;
        let mut at = 14;
        while et == 0x8100 || et == 0x88a8 {
            et = be16(frame, at + 2)?;
            at += 4;
        }
        Some((et, frame.get(at..)?))
    }

    fn ip_packet(ethertype: u16, d: &[u8]) -> Option<Pkt> {
        let (mut proto, mut l4) = match ethertype {
            0x0800 => {
                let ihl = usize::from(d.first()? & 0x0f) * 4;
                let total = usize::from(be16(d, 2)?);
                let frag = be16(d, 6)? & 0x3fff;
                if frag != 0 {
                    return None;
                }
                let end = total.min(d.len());
                (*d.get(9)?, d.get(ihl..end)?)
            }
            0x86dd => {
                let plen = usize::from(be16(d, 4)?);
                let end = (40 + plen).min(d.len());
                (*d.get(6)?, d.get(40..end)?)
            }
            _ => return None,
        };
        // Skip hop-by-hop, routing and destination-options extension headers.
        while matches!(proto, 0 | 43 | 60) {
            let len = (usize::from(*l4.get(1)?) + 1) * 8;
            proto = *l4.first()?;
            l4 = l4.get(len..)?;
        }
        match proto {
            17 => Some(Pkt {
                frame: 0,
                proto,
                sport: be16(l4, 0)?,
                dport: be16(l4, 2)?,
                seq: 0,
                payload: l4.get(8..usize::from(be16(l4, 4)?).min(l4.len()))?.to_vec(),
            }),
            6 => {
                let hlen = usize::from(l4.get(12)? >> 4) * 4;
                Some(Pkt {
                    frame: 0,
                    proto,
                    sport: be16(l4, 0)?,
                    dport: be16(l4, 2)?,
                    seq: be32(l4, 4)?,
                    payload: l4.get(hlen..)?.to_vec(),
                })
            }
            _ => None,
        }
    }

    /// UDP payloads of a capture, in capture order, with their packet metadata.
    pub(crate) fn udp_payloads(pcap: &[u8]) -> Vec<Pkt> {
        packets(pcap)
            .into_iter()
            .filter(|p| p.proto == 17 && !p.payload.is_empty())
            .collect()
    }

    /// Client ports of the TCP connections to `server_port`, in order of first appearance.
    pub(crate) fn tcp_client_ports(pcap: &[u8], server_port: u16) -> Vec<u16> {
        let mut ports = Vec::new();
        for p in packets(pcap) {
            if p.proto == 6 && p.dport == server_port && !ports.contains(&p.sport) {
                ports.push(p.sport);
            }
        }
        ports
    }

    /// The TCP payload segments of the connection between `client_port` and `server_port`, in
    /// one direction (`to_server`), in sequence order with exact retransmissions dropped. Good
    /// enough for the small, loss-free test captures; not a reassembler.
    pub(crate) fn tcp_segments(
        pcap: &[u8],
        server_port: u16,
        client_port: u16,
        to_server: bool,
    ) -> Vec<Vec<u8>> {
        let mut segs: Vec<(u32, Vec<u8>)> = packets(pcap)
            .into_iter()
            .filter(|p| p.proto == 6 && !p.payload.is_empty())
            .filter(|p| {
                if to_server {
                    (p.sport, p.dport) == (client_port, server_port)
                } else {
                    (p.sport, p.dport) == (server_port, client_port)
                }
            })
            .map(|p| (p.seq, p.payload))
            .collect();
        if let Some(&(first, _)) = segs.first() {
            segs.sort_by_key(|(seq, _)| seq.wrapping_sub(first));
        }
        segs.dedup_by_key(|(seq, _)| *seq);
        segs.into_iter().map(|(_, p)| p).collect()
    }

    /// All TCP segments of one direction of one connection concatenated.
    pub(crate) fn tcp_stream(
        pcap: &[u8],
        server_port: u16,
        client_port: u16,
        to_server: bool,
    ) -> Vec<u8> {
        tcp_segments(pcap, server_port, client_port, to_server).concat()
    }
}
