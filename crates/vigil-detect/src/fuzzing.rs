//! Fuzz entry points. The cargo-fuzz targets in `fuzz/` call these, and the test suite runs a
//! deterministic smoke pass of each over mutated real inputs, so a panic shows up in CI even
//! without a fuzzer.

use crate::app::{dns, http, tls, x509};
use crate::decode;
use crate::pcap::{self, CaptureReader};

/// Reads a whole capture and decodes every packet.
pub fn capture(data: &[u8]) {
    let Ok(mut r) = CaptureReader::new(data) else {
        return;
    };
    let mut n = 0;
    while let Ok(Some(p)) = r.next_packet() {
        let _ = decode::decode(p.linktype, p.data);
        n += 1;
        if n > 100_000 {
            break;
        }
    }
}

/// Decodes one frame under every supported link type.
pub fn decode(data: &[u8]) {
    for lt in [
        pcap::LINKTYPE_NULL,
        pcap::LINKTYPE_ETHERNET,
        pcap::LINKTYPE_RAW,
        pcap::LINKTYPE_LOOP,
        pcap::LINKTYPE_LINUX_SLL,
        pcap::LINKTYPE_IPV4,
        pcap::LINKTYPE_IPV6,
        pcap::LINKTYPE_LINUX_SLL2,
    ] {
        let _ = decode::decode(lt, data);
    }
    let _ = decode::decode_ip(data, [0, 0], 0);
}

/// A DNS message, as UDP payload and as a TCP stream.
pub fn dns(data: &[u8]) {
    if let Ok(m) = dns::parse_message(data) {
        for q in &m.queries {
            let _ = dns::rrtype_name(q.rrtype);
        }
    }
    let mut framer = dns::TcpDnsFramer::new();
    framer.push(data);
    while let Some(m) = framer.next_message() {
        let _ = dns::parse_message(&m);
    }
}

/// HTTP request and response heads, and body skipping.
pub fn http(data: &[u8]) {
    let _ = http::looks_like_request(data);
    let _ = http::looks_like_response(data);
    if let http::Parse::Done { value, consumed } = http::parse_request_head(data) {
        let _ = value.hostname();
        let _ = value.port();
        let mut body = http::BodySkipper::for_request(&value);
        let _ = body.consume(data.get(consumed..).unwrap_or_default());
    }
    if let http::Parse::Done { value, consumed } = http::parse_response_head(data) {
        let mut body = http::BodySkipper::for_response(&value, "GET");
        let _ = body.consume(data.get(consumed..).unwrap_or_default());
    }
}

