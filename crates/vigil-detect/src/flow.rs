//! Bidirectional 5-tuple flows: keys, identifiers, timeouts and a bounded table.
//!
//! A flow is keyed by its canonical (address, port) pair so both directions land on the same
//! entry. The side that sent the first packet is the client ("to server" direction), except that
//! a TCP SYN-ACK seen first makes its receiver the client, as Suricata does.

use crate::pcap::Timestamp;
use base64::Engine as _;
use rustc_hash::FxHashMap;
use sha1::{Digest, Sha1};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// Canonical, direction-free flow key. Addresses are stored as 128-bit values (IPv4 mapped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub lo_addr: u128,
    pub hi_addr: u128,
    pub lo_port: u16,
    pub hi_port: u16,
    pub proto: u8,
    pub v6: bool,
    pub vlan: [u16; 2],
}

/// Packet direction relative to the flow's client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

impl Direction {
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

pub fn addr_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

pub fn bits_addr(bits: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(bits.into())
    } else {
        IpAddr::V4((bits as u32).into())
    }
}

impl FlowKey {
    /// Builds the canonical key; also returns whether the packet's source is the "lo" side.
    pub fn new(
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        proto: u8,
        vlan: [u16; 2],
    ) -> (FlowKey, bool) {
        let (s, d) = (addr_bits(src), addr_bits(dst));
        let v6 = src.is_ipv6();
        let src_is_lo = (s, sport) <= (d, dport);
        let key = if src_is_lo {
            FlowKey {
                lo_addr: s,
                hi_addr: d,
                lo_port: sport,
                hi_port: dport,
                proto,
                v6,
                vlan,
            }
        } else {
            FlowKey {
                lo_addr: d,
                hi_addr: s,
                lo_port: dport,
                hi_port: sport,
                proto,
                v6,
                vlan,
            }
        };
        (key, src_is_lo)
    }

    /// A hash that is the same for both directions and across runs (no random seed), used to
    /// pick the shard so that output does not depend on the thread count.
    pub fn shard_hash(&self) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        self.hash(&mut h);
        h.finish()
    }
}

fn community_counterpart(t: u8, v6: bool) -> Option<u8> {
    if v6 {
        Some(match t {
            128 => 129,
            129 => 128,
            130 => 131,
            131 => 130,
            133 => 134,
            134 => 133,
            135 => 136,
            136 => 135,
            139 => 140,
            140 => 139,
            144 => 145,
            145 => 144,
            _ => return None,
        })
    } else {
        Some(match t {
            8 => 0,
            0 => 8,
            13 => 14,
            14 => 13,
            15 => 16,
            16 => 15,
            10 => 9,
            9 => 10,
            17 => 18,
            18 => 17,
            _ => return None,
        })
    }
}

/// Community ID v1 (seed 0) for a flow, as Zeek, Suricata and Arkime compute it.
///
/// `sport`/`dport` are the transport ports; for ICMP pass the type and code.
pub fn community_id(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, proto: u8) -> String {
    let v6 = src.is_ipv6();
    let (mut sp, mut dp, one_way) = match proto {
        PROTO_ICMP | PROTO_ICMPV6 => {
            let t = sport as u8;
            match community_counterpart(t, v6) {
                Some(c) => (sport, c as u16, false),
                None => (sport, dport, true),
            }
        }
        _ => (sport, dport, false),
    };
    let (mut s, mut d) = (src, dst);
    let ordered = {
        let (sb, db) = (ip_bytes(&s), ip_bytes(&d));
        sb < db || (sb == db && sp < dp)
    };
    if !one_way && !ordered {
        std::mem::swap(&mut s, &mut d);
        std::mem::swap(&mut sp, &mut dp);
    }
    let mut h = Sha1::new();
    h.update(0u16.to_be_bytes());
    h.update(ip_bytes(&s));
    h.update(ip_bytes(&d));
    h.update([proto, 0]);
    if matches!(
        proto,
        PROTO_TCP | PROTO_UDP | PROTO_ICMP | PROTO_ICMPV6 | 132
    ) {
        h.update(sp.to_be_bytes());
        h.update(dp.to_be_bytes());
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(30);
    out.push_str("1:");
    base64::engine::general_purpose::STANDARD.encode_string(digest, &mut out);
    out
}

fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// Per-protocol timeouts in seconds, Suricata's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowTimeouts {
    pub tcp_new: u32,
    pub tcp_established: u32,
    pub tcp_closed: u32,
    pub udp_new: u32,
    pub udp_established: u32,
    pub other_new: u32,
    pub other_established: u32,
}

