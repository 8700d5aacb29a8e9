//! Suricata EVE JSON events.
//!
//! Field names follow Suricata 8's `etc/schema.json` so SIEMs, Evebox and Malcolm read Vigil's
//! output unchanged. Events are plain borrowed structs serialised with serde in declaration
//! order, so output is byte-for-byte deterministic.

use crate::pcap::Timestamp;
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::str::FromStr;

/// The event types Vigil writes. `--eve-types` selects a subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    Alert,
    Dns,
    Tls,
    Http,
    Flow,
    Stats,
}

impl EventType {
    pub const ALL: [EventType; 6] = [
        EventType::Alert,
        EventType::Dns,
        EventType::Tls,
        EventType::Http,
        EventType::Flow,
        EventType::Stats,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Alert => "alert",
            EventType::Dns => "dns",
            EventType::Tls => "tls",
            EventType::Http => "http",
            EventType::Flow => "flow",
            EventType::Stats => "stats",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown EVE event type {0:?} (expected a comma-separated list of alert, dns, tls, http, flow, stats)")]
pub struct UnknownEventType(pub String);

impl FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownEventType(s.to_string()))
    }
}

/// A set of event types, cheap to copy into every worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTypes(u8);

impl EventTypes {
    pub fn all() -> Self {
        EventTypes(EventType::ALL.iter().fold(0, |acc, t| acc | t.bit()))
    }
    pub fn none() -> Self {
        EventTypes(0)
    }
    pub fn with(self, t: EventType) -> Self {
        EventTypes(self.0 | t.bit())
    }
    pub fn contains(self, t: EventType) -> bool {
        self.0 & t.bit() != 0
    }
    /// Parses `alert,dns,…`.
    pub fn parse_list(s: &str) -> Result<Self, UnknownEventType> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .try_fold(EventTypes::none(), |acc, p| Ok(acc.with(p.parse()?)))
    }
}

impl Default for EventTypes {
    fn default() -> Self {
        EventTypes::all()
    }
}

/// Suricata's timestamp format: `2024-01-31T12:34:56.123456+0000` (UTC).
pub fn format_timestamp(ts: Timestamp, out: &mut String) {
    let days = ts.secs.div_euclid(86_400);
    let rem = ts.secs.rem_euclid(86_400);
    let (y, m, d) = vigil_intel::timestamp::civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}+0000",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        ts.nanos / 1000
    );
}

pub fn timestamp_string(ts: Timestamp) -> String {
    let mut s = String::with_capacity(31);
    format_timestamp(ts, &mut s);
    s
}

/// IANA protocol names as Suricata prints them.
pub fn proto_name(proto: u8) -> std::borrow::Cow<'static, str> {
    std::borrow::Cow::Borrowed(match proto {
        1 => "ICMP",
        2 => "IGMP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        58 => "IPv6-ICMP",
        132 => "SCTP",
        other => return std::borrow::Cow::Owned(other.to_string()),
    })
}

/// Fields every flow-bound event shares.
#[derive(Serialize)]
pub struct Header<'a> {
    pub timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcap_cnt: Option<u64>,
    pub event_type: &'static str,
    pub src_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    pub dest_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// 4 or 6 (Suricata 8).
    pub ip_v: u8,
    pub proto: std::borrow::Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community_id: Option<&'a str>,
}

/// An event: the shared header flattened, then one type-specific body.
#[derive(Serialize)]
pub struct Event<'a, B: Serialize> {
    #[serde(flatten)]
    pub header: Header<'a>,
    #[serde(flatten)]
    pub body: B,
}

#[derive(Serialize)]
pub struct AlertBody<'a, M: Serialize, V: Serialize> {
    pub alert: AlertInfo<'a, M>,
    /// Vigil's provenance and scoring: [`VigilInfo`] for indicator hits, [`RuleVigil`] for
    /// rule alerts.
    pub vigil: V,
    #[serde(flatten)]
    pub record: AlertRecord<'a>,
}

