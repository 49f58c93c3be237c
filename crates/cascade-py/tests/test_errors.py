"""Bad input raises typed exceptions naming the field; nothing panics across the boundary."""

from __future__ import annotations

import pytest

import cascade


def test_invalid_value_names_field_line_and_value(root):
    text = (root / "examples/eth-crash.toml").read_text()
    with pytest.raises(cascade.ScenarioError) as caught:
        cascade.from_toml(text, set={"protocols[0].liquidation.bonus": -0.5})
    problems = caught.value.problems
    assert problems, "a ScenarioError lists its problems"
    bonus = [p for p in problems if p.field.endswith("liquidation.bonus")]
    assert bonus, problems
    assert bonus[0].file == "<string>"
    assert bonus[0].value == "-0.5"
    assert bonus[0].line is not None
    assert bonus[0].message


def test_unknown_override_path_is_a_scenario_error(root):
    with pytest.raises(cascade.ScenarioError) as caught:
        cascade.load(root / "examples/eth-crash.toml", set={"protocols.nowhere.bonus": 1})
    (problem,) = caught.value.problems
    assert problem.field == "protocols.nowhere.bonus"
    assert problem.value == "1"


def test_missing_file_and_bad_toml():
    with pytest.raises(cascade.ScenarioError) as caught:
        cascade.load("no/such/scenario.toml")
    assert caught.value.problems[0].file == "no/such/scenario.toml"
    with pytest.raises(cascade.ScenarioError) as caught:
        cascade.from_toml("[simulation\nname = 1")
    assert caught.value.problems[0].line == 1


def test_dict_with_missing_sections_lists_problems():
    with pytest.raises(cascade.ScenarioError) as caught:
        cascade.from_dict({"simulation": {"name": "x", "seed": "not a number"}})
    assert any("seed" in p.field for p in caught.value.problems), caught.value.problems
    assert isinstance(caught.value, ValueError)


def test_arguments_out_of_range(root):
    scenario = cascade.load(root / "examples/gbm-jump-stress.toml")
    with pytest.raises(ValueError, match="at least one path"):
        scenario.montecarlo(paths=0)
    with pytest.raises(ValueError, match="overflows"):
        scenario.montecarlo(paths=2, paths_from=2**64 - 1)
    with pytest.raises(ValueError, match="at least one thread"):
        scenario.montecarlo(paths=2, threads=0)
    with pytest.raises(ValueError, match="buckets"):
        scenario.map(buckets=0)
    with pytest.raises(ValueError, match="backend"):
        scenario.montecarlo(paths=2, backend="spark")


def test_path_beyond_an_ensemble(root):
    scenario = cascade.load(root / "examples/ensemble-paths.toml")
    with pytest.raises(ValueError, match="ensemble"):
        scenario.run(path=10**9)
