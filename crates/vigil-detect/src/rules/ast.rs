//! The typed form of a Suricata rule.
//!
//! A [`Rule`] keeps every option as written ([`RuleOption`]: keyword, raw value and the parsed
//! form where Vigil parses it), the header in typed form, the meta options pulled out
//! (msg, sid, ...), and [`Rule::detects`]: the payload-inspecting options in rule order with the
//! buffer each one applies to resolved (sticky buffers, legacy content modifiers, pcre buffer
//! flags) and content modifiers folded into their content. That list is what an executor walks.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Where a rule came from: file name (as given to the parser) and 1-based line of its first
/// physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: Arc<str>,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Rule action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Alert,
    Pass,
    Drop,
    Reject,
    RejectSrc,
    RejectDst,
    RejectBoth,
    /// Suricata 7 config rules (`config dns ... (config: logging disable, ...)`).
    Config,
    /// Suricata 8 firewall rules.
    Accept,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s.to_ascii_lowercase().as_str() {
            "alert" => Action::Alert,
            "pass" => Action::Pass,
            "drop" => Action::Drop,
            "reject" => Action::Reject,
            "rejectsrc" => Action::RejectSrc,
            "rejectdst" => Action::RejectDst,
            "rejectboth" => Action::RejectBoth,
            "config" => Action::Config,
            "accept" => Action::Accept,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Pass => "pass",
            Action::Drop => "drop",
            Action::Reject => "reject",
            Action::RejectSrc => "rejectsrc",
            Action::RejectDst => "rejectdst",
            Action::RejectBoth => "rejectboth",
            Action::Config => "config",
            Action::Accept => "accept",
        }
    }
}

/// `->`, `<>` or Suricata 8's transactional `=>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `->`
    ToDst,
    /// `<>`: either way round.
    Both,
    /// `=>`: one transaction, request side matches src→dst and response side dst→src.
    Transactional,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToDst => "->",
            Direction::Both => "<>",
            Direction::Transactional => "=>",
        }
    }
}

/// An IP network: address and prefix length (32/128 for a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// Source or destination address of the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrSpec {
    Any,
    /// `$HOME_NET`: name without the `$`.
    Var(String),
    Net(IpNet),
    /// `a-b`, inclusive, same family.
    Range(IpAddr, IpAddr),
    Not(Box<AddrSpec>),
    List(Vec<AddrSpec>),
}

/// Source or destination port of the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    Any,
    /// `$HTTP_PORTS`: name without the `$`.
    Var(String),
    Port(u16),
    /// `a:b`, `a:` (to 65535) and `:b` (from 0), inclusive.
    Range(u16, u16),
    Not(Box<PortSpec>),
    List(Vec<PortSpec>),
}

/// Where a content, pcre, bsize ... inspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buffer {
    /// The packet payload or reassembled stream (no sticky buffer, or after `pkt_data`).
    Payload,
    /// A sticky buffer by its canonical Suricata name: `"dns.query"`, `"tls.sni"`,
    /// `"http.uri"`, `"ja3.hash"`, ... Legacy names are mapped (`dns_query` → `dns.query`,
    /// `content:..; http_uri;` → `http.uri`).
    Sticky(&'static str),
}

impl Buffer {
    pub fn name(self) -> &'static str {
        match self {
            Buffer::Payload => "pkt_data",
            Buffer::Sticky(n) => n,
        }
    }
}

/// A number or a `byte_extract`/`byte_math` variable name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Num {
    Lit(i64),
    Var(String),
}

/// `fast_pattern`, `fast_pattern:only`, `fast_pattern:offset,length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastPattern {
    Default,
    Only,
    Chop { offset: u16, length: u16 },
}

/// A content match with its modifiers folded in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    /// The bytes to find: `|41 42|` hex and `\;` `\"` `\\` `\:` escapes decoded.
    pub pattern: Vec<u8>,
    pub negated: bool,
    pub nocase: bool,
    pub rawbytes: bool,
    pub depth: Option<Num>,
    pub offset: Option<Num>,
    pub distance: Option<Num>,
    pub within: Option<Num>,
    pub startswith: bool,
    pub endswith: bool,
    pub fast_pattern: Option<FastPattern>,
}

/// `pcre:"/pattern/flags"`. The pattern is kept as written (PCRE syntax); see
/// [`crate::rules::pcre`] for the translation to the `regex` crate.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pcre {
    pub pattern: String,
    /// The modifier letters as written.
    pub flags: String,
    pub negated: bool,
    /// `i`
    pub caseless: bool,
    /// `s`
    pub dotall: bool,
    /// `m`
    pub multiline: bool,
    /// `x`
    pub extended: bool,
    /// `A`
    pub anchored: bool,
    /// `E`
    pub dollar_endonly: bool,
    /// `G`
    pub ungreedy: bool,
    /// `R`: relative to the previous match.
    pub relative: bool,
    /// `B` (no effect, as in Suricata).
    pub rawbytes: bool,
    /// `O`: override the match limits.
    pub match_limit: bool,
    /// Buffer selected by a flag (`U` http.uri, `H` http.header, `W` http.host, ...).
    pub buffer_flag: Option<(char, &'static str)>,
    /// Anything after the flags (`, flow:name` capture syntax).
    pub capture: Option<String>,
}

