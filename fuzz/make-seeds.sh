#!/usr/bin/env bash
# Builds seed corpora for the fuzz targets from real captures, using tshark to cut payloads.
# Usage: fuzz/make-seeds.sh [PCAP_DIR...]   (default: samples/pcaps and ../shared/data pcaps)
set -euo pipefail
cd "$(dirname "$0")"
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(../samples/pcaps ../../shared/data/pcaps ../../shared/data/suricata-verify/tests)
mkdir -p seeds/capture seeds/decode seeds/dns seeds/http seeds/tls
n=0
while IFS= read -r -d '' f; do
  n=$((n+1))
  cp "$f" "seeds/capture/$n.pcap"
  i=0
  for hex in $(tshark -r "$f" -c 50 -T fields -e udp.payload -Y 'dns' 2>/dev/null); do
    i=$((i+1)); echo -n "$hex" | xxd -r -p > "seeds/dns/$n-$i"; done
  i=0
  for hex in $(tshark -r "$f" -c 200 -T fields -e tcp.payload -Y 'http.request or http.response' 2>/dev/null); do
    i=$((i+1)); echo -n "$hex" | xxd -r -p > "seeds/http/$n-$i"; done
  i=0
  for hex in $(tshark -r "$f" -c 200 -T fields -e tcp.payload -Y 'tls.handshake' 2>/dev/null); do
    i=$((i+1)); echo -n "$hex" | xxd -r -p > "seeds/tls/$n-$i"; done
  tshark -r "$f" -c 20 -x -T json 2>/dev/null | python3 -c '
import json, sys
for i, p in enumerate(json.load(sys.stdin)):
    raw = p["_source"]["layers"].get("frame_raw")
    if raw:
        open(sys.argv[1] + "-" + str(i), "wb").write(bytes.fromhex(raw[0]))
' "seeds/decode/$n" || true
done < <(find "${dirs[@]}" -name '*.pcap' -print0 2>/dev/null)
for t in capture decode dns http tls; do echo "$t: $(ls seeds/$t | wc -l) seeds"; done
