"""What calling cascade from Python costs, and what Ray's shards give, on the peers' wall model
(benches/mc-wall-100k.toml). Paired runs, alternated, medians of the ratios (the machine may be
shared):

  python benches/python-side-by-side.py cli BIN PAIRS   # `BIN montecarlo … --paths 10000` against
                                                        # the same paths from Python, whole processes
  python benches/python-side-by-side.py ray PAIRS       # 1 against 2 Ray workers, and the cost of
                                                        # each shard beyond 2, in one Ray session

Run from the repository's root with the package installed from an optimised build
(`pip install ./crates/cascade-py`).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

MODEL = "benches/mc-wall-100k.toml"
PATHS = 10_000


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cli(binary: str, pairs: int) -> None:
    out = tempfile.mkdtemp()
    from_cli = [binary, "montecarlo", MODEL, "--paths", str(PATHS), "--quiet", "--out", out]
    from_python = [
        sys.executable,
        "-c",
        f"import cascade; cascade.load({MODEL!r}).montecarlo(paths={PATHS}).montecarlo_json",
    ]
    ratios, a, b = [], [], []
    for _ in range(pairs):
        t_cli, t_py = timed(from_cli), timed(from_python)
        a.append(t_cli)
        b.append(t_py)
        ratios.append(t_py / t_cli)
    print(f"cli    median {statistics.median(a):.3f} s  {['%.3f' % t for t in a]}")
    print(f"python median {statistics.median(b):.3f} s  {['%.3f' % t for t in b]}")
    print(f"python / cli: median of {pairs} paired ratios {statistics.median(ratios):.3f}  {['%.3f' % r for r in ratios]}")


def ray_bench(pairs: int) -> None:
    import ray

    import cascade

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    scenario = cascade.load(MODEL)
    local = scenario.montecarlo(paths=PATHS)

    def run(shards: int) -> float:
        start = time.perf_counter()
        result = scenario.montecarlo(paths=PATHS, backend="ray", shards=shards, threads=1)
        elapsed = time.perf_counter() - start
        assert result.montecarlo_json == local.montecarlo_json
        return elapsed

    run(2)  # start the workers
    speedups, extra = [], []
    ones, twos, many = [], [], []
    wide = 16
    for _ in range(pairs):
        one, two, sixteen = run(1), run(2), run(wide)
        ones.append(one)
        twos.append(two)
        many.append(sixteen)
        speedups.append(one / two)
        extra.append((sixteen - two) / (wide - 2))
    print(f"1 shard (1 worker)   median {statistics.median(ones):.3f} s")
    print(f"2 shards (2 workers) median {statistics.median(twos):.3f} s")
    print(f"{wide} shards (2 workers) median {statistics.median(many):.3f} s")
    print(f"speed-up 1 -> 2 workers: median of {pairs} paired ratios {statistics.median(speedups):.2f}  {['%.2f' % s for s in speedups]}")
    print(f"cost per shard beyond 2 (2 workers): median {statistics.median(extra) * 1000:.0f} ms of wall time  {['%.0f' % (e * 1000) for e in extra]}")
    ray.shutdown()


if __name__ == "__main__":
    if sys.argv[1] == "cli":
        cli(sys.argv[2], int(sys.argv[3]))
    else:
        ray_bench(int(sys.argv[2]))
