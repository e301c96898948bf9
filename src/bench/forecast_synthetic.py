"""Writes generated weekly series with known shapes for `doorstep forecast backtest` (dev check, stdlib only).

Usage: python3 src/bench/forecast_synthetic.py OUT_DIR
Eight shapes, three draws each (215, 267 and 319 weeks from 2019-01-07): flat, linear trend, multiplicative
growth and decline, Poisson counts of a few a week, a random-walk level, and a level shift up 30% 100 weeks
before the end and down 25% 70 weeks before it. Each has a yearly cycle of period 365.25/7 weeks.
"""
import datetime
import math
import os
import random
import sys


def season(t, amp=0.2):
    w = 2 * math.pi * t / (365.25 / 7)
    return amp * math.sin(w) + 0.5 * amp * math.cos(2 * w)


def poisson(lam, rng):
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def random_walk(n, rng):
    level, out = 100.0, []
    for t in range(n):
        level += rng.gauss(0, 1.5)
        out.append(level * (1 + season(t)) + rng.gauss(0, 3))
    return out


def shapes(n, rng):
    noise = lambda sd: 1 + rng.gauss(0, sd)
    return {
        "flat": [50 * (1 + season(t, 0.3)) + rng.gauss(0, 3) for t in range(n)],
        "trend": [100 + 0.3 * t + 20 * season(t, 1) + rng.gauss(0, 4) for t in range(n)],
        "growth": [100 * math.exp(0.004 * t) * (1 + season(t)) * noise(0.05) for t in range(n)],
        "decline": [100 * math.exp(-0.003 * t) * (1 + season(t)) * noise(0.05) for t in range(n)],
        "counts": [poisson(3 + 2 * season(t, 1), rng) for t in range(n)],
        "rw": random_walk(n, rng),
        "shift_up": [100 * (1.3 if t >= n - 100 else 1) * (1 + season(t)) * noise(0.05) for t in range(n)],
        "shift_down": [100 * (0.75 if t >= n - 70 else 1) * (1 + season(t)) * noise(0.05) for t in range(n)],
    }


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: forecast_synthetic.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    start = datetime.date(2019, 1, 7)
    for draw in range(3):
        rng = random.Random(draw)
        for name, values in shapes(215 + 52 * draw, rng).items():
            with open(os.path.join(out, f"{name}_{draw}.csv"), "w") as f:
                f.write("week_start,value\n")
                for i, v in enumerate(values):
                    f.write(f"{start + datetime.timedelta(weeks=i)},{v:.4f}\n")


if __name__ == "__main__":
    main()