impl Default for FlowTimeouts {
    fn default() -> Self {
        FlowTimeouts {
            tcp_new: 60,
            tcp_established: 600,
            tcp_closed: 60,
            udp_new: 30,
            udp_established: 300,
            other_new: 30,
            other_established: 300,
        }
    }
}

/// EVE's `flow.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    New,
    Established,
    Closed,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::New => "new",
            FlowState::Established => "established",
            FlowState::Closed => "closed",
        }
    }
}

/// Why a flow left the table: EVE's `flow.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Timeout,
    /// Evicted because the table hit its memory bound.
    Forced,
    /// End of input.
    Shutdown,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Forced => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// Counters kept by every flow, independent of the application layer.
#[derive(Debug, Clone)]
pub struct FlowCore {
    pub key: FlowKey,
    pub flow_id: u64,
    pub client: IpAddr,
    pub server: IpAddr,
    pub client_port: u16,
    pub server_port: u16,
    pub proto: u8,
    pub start: Timestamp,
    pub last: Timestamp,
    /// Global packet number of the first packet, for ordering and the flow id.
    pub first_pcap_cnt: u64,
    pub pkts: [u64; 2],
    pub bytes: [u64; 2],
    pub tcp_flags: [u8; 2],
    pub state: FlowState,
    pub alerted: bool,
    /// ICMP type and code of the first packet; ICMP flows are keyed without ports.
    pub icmp: Option<(u8, u8)>,
    fins: [bool; 2],
}

impl FlowCore {
    pub fn new(
        key: FlowKey,
        client: (IpAddr, u16),
        server: (IpAddr, u16),
        proto: u8,
        ts: Timestamp,
        pcap_cnt: u64,
    ) -> FlowCore {
        FlowCore {
            key,
            flow_id: flow_id(&key, pcap_cnt),
            client: client.0,
            server: server.0,
            client_port: client.1,
            server_port: server.1,
            proto,
            start: ts,
            last: ts,
            first_pcap_cnt: pcap_cnt,
            pkts: [0; 2],
            bytes: [0; 2],
            tcp_flags: [0; 2],
            state: FlowState::New,
            alerted: false,
            icmp: None,
            fins: [false; 2],
        }
    }

