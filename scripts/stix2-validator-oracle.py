#!/usr/bin/env python3
"""Prints which objects of a STIX file stix2-validator reports errors for.

Usage: stix2-validator-oracle.py FILE

Output (JSON): {"file": FILE, "fatal": null | message, "invalid": [ids, sorted],
"errors": {id: [messages]}}. stix2-validator validates a bundle as one result and prefixes
each error with the id of the object it belongs to ("<id>: ..."); errors without such a
prefix are attributed to the top-level object (the bundle, or the single object).
Used by crates/vigil-intel/tests/validate_peer.rs.
"""
import json
import re
import sys

from stix2validator import ValidationOptions, validate_file

ID_PREFIX = re.compile(r"^([^\s:]+--[^\s:]+): ")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    top = doc.get("id", "") if isinstance(doc, dict) else ""
    res = validate_file(path, ValidationOptions(files=[path], verbose=False, silent=True))
    out = {"file": path, "fatal": None, "invalid": [], "errors": {}}
    if res.fatal is not None:
        out["fatal"] = str(res.fatal.message if hasattr(res.fatal, "message") else res.fatal)
    results = res.object_results or []
    if not isinstance(results, list):
        results = [results]
    for r in results:
        for e in r.errors or []:
            msg = str(e)
            m = ID_PREFIX.match(msg)
            oid = m.group(1) if m else (r.object_id or top)
            out["errors"].setdefault(oid, []).append(msg)
    out["invalid"] = sorted(out["errors"])
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
