#!/usr/bin/env bash
# Whole-run benchmark: `cascade run` end to end (load, generate, index, run, write all outputs)
# on a committed 1,000,000-position scenario (benches/million-positions.toml by default, or the
# file given second, e.g. benches/million-perps.toml). Prints wall time and peak resident memory
# of each of N runs (default 5). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
scenario="${2:-benches/million-positions.toml}"
cargo build --release --quiet --bin cascade
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e s wall, %M KB peak RSS" \
    target/release/cascade run "$scenario" --out "$out" --quiet
done
wc -l "$out/events.csv"
