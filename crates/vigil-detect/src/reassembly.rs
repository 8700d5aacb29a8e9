//! One-direction TCP stream reassembly, enough for application-layer parsing.
//!
//! In-order segments are handed to the consumer without copying; out-of-order segments wait
//! in a small bounded list until the gap closes. Retransmitted and overlapping bytes are
//! delivered once (first copy wins, as most stacks do). Reassembly stops after `depth` bytes,
//! like Suricata's `stream.reassembly.depth`, because app-layer metadata lives at the start.

/// Limits for one direction of one flow.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// Bytes delivered before the stream stops reassembling.
    pub depth: u64,
    /// Bytes buffered out of order before further out-of-order segments are dropped.
    pub max_pending: usize,
    /// Segments buffered out of order.
    pub max_segments: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            depth: 1 << 20,
            max_pending: 256 << 10,
            max_segments: 64,
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamStats {
    pub delivered: u64,
    /// Segments that arrived out of order and were buffered.
    pub out_of_order: u64,
    /// Bytes seen again (retransmissions, overlaps).
    pub duplicate_bytes: u64,
    /// Segments dropped because buffers were full or beyond the window.
    pub dropped: u64,
}

#[derive(Debug, Default)]
pub struct Stream {
    /// Sequence number of the next byte to deliver, once known.
    next_seq: Option<u32>,
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: usize,
    /// Set when the consumer no longer wants data or depth is reached.
    done: bool,
    pub stats: StreamStats,
}

/// Largest forward distance a segment may be ahead of `next_seq` and still be buffered.
const WINDOW: u32 = 1 << 24;

impl Stream {
    pub fn new() -> Self {
        Stream::default()
    }

