//! The scan pipeline: read captures, shard flows across workers, merge events in capture order.
//!
//! Flows are hashed onto a fixed number of logical shards ([`SHARDS`]); each worker thread owns
//! a subset of them. Because the shard of a flow, each shard's flow table and the points at
//! which timeouts are checked (every [`CHUNK`] packets of the global stream) never depend on
//! the thread count, neither does the output: every event carries a sort key
//! `(pcap_cnt, phase, shard, seq)` and chunks are merged by that key.

use crate::app::{dns, http, tls};
use crate::checksum;
use crate::decode::{self, tcp_flags, DecodeOutcome, Decoded, L4};
use crate::eve::{self, EventType, EventTypes};
use crate::flow::{
    Direction, EndReason, FlowCore, FlowKey, FlowState, FlowTable, FlowTimeouts, HasCore,
    PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP,
};
use crate::frag::FragmentTable;
use crate::models::{Models, Observation};
use crate::pcap::{CaptureError, CaptureReader, Timestamp};
use crate::reassembly::{Stream, StreamLimits};
use crate::signatures::post::{AlertFacts, AlertPolicy, Thresholds};
use crate::signatures::{self, AppKind, Buffers, FlowBits, Hook, PacketView, SignatureSet};
use crate::tables::{IndicatorId, IndicatorTables};
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Logical shards. Fixed so that flow placement is independent of `--threads`.
pub const SHARDS: usize = 64;
/// Packets between timeout checks; also the unit of work handed to a worker.
pub const CHUNK: u64 = 2048;

/// Marks a reassembled IPv4 datagram in a worker batch instead of a link-layer frame.
const LINK_REASSEMBLED: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub threads: usize,
    /// Upper bound on tracked flows across all shards; the longest-idle flows are evicted
    /// (and counted) beyond it.
    pub max_flows: usize,
    pub timeouts: FlowTimeouts,
    pub event_types: EventTypes,
    pub stream: StreamLimits,
    /// Skip packets with a wrong IPv4, TCP, UDP or ICMP checksum (Suricata's `-k all`).
    pub verify_checksums: bool,
    /// Pick up TCP sessions whose handshake was not seen (Suricata's `stream.midstream`).
    /// On by default: sensors often start mid-session.
    pub midstream: bool,
    /// What to do with a session picked up mid-stream (`stream.midstream-policy`).
    pub midstream_policy: MidstreamPolicy,
    /// Treat a handshake seen from one side only as complete (`stream.async-oneside`).
    pub async_oneside: bool,
    /// Alerts carry the flow, the app-layer record and the rule's metadata (eve-log alert
    /// `metadata`, on by default).
    pub alert_metadata: bool,
    /// Alerts carry `verdict{action}` (eve-log alert `verdict`).
    pub alert_verdict: bool,
    /// Alerts carry `ether{src_mac, dest_mac}` of Ethernet frames (eve-log `ethernet`).
    pub eve_ethernet: bool,
    /// At most this many rule alerts per packet, highest priority first (Suricata's
    /// `packet-alert-max`, 15 by default).
    pub packet_alert_max: usize,
}

/// Suricata's midstream exception policy, for IDS use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MidstreamPolicy {
    /// Inspect the session as usual.
    #[default]
    Ignore,
    /// No detection on the session (pass-flow, bypass, drop-flow, reject).
    NoInspection,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            threads: 1,
            max_flows: 262_144,
            timeouts: FlowTimeouts::default(),
            event_types: EventTypes::all(),
            stream: StreamLimits::default(),
            verify_checksums: false,
            midstream: true,
            midstream_policy: MidstreamPolicy::Ignore,
            async_oneside: false,
            alert_metadata: true,
            alert_verdict: false,
            eve_ethernet: false,
            packet_alert_max: 15,
        }
    }
}

/// One capture to read.
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{input}: cannot open: {source}")]
    Open { input: String, source: io::Error },
    #[error("{input}: {source}")]
    Capture { input: String, source: CaptureError },
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
}

impl ScanError {
    /// An input that could not be read at all, as opposed to one that broke part-way.
    pub fn is_unreadable(&self) -> bool {
        match self {
            ScanError::Open { .. } => true,
            ScanError::Capture { source, .. } => {
                matches!(source, CaptureError::NotACapture { .. }) || source.offset() == 0
            }
            ScanError::Output(_) => false,
        }
    }
}

/// What a scan did, for `--stats`, the table format and the stats event.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
    pub invalid: u64,
    pub invalid_checksum: u64,
    pub non_ip: u64,
    pub ipv4: u64,
    pub ipv6: u64,
    pub tcp: u64,
    pub udp: u64,
    pub icmp: u64,
    pub other_proto: u64,
    pub vlan: u64,
    pub fragments: u64,
    pub reassembled: u64,
    pub frag_timeouts: u64,
    pub frag_dropped: u64,
    /// Records the capture reader skipped without giving up on the file.
    pub capture_skipped: u64,
    pub flows: u64,
    pub flows_evicted: u64,
    pub flows_timed_out: u64,
    pub alerts: u64,
    pub app_http: u64,
    pub app_tls: u64,
    pub app_dns_udp: u64,
    pub app_dns_tcp: u64,
    pub app_failed: u64,
    pub dns_parse_errors: u64,
    pub http_parse_errors: u64,
    pub tls_parse_errors: u64,
    pub stream_gaps: u64,
    pub events: BTreeMap<&'static str, u64>,
}

impl Counters {
    fn merge(&mut self, o: &Counters) {
        macro_rules! add { ($($f:ident),*) => { $( self.$f += o.$f; )* } }
        add!(
            packets,
            bytes,
            invalid,
            invalid_checksum,
            non_ip,
            ipv4,
            ipv6,
            tcp,
            udp,
            icmp,
            other_proto,
            vlan,
            fragments,
            reassembled,
            frag_timeouts,
            frag_dropped,
            capture_skipped,
            flows,
            flows_evicted,
            flows_timed_out,
            alerts,
            app_http,
            app_tls,
            app_dns_udp,
            app_dns_tcp,
            app_failed,
            dns_parse_errors,
            http_parse_errors,
            tls_parse_errors,
            stream_gaps
        );
        for (k, v) in &o.events {
            *self.events.entry(k).or_default() += v;
        }
    }

    /// Packets that were read but could not be inspected.
    pub fn skipped(&self) -> u64 {
        self.invalid + self.invalid_checksum + self.capture_skipped + self.frag_dropped
    }
}

/// Per-signature alert tally for people-facing summaries.
#[derive(Debug, Clone, Serialize)]
pub struct AlertTally {
    pub signature_id: u32,
    pub signature: String,
    pub severity: u8,
    pub matched_field: &'static str,
    pub source: String,
    pub count: u64,
}

#[derive(Debug, Default)]
pub struct ScanReport {
    pub counters: Counters,
    /// Latest packet time seen; the stats event carries it.
    pub last_ts: Timestamp,
    pub alerts: Vec<AlertTally>,
    /// Inputs that failed entirely or part-way; processing kept what it could.
    pub errors: Vec<ScanError>,
}

/// Progress callback: bytes consumed so far across inputs.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// What a scan detects with: indicator tables, compiled rules, behaviour models, and the
/// alert policy (threshold.config) applied where events are merged.
pub struct Detectors {
    pub tables: Arc<IndicatorTables>,
    pub sigs: Arc<SignatureSet>,
    /// `None` when the behaviour models are off.
    pub models: Option<Models>,
    pub policy: AlertPolicy,
}

impl Detectors {
    /// Indicator tables only: no rules, no models.
    pub fn indicators(tables: Arc<IndicatorTables>) -> Detectors {
        Detectors {
            tables,
            sigs: Arc::new(SignatureSet::empty()),
            models: None,
            policy: AlertPolicy::default(),
        }
    }
}

/// Shared, read-only detection state every worker consults.
struct Shared {
    tables: Arc<IndicatorTables>,
    sigs: Arc<SignatureSet>,
    /// Workers report flow starts, flow ends and DNS queries for the models.
    observe: bool,
}

/// Runs a scan and writes EVE JSON lines to `out`.
pub fn scan(
    inputs: &[Input],
    cfg: &ScanConfig,
    det: Detectors,
    out: &mut dyn Write,
    progress: Progress<'_>,
) -> Result<ScanReport, ScanError> {
    // Dataset `set`/`unset` is state shared by all flows: a single worker applies it in
    // capture order, the only way to keep output independent of the thread count.
    let threads = if det.sigs.mutates_datasets() {
        1
    } else {
        cfg.threads.clamp(1, SHARDS)
    };
    let shared = Arc::new(Shared {
        tables: det.tables,
        sigs: det.sigs,
        observe: det.models.is_some(),
    });
    let post = Post::new(shared.sigs.clone(), det.models, det.policy, cfg.event_types);
    let mut report = if threads == 1 {
        let mut sink = InlineSink {
            worker: Worker::new(0, 1, cfg, shared),
            out,
            scratch: Vec::new(),
            post,
        };
        let mut report = read_inputs(inputs, cfg, &mut sink, progress)?;
        let (c, t) = sink.finish(report.counters.packets + 1, report.last_ts)?;
        report.counters.merge(&c);
        merge_tallies(&mut report.alerts, t);
        report
    } else {
        std::thread::scope(|scope| -> Result<ScanReport, ScanError> {
            let mut sink = ThreadedSink::start(scope, threads, cfg, &shared, &mut *out, post);
            let report = read_inputs(inputs, cfg, &mut sink, progress);
            let packets = report.as_ref().map(|r| r.counters.packets).unwrap_or(0);
            let last_ts = report.as_ref().map(|r| r.last_ts).unwrap_or_default();
            let done = sink.finish(packets, last_ts);
            let mut report = report?;
            let (c, t) = done?;
            report.counters.merge(&c);
            merge_tallies(&mut report.alerts, t);
            Ok(report)
        })?
    };
    write_stats_event(cfg, &mut report, out)?;
    out.flush()?;
    Ok(report)
}

fn merge_tallies(into: &mut Vec<AlertTally>, from: BTreeMap<(u32, &'static str), AlertTally>) {
    let mut map: BTreeMap<(u32, &'static str), AlertTally> = into
        .drain(..)
        .map(|t| ((t.signature_id, t.matched_field), t))
        .collect();
    for (k, t) in from {
        map.entry(k).and_modify(|e| e.count += t.count).or_insert(t);
    }
    // Alerts all suppressed by thresholds leave no tally.
    map.retain(|_, t| t.count > 0);
    into.extend(map.into_values());
    into.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.signature_id.cmp(&b.signature_id))
    });
}

