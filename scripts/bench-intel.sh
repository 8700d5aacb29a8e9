#!/usr/bin/env bash
# Reproduces the intel-store figures in docs/BENCHMARKS.md, each next to its peer in the same run:
#   1. import of a generated 1M-indicator feed (normalise, dedupe, score, warninglist screen, store);
#   2. validation of ATT&CK for ICS: `vigil intel validate` vs stix2-validator (PyPI);
#   3. warninglist load and lookup: vigil_intel::warninglists vs pymispwarninglists (PyPI).
# Usage: scripts/bench-intel.sh [RUNS]   (needs .venv from .ci/run for the peers, and hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
attack=../shared/data/stix/attack/ics-attack-18.1.json
cargo build --release -p vigil
v=./target/release/vigil
mkdir -p bench-data
[ -f bench-data/intel-1m.txt ] || $v bench make-intel --count 1000000 -o bench-data/intel-1m.txt

echo "== import 1M indicators into a fresh store (1 core: the import is single-threaded)"
for i in $(seq "$runs"); do
  rm -rf bench-data/intel-store
  /usr/bin/time -f "wall %e s, peak RSS %M KB" $v intel import bench-data/intel-1m.txt \
    --data-dir bench-data/intel-store --source bench --json 2>&1 \
    | grep -E '"seconds"|"records_new"|wall' | tr -d ' \n'; echo
done
echo "== re-import the same 1M into the filled store (every record merges)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" $v intel import bench-data/intel-1m.txt \
  --data-dir bench-data/intel-store --source bench2 --json 2>&1 \
  | grep -E '"seconds"|"records_merged"|wall' | tr -d ' \n'; echo

echo "== validate ATT&CK for ICS (1,826 objects)"
hyperfine -w 1 -r "$runs" -N \
  "$v intel validate --no-warninglists --format json $attack" \
  "$v intel validate --format json $attack" \
  ".venv/bin/stix2_validator --version 2.1 -q $attack"

echo "== warninglists load and lookup vs pymispwarninglists"
cargo run --release -q -p vigil-intel --example warninglists_bench