    pub fn direction_of(&self, src: IpAddr, sport: u16) -> Direction {
        if src == self.client && sport == self.client_port {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    /// Accounts a packet and advances the TCP/UDP state machine.
    pub fn update(&mut self, dir: Direction, ts: Timestamp, wire_len: u32, tcp_flags: Option<u8>) {
        let i = dir.index();
        self.pkts[i] += 1;
        self.bytes[i] += u64::from(wire_len);
        if ts > self.last {
            self.last = ts;
        }
        match tcp_flags {
            Some(f) => {
                use crate::decode::tcp_flags::{ACK, FIN, RST, SYN};
                self.tcp_flags[i] |= f;
                if f & RST != 0 {
                    self.state = FlowState::Closed;
                } else if f & FIN != 0 {
                    self.fins[i] = true;
                    if self.fins[0] && self.fins[1] {
                        self.state = FlowState::Closed;
                    }
                } else if self.state == FlowState::New
                    && ((f & SYN != 0 && f & ACK != 0) || (self.pkts[0] > 0 && self.pkts[1] > 0))
                {
                    self.state = FlowState::Established;
                }
            }
            None => {
                if self.state == FlowState::New && self.pkts[0] > 0 && self.pkts[1] > 0 {
                    self.state = FlowState::Established;
                }
            }
        }
    }

    pub fn timeout_secs(&self, t: &FlowTimeouts) -> u32 {
        match (self.proto, self.state) {
            (PROTO_TCP, FlowState::New) => t.tcp_new,
            (PROTO_TCP, FlowState::Established) => t.tcp_established,
            (PROTO_TCP, FlowState::Closed) => t.tcp_closed,
            (PROTO_UDP, FlowState::New) => t.udp_new,
            (PROTO_UDP, _) => t.udp_established,
            (_, FlowState::New) => t.other_new,
            _ => t.other_established,
        }
    }

    pub fn is_expired(&self, now: Timestamp, t: &FlowTimeouts) -> bool {
        now.secs.saturating_sub(self.last.secs) > i64::from(self.timeout_secs(t))
    }

    pub fn community_id(&self) -> String {
        let (sp, dp) = match self.icmp {
            Some((t, c)) => (u16::from(t), u16::from(c)),
            None => (self.client_port, self.server_port),
        };
        community_id(self.client, self.server, sp, dp, self.proto)
    }
}

/// Deterministic flow id: a hash of the key and the flow's first packet number, kept within
/// 51 bits so JSON consumers that parse numbers as doubles keep every digit.
pub fn flow_id(key: &FlowKey, first_pcap_cnt: u64) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    key.hash(&mut h);
    first_pcap_cnt.hash(&mut h);
    let x = h.finish();
    // FxHash mixes poorly in the low bits for small inputs; finish with a splitmix step.
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z & ((1u64 << 51) - 1)).max(1)
}

/// A bounded flow table. `T` is the per-flow state the engine keeps (it embeds a [`FlowCore`]).
pub struct FlowTable<T> {
    flows: FxHashMap<FlowKey, T>,
    capacity: usize,
    last_sweep: Option<i64>,
    pub evicted: u64,
    pub created: u64,
    pub timed_out: u64,
}

pub trait HasCore {
    fn core(&self) -> &FlowCore;
}