fn write_stats_event(
    cfg: &ScanConfig,
    report: &mut ScanReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    if !cfg.event_types.contains(EventType::Stats) {
        return Ok(());
    }
    *report.counters.events.entry("stats").or_default() += 1;
    let c = &report.counters;
    let stats = serde_json::json!({
        "decoder": {
            "pkts": c.packets, "bytes": c.bytes, "invalid": c.invalid,
            "invalid_checksum": c.invalid_checksum, "ipv4": c.ipv4,
            "ipv6": c.ipv6, "tcp": c.tcp, "udp": c.udp, "icmp": c.icmp, "vlan": c.vlan,
            "other_proto": c.other_proto, "non_ip": c.non_ip,
            "ipv4_fragments": c.fragments, "ipv4_reassembled": c.reassembled,
            "ipv4_frag_timeouts": c.frag_timeouts, "ipv4_frag_dropped": c.frag_dropped,
        },
        "capture": { "skipped": c.capture_skipped },
        "flow": {
            "total": c.flows, "evicted": c.flows_evicted, "timed_out": c.flows_timed_out,
        },
        "detect": { "alert": c.alerts },
        "app_layer": {
            "flow": {
                "http": c.app_http, "tls": c.app_tls, "dns_udp": c.app_dns_udp,
                "dns_tcp": c.app_dns_tcp, "failed_tcp": c.app_failed,
            },
            "error": {
                "dns": c.dns_parse_errors, "http": c.http_parse_errors, "tls": c.tls_parse_errors,
            },
        },
        "tcp": { "reassembly_gap": c.stream_gaps },
    });
    let ev = eve::StatsEvent {
        timestamp: eve::timestamp_string(report.last_ts),
        event_type: "stats",
        stats: &stats,
    };
    serde_json::to_writer(&mut *out, &ev).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

// ---------------------------------------------------------------------------------------------
// Reading: the same loop feeds the inline and the threaded sink.

/// Everything a worker needs to place a packet.
#[derive(Debug, Clone, Copy)]
struct PktMeta {
    pcap_cnt: u64,
    ts: Timestamp,
    shard: u16,
    /// Destination and source MAC of an Ethernet frame, for `ether` in alerts.
    macs: Option<[u8; 12]>,
}

trait Sink {
    fn packet(
        &mut self,
        meta: PktMeta,
        linktype: u32,
        frame: &[u8],
        decoded: &Decoded<'_>,
    ) -> io::Result<()>;
    /// Called every [`CHUNK`] packets with the latest capture time.
    fn tick(&mut self, pcap_cnt: u64, now: Timestamp) -> io::Result<()>;
}

fn read_inputs(
    inputs: &[Input],
    cfg: &ScanConfig,
    sink: &mut dyn Sink,
    progress: Progress<'_>,
) -> Result<ScanReport, ScanError> {
    let mut report = ScanReport::default();
    let c = &mut report.counters;
    let mut frags = FragmentTable::new(4096, std::time::Duration::from_secs(30));
    let mut now = Timestamp::default();
    let mut done_bytes = 0u64;
    for input in inputs {
        let name = input.name();
        let reader: Box<dyn Read> = match input {
            Input::File(p) => match std::fs::File::open(p) {
                Ok(f) => Box::new(f),
                Err(source) => {
                    report.errors.push(ScanError::Open {
                        input: name,
                        source,
                    });
                    continue;
                }
            },
            Input::Stdin => Box::new(io::stdin().lock()),
        };
        let mut cap = match CaptureReader::new(reader) {
            Ok(r) => r,
            Err(source) => {
                report.errors.push(ScanError::Capture {
                    input: name,
                    source,
                });
                continue;
            }
        };
        loop {
            let rec = match cap.next_packet() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(source) => {
                    report.errors.push(ScanError::Capture {
                        input: name.clone(),
                        source,
                    });
                    break;
                }
            };
            c.packets += 1;
            c.bytes += u64::from(rec.orig_len);
            if rec.ts > now {
                now = rec.ts;
            }
            let pcap_cnt = c.packets;
            let ts = rec.ts;
            match decode::decode(rec.linktype, rec.data) {
                Ok(DecodeOutcome::Packet(d)) => {
                    if cfg.verify_checksums && checksum::verify(&d) == checksum::Verdict::Invalid {
                        c.invalid_checksum += 1;
                        continue;
                    }
                    let mut meta = place(pcap_cnt, ts, &d, c);
                    if rec.linktype == crate::pcap::LINKTYPE_ETHERNET {
                        meta.macs = rec.data.get(..12).and_then(|m| m.try_into().ok());
                    }
                    sink.packet(meta, rec.linktype, rec.data, &d)?;
                }
                Ok(DecodeOutcome::Fragment(f)) => {
                    c.fragments += 1;
                    c.ipv4 += 1;
                    if let Some(datagram) = frags.insert(&f, ts) {
                        c.reassembled += 1;
                        let (vlan, n) = (f.vlan, f.vlan_count);
                        if let Ok(DecodeOutcome::Packet(d)) = decode::decode_ip(&datagram, vlan, n)
                        {
                            let meta = place(pcap_cnt, ts, &d, c);
                            let mut framed = Vec::with_capacity(datagram.len() + 5);
                            framed.extend_from_slice(&vlan[0].to_be_bytes());
                            framed.extend_from_slice(&vlan[1].to_be_bytes());
                            framed.push(n);
                            framed.extend_from_slice(&datagram);
                            sink.packet(meta, LINK_REASSEMBLED, &framed, &d)?;
                        } else {
                            c.invalid += 1;
                        }
                    }
                }
                Ok(DecodeOutcome::NotIp { .. }) => c.non_ip += 1,
                Err(_) => c.invalid += 1,
            }
            if pcap_cnt % CHUNK == 0 {
                frags.expire(now);
                sink.tick(pcap_cnt, now)?;
                progress(done_bytes + cap.bytes_read());
            }
        }
        c.capture_skipped += cap.skipped();
        done_bytes += cap.bytes_read();
        progress(done_bytes);
    }
    report.last_ts = now;
    let fs = frags.stats();
    c.frag_timeouts += fs.timeouts;
    c.frag_dropped += fs.dropped;
    Ok(report)
}

fn place(pcap_cnt: u64, ts: Timestamp, d: &Decoded<'_>, c: &mut Counters) -> PktMeta {
    match d.src {
        IpAddr::V4(_) => c.ipv4 += 1,
        IpAddr::V6(_) => c.ipv6 += 1,
    }
    if d.vlan_count > 0 {
        c.vlan += 1;
    }
    match &d.l4 {
        L4::Tcp(_) => c.tcp += 1,
        L4::Udp { .. } => c.udp += 1,
        L4::Icmp { .. } => c.icmp += 1,
        L4::Other { .. } => c.other_proto += 1,
    }
    let key = flow_key(d);
    PktMeta {
        pcap_cnt,
        ts,
        shard: (key.shard_hash() % SHARDS as u64) as u16,
        macs: None,
    }
}

fn ports(d: &Decoded<'_>) -> (u16, u16) {
    match &d.l4 {
        L4::Tcp(t) => (t.sport, t.dport),
        L4::Udp { sport, dport, .. } => (*sport, *dport),
        // SCTP: ports lead the common header, as in TCP and UDP.
        L4::Other { payload } if d.ip_proto == PROTO_SCTP && payload.len() >= 12 => (
            u16::from_be_bytes([payload[0], payload[1]]),
            u16::from_be_bytes([payload[2], payload[3]]),
        ),
        _ => (0, 0),
    }
}

const PROTO_SCTP: u8 = 132;

fn flow_key(d: &Decoded<'_>) -> FlowKey {
    let (sp, dp) = ports(d);
    FlowKey::new(d.src, d.dst, sp, dp, d.ip_proto, d.vlan).0
}

// ---------------------------------------------------------------------------------------------
// Sinks

struct InlineSink<'o> {
    worker: Worker,
    out: &'o mut dyn Write,
    scratch: Vec<u8>,
    post: Post,
}

impl InlineSink<'_> {
    fn flush(&mut self) -> io::Result<()> {
        // A single worker produces events already in key order.
        let mut ev = std::mem::take(&mut self.worker.events);
        if ev.aux.is_empty() {
            self.out.write_all(&ev.buf)?;
        } else {
            for &(_, s, e, a) in &ev.index {
                let aux = ev.aux.get(a as usize);
                self.post
                    .write(&ev.buf[s as usize..e as usize], aux, &mut *self.out)?;
            }
        }
        self.scratch = std::mem::take(&mut ev.buf);
        self.scratch.clear();
        ev.index.clear();
        ev.aux.clear();
        ev.buf = std::mem::take(&mut self.scratch);
        self.worker.events = ev;
        Ok(())
    }

    fn finish(mut self, end_cnt: u64, last_ts: Timestamp) -> io::Result<Finished> {
        self.worker.finish(end_cnt);
        self.flush()?;
        let mut fin = (self.worker.counters, self.worker.tallies);
        self.post.finish(last_ts, &mut *self.out, &mut fin)?;
        Ok(fin)
    }
}

impl Sink for InlineSink<'_> {
    fn packet(
        &mut self,
        meta: PktMeta,
        _linktype: u32,
        _frame: &[u8],
        decoded: &Decoded<'_>,
    ) -> io::Result<()> {
        self.worker.process(meta, decoded);
        if self.worker.events.buf.len() > 1 << 20 && self.worker.events.aux.is_empty() {
            self.flush()?;
        }
        Ok(())
    }

    fn tick(&mut self, pcap_cnt: u64, now: Timestamp) -> io::Result<()> {
        self.worker.tick(pcap_cnt, now);
        self.flush()?;
        self.post.tick(now, &mut *self.out)
    }
}

/// Raw frames for one worker, copied out of the reader's buffer.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    pkts: Vec<(PktMeta, u32, u32, u32)>, // meta, linktype, start, end
}

enum Job {
    Chunk {
        batch: Batch,
        tick: Option<(u64, Timestamp)>,
    },
    Finish {
        end_cnt: u64,
    },
}

struct ChunkOut {
    events: EventBuf,
    /// The capture time of the timeout check that ended this chunk, if one did.
    tick: Option<Timestamp>,
    /// The emptied batch, handed back so the reader reuses its buffers instead of allocating
    /// (and page-faulting) a megabyte per chunk.
    spare: Option<Batch>,
    finished: Option<Finished>,
}

