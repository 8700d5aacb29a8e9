#!/usr/bin/env bash
# Reproduces the TAXII 2.1 figures in docs/BENCHMARKS.md ("Region hub: TAXII 2.1"):
#   (a) the first page (limit=100, and the default) of a 100,000-object collection, p50 of
#       RUNS requests timed by curl (time_total, keep-alive off: every request is a new
#       connection, as a polling client's would be);
#   (b) taxii2-client reading ATT&CK for ICS (1,826 objects) page by page from medallion
#       (memory backend, PyPI medallion 3.0.0) and from Vigil in the same run, plus the first
#       page alone, and the ratio.
# Usage: scripts/bench-taxii.sh [RUNS]   (needs .venv from .ci/run, curl and jq)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
py=${VIGIL_PYTHON:-.venv/bin/python}
attack=../shared/data/stix/attack/ics-attack-18.1.json
cargo build --release -p vigil
v=${CARGO_TARGET_DIR:-target}/release/vigil
work=bench-data/taxii
mkdir -p "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Starts `vigil region serve` on a free port; sets $url.
start_hub() { # data-dir region
  local out="$work/$2.out"
  $v region serve --data-dir "$1" --region "$2" --listen 127.0.0.1:0 --no-warninglists \
    >"$out" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 100); do grep -q '^listening on ' "$out" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^listening on //p' "$out")
}

# p50 and p90 (ms) of curl's time_total over $runs requests.
p50() { # url token
  for _ in $(seq "$runs"); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H 'Accept: application/taxii+json;version=2.1' \
      -H "Authorization: Bearer $2" "$1"
  done | sort -n | awk '{a[NR]=$1} END {printf "p50 %.1f ms, p90 %.1f ms (n=%d)\n", a[int((NR+1)/2)]*1000, a[int(NR*0.9+0.5)]*1000, NR}'
}

echo "== (a) first page of a 100,000-object collection"
big=$work/big
if [ ! -f "$work/intel-100k.json" ]; then
  "$py" scripts/gen-stix-indicators.py "$work/intel-100k.json" 100000
fi
if [ ! -f "$big/bench/intel.db" ]; then
  /usr/bin/time -f "import of 100k STIX indicators: wall %e s, peak RSS %M KB" \
    $v intel import "$work/intel-100k.json" --data-dir "$big" --region bench --source bench \
    --tlp green --no-warninglists >/dev/null
fi
token=$($v token create --data-dir "$big" --region bench --name "bench-$$" --role edge | tail -1)
start_hub "$big" bench
col=$(curl -sf -H "Authorization: Bearer $token" "$url/taxii2/bench/collections/" | jq -r '.collections[0].id')
objects="$url/taxii2/bench/collections/$col/objects/"
echo "objects in the collection: $(sqlite3 "$big/bench/intel.db" "SELECT COUNT(*) FROM objects WHERE collection='intel'" 2>/dev/null || echo '(sqlite3 not installed)')"
printf 'limit=100:        '; p50 "$objects?limit=100" "$token"
printf 'default (100):    '; p50 "$objects" "$token"
printf 'limit=1000:       '; p50 "$objects?limit=1000" "$token"
printf 'manifest 100:     '; p50 "$url/taxii2/bench/collections/$col/manifest/?limit=100" "$token"
# A page deep inside the collection: the cursor is an index seek, not an offset.
next=$(curl -sf -H "Authorization: Bearer $token" "$objects?limit=1000&added_after=2000-01-01T00:00:00Z" | jq -r .next)
printf 'page after 1000:  '; p50 "$objects?limit=100&next=$next" "$token"

echo "== (b) taxii2-client over ATT&CK for ICS: medallion (memory backend) vs Vigil"
ics=$work/ics
[ -f "$ics/ics/intel.db" ] || $v intel import "$attack" --data-dir "$ics" --region ics \
  --source mitre --tlp clear --no-warninglists >/dev/null
itoken=$($v token create --data-dir "$ics" --region ics --name "bench-$$" --role edge | tail -1)
start_hub "$ics" ics
vurl=$url
vcol=$(curl -sf -H "Authorization: Bearer $itoken" "$vurl/taxii2/ics/collections/" | jq -r '.collections[0].id')

mport=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$py" - "$attack" "$work/medallion-data.json" "$work/medallion.json" "$mport" <<'EOF'
import json, sys
bundle, data_path, config_path, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
objs = json.load(open(bundle))["objects"]
manifest = [{"id": o["id"], "date_added": "2024-01-01T00:00:00.%06dZ" % i,
             "version": o.get("modified", o.get("created")),
             "media_type": "application/stix+json;version=2.1"} for i, o in enumerate(objs)]
data = {
    "/discovery": {"title": "medallion bench", "default": f"http://127.0.0.1:{port}/ics/",
                   "api_roots": [f"http://127.0.0.1:{port}/ics/"]},
    "ics": {"information": {"title": "ics", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 104857600},
            "status": [],
            "collections": [{"id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116", "title": "ics",
                             "can_read": True, "can_write": False,
                             "media_types": ["application/stix+json;version=2.1"],
                             "objects": objs, "manifest": manifest}]},
}
json.dump(data, open(data_path, "w"))
json.dump({"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                       "filename": data_path},
           "users": {"bench": "bench"}, "taxii": {"max_page_size": 100}}, open(config_path, "w"))
EOF
"${py%/python}/medallion" --host 127.0.0.1 --port "$mport" "$work/medallion.json" >"$work/medallion.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$mport/taxii2/" && break; sleep 0.2; done

cat >"$work/read.py" <<'EOF'
import json, sys, time
from taxii2client.v21 import Collection, as_pages
url, user, password, per_request = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
col = Collection(url, user=user, password=password)
col.refresh()
t0 = time.perf_counter()
col.get_objects(limit=per_request)
first = time.perf_counter() - t0
t0 = time.perf_counter()
ids = []
pages = 0
for env in as_pages(col.get_objects, per_request=per_request):
    pages += 1
    ids += [o["id"] for o in env.get("objects", [])]
whole = time.perf_counter() - t0
print(json.dumps({"first_page_s": round(first, 4), "whole_s": round(whole, 3), "pages": pages,
                  "objects": len(ids), "unique": len(set(ids))}))
EOF
for i in 1 2 3; do
  printf 'vigil     run %s: ' "$i"
  "$py" "$work/read.py" "$vurl/taxii2/ics/collections/$vcol/" bench "$itoken" 100
done
for i in 1 2 3; do
  printf 'medallion run %s: ' "$i"
  "$py" "$work/read.py" "http://127.0.0.1:$mport/ics/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/" bench bench 100
done
