//! Generated observation streams for the models' tests.
//!
//! Every scenario is a set of hosts over a stretch of capture time: all of them browse
//! (DNS queries for popular names, answered TLS and HTTP connections to CDN addresses, flows
//! to the resolver) and keep background traffic going (NTP, mDNS, reverse lookups, DMARC
//! lookups); the malicious ones add one behaviour. A model's precision and recall are
//! counted per host: a host is detected when the model alerts with it as source. Streams are
//! deterministic functions of their seed (SplitMix64).

use super::{Detection, Models, Observation};
use crate::pcap::Timestamp;
use md5::{Digest, Md5};
use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

const S: i64 = 1_000_000;
const TCP: u8 = 6;
const UDP: u8 = 17;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// An owned observation, `t` in µs.
#[derive(Debug, Clone)]
pub enum Obs {
    Start {
        t: i64,
        src: IpAddr,
        dst: IpAddr,
        port: u16,
        proto: u8,
    },
    End {
        t: i64,
        src: IpAddr,
        dst: IpAddr,
        port: u16,
        proto: u8,
        to_server: u64,
        to_client: u64,
    },
    Dns {
        t: i64,
        src: IpAddr,
        name: String,
        rrtype: u16,
    },
}

impl Obs {
    fn t(&self) -> i64 {
        match self {
            Obs::Start { t, .. } | Obs::End { t, .. } | Obs::Dns { t, .. } => *t,
        }
    }

    pub fn as_observation(&self) -> Observation<'_> {
        match *self {
            Obs::Start {
                t,
                src,
                dst,
                port,
                proto,
            } => Observation::FlowStart {
                ts: Timestamp::from_micros(t),
                src,
                dst,
                dst_port: port,
                proto,
            },
            Obs::End {
                t,
                src,
                dst,
                port,
                proto,
                to_server,
                to_client,
            } => Observation::FlowEnd {
                ts: Timestamp::from_micros(t),
                src,
                dst,
                dst_port: port,
                proto,
                pkts_toserver: to_server,
                pkts_toclient: to_client,
                bytes_toserver: to_server * 400,
                bytes_toclient: to_client * 1_000,
            },
            Obs::Dns {
                t,
                src,
                ref name,
                rrtype,
            } => Observation::DnsQuery {
                ts: Timestamp::from_micros(t),
                src,
                name,
                rrtype,
            },
        }
    }
}

pub struct Stream {
    pub observations: Vec<Obs>,
    pub hosts: Vec<IpAddr>,
    pub malicious: BTreeSet<IpAddr>,
}

impl Stream {
    /// Feeds the stream in time order (stable for equal times), ticking every 10 s of
    /// capture time, and finishes at the last observation.
    pub fn run(&self, models: &mut Models) -> Vec<Detection> {
        let mut out = Vec::new();
        let mut next_tick = self.observations.first().map_or(0, Obs::t) + 10 * S;
        for o in &self.observations {
            while o.t() >= next_tick {
                models.tick(Timestamp::from_micros(next_tick), &mut out);
                next_tick += 10 * S;
            }
            models.observe(&o.as_observation(), &mut out);
        }
        let end = self.observations.last().map_or(0, Obs::t);
        models.finish(Timestamp::from_micros(end), &mut out);
        out
    }

    fn build(mut observations: Vec<Obs>, hosts: Vec<IpAddr>, malicious: BTreeSet<IpAddr>) -> Self {
        observations.sort_by_key(Obs::t);
        Stream {
            observations,
            hosts,
            malicious,
        }
    }
}

/// (true positives, false positives, false negatives) over the stream's hosts.
pub fn evaluate_hosts(stream: &Stream, out: &[Detection], model: &str) -> (usize, usize, usize) {
    let detected: BTreeSet<IpAddr> = out
        .iter()
        .filter(|d| d.model == model)
        .map(|d| d.src)
        .collect();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for h in &stream.hosts {
        match (stream.malicious.contains(h), detected.contains(h)) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            (false, false) => {}
        }
    }
    (tp, fp, fn_)
}

pub struct Row {
    pub model: String,
    pub scenario: String,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Row {
    /// 1.0 when nothing was detected (no false alarm was raised).
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }

    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "| {} | {} | {:.3} | {:.3} | tp={} fp={} fn={} |",
            self.model,
            self.scenario,
            self.precision(),
            self.recall(),
            self.tp,
            self.fp,
            self.fn_
        )
    }
}

