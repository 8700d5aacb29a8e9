#!/usr/bin/env bash
# Reproduces the region hub's REST figures in docs/BENCHMARKS.md: wrk for 30 s against
# /api/v1/indicators (a page of 100 records of a 100k-record store) and a filtered search,
# reporting p50/p99 and errors. The TAXII and decision-stream figures have their own scripts
# (scripts/bench-taxii.sh, scripts/bench-decisions.sh).
# Usage: scripts/bench-hub.sh [SECONDS] [CONNECTIONS]   (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
conns=${2:-32}
cargo build --release -p vigil
v=./target/release/vigil
mkdir -p bench-data
[ -f bench-data/intel-100k.txt ] || $v bench make-intel --count 100000 -o bench-data/intel-100k.txt
rm -rf bench-data/hub
$v intel import bench-data/intel-100k.txt --data-dir bench-data/hub --region bench \
  --source bench --reliability B --confidence 85 --tlp green >/dev/null
token=$($v token create --data-dir bench-data/hub --region bench --name wrk --role analyst | tail -1)
$v region serve --data-dir bench-data/hub --region bench --listen 127.0.0.1:0 \
  --no-warninglists > bench-data/hub.out 2> bench-data/hub.log &
hub=$!
trap 'kill $hub 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening bench-data/hub.out 2>/dev/null && break; sleep 0.1; done
url=$(sed 's/listening on //' bench-data/hub.out)
echo "hub at $url, $(nproc) cores shared by wrk (2 threads) and the hub"
for path in "/api/v1/indicators" "/api/v1/indicators?type=domain&min_confidence=50&limit=100"; do
  echo "== wrk -t2 -c$conns -d${secs}s $path"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$url$path" \
    | grep -E "Requests/sec|Latency |50%|90%|99%|Non-2xx|Socket errors|requests in"
done
