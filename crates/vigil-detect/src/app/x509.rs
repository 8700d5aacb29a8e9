//! Just enough X.509 (DER) to log and match a TLS certificate the way Suricata does.
//!
//! Suricata decodes the first certificate of a Certificate message with the Rust
//! `x509-parser` crate and keeps:
//!
//! * subject and issuer as `X509Name::to_string()`: RDNs in certificate order joined with
//!   `", "`, the attributes of a multi-valued RDN joined with `" + "`, each `KEY=value` with
//!   the short key `C ST L O OU CN DC Email` or else the OID registry's short name (e.g.
//!   `serialNumber`, `businessCategory`), or `OID(1.2.3)` for unknown types. String values are
//!   taken as they are (BMPString decoded from UTF-16); other values as upper-case hex. A
//!   string value that is not UTF-8 makes the whole name `<X509Error: Invalid X.509 name>`.
//! * the serial as the raw INTEGER content bytes in upper-case hex joined with `:`
//!   (`00:C7:D4:...`, the leading zero kept);
//! * notBefore / notAfter as UTC `YYYY-MM-DDTHH:MM:SS`;
//! * the SHA-1 of the certificate bytes in lower-case hex joined with `:`.
//!
//! [`parse`] decodes the certificate structure down to the subject (extensions are not
//! read); any framing error, a bad time or a bad OID makes it fail, and Suricata then logs
//! none of the fields. It never panics: every read is bounds-checked and nesting is fixed.

use std::fmt::Write as _;

use sha1::{Digest as _, Sha1};
use thiserror::Error;

/// Why a certificate could not be decoded. Offsets are from the start of the DER bytes.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum X509Error {
    /// The data ended inside a header or a value.
    #[error("x509 data truncated at offset {offset}")]
    Truncated {
        /// Offset of the incomplete element.
        offset: usize,
    },
    /// An element other than the one the structure requires (tag), or a bad length form.
    #[error("unexpected x509 element at offset {offset}")]
    Unexpected {
        /// Offset of the element.
        offset: usize,
    },
    /// A field whose content is invalid (version, time, OID).
    #[error("invalid x509 field at offset {offset}")]
    Invalid {
        /// Offset of the element.
        offset: usize,
    },
}

/// The certificate fields Suricata logs and matches, already formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject DN (`C=US, O=..., CN=...`).
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number (`00:9A:...`).
    pub serial: String,
    /// SHA-1 of the DER bytes (`90:86:a4:...`).
    pub fingerprint: String,
    /// notBefore, `YYYY-MM-DDTHH:MM:SS` (UTC); `None` for the epoch, which Suricata skips.
    pub not_before: Option<String>,
    /// notAfter, same format.
    pub not_after: Option<String>,
    /// notBefore as seconds since the epoch.
    pub not_before_ts: i64,
    /// notAfter as seconds since the epoch.
    pub not_after_ts: i64,
}

const TAG_INTEGER: u8 = 0x02;
const TAG_OID: u8 = 0x06;
const TAG_UTF8: u8 = 0x0c;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_UTC_TIME: u8 = 0x17;
const TAG_GENERALIZED_TIME: u8 = 0x18;
const TAG_BMP: u8 = 0x1e;
/// `[0] EXPLICIT` (constructed, context-specific 0): the version.
const TAG_VERSION: u8 = 0xa0;

/// One DER element: its tag and content, and the offset of its header.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    at: usize,
    content: &'a [u8],
    /// Offset of `content` in the whole certificate.
    content_at: usize,
}