pub fn report(model: &str, scenario: &str, tp: usize, fp: usize, fn_: usize) -> Row {
    Row {
        model: model.into(),
        scenario: scenario.into(),
        tp,
        fp,
        fn_,
    }
}

/// Names a browser resolves: sites, their CDNs, ad and analytics hosts.
pub const POPULAR_NAMES: &[&str] = &[
    "www.google.com",
    "fonts.googleapis.com",
    "www.gstatic.com",
    "ssl.gstatic.com",
    "www.youtube.com",
    "i.ytimg.com",
    "yt3.ggpht.com",
    "rr3---sn-4g5e6nze.googlevideo.com",
    "www.facebook.com",
    "static.xx.fbcdn.net",
    "scontent.xx.fbcdn.net",
    "en.wikipedia.org",
    "upload.wikimedia.org",
    "www.amazon.com",
    "m.media-amazon.com",
    "images-na.ssl-images-amazon.com",
    "d3c3cq33003psk.cloudfront.net",
    "www.netflix.com",
    "assets.nflxext.com",
    "www.reddit.com",
    "www.redditstatic.com",
    "preview.redd.it",
    "github.com",
    "avatars.githubusercontent.com",
    "api.github.com",
    "stackoverflow.com",
    "cdn.sstatic.net",
    "www.nytimes.com",
    "static01.nyt.com",
    "www.bbc.co.uk",
    "static.files.bbci.co.uk",
    "www.theguardian.com",
    "assets.guim.co.uk",
    "www.linkedin.com",
    "static.licdn.com",
    "twitter.com",
    "abs.twimg.com",
    "pbs.twimg.com",
    "www.instagram.com",
    "login.microsoftonline.com",
    "outlook.office365.com",
    "www.bing.com",
    "www.apple.com",
    "www.icloud.com",
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "ajax.googleapis.com",
    "www.googletagmanager.com",
    "www.google-analytics.com",
    "stats.g.doubleclick.net",
    "securepubads.g.doubleclick.net",
    "c.amazon-adsystem.com",
    "connect.facebook.net",
    "platform.twitter.com",
    "e12345.dscb.akamaiedge.net",
    "a248.e.akamai.net",
    "www.ebay.com",
    "ir.ebaystatic.com",
    "www.paypal.com",
    "open.spotify.com",
    "i.scdn.co",
    "www.twitch.tv",
    "static.twitchcdn.net",
    "discord.com",
    "cdn.discordapp.com",
    "zoom.us",
    "slack.com",
    "a.slack-edge.com",
    "www.dropbox.com",
    "www.booking.com",
    "cf.bstatic.com",
    "www.tripadvisor.com",
    "www.espn.com",
    "edition.cnn.com",
    "www.washingtonpost.com",
    "news.ycombinator.com",
    "www.mozilla.org",
    "incoming.telemetry.mozilla.org",
    "firefox.settings.services.mozilla.com",
    "duckduckgo.com",
    "www.yahoo.com",
    "s.yimg.com",
    "weather.com",
    "www.imdb.com",
    "www.pinterest.com",
    "i.pinimg.com",
    "www.tiktok.com",
    "web.whatsapp.com",
    "www.office.com",
    "www.microsoft.com",
    "ocsp.digicert.com",
    "ocsp.pki.goog",
    "ctldl.windowsupdate.com",
    "www.adobe.com",
    "use.typekit.net",
    "cdn.shopify.com",
    "s0.wp.com",
    "miro.medium.com",
    "www.quora.com",
    "www.etsy.com",
    "www.walmart.com",
    "www.bestbuy.com",
    "www.forbes.com",
    "www.bloomberg.com",
    "www.reuters.com",
    "www.economist.com",
    "www.healthline.com",
    "www.webmd.com",
    "www.mayoclinic.org",
    "www.indeed.com",
    "www.glassdoor.com",
    "www.zillow.com",
    "www.airbnb.com",
    "www.expedia.com",
    "www.hulu.com",
    "www.disneyplus.com",
    "www.salesforce.com",
    "www.atlassian.com",
    "bitbucket.org",
    "gitlab.com",
    "registry.npmjs.org",
    "pypi.org",
    "files.pythonhosted.org",
    "static.crates.io",
    "docs.rs",
];

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn host(i: usize) -> IpAddr {
    v4(192, 168, 1, 10 + i as u8)
}

