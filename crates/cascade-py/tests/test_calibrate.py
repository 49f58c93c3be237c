"""`Scenario.calibrate` gives `cascade calibrate`'s files byte for byte (calibration.json,
frontier.csv); bad ranges, budgets and directions are ValueErrors, a value that makes the
scenario invalid a ScenarioError naming the field."""

from __future__ import annotations

import csv
import io
import json

import pytest

import cascade

BONUS = "protocols.aave-like.liquidation.bonus"
RISK = "var99(bad_debt_usd) <= 3e5"


@pytest.fixture(scope="module")
def scenario(root):
    return cascade.load(root / "examples/gbm-jump-stress.toml")


@pytest.fixture(scope="module")
def calibration(scenario):
    return scenario.calibrate(BONUS, "0.02:0.12:0.05", RISK, paths=12)


def test_calibrate_equals_cli(cli, tmp_path, calibration):
    cli("calibrate", "examples/gbm-jump-stress.toml", "--parameter", BONUS, "--range",
        "0.02:0.12:0.05", "--risk", RISK, "--paths", "12", "--quiet", "--out", str(tmp_path))
    assert calibration.calibration_json == (tmp_path / "calibration.json").read_text()
    assert calibration.frontier_csv == (tmp_path / "frontier.csv").read_text()
    document = json.loads((tmp_path / "calibration.json").read_text())
    chosen = document["chosen"]
    assert calibration.chosen == (None if chosen is None else chosen["value"])


def test_frontier_table_holds_frontier_csvs_cells(calibration):
    rows = list(csv.DictReader(io.StringIO(calibration.frontier_csv)))
    table = calibration.frontier.to_pyarrow()
    assert table.column_names == list(rows[0])
    assert table.num_rows == len(rows) == len(calibration) == 3
    for column in table.column_names:
        for row, value in zip(rows, table.column(column).to_pylist()):
            if value is None:
                assert row[column] == "", column
            elif isinstance(value, bool):
                assert row[column] == str(value).lower(), column
            elif isinstance(value, str):
                assert row[column] == value, column
            else:
                assert float(row[column]) == value, column


def test_a_tuple_range_is_the_same_calibration(scenario, calibration):
    again = scenario.calibrate(BONUS, (0.02, 0.12, 0.05), RISK, paths=12, threads=1)
    assert again.calibration_json == calibration.calibration_json


def test_bad_arguments_are_value_errors(scenario):
    with pytest.raises(ValueError, match="at least one path"):
        scenario.calibrate(BONUS, "0.02:0.1", RISK, paths=0)
    with pytest.raises(ValueError, match="expected LO:HI"):
        scenario.calibrate(BONUS, "0.1:0.02", RISK, paths=2)
    with pytest.raises(ValueError, match="risk"):
        scenario.calibrate(BONUS, "0.02:0.1", "var99(bad_debt_usd) ~ 1", paths=2)
    with pytest.raises(ValueError, match="no figure"):
        scenario.calibrate(BONUS, "0.02:0.1", "mean(nothing) <= 1", paths=2)
    with pytest.raises(ValueError, match="prefer"):
        scenario.calibrate("simulation.seed", "1:2", RISK, paths=2)
    with pytest.raises(ValueError, match="expected high or low"):
        scenario.calibrate(BONUS, "0.02:0.1", RISK, paths=2, prefer="up")


def test_invalid_value_is_a_scenario_error(scenario):
    with pytest.raises(cascade.ScenarioError) as caught:
        scenario.calibrate(BONUS, "-0.5:0.1", RISK, paths=2)
    assert any(p.field.endswith("liquidation.bonus") for p in caught.value.problems)
    with pytest.raises(cascade.ScenarioError) as caught:
        scenario.calibrate("protocols.nowhere.liquidation.bonus", "0.02:0.1", RISK, paths=2)
    (problem,) = caught.value.problems
    assert problem.field == "protocols.nowhere.liquidation.bonus"
