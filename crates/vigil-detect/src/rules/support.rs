//! What Vigil can execute: the contract between the rule parser and the rule executor.
//!
//! A rule is executable iff its header is supported (action, [`SUPPORTED_PROTOCOLS`],
//! direction `->`, `<>` or `=>` (checked like `<>`); addresses, ports, variables, negation,
//! CIDR, ranges and lists are all supported), every option keyword is in [`SUPPORTED`], and
//! each use is supported in its detail:
//!
//! - `flow`: only `to_server`/`from_client`, `to_client`/`from_server`, `established`,
//!   `stateless`.
//! - `pcre`: must translate to the `regex` crate and compile under [`super::pcre::SIZE_LIMIT`]
//!   (no backreferences, lookaround, atomic groups, possessive quantifiers, `\K`, recursion ...),
//!   and a buffer modifier letter must select a supported buffer (`U` http.uri, `W` http.host,
//!   `M` http.method, `V` http.user_agent).
//! - `dataset`: JSON datasets (`format json|ndjson`, `context_key`, `value_key`, ...) but not
//!   `enrichment_key`.
//! - `byte_test`, `byte_jump`, `byte_extract`, `byte_math`: not with `dce` (the byte order
//!   would come from the DCERPC parser, which Vigil does not have). At compile time the
//!   executor also refuses what Suricata rejects (byte counts, bases without `string`,
//!   `from_beginning` with `from_end`, ...) and a variable used in another buffer than the
//!   one it was extracted from.
//!
//! Anything else is reported per rule as [`Unsupported`] `{ keyword, reason }`; header parts use
//! the pseudo-keywords `action:<name>`, `proto:<name>` and `proto-hook`.

use super::ast::*;
use super::pcre;

/// Option keywords the executor implements (lower-case, as written in rules: legacy forms and
/// aliases are listed explicitly). This is the contract: the executor must implement every
/// keyword here with Suricata's semantics, and a rule using any keyword not here is
/// non-executable.
///
/// - meta: `msg sid rev gid classtype priority reference metadata`
/// - payload: `content` (hex `|..|`, escapes, `!` negation) with `nocase depth offset distance
///   within startswith endswith fast_pattern` (incl. `fast_pattern:only` / `a,b`), `bsize`,
///   `isdataat`, the legacy `uricontent`, and the byte keywords `byte_test byte_jump
///   byte_extract byte_math` (their variables can feed `offset depth distance within`,
///   `isdataat`, `byte_test` and `byte_jump`)
/// - buffers: `pkt_data`, sticky `dns.query tls.sni http.host http.uri http.method
///   http.user_agent ja3.hash ja3s.hash ja4.hash tls.cert_subject tls.cert_issuer
///   tls.cert_serial tls.cert_fingerprint`, their legacy forms (`dns_query tls_sni ja3_hash
///   tls_cert_*` sticky aliases, `http_host http_uri http_method http_user_agent` content
///   modifiers, the `tls.subject tls.issuerdn tls.fingerprint` value keywords), and the
///   `dotprefix` transform
/// - state: `flow flowbits threshold detection_filter`
/// - other: `pcre iprep dataset datarep`
pub const SUPPORTED: &[&str] = &[
    // Meta.
    "msg",
    "sid",
    "rev",
    "gid",
    "classtype",
    "priority",
    "reference",
    "metadata",
    // Payload.
    "content",
    "uricontent",
    "nocase",
    "depth",
    "offset",
    "distance",
    "within",
    "startswith",
    "endswith",
    "fast_pattern",
    "bsize",
    "isdataat",
    "byte_test",
    "byte_jump",
    "byte_extract",
    "byte_math",
    // Buffers.
    "pkt_data",
    "dns.query",
    "dns_query",
    "tls.sni",
    "tls_sni",
    "http.host",
    "http_host",
    "http.uri",
    "http_uri",
    "http.method",
    "http_method",
    "http.user_agent",
    "http_user_agent",
    "ja3.hash",
    "ja3_hash",
    "ja3s.hash",
    "ja3.string",
    "ja3_string",
    "ja3s.string",
    "ja4.hash",
    "ip.src",
    "ip.dst",
    "ipv4.hdr",
    "ipv6.hdr",
    "tcp.hdr",
    "udp.hdr",
    "icmpv4.hdr",
    "icmpv6.hdr",
    "http.request_line",
    "http_request_line",
    "tls.cert_subject",
    "tls_cert_subject",
    "tls.cert_issuer",
    "tls_cert_issuer",
    "tls.cert_serial",
    "tls_cert_serial",
    "tls.cert_fingerprint",
    "tls_cert_fingerprint",
    "tls.subject",
    "tls.issuerdn",
    "tls.fingerprint",
    "dotprefix",
    "to_lowercase",
    "to_uppercase",
    "to_md5",
    "to_sha1",
    "to_sha256",
    "strip_whitespace",
    "compress_whitespace",
    "pcrexform",
    "target",
    // Flow and state.
    "flow",
    "flowbits",
    "threshold",
    "detection_filter",
    // Regex and reputation.
    "pcre",
    "iprep",
    "dataset",
    "datarep",
];