/// Integer comparisons used by bsize, dsize, urilen, ttl, itype, icode, ...
/// Ranges follow Suricata: `a<>b` and `a-b` are exclusive on both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntMatch {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    /// `lo < x < hi`
    Range(u64, u64),
    /// `!(lo < x < hi)`
    NotRange(u64, u64),
}

impl IntMatch {
    pub fn matches(self, x: u64) -> bool {
        match self {
            IntMatch::Eq(v) => x == v,
            IntMatch::Ne(v) => x != v,
            IntMatch::Lt(v) => x < v,
            IntMatch::Le(v) => x <= v,
            IntMatch::Gt(v) => x > v,
            IntMatch::Ge(v) => x >= v,
            IntMatch::Range(lo, hi) => lo < x && x < hi,
            IntMatch::NotRange(lo, hi) => !(lo < x && x < hi),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowDirection {
    /// `to_server` / `from_client`
    ToServer,
    /// `to_client` / `from_server`
    ToClient,
}

/// `flow:established,to_server`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlowSpec {
    pub direction: Option<FlowDirection>,
    pub established: bool,
    pub not_established: bool,
    pub stateless: bool,
    pub only_stream: bool,
    pub no_stream: bool,
    pub only_frag: bool,
    pub no_frag: bool,
    /// The options as written (lower-case), in order.
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitsCommand {
    Set,
    IsSet,
    IsNotSet,
    Unset,
    Toggle,
    NoAlert,
}

/// How several names of one flowbits option combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitsGroup {
    Single,
    /// `a|b`: any of them.
    Any,
    /// `a&b`: all of them.
    All,
}

/// `flowbits:isset,ET.foo|ET.bar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flowbits {
    pub command: BitsCommand,
    pub names: Vec<String>,
    pub group: BitsGroup,
}

/// `xbits:set,name,track ip_src,expire 60`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xbits {
    pub command: BitsCommand,
    pub name: String,
    pub track: Option<String>,
    pub expire: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdType {
    Limit,
    Threshold,
    Both,
    Backoff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    BySrc,
    ByDst,
    ByRule,
    ByBoth,
    ByFlow,
}

/// `threshold: type limit, track by_src, count 1, seconds 60`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    pub kind: ThresholdType,
    pub track: Track,
    pub count: u32,
    /// 0 for `backoff`, which has none.
    pub seconds: u32,
    /// `backoff` only.
    pub multiplier: Option<u32>,
}

/// `detection_filter: track by_src, count 5, seconds 60`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectionFilter {
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IprepSide {
    Any,
    Src,
    Dst,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn parse(s: &str) -> Option<CmpOp> {
        Some(match s {
            "<" => CmpOp::Lt,
            "<=" => CmpOp::Le,
            ">" => CmpOp::Gt,
            ">=" => CmpOp::Ge,
            "=" | "==" => CmpOp::Eq,
            "!=" => CmpOp::Ne,
            _ => return None,
        })
    }

    pub fn eval(self, a: u64, b: u64) -> bool {
        match self {
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
        }
    }
}

/// `iprep:src,CnC,>,30` (or `iprep:src,CnC,isset`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iprep {
    pub side: IprepSide,
    pub category: String,
    /// `None` with `isset`/`isnotset`.
    pub cmp: Option<(CmpOp, u8)>,
    /// `Some(true)` for `isset`, `Some(false)` for `isnotset`.
    pub isset: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    String,
    Md5,
    Sha256,
    Ipv4,
    Ipv6,
    /// `ip`: IPv4 or IPv6.
    Ip,
}

impl DataType {
    pub fn parse(s: &str) -> Option<DataType> {
        Some(match s {
            "string" => DataType::String,
            "md5" => DataType::Md5,
            "sha256" => DataType::Sha256,
            "ipv4" => DataType::Ipv4,
            "ipv6" => DataType::Ipv6,
            "ip" => DataType::Ip,
            _ => return None,
        })
    }

