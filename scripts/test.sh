#!/usr/bin/env bash
# The whole test suite: the Rust workspace's tests, then the Python package's
# (scripts/python-tests.sh). README.md's test command and .ci/run call this.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
scripts/python-tests.sh
