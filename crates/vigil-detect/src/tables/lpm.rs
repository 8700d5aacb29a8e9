//! Longest-prefix match over a fixed set of prefixes, flattened into disjoint intervals.
//!
//! A prefix is the closed interval `[start, end]` of the addresses it covers. Two prefixes are
//! either disjoint or nested, so sorting them by `(start, longest first)` — i.e. parents before
//! their children — and sweeping with a stack of the currently open prefixes splits the parents
//! around their children. The result is a sorted list of disjoint intervals, each labelled with
//! its most specific prefix; a lookup is one binary search for the last interval starting at
//! or before the address. `n` prefixes produce at most `2n - 1` intervals.
//!
//! When the same prefix occurs several times, the lowest id (the first inserted) wins.

/// An address as an unsigned integer (`u32` for IPv4, `u128` for IPv6).
pub(crate) trait Key: Copy + Ord + Default + std::fmt::Debug {
    fn succ(self) -> Option<Self>;
    /// `self - 1`; never called on zero.
    fn pred(self) -> Self;
    /// `[start, end]` of the prefix of length `len` containing `addr`.
    fn prefix_range(addr: Self, len: u8) -> (Self, Self);
    /// The top 16 bits, for keys worth indexing by them (IPv4); `None` otherwise.
    fn top16(self) -> Option<usize>;
}

impl Key for u32 {
    #[inline]
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    #[inline]
    fn pred(self) -> Self {
        self - 1
    }
    fn prefix_range(addr: Self, len: u8) -> (Self, Self) {
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        (addr & mask, (addr & mask) | !mask)
    }
    #[inline]
    fn top16(self) -> Option<usize> {
        Some((self >> 16) as usize)
    }
}

impl Key for u128 {
    #[inline]
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    #[inline]
    fn pred(self) -> Self {
        self - 1
    }
    fn prefix_range(addr: Self, len: u8) -> (Self, Self) {
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        (addr & mask, (addr & mask) | !mask)
    }
    #[inline]
    fn top16(self) -> Option<usize> {
        None
    }
}

/// Disjoint sorted intervals, struct-of-arrays so the binary search touches only `starts`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Intervals<K> {
    starts: Vec<K>,
    ends: Vec<K>,
    ids: Vec<u32>,
}

impl<K: Key> Intervals<K> {
    /// Flattens prefixes given as `(start, end, id)`; every entry must be a real prefix range
    /// (as produced by [`Key::prefix_range`]). Consumes and frees the input.
    pub(crate) fn from_prefixes(mut p: Vec<(K, K, u32)>) -> Intervals<K> {
        // Parents (same start, larger end) first; for identical prefixes the lowest id first.
        p.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        // `dedup_by` removes the later of two equal neighbours, keeping the lowest id.
        p.dedup_by(|later, earlier| later.0 == earlier.0 && later.1 == earlier.1);

        let mut out = Intervals {
            starts: Vec::with_capacity(p.len()),
            ends: Vec::with_capacity(p.len()),
            ids: Vec::with_capacity(p.len()),
        };
        // Open prefixes, innermost last: (end, id).
        let mut stack: Vec<(K, u32)> = Vec::new();
        // First address not yet emitted; `None` once the address space is exhausted.
        let mut cur: Option<K> = None;
        for &(s, e, id) in &p {
            while let Some(&(te, tid)) = stack.last() {
                if te >= s {
                    break;
                }
                if let Some(c) = cur {
                    if c <= te {
                        out.push(c, te, tid);
                    }
                }
                cur = te.succ();
                stack.pop();
            }
            // Whatever is still open contains `s` (prefixes nest or are disjoint).
            if let (Some(&(_, tid)), Some(c)) = (stack.last(), cur) {
                if c < s {
                    out.push(c, s.pred(), tid);
                }
            }
            cur = Some(s);
            stack.push((e, id));
        }
        while let Some((te, tid)) = stack.pop() {
            if let Some(c) = cur {
                if c <= te {
                    out.push(c, te, tid);
                }
            }
            cur = te.succ();
        }
        drop(p);
        out.starts.shrink_to_fit();
        out.ends.shrink_to_fit();
        out.ids.shrink_to_fit();
        out
    }

