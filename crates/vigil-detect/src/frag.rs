//! IPv4 fragment reassembly.
//!
//! [`FragmentTable`] collects [`Ipv4Fragment`]s keyed by (source, destination, id, protocol)
//! and returns the rebuilt datagram once every byte from offset 0 to the end of the last
//! fragment has arrived. Policy:
//!
//! - Overlaps are resolved first-wins: bytes already received are never overwritten. Every
//!   fragment that overlaps earlier data (other than an exact duplicate of an earlier
//!   fragment), or that contradicts the datagram's known end, is counted in
//!   [`FragStats::overlaps`].
//! - A datagram that would exceed 65535 bytes, or that needs more than
//!   [`MAX_FRAGMENTS_PER_DATAGRAM`] fragments, is dropped and counted in
//!   [`FragStats::dropped`].
//! - At most `max_datagrams` partial datagrams are kept; a new one beyond that evicts the
//!   oldest (by first-fragment timestamp, ties broken by arrival order) and counts it as
//!   dropped. Eviction never depends on hash-map iteration order.
//! - A partial datagram whose first fragment is older than the timeout is discarded by
//!   [`FragmentTable::expire`] (or when another fragment for it arrives too late) and counted
//!   in [`FragStats::timeouts`].
//!
//! Storage for partial datagrams is recycled, so steady-state reassembly only allocates the
//! returned datagram.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::decode::Ipv4Fragment;
use crate::pcap::Timestamp;

/// Largest IPv4 datagram (header included).
pub const MAX_DATAGRAM: usize = 65_535;
/// Most distinct fragments one datagram may consist of before it is dropped.
pub const MAX_FRAGMENTS_PER_DATAGRAM: usize = 2_048;
/// Most recycled partial-datagram buffers kept around.
const POOL_LIMIT: usize = 64;

/// Reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragStats {
    /// Fragments passed to [`FragmentTable::insert`].
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Partial datagrams discarded because they timed out.
    pub timeouts: u64,
    /// Fragments that overlapped earlier data or contradicted the datagram's end.
    pub overlaps: u64,
    /// Partial datagrams (or fragments) dropped: table full, too large, too many fragments.
    pub dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    id: u16,
    proto: u8,
}

/// Eviction order: first-fragment time, then arrival sequence number.
type Age = (Timestamp, u64);

#[derive(Debug, Default)]
struct Partial {
    age: Age,
    /// IPv4 header (with options) of the offset-0 fragment; empty until it arrives.
    header: Vec<u8>,
    /// Payload bytes, indexed by fragment offset; valid where `covered` says so.
    data: Vec<u8>,
    /// (start, end) of every distinct fragment received, for duplicate detection.
    pieces: Vec<(u32, u32)>,
    /// Sorted, disjoint, non-adjacent (merged) ranges of received payload bytes.
    covered: Vec<(u32, u32)>,
    /// Payload length, once the last fragment (MF clear) has arrived.
    end: Option<u32>,
}

impl Partial {
    fn reset(&mut self, age: Age) {
        self.age = age;
        self.header.clear();
        self.data.clear();
        self.pieces.clear();
        self.covered.clear();
        self.end = None;
    }

    fn complete(&self) -> bool {
        matches!((self.end, self.covered.as_slice()), (Some(end), &[(0, e)]) if e == end)
            && !self.header.is_empty()
    }

    /// Copies `payload` at `start` into the gaps of `covered` (first-wins) and merges the
    /// range into `covered`. Returns whether any existing data was overlapped.
    fn fill(&mut self, start: u32, payload: &[u8]) -> bool {
        let len = payload.len() as u32;
        let end = start + len;
        if len == 0 {
            return false;
        }
        if self.data.len() < end as usize {
            self.data.resize(end as usize, 0);
        }
        let mut overlapped = false;
        // Copy the gaps between covered ranges that intersect [start, end).
        let mut pos = start;
        for &(cs, ce) in &self.covered {
            if ce <= pos {
                continue;
            }
            if cs >= end {
                break;
            }
            if cs > pos {
                copy_range(&mut self.data, payload, start, pos, cs);
            }
            overlapped = true;
            pos = pos.max(ce);
            if pos >= end {
                break;
            }
        }
        if pos < end {
            copy_range(&mut self.data, payload, start, pos, end);
        }
        // Merge [start, end) into the covered list.
        let i = self.covered.partition_point(|&(_, ce)| ce < start);
        let mut j = i;
        let (mut ns, mut ne) = (start, end);
        while let Some(&(cs, ce)) = self.covered.get(j) {
            if cs > end {
                break;
            }
            ns = ns.min(cs);
            ne = ne.max(ce);
            j += 1;
        }
        self.covered.splice(i..j, std::iter::once((ns, ne)));
        overlapped
    }
}

