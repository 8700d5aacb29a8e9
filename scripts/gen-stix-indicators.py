"""Writes a STIX 2.1 bundle of N deterministic IPv4 indicators (10.x.y.z) for the hub benchmarks.
Usage: gen-stix-indicators.py OUTPUT [N=100000]"""
import json, sys, uuid

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
ns = uuid.UUID("6f0c2f1a-0000-4000-8000-000000000000")
objs = []
for i in range(n):
    ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
    objs.append({"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid5(ns, ip)}",
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "name": f"bench {i}", "pattern": f"[ipv4-addr:value = '{ip}']",
                 "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"})
json.dump({"type": "bundle", "id": f"bundle--{uuid.uuid5(ns, 'bench')}", "objects": objs}, open(out, "w"))
