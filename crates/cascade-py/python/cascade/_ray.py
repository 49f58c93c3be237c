"""Monte Carlo on Ray: the paths split into ranges of path numbers, each a Ray task that rebuilds
the scenario from its text and runs its range, the outputs merged as ``cascade merge`` does. Path
k's figures depend only on the scenario, its seed and k, so the merge equals one run of all the
paths. A task returns its shard as montecarlo.json and paths.csv text: the contract of the CLI's
shards, so the same split can run on any batch system.

On a cluster, connect first (``ray.init(address="ray://head:10001")``); every worker needs the
``cascade`` package and, for a scenario with data files, those files under the scenario's
``base_dir``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:
    from . import MonteCarlo, Scenario


def run_shard(text: str, source: str, base_dir: str, first: int, count: int, threads: int) -> Tuple[str, str]:
    """One shard, in a worker: paths ``first`` … ``first + count − 1`` of the scenario ``text``."""
    from . import _cascade

    scenario = _cascade.Scenario.from_toml(text, [], source, base_dir)
    result = scenario.montecarlo(count, first, threads)
    return result.montecarlo_json, result.paths_csv


def montecarlo(scenario: "Scenario", paths: int, paths_from: int, threads: Optional[int], shards: Optional[int]) -> "MonteCarlo":
    """``Scenario.montecarlo(backend="ray")``."""
    import ray

    from . import merge, shard_ranges

    if threads is not None and threads < 1:
        raise ValueError(f"threads = {threads}: at least one thread")
    threads = threads or 1
    if not ray.is_initialized():
        ray.init()
    if shards is None:
        shards = max(1, int(ray.available_resources().get("CPU", 1)) // threads)
    ranges = shard_ranges(paths, shards, paths_from)
    native = scenario._native
    task = ray.remote(num_cpus=threads)(run_shard)
    refs = [
        task.remote(native.text, str(native.source), os.path.abspath(native.base_dir), first, count, threads)
        for first, count in ranges
    ]
    return merge(ray.get(refs))