type Finished = (Counters, BTreeMap<(u32, &'static str), AlertTally>);

struct ThreadedSink<'o> {
    jobs: Vec<crossbeam_channel::Sender<Job>>,
    results: Vec<crossbeam_channel::Receiver<ChunkOut>>,
    batches: Vec<Batch>,
    /// Chunks handed to workers whose results have not been merged yet.
    in_flight: usize,
    out: &'o mut dyn Write,
    finished: Finished,
    spares: Vec<Vec<Batch>>,
    post: Post,
}

/// Chunks a worker may run ahead of the merge; bounds memory on large captures.
const MAX_IN_FLIGHT: usize = 3;

impl<'o> ThreadedSink<'o> {
    fn start<'scope, 'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        threads: usize,
        cfg: &'env ScanConfig,
        shared: &'env Arc<Shared>,
        out: &'o mut dyn Write,
        post: Post,
    ) -> ThreadedSink<'o> {
        let mut jobs = Vec::new();
        let mut results = Vec::new();
        for w in 0..threads {
            let (jtx, jrx) = crossbeam_channel::bounded::<Job>(MAX_IN_FLIGHT + 1);
            let (rtx, rrx) = crossbeam_channel::bounded::<ChunkOut>(MAX_IN_FLIGHT + 2);
            let mut worker = Worker::new(w, threads, cfg, shared.clone());
            scope.spawn(move || {
                for job in jrx {
                    let mut spare = None;
                    let mut chunk_tick = None;
                    let finished = match job {
                        Job::Chunk { mut batch, tick } => {
                            worker.process_batch(&batch);
                            if let Some((cnt, now)) = tick {
                                worker.tick(cnt, now);
                                chunk_tick = Some(now);
                            }
                            batch.data.clear();
                            batch.pkts.clear();
                            spare = Some(batch);
                            None
                        }
                        Job::Finish { end_cnt } => {
                            worker.finish(end_cnt);
                            Some((
                                std::mem::take(&mut worker.counters),
                                std::mem::take(&mut worker.tallies),
                            ))
                        }
                    };
                    let last = finished.is_some();
                    let events = std::mem::take(&mut worker.events);
                    if rtx
                        .send(ChunkOut {
                            events,
                            tick: chunk_tick,
                            spare,
                            finished,
                        })
                        .is_err()
                        || last
                    {
                        return;
                    }
                }
            });
            jobs.push(jtx);
            results.push(rrx);
        }
        ThreadedSink {
            jobs,
            batches: (0..threads).map(|_| Batch::default()).collect(),
            results,
            in_flight: 0,
            out,
            finished: Default::default(),
            spares: (0..threads).map(|_| Vec::new()).collect(),
            post,
        }
    }

    fn send(&mut self, job: impl Fn(Batch) -> Job) -> io::Result<()> {
        for (w, tx) in self.jobs.iter().enumerate() {
            let next = self.spares[w].pop().unwrap_or_default();
            let batch = std::mem::replace(&mut self.batches[w], next);
            tx.send(job(batch))
                .map_err(|_| io::Error::other("worker stopped"))?;
        }
        self.in_flight += 1;
        Ok(())
    }

    /// Waits for the oldest chunk from every worker and writes it in key order.
    fn merge_oldest(&mut self) -> io::Result<()> {
        let mut outs = Vec::with_capacity(self.results.len());
        for rx in &self.results {
            outs.push(rx.recv().map_err(|_| io::Error::other("worker stopped"))?);
        }
        self.in_flight -= 1;
        let mut all: Vec<(EventKey, usize, usize, usize, u32)> = Vec::new();
        for (w, o) in outs.iter().enumerate() {
            all.extend(
                o.events
                    .index
                    .iter()
                    .map(|(k, s, e, a)| (*k, w, *s as usize, *e as usize, *a)),
            );
        }
        all.sort_unstable_by_key(|(k, ..)| *k);
        for (_, w, s, e, a) in all {
            let ev = &outs[w].events;
            self.post
                .write(&ev.buf[s..e], ev.aux.get(a as usize), &mut *self.out)?;
        }
        if let Some(now) = outs.iter().find_map(|o| o.tick) {
            self.post.tick(now, &mut *self.out)?;
        }
        for (w, o) in outs.into_iter().enumerate() {
            if let Some(b) = o.spare {
                self.spares[w].push(b);
            }
            if let Some((c, t)) = o.finished {
                self.finished.0.merge(&c);
                for (k, v) in t {
                    self.finished
                        .1
                        .entry(k)
                        .and_modify(|e| e.count += v.count)
                        .or_insert(v);
                }
            }
        }
        Ok(())
    }

    fn finish(mut self, packets: u64, last_ts: Timestamp) -> io::Result<Finished> {
        self.send(|batch| Job::Chunk { batch, tick: None })?;
        self.send(|_| Job::Finish {
            end_cnt: packets + 1,
        })?;
        while self.in_flight > 0 {
            self.merge_oldest()?;
        }
        let mut fin = self.finished;
        self.post.finish(last_ts, &mut *self.out, &mut fin)?;
        Ok(fin)
    }
}

