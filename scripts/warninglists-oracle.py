#!/usr/bin/env python3
"""Reference answers for vigil_intel::warninglists, from pymispwarninglists.

Usage: warninglists-oracle.py LISTS_DIR SAMPLE.tsv [--timing N]

LISTS_DIR is a warninglists folder (holding `lists/`) or the `lists` folder itself. Every
`lists/<slug>/list.json` is loaded into a `pymispwarninglists.WarningList` with
`slow_search=True` (the CIDR-correct mode), so the peer sees exactly the files Vigil loads,
not its bundled copy.

SAMPLE.tsv has one `misp_type<TAB>value` per line. For each line the oracle prints one line:

    <peer slugs, sorted, comma-separated><TAB><regex slugs, sorted, comma-separated>

pymispwarninglists matches one value against every list; it has no notion of attribute types.
The type handling therefore follows MISP core (app/Model/Warninglist.php, checkForWarning and
checkValue), which is where `matching_attributes` is defined:

* a list applies when its `matching_attributes` contains the type, or is empty/missing (ALL);
* for composite types (a `|` in the type, or `malware-sample`) the value is split once at the
  first `|` and the list hits when either part hits.

Each (list, part) decision is the peer's `part in WarningList`. Where the peer raises (urlparse
rejects e.g. `http://[::1`), that list does not hit. pymispwarninglists never matches `regex`
lists (its slow search returns False for them), so the second column evaluates regex lists with
Python's `re` instead, after the same `/pattern/flags` translation Vigil uses (i, m, s, x; `g`
ignored). It is an independent check of the translation, not the peer.

--timing N prints to stderr the peer's load time and its mean time per un-gated
`WarningLists.search(value)` over the first N sample values (the call MISP users make).
"""

import glob
import json
import os
import re
import sys
import time

from pymispwarninglists.api import WarningList, WarningLists


def lists_root(path):
    lists = os.path.join(path, "lists")
    return lists if os.path.isdir(lists) else path


def load(path):
    out = []
    for f in sorted(glob.glob(os.path.join(lists_root(path), "*", "list.json"))):
        with open(f, encoding="utf-8") as fh:
            raw = json.load(fh)
        slug = os.path.basename(os.path.dirname(f))
        out.append((slug, raw))
    return out


FLAGS = {"i": re.I, "m": re.M, "s": re.S, "x": re.X, "g": 0}
CLOSING = {"(": ")", "[": "]", "{": "}", "<": ">"}


def compile_pcre(entry):
    """`/pattern/flags` → compiled `re` pattern, or None when it cannot be translated."""
    if len(entry) < 2 or entry[0].isalnum() or entry[0] in "\\ \t\r\n":
        return None
    close = CLOSING.get(entry[0], entry[0])
    end = entry.rfind(close)
    if end <= 0:
        return None
    flags = 0
    for c in entry[end + 1:]:
        if c not in FLAGS:
            return None
        flags |= FLAGS[c]
    try:
        return re.compile(entry[1:end], flags)
    except re.error:
        return None


def parts(misp_type, value):
    if "|" in misp_type or misp_type == "malware-sample":
        return value.split("|", 1)
    return [value]


def applies(raw, misp_type):
    types = raw.get("matching_attributes") or []
    return not types or misp_type in types


def peer_hit(wl, ps):
    for p in ps:
        try:
            if p in wl:
                return True
        except Exception:  # the peer raising means it reports nothing for this list
            pass
    return False


def main():
    args = sys.argv[1:]
    timing = None
    if "--timing" in args:
        i = args.index("--timing")
        timing = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    lists_dir, sample = args

    raw_lists = load(lists_dir)
    t0 = time.perf_counter()
    peer = [(slug, raw, WarningList(raw, slow_search=True)) for slug, raw in raw_lists]
    load_s = time.perf_counter() - t0
    regexes = {
        slug: [r for r in (compile_pcre(e) for e in raw["list"]) if r is not None]
        for slug, raw in raw_lists
        if raw["type"] == "regex"
    }

    rows = []
    with open(sample, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            misp_type, _, value = line.partition("\t")
            rows.append((misp_type, value))

    for misp_type, value in rows:
        ps = parts(misp_type, value)
        hits, rx = [], []
        for slug, raw, wl in peer:
            if not applies(raw, misp_type):
                continue
            if peer_hit(wl, ps):
                hits.append(slug)
            if slug in regexes and any(r.search(p) for r in regexes[slug] for p in ps):
                rx.append(slug)
        print(",".join(sorted(hits)) + "\t" + ",".join(sorted(rx)))

    if timing:
        # The same objects through the public Mapping API (`search` tries every list).
        t0 = time.perf_counter()
        wls = WarningLists(slow_search=True, lists=[raw for _, raw in raw_lists])
        full_load_s = time.perf_counter() - t0
        values = [v for _, v in rows[:timing]]
        t0 = time.perf_counter()
        for v in values:
            try:
                wls.search(v)
            except Exception:
                pass
        per = (time.perf_counter() - t0) / max(len(values), 1)
        print(
            f"peer: load {max(load_s, full_load_s):.2f} s ({len(peer)} lists), "
            f"search {per * 1e3:.1f} ms per value over {len(values)} values",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