const RESOLVER: [u8; 4] = [192, 168, 1, 1];

/// A DNS query and its resolver flow.
fn dns(obs: &mut Vec<Obs>, rng: &mut Rng, t: i64, src: IpAddr, name: &str, rrtype: u16) {
    let resolver = IpAddr::from(RESOLVER);
    obs.push(Obs::Dns {
        t,
        src,
        name: name.to_string(),
        rrtype,
    });
    obs.push(Obs::Start {
        t,
        src,
        dst: resolver,
        port: 53,
        proto: UDP,
    });
    obs.push(Obs::End {
        t: t + 30 * S + rng.below(S as u64) as i64,
        src,
        dst: resolver,
        port: 53,
        proto: UDP,
        to_server: 1,
        to_client: 1,
    });
}

/// An answered connection.
fn conn(obs: &mut Vec<Obs>, rng: &mut Rng, t: i64, src: IpAddr, dst: IpAddr, port: u16) {
    obs.push(Obs::Start {
        t,
        src,
        dst,
        port,
        proto: TCP,
    });
    obs.push(Obs::End {
        t: t + (rng.range(2.0, 120.0) * S as f64) as i64,
        src,
        dst,
        port,
        proto: TCP,
        to_server: 5 + rng.below(200),
        to_client: 5 + rng.below(400),
    });
}

/// CDN address of a name: a few addresses per name, some shared between names.
fn cdn_addr(name: &str, k: u64) -> IpAddr {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let h = h.wrapping_add(k % 4);
    v4(151, 101, (h % 64) as u8, (h / 64 % 250) as u8 + 1)
}

/// A person browsing from `src` between `t0` and `t0 + secs`: page visits with random
/// (exponential, mean 40 s) gaps, each resolving 2–12 names and opening 2–30 connections to
/// up to 15 addresses within a few seconds.
fn browse(obs: &mut Vec<Obs>, rng: &mut Rng, src: IpAddr, t0: i64, secs: i64) {
    let end = t0 + secs * S;
    let mut t = t0 + (rng.exp(20.0) * S as f64) as i64;
    while t < end {
        let names: Vec<&str> = (0..2 + rng.below(11))
            .map(|_| *rng.pick(POPULAR_NAMES))
            .collect();
        for (i, n) in names.iter().enumerate() {
            let rr = if rng.below(2) == 0 { 1 } else { 28 };
            dns(obs, rng, t + i as i64 * 20_000, src, n, rr);
        }
        let conns = 2 + rng.below(29);
        for i in 0..conns {
            let name = names[(i as usize) % names.len()];
            let dst = cdn_addr(name, rng.below(4));
            let port = if rng.below(10) == 0 { 80 } else { 443 };
            let at = t + 100_000 + (rng.range(0.0, 3.0) * S as f64) as i64 + i as i64 * 1_000;
            conn(obs, rng, at, src, dst, port);
        }
        t += (rng.exp(40.0).clamp(1.0, 900.0) * S as f64) as i64;
    }
}

/// Machine background: NTP every 64 s, mDNS announcements, reverse lookups of local hosts,
/// DMARC and DKIM lookups, OCSP checks.
fn background(obs: &mut Vec<Obs>, rng: &mut Rng, src: IpAddr, t0: i64, secs: i64) {
    let end = t0 + secs * S;
    let ntp = v4(162, 159, 200, 1);
    let mut t = t0 + rng.below(64 * S as u64) as i64;
    while t < end {
        obs.push(Obs::Start {
            t,
            src,
            dst: ntp,
            port: 123,
            proto: UDP,
        });
        obs.push(Obs::End {
            t: t + 30 * S,
            src,
            dst: ntp,
            port: 123,
            proto: UDP,
            to_server: 1,
            to_client: 1,
        });
        t += 64 * S;
    }
    let mdns = v4(224, 0, 0, 251);
    let mut t = t0 + rng.below(120 * S as u64) as i64;
    while t < end {
        obs.push(Obs::Start {
            t,
            src,
            dst: mdns,
            port: 5353,
            proto: UDP,
        });
        t += 120 * S;
    }
    let mut t = t0 + rng.below(60 * S as u64) as i64;
    while t < end {
        let ptr = format!("{}.1.168.192.in-addr.arpa", 1 + rng.below(250));
        dns(obs, rng, t, src, &ptr, 12);
        let dmarc = format!(
            "_dmarc.{}",
            rng.pick(POPULAR_NAMES).trim_start_matches("www.")
        );
        dns(obs, rng, t + 10_000, src, &dmarc, 16);
        dns(
            obs,
            rng,
            t + 20_000,
            src,
            "selector1._domainkey.example.com",
            16,
        );
        t += (rng.exp(90.0) * S as f64) as i64;
    }
}