impl Sink for ThreadedSink<'_> {
    fn packet(
        &mut self,
        meta: PktMeta,
        linktype: u32,
        frame: &[u8],
        _decoded: &Decoded<'_>,
    ) -> io::Result<()> {
        let w = meta.shard as usize % self.jobs.len();
        let b = &mut self.batches[w];
        let start = b.data.len() as u32;
        b.data.extend_from_slice(frame);
        b.pkts.push((meta, linktype, start, b.data.len() as u32));
        Ok(())
    }

    fn tick(&mut self, pcap_cnt: u64, now: Timestamp) -> io::Result<()> {
        self.send(|batch| Job::Chunk {
            batch,
            tick: Some((pcap_cnt, now)),
        })?;
        while self.in_flight > MAX_IN_FLIGHT {
            self.merge_oldest()?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Merge stage: what needs capture order across shards.

/// Applies rate limits to rule alerts and runs the behaviour models, in merged (capture)
/// order, so both are independent of the thread count.
struct Post {
    sigs: Arc<SignatureSet>,
    thresholds: Thresholds,
    policy: AlertPolicy,
    models: Option<Models>,
    types: EventTypes,
    dets: Vec<crate::models::Detection>,
    /// Rule alerts dropped here, by (sid, tally field).
    suppressed: BTreeMap<u32, u64>,
    model_alerts: u64,
    model_tallies: BTreeMap<(u32, &'static str), AlertTally>,
    line: Vec<u8>,
}

impl Post {
    fn new(
        sigs: Arc<SignatureSet>,
        models: Option<Models>,
        policy: AlertPolicy,
        types: EventTypes,
    ) -> Post {
        Post {
            sigs,
            thresholds: Thresholds::default(),
            policy,
            models,
            types,
            dets: Vec::new(),
            suppressed: BTreeMap::new(),
            model_alerts: 0,
            model_tallies: BTreeMap::new(),
            line: Vec::new(),
        }
    }

    fn write(&mut self, bytes: &[u8], aux: Option<&Aux>, out: &mut dyn Write) -> io::Result<()> {
        match aux {
            None => out.write_all(bytes),
            Some(Aux::Alert { sig, facts }) => {
                let s = &self.sigs.sigs[*sig as usize];
                let keep = if self.policy.suppressed(s.gid, s.sid, facts) {
                    false
                } else {
                    match self.policy.limit(s.gid, s.sid).or(s.limit.as_ref()) {
                        Some(limit) => self.thresholds.admit(*sig, limit, facts),
                        None => true,
                    }
                };
                if keep {
                    out.write_all(bytes)
                } else {
                    *self.suppressed.entry(s.sid).or_default() += 1;
                    Ok(())
                }
            }
            Some(Aux::Obs(o)) => {
                out.write_all(bytes)?;
                if let Some(m) = self.models.as_mut() {
                    m.observe(&o.as_observation(), &mut self.dets);
                }
                self.write_detections(out)
            }
        }
    }

    fn tick(&mut self, now: Timestamp, out: &mut dyn Write) -> io::Result<()> {
        if let Some(m) = self.models.as_mut() {
            m.tick(now, &mut self.dets);
        }
        self.write_detections(out)
    }

    fn finish(
        &mut self,
        now: Timestamp,
        out: &mut dyn Write,
        fin: &mut Finished,
    ) -> io::Result<()> {
        if let Some(m) = self.models.as_mut() {
            m.finish(now, &mut self.dets);
        }
        self.write_detections(out)?;
        let (counters, tallies) = fin;
        let dropped: u64 = self.suppressed.values().sum();
        counters.alerts = counters.alerts - dropped + self.model_alerts;
        if counters.events.contains_key("alert") || self.model_alerts > 0 {
            let e = counters.events.entry("alert").or_default();
            *e = (*e + self.model_alerts).saturating_sub(dropped);
        }
        for (sid, n) in &self.suppressed {
            if let Some(t) = tallies.get_mut(&(*sid, "rule")) {
                t.count = t.count.saturating_sub(*n);
            }
        }
        for (k, t) in std::mem::take(&mut self.model_tallies) {
            tallies
                .entry(k)
                .and_modify(|e| e.count += t.count)
                .or_insert(t);
        }
        Ok(())
    }

    fn write_detections(&mut self, out: &mut dyn Write) -> io::Result<()> {
        for d in self.dets.drain(..) {
            self.model_alerts += 1;
            self.model_tallies
                .entry((d.signature_id, d.model))
                .and_modify(|t| t.count += 1)
                .or_insert_with(|| AlertTally {
                    signature_id: d.signature_id,
                    signature: d.signature.clone(),
                    severity: d.severity,
                    matched_field: d.model,
                    source: "vigil-models".to_string(),
                    count: 1,
                });
            if !self.types.contains(EventType::Alert) {
                continue;
            }
            let ev = serde_json::json!({
                "timestamp": eve::timestamp_string(d.ts),
                "event_type": "alert",
                "src_ip": d.src,
                "dest_ip": d.dst,
                "dest_port": d.dst_port,
                "alert": {
                    "action": "allowed",
                    "gid": 1,
                    "signature_id": d.signature_id,
                    "rev": 1,
                    "signature": d.signature,
                    "category": "Behavioural Threat Model",
                    "severity": d.severity,
                },
                "vigil": {
                    "source": "vigil-models",
                    "model": d.model,
                    "confidence": d.confidence,
                    "attack": d.attack,
                    "evidence": d.evidence,
                },
            });
            self.line.clear();
            serde_json::to_writer(&mut self.line, &ev).map_err(io::Error::other)?;
            self.line.push(b'\n');
            out.write_all(&self.line)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Events

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct EventKey {
    pcap_cnt: u64,
    /// 0: caused by a packet; 1: timeout sweep or shutdown after that packet.
    phase: u8,
    shard: u16,
    seq: u64,
}

#[derive(Default)]
struct EventBuf {
    buf: Vec<u8>,
    /// Key, byte span in `buf`, and index in `aux` (or [`NO_AUX`]).
    index: Vec<(EventKey, u32, u32, u32)>,
    /// What the merge stage needs beyond the bytes: rate-limited alerts and model
    /// observations. An observation alone has an empty byte span.
    aux: Vec<Aux>,
}

const NO_AUX: u32 = u32::MAX;

/// Work for the merge stage, which sees events in capture order across all shards.
enum Aux {
    /// An alert of a rate-limited rule: kept or dropped by [`Post`].
    Alert { sig: u32, facts: AlertFacts },
    /// An input for the behaviour models.
    Obs(Obs),
}

/// An owned [`Observation`].
enum Obs {
    FlowStart {
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        dst_port: u16,
        proto: u8,
    },
    FlowEnd {
        ts: Timestamp,
        src: IpAddr,
        dst: IpAddr,
        dst_port: u16,
        proto: u8,
        pkts: [u64; 2],
        bytes: [u64; 2],
    },
    DnsQuery {
        ts: Timestamp,
        src: IpAddr,
        name: Box<str>,
        rrtype: u16,
    },
}

impl Obs {
    fn as_observation(&self) -> Observation<'_> {
        match self {
            Obs::FlowStart {
                ts,
                src,
                dst,
                dst_port,
                proto,
            } => Observation::FlowStart {
                ts: *ts,
                src: *src,
                dst: *dst,
                dst_port: *dst_port,
                proto: *proto,
            },
            Obs::FlowEnd {
                ts,
                src,
                dst,
                dst_port,
                proto,
                pkts,
                bytes,
            } => Observation::FlowEnd {
                ts: *ts,
                src: *src,
                dst: *dst,
                dst_port: *dst_port,
                proto: *proto,
                pkts_toserver: pkts[0],
                pkts_toclient: pkts[1],
                bytes_toserver: bytes[0],
                bytes_toclient: bytes[1],
            },
            Obs::DnsQuery {
                ts,
                src,
                name,
                rrtype,
            } => Observation::DnsQuery {
                ts: *ts,
                src: *src,
                name,
                rrtype: *rrtype,
            },
        }
    }
}

/// Where the next events go, and under which key.
struct Emitter {
    types: EventTypes,
    key: EventKey,
}

// ---------------------------------------------------------------------------------------------
// Workers

struct Worker {
    shards: Vec<Option<Shard>>,
    shared: Arc<Shared>,
    cfg: ScanConfig,
    events: EventBuf,
    emit: Emitter,
    counters: Counters,
    tallies: BTreeMap<(u32, &'static str), AlertTally>,
    sx: SigScratch,
    /// Runtime dataset `set`/`unset` changes. Rules that make them force a single worker
    /// (see [`scan`]), so this is the one global overlay, applied in capture order.
    overlay: DataOverlayMap,
}

struct Shard {
    flows: FlowTable<FlowEntry>,
}

use signatures::DataOverlayMap;

/// Reused rule-evaluation buffers.
#[derive(Default)]
struct SigScratch {
    scratch: signatures::Scratch,
    hits: Vec<signatures::Hit>,
}

impl Worker {
    fn new(index: usize, threads: usize, cfg: &ScanConfig, shared: Arc<Shared>) -> Worker {
        let per_shard = (cfg.max_flows / SHARDS).max(16);
        Worker {
            shards: (0..SHARDS)
                .map(|s| {
                    (s % threads == index).then(|| Shard {
                        flows: FlowTable::new(per_shard),
                    })
                })
                .collect(),
            shared,
            cfg: cfg.clone(),
            events: EventBuf::default(),
            emit: Emitter {
                types: cfg.event_types,
                key: EventKey {
                    pcap_cnt: 0,
                    phase: 0,
                    shard: 0,
                    seq: 0,
                },
            },
            counters: Counters::default(),
            tallies: BTreeMap::new(),
            sx: SigScratch::default(),
            overlay: DataOverlayMap::default(),
        }
    }

    fn process_batch(&mut self, batch: &Batch) {
        for &(meta, linktype, s, e) in &batch.pkts {
            let frame = &batch.data[s as usize..e as usize];
            let outcome = if linktype == LINK_REASSEMBLED {
                let (Some(v), Some(n), Some(dgram)) =
                    (frame.get(..4), frame.get(4), frame.get(5..))
                else {
                    continue;
                };
                let vlan = [
                    u16::from_be_bytes([v[0], v[1]]),
                    u16::from_be_bytes([v[2], v[3]]),
                ];
                decode::decode_ip(dgram, vlan, *n)
            } else {
                decode::decode(linktype, frame)
            };
            if let Ok(DecodeOutcome::Packet(d)) = outcome {
                self.process(meta, &d);
            }
        }
    }

    /// The context for one shard's work.
    #[allow(clippy::too_many_arguments)]
    fn cx<'a>(
        shared: &'a Shared,
        cfg: &'a ScanConfig,
        events: &'a mut EventBuf,
        emit: &'a mut Emitter,
        counters: &'a mut Counters,
        tallies: &'a mut BTreeMap<(u32, &'static str), AlertTally>,
        sx: &'a mut SigScratch,
        overlay: &'a mut DataOverlayMap,
    ) -> Cx<'a> {
        Cx {
            events,
            emit,
            counters,
            tallies,
            tables: &shared.tables,
            sigs: &shared.sigs,
            observe: shared.observe,
            cfg,
            sx,
            overlay,
            payload: &[],
            pkt_alerts: 0,
            headers: (&[], &[]),
        }
    }

    fn process(&mut self, meta: PktMeta, d: &Decoded<'_>) {
        let Worker {
            shards,
            shared,
            cfg,
            events,
            emit,
            counters,
            tallies,
            sx,
            overlay,
        } = self;
        let Some(shard) = shards[meta.shard as usize].as_mut() else {
            return;
        };
        emit.key = EventKey {
            pcap_cnt: meta.pcap_cnt,
            phase: 0,
            shard: meta.shard,
            seq: emit.key.seq,
        };
        let mut cx = Worker::cx(shared, cfg, events, emit, counters, tallies, sx, overlay);
        let (sport, dport) = ports(d);
        let (key, _) = FlowKey::new(d.src, d.dst, sport, dport, d.ip_proto, d.vlan);
        let tcp_flags = match &d.l4 {
            L4::Tcp(t) => Some(t.flags),
            _ => None,
        };
        if shard.flows.get_mut(&key).is_none() {
            for evicted in shard.flows.make_room() {
                cx.counters.flows_evicted += 1;
                cx.end_flow(evicted, EndReason::Forced, meta.ts);
            }
            // A SYN-ACK seen first means its receiver opened the connection.
            let syn_ack = tcp_flags.is_some_and(|f| {
                f & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN | tcp_flags::ACK
            });
            let (client, server) = if syn_ack {
                ((d.dst, dport), (d.src, sport))
            } else {
                ((d.src, sport), (d.dst, dport))
            };
            let mut core = FlowCore::new(key, client, server, d.ip_proto, meta.ts, meta.pcap_cnt);
            if let L4::Icmp {
                icmp_type, code, ..
            } = d.l4
            {
                core.icmp = Some((icmp_type, code));
            }
            cx.counters.flows += 1;
            let entry = shard.flows.insert(key, FlowEntry::new(core));
            if let Some(f) = tcp_flags {
                let opening = f & tcp_flags::SYN != 0 && f & tcp_flags::ACK == 0;
                if !opening {
                    // Picked up mid-stream, as Suricata's stream.midstream does.
                    entry.tracked = cx.cfg.midstream;
                    entry.tcp.established = cx.cfg.midstream;
                    entry.inspect = cx.cfg.midstream_policy == MidstreamPolicy::Ignore;
                }
            }
            if cx.observe {
                let c = &entry.core;
                cx.observe(Obs::FlowStart {
                    ts: meta.ts,
                    src: c.client,
                    dst: c.server,
                    dst_port: c.server_port,
                    proto: c.proto,
                });
            }
            cx.match_flow_ips(entry, meta, d);
        }
        let Some(entry) = shard.flows.get_mut(&key) else {
            return;
        };
        let dir = entry.core.direction_of(d.src, sport);
        entry.core.update(dir, meta.ts, d.ip_len, tcp_flags);
        // In IDS mode stream data reaches the app layer when it is acknowledged, so a packet
        // only sees the protocol detected by an earlier one (UDP is parsed at once).
        let app_before = entry.proto;
        let l4_header = match &d.l4 {
            L4::Tcp(_) => {
                let len = d.l4_bytes.get(12).map_or(0, |b| usize::from(b >> 4) * 4);
                d.l4_bytes.get(..len).unwrap_or_default()
            }
            L4::Udp { .. } | L4::Icmp { .. } => d.l4_bytes.get(..8).unwrap_or_default(),
            L4::Other { .. } => &[],
        };
        cx.headers = (d.ip_header, l4_header);
        cx.payload = match &d.l4 {
            L4::Tcp(t) => t.payload,
            L4::Udp { payload, .. } | L4::Icmp { payload, .. } | L4::Other { payload } => payload,
        };
        match &d.l4 {
            L4::Tcp(seg) => cx.tcp(entry, dir, meta, seg),
            L4::Udp { payload, .. } => cx.udp(entry, dir, meta, sport, dport, payload),
            _ => {}
        }
        if !cx.sigs.is_empty() && entry.inspect {
            cx.packet_rules(entry, dir, meta, d, app_before);
        }
        // The packet completing the handshake is not yet `established` (as in Suricata).
        if let Some(f) = tcp_flags {
            track_handshake(&mut entry.tcp, dir, f, cx.cfg.async_oneside);
        }
    }

    fn tick(&mut self, pcap_cnt: u64, now: Timestamp) {
        let Worker {
            shards,
            shared,
            cfg,
            events,
            emit,
            counters,
            tallies,
            sx,
            overlay,
        } = self;
        for (id, shard) in shards.iter_mut().enumerate() {
            let Some(shard) = shard else { continue };
            emit.key = EventKey {
                pcap_cnt,
                phase: 1,
                shard: id as u16,
                seq: emit.key.seq,
            };
            let expired = shard.flows.expire(now, &cfg.timeouts);
            let mut cx = Worker::cx(shared, cfg, events, emit, counters, tallies, sx, overlay);
            for f in expired {
                cx.counters.flows_timed_out += 1;
                let last = f.core.last;
                cx.end_flow(f, EndReason::Timeout, last);
            }
        }
    }

    fn finish(&mut self, end_cnt: u64) {
        let Worker {
            shards,
            shared,
            cfg,
            events,
            emit,
            counters,
            tallies,
            sx,
            overlay,
        } = self;
        for (id, shard) in shards.iter_mut().enumerate() {
            let Some(shard) = shard else { continue };
            emit.key = EventKey {
                pcap_cnt: end_cnt,
                phase: 1,
                shard: id as u16,
                seq: emit.key.seq,
            };
            let mut cx = Worker::cx(shared, cfg, events, emit, counters, tallies, sx, overlay);
            for f in shard.flows.drain_all() {
                let last = f.core.last;
                cx.end_flow(f, EndReason::Shutdown, last);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Per-flow state

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AppProto {
    Unknown,
    Http,
    Tls,
    Dns,
    Failed,
}

impl AppProto {
    fn as_str(self) -> Option<&'static str> {
        match self {
            AppProto::Unknown => None,
            AppProto::Http => Some("http"),
            AppProto::Tls => Some("tls"),
            AppProto::Dns => Some("dns"),
            AppProto::Failed => Some("failed"),
        }
    }
}

enum App {
    /// Protocol not decided yet; holds the first bytes of each direction.
    Detecting([Vec<u8>; 2]),
    Http(Box<HttpState>),
    Tls(Box<TlsState>),
    DnsTcp(Box<[dns::TcpDnsFramer; 2]>),
    None,
}

struct FlowEntry {
    core: FlowCore,
    proto: AppProto,
    app: App,
    streams: [Stream; 2],
    community_id: Option<Box<str>>,
    bits: FlowBits,
    /// TCP handshake progress, for `flow:established`.
    tcp: TcpTrack,
    /// Stream reassembly and app-layer parsing run (false for a mid-stream session when
    /// mid-stream pick-up is off).
    tracked: bool,
    /// Rules and indicators are evaluated (false under a no-inspection midstream policy).
    inspect: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct TcpTrack {
    syn: bool,
    syn_ack: bool,
    established: bool,
}

impl HasCore for FlowEntry {
    fn core(&self) -> &FlowCore {
        &self.core
    }
}

impl FlowEntry {
    fn new(core: FlowCore) -> Self {
        FlowEntry {
            core,
            proto: AppProto::Unknown,
            app: App::Detecting([Vec::new(), Vec::new()]),
            streams: [Stream::new(), Stream::new()],
            community_id: None,
            bits: FlowBits::default(),
            tcp: TcpTrack::default(),
            tracked: true,
            inspect: true,
        }
    }
}

struct HttpTx {
    event: eve::HttpEvent,
    request_cnt: u64,
    response_seen: bool,
}

#[derive(Default)]
struct HttpState {
    bufs: [Vec<u8>; 2],
    bodies: [Option<http::BodySkipper>; 2],
    txs: VecDeque<HttpTx>,
    /// Index in `txs` of the transaction whose response body is being skipped.
    open_response: Option<usize>,
}

#[derive(Default)]
struct TlsState {
    readers: [tls::HandshakeReader; 2],
    event: eve::TlsEvent,
    client_seen: bool,
    logged: bool,
}

const MAX_HTTP_TXS: usize = 256;

/// Context for one packet or sweep: the worker's outputs plus read-only configuration.
struct Cx<'a> {
    events: &'a mut EventBuf,
    emit: &'a mut Emitter,
    counters: &'a mut Counters,
    tallies: &'a mut BTreeMap<(u32, &'static str), AlertTally>,
    tables: &'a IndicatorTables,
    sigs: &'a SignatureSet,
    observe: bool,
    cfg: &'a ScanConfig,
    sx: &'a mut SigScratch,
    overlay: &'a mut DataOverlayMap,
    /// Payload of the packet being processed (empty in timeout sweeps).
    payload: &'a [u8],
    /// Rule alerts written for this packet so far (see `packet_alert_max`).
    pkt_alerts: usize,
    /// The packet's IP and transport headers (empty in timeout sweeps).
    headers: (&'a [u8], &'a [u8]),
}

/// The app-layer record an alert is attached to.
#[derive(Clone, Copy)]
enum AppRef<'a> {
    None,
    Dns(&'a eve::DnsEvent),
    Tls(&'a eve::TlsEvent),
    Http(&'a eve::HttpEvent),
}

impl Cx<'_> {
    fn write_event<B: Serialize>(&mut self, ty: EventType, header: eve::Header<'_>, body: B) {
        *self.counters.events.entry(ty.as_str()).or_default() += 1;
        if !self.emit.types.contains(ty) {
            return;
        }
        let start = self.events.buf.len() as u32;
        let ev = eve::Event { header, body };
        // Serialising plain structs into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.events.buf, &ev);
        self.events.buf.push(b'\n');
        self.emit.key.seq += 1;
        self.events
            .index
            .push((self.emit.key, start, self.events.buf.len() as u32, NO_AUX));
    }

    /// Hands the last written event to the merge stage with `aux` (an alert to rate-limit).
    fn attach_aux(&mut self, aux: Aux) {
        if let Some(last) = self.events.index.last_mut() {
            if last.3 == NO_AUX && last.0 == self.emit.key {
                last.3 = self.events.aux.len() as u32;
                self.events.aux.push(aux);
            }
        }
    }

    /// Queues an observation for the behaviour models, in capture order.
    fn observe(&mut self, obs: Obs) {
        self.emit.key.seq += 1;
        let at = self.events.buf.len() as u32;
        self.events
            .index
            .push((self.emit.key, at, at, self.events.aux.len() as u32));
        self.events.aux.push(Aux::Obs(obs));
    }

    /// Writes a flow's `tls` event, oriented client to server as Suricata logs it.
    fn write_tls(
        &mut self,
        entry: &mut FlowEntry,
        ev: &eve::TlsEvent,
        ts: Timestamp,
        pcap_cnt: Option<u64>,
    ) {
        let header = self.header(
            entry,
            EventType::Tls,
            Some(Direction::ToServer),
            ts,
            pcap_cnt,
        );
        self.write_event(EventType::Tls, header, TlsBody { tls: ev });
    }

    fn header<'e>(
        &self,
        entry: &'e mut FlowEntry,
        ty: EventType,
        dir: Option<Direction>,
        ts: Timestamp,
        pcap_cnt: Option<u64>,
    ) -> eve::Header<'e> {
        let core = &entry.core;
        let (src, sp, dst, dp) = match dir {
            Some(Direction::ToClient) => {
                (core.server, core.server_port, core.client, core.client_port)
            }
            _ => (core.client, core.client_port, core.server, core.server_port),
        };
        let has_ports = matches!(core.proto, PROTO_TCP | PROTO_UDP | PROTO_SCTP);
        let icmp = matches!(core.proto, PROTO_ICMP | PROTO_ICMPV6)
            .then_some(core.icmp)
            .flatten();
        let cid = entry
            .community_id
            .get_or_insert_with(|| core.community_id().into_boxed_str());
        eve::Header {
            timestamp: eve::timestamp_string(ts),
            flow_id: Some(core.flow_id),
            pcap_cnt,
            event_type: ty.as_str(),
            src_ip: src,
            src_port: has_ports.then_some(sp),
            dest_ip: dst,
            dest_port: has_ports.then_some(dp),
            ip_v: if src.is_ipv4() { 4 } else { 6 },
            proto: eve::proto_name(core.proto),
            icmp_type: icmp.map(|i| i.0),
            icmp_code: icmp.map(|i| i.1),
            app_proto: entry.proto.as_str(),
            direction: dir.map(|d| match d {
                Direction::ToServer => "to_server",
                Direction::ToClient => "to_client",
            }),
            community_id: Some(cid),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn alert(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        id: IndicatorId,
        matched_field: &'static str,
        app: AppRef<'_>,
    ) {
        let tables = self.tables;
        let ind = tables.get(id);
        // Confidence at the time the traffic was seen: base × source reliability × decay.
        let score = ind.score_at(meta.ts.secs);
        let explanation = score.explanation();
        entry.core.alerted = true;
        self.counters.alerts += 1;
        let sid = indicator_sid(ind.kind.as_str(), ind.value);
        let signature = match ind.name {
            Some(n) => format!("VIGIL INTEL {} {} ({})", ind.kind, ind.value, n),
            None => format!("VIGIL INTEL {} {}", ind.kind, ind.value),
        };
        self.tallies
            .entry((sid, matched_field))
            .and_modify(|t| t.count += 1)
            .or_insert_with(|| AlertTally {
                signature_id: sid,
                signature: signature.clone(),
                severity: ind.severity.get(),
                matched_field,
                source: ind.source.to_string(),
                count: 1,
            });
        let mut metadata = BTreeMap::new();
        metadata.insert("vigil_source", vec![ind.source.to_string()]);
        metadata.insert("vigil_indicator_type", vec![ind.kind.as_str().to_string()]);
        metadata.insert("vigil_confidence", vec![score.value.to_string()]);
        let body = eve::AlertBody {
            alert: eve::AlertInfo {
                action: "allowed",
                gid: 1,
                signature_id: sid,
                rev: 1,
                signature: &signature,
                category: "Threat Intelligence Indicator Match",
                severity: ind.severity.get(),
                metadata: Some(&metadata),
                source: None,
                target: None,
                context: None,
                rule: None,
            },
            vigil: eve::VigilInfo {
                indicator: eve::IndicatorInfo {
                    kind: ind.kind.as_str(),
                    value: ind.value,
                    id: ind.stix_id,
                    name: ind.name,
                },
                source: ind.source,
                confidence: score.value,
                score: &explanation,
                reliability: ind.reliability.map(|r| r.as_str()),
                matched_field,
            },
            record: self.alert_record(entry, meta, app),
        };
        self.write_alert(entry, dir, meta, body);
    }

    fn match_flow_ips(&mut self, entry: &mut FlowEntry, meta: PktMeta, d: &Decoded<'_>) {
        if self.tables.is_empty() {
            return;
        }
        let dir = entry.core.direction_of(d.src, ports(d).0);
        for (ip, field) in [(d.src, "src_ip"), (d.dst, "dest_ip")] {
            if let Some(id) = self.tables.match_ip(ip) {
                self.alert(entry, dir, meta, id, field, AppRef::None);
            }
        }
    }

    fn end_flow(&mut self, mut entry: FlowEntry, reason: EndReason, ts: Timestamp) {
        // Transactions still open at the end are logged with what was seen.
        if let App::Http(h) = &mut entry.app {
            let txs = std::mem::take(&mut h.txs);
            for tx in txs {
                self.log_http(&mut entry, tx, ts);
            }
        }
        if let App::Tls(t) = &mut entry.app {
            if t.client_seen && !t.logged {
                t.logged = true;
                let ev = std::mem::take(&mut t.event);
                self.write_tls(&mut entry, &ev, ts, None);
            }
        }
        let core = &entry.core;
        if self.observe {
            let obs = Obs::FlowEnd {
                ts: core.last,
                src: core.client,
                dst: core.server,
                dst_port: core.server_port,
                proto: core.proto,
                pkts: core.pkts,
                bytes: core.bytes,
            };
            self.observe(obs);
        }
        let core = &entry.core;
        let age = core.last.secs - core.start.secs;
        let flow = eve::FlowInfo {
            pkts_toserver: core.pkts[0],
            pkts_toclient: core.pkts[1],
            bytes_toserver: core.bytes[0],
            bytes_toclient: core.bytes[1],
            start: eve::timestamp_string(core.start),
            end: eve::timestamp_string(core.last),
            age,
            state: core.state.as_str(),
            reason: reason.as_str(),
            alerted: core.alerted,
        };
        let tcp = (core.proto == PROTO_TCP)
            .then(|| eve::TcpInfo::from_flags(core.tcp_flags[0], core.tcp_flags[1]));
        self.counters.stream_gaps += entry.streams.iter().map(|s| s.stats.dropped).sum::<u64>();
        let ts = core.last;
        let header = self.header(&mut entry, EventType::Flow, None, ts, None);
        self.write_event(EventType::Flow, header, eve::FlowBody { flow, tcp });
    }

    // --- UDP ---------------------------------------------------------------------------------

    fn udp(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        sport: u16,
        dport: u16,
        payload: &[u8],
    ) {
        if payload.is_empty() || !is_dns_port(sport, dport) {
            if entry.proto == AppProto::Unknown && !payload.is_empty() {
                entry.app = App::None;
            }
            return;
        }
        match dns::parse_message(payload) {
            Ok(msg) => {
                if entry.proto != AppProto::Dns {
                    entry.proto = AppProto::Dns;
                    self.counters.app_dns_udp += 1;
                }
                self.dns(entry, dir, meta, &msg);
            }
            Err(_) => self.counters.dns_parse_errors += 1,
        }
    }

    fn dns(&mut self, entry: &mut FlowEntry, dir: Direction, meta: PktMeta, msg: &dns::DnsMessage) {
        let ev = dns_event(msg);
        if !msg.is_response {
            let src = match dir {
                Direction::ToServer => entry.core.client,
                Direction::ToClient => entry.core.server,
            };
            for q in &msg.queries {
                if self.observe {
                    self.observe(Obs::DnsQuery {
                        ts: meta.ts,
                        src,
                        name: q.rrname.as_str().into(),
                        rrtype: q.rrtype,
                    });
                }
                if self.sigs.has_hook(Hook::DnsRequest) {
                    let bufs = Buffers {
                        dns_query: Some(q.rrname.as_bytes()),
                        ..Default::default()
                    };
                    self.app_rules(entry, dir, meta, Hook::DnsRequest, &bufs, AppRef::Dns(&ev));
                }
            }
        }
        if !self.tables.is_empty() {
            if !msg.is_response {
                for q in &msg.queries {
                    if let Some(id) = self.tables.match_domain(&q.rrname) {
                        self.alert(entry, dir, meta, id, "dns.query", AppRef::Dns(&ev));
                    }
                }
            } else {
                for a in &msg.answers {
                    let hit = match &a.rdata {
                        dns::RData::A(ip) => self.tables.match_ip(IpAddr::V4(*ip)),
                        dns::RData::Aaaa(ip) => self.tables.match_ip(IpAddr::V6(*ip)),
                        dns::RData::Name(n) => self.tables.match_domain(n),
                        _ => None,
                    };
                    if let Some(id) = hit {
                        self.alert(entry, dir, meta, id, "dns.answers.rdata", AppRef::Dns(&ev));
                    }
                }
            }
        }
        let header = self.header(
            entry,
            EventType::Dns,
            Some(dir),
            meta.ts,
            Some(meta.pcap_cnt),
        );
        self.write_event(EventType::Dns, header, DnsBody { dns: &ev });
    }

    // --- TCP ---------------------------------------------------------------------------------

    fn tcp(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        seg: &decode::TcpSegment<'_>,
    ) {
        if !entry.tracked {
            return;
        }
        let i = dir.index();
        if seg.flags & tcp_flags::SYN != 0 {
            entry.streams[i].on_syn(seg.seq);
        }
        if seg.payload.is_empty() || entry.streams[i].is_done() {
            return;
        }
        let seq = if seg.flags & tcp_flags::SYN != 0 {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        // The stream is taken out of the entry while it delivers, so the parser can borrow the
        // rest of the flow; in-order bytes are never copied.
        let limits = self.cfg.stream;
        let mut stream = std::mem::take(&mut entry.streams[i]);
        stream.push(seq, seg.payload, &limits, |data| {
            self.app_data(entry, dir, meta, data)
        });
        entry.streams[i] = stream;
        if matches!(entry.app, App::None) {
            entry.streams[0].finish();
            entry.streams[1].finish();
        }
    }

    /// Feeds in-order stream bytes to the flow's app-layer parser; returns whether this
    /// direction still wants data.
    fn app_data(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        data: &[u8],
    ) -> bool {
        if let App::Detecting(bufs) = &mut entry.app {
            let buf = &mut bufs[dir.index()];
            buf.extend_from_slice(data);
            let probe = buf.as_slice();
            let dns_port = is_dns_port(entry.core.client_port, entry.core.server_port);
            // The probes accept any prefix that could still match, so "no" is final while a
            // short "yes" waits for a few more bytes.
            let http_probe = match dir {
                Direction::ToServer => http::looks_like_request(probe),
                Direction::ToClient => http::looks_like_response(probe),
            };
            let decided = if dns_port {
                Some(AppProto::Dns)
            } else if tls::looks_like_tls(probe) {
                (probe.len() >= 5).then_some(AppProto::Tls)
            } else if http_probe {
                (probe.len() >= 8 || probe.contains(&b' ')).then_some(AppProto::Http)
            } else {
                Some(AppProto::Failed)
            };
            let Some(proto) = decided else { return true };
            let pending = std::mem::take(bufs);
            entry.proto = proto;
            entry.app = match proto {
                AppProto::Http => {
                    self.counters.app_http += 1;
                    App::Http(Box::default())
                }
                AppProto::Tls => {
                    self.counters.app_tls += 1;
                    App::Tls(Box::default())
                }
                AppProto::Dns => {
                    self.counters.app_dns_tcp += 1;
                    App::DnsTcp(Box::new([
                        dns::TcpDnsFramer::new(),
                        dns::TcpDnsFramer::new(),
                    ]))
                }
                _ => {
                    self.counters.app_failed += 1;
                    App::None
                }
            };
            if matches!(entry.app, App::None) {
                return false;
            }
            // Replay what was buffered in both directions, to-server first.
            let mut wants = true;
            for d in [Direction::ToServer, Direction::ToClient] {
                let bytes = &pending[d.index()];
                if !bytes.is_empty() {
                    let w = self.app_parse(entry, d, meta, bytes);
                    if d == dir {
                        wants = w;
                    }
                }
            }
            return wants;
        }
        self.app_parse(entry, dir, meta, data)
    }

    fn app_parse(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        data: &[u8],
    ) -> bool {
        match &mut entry.app {
            App::Http(_) => self.http(entry, dir, meta, data),
            App::Tls(_) => self.tls(entry, dir, meta, data),
            App::DnsTcp(framers) => {
                let framer = &mut framers[dir.index()];
                framer.push(data);
                let mut msgs = Vec::new();
                while let Some(m) = framer.next_message() {
                    msgs.push(m);
                }
                for m in msgs {
                    match dns::parse_message(&m) {
                        Ok(msg) => self.dns(entry, dir, meta, &msg),
                        Err(_) => self.counters.dns_parse_errors += 1,
                    }
                }
                true
            }
            App::Detecting(_) | App::None => false,
        }
    }

    fn tls(&mut self, entry: &mut FlowEntry, dir: Direction, meta: PktMeta, data: &[u8]) -> bool {
        /// Clear-text handshake bytes read per direction before giving up on a Certificate
        /// message (or the end of the clear-text handshake).
        const MAX_CLEAR_HANDSHAKE: usize = 256 * 1024;
        let App::Tls(state) = &mut entry.app else {
            return false;
        };
        let reader = &mut state.readers[dir.index()];
        if reader.push(data).is_err() {
            self.counters.tls_parse_errors += 1;
            return false;
        }
        let mut msgs = Vec::new();
        while let Some(m) = reader.next_message() {
            msgs.push(m);
        }
        // Both sides are read until their handshake turns encrypted: the server's for its
        // Certificate (the tls event is written once it is parsed, or at ServerHelloDone, or
        // when the server's clear-text handshake ends), the client's for a client certificate
        // (mutual TLS).
        let finished = reader.done() || reader.consumed() > MAX_CLEAR_HANDSHAKE;
        let mut wants = !finished;
        let mut server_hello_done = false;
        // The leaf certificate of a Certificate message: its fields, or `None` (counted as a
        // parse error) when the message or the certificate cannot be decoded.
        let leaf = |body: &[u8]| -> Option<crate::app::x509::CertInfo> {
            let certs = tls::certificate_list(body).ok()?;
            crate::app::x509::parse(certs.first()?).ok()
        };
        // Only the first hellos count (a second ClientHello follows a HelloRetryRequest).
        let (client_seen, server_seen) = match &entry.app {
            App::Tls(state) => (state.client_seen, state.event.ja3s.is_some()),
            _ => return false,
        };
        for (ty, body) in msgs {
            match (dir, ty) {
                (Direction::ToServer, 1) if client_seen => {}
                (Direction::ToClient, 2) if server_seen => {}
                (Direction::ToServer, 1) => match tls::parse_client_hello(&body) {
                    Ok(ch) => {
                        let ja3 = tls::ja3_string(&ch);
                        let ja3_hash = tls::md5_hex(&ja3);
                        let ja4 = tls::ja4(&ch, tls::Transport::Tcp);
                        let App::Tls(state) = &mut entry.app else {
                            return false;
                        };
                        state.client_seen = true;
                        state.event = eve::TlsEvent {
                            sni: ch.sni.clone(),
                            version: tls::version_name(
                                ch.supported_versions
                                    .iter()
                                    .copied()
                                    .filter(|v| !tls::is_grease(*v))
                                    .max()
                                    .unwrap_or(ch.legacy_version),
                            ),
                            ja3: Some(eve::Fingerprint {
                                hash: ja3_hash,
                                string: ja3,
                            }),
                            ja3s: None,
                            ja4: Some(ja4),
                            client_alpns: ch.alpn.clone(),
                            ..Default::default()
                        };
                        let ev = state.event.clone();
                        if !self.tables.is_empty() {
                            let mut hits = Vec::new();
                            if let Some(sni) = &ev.sni {
                                hits.extend(self.tables.match_domain(sni).map(|i| (i, "tls.sni")));
                            }
                            if let Some(j) = &ev.ja3 {
                                hits.extend(
                                    self.tables.match_ja3(&j.hash).map(|i| (i, "tls.ja3.hash")),
                                );
                            }
                            if let Some(j) = &ev.ja4 {
                                hits.extend(self.tables.match_ja4(j).map(|i| (i, "tls.ja4")));
                            }
                            for (id, field) in hits {
                                self.alert(entry, dir, meta, id, field, AppRef::Tls(&ev));
                            }
                        }
                        if self.sigs.has_hook(Hook::TlsClientHello) {
                            let bufs = tls_buffers(&ev);
                            self.app_rules(
                                entry,
                                dir,
                                meta,
                                Hook::TlsClientHello,
                                &bufs,
                                AppRef::Tls(&ev),
                            );
                        }
                    }
                    Err(_) => {
                        self.counters.tls_parse_errors += 1;
                        wants = false;
                    }
                },
                (Direction::ToClient, 2) => match tls::parse_server_hello(&body) {
                    Ok(sh) => {
                        let ja3s = tls::ja3s_string(&sh);
                        let hash = tls::md5_hex(&ja3s);
                        let App::Tls(state) = &mut entry.app else {
                            return false;
                        };
                        state.event.version =
                            tls::version_name(sh.selected_version.unwrap_or(sh.legacy_version));
                        state.event.ja3s = Some(eve::Fingerprint {
                            hash: hash.clone(),
                            string: ja3s,
                        });
                        let ev = state.event.clone();
                        if let Some(id) = self.tables.match_ja3s(&hash) {
                            self.alert(entry, dir, meta, id, "tls.ja3s.hash", AppRef::Tls(&ev));
                        }
                        if self.sigs.has_hook(Hook::TlsServerHello) {
                            let bufs = tls_buffers(&ev);
                            self.app_rules(
                                entry,
                                dir,
                                meta,
                                Hook::TlsServerHello,
                                &bufs,
                                AppRef::Tls(&ev),
                            );
                        }
                    }
                    Err(_) => {
                        self.counters.tls_parse_errors += 1;
                        wants = false;
                    }
                },
                (Direction::ToClient, tls::HS_CERTIFICATE) => {
                    let App::Tls(state) = &mut entry.app else {
                        return false;
                    };
                    if state.logged {
                        continue;
                    }
                    match leaf(&body) {
                        Some(cert) => {
                            let ev = &mut state.event;
                            ev.subject = Some(cert.subject);
                            ev.issuerdn = Some(cert.issuer);
                            ev.serial = Some(cert.serial);
                            ev.fingerprint = Some(cert.fingerprint);
                            ev.notbefore = cert.not_before;
                            ev.notafter = cert.not_after;
                        }
                        None => self.counters.tls_parse_errors += 1,
                    }
                    let ev = state.event.clone();
                    if ev.fingerprint.is_some() && self.sigs.has_hook(Hook::TlsCertificate) {
                        let bufs = tls_buffers(&ev);
                        self.app_rules(
                            entry,
                            dir,
                            meta,
                            Hook::TlsCertificate,
                            &bufs,
                            AppRef::Tls(&ev),
                        );
                    }
                    let App::Tls(state) = &mut entry.app else {
                        return false;
                    };
                    state.logged = true;
                    self.write_tls(entry, &ev, meta.ts, Some(meta.pcap_cnt));
                }
                (Direction::ToServer, tls::HS_CERTIFICATE) => {
                    // Mutual TLS: rules inspect the client's certificate; the event (and the
                    // alert's tls metadata) keeps the server's.
                    wants = false;
                    let Some(cert) = leaf(&body) else {
                        self.counters.tls_parse_errors += 1;
                        continue;
                    };
                    if !self.sigs.has_hook(Hook::TlsCertificate) {
                        continue;
                    }
                    let App::Tls(state) = &entry.app else {
                        return false;
                    };
                    let ev = state.event.clone();
                    let client = eve::TlsEvent {
                        subject: Some(cert.subject),
                        issuerdn: Some(cert.issuer),
                        serial: Some(cert.serial),
                        fingerprint: Some(cert.fingerprint),
                        notbefore: cert.not_before,
                        notafter: cert.not_after,
                        ..ev.clone()
                    };
                    let bufs = tls_buffers(&client);
                    self.app_rules(
                        entry,
                        dir,
                        meta,
                        Hook::TlsCertificate,
                        &bufs,
                        AppRef::Tls(&ev),
                    );
                }
                (Direction::ToClient, tls::HS_SERVER_HELLO_DONE) => server_hello_done = true,
                _ => {}
            }
        }
        let App::Tls(state) = &mut entry.app else {
            return false;
        };
        if dir == Direction::ToClient && !state.logged {
            // The server's clear-text handshake ended (ServerHelloDone, encrypted records, or
            // the byte cap) without a Certificate: the event is written now.
            if server_hello_done || finished {
                state.logged = true;
                let ev = state.event.clone();
                self.write_tls(entry, &ev, meta.ts, Some(meta.pcap_cnt));
            }
        }
        if dir == Direction::ToClient {
            let App::Tls(state) = &entry.app else {
                return false;
            };
            wants = wants && !state.logged;
        }
        wants
    }

    fn http(&mut self, entry: &mut FlowEntry, dir: Direction, meta: PktMeta, data: &[u8]) -> bool {
        let i = dir.index();
        let App::Http(h) = &mut entry.app else {
            return false;
        };
        // A head left incomplete by the previous segment continues in its buffer.
        let owned;
        let mut data = if h.bufs[i].is_empty() {
            data
        } else {
            h.bufs[i].extend_from_slice(data);
            owned = std::mem::take(&mut h.bufs[i]);
            owned.as_slice()
        };
        loop {
            let App::Http(h) = &mut entry.app else {
                return false;
            };
            // Bodies are skipped, never buffered.
            if let Some(skipper) = h.bodies[i].as_mut() {
                let (n, done) = skipper.consume(data);
                let n = n.min(data.len());
                data = &data[n..];
                if dir == Direction::ToClient {
                    if let Some(tx) = h.open_response.and_then(|t| h.txs.get_mut(t)) {
                        tx.event.length += n as u64;
                    }
                }
                if !done {
                    return true;
                }
                h.bodies[i] = None;
                if dir == Direction::ToClient {
                    if let Some(tx) = h.open_response.take().and_then(|t| h.txs.remove(t)) {
                        self.log_http(entry, tx, meta.ts);
                    }
                }
                continue;
            }
            if data.is_empty() {
                return true;
            }
            let parsed = if dir == Direction::ToServer {
                match http::parse_request_head(data) {
                    http::Parse::Incomplete => None,
                    http::Parse::Done { value, consumed } => Some(Ok((Ok(value), consumed))),
                    http::Parse::Invalid { .. } => Some(Err(())),
                }
            } else {
                match http::parse_response_head(data) {
                    http::Parse::Incomplete => None,
                    http::Parse::Done { value, consumed } => Some(Ok((Err(value), consumed))),
                    http::Parse::Invalid { .. } => Some(Err(())),
                }
            };
            match parsed {
                None => {
                    h.bufs[i].extend_from_slice(data);
                    return true;
                }
                Some(Err(())) => {
                    self.counters.http_parse_errors += 1;
                    return false;
                }
                Some(Ok((msg, consumed))) => {
                    data = data.get(consumed..).unwrap_or_default();
                    match msg {
                        Ok(req) => self.on_request(entry, meta, req),
                        Err(resp) => self.on_response(entry, resp),
                    }
                }
            }
        }
    }

    fn on_request(&mut self, entry: &mut FlowEntry, meta: PktMeta, req: http::HttpRequest) {
        let App::Http(h) = &mut entry.app else { return };
        h.bodies[0] = Some(http::BodySkipper::for_request(&req));
        let hostname = req.hostname();
        let port = req.port();
        let event = eve::HttpEvent {
            hostname: hostname.clone(),
            http_port: port,
            url: req.uri.clone(),
            http_user_agent: req.user_agent.clone(),
            http_content_type: None,
            http_refer: req.referer.clone(),
            http_method: req.method.clone(),
            protocol: req.protocol.clone(),
            status: None,
            length: 0,
        };
        if !self.tables.is_empty() {
            let mut hits = Vec::new();
            if let Some(host) = &hostname {
                hits.extend(self.tables.match_domain(host).map(|i| (i, "http.hostname")));
                if let Some(key) = url_key(host, port, &req.uri) {
                    hits.extend(self.tables.match_url(&key).map(|i| (i, "http.url")));
                }
            }
            for (id, field) in hits {
                self.alert(
                    entry,
                    Direction::ToServer,
                    meta,
                    id,
                    field,
                    AppRef::Http(&event),
                );
            }
        }
        if self.sigs.has_hook(Hook::HttpRequest) {
            let request_line = if req.protocol.is_empty() {
                format!("{} {}", req.method, req.uri)
            } else {
                format!("{} {} {}", req.method, req.uri, req.protocol)
            };
            let bufs = Buffers {
                http_request_line: Some(request_line.as_bytes()),
                http_host: hostname.as_deref().map(str::as_bytes),
                http_uri: Some(req.uri.as_bytes()),
                http_method: Some(req.method.as_bytes()),
                http_user_agent: req.user_agent.as_deref().map(str::as_bytes),
                ..Default::default()
            };
            self.app_rules(
                entry,
                Direction::ToServer,
                meta,
                Hook::HttpRequest,
                &bufs,
                AppRef::Http(&event),
            );
        }
        let App::Http(h) = &mut entry.app else { return };
        if h.txs.len() < MAX_HTTP_TXS {
            h.txs.push_back(HttpTx {
                event,
                request_cnt: meta.pcap_cnt,
                response_seen: false,
            });
        }
    }

    fn on_response(&mut self, entry: &mut FlowEntry, resp: http::HttpResponse) {
        let App::Http(h) = &mut entry.app else { return };
        if resp.status / 100 == 1 {
            return; // interim response; the final one follows
        }
        let Some(t) = h.txs.iter().position(|tx| !tx.response_seen) else {
            return;
        };
        let tx = &mut h.txs[t];
        tx.response_seen = true;
        tx.event.status = Some(resp.status);
        tx.event.http_content_type = resp.content_type.clone();
        let skipper = http::BodySkipper::for_response(&resp, &tx.event.http_method);
        h.bodies[1] = Some(skipper);
        h.open_response = Some(t);
    }

    fn log_http(&mut self, entry: &mut FlowEntry, tx: HttpTx, ts: Timestamp) {
        let header = self.header(
            entry,
            EventType::Http,
            Some(Direction::ToServer),
            ts,
            Some(tx.request_cnt),
        );
        self.write_event(EventType::Http, header, HttpBody { http: &tx.event });
    }
}

impl Cx<'_> {
    /// What an alert carries besides `alert` and `vigil`: the app-layer record, the flow, and
    /// the verdict and MACs when configured.
    fn alert_record<'e>(
        &self,
        entry: &FlowEntry,
        meta: PktMeta,
        app: AppRef<'e>,
    ) -> eve::AlertRecord<'e> {
        eve::AlertRecord {
            dns: match app {
                AppRef::Dns(d) => Some(d),
                _ => None,
            },
            tls: match app {
                AppRef::Tls(t) => Some(t),
                _ => None,
            },
            http: match app {
                AppRef::Http(h) => Some(h),
                _ => None,
            },
            flow: self.cfg.alert_metadata.then(|| alert_flow(&entry.core)),
            verdict: self
                .cfg
                .alert_verdict
                .then_some(eve::Verdict { action: "alert" }),
            ether: if self.cfg.eve_ethernet {
                meta.macs.map(eve::Ether::from_macs)
            } else {
                None
            },
        }
    }

    fn write_alert<M: Serialize, V: Serialize>(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        body: eve::AlertBody<'_, M, V>,
    ) {
        let header = self.header(
            entry,
            EventType::Alert,
            Some(dir),
            meta.ts,
            Some(meta.pcap_cnt),
        );
        self.write_event(EventType::Alert, header, body);
    }

    // --- Rules ---------------------------------------------------------------------------------

    fn view<'p>(
        entry: &FlowEntry,
        dir: Direction,
        payload: &'p [u8],
        headers: (&'p [u8], &'p [u8]),
    ) -> PacketView<'p> {
        let c = &entry.core;
        let (src, sport, dst, dport) = match dir {
            Direction::ToServer => (c.client, c.client_port, c.server, c.server_port),
            Direction::ToClient => (c.server, c.server_port, c.client, c.client_port),
        };
        PacketView {
            src,
            dst,
            sport,
            dport,
            ip_proto: c.proto,
            dir,
            established: if c.proto == PROTO_TCP {
                entry.tcp.established
            } else {
                c.state != FlowState::New
            },
            app: app_kind(entry.proto),
            payload,
            ip_header: headers.0,
            l4_header: headers.1,
        }
    }

    /// Evaluates `hook`'s rules and writes an alert for each hit.
    #[allow(clippy::too_many_arguments)]
    fn run_rules(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        hook: Hook,
        view: &PacketView<'_>,
        bufs: &Buffers<'_>,
        app: AppRef<'_>,
    ) {
        let mut hits = std::mem::take(&mut self.sx.hits);
        hits.clear();
        self.sigs.evaluate(
            hook,
            view,
            bufs,
            &mut entry.bits,
            self.overlay,
            &mut self.sx.scratch,
            &mut hits,
        );
        for h in &hits {
            if self.pkt_alerts >= self.cfg.packet_alert_max {
                break;
            }
            self.pkt_alerts += 1;
            self.sig_alert(entry, dir, meta, h, view, app);
        }
        self.sx.hits = hits;
    }

    fn app_rules(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        hook: Hook,
        bufs: &Buffers<'_>,
        app: AppRef<'_>,
    ) {
        if !entry.inspect {
            return;
        }
        let view = Cx::view(entry, dir, self.payload, self.headers);
        self.run_rules(entry, dir, meta, hook, &view, bufs, app);
    }

    /// IP-only rules on the first packet of each direction, then packet rules.
    fn packet_rules(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        d: &Decoded<'_>,
        app_before: AppProto,
    ) {
        let (sport, dport) = ports(d);
        let mut view = Cx::view(entry, dir, self.payload, self.headers);
        // With both sides visible, data is parsed when acknowledged (a later packet); a
        // one-sided session is parsed at once, as Suricata's async-oneside does.
        let both_sides = entry.core.pkts[0] > 0 && entry.core.pkts[1] > 0;
        if d.ip_proto == PROTO_TCP && both_sides {
            view.app = app_kind(app_before);
        }
        // The packet's own addresses: a flow's first packet may be a reply.
        view.src = d.src;
        view.dst = d.dst;
        view.sport = sport;
        view.dport = dport;
        let bufs = Buffers::default();
        if entry.core.pkts[dir.index()] == 1 && self.sigs.has_hook(Hook::IpOnly) {
            self.run_rules(entry, dir, meta, Hook::IpOnly, &view, &bufs, AppRef::None);
        }
        if self.sigs.has_hook(Hook::Packet) {
            self.run_rules(entry, dir, meta, Hook::Packet, &view, &bufs, AppRef::None);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn sig_alert(
        &mut self,
        entry: &mut FlowEntry,
        dir: Direction,
        meta: PktMeta,
        hit: &signatures::Hit,
        view: &PacketView<'_>,
        app: AppRef<'_>,
    ) {
        let sigs = self.sigs;
        let idx = hit.sig;
        let app = if self.cfg.alert_metadata {
            app
        } else {
            AppRef::None
        };
        let sig = &sigs.sigs[idx as usize];
        let context = (!hit.context.is_empty()).then(|| {
            let m: serde_json::Map<String, serde_json::Value> = hit
                .context
                .iter()
                .map(|(k, v)| (k.to_string(), (**v).clone()))
                .collect();
            serde_json::Value::Object(m)
        });
        entry.core.alerted = true;
        self.counters.alerts += 1;
        self.tallies
            .entry((sig.sid, "rule"))
            .and_modify(|t| t.count += 1)
            .or_insert_with(|| AlertTally {
                signature_id: sig.sid,
                signature: sig.msg.to_string(),
                severity: sig.priority,
                matched_field: "rule",
                source: sig.source.to_string(),
                count: 1,
            });
        let body = eve::AlertBody {
            alert: eve::AlertInfo {
                action: "allowed",
                gid: sig.gid,
                signature_id: sig.sid,
                rev: sig.rev,
                signature: &sig.msg,
                category: &sig.category,
                severity: sig.priority,
                metadata: (self.cfg.alert_metadata && !sig.metadata.is_empty())
                    .then_some(&sig.metadata),
                source: sig.target.map(|t| endpoint(view, t, false)),
                target: sig.target.map(|t| endpoint(view, t, true)),
                context: context.as_ref(),
                rule: sig.text.as_deref(),
            },
            vigil: eve::RuleVigil {
                source: &sig.source,
                rule: eve::RuleRef {
                    file: &sig.location.file,
                    line: sig.location.line,
                },
                confidence: sig.confidence,
                attack: &sig.attack,
            },
            record: self.alert_record(entry, meta, app),
        };
        self.write_alert(entry, dir, meta, body);
        self.attach_aux(Aux::Alert {
            sig: idx,
            facts: AlertFacts {
                ts: meta.ts.secs.max(0) as u64,
                src: view.src,
                dst: view.dst,
                flow_id: entry.core.flow_id,
            },
        });
    }
}

/// Advances the handshake tracker: established once the client acknowledges the server's
/// SYN-ACK (or, with async-oneside, its own SYN when the other side is not visible).
fn track_handshake(t: &mut TcpTrack, dir: Direction, flags: u8, async_oneside: bool) {
    use tcp_flags::{ACK, SYN};
    if t.established {
        return;
    }
    let syn = flags & SYN != 0;
    let ack = flags & ACK != 0;
    match dir {
        Direction::ToServer if syn && !ack => t.syn = true,
        Direction::ToClient if syn && ack => t.syn_ack = true,
        Direction::ToServer if ack && !syn && (t.syn_ack || (async_oneside && t.syn)) => {
            t.established = true
        }
        Direction::ToClient if ack && !syn && async_oneside && t.syn_ack => t.established = true,
        _ => {}
    }
}

/// The attacked (`target`) or attacking side of a rule alert with the `target` keyword.
fn endpoint(v: &PacketView<'_>, t: crate::rules::Target, target: bool) -> eve::Endpoint {
    let dest_is_target = t == crate::rules::Target::DestIp;
    let port = |p: u16| matches!(v.ip_proto, PROTO_TCP | PROTO_UDP | PROTO_SCTP).then_some(p);
    if dest_is_target == target {
        eve::Endpoint {
            ip: v.dst,
            port: port(v.dport),
        }
    } else {
        eve::Endpoint {
            ip: v.src,
            port: port(v.sport),
        }
    }
}

fn app_kind(p: AppProto) -> AppKind {
    match p {
        AppProto::Dns => AppKind::Dns,
        AppProto::Tls => AppKind::Tls,
        AppProto::Http => AppKind::Http,
        _ => AppKind::Unknown,
    }
}

fn alert_flow(c: &FlowCore) -> eve::AlertFlow {
    let has_ports = matches!(c.proto, PROTO_TCP | PROTO_UDP | PROTO_SCTP);
    eve::AlertFlow {
        pkts_toserver: c.pkts[0],
        pkts_toclient: c.pkts[1],
        bytes_toserver: c.bytes[0],
        bytes_toclient: c.bytes[1],
        start: eve::timestamp_string(c.start),
        src_ip: c.client,
        dest_ip: c.server,
        src_port: has_ports.then_some(c.client_port),
        dest_port: has_ports.then_some(c.server_port),
    }
}

fn tls_buffers(ev: &eve::TlsEvent) -> Buffers<'_> {
    Buffers {
        tls_sni: ev.sni.as_deref().map(str::as_bytes),
        ja3: ev.ja3.as_ref().map(|j| j.hash.as_bytes()),
        ja3_string: ev.ja3.as_ref().map(|j| j.string.as_bytes()),
        ja3s_string: ev.ja3s.as_ref().map(|j| j.string.as_bytes()),
        ja3s: ev.ja3s.as_ref().map(|j| j.hash.as_bytes()),
        ja4: ev.ja4.as_deref().map(str::as_bytes),
        tls_cert_subject: ev.subject.as_deref().map(str::as_bytes),
        tls_cert_issuer: ev.issuerdn.as_deref().map(str::as_bytes),
        tls_cert_serial: ev.serial.as_deref().map(str::as_bytes),
        tls_cert_fingerprint: ev.fingerprint.as_deref().map(str::as_bytes),
        ..Default::default()
    }
}

#[derive(Serialize)]
struct DnsBody<'a> {
    dns: &'a eve::DnsEvent,
}
#[derive(Serialize)]
struct TlsBody<'a> {
    tls: &'a eve::TlsEvent,
}
#[derive(Serialize)]
struct HttpBody<'a> {
    http: &'a eve::HttpEvent,
}

