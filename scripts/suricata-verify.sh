#!/usr/bin/env bash
# Runs the suricata-verify tests through `vigil scan` (release build) and prints
# PASS/FAIL/SKIP per test and a total. See docs/SURICATA-VERIFY.md.
#
# Usage: scripts/suricata-verify.sh [FILTER...]
#   FILTER                      only tests whose path contains it (report only)
#   SURICATA_VERIFY_TESTS=DIR   another tests directory, e.g. the acceptance set (report only)
#   SURICATA_VERIFY_JSON=FILE   also write a JSON report
#   SURICATA_VERIFY_OUT=DIR     keep each test's eve.json/stdout/stderr in DIR/<test>/
#   SURICATA_VERIFY_BIN=FILE    run this binary instead of the one built here
set -euo pipefail

# cargo runs the test with the crate directory as working directory: make paths absolute.
for var in SURICATA_VERIFY_TESTS SURICATA_VERIFY_JSON SURICATA_VERIFY_OUT SURICATA_VERIFY_BIN; do
  val="${!var:-}"
  if [ -n "$val" ]; then
    case "$val" in
      /*) ;;
      *) val="$PWD/$val" ;;
    esac
    export "$var=$val"
  fi
done

cd "$(dirname "$0")/.."
exec cargo test -p vigil --release --test suricata_verify -- "$@"
