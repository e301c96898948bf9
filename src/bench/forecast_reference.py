#!/usr/bin/env python3
"""Dev check: reference forecasters from PyPI under Doorstep's backtest protocols.

Runs statsforecast's AutoETS, AutoTheta and MSTL and statsmodels' damped additive Holt-Winters (ETSModel, so it
has prediction intervals) plus seasonal naive on weekly `week_start,value` CSVs, with the same two protocols as
`doorstep forecast backtest`: one 52-week holdout, and 26 weeks from 4 non-overlapping origins over the last
104 weeks. MASE is scaled by the lag-52 seasonal-naive MAE of each training part; coverage counts the evaluation
weeks inside the 80% and 95% intervals.

    python3 -m venv /tmp/fc-venv && /tmp/fc-venv/bin/pip install statsforecast statsmodels
    /tmp/fc-venv/bin/python src/bench/forecast_reference.py ../shared/series/*.csv

Note: statsforecast's ETS ignores seasons longer than 24, so AutoETS is non-seasonal on weekly data.
"""

import argparse
import sys
import warnings

import numpy as np
import pandas as pd

SEASON = 52
HOLDOUT = 52
SHORT_H = 26
SHORT_ORIGINS = 4


def naive_scale(train):
    d = np.abs(train[SEASON:] - train[:-SEASON])
    s = d.mean() if len(d) else 0.0
    return s if np.isfinite(s) and s > 0 else 1.0


def seasonal_naive(train, h):
    n = len(train)
    mean = np.array([train[n - SEASON + i % SEASON] for i in range(h)])
    res = train[SEASON:] - train[:-SEASON]
    sd = np.sqrt(np.mean(res**2))
    k = np.array([np.sqrt(i // SEASON + 1) for i in range(h)])
    return mean, {80: (mean - 1.2816 * sd * k, mean + 1.2816 * sd * k),
                  95: (mean - 1.96 * sd * k, mean + 1.96 * sd * k)}


def statsforecast_model(make):
    def run(train, h):
        from statsforecast import StatsForecast

        df = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(train)), "y": train})
        sf = StatsForecast(models=[make()], freq=1, n_jobs=1)
        out = sf.forecast(df=df, h=h, level=[80, 95])
        name = [c for c in out.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c][0]
        return out[name].to_numpy(), {
            lv: (out[f"{name}-lo-{lv}"].to_numpy(), out[f"{name}-hi-{lv}"].to_numpy()) for lv in (80, 95)
        }

    return run


def holt_winters_damped(train, h):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(pd.Series(train, index=pd.RangeIndex(len(train))), error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=SEASON)
    fit = model.fit(disp=False, maxiter=2000)
    pred = fit.get_prediction(start=len(train), end=len(train) + h - 1)
    intervals = {}
    for lv in (80, 95):
        sf = pred.summary_frame(alpha=1 - lv / 100)
        intervals[lv] = (sf["pi_lower"].to_numpy(), sf["pi_upper"].to_numpy())
    return np.asarray(pred.predicted_mean), intervals


def models():
    from statsforecast.models import MSTL, AutoETS, AutoTheta

    return {
        "seasonal_naive": seasonal_naive,
        "sf_AutoETS": statsforecast_model(lambda: AutoETS(season_length=SEASON)),
        "sf_AutoTheta": statsforecast_model(lambda: AutoTheta(season_length=SEASON)),
        "sf_MSTL": statsforecast_model(lambda: MSTL(season_length=SEASON)),
        "sm_HoltWinters_damped": holt_winters_damped,
    }


def evaluate(y, run):
    """Returns MASE (h52, h26x4) and interval hits/weeks over both protocols."""
    n = len(y)
    hits = {80: 0, 95: 0}
    weeks = 0

    def one(origin, h):
        nonlocal weeks
        train, actual = y[:origin], y[origin : origin + h]
        mean, iv = run(train, h)
        for lv in (80, 95):
            lo, hi = iv[lv]
            hits[lv] += int(np.sum((lo <= actual) & (actual <= hi)))
        weeks += h
        return np.mean(np.abs(actual - mean)) / naive_scale(train)

    m52 = one(n - HOLDOUT, HOLDOUT)
    m26 = np.mean([one(n - SHORT_H * (j + 1), SHORT_H) for j in reversed(range(SHORT_ORIGINS))])
    return m52, m26, hits[80] / weeks, hits[95] / weeks


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", help="week_start,value CSV files")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    ms = models()
    totals = {name: [] for name in ms}
    print(f"{'series':<30}{'model':<24}{'MASE h52':>9}{'MASE h26x4':>11}{'cov80':>7}{'cov95':>7}")
    for path in args.files:
        y = pd.read_csv(path)["value"].to_numpy(dtype=float)
        label = path.rsplit("/", 1)[-1].removesuffix(".csv")
        for name, run in ms.items():
            r = evaluate(y, run)
            totals[name].append(r)
            print(f"{label:<30}{name:<24}{r[0]:>9.3f}{r[1]:>11.3f}{100 * r[2]:>6.1f}%{100 * r[3]:>6.1f}%")
            sys.stdout.flush()
    print(f"{'mean over series':<30}")
    for name, rs in totals.items():
        a = np.mean(rs, axis=0)
        print(f"{'':<30}{name:<24}{a[0]:>9.3f}{a[1]:>11.3f}{100 * a[2]:>6.1f}%{100 * a[3]:>6.1f}%")


if __name__ == "__main__":
    main()
