"""Tables reach pyarrow, polars and pandas through the Arrow PyCapsule interface."""

from __future__ import annotations

import pandas
import polars
import pyarrow

import cascade


def test_timeline_events_and_paths_as_dataframes(root):
    scenario = cascade.load(root / "examples/eth-crash.toml")
    run = scenario.run()
    timeline = run.timeline
    table = pyarrow.table(timeline)
    assert table.num_rows == timeline.num_rows == len(run.timeline_csv.splitlines()) - 1
    assert table.column_names == timeline.column_names == run.timeline_csv.splitlines()[0].split(",")
    assert table.schema.field("step").type == pyarrow.int64()
    frame = timeline.to_polars()
    assert isinstance(frame, polars.DataFrame) and frame.height == timeline.num_rows
    pdf = timeline.to_pandas()
    assert isinstance(pdf, pandas.DataFrame) and len(pdf) == timeline.num_rows
    events = run.events.to_polars()
    assert events["seq"].to_list() == list(range(events.height))
    # The stream can be read again.
    assert pyarrow.table(timeline).equals(table)


def test_paths_table_matches_paths_csv(root):
    mc = cascade.load(root / "examples/gbm-jump-stress.toml").montecarlo(paths=8)
    frame = mc.paths.to_pandas()
    assert list(frame["path"]) == list(range(8))
    assert list(frame.columns) == mc.paths_csv.splitlines()[0].split(",")


def test_no_events_when_not_asked(root):
    run = cascade.load(root / "examples/eth-crash.toml").run(events=False)
    assert run.events is None
    assert run.summary["scenario"]["name"] == "eth-crash"