fn benign_hosts(obs: &mut Vec<Obs>, rng: &mut Rng, n: usize, secs: i64) -> Vec<IpAddr> {
    (0..n)
        .map(|i| {
            let h = host(i);
            browse(obs, rng, h, 0, secs);
            background(obs, rng, h, 0, secs);
            h
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Scans

#[derive(Debug, Clone, Copy)]
pub enum ScanKind {
    /// 200–1000 ports of one host in 5–30 s: mostly RST, some silent, a few open.
    Vertical,
    /// One port on every address of a /24: mostly silent, some RST, a few answered.
    Horizontal,
    /// 40 ports of one host spread over 50 s, all RST.
    SlowVertical,
}

impl ScanKind {
    pub fn name(self) -> &'static str {
        match self {
            ScanKind::Vertical => "vertical SYN scan",
            ScanKind::Horizontal => "horizontal sweep of a /24",
            ScanKind::SlowVertical => "slow vertical (40 ports in 50 s)",
        }
    }
}

pub fn scan_stream(seed: u64, kind: ScanKind) -> Stream {
    let mut rng = Rng::new(seed);
    let secs = 600;
    let mut obs = Vec::new();
    let mut hosts = benign_hosts(&mut obs, &mut rng, 10, secs);
    let mut malicious = BTreeSet::new();
    for h in hosts.iter().take(2) {
        malicious.insert(*h);
    }
    for &src in hosts.iter().take(2) {
        let t0 = (rng.range(60.0, 400.0) * S as f64) as i64;
        let target = v4(192, 168, 1, 200 + rng.below(50) as u8);
        let attempt = |obs: &mut Vec<Obs>, rng: &mut Rng, t: i64, dst: IpAddr, port: u16| {
            obs.push(Obs::Start {
                t,
                src,
                dst,
                port,
                proto: TCP,
            });
            let r = rng.unit();
            let (dt, to_server, to_client) = match kind {
                ScanKind::Horizontal if r < 0.80 => (60 * S, 2, 0),
                ScanKind::Horizontal if r < 0.95 => (S, 1, 1),
                ScanKind::Horizontal => (20 * S, 6, 5),
                ScanKind::SlowVertical => (S, 1, 1),
                _ if r < 0.85 => (S / 2, 1, 1),
                _ if r < 0.95 => (60 * S, 2, 0),
                _ => (S, 2, 1),
            };
            obs.push(Obs::End {
                t: t + dt,
                src,
                dst,
                port,
                proto: TCP,
                to_server,
                to_client,
            });
        };
        match kind {
            ScanKind::Vertical => {
                let n = 200 + rng.below(800);
                let dur = rng.range(5.0, 30.0);
                let mut ports = BTreeSet::new();
                while (ports.len() as u64) < n {
                    ports.insert(1 + rng.below(65_535) as u16);
                }
                for (i, p) in ports.into_iter().enumerate() {
                    let t = t0 + (dur * i as f64 / n as f64 * S as f64) as i64;
                    attempt(&mut obs, &mut rng, t, target, p);
                }
            }
            ScanKind::Horizontal => {
                let port = *rng.pick(&[22u16, 445, 3389, 23]);
                let net = rng.below(200) as u8;
                for i in 1..=254u8 {
                    let t = t0 + i64::from(i) * 40_000;
                    attempt(&mut obs, &mut rng, t, v4(10, 20, net, i), port);
                }
            }
            ScanKind::SlowVertical => {
                for i in 0..40u16 {
                    let t = t0 + i64::from(i) * 1_250_000;
                    attempt(&mut obs, &mut rng, t, target, 1000 + i * 7);
                }
            }
        }
    }
    hosts.sort();
    Stream::build(obs, hosts, malicious)
}

// ---------------------------------------------------------------------------------------
// Beacons

#[derive(Debug, Clone, Copy)]
pub enum BeaconKind {
    /// Exact period.
    Steady,
    /// Uniform ±20 % jitter.
    Jittered,
    /// ±10 % jitter, 20 % of check-ins missed, some check-ins with a second connection.
    Lossy,
    /// Uniform ±40 % jitter: beyond what the defaults are tuned for.
    HeavyJitter,
}

impl BeaconKind {
    pub fn name(self) -> &'static str {
        match self {
            BeaconKind::Steady => "fixed period 30-600 s",
            BeaconKind::Jittered => "period with +-20% jitter",
            BeaconKind::Lossy => "+-10% jitter, 20% missed, double connections",
            BeaconKind::HeavyJitter => "period with +-40% jitter",
        }
    }
}

pub fn beacon_stream(seed: u64, kind: BeaconKind) -> Stream {
    let mut rng = Rng::new(seed ^ 0xbeac);
    let secs = 3 * 3_600;
    let mut obs = Vec::new();
    let mut hosts = benign_hosts(&mut obs, &mut rng, 10, secs);
    let mut malicious = BTreeSet::new();
    for &src in hosts.iter().take(2) {
        malicious.insert(src);
        let period = *rng.pick(&[30.0, 60.0, 120.0, 300.0, 600.0]);
        let c2 = v4(203, 0, 113, 1 + rng.below(250) as u8);
        let port = *rng.pick(&[443u16, 80, 8080]);
        let mut t = rng.range(0.0, period);
        while t < secs as f64 {
            let skip = matches!(kind, BeaconKind::Lossy) && rng.unit() < 0.2;
            if !skip {
                let at = (t * S as f64) as i64;
                conn(&mut obs, &mut rng, at, src, c2, port);
                if matches!(kind, BeaconKind::Lossy) && rng.unit() < 0.2 {
                    let again = at + (rng.range(0.1, 0.8) * S as f64) as i64;
                    conn(&mut obs, &mut rng, again, src, c2, port);
                }
            }
            let jitter = match kind {
                BeaconKind::Steady => 0.0,
                BeaconKind::Jittered => 0.2,
                BeaconKind::Lossy => 0.1,
                BeaconKind::HeavyJitter => 0.4,
            };
            t += period * (1.0 + rng.range(-jitter, jitter));
        }
    }
    hosts.sort();
    Stream::build(obs, hosts, malicious)
}

// ---------------------------------------------------------------------------------------
// DNS tunnels

#[derive(Debug, Clone, Copy)]
pub enum DnsKind {
    /// iodine-like: base32 chunks of 50–60 characters, 3 queries/s for 2 minutes, NULL, TXT
    /// or A queries.
    Tunnel,
    /// dnscat/DET-like exfiltration: 60 hex characters per query, 5 queries/s for 90 s.
    Exfil,
    /// base32 chunks at one A query every 2 s: below the default thresholds.
    SlowTunnel,
}

impl DnsKind {
    pub fn name(self) -> &'static str {
        match self {
            DnsKind::Tunnel => "iodine-like tunnel, 3 q/s",
            DnsKind::Exfil => "hex exfiltration, 5 q/s",
            DnsKind::SlowTunnel => "slow tunnel, 0.5 q/s (A)",
        }
    }
}