    fn push(&mut self, start: K, end: K, id: u32) {
        self.starts.push(start);
        self.ends.push(end);
        self.ids.push(id);
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    pub(crate) fn starts(&self) -> &[K] {
        &self.starts
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        (self.starts.capacity() + self.ends.capacity()) * std::mem::size_of::<K>()
            + self.ids.capacity() * 4
    }

    #[cfg(test)]
    pub(crate) fn lookup(&self, k: K) -> Option<u32> {
        self.lookup_in(0, self.starts.len(), k)
    }

    /// Lookup when the caller knows that no interval at index ≥ `hi` starts at or before `k`
    /// and every interval before `lo` does.
    #[inline]
    pub(crate) fn lookup_in(&self, lo: usize, hi: usize, k: K) -> Option<u32> {
        let i = lo + self.starts[lo..hi].partition_point(|&s| s <= k);
        let j = i.checked_sub(1)?;
        (k <= self.ends[j]).then(|| self.ids[j])
    }
}

/// Optional index on the top 16 bits of a sorted `u32` key array: `index[b]` is the position of
/// the first key whose top 16 bits are ≥ `b` (65 537 entries), so a search only has to look at
/// the keys sharing the query's /16. Empty (and unused) for small arrays and for IPv6.
#[derive(Clone, Debug, Default)]
struct Buckets(Vec<u32>);

/// Below this many keys a plain binary search is as good as the index (which costs 256 KiB).
const BUCKETS_MIN: usize = 4096;

impl Buckets {
    fn build<K: Key>(keys: &[K]) -> Buckets {
        if keys.len() < BUCKETS_MIN || K::top16(K::default()).is_none() {
            return Buckets(Vec::new());
        }
        let mut index = Vec::with_capacity(65_537);
        let mut j = 0usize;
        for b in 0..=65_536usize {
            while j < keys.len() && keys[j].top16().is_some_and(|t| t < b) {
                j += 1;
            }
            index.push(j as u32);
        }
        Buckets(index)
    }

    /// The slice of a `len`-long key array that can hold the last key ≤ `k`, bounded so that
    /// every key before it is < `k`'s /16 and every key from its end on is > `k`'s /16.
    #[inline]
    fn range<K: Key>(&self, k: K, len: usize) -> (usize, usize) {
        match k.top16() {
            Some(b) if !self.0.is_empty() => (self.0[b] as usize, self.0[b + 1] as usize),
            _ => (0, len),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.0.capacity() * 4
    }
}

/// Longest-prefix match over host addresses and networks of one address family.
///
/// Hosts (full-length prefixes) are kept apart in a sorted array: a host is the most specific
/// prefix there is, so an exact hit wins outright, and keeping hosts out of the interval list
/// means they do not split the networks around them (which would cost two intervals per host).
/// Networks are flattened into [`Intervals`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Lpm<K> {
    hosts: Vec<K>,
    host_ids: Vec<u32>,
    host_buckets: Buckets,
    nets: Intervals<K>,
    net_buckets: Buckets,
}

impl<K: Key> Lpm<K> {
    /// `hosts` are `(address, id)`, `nets` are `(start, end, id)` prefix ranges. For the same
    /// host or the same network given twice, the lowest id wins.
    pub(crate) fn new(mut hosts: Vec<(K, u32)>, nets: Vec<(K, K, u32)>) -> Lpm<K> {
        hosts.sort_unstable();
        hosts.dedup_by_key(|h| h.0);
        let host_ids = hosts.iter().map(|h| h.1).collect();
        let hosts: Vec<K> = hosts.into_iter().map(|h| h.0).collect();
        let nets = Intervals::from_prefixes(nets);
        Lpm {
            host_buckets: Buckets::build(&hosts),
            net_buckets: Buckets::build(nets.starts()),
            hosts,
            host_ids,
            nets,
        }
    }

