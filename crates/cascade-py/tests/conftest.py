"""Shared set-up of the Python suite: the repository's root, the `cascade` command to compare
with (CASCADE_BIN, or the dev build cargo leaves in the target directory) and a helper to run it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _cli() -> Path:
    if "CASCADE_BIN" in os.environ:
        return Path(os.environ["CASCADE_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "cascade"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def cli():
    """Runs `cascade ARGS` from the repository's root; fails the test if it fails."""
    binary = _cli()
    if not binary.exists():
        pytest.fail(f"{binary}: no cascade binary (build it with cargo build, or set CASCADE_BIN)")

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(binary), *args], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    return run