/// Header protocols the executor implements.
pub const SUPPORTED_PROTOCOLS: &[&str] = &[
    "ip",
    "tcp",
    "tcp-pkt",
    "tcp-stream",
    "udp",
    "icmp",
    "sctp",
    "dns",
    "tls",
    "http",
    "http1",
];

/// Buffers (canonical names, see [`Buffer`]) the executor implements.
pub const SUPPORTED_BUFFERS: &[&str] = &[
    "pkt_data",
    "dns.query",
    "tls.sni",
    "http.host",
    "http.uri",
    "http.method",
    "http.user_agent",
    "ja3.hash",
    "ja3s.hash",
    "ja3.string",
    "ja3s.string",
    "ja4.hash",
    "ip.src",
    "ip.dst",
    "ipv4.hdr",
    "ipv6.hdr",
    "tcp.hdr",
    "udp.hdr",
    "icmpv4.hdr",
    "icmpv6.hdr",
    "http.request_line",
    "tls.cert_subject",
    "tls.cert_issuer",
    "tls.cert_serial",
    "tls.cert_fingerprint",
];

const SUPPORTED_FLOW: &[&str] = &[
    "to_server",
    "from_client",
    "to_client",
    "from_server",
    "established",
    "not_established",
    "stateless",
];

/// One reason a rule cannot be executed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Unsupported {
    /// The keyword as written (lower-case), or a header pseudo-keyword (`proto:smtp`).
    pub keyword: String,
    pub reason: String,
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.keyword, self.reason)
    }
}