fn encoded(rng: &mut Rng, alphabet: &[u8], n: usize) -> String {
    let mut s = String::with_capacity(n + 2);
    for i in 0..n {
        if i > 0 && i % 40 == 0 {
            s.push('.');
        }
        s.push(char::from(*rng.pick(alphabet)));
    }
    s
}

pub fn dns_stream(seed: u64, kind: DnsKind) -> Stream {
    let mut rng = Rng::new(seed ^ 0xd25);
    let secs = 600;
    let mut obs = Vec::new();
    let mut hosts = benign_hosts(&mut obs, &mut rng, 10, secs);
    let mut malicious = BTreeSet::new();
    const BASE32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    const HEX: &[u8] = b"0123456789abcdef";
    for &src in hosts.iter().take(2) {
        malicious.insert(src);
        let parent = rng
            .pick(&["tunnel-example.com", "c2dns.net", "updates-cdn.org"])
            .to_string();
        let t0 = rng.range(30.0, 300.0);
        let (rate, dur, alphabet, len) = match kind {
            DnsKind::Tunnel => (3.0, 120.0, BASE32, 50 + rng.below(11) as usize),
            DnsKind::Exfil => (5.0, 90.0, HEX, 60),
            DnsKind::SlowTunnel => (0.5, 300.0, BASE32, 55),
        };
        let rrtype = match kind {
            DnsKind::Tunnel => *rng.pick(&[10u16, 16, 1]),
            DnsKind::Exfil => 1,
            DnsKind::SlowTunnel => 1,
        };
        let n = (rate * dur) as usize;
        for i in 0..n {
            let t = ((t0 + i as f64 / rate) * S as f64) as i64;
            let name = format!("{}.{}.{parent}", encoded(&mut rng, alphabet, len), i % 1000);
            dns(&mut obs, &mut rng, t, src, &name, rrtype);
        }
    }
    hosts.sort();
    Stream::build(obs, hosts, malicious)
}

