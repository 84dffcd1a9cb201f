"""Purchase summaries drawn from the lifetime-value models (for tests and benchmarks),
and the benchmark of the lifetime-value steps."""
from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd

from engine.clv.compute import ClvResult, fit_and_predict, load_inputs
from engine.clv.model import BgNbd, DAYS_PER_UNIT, GammaGamma


# ---- synthetic data -------------------------------------------------------------------

def simulate_summary(customers: int, *, bgnbd: BgNbd = BgNbd(0.243, 4.414, 0.793, 2.426),
                     gamma_gamma: GammaGamma = GammaGamma(6.25, 3.74, 15.44),
                     max_age_days: int = 546, time_unit: str = "week",
                     seed: int = 0) -> pd.DataFrame:
    """Purchase summaries drawn from the two models, for benchmarks and tests.

    Each customer gets an age of 0..max_age_days whole days, a purchase
    rate λ ~ gamma(r, α) per `time_unit` and a dropout probability
    p ~ beta(a, b); repeat purchases follow a Poisson process that stops
    after a geometric(p) number of them. Recency is rounded down to whole
    days, like the SQL's. Mean repeat spend is the mean of x gamma(p, ν)
    spends with ν ~ gamma(q, γ).

    Returns
    -------
    DataFrame shaped like `clv_inputs.purchase_summary` (no dates; no
    holdout, so holdout_purchase_days is 0).
    """
    rng = np.random.default_rng(seed)
    r, alpha, a, b = bgnbd
    unit = DAYS_PER_UNIT[time_unit]
    age_days = rng.integers(0, max_age_days + 1, customers)
    T = age_days / unit
    rate = rng.gamma(r, 1 / alpha, customers)
    dropout = np.clip(rng.beta(a, b, customers), 1e-12, 1.0)
    in_period = rng.poisson(rate * T)
    x = np.minimum(in_period, rng.geometric(dropout))
    last = T * rng.beta(np.maximum(x, 1), in_period - x + 1)
    t_x_days = np.where(x > 0, np.minimum(np.floor(last * unit), age_days), 0).astype(np.int64)
    p, q, g = gamma_gamma
    nu = rng.gamma(q, 1 / g, customers)
    spend = rng.gamma(p * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1)))
    return pd.DataFrame({
        "customer_id": np.char.add("S", np.arange(customers).astype(str)),
        "x": x.astype(np.int64), "t_x_days": t_x_days, "age_days": age_days,
        "mean_repeat_spend": np.where(x > 0, spend, np.nan),
        "holdout_purchase_days": np.zeros(customers, dtype=np.int64)})


# ---- benchmark ---------------------------------------------------------------------------

def benchmark(con, *, as_of: date, calibration_end: date | None = None,
              seed: int = 0) -> dict:
    """Time the lifetime-value steps on a database, for the benchmark script.

    Times the feature SQL (`load_inputs`), then `fit_and_predict` on its
    rows. When the data's spend per purchase has no finite Gamma-Gamma mean
    (customers' mean spends spanning many orders of magnitude), the mean
    repeat spends are redrawn from the published CDNOW Gamma-Gamma fit and
    the fit is timed again on them, so that the figure still covers every
    step.

    Returns
    -------
    dict with sql_s and fit_predict_s (seconds), customers (fitted on),
    predicted (customers with figures), repeat_buyers and spend_redrawn.
    """
    calibration_end = as_of if calibration_end is None else calibration_end
    began = time.perf_counter()
    calibration, current = load_inputs(con, as_of=as_of, calibration_end=calibration_end)
    sql_s = time.perf_counter() - began
    redrawn = False
    result, fit_s = _timed_fit(calibration, current, calibration_end, as_of)
    if result.spend_error is not None and result.spend_error.code == "spend_mean_not_finite":
        rng = np.random.default_rng(seed)
        calibration = _redraw_spend(calibration, rng)
        current = None if current is None else _redraw_spend(current, rng)
        result, fit_s = _timed_fit(calibration, current, calibration_end, as_of)
        redrawn = True
    return {"sql_s": sql_s, "fit_predict_s": fit_s, "customers": result.bgnbd.customers,
            "predicted": len(result.customers),
            "repeat_buyers": int((calibration["x"] > 0).sum()), "spend_redrawn": redrawn}


def _timed_fit(calibration, current, calibration_end, as_of) -> tuple[ClvResult, float]:
    began = time.perf_counter()
    result = fit_and_predict(calibration, current, calibration_end=calibration_end, as_of=as_of)
    return result, time.perf_counter() - began


def _redraw_spend(summary: pd.DataFrame, rng, params: GammaGamma = GammaGamma(6.25, 3.74, 15.44)
                  ) -> pd.DataFrame:
    """`summary` with mean repeat spends drawn from a Gamma-Gamma model."""
    x = summary["x"].to_numpy()
    shape = params.p * np.maximum(x, 1)
    nu = rng.gamma(params.q, 1 / params.gamma, len(x))
    spend = rng.gamma(shape, 1 / (nu * np.maximum(x, 1)))
    return summary.assign(mean_repeat_spend=np.where(x > 0, spend, np.nan))
