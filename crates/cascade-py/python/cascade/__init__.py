"""cascade from Python: liquidation-cascade scenarios, runs, Monte Carlo (local or on Ray),
liquidation maps, stress tests, compares of mechanisms and calibrations, on the engine of the
``cascade`` command.

>>> import cascade
>>> scenario = cascade.load("examples/eth-crash.toml", set={"shocks[0].drop": 0.2})
>>> run = scenario.run()
>>> run.summary["losses"]                       # summary.json as a dict
>>> run.timeline.to_polars()                    # Arrow data, no copy
>>> mc = scenario.montecarlo(paths=1_000)       # or backend="ray", shards=8
>>> mc.distribution                             # montecarlo.json as a dict
>>> st = scenario.stress({"shocks[0].drop": [0.2, 0.4]}, paths=100)
>>> st.document                                 # stress.json as a dict
>>> cmp = scenario.compare("as_is,aave_v3.3,dutch_auction")
>>> cmp.table.to_pandas()                       # compare.csv, a row per variant
>>> cal = scenario.calibrate("protocols.aave-like.liquidation.bonus", "0.02:0.12:0.02",
...                          "var99(bad_debt_usd) <= 3e5", paths=200)
>>> cal.chosen, cal.frontier.to_polars()

Every figure and file text is the one the ``cascade`` command writes for the same scenario:
``run.summary_json`` is summary.json byte for byte, ``mc.montecarlo_json`` montecarlo.json,
``st.stress_json`` stress.json, ``cmp.compare_json`` compare.json, ``cal.calibration_json``
calibration.json. An invalid scenario raises :class:`ScenarioError` listing each problem's file,
line, field path, value and message.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _cascade
from ._errors import CascadeError, InternalError, Problem, ScenarioError

__all__ = [
    "Calibration",
    "CascadeError",
    "Compare",
    "InternalError",
    "LiquidationMap",
    "MonteCarlo",
    "Problem",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Stress",
    "Table",
    "from_dict",
    "from_toml",
    "load",
    "merge",
    "shard_ranges",
]

__version__: str = _cascade.__version__

PathLike = Union[str, "os.PathLike[str]"]
Overrides = Optional[Mapping[str, Any]]


def _toml_value(value: Any) -> str:
    """A Python value written as a TOML value, for an override."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"an override's value must be a bool, number, string, list or dict, not {type(value).__name__}")


def _sets(overrides: Overrides) -> List[str]:
    """``{"key": value}`` as the ``KEY=VALUE`` overrides of ``cascade run --set``."""
    if not overrides:
        return []
    return [f"{key}={_toml_value(value)}" for key, value in overrides.items()]