// ---------------------------------------------------------------------------------------
// DGAs

/// Ramnit's DGA (published reverse engineering): a Park–Miller style generator seeded per
/// campaign; 8–19 letters from a–y.
pub fn ramnit(seed: u32, n: usize) -> Vec<String> {
    fn next(m: u32, state: &mut u32) -> u32 {
        let ix = i64::from(*state);
        let v = (16_807 * (ix % 127_773) - 2_836 * (ix / 127_773)) & 0xFFFF_FFFF;
        *state = v as u32;
        *state % m
    }
    let mut state = seed;
    (0..n)
        .map(|_| {
            let seed_a = state;
            let len = next(12, &mut state) + 8;
            let seed_b = state;
            let label: String = (0..len)
                .map(|_| char::from(b'a' + next(25, &mut state) as u8))
                .collect();
            let m = u64::from(seed_a) * u64::from(seed_b);
            state = (m.wrapping_add(m >> 32) & 0xFFFF_FFFF) as u32;
            format!("{label}.com")
        })
        .collect()
}

/// Conficker.A/B-style: 8–11 random letters from a date-seeded generator, five TLDs.
pub fn conficker_style(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng::new(seed ^ 0xc0f1);
    (0..n)
        .map(|_| {
            let len = 8 + rng.below(4);
            let label: String = (0..len)
                .map(|_| char::from(b'a' + rng.below(26) as u8))
                .collect();
            format!(
                "{label}.{}",
                rng.pick(&["com", "net", "org", "info", "biz"])
            )
        })
        .collect()
}

/// CryptoLocker-style: xorshift over (year, month, day), 12–15 letters.
pub fn cryptolocker_style(seed: u32, n: usize) -> Vec<String> {
    fn step(y: &mut u32, m: &mut u32, d: &mut u32) -> u32 {
        *y = ((*y ^ y.wrapping_mul(8)) >> 11) ^ ((*y & 0xFFFF_FFF0) << 17);
        *m = ((*m ^ m.wrapping_mul(4)) >> 25) ^ (m.wrapping_mul(16) & 0xFFFF_FF80);
        *d = ((*d ^ (*d << 13)) >> 19) ^ ((*d & 0xFFFF_FFFE) << 12);
        *y ^ *m ^ *d
    }
    let (mut y, mut m, mut d) = (2013u32 ^ seed, 10u32, 1u32.wrapping_add(seed));
    (0..n)
        .map(|i| {
            d = d.wrapping_add(i as u32).wrapping_mul(2_654_435_761) | 1;
            y |= 0x100;
            let len = 12 + step(&mut y, &mut m, &mut d) % 4;
            let label: String = (0..len)
                .map(|_| char::from(b'a' + (step(&mut y, &mut m, &mut d) % 25) as u8))
                .collect();
            format!(
                "{label}.{}",
                ["com", "net", "biz", "ru", "org", "co.uk", "info"][i % 7]
            )
        })
        .collect()
}