    /// A SYN fixes the initial sequence number; data starts one past it.
    pub fn on_syn(&mut self, seq: u32) {
        if self.next_seq.is_none() {
            self.next_seq = Some(seq.wrapping_add(1));
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Stops reassembly: the parser has what it needs or gave up.
    pub fn finish(&mut self) {
        self.done = true;
        self.pending = Vec::new();
        self.pending_bytes = 0;
    }

    /// Feeds one segment. `deliver` receives contiguous bytes in stream order and returns
    /// `false` once it wants no more data.
    pub fn push(
        &mut self,
        seq: u32,
        payload: &[u8],
        limits: &StreamLimits,
        mut deliver: impl FnMut(&[u8]) -> bool,
    ) {
        if self.done || payload.is_empty() {
            return;
        }
        // Midstream pickup: the first data segment defines the stream start.
        let next = *self.next_seq.get_or_insert(seq);
        let ahead = seq.wrapping_sub(next);
        if ahead == 0 {
            self.deliver_in_order(payload, limits, &mut deliver);
            self.drain_pending(limits, &mut deliver);
        } else if ahead < WINDOW {
            self.buffer(seq, payload, limits);
        } else {
            // Starts before `next`: a retransmission or an overlap with new bytes at the end.
            let behind = next.wrapping_sub(seq) as usize;
            if behind >= payload.len() {
                self.stats.duplicate_bytes += payload.len() as u64;
                return;
            }
            self.stats.duplicate_bytes += behind as u64;
            self.deliver_in_order(&payload[behind..], limits, &mut deliver);
            self.drain_pending(limits, &mut deliver);
        }
    }

    fn deliver_in_order(
        &mut self,
        data: &[u8],
        limits: &StreamLimits,
        deliver: &mut impl FnMut(&[u8]) -> bool,
    ) {
        if self.done {
            return;
        }
        let room = limits.depth.saturating_sub(self.stats.delivered);
        let take = data.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let data = &data[..take];
        if let Some(n) = self.next_seq.as_mut() {
            *n = n.wrapping_add(data.len() as u32);
        }
        self.stats.delivered += data.len() as u64;
        let wants_more = data.is_empty() || deliver(data);
        if !wants_more || self.stats.delivered >= limits.depth {
            self.finish();
        }
    }

    fn buffer(&mut self, seq: u32, payload: &[u8], limits: &StreamLimits) {
        if self
            .pending
            .iter()
            .any(|(s, d)| *s == seq && d.len() >= payload.len())
        {
            self.stats.duplicate_bytes += payload.len() as u64;
            return;
        }
        if self.pending.len() >= limits.max_segments
            || self.pending_bytes + payload.len() > limits.max_pending
        {
            self.stats.dropped += 1;
            return;
        }
        self.stats.out_of_order += 1;
        self.pending_bytes += payload.len();
        self.pending.push((seq, payload.to_vec()));
    }

    fn drain_pending(&mut self, limits: &StreamLimits, deliver: &mut impl FnMut(&[u8]) -> bool) {
        while !self.done && !self.pending.is_empty() {
            let Some(next) = self.next_seq else { return };
            // The buffered segment closest to `next` (by forward distance, wrapping-aware).
            let (idx, _) = self
                .pending
                .iter()
                .enumerate()
                .min_by_key(|(_, (s, _))| s.wrapping_sub(next).wrapping_add(WINDOW))
                .expect("pending is not empty");
            let seq = self.pending[idx].0;
            let ahead = seq.wrapping_sub(next);
            if ahead != 0 && ahead < WINDOW {
                return; // still a gap
            }
            let data = self.pending.swap_remove(idx).1;
            self.pending_bytes -= data.len();
            let behind = next.wrapping_sub(seq) as usize;
            if behind >= data.len() {
                self.stats.duplicate_bytes += data.len() as u64;
                continue;
            }
            self.stats.duplicate_bytes += behind as u64;
            self.deliver_in_order(&data[behind..], limits, deliver);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(segments: &[(u32, &[u8])], syn: Option<u32>) -> (Vec<u8>, StreamStats) {
        let mut s = Stream::new();
        if let Some(isn) = syn {
            s.on_syn(isn);
        }
        let mut out = Vec::new();
        for (seq, data) in segments {
            s.push(*seq, data, &StreamLimits::default(), |d| {
                out.extend_from_slice(d);
                true
            });
        }
        (out, s.stats)
    }

    #[test]
    fn in_order_segments_pass_through() {
        let (out, _) = run(&[(101, b"GET / HT"), (109, b"TP/1.1\r\n\r\n")], Some(100));
        assert_eq!(out, b"GET / HTTP/1.1\r\n\r\n");
    }

    #[test]
    fn out_of_order_segments_are_delivered_in_order() {
        let (out, st) = run(&[(109, b"TP/1.1\r\n\r\n"), (101, b"GET / HT")], Some(100));
        assert_eq!(out, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(st.out_of_order, 1);
    }

    #[test]
    fn retransmissions_and_overlaps_deliver_each_byte_once() {
        let (out, st) = run(
            &[(1, b"abcd"), (1, b"abcd"), (3, b"cdef"), (7, b"g")],
            Some(0),
        );
        assert_eq!(out, b"abcdefg");
        assert_eq!(st.duplicate_bytes, 6);
    }

    #[test]
    fn sequence_numbers_wrap_around() {
        let isn = u32::MAX - 2;
        let (out, _) = run(&[(u32::MAX - 1, b"ab"), (0, b"cd")], Some(isn));
        assert_eq!(out, b"abcd");
        let (out, _) = run(&[(0, b"cd"), (u32::MAX - 1, b"ab")], Some(isn));
        assert_eq!(out, b"abcd");
    }

    #[test]
    fn midstream_pickup_starts_at_the_first_data_segment() {
        let (out, _) = run(&[(5000, b"hello"), (5005, b" world")], None);
        assert_eq!(out, b"hello world");
    }

    #[test]
    fn depth_stops_reassembly() {
        let mut s = Stream::new();
        let limits = StreamLimits {
            depth: 4,
            ..Default::default()
        };
        let mut out = Vec::new();
        s.push(0, b"abcdef", &limits, |d| {
            out.extend_from_slice(d);
            true
        });
        assert_eq!(out, b"abcd");
        assert!(s.is_done());
    }

    #[test]
    fn buffer_limits_drop_and_count() {
        let mut s = Stream::new();
        s.on_syn(0);
        let limits = StreamLimits {
            max_segments: 1,
            ..Default::default()
        };
        s.push(10, b"x", &limits, |_| true);
        s.push(20, b"y", &limits, |_| true);
        assert_eq!(s.stats.dropped, 1);
    }

    proptest! {
        // Any permutation of any segmentation (with duplicates) reassembles to the original.
        #[test]
        fn any_order_reassembles_the_original(
            data in proptest::collection::vec(any::<u8>(), 1..400),
            cuts in proptest::collection::vec(0usize..400, 0..12),
            isn in any::<u32>(),
            order in proptest::collection::vec(any::<u32>(), 0..40),
        ) {
            let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % data.len()).collect();
            bounds.push(0);
            bounds.push(data.len());
            bounds.sort_unstable();
            bounds.dedup();
            let mut segs: Vec<(u32, &[u8])> = bounds
                .windows(2)
                .map(|w| (isn.wrapping_add(1).wrapping_add(w[0] as u32), &data[w[0]..w[1]]))
                .collect();
            // Shuffle deterministically from `order`, then add a duplicate of the first.
            for (i, r) in order.iter().enumerate() {
                let n = segs.len();
                segs.swap(i % n, *r as usize % n);
            }
            let dup = segs[0];
            segs.push(dup);
            let (out, _) = run(&segs, Some(isn));
            prop_assert_eq!(out, data);
        }
    }
}
