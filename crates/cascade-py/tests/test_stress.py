"""`Scenario.stress` gives `cascade stress`'s files byte for byte; a grid value that cannot be
written in, or makes a point invalid, raises ScenarioError naming the field."""

from __future__ import annotations

import pytest

import cascade

BONUS = "protocols.aave-like.liquidation.bonus"
VOLATILITY = "assets.ETH.driver.volatility"


@pytest.fixture(scope="module")
def scenario(root):
    return cascade.load(root / "examples/gbm-jump-stress.toml")


@pytest.mark.parametrize("paths", [None, 12])
def test_stress_equals_cli(cli, tmp_path, scenario, paths):
    args = ["stress", "examples/gbm-jump-stress.toml", "--grid", f"{BONUS}=0.05,0.1",
            "--grid", f"{VOLATILITY}=0.8,1.6", "--quiet", "--out", str(tmp_path)]
    if paths is not None:
        args += ["--paths", str(paths)]
    cli(*args)
    stress = scenario.stress({BONUS: [0.05, 0.1], VOLATILITY: [0.8, 1.6]}, paths=paths)
    assert stress.stress_json == (tmp_path / "stress.json").read_text()
    assert stress.stress_csv == (tmp_path / "stress.csv").read_text()
    assert len(stress) == 4
    assert stress.document["paths"] == (paths or 1)
    table = stress.table
    assert table.num_rows == 4
    header = (tmp_path / "stress.csv").read_text().splitlines()[0].split(",")
    assert table.column_names == header


def test_threads_do_not_change_figures(scenario):
    one = scenario.stress({BONUS: [0.05, 0.1]}, paths=6, threads=1)
    two = scenario.stress({BONUS: [0.05, 0.1]}, paths=6, threads=2)
    assert one.stress_json == two.stress_json


def test_bad_grid_key_is_a_scenario_error(scenario):
    with pytest.raises(cascade.ScenarioError) as caught:
        scenario.stress({"protocols.nowhere.liquidation.bonus": [0.1]})
    (problem,) = caught.value.problems
    assert problem.field == "protocols.nowhere.liquidation.bonus"
    assert problem.value == "0.1"


def test_invalid_point_is_a_scenario_error(scenario):
    with pytest.raises(cascade.ScenarioError) as caught:
        scenario.stress({BONUS: [0.05, -0.5]})
    assert any(p.field.endswith("liquidation.bonus") for p in caught.value.problems)


def test_bad_arguments_are_value_errors(scenario):
    with pytest.raises(ValueError, match="at least one path"):
        scenario.stress({BONUS: [0.1]}, paths=0)
    with pytest.raises(ValueError, match="non-empty values"):
        scenario.stress({BONUS: []})
    with pytest.raises(ValueError, match="sequence of values"):
        scenario.stress({BONUS: "0.1"})
