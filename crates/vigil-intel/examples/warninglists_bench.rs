//! Load time and lookup time of the shipped warninglists, and the same for pymispwarninglists.
//!
//! `cargo run --release -p vigil-intel --example warninglists_bench [LISTS_DIR]`
//! The peer runs when `VIGIL_PYTHON` (default `<workspace>/.venv/bin/python`) exists.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vigil_intel::warninglists::Warninglists;

const LOOKUPS: usize = 100_000;
const PEER_SAMPLE: usize = 20;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .or_else(Warninglists::default_dir)
        .expect("no warninglists directory");

    let t = Instant::now();
    let w = Warninglists::load_dir(&dir).expect("load");
    let load = t.elapsed();
    println!(
        "vigil: load {:.0} ms: {}",
        load.as_secs_f64() * 1e3,
        w.stats()
    );

    // A mixed workload: the peer sample (hits and near misses of every list type), random
    // IPv4/IPv6 addresses, subdomains and lookalikes of listed hostnames, random hashes, URLs.
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/warninglists-sample.tsv"),
    )
    .expect("sample");
    let mut work: Vec<(String, String)> = sample
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(t, v)| (t.to_string(), v.to_string()))
        .collect();
    // Spread over the sample so every list type is represented.
    let peer_rows: Vec<String> = work
        .iter()
        .step_by((work.len() / PEER_SAMPLE).max(1))
        .take(PEER_SAMPLE)
        .map(|(t, v)| format!("{t}\t{v}"))
        .collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let hosts = [
        "google.com",
        "bit.ly",
        "dyndns.org",
        "example.com",
        "cloudflare.com",
    ];
    for i in 0..4000 {
        let r = next();
        let v4 = std::net::Ipv4Addr::from(r as u32).to_string();
        let v6 = std::net::Ipv6Addr::from(u128::from(r) << 64 | u128::from(next())).to_string();
        let host = hosts[i % hosts.len()];
        work.push(("ip-dst".into(), v4.clone()));
        work.push(("ip-src".into(), v6));
        work.push(("domain|ip".into(), format!("h{r:x}.{host}|{v4}")));
        work.push(("domain".into(), format!("a{}.b.{host}", r % 1000)));
        work.push(("domain".into(), format!("x{host}")));
        work.push(("hostname".into(), format!("host{r:x}.example.net")));
        work.push((
            "url".into(),
            format!("https://www{}.{host}/path?q={r}", r % 7),
        ));
        work.push((
            "md5".into(),
            format!("{:032x}", u128::from(r) << 64 | u128::from(next())),
        ));
        work.push(("sha256".into(), format!("{:064x}", r)));
        work.push(("email-src".into(), format!("user{r}@mail{}.com", r % 50)));
    }

    let mut hits = 0usize;
    let t = Instant::now();
    for i in 0..LOOKUPS {
        let (ty, v) = &work[i % work.len()];
        hits += black_box(w.check(ty, v)).len();
    }
    let per = t.elapsed().as_secs_f64() / LOOKUPS as f64;
    println!(
        "vigil: {LOOKUPS} lookups over {} distinct (type, value) pairs: mean {:.2} µs per lookup, {hits} hits",
        work.len(),
        per * 1e6
    );

    let py = std::env::var_os("VIGIL_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    if !py.exists() {
        println!("peer: skipped (no python at {})", py.display());
        return;
    }
    let tmp = std::env::temp_dir().join(format!("wl-bench-{}.tsv", std::process::id()));
    std::fs::write(&tmp, peer_rows.join("\n") + "\n").expect("write peer sample");
    let out = Command::new(&py)
        .arg(root.join("scripts/warninglists-oracle.py"))
        .arg(&dir)
        .arg(&tmp)
        .arg("--timing")
        .arg(PEER_SAMPLE.to_string())
        .output()
        .expect("run the oracle");
    let _ = std::fs::remove_file(&tmp);
    print!("{}", String::from_utf8_lossy(&out.stderr));
}