impl Rule {
    /// `Ok` if every part of the rule is in the executor's contract ([`SUPPORTED`] and the
    /// details in the module docs); otherwise every reason, sorted, one per (keyword, reason).
    /// Compiles each pcre (nothing is cached).
    pub fn executable(&self) -> Result<(), Vec<Unsupported>> {
        let mut out = Vec::new();
        let mut add = |keyword: String, reason: String| out.push(Unsupported { keyword, reason });
        match self.action {
            Action::Config | Action::Accept => add(
                format!("action:{}", self.action.as_str()),
                format!("action {} is not supported", self.action.as_str()),
            ),
            _ => {}
        }
        if let Some(scope) = &self.action_scope {
            add(
                "action-scope".into(),
                format!("firewall action scope \"{scope}\" is not supported"),
            );
        }
        if !SUPPORTED_PROTOCOLS.contains(&self.proto) {
            add(
                format!("proto:{}", self.proto),
                format!("protocol {} is not supported", self.proto),
            );
        }
        if let Some(hook) = &self.proto_hook {
            add(
                "proto-hook".into(),
                format!("firewall protocol hook \"{hook}\" is not supported"),
            );
        }

        for o in &self.options {
            if !SUPPORTED.contains(&o.keyword.as_str()) {
                add(
                    o.keyword.clone(),
                    format!("keyword {} is not supported", o.keyword),
                );
                continue;
            }
            match &o.parsed {
                OptionValue::Flow(f) => {
                    for opt in f
                        .options
                        .iter()
                        .filter(|x| !SUPPORTED_FLOW.contains(&x.as_str()))
                    {
                        add("flow".into(), format!("flow:{opt} is not supported"));
                    }
                }
                OptionValue::Pcre(p) => {
                    if let Some((letter, buf)) = p.buffer_flag {
                        if !SUPPORTED_BUFFERS.contains(&buf) {
                            add(
                                "pcre".into(),
                                format!(
                                    "pcre modifier {letter} inspects {buf}, which is not supported"
                                ),
                            );
                        }
                    }
                    if let Err(e) = pcre::compile(p) {
                        add("pcre".into(), e.to_string());
                    }
                }
                OptionValue::Dataset(d) if d.json.iter().any(|(k, _)| k == "enrichment_key") => {
                    add(
                        "dataset".into(),
                        "dataset enrichment_key is not supported".into(),
                    )
                }
                OptionValue::ByteTest(ByteTest { flags, .. })
                | OptionValue::ByteJump(ByteJump { flags, .. })
                | OptionValue::ByteExtract(ByteExtract { flags, .. })
                | OptionValue::ByteMath(ByteMath { flags, .. })
                    if flags.iter().any(|f| f == "dce") =>
                {
                    add(
                        o.keyword.clone(),
                        format!(
                            "{} with dce needs the DCERPC parser, which Vigil does not have",
                            o.keyword
                        ),
                    )
                }
                _ => {}
            }
        }
        if out.is_empty() {
            return Ok(());
        }
        out.sort();
        out.dedup();
        Err(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{keywords, parse_rule};

    fn reasons(r: &str) -> Vec<String> {
        match parse_rule(r).unwrap().executable() {
            Ok(()) => Vec::new(),
            Err(v) => v.into_iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn supported_keywords_are_real_keywords() {
        for k in SUPPORTED {
            assert!(keywords::lookup(k).is_some(), "{k}");
        }
        for b in SUPPORTED_BUFFERS {
            assert!(
                *b == "pkt_data" || keywords::lookup(b) == Some((b, keywords::Kind::Sticky(b))),
                "{b}"
            );
        }
        for p in SUPPORTED_PROTOCOLS {
            assert!(keywords::protocol(p).is_some(), "{p}");
        }
    }

    #[test]
    fn executable_rules() {
        for r in [
            r#"alert dns $HOME_NET any -> any any (msg:"x"; dns.query; dotprefix; content:".evil.com"; nocase; endswith; fast_pattern; classtype:trojan-activity; sid:1; rev:2; metadata:created_at 2024_01_01;)"#,
            r#"alert http $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:"x"; flow:established,to_server; content:"GET"; http_method; content:"/a.php?"; http_uri; depth:7; pcre:"/^\/a\.php\?id=\d+$/U"; threshold:type limit,track by_src,count 1,seconds 60; sid:2;)"#,
            r#"alert tls any any <> [10.0.0.0/8,!10.1.0.0/16] ![443,8443] (ja3.hash; content:"e7d705a3286e19ea42f587b344ee6865"; flowbits:set,ja3.bad; flowbits:noalert; sid:3;)"#,
            r#"alert ip any any -> any any (iprep:src,CnC,>,30; sid:4;)"#,
            r#"alert dns any any -> any any (dns.query; dataset:isset,bad,type string,load bad.lst; sid:5;)"#,
            r#"alert tls any any => any any (ja3.hash; content:"x"; sid:7;)"#,
            r#"alert tcp any any -> any any (content:"|00 01|"; byte_extract:2,0,len,relative; byte_test:1,!&,0x80,len,relative; byte_jump:2,0,relative,little,align,post_offset -1; byte_math:bytes 1,offset 0,oper +,rvalue len,result sum,relative; isdataat:sum,relative; content:"x"; distance:len; within:4; sid:6;)"#,
        ] {
            assert_eq!(reasons(r), Vec::<String>::new(), "{r}");
        }
    }

    #[test]
    fn non_executable_rules_say_why() {
        assert_eq!(
            reasons(
                r#"alert smtp any any -> any any (content:"x"; http_header; flow:to_server,only_stream; sid:1;)"#
            ),
            [
                "flow: flow:only_stream is not supported",
                "http_header: keyword http_header is not supported",
                "proto:smtp: protocol smtp is not supported",
            ]
        );
        assert_eq!(
            reasons(r#"alert http any any -> any any (pcre:"/(a)\1/H"; sid:1;)"#),
            [
                "pcre: pcre modifier H inspects http.header, which is not supported",
                "pcre: pcre uses a backreference, which the regex crate cannot run",
            ]
        );
        assert_eq!(
            reasons(r#"alert http any any -> any any (content:"x"; pcre:"/foo(?=bar)/"; sid:1;)"#),
            ["pcre: pcre uses lookaround, which the regex crate cannot run"]
        );
        assert_eq!(
            reasons(
                r#"alert tcp any any -> any any (content:"x"; byte_test:4,>,5,0,relative,dce; byte_math:bytes 2,offset 0,oper +,rvalue 1,result r,dce; sid:1;)"#
            ),
            [
                "byte_math: byte_math with dce needs the DCERPC parser, which Vigil does not have",
                "byte_test: byte_test with dce needs the DCERPC parser, which Vigil does not have",
            ]
        );
    }
}
