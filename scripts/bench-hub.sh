#!/usr/bin/env bash
# Reproduces the region hub's REST figures in docs/BENCHMARKS.md: wrk for 30 s against
# /api/v1/indicators (a page of 100 records of a 200k-record store), a filtered search, and the
# TAXII objects endpoint (first page of a 100k-object collection), reporting p50/p99 and errors. The TAXII and decision-stream figures have their own scripts
# (scripts/bench-taxii.sh, scripts/bench-decisions.sh).
# Usage: scripts/bench-hub.sh [SECONDS] [CONNECTIONS]   (needs wrk, curl, jq)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
conns=${2:-32}
cargo build --release -p vigil
v=./target/release/vigil
mkdir -p bench-data
[ -f bench-data/intel-100k.txt ] || $v bench make-intel --count 100000 -o bench-data/intel-100k.txt
[ -f bench-data/stix-100k.json ] || python3 scripts/gen-stix-indicators.py bench-data/stix-100k.json 100000
rm -rf bench-data/hub
# 100k mixed records for REST, and 100k STIX indicators (10.0.0.0/16) for TAXII.
$v intel import bench-data/intel-100k.txt --data-dir bench-data/hub --region bench \
  --source bench --reliability B --confidence 85 --tlp green --no-warninglists >/dev/null
$v intel import bench-data/stix-100k.json --data-dir bench-data/hub --region bench \
  --source stix --tlp green --no-warninglists >/dev/null
token=$($v token create --data-dir bench-data/hub --region bench --name wrk --role edge | tail -1)   # AMBER: filtering and redaction on
$v region serve --data-dir bench-data/hub --region bench --listen 127.0.0.1:0 \
  --no-warninglists > bench-data/hub.out 2> bench-data/hub.log &
hub=$!
trap 'kill $hub 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening bench-data/hub.out 2>/dev/null && break; sleep 0.1; done
url=$(sed 's/listening on //' bench-data/hub.out)
echo "hub at $url, $(nproc) cores shared by wrk (2 threads) and the hub"
col=$(curl -sf -H "Authorization: Bearer $token" "$url/taxii2/bench/collections/" | jq -r '.collections[0].id')
for path in "/api/v1/indicators" "/api/v1/indicators?type=domain&min_confidence=50&limit=100" \
  "/taxii2/bench/collections/$col/objects/"; do
  echo "== wrk -t2 -c$conns -d${secs}s $path"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" \
    -H "Accept: application/taxii+json;version=2.1" "$url$path" \
    | grep -E "Requests/sec|Latency |50%|90%|99%|Non-2xx|Socket errors|requests in"
done
