"""Python's outputs equal the CLI's: summary.json and timeline.csv byte for byte, montecarlo.json
and paths.csv byte for byte, map.json too."""

from __future__ import annotations

import tomllib

import pytest

import cascade

RUNS = [
    ("examples/eth-crash.toml", 0),
    ("examples/perp-short-squeeze.toml", 0),
    ("examples/gbm-jump-stress.toml", 3),
    ("examples/black-thursday-2020.toml", 0),
]


@pytest.mark.parametrize("example,path", RUNS)
def test_run_equals_cli(root, cli, tmp_path, monkeypatch, example, path):
    cli("run", example, "--path", str(path), "--quiet", "--out", str(tmp_path))
    # The same relative path as the command was given, from the same directory.
    monkeypatch.chdir(root)
    run = cascade.load(example).run(path)
    assert run.summary_json == (tmp_path / "summary.json").read_text()
    assert run.timeline_csv == (tmp_path / "timeline.csv").read_text()
    events = (tmp_path / "events.csv").read_text().count("\n") - 1
    assert run.events is not None and run.events.num_rows == events


def test_overrides_equal_cli_set(root, cli, tmp_path):
    cli("run", "examples/eth-crash.toml", "--set", "protocols[0].liquidation.bonus=0.08",
        "--set", "simulation.seed=7", "--quiet", "--out", str(tmp_path))
    scenario = cascade.load(root / "examples/eth-crash.toml",
                            set={"protocols[0].liquidation.bonus": 0.08, "simulation.seed": 7})
    assert scenario.seed == 7
    assert scenario.run().summary_json == (tmp_path / "summary.json").read_text()


def test_montecarlo_equals_cli(root, cli, tmp_path):
    cli("montecarlo", "examples/gbm-jump-stress.toml", "--paths", "24", "--paths-from", "5",
        "--quiet", "--out", str(tmp_path))
    mc = cascade.load(root / "examples/gbm-jump-stress.toml").montecarlo(paths=24, paths_from=5)
    assert mc.montecarlo_json == (tmp_path / "montecarlo.json").read_text()
    assert mc.paths_csv == (tmp_path / "paths.csv").read_text()
    assert mc.distribution["paths"] == 24 and mc.paths_from == 5
    assert mc.paths.num_rows == 24


def test_threads_do_not_change_figures(root):
    scenario = cascade.load(root / "examples/gbm-jump-stress.toml")
    one = scenario.montecarlo(paths=12, threads=1)
    two = scenario.montecarlo(paths=12, threads=2)
    assert one.montecarlo_json == two.montecarlo_json


def test_map_equals_cli(root, cli, tmp_path):
    cli("map", "examples/eth-crash.toml", "--quiet", "--out", str(tmp_path))
    m = cascade.load(root / "examples/eth-crash.toml").map()
    assert m.map_json == (tmp_path / "map.json").read_text()
    assert m.map_csv == (tmp_path / "map.csv").read_text()


def test_from_toml_and_from_dict_run_the_same_market(root):
    path = root / "examples/eth-crash.toml"
    text = path.read_text()
    from_file = cascade.load(path).run().summary
    from_text = cascade.from_toml(text).run().summary
    assert from_text == from_file  # same text, same hash, same figures
    with open(path, "rb") as f:
        from_dict = cascade.from_dict(tomllib.load(f)).run().summary
    # The dict is written back as TOML: other text, so another hash; every figure the same.
    for summary in (from_dict, from_file):
        summary["scenario"].pop("hash")
    assert from_dict == from_file
