"""Fitting by maximum likelihood: the rows grouped for the likelihoods, and the
multi-start maximisation in log parameters within bounds, with the covariance."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize

from engine.clv.model import AT_BOUND_LOG_MARGIN, ClvUnavailable, DAYS_PER_UNIT, GRADIENT_TOLERANCE, MULTISTART_SAMPLE, PARAMETER_BOUNDS


# ---- data preparation ---------------------------------------------------------------

def model_inputs(summary: pd.DataFrame, time_unit: str = "week") -> pd.DataFrame:
    """The feature rows in model time units.

    Parameters
    ----------
    summary : rows of `clv_inputs.purchase_summary`: customer_id, x,
        t_x_days, age_days, mean_repeat_spend, holdout_purchase_days.
    time_unit : 'week' or 'day'.

    Returns
    -------
    DataFrame with customer_id, x (float), t_x and T (in time units),
    mean_repeat_spend, holdout_purchase_days.
    """
    unit = DAYS_PER_UNIT[time_unit]
    return pd.DataFrame({
        "customer_id": summary["customer_id"].to_numpy(),
        "x": summary["x"].to_numpy(dtype=float),
        "t_x": summary["t_x_days"].to_numpy(dtype=float) / unit,
        "T": summary["age_days"].to_numpy(dtype=float) / unit,
        "mean_repeat_spend": summary["mean_repeat_spend"].to_numpy(dtype=float),
        "holdout_purchase_days": summary["holdout_purchase_days"].to_numpy(),
    })


def _group_rows(*columns: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Identical rows of `columns` collapsed: (inverse codes, unique columns, counts)."""
    codes = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        part, uniques = pd.factorize(column)
        codes, _ = pd.factorize(codes * len(uniques) + part)
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return codes, [c[first] for c in columns], counts


# ---- maximisation ----------------------------------------------------------------------

class _Minimum(NamedTuple):
    theta: np.ndarray
    value: float          # mean negative log-likelihood
    converged: bool
    message: str


def _require_repeat_buyers(found: int, needed: int, code: str) -> None:
    if found < needed:
        raise ClvUnavailable(code, found=found, needed=needed)


def _sample_rows(n: int) -> np.ndarray | None:
    """A fixed random subset for the multi-start, or None when all rows are few."""
    if n <= MULTISTART_SAMPLE:
        return None
    return np.sort(np.random.default_rng(0).choice(n, MULTISTART_SAMPLE, replace=False))


def _minimise(objective, theta0, n: int) -> _Minimum:
    """L-BFGS-B on the mean negative log-likelihood over bounded log parameters."""
    def negative(theta):
        ll, grad = objective(theta)
        return -ll / n, -grad / n
    low, high = np.log(PARAMETER_BOUNDS)
    with np.errstate(all="ignore"):
        res = optimize.minimize(negative, theta0, jac=True, method="L-BFGS-B",
                                bounds=[(low, high)] * len(theta0),
                                options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9})
    _, grad = negative(res.x)
    inside = (res.x > low + AT_BOUND_LOG_MARGIN) & (res.x < high - AT_BOUND_LOG_MARGIN)
    small = np.all(np.abs(grad[inside]) < GRADIENT_TOLERANCE)
    return _Minimum(res.x, float(res.fun), bool(np.isfinite(res.fun) and small),
                    str(res.message))


def _maximise(objective, n: int, restricted, starts, names, model: str,
              unscale: np.ndarray) -> np.ndarray:
    """The log parameters of the best of several starts.

    `objective` sums over all `n` customers; `restricted(rows)` gives the
    same over a subset. With many customers the starts run on a fixed
    random sample and only the best is refined on all of them. A start
    counts as converged when the gradient is flat at its end, apart from
    parameters held at a bound (which `_check_bounds` then refuses);
    `unscale` turns the log parameters back into the data's units for the
    message.
    """
    sample = _sample_rows(n)
    first, n_first = (objective, n) if sample is None else (restricted(sample), len(sample))
    found = [_minimise(first, np.log(start), n_first) for start in starts]
    finite = [m for m in found if np.isfinite(m.value)]
    if not finite:
        raise ClvUnavailable("no_convergence", model=model,
                             detail="no start gave a finite likelihood")
    best = min(finite, key=lambda m: m.value)
    if sample is not None:
        best = _minimise(objective, best.theta, n)
    if not best.converged:
        raise ClvUnavailable("no_convergence", model=model, detail=best.message)
    _check_bounds(best.theta, names, model, unscale)
    return best.theta


def _check_bounds(theta, names, model: str, unscale: np.ndarray) -> None:
    low, high = np.log(PARAMETER_BOUNDS)
    for name, value, offset in zip(names, theta, unscale):
        if value <= low + AT_BOUND_LOG_MARGIN or value >= high - AT_BOUND_LOG_MARGIN:
            raise ClvUnavailable("at_bound", model=model, parameter=name,
                                 value=f"{np.exp(value + offset):.3g}")


def _log_likelihood_and_covariance(objective, theta, model: str):
    """The log-likelihood at `theta` and the covariance of the log parameters.

    The Hessian is the central difference of the analytic gradient; a
    Hessian of the negative log-likelihood that is not positive definite
    means the optimum is not a proper maximum.
    """
    ll = float(objective(theta, gradient=False))
    k, h = len(theta), 1e-5
    hessian = np.empty((k, k))
    for j in range(k):
        step = np.zeros(k)
        step[j] = h
        hessian[:, j] = -(objective(theta + step)[1] - objective(theta - step)[1]) / (2 * h)
    hessian = (hessian + hessian.T) / 2
    try:
        cholesky = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        raise ClvUnavailable("not_identified", model=model) from None
    inverse = np.linalg.inv(cholesky)
    covariance = inverse.T @ inverse
    if not np.all(np.isfinite(covariance)):
        raise ClvUnavailable("not_identified", model=model)
    return ll, covariance
