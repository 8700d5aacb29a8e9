#!/usr/bin/env bash
# Reproduces the `vigil scan` figures in docs/BENCHMARKS.md.
# Usage: scripts/bench-scan.sh [COPIES]   (needs hyperfine and valgrind for the last part)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-130}
shared=../shared/data
cargo build --release -p vigil
v=./target/release/vigil
mkdir -p bench-data
# 1. The large capture: every Ethernet pcap of suricata-verify and the samples, COPIES times,
#    addresses shifted per copy so that each copy is new flows.
[ -f bench-data/large.pcap ] || $v bench make-capture --copies "$copies" -o bench-data/large.pcap "$shared/suricata-verify/tests" samples/pcaps
[ -f bench-data/small.pcap ] || $v bench make-capture --copies 5 -o bench-data/small.pcap "$shared/suricata-verify/tests" samples/pcaps
[ -f bench-data/intel-1m.txt ] || $v bench make-intel --count 1000000 -o bench-data/intel-1m.txt

# 2. Throughput, packets/s, RSS and load time: 5 runs each, decode+parse only and with 1M indicators.
for intel in "" "--intel bench-data/intel-1m.txt"; do
  for t in 1 2; do
    echo "== threads=$t ${intel:+(1M indicators)}"
    for i in 1 2 3 4 5; do
      $v scan --threads "$t" --stats $intel -o /dev/null bench-data/large.pcap 2>&1 \
        | grep -E "loaded|packets/s|Mbit/s|peak RSS" | tr -s ' ' | tr '\n' ' '
      echo
    done
  done
done

# 3. Whole runs, including start-up, with hyperfine.
hyperfine -w 2 -r 10 -N \
  "$v scan --threads 1 -o /dev/null bench-data/large.pcap" \
  "$v scan --threads 2 -o /dev/null bench-data/large.pcap"

# 4. Instruction counts of the scan alone (deterministic, unlike wall time on a shared VM).
for intel in "" "--intel bench-data/intel-1m.txt"; do
  echo "== callgrind ${intel:+(1M indicators)}"
  valgrind --tool=callgrind --toggle-collect='vigil_detect::engine::scan*' --callgrind-out-file=/dev/null \
    $v scan --threads 1 $intel -o /dev/null bench-data/small.pcap 2>&1 | grep "refs"
done
