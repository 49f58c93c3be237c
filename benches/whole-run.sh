#!/usr/bin/env bash
# Whole-run benchmark: `cascade run` end to end (load, generate, index, run, write all outputs)
# on the committed 1,000,000-position scenario. Prints wall time and peak resident memory of
# each of N runs (default 5). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --release --quiet --bin cascade
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e s wall, %M KB peak RSS" \
    target/release/cascade run benches/million-positions.toml --out "$out" --quiet
done
wc -l "$out/events.csv"
