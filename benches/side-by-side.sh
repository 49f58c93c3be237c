#!/usr/bin/env bash
# Side-by-side whole-process timings of cascade and the NumPy peer on the same cascade, in one run,
# alternating the two (these machines are noisy: compare the ratio of medians, not absolute
# times). Prints wall time and peak resident memory of each run: the single-path cascades at one
# and ten million positions, each events format, and the Monte Carlo of the wall model.
#   benches/side-by-side.sh [RUNS]     (default 5)
# Needs the peers' virtualenv: python3 -m venv .venv-peers &&
#   .venv-peers/bin/pip install -r benches/peers/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
python="${PEERS_PYTHON:-.venv-peers/bin/python}"
cargo build --release --quiet --bin cascade
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
time_it() { /usr/bin/time -f "%e s wall, %M KB peak  $*" "$@" >/dev/null; }
for n in 1000000 10000000; do
  scenario=benches/million-wall.toml
  [[ $n == 10000000 ]] && scenario=benches/ten-million-wall.toml
  echo "== $n positions: $scenario against numpy_wall.py $n"
  for _ in $(seq "$runs"); do
    time_it target/release/cascade run "$scenario" --events none --quiet --out "$out/a"
    time_it "$python" benches/peers/numpy_wall.py "$n"
  done
done
echo "== benches/million-positions.toml, each events format"
for format in none csv parquet; do
  for _ in $(seq "$runs"); do
    time_it target/release/cascade run benches/million-positions.toml --events "$format" --quiet --out "$out/$format"
  done
done
echo "== Monte Carlo: benches/mc-wall-100k.toml (10,000 paths) against numpy_mc.py (400 paths) and radcad_mc.py (20 paths): compare per path"
for _ in $(seq "$runs"); do
  time_it target/release/cascade montecarlo benches/mc-wall-100k.toml --paths 10000 --quiet --out "$out/mc"
  time_it "$python" benches/peers/numpy_mc.py 400
done
time_it "$python" benches/peers/radcad_mc.py 20
for threads in 1 2; do
  time_it target/release/cascade montecarlo benches/mc-wall-100k.toml --paths 10000 --threads "$threads" --quiet --out "$out/mc-$threads"
done
echo "== Monte Carlo: 10,000 paths over 1,000,000 loans against 10,000 (benches/mc-wall-100k.toml, count edited)"
for n in 10000 1000000; do
  sed "s/^count = 100000$/count = $n/" benches/mc-wall-100k.toml >"$out/mc-$n.toml"
  for _ in $(seq "$runs"); do
    time_it target/release/cascade montecarlo "$out/mc-$n.toml" --paths 10000 --quiet --out "$out/mc-n$n"
  done
done