/// Copies `payload[(from - start)..(to - start)]` to `data[from..to]`.
fn copy_range(data: &mut [u8], payload: &[u8], start: u32, from: u32, to: u32) {
    let src = payload.get((from - start) as usize..(to - start) as usize);
    let dst = data.get_mut(from as usize..to as usize);
    if let (Some(src), Some(dst)) = (src, dst) {
        dst.copy_from_slice(src);
    }
}

/// Bounded table of partially reassembled IPv4 datagrams.
#[derive(Debug)]
pub struct FragmentTable {
    max_datagrams: usize,
    timeout: Duration,
    map: FxHashMap<Key, Partial>,
    order: BTreeMap<Age, Key>,
    pool: Vec<Partial>,
    seq: u64,
    stats: FragStats,
}

impl FragmentTable {
    /// A table holding at most `max_datagrams` partial datagrams, each for at most `timeout`
    /// after its first fragment.
    pub fn new(max_datagrams: usize, timeout: Duration) -> Self {
        FragmentTable {
            max_datagrams,
            timeout,
            map: FxHashMap::default(),
            order: BTreeMap::new(),
            pool: Vec::new(),
            seq: 0,
            stats: FragStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &FragStats {
        &self.stats
    }

    /// Number of partial datagrams currently held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no partial datagrams are held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds a fragment. Returns the complete IPv4 datagram (header with MF=0, offset=0,
    /// total length and header checksum fixed up; payload concatenated) when the last
    /// missing piece arrives.
    pub fn insert(&mut self, frag: &Ipv4Fragment<'_>, now: Timestamp) -> Option<Vec<u8>> {
        self.stats.fragments += 1;
        let key = Key {
            src: frag.src,
            dst: frag.dst,
            id: frag.id,
            proto: frag.proto,
        };
        let start = frag.offset;
        let Some(end) = u32::try_from(frag.payload.len())
            .ok()
            .and_then(|l| start.checked_add(l))
        else {
            self.drop_key(&key);
            self.stats.dropped += 1;
            return None;
        };
        let hl = frag.header.len().max(20);
        if end as usize + hl > MAX_DATAGRAM {
            // Oversized ("ping of death"): discard the whole datagram.
            self.drop_key(&key);
            self.stats.dropped += 1;
            return None;
        }

        // A stale partial datagram with the same key is a timeout, not our datagram.
        if let Some(p) = self.map.get(&key) {
            if self.is_expired(p.age.0, now) {
                self.drop_key(&key);
                self.stats.timeouts += 1;
            }
        }
        if !self.map.contains_key(&key) {
            if self.max_datagrams == 0 {
                self.stats.dropped += 1;
                return None;
            }
            while self.map.len() >= self.max_datagrams {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                if let Some(p) = self.map.remove(&oldest) {
                    self.recycle(p);
                }
                self.stats.dropped += 1;
            }
            let age = (now, self.seq);
            self.seq += 1;
            let mut p = self.pool.pop().unwrap_or_default();
            p.reset(age);
            self.order.insert(age, key);
            self.map.insert(key, p);
        }
        let p = self.map.get_mut(&key)?;

        // Exact duplicates are ignored silently.
        if p.pieces.contains(&(start, end)) {
            return None;
        }
        if p.pieces.len() >= MAX_FRAGMENTS_PER_DATAGRAM {
            self.drop_key(&key);
            self.stats.dropped += 1;
            return None;
        }
        p.pieces.push((start, end));

        let mut inconsistent = false;
        // Never accept bytes beyond a known end, nor a second, different end.
        let mut payload = frag.payload;
        if let Some(known_end) = p.end {
            if end > known_end || !frag.more_fragments && end != known_end {
                inconsistent = true;
                let keep = known_end.saturating_sub(start) as usize;
                payload = payload.get(..keep).unwrap_or(payload);
            }
        } else if !frag.more_fragments {
            if p.covered.last().is_some_and(|&(_, ce)| ce > end) {
                // Data already received beyond this "last" fragment: keep the earlier view.
                inconsistent = true;
            } else {
                p.end = Some(end);
            }
        }
        if start >= p.end.unwrap_or(u32::MAX) {
            payload = &[];
        }
        if start == 0 && p.header.is_empty() {
            p.header.extend_from_slice(frag.header);
        }
        if p.fill(start, payload) {
            inconsistent = true;
        }
        if inconsistent {
            self.stats.overlaps += 1;
        }
        if !p.complete() {
            return None;
        }
        let p = self.map.remove(&key)?;
        self.order.remove(&p.age);
        let out = build_datagram(&p);
        self.recycle(p);
        match out {
            Some(d) => {
                self.stats.reassembled += 1;
                Some(d)
            }
            None => {
                self.stats.dropped += 1;
                None
            }
        }
    }

    /// Drops partial datagrams whose first fragment is older than the timeout.
    pub fn expire(&mut self, now: Timestamp) {
        // Ages are ordered by first-fragment time, so expired entries form a prefix.
        while let Some((&age, &key)) = self.order.first_key_value() {
            if !self.is_expired(age.0, now) {
                break;
            }
            self.order.pop_first();
            if let Some(p) = self.map.remove(&key) {
                self.recycle(p);
            }
            self.stats.timeouts += 1;
        }
    }

    fn is_expired(&self, created: Timestamp, now: Timestamp) -> bool {
        now.duration_since(created)
            .is_some_and(|age| age > self.timeout)
    }

    fn drop_key(&mut self, key: &Key) {
        if let Some(p) = self.map.remove(key) {
            self.order.remove(&p.age);
            self.recycle(p);
        }
    }

    fn recycle(&mut self, p: Partial) {
        if self.pool.len() < POOL_LIMIT {
            self.pool.push(p);
        }
    }
}

/// Builds the reassembled datagram from a complete partial. `None` if it would exceed
/// the IPv4 maximum.
fn build_datagram(p: &Partial) -> Option<Vec<u8>> {
    let payload_len = p.end? as usize;
    let hl = p.header.len();
    let total = hl + payload_len;
    if total > MAX_DATAGRAM || hl < 20 {
        return None;
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&p.header);
    out.extend_from_slice(p.data.get(..payload_len)?);
    let total16 = u16::try_from(total).ok()?;
    out.get_mut(2..4)?.copy_from_slice(&total16.to_be_bytes());
    // Clear MF and the offset, keep DF and the reserved bit.
    let flags = u16::from_be_bytes([*out.get(6)?, *out.get(7)?]) & 0xC000;
    out.get_mut(6..8)?.copy_from_slice(&flags.to_be_bytes());
    // Recompute the header checksum so the datagram is valid on the wire.
    out.get_mut(10..12)?.copy_from_slice(&[0, 0]);
    let sum = ipv4_checksum(out.get(..hl)?);
    out.get_mut(10..12)?.copy_from_slice(&sum.to_be_bytes());
    Some(out)
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| match c {
            [a, b] => u32::from(u16::from_be_bytes([*a, *b])),
            [a] => u32::from(*a) << 8,
            _ => 0,
        })
        .sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, decode_ip, DecodeOutcome, L4};
    use crate::pcap::LINKTYPE_RAW;

