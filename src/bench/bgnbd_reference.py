#!/usr/bin/env python3
"""Dev check: fit BG/NBD and MBG/NBD with the `lifetimes` package on synthetic customers.

Simulates customers from known BG/NBD parameters (seeded, so the data is the same on every run), fits
lifetimes' BetaGeoFitter and ModifiedBetaGeoFitter, and prints the parameters, log-likelihood, P(alive) and
expected purchases over the next 26 weeks for a few customers. `--rust` prints the data set as the Rust array in
src/insight/bgnbd/tests/data.rs; src/insight/bgnbd/tests.rs pins this output (parameters, log-likelihood, P(alive),
expected purchases) and checks Doorstep's own fit and formulas against it.

    python3 -m venv /tmp/bgnbd-venv && /tmp/bgnbd-venv/bin/pip install lifetimes
    /tmp/bgnbd-venv/bin/python src/bench/bgnbd_reference.py            # reference figures
    /tmp/bgnbd-venv/bin/python src/bench/bgnbd_reference.py --rust     # the embedded data set
"""

import argparse

import numpy as np

TRUE = dict(r=0.6, alpha=9.0, a=0.8, b=2.5)
CUSTOMERS = 240
SEED = 16
HORIZON = 26.0
PROBES = [(0, 0.0, 40.0), (1, 5.0, 60.0), (3, 30.0, 35.0), (3, 10.0, 70.0), (8, 55.0, 60.0), (12, 20.0, 78.0)]


def simulate(rng, r, alpha, a, b, n):
    """(frequency, recency, age) in weeks: cohorts joining over 60 weeks, observed 20-80 weeks."""
    rows = []
    for _ in range(n):
        age = round(float(rng.uniform(20.0, 80.0)), 2)
        lam = rng.gamma(r, 1.0 / alpha)
        p = rng.beta(a, b)
        t, x, last = 0.0, 0, 0.0
        while True:
            t += rng.exponential(1.0 / lam) if lam > 0 else np.inf
            if t > age:
                break
            x, last = x + 1, t
            if rng.uniform() < p:
                break
        rows.append((x, round(last, 2) if x else 0.0, age))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rust", action="store_true", help="print the data set as a Rust array")
    args = ap.parse_args()
    rows = simulate(np.random.default_rng(SEED), n=CUSTOMERS, **TRUE)
    if args.rust:
        print("#[rustfmt::skip]")
        print(f"pub(super) const CUSTOMERS: [(u32, f64, f64); {len(rows)}] = [")
        for i in range(0, len(rows), 5):
            print("    " + " ".join(f"({x}, {tx:.2f}, {T:.2f})," for x, tx, T in rows[i : i + 5]))
        print("];")
        return

    from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter

    freq = np.array([r[0] for r in rows])
    rec = np.array([r[1] for r in rows])
    age = np.array([r[2] for r in rows])
    print(f"{len(rows)} customers, {int((freq > 0).sum())} repeaters; true parameters {TRUE}")
    for name, fitter in [("bg_nbd", BetaGeoFitter()), ("modified_bg_nbd", ModifiedBetaGeoFitter())]:
        fitter.fit(freq, rec, age)
        p = fitter.params_
        # lifetimes fits on rescaled times; move the log-likelihood back to weeks (one Jacobian per purchase).
        ll = -fitter._negative_log_likelihood_ * len(rows) + freq.sum() * np.log(fitter._scale)
        print(f"{name}: r={p['r']:.6f} alpha={p['alpha']:.6f} a={p['a']:.6f} b={p['b']:.6f} log_likelihood={ll:.6f}")
        for x, tx, T in PROBES:
            alive = float(np.squeeze(fitter.conditional_probability_alive(x, tx, T)))
            expect = float(np.squeeze(fitter.conditional_expected_number_of_purchases_up_to_time(HORIZON, x, tx, T)))
            print(f"  x={x:<3} t_x={tx:<6} T={T:<6} p_alive={alive:.6f} expected_{HORIZON:.0f}w={expect:.6f}")
        new = float(np.squeeze(fitter.expected_number_of_purchases_up_to_time(HORIZON)))
        print(f"  new customer expected_{HORIZON:.0f}w={new:.6f}")


if __name__ == "__main__":
    main()