/// Bounds-checked reader over DER elements.
struct Der<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` in the whole certificate.
    base: usize,
}

impl<'a> Der<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Der { buf, pos: 0, base }
    }

    fn of(t: &Tlv<'a>) -> Self {
        Der::new(t.content, t.content_at)
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The next element. Only single-byte tags are accepted (high tag numbers never appear
    /// in the parts of a certificate read here); lengths must be definite and fit.
    fn next(&mut self) -> Result<Tlv<'a>, X509Error> {
        let at = self.base + self.pos;
        let truncated = X509Error::Truncated { offset: at };
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let (&tag, rest) = rest.split_first().ok_or(truncated.clone())?;
        if tag & 0x1f == 0x1f {
            return Err(X509Error::Unexpected { offset: at });
        }
        let (&first, mut rest) = rest.split_first().ok_or(truncated.clone())?;
        let mut hdr = 2;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            // 0x80 is the indefinite form (BER only); more than 4 length bytes never fits.
            if n == 0 || n > 4 {
                return Err(X509Error::Unexpected { offset: at });
            }
            let bytes = rest.get(..n).ok_or(truncated.clone())?;
            rest = &rest[n..];
            hdr += n;
            bytes
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b))
        };
        let content = rest.get(..len).ok_or(truncated)?;
        let content_at = at + hdr;
        self.pos += hdr + len;
        Ok(Tlv {
            tag,
            at,
            content,
            content_at,
        })
    }

    /// The next element, which must have this tag.
    fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, X509Error> {
        let t = self.next()?;
        if t.tag != tag {
            return Err(X509Error::Unexpected { offset: t.at });
        }
        Ok(t)
    }
}

/// The SHA-1 of `der` as lower-case hex bytes joined with `:` (Suricata's fingerprint).
pub fn fingerprint(der: &[u8]) -> String {
    colon_hex(&Sha1::digest(der), false)
}

fn colon_hex(bytes: &[u8], upper: bool) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = if upper {
            write!(s, "{b:02X}")
        } else {
            write!(s, "{b:02x}")
        };
    }
    s
}

/// Decodes a DER certificate (trailing bytes after it are ignored, as Suricata does).
pub fn parse(der: &[u8]) -> Result<CertInfo, X509Error> {
    let mut top = Der::new(der, 0);
    let cert = top.expect(TAG_SEQUENCE)?;
    let mut c = Der::of(&cert);
    let tbs = c.expect(TAG_SEQUENCE)?;
    // signatureAlgorithm and signatureValue must be present.
    c.expect(TAG_SEQUENCE)?;
    c.expect(0x03)?;

    let mut t = Der::of(&tbs);
    if t.peek_tag() == Some(TAG_VERSION) {
        let v = t.next()?;
        let int = Der::of(&v).expect(TAG_INTEGER)?;
        // v1, v2 or v3 (0..=2), as x509-parser requires.
        if !matches!(int.content, [0..=2]) {
            return Err(X509Error::Invalid { offset: int.at });
        }
    }
    let serial = t.expect(TAG_INTEGER)?;
    t.expect(TAG_SEQUENCE)?; // signature AlgorithmIdentifier
    let issuer = t.expect(TAG_SEQUENCE)?;
    let validity = t.expect(TAG_SEQUENCE)?;
    let subject = t.expect(TAG_SEQUENCE)?;
    t.expect(TAG_SEQUENCE)?; // subjectPublicKeyInfo

    let issuer = name_string(&issuer)?;
    let subject = name_string(&subject)?;
    let mut v = Der::of(&validity);
    let not_before_ts = time(&v.next()?)?;
    let not_after_ts = time(&v.next()?)?;
    let fmt = |ts: i64| (ts != 0).then(|| format_ts(ts));
    Ok(CertInfo {
        subject,
        issuer,
        serial: colon_hex(serial.content, true),
        fingerprint: fingerprint(der),
        not_before: fmt(not_before_ts),
        not_after: fmt(not_after_ts),
        not_before_ts,
        not_after_ts,
    })
}

/// `Name ::= SEQUENCE OF RelativeDistinguishedName`, formatted as x509-parser's
/// `X509Name::to_string()`. Structural errors fail the certificate; a value that is not a
/// valid string only makes the text the error marker, as in x509-parser.
fn name_string(name: &Tlv<'_>) -> Result<String, X509Error> {
    let mut out = String::new();
    let mut valid = true;
    let mut rdns = Der::of(name);
    while !rdns.is_empty() {
        let rdn = rdns.expect(TAG_SET)?;
        let mut atvs = Der::of(&rdn);
        let mut first_atv = true;
        if !out.is_empty() {
            out.push_str(", ");
        }
        while !atvs.is_empty() {
            let atv = atvs.expect(TAG_SEQUENCE)?;
            let mut a = Der::of(&atv);
            let oid = a.expect(TAG_OID)?;
            let value = a.next()?;
            let arcs = oid_arcs(oid.content).ok_or(X509Error::Invalid { offset: oid.at })?;
            if !first_atv {
                out.push_str(" + ");
            }
            first_atv = false;
            match attr_key(&arcs) {
                Some(k) => out.push_str(k),
                None => {
                    out.push_str("OID(");
                    out.push_str(&oid_string(oid.content, &arcs));
                    out.push(')');
                }
            }
            out.push('=');
            match value_string(value.tag, value.content) {
                Some(s) => out.push_str(&s),
                None => valid = false,
            }
        }
    }
    Ok(if valid {
        out
    } else {
        "<X509Error: Invalid X.509 name>".to_string()
    })
}

/// An attribute value as x509-parser renders it: string types as their bytes (which must be
/// UTF-8), BMPString decoded from UTF-16BE, anything else as upper-case hex of the content.
fn value_string(tag: u8, content: &[u8]) -> Option<String> {
    match tag {
        // NumericString, PrintableString, T61String, VideotexString, IA5String,
        // GraphicString, VisibleString, GeneralString, ObjectDescriptor, UTF8String.
        0x12 | 0x13 | 0x14 | 0x15 | 0x16 | 0x19 | 0x1a | 0x1b | 0x07 | TAG_UTF8 => {
            std::str::from_utf8(content).ok().map(str::to_string)
        }
        TAG_BMP => {
            if !content.len().is_multiple_of(2) {
                return None;
            }
            let units = content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => {
            let mut s = String::with_capacity(content.len() * 2);
            for b in content {
                let _ = write!(s, "{b:02X}");
            }
            Some(s)
        }
    }
}

/// The arcs of an OID's content (`None` if malformed: empty, or a truncated arc). Arcs that
/// overflow `u64` are `None` entries (rendered differently, see [`oid_string`]).
fn oid_arcs(content: &[u8]) -> Option<Vec<Option<u64>>> {
    if content.is_empty() || content.last().is_some_and(|b| b & 0x80 != 0) {
        return None;
    }
    let mut arcs = Vec::new();
    let mut acc: Option<u64> = Some(0);
    for &b in content {
        acc = acc
            .and_then(|a| a.checked_mul(128))
            .map(|a| a | u64::from(b & 0x7f));
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                // The first subidentifier holds the first two arcs.
                match acc {
                    Some(v) if v < 80 => {
                        arcs.push(Some(v / 40));
                        arcs.push(Some(v % 40));
                    }
                    Some(v) => {
                        arcs.push(Some(2));
                        arcs.push(Some(v - 80));
                    }
                    None => {
                        arcs.push(Some(2));
                        arcs.push(None);
                    }
                }
            } else {
                arcs.push(acc);
            }
            acc = Some(0);
        }
    }
    Some(arcs)
}

/// Dotted form of an OID; when an arc does not fit 64 bits, asn1-rs prints the content bytes
/// in hex separated by spaces instead.
fn oid_string(content: &[u8], arcs: &[Option<u64>]) -> String {
    if arcs.iter().all(Option::is_some) {
        let parts: Vec<String> = arcs.iter().flatten().map(u64::to_string).collect();
        parts.join(".")
    } else {
        let parts: Vec<String> = content.iter().map(|b| format!("{b:02x}")).collect();
        parts.join(" ")
    }
}

/// The key x509-parser prints for an attribute type: its abbreviation, else the OID
/// registry's short name.
fn attr_key(arcs: &[Option<u64>]) -> Option<&'static str> {
    let arcs: Vec<u64> = arcs.iter().copied().collect::<Option<Vec<_>>>()?;
    Some(match arcs.as_slice() {
        [2, 5, 4, 3] => "CN",
        [2, 5, 4, 6] => "C",
        [2, 5, 4, 7] => "L",
        [2, 5, 4, 8] => "ST",
        [2, 5, 4, 10] => "O",
        [2, 5, 4, 11] => "OU",
        [0, 9, 2342, 19200300, 100, 1, 25] => "DC",
        [1, 2, 840, 113549, 1, 9, 1] => "Email",
        [2, 5, 4, n] => match n {
            0 => "objectClass",
            1 => "aliasedEntryName",
            2 => "knowledgeInformation",
            4 => "surname",
            5 => "serialNumber",
            9 => "streetAddress",
            12 => "title",
            13 => "description",
            14 => "searchGuide",
            15 => "businessCategory",
            16 => "postalAddress",
            17 => "postalCode",
            41 => "name",
            42 => "givenName",
            43 => "initials",
            44 => "generationQualifier",
            45 => "uniqueIdentifier",
            46 => "dnQualifier",
            _ => return None,
        },
        [0, 9, 2342, 19200300, 100, 1, 1] => "userId",
        [1, 2, 840, 113549, 1, 9, 2] => "unstructuredName",
        [1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 1] => "jurisdictionLocalityName",
        [1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 2] => "jurisdictionStateOrProvinceName",
        [1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3] => "jurisdictionCountryName",
        _ => return None,
    })
}

/// `d` ASCII digits as a number.
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// A UTCTime (`YYMMDDhhmm[ss](Z|±hhmm)`, years 50..99 are 19xx) or GeneralizedTime
/// (`YYYYMMDDhh[mm[ss[.f]]][Z|±hhmm]`) as seconds since the epoch.
fn time(t: &Tlv<'_>) -> Result<i64, X509Error> {
    let bad = X509Error::Invalid { offset: t.at };
    let s = t.content;
    let (year, rest) = match t.tag {
        TAG_UTC_TIME => {
            let yy = s.get(..2).and_then(digits).ok_or(bad.clone())?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &s[2..])
        }
        TAG_GENERALIZED_TIME => (s.get(..4).and_then(digits).ok_or(bad.clone())?, &s[4..]),
        _ => return Err(X509Error::Unexpected { offset: t.at }),
    };
    let two = |b: &[u8], i: usize| b.get(i..i + 2).and_then(digits);
    let month = two(rest, 0).ok_or(bad.clone())?;
    let day = two(rest, 2).ok_or(bad.clone())?;
    let hour = two(rest, 4).ok_or(bad.clone())?;
    let mut rest = &rest[6..];
    let mut minute = 0;
    let mut second = 0;
    if let Some(m) = two(rest, 0) {
        minute = m;
        rest = &rest[2..];
        if let Some(sec) = two(rest, 0) {
            second = sec;
            rest = &rest[2..];
            if t.tag == TAG_GENERALIZED_TIME && matches!(rest.first(), Some(b'.' | b',')) {
                let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if n == 0 {
                    return Err(bad);
                }
                rest = &rest[1 + n..];
            }
        }
    } else if t.tag == TAG_UTC_TIME {
        return Err(bad);
    }
    let offset = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), tz @ ..] if tz.len() == 4 => {
            let h = two(tz, 0).ok_or(bad.clone())?;
            let m = two(tz, 2).ok_or(bad.clone())?;
            if h > 23 || m > 59 {
                return Err(bad);
            }
            let off = h * 3600 + m * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        // GeneralizedTime without a zone is local time; taken as UTC.
        [] if t.tag == TAG_GENERALIZED_TIME => 0,
        _ => return Err(bad),
    };
    let dim = days_in_month(year, month);
    if !(1..=12).contains(&month) || day < 1 || day > dim || hour > 23 || minute > 59 {
        return Err(bad);
    }
    // A leap second (60) is accepted.
    if second > 60 {
        return Err(bad);
    }
    let days = days_from_civil(year, month, day);
    Ok(days * 86400 + hour * 3600 + minute * 60 + second - offset)
}

use vigil_intel::timestamp::{days_from_civil, days_in_month};

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SS` (UTC), Suricata's certificate time form.
pub fn format_ts(ts: i64) -> String {
    vigil_intel::timestamp::format_seconds(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::testutil;
    use crate::app::tls::{certificate_list, HandshakeReader};

    /// The certificate chains of the Certificate messages of one direction of a capture's
    /// first connection to `port`, in stream order (segments sorted by sequence number).
    fn chains(file: &str, port: u16, to_server: bool) -> Vec<Vec<Vec<u8>>> {
        let pcap = testutil::read_data(file);
        let client = testutil::tcp_client_ports(&pcap, port)[0];
        let mut segs: Vec<(u32, Vec<u8>)> = testutil::packets(&pcap)
            .into_iter()
            .filter(|p| p.proto == 6 && !p.payload.is_empty())
            .filter(|p| {
                let (s, d) = if to_server {
                    (client, port)
                } else {
                    (port, client)
                };
                (p.sport, p.dport) == (s, d)
            })
            .map(|p| (p.seq, p.payload))
            .collect();
        segs.sort_by_key(|(seq, _)| *seq);
        segs.dedup_by_key(|(seq, _)| *seq);
        let mut r = HandshakeReader::new();
        let mut out = Vec::new();
        for (_, s) in segs {
            r.push(&s).unwrap();
            while let Some((ty, body)) = r.next_message() {
                if ty == 11 {
                    let list = certificate_list(&body).unwrap();
                    out.push(list.iter().map(|c| c.to_vec()).collect());
                }
            }
        }
        out
    }

    #[test]
    fn fingerprint_alert_capture() {
        // tls-fingerprint-alert: the server's chain, reassembled from out-of-order segments.
        let c = chains(
            "suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap",
            443,
            false,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].iter().map(Vec::len).collect::<Vec<_>>(),
            [1156, 1012, 897]
        );
        let leaf = parse(&c[0][0]).unwrap();
        assert_eq!(
            leaf,
            CertInfo {
                subject: "C=US, ST=California, L=Mountain View, O=Google Inc, CN=www.google.com"
                    .into(),
                issuer: "C=US, O=Google Inc, CN=Google Internet Authority G2".into(),
                serial: "2B:A2:F5:3B:B5:85:83:75".into(),
                fingerprint: "90:86:a4:3b:f5:cf:1b:2e:4e:f7:97:96:f9:de:ba:b9:66:35:86:3f".into(),
                not_before: Some("2016-09-14T08:20:40".into()),
                not_after: Some("2016-12-07T08:19:00".into()),
                not_before_ts: 1473841240,
                not_after_ts: 1481098740,
            }
        );
        let ca = parse(&c[0][2]).unwrap();
        assert_eq!(ca.subject, "C=US, O=GeoTrust Inc., CN=GeoTrust Global CA");
        assert_eq!(
            ca.issuer,
            "C=US, O=Equifax, OU=Equifax Secure Certificate Authority"
        );
        assert_eq!(ca.serial, "12:BB:E6");
    }

    #[test]
    fn client_auth_capture() {
        // tls-client-cert-01 (tls-store-02's capture): server and client chains.
        let file = "suricata-verify/tests/tls/tls-store-02/tls-client-auth.pcap";
        let server = chains(file, 8081, false);
        let client = chains(file, 8081, true);
        let s = parse(&server[0][0]).unwrap();
        assert_eq!(
            s.subject,
            "C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleServer, CN=SampleServer"
        );
        assert_eq!(
            s.issuer,
            "C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleCA, CN=SampleRoot"
        );
        assert_eq!(s.serial, "00:C7:D4:28:8B:80:E0:1E:25");
        let c = parse(&client[0][0]).unwrap();
        assert_eq!(
            c.subject,
            "C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleClient, CN=SampleClientJane"
        );
        assert_eq!(
            c.issuer,
            "C=HU, ST=Budapest, L=Budapest, O=TLSClientAuthSampleCA, CN=SampleRoot"
        );
        assert_eq!(c.serial, "00:C7:D4:28:8B:80:E0:1E:27");
        assert_eq!(
            c.fingerprint,
            "32:56:41:d0:6a:ff:47:cb:21:e4:89:c5:ae:2a:a2:d8:1b:c9:70:0c"
        );
        assert_eq!(c.not_before.as_deref(), Some("2018-04-14T20:55:27"));
        assert_eq!(c.not_after.as_deref(), Some("2018-05-14T20:55:27"));
    }

    #[test]
    fn certs_alert_capture() {
        let c = chains(
            "suricata-verify/tests/tls/tls-certs-alert/input.pcap",
            443,
            false,
        );
        let leaf = parse(&c[0][0]).unwrap();
        assert_eq!(
            leaf.subject,
            "C=US, ST=California, L=Los Angeles, \
             O=Internet Corporation for Assigned Names and Numbers, OU=Technology, \
             CN=www.example.org"
        );
        assert_eq!(
            leaf.issuer,
            "C=US, O=DigiCert Inc, CN=DigiCert SHA2 Secure Server CA"
        );
        assert_eq!(
            leaf.serial,
            "0F:D0:78:DD:48:F1:A2:BD:4D:0F:2B:A9:6B:60:38:FE"
        );
        assert_eq!(leaf.not_before.as_deref(), Some("2018-11-28T00:00:00"));
        assert_eq!(leaf.not_after.as_deref(), Some("2020-12-02T12:00:00"));
        let root = parse(&c[0][2]).unwrap();
        assert_eq!(
            root.subject,
            "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=DigiCert Global Root CA"
        );
    }

    /// DER element builder for synthetic names and times.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend([0x81, n as u8]);
        } else {
            v.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn atv(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        tlv(TAG_SEQUENCE, &[tlv(TAG_OID, oid), tlv(tag, value)].concat())
    }

    fn name_of(rdns: &[Vec<Vec<u8>>]) -> String {
        let body: Vec<u8> = rdns
            .iter()
            .flat_map(|r| tlv(TAG_SET, &r.concat()))
            .collect();
        let n = tlv(TAG_SEQUENCE, &body);
        let t = Der::new(&n, 0).next().unwrap();
        name_string(&t).unwrap()
    }

    #[test]
    fn name_formatting() {
        let cn = [0x55, 0x04, 0x03];
        let o = [0x55, 0x04, 0x0a];
        let serial = [0x55, 0x04, 0x05];
        let email = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
        let jur_c = [
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03,
        ];
        let unknown = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0x0a, 0x01];
        assert_eq!(
            name_of(&[
                vec![atv(&o, 0x13, b"Org"), atv(&cn, TAG_UTF8, b"multi")],
                vec![atv(&serial, 0x13, b"123")],
                vec![atv(&email, 0x16, b"a@b.c")],
                vec![atv(&jur_c, 0x13, b"US")],
                vec![atv(&unknown, 0x04, &[0xde, 0xad])],
                vec![atv(&cn, TAG_BMP, &[0, b'h', 0, b'i'])],
            ]),
            "O=Org + CN=multi, serialNumber=123, Email=a@b.c, jurisdictionCountryName=US, \
             OID(1.3.6.1.4.1.394.1)=DEAD, CN=hi"
        );
        assert_eq!(name_of(&[]), "");
        assert_eq!(
            name_of(&[vec![atv(&cn, TAG_UTF8, &[0xff, 0xfe])]]),
            "<X509Error: Invalid X.509 name>"
        );
    }

    fn time_of(tag: u8, s: &str) -> Result<i64, X509Error> {
        let b = tlv(tag, s.as_bytes());
        time(&Der::new(&b, 0).next().unwrap())
    }

    #[test]
    fn times() {
        assert_eq!(time_of(TAG_UTC_TIME, "160914082040Z"), Ok(1473841240));
        assert_eq!(format_ts(1473841240), "2016-09-14T08:20:40");
        assert_eq!(
            format_ts(time_of(TAG_UTC_TIME, "500101000000Z").unwrap()),
            "1950-01-01T00:00:00"
        );
        assert_eq!(
            format_ts(time_of(TAG_UTC_TIME, "491231235959Z").unwrap()),
            "2049-12-31T23:59:59"
        );
        assert_eq!(
            format_ts(time_of(TAG_GENERALIZED_TIME, "20500101120000Z").unwrap()),
            "2050-01-01T12:00:00"
        );
        assert_eq!(
            format_ts(time_of(TAG_GENERALIZED_TIME, "20240229235959.123Z").unwrap()),
            "2024-02-29T23:59:59"
        );
        assert_eq!(
            format_ts(time_of(TAG_UTC_TIME, "2001010100+0130").unwrap()),
            "2019-12-31T23:30:00"
        );
        for bad in [
            "",
            "16091408204Z",
            "161314082040Z",
            "160230082040Z",
            "160914082040",
        ] {
            assert!(time_of(TAG_UTC_TIME, bad).is_err(), "{bad}");
        }
        assert!(time_of(TAG_UTC_TIME, "160914082040+9999").is_err());
        assert!(time_of(0x04, "160914082040Z").is_err());
    }

    #[test]
    fn malformed_never_panics() {
        let c = chains(
            "suricata-verify/tests/tls/tls-fingerprint-alert/input.pcap",
            443,
            false,
        );
        let der = &c[0][0];
        for n in 0..der.len() {
            // Every proper prefix is truncated somewhere (the outer length runs past it).
            assert!(parse(&der[..n]).is_err(), "prefix {n}");
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let mut m = der.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % m.len();
                m[i] = (seed >> 32) as u8;
            }
            let _ = parse(&m);
        }
        for junk in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x1f, 0],
        ] {
            assert!(parse(junk).is_err());
        }
    }
}