    /// A complete IPv4/UDP datagram with `opts` IP options and `n` payload bytes.
    fn datagram(id: u16, opts: &[u8], n: usize) -> (Vec<u8>, Vec<u8>) {
        let payload: Vec<u8> = (0..n).map(|i| (i * 7 + 3) as u8).collect();
        let mut udp = vec![0x30, 0x39, 0x00, 0x35];
        udp.extend_from_slice(&((8 + n) as u16).to_be_bytes());
        udp.extend_from_slice(&[0, 0]);
        udp.extend_from_slice(&payload);
        let hl = 20 + opts.len();
        let mut ip = vec![0x40 | (hl / 4) as u8, 0];
        ip.extend_from_slice(&((hl + udp.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&id.to_be_bytes());
        ip.extend_from_slice(&[0x40, 0]); // DF, kept by reassembly
        ip.extend_from_slice(&[64, 17, 0, 0]);
        ip.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        ip.extend_from_slice(opts);
        let sum = ipv4_checksum(&ip);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        ip.extend_from_slice(&udp);
        (ip, payload)
    }

    /// Splits `dgram` into raw IPv4 fragment packets of `size` payload bytes (multiple of 8).
    /// Options are copied into every fragment for simplicity.
    fn split(dgram: &[u8], size: usize) -> Vec<Vec<u8>> {
        let hl = usize::from(dgram[0] & 0x0F) * 4;
        let body = &dgram[hl..];
        let mut out = Vec::new();
        let mut off = 0;
        while off < body.len() {
            let end = (off + size).min(body.len());
            let mut f = dgram[..hl].to_vec();
            f[2..4].copy_from_slice(&((hl + end - off) as u16).to_be_bytes());
            let mf = if end < body.len() { 0x2000 } else { 0 };
            f[6..8].copy_from_slice(&(0x4000 | mf | (off / 8) as u16).to_be_bytes());
            f.extend_from_slice(&body[off..end]);
            out.push(f);
            off = end;
        }
        out
    }

    fn as_frag(packet: &[u8]) -> Ipv4Fragment<'_> {
        match decode(LINKTYPE_RAW, packet) {
            Ok(DecodeOutcome::Fragment(f)) => f,
            other => panic!("not a fragment: {other:?}"),
        }
    }

    fn ts(secs: i64) -> Timestamp {
        Timestamp::new(secs, 0)
    }

    /// Feeds `frags` in `order`; returns the datagram(s) produced.
    fn feed(
        t: &mut FragmentTable,
        frags: &[Vec<u8>],
        order: &[usize],
        now: Timestamp,
    ) -> Vec<Vec<u8>> {
        order
            .iter()
            .filter_map(|&i| t.insert(&as_frag(&frags[i]), now))
            .collect()
    }

    fn check_udp(dgram: &[u8], want_payload: &[u8]) {
        let hl = usize::from(dgram[0] & 0x0F) * 4;
        assert_eq!(ipv4_checksum(&dgram[..hl]), 0, "header checksum");
        match decode_ip(dgram, [0, 0], 0) {
            Ok(DecodeOutcome::Packet(d)) => {
                assert_eq!(d.ip_len as usize, dgram.len());
                match d.l4 {
                    L4::Udp {
                        sport: 12345,
                        dport: 53,
                        payload,
                    } => assert_eq!(payload, want_payload),
                    other => panic!("{other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reassembles_in_any_order() {
        let (orig, payload) = datagram(0x1111, &[], 1000);
        let frags = split(&orig, 184);
        assert_eq!(frags.len(), 6);
        let n = frags.len();
        let mut orders: Vec<Vec<usize>> = vec![
            (0..n).collect(),
            (0..n).rev().collect(),
            vec![3, 0, 5, 1, 4, 2],
            vec![5, 4, 0, 1, 2, 3],
        ];
        // A deterministic pseudo-random shuffle too.
        let mut o: Vec<usize> = (0..n).collect();
        let mut x = 0x2545_f491u32;
        for i in (1..n).rev() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            o.swap(i, x as usize % (i + 1));
        }
        orders.push(o);
        for order in orders {
            let mut t = FragmentTable::new(16, Duration::from_secs(30));
            let out = feed(&mut t, &frags, &order, ts(100));
            assert_eq!(out.len(), 1, "{order:?}");
            // Identical to the original, including DF and the fixed-up checksum.
            assert_eq!(out[0], orig, "{order:?}");
            check_udp(&out[0], &payload);
            let s = *t.stats();
            assert_eq!(
                (s.fragments, s.reassembled, s.overlaps, s.dropped),
                (6, 1, 0, 0)
            );
            assert!(t.is_empty());
        }
    }

    #[test]
    fn options_and_vlans_survive() {
        let (orig, payload) = datagram(7, &[0x94, 0x04, 0, 0], 64);
        let frags = split(&orig, 16);
        let mut t = FragmentTable::new(4, Duration::from_secs(1));
        let mut out = feed(&mut t, &frags, &[4, 3, 2, 1, 0], ts(0));
        let d = out.pop().unwrap();
        assert_eq!(d, orig);
        check_udp(&d, &payload);
        let Ok(DecodeOutcome::Packet(p)) = decode_ip(&d, [5, 6], 2) else {
            panic!()
        };
        assert_eq!((p.vlan, p.vlan_count), ([5, 6], 2));
    }

    #[test]
    fn duplicates_and_overlaps() {
        let (orig, payload) = datagram(2, &[], 80);
        let frags = split(&orig, 32); // payload 88 bytes: 32 + 32 + 24
                                      // Exact duplicates: silently ignored.
        let mut t = FragmentTable::new(4, Duration::from_secs(1));
        let out = feed(&mut t, &frags, &[0, 0, 1, 1, 2], ts(0));
        assert_eq!(out.len(), 1);
        check_udp(&out[0], &payload);
        assert_eq!(t.stats().overlaps, 0);
        assert_eq!(t.stats().fragments, 5);
        // A duplicate arriving after completion starts a new partial datagram.
        assert!(t.insert(&as_frag(&frags[1]), ts(0)).is_none());
        assert_eq!(t.len(), 1);

        // Overlapping fragment with different bytes: the first data wins.
        let mut evil = frags[1].clone();
        // Covers payload bytes 16..48 (offset 16 = 2 units), overwriting with 0xEE.
        evil[6..8].copy_from_slice(&(0x2000u16 | 2).to_be_bytes());
        for b in &mut evil[20..] {
            *b = 0xEE;
        }
        let mut t = FragmentTable::new(4, Duration::from_secs(1));
        assert!(t.insert(&as_frag(&frags[0]), ts(0)).is_none());
        assert!(t.insert(&as_frag(&evil), ts(0)).is_none());
        assert_eq!(t.stats().overlaps, 1);
        let out = feed(&mut t, &frags, &[2, 1], ts(0));
        assert_eq!(out.len(), 1);
        // Bytes 0..32 from frags[0], 32..48 from the evil fragment (they filled a gap
        // first), the rest from the real fragments.
        let mut want = orig.clone();
        for b in &mut want[20 + 32..20 + 48] {
            *b = 0xEE;
        }
        assert_eq!(out[0], want);
        assert_eq!(t.stats().overlaps, 2); // frags[1] overlapped the evil one
    }

    #[test]
    fn contradictory_ends() {
        let (orig, payload) = datagram(3, &[], 40);
        let frags = split(&orig, 24); // payload 48: 24 + 24
        let f0 = as_frag(&frags[0]);
        let f1 = as_frag(&frags[1]);
        // A short "last" fragment (offset 0, MF clear, 8 bytes); it would decode as a
        // complete packet, so it is built by hand.
        let bogus = Ipv4Fragment {
            more_fragments: false,
            payload: &f0.payload[..8],
            ..f0
        };
        // Case 1: the real end (48) is known; a different end is ignored and counted.
        let mut t = FragmentTable::new(4, Duration::from_secs(1));
        assert!(t.insert(&f1, ts(0)).is_none());
        assert!(t.insert(&bogus, ts(0)).is_none());
        assert_eq!(t.stats().overlaps, 1);
        let out = t.insert(&f0, ts(0)).unwrap();
        check_udp(&out, &payload);
        assert_eq!(t.stats().overlaps, 2); // f0 overlapped the bogus bytes
                                           // Case 2: data beyond the bogus end was already received; the end is not taken.
        let mut t = FragmentTable::new(4, Duration::from_secs(1));
        assert!(t.insert(&f0, ts(0)).is_none());
        assert!(t.insert(&bogus, ts(0)).is_none());
        assert_eq!(t.stats().overlaps, 1);
        let out = t.insert(&f1, ts(0)).unwrap();
        assert_eq!(out, orig);
        assert_eq!(t.stats().overlaps, 1);

        // A fragment beyond the known end is trimmed and counted.
        let mut t = FragmentTable::new(4, Duration::from_secs(1));
        assert!(t.insert(&as_frag(&frags[1]), ts(0)).is_none());
        let mut past = frags[1].clone();
        past[6..8].copy_from_slice(&(0x2000u16 | 5).to_be_bytes()); // offset 40
        assert!(t.insert(&as_frag(&past), ts(0)).is_none());
        assert_eq!(t.stats().overlaps, 1);
        let out = t.insert(&as_frag(&frags[0]), ts(0)).unwrap();
        assert_eq!(out, orig);
    }

    #[test]
    fn timeouts() {
        let (orig, payload) = datagram(9, &[], 100);
        let frags = split(&orig, 40);
        let mut t = FragmentTable::new(8, Duration::from_secs(30));
        feed(&mut t, &frags, &[0], ts(10));
        t.expire(ts(40)); // exactly the timeout: kept
        assert_eq!(t.len(), 1);
        t.expire(ts(41));
        assert_eq!((t.len(), t.stats().timeouts), (0, 1));
        // The rest alone cannot complete the datagram.
        assert!(feed(&mut t, &frags, &[1, 2], ts(41)).is_empty());
        // A late fragment for a stale partial datagram also counts as a timeout and starts
        // over; a timestamp going backwards never expires anything.
        t.expire(ts(0));
        assert_eq!(t.len(), 1);
        assert!(feed(&mut t, &frags, &[0], ts(100)).is_empty());
        assert_eq!(t.stats().timeouts, 2);
        let out = feed(&mut t, &frags, &[1, 2], ts(101));
        check_udp(&out[0], &payload);
    }

    #[test]
    fn table_full_evicts_oldest() {
        let dgrams: Vec<_> = (0..4u16).map(|id| datagram(id, &[], 50)).collect();
        let frags: Vec<_> = dgrams.iter().map(|(d, _)| split(d, 32)).collect();
        let mut t = FragmentTable::new(2, Duration::from_secs(30));
        // Datagram 1 arrives first in time but second in order of insertion into the table
        // is irrelevant: age is (first timestamp, arrival).
        feed(&mut t, &frags[1], &[0], ts(5));
        feed(&mut t, &frags[0], &[0], ts(5));
        feed(&mut t, &frags[2], &[0], ts(6)); // evicts datagram 1 (same time, arrived first)
        assert_eq!((t.len(), t.stats().dropped), (2, 1));
        assert!(feed(&mut t, &frags[1], &[1], ts(6)).is_empty()); // re-created, evicts 0
        assert_eq!(t.stats().dropped, 2);
        assert!(feed(&mut t, &frags[0], &[1], ts(6)).is_empty()); // evicts 2
        let out = feed(&mut t, &frags[1], &[0], ts(6));
        check_udp(&out[0], &dgrams[1].1);
        let out = feed(&mut t, &frags[0], &[0], ts(7));
        check_udp(&out[0], &dgrams[0].1);
        assert_eq!(t.stats().dropped, 3);
        assert_eq!(t.stats().reassembled, 2);

        // A zero-capacity table drops everything.
        let mut t = FragmentTable::new(0, Duration::from_secs(30));
        assert!(feed(&mut t, &frags[3], &[0, 1], ts(0)).is_empty());
        assert_eq!(t.stats().dropped, 2);
    }

    #[test]
    fn oversized_datagrams_are_dropped() {
        let (orig, _) = datagram(4, &[], 100);
        let pieces = split(&orig, 40);
        let f = as_frag(&pieces[0]);
        let mut t = FragmentTable::new(8, Duration::from_secs(30));
        assert!(t.insert(&f, ts(0)).is_none());
        // Ends at exactly 65535 with the 20-byte header: accepted.
        let edge = Ipv4Fragment {
            offset: 65_480,
            more_fragments: false,
            payload: &[0; 35],
            ..f
        };
        assert!(t.insert(&edge, ts(0)).is_none());
        assert_eq!(t.stats().dropped, 0);
        // One byte more: the whole datagram is discarded.
        let over = Ipv4Fragment {
            payload: &[0; 36],
            ..edge
        };
        assert!(t.insert(&over, ts(0)).is_none());
        assert_eq!((t.stats().dropped, t.len()), (1, 0));
        // The largest legal datagram reassembles.
        let big: Vec<u8> = (0..65_515u32).map(|i| i as u8).collect();
        let mut t = FragmentTable::new(8, Duration::from_secs(30));
        let mut result = None;
        for (k, chunk) in big.chunks(1480).enumerate() {
            let frag = Ipv4Fragment {
                offset: (k * 1480) as u32,
                more_fragments: (k + 1) * 1480 < big.len(),
                payload: chunk,
                proto: 99,
                ..f
            };
            result = t.insert(&frag, ts(0)).or(result);
        }
        let d = result.expect("reassembled");
        assert_eq!(d.len(), 65_535);
        assert_eq!(&d[2..4], &[0xff, 0xff]);
        assert_eq!(&d[20..], &big[..]);
    }

    #[test]
    fn too_many_fragments() {
        let (orig, _) = datagram(5, &[], 100);
        let pieces = split(&orig, 40);
        let f = as_frag(&pieces[0]);
        let mut t = FragmentTable::new(8, Duration::from_secs(30));
        for k in 0..=MAX_FRAGMENTS_PER_DATAGRAM as u32 {
            let frag = Ipv4Fragment {
                offset: k * 16 + 64,
                payload: &[1; 8],
                ..f
            };
            assert!(t.insert(&frag, ts(0)).is_none());
        }
        assert_eq!((t.stats().dropped, t.len()), (1, 0));
    }
}