class Table:
    """An Arrow table (a run's timeline or events, a Monte Carlo's paths). It implements the Arrow
    PyCapsule interface, so ``pyarrow.table(t)``, ``polars.DataFrame(t)`` and ``duckdb`` read its
    buffers without a copy."""

    __slots__ = ("_native",)

    def __init__(self, native: "_cascade.Table") -> None:
        self._native = native

    def __arrow_c_stream__(self, requested_schema: Optional[Any] = None) -> Any:
        return self._native.__arrow_c_stream__(requested_schema)

    @property
    def num_rows(self) -> int:
        return self._native.num_rows

    @property
    def column_names(self) -> List[str]:
        return self._native.column_names

    def __len__(self) -> int:
        return self._native.num_rows

    def __repr__(self) -> str:
        return f"cascade.Table({self.num_rows} rows, columns {self.column_names[:6]}{'…' if len(self.column_names) > 6 else ''})"

    def to_pyarrow(self) -> Any:
        """A ``pyarrow.Table`` over the same buffers (needs pyarrow ≥ 14)."""
        import pyarrow

        return pyarrow.table(self)

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` over the same buffers where polars can (needs polars)."""
        import polars

        try:
            return polars.DataFrame(self)
        except TypeError:  # a polars without the PyCapsule interface
            return polars.from_arrow(self.to_pyarrow())

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (through pyarrow; numeric columns without nulls are not copied
        where pyarrow can avoid it)."""
        return self.to_pyarrow().to_pandas()


class RunResult:
    """A run of a scenario on one path (``cascade run``)."""

    def __init__(self, native: "_cascade.RunResult") -> None:
        self._native = native
        self._summary: Optional[Dict[str, Any]] = None

    @property
    def summary_json(self) -> str:
        """summary.json's text, byte for byte as ``cascade run`` writes it."""
        return self._native.summary_json

    @property
    def summary(self) -> Dict[str, Any]:
        """summary.json as a dict."""
        if self._summary is None:
            self._summary = json.loads(self._native.summary_json)
        return self._summary

    @property
    def timeline_csv(self) -> str:
        """timeline.csv's text, byte for byte."""
        return self._native.timeline_csv

    @property
    def timeline(self) -> Table:
        """One row per step: prices, oracles, liquidations, losses (timeline.csv's columns)."""
        return Table(self._native.timeline)

    @property
    def events(self) -> Optional[Table]:
        """Every event of the run, with events.parquet's columns; None when run with
        ``events=False``."""
        events = self._native.events
        return None if events is None else Table(events)

    def __repr__(self) -> str:
        return f"cascade.RunResult({self.summary['scenario']['name']!r}, path {self.summary.get('path', 0)})"


class MonteCarlo:
    """The paths of a Monte Carlo (``cascade montecarlo``) and their distribution."""

    def __init__(self, native: "_cascade.MonteCarloResult") -> None:
        self._native = native
        self._distribution: Optional[Dict[str, Any]] = None

    @property
    def montecarlo_json(self) -> str:
        """montecarlo.json's text, byte for byte as ``cascade montecarlo`` writes it."""
        return self._native.montecarlo_json

    @property
    def distribution(self) -> Dict[str, Any]:
        """montecarlo.json as a dict: the figures' quantiles, VaR and expected shortfall with
        their standard errors, probabilities."""
        if self._distribution is None:
            self._distribution = json.loads(self._native.montecarlo_json)
        return self._distribution

    @property
    def paths(self) -> Table:
        """One row per path: ``path``, ``death_spiral`` and each metric (paths.parquet's columns)."""
        return Table(self._native.paths)

    @property
    def paths_csv(self) -> str:
        """paths.csv's text, byte for byte: with ``montecarlo_json``, a shard's outputs."""
        return self._native.paths_csv

    @property
    def paths_from(self) -> int:
        """The first path's number."""
        return self._native.paths_from

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return f"cascade.MonteCarlo({len(self)} paths from {self.paths_from})"


class Stress:
    """A stress test (``cascade stress``): the scenario over a grid of values of its fields."""

    def __init__(self, native: "_cascade.StressResult") -> None:
        self._native = native
        self._document: Optional[Dict[str, Any]] = None

    @property
    def stress_json(self) -> str:
        """stress.json's text, byte for byte as ``cascade stress`` writes it."""
        return self._native.stress_json

    @property
    def document(self) -> Dict[str, Any]:
        """stress.json as a dict: the grid and each point's values, hash and figures (or their
        distribution for a Monte Carlo of each point)."""
        if self._document is None:
            self._document = json.loads(self._native.stress_json)
        return self._document

    @property
    def stress_csv(self) -> str:
        """stress.csv's text, byte for byte."""
        return self._native.stress_csv

    @property
    def table(self) -> Table:
        """stress.csv's columns as an Arrow table, a row per point."""
        return Table(self._native.table)

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return f"cascade.Stress({len(self)} points)"


class Compare:
    """A compare (``cascade compare``): the scenario under each variant — a mechanism, a
    counterfactual, or several joined by ``+`` — in the order asked."""

    def __init__(self, native: "_cascade.CompareResult") -> None:
        self._native = native
        self._document: Optional[Dict[str, Any]] = None
        self._variants = {name: RunResult(run) for name, run in native.variants}

    @property
    def compare_json(self) -> str:
        """compare.json's text, byte for byte as ``cascade compare`` writes it."""
        return self._native.compare_json

    @property
    def document(self) -> Dict[str, Any]:
        """compare.json as a dict: the scenario, seed, hash, asset and a row per variant."""
        if self._document is None:
            self._document = json.loads(self._native.compare_json)
        return self._document

    @property
    def compare_csv(self) -> str:
        """compare.csv's text, byte for byte."""
        return self._native.compare_csv

    @property
    def table(self) -> Table:
        """compare.csv's columns as an Arrow table, a row per variant."""
        return Table(self._native.table)

    @property
    def variants(self) -> Dict[str, RunResult]:
        """Each variant's run on path 0 (its ``summary``, equal to the summary.json ``cascade
        compare`` writes in the variant's folder, and its ``timeline``; no events), in the order
        asked."""
        return dict(self._variants)

    @property
    def warnings(self) -> List[str]:
        """What ``cascade compare`` warns of: parts of variants that change nothing in this
        scenario, and variants whose auctions a lone keeper won for nothing (also issued as
        Python warnings)."""
        return list(self._native.warnings)

    def __len__(self) -> int:
        return len(self._variants)

    def __repr__(self) -> str:
        return f"cascade.Compare({', '.join(self._variants)})"


class Calibration:
    """A calibration (``cascade calibrate``): the risk of each value of one field over the same
    paths, and the most capital-efficient value in budget."""

    def __init__(self, native: "_cascade.CalibrationResult") -> None:
        self._native = native
        self._document: Optional[Dict[str, Any]] = None

    @property
    def calibration_json(self) -> str:
        """calibration.json's text, byte for byte as ``cascade calibrate`` writes it."""
        return self._native.calibration_json

    @property
    def document(self) -> Dict[str, Any]:
        """calibration.json as a dict: the question, the frontier and the chosen value."""
        if self._document is None:
            self._document = json.loads(self._native.calibration_json)
        return self._document

    @property
    def frontier_csv(self) -> str:
        """frontier.csv's text, byte for byte."""
        return self._native.frontier_csv

    @property
    def frontier(self) -> Table:
        """frontier.csv's columns as an Arrow table, a row per value, ascending."""
        return Table(self._native.frontier)

    @property
    def chosen(self) -> Optional[str]:
        """The value chosen, as written into the scenario; ``None`` when no value is in
        budget."""
        return self._native.chosen

    def __len__(self) -> int:
        return self._native.frontier.num_rows

    def __repr__(self) -> str:
        return f"cascade.Calibration({len(self)} values, chosen {self.chosen})"


class LiquidationMap:
    """A liquidation map of the initial book (``cascade map``): walls, m(p), cascade curves."""

    def __init__(self, native: "_cascade.MapResult") -> None:
        self._native = native

    @property
    def map_json(self) -> str:
        """map.json's text, byte for byte."""
        return self._native.map_json

    @property
    def map(self) -> Dict[str, Any]:
        """map.json as a dict."""
        return json.loads(self._native.map_json)

    @property
    def map_csv(self) -> str:
        """map.csv's text: one row per bucket of each asset and direction."""
        return self._native.map_csv

    @property
    def positions(self) -> Any:
        """positions.json (the open liquidation-level schema) as Python data."""
        return json.loads(self._native.positions_json)

    def to_pandas(self) -> Any:
        """map.csv as a ``pandas.DataFrame``."""
        import io

        import pandas

        return pandas.read_csv(io.StringIO(self._native.map_csv))

    def to_polars(self) -> Any:
        """map.csv as a ``polars.DataFrame``."""
        import io

        import polars

        return polars.read_csv(io.StringIO(self._native.map_csv))


def shard_ranges(paths: int, shards: int, paths_from: int = 0) -> List[Tuple[int, int]]:
    """Paths ``paths_from`` … ``paths_from + paths − 1`` in ``shards`` ranges of consecutive path
    numbers, as ``(first, count)``, the sizes differing by at most one; empty ranges are left
    out."""
    if paths < 1:
        raise ValueError(f"paths = {paths}: at least one path")
    if shards < 1:
        raise ValueError(f"shards = {shards}: at least one shard")
    base, extra = divmod(paths, shards)
    ranges = []
    start = paths_from
    for k in range(shards):
        count = base + (1 if k < extra else 0)
        if count:
            ranges.append((start, count))
            start += count
    return ranges


class Scenario:
    """A validated scenario. Make one with :func:`load`, :func:`from_toml` or :func:`from_dict`."""

    def __init__(self, native: "_cascade.Scenario") -> None:
        self._native = native
        for warning in native.warnings:
            warnings.warn(warning, stacklevel=3)

    @property
    def name(self) -> str:
        """``simulation.name``."""
        return self._native.name

    @property
    def seed(self) -> int:
        """``simulation.seed``."""
        return self._native.seed

    @property
    def hash(self) -> str:
        """SHA-256 of the text and its data files (summary.json's ``scenario.hash``)."""
        return self._native.hash

    @property
    def text(self) -> str:
        """The TOML text, overrides written in."""
        return self._native.text

    @property
    def warnings(self) -> List[str]:
        """Validation warnings (also issued as Python warnings when the scenario is made)."""
        return self._native.warnings

    def run(self, path: int = 0, *, events: bool = True, attribution: bool = False, indicator: bool = False) -> RunResult:
        """Runs the scenario on ``path`` (``cascade run --path``): ``attribution`` adds the
        losses' attribution, ``indicator`` the leading indicator m(t) to the timeline; without
        ``events`` no event table is gathered (faster for large books)."""
        return RunResult(self._native.run(path, events, attribution, indicator))

    def montecarlo(
        self,
        paths: int,
        paths_from: int = 0,
        threads: Optional[int] = None,
        *,
        backend: str = "local",
        shards: Optional[int] = None,
    ) -> MonteCarlo:
        """Runs paths ``paths_from`` … ``paths_from + paths − 1`` (``cascade montecarlo``).

        ``backend="local"`` runs them on this machine's cores (``threads`` of them, or all).
        ``backend="ray"`` splits them into ``shards`` ranges run as Ray tasks (on the cluster of
        ``ray.init(address=...)``, or a local one) and merges them as ``cascade merge`` does: the
        result equals the local run of the same paths. Each task runs on ``threads`` threads
        (1 when not given) and asks Ray for as many CPUs.
        """
        if backend == "local":
            if shards is not None:
                raise ValueError("shards is for backend='ray'")
            return MonteCarlo(self._native.montecarlo(paths, paths_from, threads))
        if backend == "ray":
            from . import _ray

            return _ray.montecarlo(self, paths, paths_from, threads, shards)
        raise ValueError(f"backend = {backend!r}: 'local' or 'ray'")

    def stress(
        self,
        grid: Mapping[str, Sequence[Any]],
        paths: Optional[int] = None,
        threads: Optional[int] = None,
    ) -> Stress:
        """Runs the scenario over a grid of values of its fields (``cascade stress``): ``grid``
        maps field paths (those of ``set=``) to their values, written as ``set=`` writes them;
        every combination is a point, the last key varying fastest. Each point runs path 0, or
        paths 0 … ``paths`` − 1 as a Monte Carlo. Every point is validated before anything runs:
        a value that cannot be written in, or makes the scenario invalid, raises
        :class:`ScenarioError` naming the field."""
        if not isinstance(grid, Mapping):
            raise ValueError("grid: a mapping of field paths to their values")
        cells = []
        for key, values in grid.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise ValueError(f"grid {key!r}: a sequence of values")
            cells.append((str(key), [_toml_value(v) for v in values]))
        return Stress(self._native.stress(cells, paths, threads))

    def compare(
        self,
        mechanisms: Union[str, Sequence[str]],
        asset: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> Compare:
        """Runs the scenario under each of ``mechanisms`` (``cascade compare``): names from
        ``cascade mechanisms`` — a mechanism (``aave_v3.3``, ``dutch_auction``, …), a
        counterfactual (``no_congestion``, ``faster_oracle``) or several joined by ``+`` — or
        one comma-separated string. Each runs path 0, in parallel (``threads`` of them, or
        all cores); the rows measure ``asset`` (the first asset with a venue when not given).
        Every variant is validated before any result is returned: one under which the scenario
        is invalid raises :class:`ScenarioError` naming it."""
        if isinstance(mechanisms, str):
            mechanisms = [m.strip() for m in mechanisms.split(",")]
        result = Compare(self._native.compare(list(mechanisms), asset, threads))
        for warning in result.warnings:
            warnings.warn(warning, stacklevel=2)
        return result

    def calibrate(
        self,
        parameter: str,
        range: Union[str, Sequence[float]],  # noqa: A002 - the CLI's --range
        risk: str,
        paths: int,
        *,
        prefer: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> Calibration:
        """The most capital-efficient value of ``parameter`` (a field path, as in ``set=``)
        whose ``risk`` stays in budget (``cascade calibrate``): ``range`` is ``"LO:HI[:STEP]"``
        or ``(lo, hi[, step])``; ``risk`` is ``"var99(bad_debt_usd) <= 3e5"``, ``"mean(...)"``,
        ``"esNN(...)"``, ``"p(bad_debt)"`` or ``"p(death_spiral)"`` with ``<=`` or ``<`` and a
        bound. Every value runs paths 0 … ``paths`` − 1, the same for each (common random
        numbers); ``prefer`` (``"high"`` or ``"low"``) says which way is capital-efficient
        where the key does not."""
        if not isinstance(range, str):
            parts = list(range)
            if not 2 <= len(parts) <= 3:
                raise ValueError(f"range {range!r}: (lo, hi) or (lo, hi, step)")
            if not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in parts):
                raise ValueError(f"range {range!r}: numbers")
            range = ":".join(str(p) for p in parts)
        return Calibration(self._native.calibrate(parameter, range, risk, paths, prefer, threads))

    def map(
        self,
        buckets: Optional[int] = None,
        shocks: Optional[Sequence[float]] = None,
        threads: Optional[int] = None,
    ) -> LiquidationMap:
        """The liquidation map of the initial book and its cascade curves (``cascade map``):
        ``buckets`` per direction, the cascade curve at ``shocks`` (fractions, 0.1 for 10%)."""
        return LiquidationMap(self._native.map(buckets, None if shocks is None else list(shocks), threads))

    def __repr__(self) -> str:
        return repr(self._native)


def load(path: PathLike, set: Overrides = None) -> Scenario:  # noqa: A002 - the CLI's --set
    """Reads and validates a scenario file, with ``set`` overrides (field path → value, the
    paths of ``cascade run --set``) written in."""
    return Scenario(_cascade.Scenario.load(os.fspath(path), _sets(set)))


def from_toml(text: str, set: Overrides = None, *, base_dir: Optional[PathLike] = None, name: Optional[str] = None) -> Scenario:  # noqa: A002
    """Validates a scenario given as TOML text; data files it names are looked for under
    ``base_dir`` (the working directory when not given), problems reported under ``name``."""
    return Scenario(
        _cascade.Scenario.from_toml(
            text, _sets(set), name, None if base_dir is None else os.fspath(base_dir)
        )
    )


def from_dict(scenario: Mapping[str, Any], set: Overrides = None, *, base_dir: Optional[PathLike] = None) -> Scenario:  # noqa: A002
    """Validates a scenario given as a dict (the TOML file's tables, e.g. ``tomllib.load``'s
    result)."""
    try:
        text = json.dumps(scenario, allow_nan=True)
    except TypeError as e:
        raise TypeError(f"a scenario dict holds only dicts, lists, strings, numbers and bools: {e}") from None
    return Scenario(
        _cascade.Scenario.from_json(text, _sets(set), None if base_dir is None else os.fspath(base_dir))
    )


def merge(shards: Iterable[Union[MonteCarlo, Tuple[str, str]]]) -> MonteCarlo:
    """Joins shards of one Monte Carlo (results, or ``(montecarlo.json, paths.csv)`` texts such as
    a batch job's outputs) into one run of all their paths, as ``cascade merge`` does: refused when
    they are of different scenarios, seeds or horizons, overlap or leave a gap."""
    texts = [
        (s.montecarlo_json, s.paths_csv) if isinstance(s, MonteCarlo) else (str(s[0]), str(s[1]))
        for s in shards
    ]
    return MonteCarlo(_cascade.merge(texts))
