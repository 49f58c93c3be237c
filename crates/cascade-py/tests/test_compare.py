"""`Scenario.compare` gives `cascade compare`'s files byte for byte (compare.json, compare.csv,
and each variant's summary.json and timeline.csv); unknown variants and assets are ValueErrors,
a variant under which the scenario is invalid a ScenarioError naming it."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest

import cascade

MECHANISMS = ["as_is", "aave_v3.3", "dutch_auction", "backstop+no_congestion"]


@pytest.fixture(scope="module")
def scenario(root):
    return cascade.load(root / "examples/eth-crash.toml")


@pytest.fixture(scope="module")
def compared(scenario):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        return scenario.compare(MECHANISMS)


def test_compare_equals_cli(cli, tmp_path, compared):
    cli("compare", "examples/eth-crash.toml", "--mechanisms", ",".join(MECHANISMS),
        "--quiet", "--out", str(tmp_path))
    assert compared.compare_json == (tmp_path / "compare.json").read_text()
    assert compared.compare_csv == (tmp_path / "compare.csv").read_text()
    assert list(compared.variants) == MECHANISMS
    for name, run in compared.variants.items():
        assert run.summary_json == (tmp_path / name / "summary.json").read_text(), name
        assert run.timeline_csv == (tmp_path / name / "timeline.csv").read_text(), name
        assert run.events is None


def test_table_holds_compare_csvs_cells(compared):
    rows = list(csv.DictReader(io.StringIO(compared.compare_csv)))
    table = compared.table.to_pyarrow()
    assert table.column_names == list(rows[0])
    assert table.num_rows == len(MECHANISMS)
    for column in table.column_names:
        for row, value in zip(rows, table.column(column).to_pylist()):
            if value is None:
                assert row[column] == "", column
            elif isinstance(value, str):
                assert row[column] == value
            else:
                assert float(row[column]) == value, column


def test_document_and_rows_follow_the_order_asked(compared):
    assert [r["mechanism"] for r in compared.document["rows"]] == MECHANISMS
    assert compared.document["asset"] == "ETH"
    assert len(compared) == len(MECHANISMS)


def test_a_comma_separated_string_is_the_same_compare(scenario, compared):
    with pytest.warns(UserWarning, match="backstop\\+no_congestion: no_congestion changes nothing"):
        again = scenario.compare(",".join(MECHANISMS), threads=1)
    assert again.compare_json == compared.compare_json


def test_inert_part_is_warned(root):
    perp = cascade.load(root / "examples/perp-long-cascade.toml")
    with pytest.warns(UserWarning, match="aave_v3.3 changes nothing in this scenario"):
        result = perp.compare(["as_is", "aave_v3.3"])
    assert any("changes nothing" in w for w in result.warnings)


def test_asset_is_chosen(scenario):
    result = scenario.compare(["as_is"], asset="USDC")
    assert json.loads(result.compare_json)["asset"] == "USDC"


def test_bad_arguments_are_value_errors(scenario):
    with pytest.raises(ValueError, match="unknown mechanism"):
        scenario.compare(["as_is", "nonesuch"])
    with pytest.raises(ValueError, match="listed twice"):
        scenario.compare(["as_is", "as_is"])
    with pytest.raises(ValueError, match="not an asset of the scenario"):
        scenario.compare(["as_is"], asset="DOGE")
    with pytest.raises(ValueError, match="one or more variants"):
        scenario.compare([])
    with pytest.raises(ValueError, match="at least one thread"):
        scenario.compare(["as_is"], threads=0)