    /// The name as written in rules and suricata.yaml.
    pub fn as_str(self) -> &'static str {
        match self {
            DataType::String => "string",
            DataType::Md5 => "md5",
            DataType::Sha256 => "sha256",
            DataType::Ipv4 => "ipv4",
            DataType::Ipv6 => "ipv6",
            DataType::Ip => "ip",
        }
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetCommand {
    Set,
    IsSet,
    IsNotSet,
    Unset,
}

/// `dataset:isset,name,type string,load file.lst,memcap 10mb,hashsize 1024`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub command: DatasetCommand,
    pub name: String,
    pub data_type: Option<DataType>,
    pub load: Option<String>,
    pub save: Option<String>,
    pub state: Option<String>,
    pub memcap: Option<String>,
    pub hashsize: Option<u64>,
    /// Suricata 8 JSON enrichment (`format json`, `context_key`, `value_key`, ...), as written.
    pub json: Vec<(String, String)>,
}

/// `datarep:name, >, 200, load file.rep, type string`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datarep {
    pub name: String,
    pub op: CmpOp,
    pub value: u64,
    pub data_type: Option<DataType>,
    pub load: Option<String>,
    pub memcap: Option<String>,
    pub hashsize: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    SrcIp,
    DestIp,
}

/// `tag:session,10,packets` / `tag:host,60,seconds,src`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub kind: String,
    pub count: Option<u32>,
    pub metric: Option<String>,
    pub direction: Option<String>,
}

/// `byte_test:4,>,1000,0,relative,little`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteTest {
    pub bytes: u8,
    pub negated: bool,
    pub op: String,
    pub value: Num,
    pub offset: Num,
    /// relative, big, little, dce, string, hex, dec, oct, ...
    pub flags: Vec<String>,
    pub bitmask: Option<u64>,
}

/// `byte_jump:4,0,relative,little,post_offset -1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteJump {
    pub bytes: Num,
    pub offset: Num,
    pub flags: Vec<String>,
    pub multiplier: Option<u64>,
    pub post_offset: Option<Num>,
    pub bitmask: Option<u64>,
}

/// `byte_extract:2,0,len,relative`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteExtract {
    pub bytes: u8,
    pub offset: i64,
    pub name: String,
    pub flags: Vec<String>,
    pub multiplier: Option<u64>,
    pub align: Option<u8>,
    pub bitmask: Option<u64>,
}

/// `byte_math:bytes 1, offset 1, oper +, rvalue 2, result var`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteMath {
    pub bytes: Num,
    pub offset: i64,
    pub oper: String,
    pub rvalue: Num,
    pub result: String,
    pub flags: Vec<String>,
    pub bitmask: Option<u64>,
}

/// `isdataat:!1,relative`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isdataat {
    pub negated: bool,
    pub offset: Num,
    pub relative: bool,
    pub rawbytes: bool,
}

/// Buffer transformations (they follow a sticky buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    Dotprefix,
    ToLowercase,
    ToUppercase,
    ToMd5,
    ToSha1,
    ToSha256,
    StripWhitespace,
    CompressWhitespace,
    UrlDecode,
    HeaderLowercase,
    StripPseudoHeaders,
    Domain,
    Tld,
    /// `pcrexform:"regex"`
    Pcrexform(String),
    /// `xor:"0d0ac8ff"`: the key.
    Xor(Vec<u8>),
    /// Any other transform, by keyword, with its raw value.
    Other(&'static str, Option<String>),
}

/// The parsed form of one option (where Vigil parses it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionValue {
    /// Parsed generically: see [`RuleOption::value`].
    Generic,
    Msg(String),
    Sid(u32),
    Rev(u32),
    Gid(u32),
    Classtype(String),
    Priority(u8),
    Reference(Reference),
    Metadata(Vec<(String, String)>),
    Target(Target),
    Tag(Tag),
    Noalert,
    /// content (or uricontent) as written, before its modifiers.
    Content(Content),
    Nocase,
    Rawbytes,
    Depth(Num),
    Offset(Num),
    Distance(Num),
    Within(Num),
    StartsWith,
    EndsWith,
    FastPattern(FastPattern),
    /// A sticky buffer keyword (`dns.query`, `http.uri`, `dns_query`, `pkt_data`, ...).
    StickyBuffer(Buffer),
    /// A legacy content modifier (`http_uri`, `http_host`, ...): moves the previous content.
    ContentModifier(Buffer),
    /// A legacy value keyword that is a content match on a buffer: `tls.subject:"CN=x"`
    /// (substring of `tls.cert_subject`), `tls.issuerdn` (`tls.cert_issuer`),
    /// `tls.fingerprint` (case-insensitive substring of `tls.cert_fingerprint`); `!` negates.
    BufferContent {
        buffer: Buffer,
        content: Content,
    },
    Transform(Transform),
    Bsize(IntMatch),
    Dsize(IntMatch),
    Urilen {
        cmp: IntMatch,
        raw: bool,
    },
    /// ttl, itype, icode, id, icmp_id, icmp_seq, tcp.window, ... (integer header keywords)
    Int(IntMatch),
    Pcre(Pcre),
    Flow(FlowSpec),
    Flowbits(Flowbits),
    Xbits(Xbits),
    Threshold(Threshold),
    DetectionFilter(DetectionFilter),
    Iprep(Iprep),
    Dataset(Dataset),
    Datarep(Datarep),
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    ByteExtract(ByteExtract),
    ByteMath(ByteMath),
    Isdataat(Isdataat),
    /// `app-layer-protocol:!http` (negated, protocol, optional mode).
    AppLayerProtocol {
        negated: bool,
        protocol: String,
        mode: Option<String>,
    },
    /// `app-layer-event:http.request_field_too_long`
    AppLayerEvent(String),
    /// `ssl_state:client_hello|server_hello`, `ssl_version:sslv3,tls1.0`, `tls.version:1.2`
    /// (entries as written, `!` kept).
    NameList(Vec<String>),
    /// `stream_size:server,>,100`
    StreamSize {
        side: String,
        op: CmpOp,
        value: u64,
    },
    /// `lua:script.lua` (negation, script)
    Lua {
        negated: bool,
        script: String,
    },
    /// `base64_decode:bytes 150,offset 0,relative`
    Base64Decode {
        bytes: Option<u32>,
        offset: Option<u32>,
        relative: bool,
    },
    /// `flowint:name,+,1` (name, operator, value)
    Flowint {
        name: String,
        op: String,
        value: Option<String>,
    },
    /// `ip_proto:!6`, `ip_proto:tcp`
    IpProto {
        op: Option<char>,
        proto: String,
    },
}