/// Bamital-style: MD5 of a date string and counter, 16–32 hex digits.
pub fn md5_hex(seed: u64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let digest = Md5::digest(format!("{seed}-2024-05-{:02}-{i}", i % 28 + 1));
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            let len = [16, 20, 24, 32][i % 4];
            format!("{}.info", &hex[..len])
        })
        .collect()
}

const WORDS: &[&str] = &[
    "table", "window", "green", "money", "house", "river", "stone", "light", "paper", "music",
    "water", "garden", "silver", "market", "friend", "summer", "winter", "yellow", "purple",
    "orange", "castle", "dragon", "forest", "planet", "rocket", "bridge", "butter", "candle",
    "doctor", "engine", "family", "finger", "flower", "guitar", "hammer", "island", "jacket",
    "kitchen", "ladder", "letter", "mirror", "monkey", "needle", "office", "pencil", "pocket",
    "rabbit", "record", "school", "shadow", "spring", "street", "ticket", "travel", "valley",
    "wonder", "animal", "answer", "better", "border", "bottle", "branch", "breath", "carpet",
    "center", "circle", "coffee", "corner", "country", "danger", "dinner", "effort", "energy",
    "father", "figure", "future", "golden", "ground", "health", "heaven", "honest", "hunter",
    "income", "leader", "matter", "member", "minute", "mother", "nation", "nature", "number",
    "people", "period", "person", "police", "public", "reason", "result", "season", "second",
];

/// Suppobox-style: two dictionary words concatenated (expected to be hard for a character
/// model: the names are made of real words).
pub fn suppobox_style(seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng::new(seed ^ 0x5ab0);
    (0..n)
        .map(|_| format!("{}{}.net", rng.pick(WORDS), rng.pick(WORDS)))
        .collect()
}

/// The evaluation families, `n` names each.
pub fn dga_families(n: usize) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("ramnit", ramnit(0x7915_9c10, n)),
        ("conficker-style", conficker_style(1, n)),
        ("cryptolocker-style", cryptolocker_style(7, n)),
        ("md5-hex", md5_hex(3, n)),
        ("suppobox-style", suppobox_style(4, n)),
    ]
}

#[derive(Debug, Clone, Copy)]
pub enum DgaKind {
    RandomLetters,
    Ramnit,
    Dictionary,
}

impl DgaKind {
    pub fn name(self) -> &'static str {
        match self {
            DgaKind::RandomLetters => "conficker-style, 10 names per 5 min",
            DgaKind::Ramnit => "ramnit, 10 names per 5 min",
            DgaKind::Dictionary => "suppobox-style, 10 names per 5 min",
        }
    }
}

/// Benign hosts browse and, when `long_tail` is not empty, also resolve a long-tail site
/// from it every 20 s on average; malicious hosts add a burst of 10 generated names every
/// 5 minutes.
pub fn dga_stream(seed: u64, kind: DgaKind, long_tail: &[String]) -> Stream {
    let mut rng = Rng::new(seed ^ 0xd6a);
    let secs = 1_800;
    let mut obs = Vec::new();
    let mut hosts = benign_hosts(&mut obs, &mut rng, 10, secs);
    for &src in &hosts {
        if long_tail.is_empty() {
            break;
        }
        let mut t = rng.exp(20.0);
        while t < secs as f64 {
            let name = format!("www.{}", rng.pick(long_tail));
            dns(&mut obs, &mut rng, (t * S as f64) as i64, src, &name, 1);
            t += rng.exp(20.0);
        }
    }
    let mut malicious = BTreeSet::new();
    for (k, &src) in hosts.iter().take(2).enumerate() {
        malicious.insert(src);
        let names = match kind {
            DgaKind::RandomLetters => conficker_style(seed * 7 + k as u64, 60),
            DgaKind::Ramnit => ramnit((seed as u32).wrapping_mul(2_654_435_761) ^ k as u32, 60),
            DgaKind::Dictionary => suppobox_style(seed * 7 + k as u64, 60),
        };
        let mut t = rng.range(10.0, 300.0);
        for chunk in names.chunks(10) {
            for (i, n) in chunk.iter().enumerate() {
                dns(
                    &mut obs,
                    &mut rng,
                    ((t + i as f64 * 0.3) * S as f64) as i64,
                    src,
                    n,
                    1,
                );
            }
            t += 300.0;
        }
    }
    hosts.sort();
    Stream::build(obs, hosts, malicious)
}