fn is_dns_port(a: u16, b: u16) -> bool {
    // 5353: mDNS, 5355: LLMNR — same wire format.
    [a, b].iter().any(|p| matches!(p, 53 | 5353 | 5355))
}

fn dns_event(msg: &dns::DnsMessage) -> eve::DnsEvent {
    let f = msg.flags;
    let answer = |r: &dns::DnsRecord| eve::DnsAnswerEvent {
        rrname: r.rrname.clone(),
        rrtype: dns::rrtype_name(r.rrtype).into_owned(),
        ttl: r.ttl,
        rdata: rdata_string(&r.rdata),
    };
    eve::DnsEvent {
        version: 3,
        kind: if msg.is_response {
            "response"
        } else {
            "request"
        },
        id: msg.id,
        flags: format!("{f:x}"),
        qr: f & 0x8000 != 0,
        aa: f & 0x0400 != 0,
        tc: f & 0x0200 != 0,
        rd: f & 0x0100 != 0,
        ra: f & 0x0080 != 0,
        opcode: msg.opcode,
        rcode: msg
            .is_response
            .then(|| dns::rcode_name(msg.rcode).into_owned()),
        queries: msg
            .queries
            .iter()
            .map(|q| eve::DnsQueryEvent {
                rrname: q.rrname.clone(),
                rrtype: dns::rrtype_name(q.rrtype).into_owned(),
            })
            .collect(),
        answers: msg.answers.iter().map(answer).collect(),
        authorities: msg.authorities.iter().map(answer).collect(),
    }
}