/// The rest of an alert: the app-layer record that triggered it, as Suricata attaches it, the
/// flow, and the configured extras.
#[derive(Serialize)]
pub struct AlertRecord<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<&'a DnsEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<&'a TlsEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<&'a HttpEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<AlertFlow>,
    /// eve-log alert `verdict: yes`: what an IDS does with the packet (`alert`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// eve-log `ethernet: yes`: the frame's MAC addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ether: Option<Ether>,
}

#[derive(Serialize)]
pub struct Ether {
    pub src_mac: String,
    pub dest_mac: String,
}

impl Ether {
    /// From the first 12 bytes of an Ethernet frame (destination, then source).
    pub fn from_macs(m: [u8; 12]) -> Ether {
        let fmt = |b: &[u8]| {
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        };
        Ether {
            dest_mac: fmt(&m[..6]),
            src_mac: fmt(&m[6..]),
        }
    }
}

#[derive(Serialize)]
pub struct Verdict {
    pub action: &'static str,
}

#[derive(Serialize)]
pub struct AlertInfo<'a, M: Serialize> {
    pub action: &'static str,
    pub gid: u32,
    pub signature_id: u32,
    pub rev: u32,
    pub signature: &'a str,
    pub category: &'a str,
    pub severity: u8,
    /// Suricata omits `metadata` for a rule without any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<&'a M>,
    /// With the rule's `target` keyword: the attacking and the attacked side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Endpoint>,
    /// JSON dataset entries the rule matched, by context key (Suricata 8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<&'a serde_json::Value>,
    /// The rule text, when the eve-log alert `metadata: {rule: {raw: true}}` asks for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'a str>,
}

#[derive(Serialize, Clone, Copy)]
pub struct Endpoint {
    pub ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// The flow an alert belongs to, as Suricata logs it with the alert.
#[derive(Serialize)]
pub struct AlertFlow {
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    pub start: String,
    pub src_ip: IpAddr,
    pub dest_ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
}

/// The `vigil` object of a rule alert: where the rule came from and how much to trust it.
#[derive(Serialize)]
pub struct RuleVigil<'a> {
    /// The rule file's name (ET and other rulesets require attribution).
    pub source: &'a str,
    pub rule: RuleRef<'a>,
    pub confidence: u8,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub attack: &'a [String],
}

#[derive(Serialize)]
pub struct RuleRef<'a> {
    pub file: &'a str,
    pub line: usize,
}

#[derive(Serialize)]
pub struct VigilInfo<'a> {
    pub indicator: IndicatorInfo<'a>,
    pub source: &'a str,
    /// 0–100: the indicator's confidence × source reliability × age decay.
    pub confidence: u8,
    /// How `confidence` was reached, e.g. `base 80 × reliability B 0.90 × decay 0.50 (...)`.
    pub score: &'a str,
    /// The feed's Admiralty grade, when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reliability: Option<&'static str>,
    pub matched_field: &'static str,
}

#[derive(Serialize)]
pub struct IndicatorInfo<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'a str>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct DnsEvent {
    pub version: u8,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: u16,
    pub flags: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub qr: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub aa: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tc: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rd: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ra: bool,
    pub opcode: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rcode: Option<String>,
    pub queries: Vec<DnsQueryEvent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<DnsAnswerEvent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorities: Vec<DnsAnswerEvent>,
}