impl<T: HasCore> FlowTable<T> {
    pub fn new(capacity: usize) -> Self {
        FlowTable {
            flows: FxHashMap::default(),
            capacity: capacity.max(1),
            last_sweep: None,
            evicted: 0,
            created: 0,
            timed_out: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut T> {
        self.flows.get_mut(key)
    }

    /// Makes room for one more flow if the table is full, returning the evicted flows: the
    /// sixteenth of the table idle longest (ties broken by flow id, so the choice never depends
    /// on hash order). Evicting in bulk keeps a flood of new flows from rescanning the table.
    pub fn make_room(&mut self) -> Vec<T> {
        if self.flows.len() < self.capacity {
            return Vec::new();
        }
        let n = (self.capacity / 16).max(1);
        let mut ages: Vec<(Timestamp, u64, FlowKey)> = self
            .flows
            .iter()
            .map(|(k, f)| (f.core().last, f.core().flow_id, *k))
            .collect();
        ages.select_nth_unstable(n - 1);
        ages.truncate(n);
        ages.sort_unstable();
        self.evicted += n as u64;
        ages.iter()
            .filter_map(|(_, _, k)| self.flows.remove(k))
            .collect()
    }

    pub fn insert(&mut self, key: FlowKey, flow: T) -> &mut T {
        self.created += 1;
        self.flows.entry(key).or_insert(flow)
    }

    /// Removes flows idle beyond their timeout, at most once per second of capture time.
    /// Returned flows are sorted by flow start so output order is stable.
    pub fn expire(&mut self, now: Timestamp, timeouts: &FlowTimeouts) -> Vec<T> {
        if self.last_sweep == Some(now.secs) {
            return Vec::new();
        }
        self.last_sweep = Some(now.secs);
        let expired: Vec<FlowKey> = self
            .flows
            .iter()
            .filter(|(_, f)| f.core().is_expired(now, timeouts))
            .map(|(k, _)| *k)
            .collect();
        let mut out: Vec<T> = expired
            .iter()
            .filter_map(|k| self.flows.remove(k))
            .collect();
        self.timed_out += out.len() as u64;
        out.sort_by_key(|f| (f.core().first_pcap_cnt, f.core().flow_id));
        out
    }

    /// Empties the table at end of input, in order of first packet.
    pub fn drain_all(&mut self) -> Vec<T> {
        let mut out: Vec<T> = self.flows.drain().map(|(_, v)| v).collect();
        out.sort_by_key(|f| (f.core().first_pcap_cnt, f.core().flow_id));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn key_is_the_same_for_both_directions() {
        let (a, a_lo) = FlowKey::new(ip("10.0.0.1"), ip("10.0.0.2"), 1234, 80, 6, [0, 0]);
        let (b, b_lo) = FlowKey::new(ip("10.0.0.2"), ip("10.0.0.1"), 80, 1234, 6, [0, 0]);
        assert_eq!(a, b);
        assert_ne!(a_lo, b_lo);
        assert_eq!(a.shard_hash(), b.shard_hash());
        let (c, _) = FlowKey::new(ip("10.0.0.2"), ip("10.0.0.1"), 80, 1234, 6, [7, 0]);
        assert_ne!(a, c, "vlan is part of the key");
    }

    // The Community ID spec's baseline (community-id-spec, baseline/baseline_deflt.json): for
    // ICMP the baseline's "ports" are type and counterpart-or-code.
    #[test]
    fn community_id_matches_the_spec_baseline() {
        let cases: &[(u8, &str, &str, u16, u16, &str)] = &[
            (
                58,
                "fe80::200:86ff:fe05:80da",
                "fe80::260:97ff:fe07:69ea",
                135,
                0,
                "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            ),
            (
                58,
                "fe80::260:97ff:fe07:69ea",
                "fe80::200:86ff:fe05:80da",
                136,
                0,
                "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            ),
            (
                58,
                "fe80::260:97ff:fe07:69ea",
                "fe80::200:86ff:fe05:80da",
                135,
                0,
                "1:zavyT/cezQr1fmImYCwYnMXbgck=",
            ),
            (
                58,
                "3ffe:501:1800:2345::2",
                "3ffe:507:0:1:200:86ff:fe05:80da",
                3,
                0,
                "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
            ),
            (
                58,
                "3ffe:501:410:0:2c0:dfff:fe47:33e",
                "3ffe:507:0:1:200:86ff:fe05:80da",
                1,
                4,
                "1:hLZd0XGWojozrvxqE0dWB1iM6R0=",
            ),
            (
                58,
                "3ffe:507:0:1:200:86ff:fe05:80da",
                "3ffe:501:0:1001::2",
                128,
                0,
                "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            ),
            (
                58,
                "3ffe:501:0:1001::2",
                "3ffe:507:0:1:200:86ff:fe05:80da",
                129,
                0,
                "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            ),
            (
                58,
                "fe80::200:86ff:fe05:80da",
                "ff02::2",
                133,
                0,
                "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
            ),
            (
                1,
                "192.168.0.89",
                "192.168.0.1",
                8,
                0,
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            (
                1,
                "192.168.0.1",
                "192.168.0.89",
                0,
                0,
                "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            ),
            (
                1,
                "10.0.0.1",
                "10.0.0.2",
                11,
                0,
                "1:YHxtAirCG//0OzkcVAukqKQN9xM=",
            ),
            (
                6,
                "2001:470:e5bf:dead:4957:2174:e82c:4887",
                "2607:f8b0:400c:c03::1a",
                63943,
                25,
                "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            ),
            (
                6,
                "2607:f8b0:400c:c03::1a",
                "2001:470:e5bf:dead:4957:2174:e82c:4887",
                25,
                63943,
                "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            ),
            (
                132,
                "192.168.170.8",
                "192.168.170.56",
                7,
                7,
                "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            ),
            (
                132,
                "192.168.170.56",
                "192.168.170.8",
                7,
                7,
                "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            ),
            (
                6,
                "128.232.110.120",
                "66.35.250.204",
                34855,
                80,
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                6,
                "66.35.250.204",
                "128.232.110.120",
                80,
                34855,
                "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            ),
            (
                17,
                "192.168.1.52",
                "8.8.8.8",
                54585,
                53,
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                17,
                "8.8.8.8",
                "192.168.1.52",
                53,
                54585,
                "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            ),
            (
                46,
                "10.1.12.1",
                "10.1.12.2",
                0,
                0,
                "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            ),
            (
                46,
                "10.1.12.2",
                "10.1.12.1",
                0,
                0,
                "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            ),
        ];
        for &(proto, s, d, sp, dp, want) in cases {
            assert_eq!(
                community_id(ip(s), ip(d), sp, dp, proto),
                want,
                "{s} -> {d} proto {proto}"
            );
        }
    }

    #[test]
    fn flow_ids_are_deterministic_distinct_and_json_safe() {
        let (k, _) = FlowKey::new(ip("1.1.1.1"), ip("2.2.2.2"), 1, 2, 17, [0, 0]);
        assert_eq!(flow_id(&k, 5), flow_id(&k, 5));
        assert_ne!(flow_id(&k, 5), flow_id(&k, 6));
        for n in 0..1000 {
            let id = flow_id(&k, n);
            assert!(id > 0 && id < (1 << 51));
        }
    }

    struct F(FlowCore);
    impl HasCore for F {
        fn core(&self) -> &FlowCore {
            &self.0
        }
    }

    fn core(n: u8, secs: i64) -> (FlowKey, F) {
        let src = IpAddr::V4(Ipv4Addr::new(10, 0, 0, n));
        let (key, _) = FlowKey::new(src, ip("10.9.9.9"), 1000, 53, PROTO_UDP, [0, 0]);
        let ts = Timestamp { secs, nanos: 0 };
        let c = FlowCore::new(
            key,
            (src, 1000),
            (ip("10.9.9.9"), 53),
            PROTO_UDP,
            ts,
            n as u64,
        );
        (key, F(c))
    }

    #[test]
    fn full_table_evicts_the_longest_idle_flow_and_counts_it() {
        let mut t = FlowTable::new(2);
        let (k1, f1) = core(1, 100);
        let (k2, f2) = core(2, 50);
        t.insert(k1, f1);
        t.insert(k2, f2);
        let victims = t.make_room();
        assert_eq!(victims.len(), 1);
        assert_eq!(victims[0].0.key, k2);
        assert_eq!(t.evicted, 1);
        assert!(t.make_room().is_empty());
    }

    #[test]
    fn udp_flows_time_out_after_30s_new_and_300s_established() {
        let mut t = FlowTable::new(10);
        let (k1, f1) = core(1, 0);
        let (k2, mut f2) = core(2, 0);
        let ts0 = Timestamp { secs: 0, nanos: 0 };
        f2.0.update(Direction::ToServer, ts0, 60, None);
        f2.0.update(Direction::ToClient, ts0, 60, None);
        assert_eq!(f2.0.state, FlowState::Established);
        t.insert(k1, f1);
        t.insert(k2, f2);
        assert!(t
            .expire(Timestamp { secs: 30, nanos: 0 }, &FlowTimeouts::default())
            .is_empty());
        let gone = t.expire(Timestamp { secs: 31, nanos: 0 }, &FlowTimeouts::default());
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].0.key, k1);
        let gone = t.expire(
            Timestamp {
                secs: 301,
                nanos: 0,
            },
            &FlowTimeouts::default(),
        );
        assert_eq!(gone.len(), 1);
        assert_eq!(t.timed_out, 2);
    }
}
