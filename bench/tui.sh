#!/usr/bin/env bash
# The portal TUI with 20,000 rows: time from the account cache to the first drawn
# list, and filter + redraw per keystroke (median and p95), in a release build.
# Targets: first list <= 80 ms, keystroke <= 10 ms p95. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet --release --example tui_bench
