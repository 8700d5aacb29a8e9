#!/usr/bin/env bash
# Reproduces the rule-engine figures in docs/BENCHMARKS.md: ET Open's IOC subset and all
# executable ET Open rules on the large capture, 1 and 2 threads, with load time and RSS.
# Usage: scripts/bench-rules.sh [RUNS]   (run scripts/bench-scan.sh first for bench-data/large.pcap)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
et=../shared/data/et-open
cargo build --release -p vigil
v=./target/release/vigil
mkdir -p bench-data
[ -f bench-data/large.pcap ] || $v bench make-capture --copies 130 -o bench-data/large.pcap ../shared/data/suricata-verify/tests samples/pcaps
# The rules that compile to indicator tables (literal dns.query/tls.sni/http.host, IP-only).
$v bench ioc-rules -o bench-data/et-ioc.rules "$et"
for set in "bench-data/et-ioc.rules" "$et"; do
  for t in 1 2; do
    echo "== rules=$set threads=$t"
    for i in $(seq "$runs"); do
      $v scan --threads "$t" --stats --rules "$set" -o /dev/null bench-data/large.pcap 2>&1 \
        | grep -E "^rules:|alerts:|Mbit/s|peak RSS" | sed -E 's/ +/ /g' | tr '\n' ' '
      echo
    done
  done
done
# Rule loading alone (parse + compile of every executable ET Open rule), 5 runs.
hyperfine -w 1 -r 5 -N "$v scan --rules $et -o /dev/null samples/pcaps/vigil-demo.pcap"
