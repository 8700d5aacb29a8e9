//! tshark as an oracle: on the Zeek traces, Vigil must see the same TLS SNIs, JA3 hashes, DNS
//! query names, HTTP hosts and Community IDs as Wireshark's dissectors.

mod util;
use std::collections::BTreeSet;
use std::path::PathBuf;
use util::*;

fn zeek_pcaps() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![repo().join("samples/pcaps/zeek")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 12);
    out
}

fn scan(p: &std::path::Path) -> Vec<serde_json::Value> {
    let o = vigil(&["scan", "--threads", "1", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}: {}", p.display(), stderr(&o));
    events(&o)
}

fn set(values: impl IntoIterator<Item = String>) -> BTreeSet<String> {
    values.into_iter().filter(|v| !v.is_empty()).collect()
}

fn tshark_set(p: &std::path::Path, filter: &str, field: &str, extra: &[&str]) -> BTreeSet<String> {
    set(tshark_fields(p, filter, &[field], extra)
        .into_iter()
        .flat_map(|row| row[0].split(',').map(str::to_string).collect::<Vec<_>>()))
}

#[test]
fn tls_sni_and_ja3_agree_with_tshark() {
    if !tshark_available() {
        panic!("tshark is required for the oracle tests (.ci/run installs it)");
    }
    let mut compared = 0;
    for p in zeek_pcaps() {
        let evs = scan(&p);
        let tls = of_type(&evs, "tls");
        let ours_sni = set(tls
            .iter()
            .filter_map(|t| t["tls"]["sni"].as_str().map(str::to_string)));
        let theirs_sni = tshark_set(
            &p,
            "tls.handshake.type == 1",
            "tls.handshake.extensions_server_name",
            &[],
        );
        assert_eq!(ours_sni, theirs_sni, "SNIs differ on {}", p.display());
        let ours_ja3 = set(tls
            .iter()
            .filter_map(|t| t["tls"]["ja3"]["hash"].as_str().map(str::to_string)));
        let theirs_ja3 = tshark_set(&p, "tls.handshake.type == 1", "tls.handshake.ja3", &[]);
        assert_eq!(ours_ja3, theirs_ja3, "JA3 differs on {}", p.display());
        let ours_ja3s = set(tls
            .iter()
            .filter_map(|t| t["tls"]["ja3s"]["hash"].as_str().map(str::to_string)));
        let theirs_ja3s = tshark_set(&p, "tls.handshake.type == 2", "tls.handshake.ja3s", &[]);
        assert_eq!(ours_ja3s, theirs_ja3s, "JA3S differs on {}", p.display());
        compared += theirs_sni.len() + theirs_ja3.len();
    }
    assert!(compared >= 6, "the traces hold several ClientHellos");
}

#[test]
fn dns_query_names_agree_with_tshark() {
    let mut compared = 0;
    for p in zeek_pcaps() {
        let evs = scan(&p);
        let ours = set(of_type(&evs, "dns").iter().flat_map(|d| {
            d["dns"]["queries"]
                .as_array()
                .map(|qs| {
                    qs.iter()
                        .filter_map(|q| q["rrname"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_else(Vec::new)
        }));
        // Vigil parses DNS on 53, 5353 (mDNS) and 5355 (LLMNR), as Wireshark does.
        let theirs = tshark_set(&p, "dns or mdns or llmnr", "dns.qry.name", &[]);
        assert_eq!(ours, theirs, "DNS query names differ on {}", p.display());
        compared += theirs.len();
    }
    assert!(compared >= 4);
}

#[test]
fn http_hosts_agree_with_tshark() {
    let mut compared = 0;
    for p in zeek_pcaps() {
        let evs = scan(&p);
        let ours = set(of_type(&evs, "http")
            .iter()
            .filter_map(|h| h["http"]["hostname"].as_str().map(str::to_string)));
        let theirs = set(tshark_set(&p, "http.request", "http.host", &[])
            .into_iter()
            .map(|h| h.split(':').next().unwrap_or_default().to_ascii_lowercase()));
        assert_eq!(ours, theirs, "HTTP hosts differ on {}", p.display());
        compared += theirs.len();
    }
    assert!(compared >= 3);
}

#[test]
fn community_ids_agree_with_tshark() {
    let mut compared = 0;
    for p in zeek_pcaps() {
        let evs = scan(&p);
        let ours = set(of_type(&evs, "flow")
            .iter()
            .filter(|f| f["proto"] == "TCP" || f["proto"] == "UDP")
            .filter_map(|f| f["community_id"].as_str().map(str::to_string)));
        let theirs = tshark_set(
            &p,
            "tcp or udp",
            "communityid",
            &["--enable-protocol", "communityid"],
        );
        assert_eq!(ours, theirs, "community ids differ on {}", p.display());
        compared += theirs.len();
    }
    assert!(compared >= 12);
}
