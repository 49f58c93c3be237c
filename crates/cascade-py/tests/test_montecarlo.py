"""Shards merge into the single run of the same paths, locally and on Ray; merge refuses shards
that overlap, leave a gap or come from different runs; the engine runs without the GIL."""

from __future__ import annotations

import threading
import time

import pytest

import cascade


@pytest.fixture(scope="module")
def scenario(root):
    return cascade.load(root / "examples/gbm-jump-stress.toml")


def test_shard_ranges_cover_the_paths_once():
    assert cascade.shard_ranges(10, 3, paths_from=5) == [(5, 4), (9, 3), (12, 3)]
    assert cascade.shard_ranges(2, 4) == [(0, 1), (1, 1)]


def test_merged_shards_equal_one_run(scenario):
    whole = scenario.montecarlo(paths=30)
    shards = [scenario.montecarlo(paths=n, paths_from=k) for k, n in cascade.shard_ranges(30, 4)]
    merged = cascade.merge(reversed(shards))
    assert merged.montecarlo_json == whole.montecarlo_json
    assert merged.paths_csv == whole.paths_csv


def test_merge_refuses_overlap_gap_and_other_runs(root, scenario):
    a = scenario.montecarlo(paths=5)
    b = scenario.montecarlo(paths=5, paths_from=4)
    with pytest.raises(ValueError, match="path 4 is in more than one shard"):
        cascade.merge([a, b])
    c = scenario.montecarlo(paths=5, paths_from=7)
    with pytest.raises(ValueError, match="paths 5 to 6 are in no shard"):
        cascade.merge([a, c])
    other = cascade.load(root / "examples/gbm-jump-stress.toml", set={"simulation.seed": 9})
    d = other.montecarlo(paths=5, paths_from=5)
    with pytest.raises(ValueError, match="shards of different runs"):
        cascade.merge([a, d])


def test_engine_runs_without_the_gil(scenario):
    done = threading.Event()
    ticks = 0

    def work():
        scenario.montecarlo(paths=40, threads=1)
        done.set()

    worker = threading.Thread(target=work)
    start = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    elapsed = time.perf_counter() - start
    # Held, the GIL would let this loop run a handful of times (switch interval) at most.
    assert elapsed > 0.05, "the run was too short to tell"
    assert ticks > 10, (ticks, elapsed)


def test_ray_equals_local(scenario):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        local = scenario.montecarlo(paths=24, paths_from=3)
        on_ray = scenario.montecarlo(paths=24, paths_from=3, backend="ray", shards=3)
        assert on_ray.montecarlo_json == local.montecarlo_json
        assert on_ray.paths_csv == local.paths_csv
        one = scenario.montecarlo(paths=24, paths_from=3, backend="ray", shards=1)
        assert one.montecarlo_json == local.montecarlo_json
    finally:
        ray.shutdown()
