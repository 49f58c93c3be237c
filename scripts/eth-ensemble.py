#!/usr/bin/env python3
"""Writes examples/data/eth-ensemble.csv: a synthetic ensemble of ETH price paths, read by
examples/ensemble-paths.toml (`driver = { model = "ensemble", format = "wide", ... }`).

100 paths of one day in 5-minute steps (289 rows: time 0 to 86,400 s), every path starting at
2000.00 USD. Each path is a Markov-switching geometric Brownian motion (Hamilton 1989): a calm
regime (annual volatility 50%, no drift) and a stress regime (annual volatility 150%, drift
-30,000% a year, about -3.4% an hour), entered with probability 0.004 per step (about once a day)
and left with probability 0.03 per step (a stress spell lasts 33 steps, 2.8 hours, on average).
The paths stand for what an outside model would hand cascade; they describe no real market.

The generator is self-contained and deterministic (splitmix64 and Box-Muller), so the file is the
same on every machine: run `python3 scripts/eth-ensemble.py` from the repository root to
write it again.
"""

import math
import os

PATHS = 100
STEPS = 288
STEP_SECONDS = 300
START = 2000.0
YEAR = 365 * 86400
DT = STEP_SECONDS / YEAR
CALM = (0.0, 0.5)  # (annual drift, annual volatility)
STRESS = (-300.0, 1.5)
ENTER, LEAVE = 0.004, 0.03
SEED = 20240611


class SplitMix64:
    """Steele, Lea and Flood's splitmix64: a 64-bit state, one multiply-xorshift per draw."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        return z ^ (z >> 31)

    def uniform(self):
        """A uniform on (0, 1): the top 53 bits, shifted off zero."""
        return ((self.next() >> 11) + 0.5) / 2**53

    def normal(self):
        """A standard normal by Box-Muller (the cosine half)."""
        u, v = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * v)


def path(rng):
    prices, price, stressed = [START], START, False
    for _ in range(STEPS):
        stressed = rng.uniform() < (1.0 - LEAVE if stressed else ENTER)
        drift, vol = STRESS if stressed else CALM
        price *= math.exp((drift - 0.5 * vol * vol) * DT + vol * math.sqrt(DT) * rng.normal())
        prices.append(price)
    return prices


def main():
    rng = SplitMix64(SEED)
    paths = [path(rng) for _ in range(PATHS)]
    out = os.path.join("examples", "data", "eth-ensemble.csv")
    with open(out, "w", newline="\n") as f:
        f.write(",".join(["time"] + [f"path{k:03d}" for k in range(PATHS)]) + "\n")
        for i in range(STEPS + 1):
            row = [str(i * STEP_SECONDS)] + [f"{p[i]:.2f}" for p in paths]
            f.write(",".join(row) + "\n")


if __name__ == "__main__":
    main()