fn rdata_string(r: &dns::RData) -> Option<String> {
    Some(match r {
        dns::RData::A(a) => a.to_string(),
        dns::RData::Aaaa(a) => a.to_string(),
        dns::RData::Name(n) => n.clone(),
        dns::RData::Mx { exchange, .. } => exchange.clone(),
        dns::RData::Txt(t) => t.join(""),
        dns::RData::Soa { mname, .. } => mname.clone(),
        dns::RData::Srv { target, .. } => target.clone(),
        dns::RData::Other(_) => return None,
    })
}

/// The canonical scheme-less URL key of a request, as URL indicators are stored.
fn url_key(host: &str, port: Option<u16>, uri: &str) -> Option<String> {
    let path = if uri.starts_with('/') {
        uri.to_string()
    } else if let Some(rest) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
    {
        rest.find('/')
            .map(|i| rest[i..].to_string())
            .unwrap_or_else(|| "/".to_string())
    } else {
        return None; // CONNECT authority form or '*'
    };
    let raw = match port {
        Some(p) if p != 80 => format!("http://{host}:{p}{path}"),
        _ => format!("http://{host}{path}"),
    };
    vigil_intel::normalize::url(&raw).ok()
}

/// A stable signature id for an indicator, in a range no public ruleset uses.
pub fn indicator_sid(kind: &str, value: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in kind.bytes().chain([b':']).chain(value.bytes()) {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    2_000_000_000 + h % 100_000_000
}
