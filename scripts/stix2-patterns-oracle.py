#!/usr/bin/env python3
"""Reads STIX patterns, one per line, and prints `valid` or `invalid` for each line, judged by
stix2-patterns (the STIX 2.1 grammar). Blank lines and lines starting with `#` print `skip`;
a line on which stix2-patterns itself raises prints `crash` (it does on negative list indices,
which the grammar allows: its inspector reads only IntPosLiteral).

Usage: stix2-patterns-oracle.py [FILE]   (default: stdin)
Used by crates/vigil-intel/tests/pattern_peer.rs.
"""
import sys

from stix2patterns.validator import validate


def main():
    src = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    for line in src:
        p = line.rstrip("\n")
        if not p.strip() or p.startswith("#"):
            print("skip")
            continue
        try:
            ok, _errs = validate(p, ret_errs=True, stix_version="2.1")
        except Exception:
            print("crash")
            continue
        print("valid" if ok else "invalid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
