#!/usr/bin/env bash
# Decision stream under write load (issue 5): 100,000 decisions in the stream, then the time to
# first byte and total time of `GET /v1/decisions/stream?startup=true` while `vigil intel import`
# writes another 1,000,000 records into the same store from another process.
#
#   scripts/bench-decisions.sh [SAMPLES]      (VIGIL=path/to/vigil, default target/release/vigil)
set -euo pipefail
cd "$(dirname "$0")/.."
VIGIL=${VIGIL:-target/release/vigil}
SAMPLES=${1:-30}
PORT=${PORT:-7931}
work=$(mktemp -d)
hub_pid=""
import_pid=""
cleanup() {
  [ -n "$import_pid" ] && kill "$import_pid" 2>/dev/null || true
  [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 100k addresses graded A with confidence 95 (decisions), 1M more at confidence 50 (records only).
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "45.%d.%d.%d\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256 }' >"$work/bans.txt"
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "100.%d.%d.%d\n", 64 + int(i / 65536) % 64, int(i / 256) % 256, i % 256 }' >"$work/bulk.txt"

data="$work/data"
t0=$(date +%s.%N)
"$VIGIL" intel import "$work/bans.txt" --data-dir "$data" --region bench --source bans \
  --reliability A --confidence 95 --tlp green --no-warninglists >/dev/null
echo "import of 100k: $(echo "$(date +%s.%N) - $t0" | bc) s"
token=$("$VIGIL" token create --data-dir "$data" --region bench --name bench-edge --role edge 2>/dev/null | tail -1)
admin=$("$VIGIL" token create --data-dir "$data" --region bench --name bench-admin --role admin 2>/dev/null | tail -1)

"$VIGIL" region serve --region bench --data-dir "$data" --listen "127.0.0.1:$PORT" \
  --no-warninglists >"$work/hub.out" 2>"$work/hub.err" &
hub_pid=$!
url="http://127.0.0.1:$PORT/v1/decisions/stream?startup=true"
for _ in $(seq 1 300); do
  n=$(curl -s -H "Authorization: Bearer $admin" "http://127.0.0.1:$PORT/metrics" 2>/dev/null | awk '/^vigil_decisions /{print $2}')
  [ "${n:-0}" = "100000" ] && break
  sleep 0.2
done
echo "decisions in the stream: $n"

sample() {
  curl -s -o /dev/null -H "X-Api-Key: $token" -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$url"
}
stats() { # label file
  sort -n -k1 "$2" | awk -v label="$1" '{ ttfb[NR] = $1; total[NR] = $2; size = $3 }
    END {
      n = NR; p50 = int((n + 1) / 2); p99 = int(n * 0.99 + 0.999); if (p99 > n) p99 = n
      printf "%s: n=%d ttfb p50 %.1f ms p99 %.1f ms max %.1f ms; ", label, n, ttfb[p50] * 1000, ttfb[p99] * 1000, ttfb[n] * 1000
    }'
  sort -n -k2 "$2" | awk '{ total[NR] = $2; size = $3 }
    END {
      n = NR; p50 = int((n + 1) / 2); p99 = int(n * 0.99 + 0.999); if (p99 > n) p99 = n
      printf "total p50 %.1f ms p99 %.1f ms; body %.1f MB\n", total[p50] * 1000, total[p99] * 1000, size / 1e6
    }'
}

sample >/dev/null # warm up
: >"$work/idle.txt"
for _ in $(seq 1 "$SAMPLES"); do sample >>"$work/idle.txt"; done
stats "idle" "$work/idle.txt"

# The 1M import: one write transaction in another process for its whole run.
t0=$(date +%s.%N)
"$VIGIL" intel import "$work/bulk.txt" --data-dir "$data" --region bench --source bulk \
  --confidence 50 --tlp green --no-warninglists >"$work/import.out" 2>&1 &
import_pid=$!
: >"$work/busy.txt"
taken=0
while [ "$taken" -lt "$SAMPLES" ] && kill -0 "$import_pid" 2>/dev/null; do
  sample >>"$work/busy.txt"
  taken=$((taken + 1))
  sleep 0.2
done
wait "$import_pid"
import_pid=""
echo "import of 1M: $(echo "$(date +%s.%N) - $t0" | bc) s ($taken samples taken while it ran)"
stats "during 1M import" "$work/busy.txt"
grep -c "decisions recomputed" "$work/hub.err" | sed 's/^/recomputations so far: /'
grep "decisions recomputed" "$work/hub.err" | tail -1