#[derive(Serialize, Clone, Debug)]
pub struct DnsQueryEvent {
    pub rrname: String,
    pub rrtype: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct DnsAnswerEvent {
    pub rrname: String,
    pub rrtype: String,
    pub ttl: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdata: Option<String>,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct TlsEvent {
    /// Subject of the server's certificate (Suricata's `X509Name` string form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Issuer of the server's certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuerdn: Option<String>,
    /// Serial of the server's certificate (`00:9A:...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// SHA-1 of the server's certificate (`90:86:a4:...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    pub version: &'static str,
    /// Validity start of the server's certificate, `YYYY-MM-DDTHH:MM:SS` (UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notbefore: Option<String>,
    /// Validity end of the server's certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notafter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3s: Option<Fingerprint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub client_alpns: Vec<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct Fingerprint {
    pub hash: String,
    pub string: String,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct HttpEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_port: Option<u16>,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_user_agent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_refer: Option<String>,
    pub http_method: String,
    pub protocol: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub length: u64,
}

#[derive(Serialize)]
pub struct FlowBody<'a> {
    pub flow: FlowInfo<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpInfo>,
}

#[derive(Serialize)]
pub struct FlowInfo<'a> {
    pub pkts_toserver: u64,
    pub pkts_toclient: u64,
    pub bytes_toserver: u64,
    pub bytes_toclient: u64,
    pub start: String,
    pub end: String,
    pub age: i64,
    pub state: &'static str,
    pub reason: &'a str,
    pub alerted: bool,
}

#[derive(Serialize)]
pub struct TcpInfo {
    pub tcp_flags: String,
    pub tcp_flags_ts: String,
    pub tcp_flags_tc: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub syn: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fin: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rst: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub psh: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ack: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub urg: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ecn: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cwr: bool,
}

impl TcpInfo {
    pub fn from_flags(ts: u8, tc: u8) -> TcpInfo {
        use crate::decode::tcp_flags::*;
        let all = ts | tc;
        TcpInfo {
            tcp_flags: format!("{all:02x}"),
            tcp_flags_ts: format!("{ts:02x}"),
            tcp_flags_tc: format!("{tc:02x}"),
            syn: all & SYN != 0,
            fin: all & FIN != 0,
            rst: all & RST != 0,
            psh: all & PSH != 0,
            ack: all & ACK != 0,
            urg: all & URG != 0,
            ecn: all & ECE != 0,
            cwr: all & CWR != 0,
        }
    }
}

#[derive(Serialize)]
pub struct StatsEvent<'a> {
    pub timestamp: String,
    pub event_type: &'static str,
    pub stats: &'a serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_suricata_format_in_utc() {
        let ts = Timestamp {
            secs: 1_358_380_463,
            nanos: 366_133_999,
        };
        assert_eq!(timestamp_string(ts), "2013-01-16T23:54:23.366133+0000");
        assert_eq!(
            timestamp_string(Timestamp { secs: 0, nanos: 0 }),
            "1970-01-01T00:00:00.000000+0000"
        );
        // Leap day and pre-epoch dates still format correctly.
        assert_eq!(
            timestamp_string(Timestamp {
                secs: 951_782_400,
                nanos: 0
            }),
            "2000-02-29T00:00:00.000000+0000"
        );
        assert_eq!(
            timestamp_string(Timestamp { secs: -1, nanos: 0 }),
            "1969-12-31T23:59:59.000000+0000"
        );
    }

    #[test]
    fn eve_types_parse_from_a_comma_list_and_reject_unknown_names() {
        let t = EventTypes::parse_list("alert, dns").unwrap();
        assert!(t.contains(EventType::Alert) && t.contains(EventType::Dns));
        assert!(!t.contains(EventType::Flow));
        let err = EventTypes::parse_list("alert,smtp").unwrap_err();
        assert!(err.to_string().contains("smtp"));
    }

    #[test]
    fn tcp_flags_render_as_suricata_hex() {
        let t = TcpInfo::from_flags(0x02 | 0x10, 0x12);
        assert_eq!(t.tcp_flags, "12");
        assert!(t.syn && t.ack && !t.fin);
    }
}

#[cfg(test)]
mod ether_tests {
    use super::Ether;

    #[test]
    fn macs_are_destination_then_source_in_lower_hex() {
        let e = Ether::from_macs([
            0, 0x25, 0x90, 0xe3, 0xd2, 0xe1, 0x0c, 0x86, 0x10, 0xed, 0xd7, 0xc6,
        ]);
        assert_eq!(e.dest_mac, "00:25:90:e3:d2:e1");
        assert_eq!(e.src_mac, "0c:86:10:ed:d7:c6");
    }
}