/// One `keyword[:value];` option, as written and as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOption {
    /// Lower-cased keyword as written (an alias stays an alias: `dns_query`).
    pub keyword: String,
    /// The raw value, whitespace-trimmed, quotes and escapes kept; `None` for `keyword;`.
    pub value: Option<String>,
    pub parsed: OptionValue,
}

/// What a [`Detect`] inspects with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectKind {
    Content(Content),
    Pcre(Pcre),
    Bsize(IntMatch),
    Isdataat(Isdataat),
    ByteTest(ByteTest),
    ByteJump(ByteJump),
    ByteExtract(ByteExtract),
    ByteMath(ByteMath),
    Dataset(Dataset),
    Datarep(Datarep),
}

/// One buffer-inspecting step of a rule, in rule order, with its buffer resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detect {
    pub buffer: Buffer,
    /// Transforms applied to the buffer before inspection (in order).
    pub transforms: Vec<Transform>,
    pub kind: DetectKind,
    /// Index in [`Rule::options`] of the option that created this step.
    pub option: usize,
}

/// One parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    /// Suricata 8 firewall action scope (`accept:flow` → `flow`).
    pub action_scope: Option<String>,
    /// Lower-case protocol name: `ip`, `tcp`, `udp`, `icmp`, `dns`, `tls`, `http`, ...
    pub proto: &'static str,
    /// Suricata 8 firewall hook (`http1:request_headers` → `request_headers`).
    pub proto_hook: Option<String>,
    pub src: AddrSpec,
    pub src_ports: PortSpec,
    pub direction: Direction,
    pub dst: AddrSpec,
    pub dst_ports: PortSpec,
    pub options: Vec<RuleOption>,
    /// Unescaped `msg`, empty when absent.
    pub msg: String,
    pub sid: u32,
    /// 0 when absent.
    pub rev: u32,
    /// 1 when absent.
    pub gid: u32,
    pub classtype: Option<String>,
    /// Explicit `priority`; see [`Rule::effective_priority`] for the classtype default.
    pub priority: Option<u8>,
    pub references: Vec<Reference>,
    pub metadata: Vec<(String, String)>,
    pub flow: Option<FlowSpec>,
    pub flowbits: Vec<Flowbits>,
    pub threshold: Option<Threshold>,
    pub detection_filter: Option<DetectionFilter>,
    pub target: Option<Target>,
    /// `noalert` or `flowbits:noalert`.
    pub noalert: bool,
    /// Buffer-inspecting steps in rule order (see [`Detect`]).
    pub detects: Vec<Detect>,
    /// The rule came from a commented-out line (`#alert ...`).
    pub commented: bool,
    pub location: Location,
    /// The rule text as parsed (continuation lines joined, leading `#` removed).
    pub text: String,
}

impl Rule {
    /// The explicit priority, else the classtype's from `table`, else 3 (Suricata's default).
    pub fn effective_priority(
        &self,
        table: &crate::rules::classification::ClassificationTable,
    ) -> u8 {
        self.priority
            .or_else(|| {
                self.classtype
                    .as_deref()
                    .and_then(|c| table.get(c))
                    .map(|c| c.priority)
            })
            .unwrap_or(3)
    }

    /// Options with this (lower-case) keyword, as written.
    pub fn options_named<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a RuleOption> {
        self.options.iter().filter(move |o| o.keyword == keyword)
    }
}