    /// Hosts plus network intervals.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.hosts.len() + self.nets.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.hosts.capacity() * std::mem::size_of::<K>()
            + self.host_ids.capacity() * 4
            + self.host_buckets.heap_bytes()
            + self.nets.heap_bytes()
            + self.net_buckets.heap_bytes()
    }

    #[inline]
    pub(crate) fn lookup(&self, k: K) -> Option<u32> {
        if !self.hosts.is_empty() {
            let (lo, hi) = self.host_buckets.range(k, self.hosts.len());
            if let Ok(i) = self.hosts[lo..hi].binary_search(&k) {
                return Some(self.host_ids[lo + i]);
            }
        }
        if self.nets.len() == 0 {
            return None;
        }
        let (lo, hi) = self.net_buckets.range(k, self.nets.len());
        self.nets.lookup_in(lo, hi, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive<K: Key>(prefixes: &[(K, u8, u32)], k: K) -> Option<u32> {
        prefixes
            .iter()
            .filter(|&&(a, l, _)| {
                let (s, e) = K::prefix_range(a, l);
                s <= k && k <= e
            })
            // Longest prefix; among identical prefixes the lowest id.
            .max_by(|x, y| x.1.cmp(&y.1).then(y.2.cmp(&x.2)))
            .map(|p| p.2)
    }

    fn ranges<K: Key>(prefixes: &[(K, u8, u32)]) -> Vec<(K, K, u32)> {
        prefixes
            .iter()
            .map(|&(a, l, id)| {
                let (s, e) = K::prefix_range(a, l);
                (s, e, id)
            })
            .collect()
    }

    /// The same prefixes as an [`Lpm`]: full-length ones as hosts.
    fn lpm<K: Key>(prefixes: &[(K, u8, u32)], full: u8) -> Lpm<K> {
        let hosts = prefixes
            .iter()
            .filter(|p| p.1 == full)
            .map(|&(a, _, id)| (a, id))
            .collect();
        let nets = prefixes
            .iter()
            .filter(|p| p.1 != full)
            .copied()
            .collect::<Vec<_>>();
        Lpm::new(hosts, ranges(&nets))
    }

    /// Addresses that probe every boundary of every prefix, plus the extremes.
    fn probes<K: Key>(prefixes: &[(K, u8, u32)], extra: &[K]) -> Vec<K> {
        let mut q: Vec<K> = vec![K::default(), K::prefix_range(K::default(), 0).1];
        for &(a, l, _) in prefixes {
            let (s, e) = K::prefix_range(a, l);
            q.extend([a, s, e]);
            if s > K::default() {
                q.push(s.pred());
            }
            if let Some(n) = e.succ() {
                q.push(n);
            }
        }
        q.extend_from_slice(extra);
        q
    }

    /// Few varying bits so that random prefixes nest and collide often.
    fn v4_addr() -> impl Strategy<Value = u32> {
        prop_oneof![
            any::<u32>().prop_map(|x| x & 0xC0C0_C0C3),
            any::<u32>().prop_map(|x| x & 0xFF00_0001),
            any::<u32>(),
        ]
    }

    fn v6_addr() -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>().prop_map(|x| x & 0xC000_0000_0000_C000_0000_0000_0000_C003),
            any::<u128>().prop_map(|x| x & (0xFFFF_u128 << 112 | 1)),
            any::<u128>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn v4_flattening_matches_naive_lpm(
            raw in prop::collection::vec((v4_addr(), 0u8..=32), 0..80),
            extra in prop::collection::vec(v4_addr(), 0..40),
        ) {
            let prefixes: Vec<(u32, u8, u32)> =
                raw.iter().enumerate().map(|(i, &(a, l))| (a, l, i as u32)).collect();
            let iv = Intervals::from_prefixes(ranges(&prefixes));
            prop_assert!(iv.len() <= (2 * prefixes.len()).max(1));
            // Intervals are sorted and disjoint.
            for w in iv.starts.windows(2) {
                prop_assert!(w[0] < w[1]);
            }
            for i in 1..iv.len() {
                prop_assert!(iv.ends[i - 1] < iv.starts[i]);
            }
            let lpm = lpm(&prefixes, 32);
            for q in probes(&prefixes, &extra) {
                let want = naive(&prefixes, q);
                prop_assert_eq!(iv.lookup(q), want, "address {:#x}", q);
                prop_assert_eq!(lpm.lookup(q), want, "address {:#x}", q);
            }
        }

        #[test]
        fn v6_flattening_matches_naive_lpm(
            raw in prop::collection::vec((v6_addr(), 0u8..=128), 0..80),
            extra in prop::collection::vec(v6_addr(), 0..40),
        ) {
            let prefixes: Vec<(u128, u8, u32)> =
                raw.iter().enumerate().map(|(i, &(a, l))| (a, l, i as u32)).collect();
            let iv = Intervals::from_prefixes(ranges(&prefixes));
            for i in 1..iv.len() {
                prop_assert!(iv.ends[i - 1] < iv.starts[i]);
            }
            let lpm = lpm(&prefixes, 128);
            for q in probes(&prefixes, &extra) {
                let want = naive(&prefixes, q);
                prop_assert_eq!(iv.lookup(q), want, "address {:#x}", q);
                prop_assert_eq!(lpm.lookup(q), want, "address {:#x}", q);
            }
        }
    }

    #[test]
    fn v4_bucket_index_agrees_with_naive() {
        // Enough hosts and networks to switch both /16 indexes on, with nesting across /16
        // boundaries.
        let mut prefixes = Vec::new();
        let mut x: u32 = 0x1234_5678;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let len = [8u8, 12, 16, 20, 24, 32, 32, 32][(x & 7) as usize];
            prefixes.push((x & 0x3FFF_FFFF, len, i));
        }
        let t = lpm(&prefixes, 32);
        assert!(!t.host_buckets.0.is_empty() && !t.net_buckets.0.is_empty());
        let mut x: u32 = 77;
        let random = (0..3000).map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x & 0x3FFF_FFFF
        });
        for q in probes(&prefixes[..1500], &random.collect::<Vec<_>>()) {
            assert_eq!(t.lookup(q), naive(&prefixes, q), "address {q:#x}");
        }
    }

    #[test]
    fn full_space_prefixes_do_not_overflow() {
        let p = vec![
            (0u128, u128::MAX, 0),
            u128::prefix_range(u128::MAX, 128).into_tuple(1),
        ];
        let iv = Intervals::from_prefixes(p);
        assert_eq!(iv.lookup(u128::MAX), Some(1));
        assert_eq!(iv.lookup(u128::MAX - 1), Some(0));
        assert_eq!(iv.lookup(0), Some(0));
        let t = Lpm::new(
            vec![(u32::MAX, 8)],
            vec![(0, u32::MAX, 7), (u32::MAX, u32::MAX, 9)],
        );
        assert_eq!(t.lookup(u32::MAX), Some(8));
        assert_eq!(t.lookup(5), Some(7));
        assert_eq!(Lpm::<u32>::default().lookup(5), None);
        assert_eq!(Lpm::<u128>::default().lookup(5), None);
    }

    trait IntoTuple<K> {
        fn into_tuple(self, id: u32) -> (K, K, u32);
    }
    impl<K> IntoTuple<K> for (K, K) {
        fn into_tuple(self, id: u32) -> (K, K, u32) {
            (self.0, self.1, id)
        }
    }
}
