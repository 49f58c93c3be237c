#!/usr/bin/env bash
# The Python package's suite: makes a virtual environment (CASCADE_VENV, target/venv by default)
# with the pinned requirements, builds the extension into it (dev profile: quick to compile, and
# the figures are the same as release), then runs crates/cascade-py/tests against the `cascade`
# command of the same profile and executes the notebook examples/cascade-tour.ipynb.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
venv="$(realpath -m "${CASCADE_VENV:-$target/venv}")"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r crates/cascade-py/requirements-test.txt
VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --quiet -m crates/cascade-py/Cargo.toml
cargo build --quiet --bin cascade
export CASCADE_BIN="${CASCADE_BIN:-$(realpath -m "$target/debug/cascade")}"
"$venv/bin/python" -m pytest -q -p no:cacheprovider crates/cascade-py/tests \
  --nbmake examples/cascade-tour.ipynb