/// A TLS byte stream: handshake reassembly, hello parsing and fingerprints.
pub fn tls(data: &[u8]) {
    let _ = tls::looks_like_tls(data);
    let mut reader = tls::HandshakeReader::new();
    // Feed in two pieces so that cross-record reassembly is exercised.
    let (a, b) = data.split_at(data.len() / 2);
    if reader.push(a).is_ok() && reader.push(b).is_ok() {
        while let Some((ty, body)) = reader.next_message() {
            match ty {
                1 => {
                    if let Ok(ch) = tls::parse_client_hello(&body) {
                        let _ = tls::ja3_string(&ch);
                        let _ = tls::ja4(&ch, tls::Transport::Tcp);
                    }
                }
                2 => {
                    if let Ok(sh) = tls::parse_server_hello(&body) {
                        let _ = tls::ja3s_string(&sh);
                    }
                }
                tls::HS_CERTIFICATE => {
                    if let Ok(certs) = tls::certificate_list(&body) {
                        for der in certs {
                            let _ = x509::parse(der);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if let Ok(ch) = tls::parse_client_hello(data) {
        let _ = tls::ja4(&ch, tls::Transport::Quic);
    }
}

/// Deterministic mutations of a seed: truncations, bit flips, byte insertions and deletions,
/// and splices of interesting values. Used by the smoke test; real fuzzing uses libFuzzer.
pub fn mutations(seed: &[u8], count: usize, mut f: impl FnMut(&[u8])) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ seed.len() as u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut buf = Vec::with_capacity(seed.len() + 16);
    for i in 0..count {
        buf.clear();
        buf.extend_from_slice(seed);
        let len = buf.len().max(1);
        match i % 5 {
            0 => buf.truncate(rnd() as usize % len),
            1 => {
                for _ in 0..1 + rnd() % 4 {
                    let p = rnd() as usize % len;
                    if let Some(b) = buf.get_mut(p) {
                        *b ^= 1 << (rnd() % 8);
                    }
                }
            }
            2 => {
                let p = rnd() as usize % len;
                let v = [0x00, 0xff, 0x7f, 0x80, 0x3f, 0xc0][rnd() as usize % 6];
                buf.insert(p.min(buf.len()), v);
            }
            3 => {
                let p = rnd() as usize % len;
                if p < buf.len() {
                    buf.remove(p);
                }
            }
            _ => {
                let p = rnd() as usize % len;
                let end = (p + 4).min(buf.len());
                for b in buf.get_mut(p..end).unwrap_or_default() {
                    *b = 0xff;
                }
            }
        }
        f(&buf);
    }
}

/// Suricata rule text: a rule file (commented-out rules included), each parsed rule's
/// executability (which translates and compiles its pcres), the text as a single rule, and as a
/// classification.config, threshold.config, reputation files and header specs.
pub fn rules(data: &[u8]) {
    use crate::rules::{self, classification::ClassificationTable, ParseOptions};
    let text = String::from_utf8_lossy(data);
    let set = rules::parse_rules(
        "fuzz.rules",
        &text,
        &ParseOptions {
            include_commented: true,
        },
    );
    for r in &set.rules {
        let _ = r.executable();
    }
    if let Ok(r) = rules::parse_rule(&text) {
        let _ = r.executable();
    }
    let _ = ClassificationTable::parse("fuzz.config", &text);
    // The files rule loading reads beside the rules: threshold.config, IP reputation, and
    // header address/port specs (vars). suricata.yaml is left out: its `include` reads files.
    let _ = rules::threshold_config::parse_threshold_config("fuzz.threshold", &text);
    let _ = rules::iprep::IpReputation::parse("fuzz.cats", data, &[("fuzz.list", data)]);
    let _ = rules::parse_address_spec(&text);
    let _ = rules::parse_port_spec(&text);
}

/// Threat-intel inputs: the bytes as a STIX document (parsed, validated, records extracted), a
/// MISP event, a CSV feed and a plain list through `ingest`, and each line as a value checked
/// against the shipped warninglists (when they are found).
pub fn intel(data: &[u8]) {
    use std::sync::OnceLock;
    use vigil_intel::ingest::{ingest_bytes, IngestOptions, InputFormat};
    use vigil_intel::warninglists::Warninglists;
    use vigil_model::{IndicatorType, Tlp};

    if let Ok(doc) = vigil_intel::bundle::parse_document("fuzz.json", data) {
        let _ = vigil_intel::validate::validate_objects(
            &doc.objects,
            &vigil_intel::validate::ValidateOptions::at(0),
        );
    }
    let _ = vigil_intel::misp::parse_event_json("fuzz.json", data);
    for format in [
        InputFormat::Stix,
        InputFormat::Misp,
        InputFormat::Csv,
        InputFormat::Text,
    ] {
        let opts = IngestOptions {
            format,
            source: "fuzz".into(),
            confidence: 50,
            reliability: None,
            credibility: None,
            tlp: Tlp::Amber,
            now: 0,
            skip_invalid: true,
            screen: None,
            known_ids: None,
        };
        let _ = ingest_bytes("fuzz", data, &opts);
    }
    static LISTS: OnceLock<Option<Warninglists>> = OnceLock::new();
    let lists = LISTS
        .get_or_init(|| Warninglists::default_dir().and_then(|d| Warninglists::load_dir(&d).ok()));
    if let Some(lists) = lists {
        let text = String::from_utf8_lossy(data);
        for line in text.lines().take(64) {
            let (ty, value) = line.split_once('\t').unwrap_or(("url", line));
            let _ = lists.check(ty, value);
            for kind in IndicatorType::ALL {
                let _ = lists.check_indicator(kind, value);
            }
        }
    }
}
