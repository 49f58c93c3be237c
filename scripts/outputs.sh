#!/usr/bin/env bash
# Writes the outputs of every example (and of the two million-position benchmarks, with
# --benches) into DIR, one folder per scenario, with what the command printed. Run it before and
# after a refactor and compare the two folders with `diff -r`: a refactor keeps them
# byte-identical.
#   scripts/outputs.sh DIR [--benches] [-- EXTRA ARGS FOR cascade run]
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:?usage: scripts/outputs.sh DIR [--benches] [-- ARGS]}"
shift
benches=0
if [[ "${1:-}" == "--benches" ]]; then benches=1; shift; fi
if [[ "${1:-}" == "--" ]]; then shift; fi
cargo build --release --quiet --bin cascade
bin=target/release/cascade
mkdir -p "$dir"
scenarios=(examples/*.toml)
if [[ $benches == 1 ]]; then scenarios+=(benches/*.toml); fi
for f in "${scenarios[@]}"; do
  n="$(basename "$f" .toml)"
  "$bin" run "$f" --out "$dir/$n" "$@" >"$dir/$n.stdout" 2>&1 || echo "exit $?" >>"$dir/$n.stdout"
done
"$bin" compare examples/eth-crash.toml --out "$dir/compare-eth-crash" \
  --mechanisms as_is,aave_v3.3,morpho_blue,dutch_auction,english_auction,backstop,stability_pool \
  >"$dir/compare-eth-crash.stdout" 2>&1
"$bin" compare examples/black-thursday-2020.toml --out "$dir/compare-black-thursday" \
  --mechanisms as_is,no_congestion,faster_oracle,dutch_auction+no_congestion \
  >"$dir/compare-black-thursday.stdout" 2>&1
