#!/usr/bin/env python3
"""Reads a MISP feed folder with pymisp, the reference MISP client.

Usage: misp-feed-oracle.py DIR

Loads DIR/manifest.json and every <uuid>.json it lists with MISPEvent().load_file, and prints
JSON {event uuid: sorted [[type, value, to_ids, sorted tags], ...]}. Exits 1 (message on stderr)
when hashes.csv differs from the md5 hashes pymisp computes for the events, or a manifest entry
differs from the one pymisp generates for its event.
"""
import json
import sys
from pathlib import Path

from pymisp import MISPEvent


def main() -> int:
    root = Path(sys.argv[1])
    manifest = json.loads((root / "manifest.json").read_text())
    out = {}
    want_hashes = []
    problems = []
    for uuid in sorted(manifest):
        event = MISPEvent()
        event.load_file(root / f"{uuid}.json")
        if event.uuid != uuid:
            problems.append(f"{uuid}.json holds event {event.uuid}")
        out[uuid] = sorted(
            [a.type, a.value, bool(a.to_ids), sorted(t.name for t in a.tags)]
            for a in event.attributes
        )
        want_hashes += [f"{h},{uuid}" for h in event.attributes_hashes("md5")]
        generated = json.loads(json.dumps(event.manifest[uuid], default=str))
        if generated != manifest[uuid]:
            problems.append(f"manifest entry {uuid}: pymisp makes {generated}, feed has {manifest[uuid]}")
    got_hashes = (root / "hashes.csv").read_text().splitlines()
    if sorted(got_hashes) != sorted(want_hashes):
        problems.append(f"hashes.csv: pymisp makes {sorted(want_hashes)}, feed has {sorted(got_hashes)}")
    for p in problems:
        print(p, file=sys.stderr)
    print(json.dumps(out, sort_keys=True))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
