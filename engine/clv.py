"""Customer lifetime value: BG/NBD, Gamma-Gamma, P(alive) and 12-month CLV (DESIGN §4.9).

Two models from the customer-base literature, fitted by maximum likelihood
on one row per customer (`engine.features.clv_inputs.purchase_summary`):

- BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way")
  for repeat purchases: while alive, a customer buys at Poisson rate λ
  (gamma(r, α) across customers) and after each repeat purchase drops out
  with probability p (beta(a, b) across customers). From a customer's x
  repeat purchase days, recency t_x and age T it gives P(alive) and the
  expected purchases in any period ahead.
- Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013)
  for spend per purchase: fitted on customers with a repeat purchase of
  positive spend, it shrinks a customer's mean repeat spend towards the
  base's mean (p, q, γ).

12-month CLV is expected spend per purchase × the expected purchases of each
month ahead, discounted monthly. When only the spend model cannot be
trusted on the data (`ClvUnavailable`), the result is partial: P(alive) and
expected purchases from BG/NBD, with expected spend and CLV left empty and
the reason kept in `ClvResult.spend_error`. Its band comes from the parameters'
covariance (the inverse Hessian of the log-likelihood) by the delta method
on log CLV: it says how sure the *expected* value is, given the fit, not
what one customer will do (one customer's purchases vary far more).

Everything here is pure numpy/scipy on DataFrames and arrays, except
`compute_clv` (which runs the feature SQL on a connection) and the command
line at the end. Time is in `time_unit`s (week or day) inside the models.
The log-likelihoods are written in closed form in log space with their
analytic gradients; parameters are optimised as logs within bounds, from
several starting points.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import threadpool_limits

from engine import i18n
from engine.cli import iso_date
from engine.features import clv_inputs

DAYS_PER_UNIT = {"week": 7.0, "day": 1.0}
DAYS_PER_MONTH = 365.25 / 12

# Optimiser bounds, on parameters fitted to data rescaled to mean age 1 and
# mean spend 1 (so the bounds do not depend on the currency or time unit).
PARAMETER_BOUNDS = (1e-6, 1e6)
AT_BOUND_LOG_MARGIN = 1e-3
# Accept an optimiser stop whose gradient of the mean log-likelihood (per
# customer, with respect to the log parameters) is this small.
GRADIENT_TOLERANCE = 1e-5
# Starting points of the multi-start, in the rescaled units.
BGNBD_STARTS = ((1.0, 1.0, 1.0, 1.0), (0.25, 0.1, 0.8, 2.5), (2.0, 0.5, 0.3, 5.0),
                (0.5, 2.0, 3.0, 1.0))
GAMMA_GAMMA_STARTS = ((1.0, 1.0, 1.0), (6.0, 4.0, 3.0), (2.0, 10.0, 10.0), (20.0, 2.0, 0.5))
# Multi-start on at most this many customers; the best start is then
# polished on all of them.
MULTISTART_SAMPLE = 50_000

# The fits make thousands of small BLAS calls (dot products, the optimiser's
# own vector steps). With two OpenBLAS threads on a 2-core machine that has
# another busy process they were measured 50-100x slower than with one
# (8.2 s against 0.12 s for a 40,000-customer BG/NBD fit), so the public
# entry points run with one BLAS thread.
_one_blas_thread = threadpool_limits.wrap(limits=1, user_api="blas")


# ---- settings -------------------------------------------------------------------

def _setting(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class ClvSettings:
    """Settings of the lifetime-value figures; each has a default and a help text."""

    annual_discount_rate: float = _setting(
        0.10, "Yearly rate at which future spend is discounted, applied monthly "
              "as (1 + rate)^(month / 12).")
    time_unit: str = _setting(
        "week", "Unit of time inside the models: 'week' (as in the papers) or 'day'. "
                "The reported parameters r/alpha and the JSON are in this unit.")
    horizon_months: int = _setting(
        12, "Months ahead covered by the expected purchases and the CLV "
            "(columns named expected_purchases_<n>m and clv_<n>m).")
    short_horizon_days: int = _setting(
        90, "Days ahead covered by the short-term expected purchases "
            "(column expected_purchases_<n>d).")
    band_level: float = _setting(
        0.95, "Probability covered by the CLV band clv_<n>m_low .. clv_<n>m_high, "
              "from the uncertainty of the fitted parameters.")
    min_repeat_buyers: int = _setting(
        30, "Fewest customers with a repeat purchase (and, for the spend model, "
            "with positive repeat spend) below which no CLV is estimated.")

    def __post_init__(self):
        if self.time_unit not in DAYS_PER_UNIT:
            raise ValueError(f"time_unit must be one of {sorted(DAYS_PER_UNIT)}, "
                             f"got {self.time_unit!r}")
        if not 0 <= self.annual_discount_rate < 10:
            raise ValueError("annual_discount_rate must be at least 0 and below 10, "
                             f"got {self.annual_discount_rate}")
        if self.horizon_months < 1 or self.short_horizon_days < 1:
            raise ValueError("horizon_months and short_horizon_days must be at least 1")
        if not 0 < self.band_level < 1:
            raise ValueError(f"band_level must be between 0 and 1, got {self.band_level}")
        if self.min_repeat_buyers < 1:
            raise ValueError("min_repeat_buyers must be at least 1")

    @property
    def columns(self) -> tuple[str, ...]:
        """The per-customer output columns, in order."""
        h, d = self.horizon_months, self.short_horizon_days
        return ("customer_id", "p_alive", f"expected_purchases_{d}d",
                f"expected_purchases_{h}m", "expected_spend", f"clv_{h}m",
                f"clv_{h}m_low", f"clv_{h}m_high")


def setting_help() -> dict[str, tuple[object, str]]:
    """Each setting's default and help text, by name."""
    return {f.name: (f.default, f.metadata["help"]) for f in fields(ClvSettings)}


# ---- errors ---------------------------------------------------------------------

class ClvUnavailable(Exception):
    """The data do not support trustworthy lifetime values; none are given.

    `code` names the reason (its text is the catalogue key
    `clv.error.<code>`), `params` fill the message's placeholders.
    """

    def __init__(self, code: str, **params):
        self.code, self.params = code, {k: str(v) for k, v in params.items()}
        super().__init__(self.message("en"))

    def __reduce__(self):
        # pickled by code and parameters (for caches), not by the English text
        return (_unavailable, (self.code, self.params))

    def message(self, lang: str) -> str:
        """The reason in the reader's language."""
        return i18n.t(f"clv.error.{self.code}", lang, **self.params)


def _unavailable(code: str, params: dict) -> ClvUnavailable:
    return ClvUnavailable(code, **params)


# ---- fitted models ---------------------------------------------------------------

class BgNbd(NamedTuple):
    """BG/NBD parameters: purchase rate λ ~ gamma(r, alpha), dropout p ~ beta(a, b)."""
    r: float
    alpha: float
    a: float
    b: float


class GammaGamma(NamedTuple):
    """Gamma-Gamma parameters: spend per purchase ~ gamma(p, ν), ν ~ gamma(q, gamma)."""
    p: float
    q: float
    gamma: float


@dataclass(frozen=True, eq=False)
class Fit:
    """A maximum-likelihood fit.

    `params` is a BgNbd or GammaGamma; `covariance` is the covariance of the
    logs of the parameters (inverse Hessian of the negative log-likelihood
    in log space); `customers` the number of customers fitted on.
    """
    params: BgNbd | GammaGamma
    log_likelihood: float
    covariance: np.ndarray
    customers: int

    def standard_errors(self) -> dict[str, float]:
        """Approximate standard errors of the parameters (delta method)."""
        se_log = np.sqrt(np.diag(self.covariance))
        return {name: float(value * se) for name, value, se
                in zip(self.params._fields, self.params, se_log)}


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


# ---- BG/NBD likelihood and fit -------------------------------------------------------

class _BgNbdData(NamedTuple):
    """Distinct (x, t_x, T) rows with their counts, split by x = 0 and x > 0."""
    w0: np.ndarray     # x = 0: count per distinct T
    T0: np.ndarray
    w: np.ndarray      # x > 0: count per distinct (x, t_x, T)
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    x_values: np.ndarray   # distinct x > 0 and the count of each
    x_counts: np.ndarray


def _bgnbd_data(x, t_x, T) -> _BgNbdData:
    zero = x == 0
    _, (T0,), w0 = _group_rows(T[zero])
    _, (xr, tr, Tr), w = _group_rows(x[~zero], t_x[~zero], T[~zero])
    x_values, x_index = np.unique(xr, return_inverse=True)
    x_counts = np.bincount(x_index, weights=w, minlength=len(x_values))
    return _BgNbdData(w0.astype(float), T0, w.astype(float), xr, tr, Tr,
                      x_values, x_counts)


def _bgnbd_loglik(theta, d: _BgNbdData, gradient: bool = True):
    """Total log-likelihood (and its gradient in log parameters) of FHL (2005) eq. 6."""
    r, alpha, a, b = np.exp(theta)
    n0, n1 = d.w0.sum(), d.w.sum()
    xv, xc = d.x_values, d.x_counts
    # Terms that depend on x only, summed over the x > 0 groups
    # (for x = 0 they cancel: Γ(r + 0) / Γ(r) = 1 and B(a, b + 0) / B(a, b) = 1).
    ll = ((n0 + n1) * r * np.log(alpha)
          + xc @ (special.gammaln(r + xv) - special.gammaln(r) + special.gammaln(a + b)
                  + special.gammaln(b + xv) - special.gammaln(b)
                  - special.gammaln(a + b + xv)))
    # x = 0: only the "alive at T" term, log B(a, b)/B(a, b) = 0.
    log_t0 = np.log(alpha + d.T0)
    ll += -r * (d.w0 @ log_t0)
    # x > 0: log of [alive at T] + [dropped out after the last purchase].
    rx = r + d.x
    log_T, log_tx = np.log(alpha + d.T), np.log(alpha + d.t_x)
    a3 = -rx * log_T
    a4 = np.log(a) - np.log(b + d.x - 1) - rx * log_tx
    ll += d.w @ np.logaddexp(a3, a4)
    if not gradient:
        return ll
    # weight of the dropout term, kept above the subnormal range (which is slow)
    share4 = special.expit(np.maximum(a4 - a3, -600.0))
    share3 = 1.0 - share4
    psi_x = xc @ (special.digamma(r + xv))
    d_r = ((n0 + n1) * np.log(alpha) - n1 * special.digamma(r) + psi_x
           - d.w0 @ log_t0 - d.w @ (share3 * log_T + share4 * log_tx))
    d_alpha = ((n0 + n1) * r / alpha - r * (d.w0 @ (1 / (alpha + d.T0)))
               - d.w @ (rx * (share3 / (alpha + d.T) + share4 / (alpha + d.t_x))))
    common = xc @ (special.digamma(a + b) - special.digamma(a + b + xv))
    d_a = common + (d.w @ share4) / a
    d_b = (common + xc @ (special.digamma(b + xv) - special.digamma(b))
           - d.w @ (share4 / (b + d.x - 1)))
    grad = np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])
    return ll, grad


def bgnbd_log_likelihood(params: BgNbd, x, t_x, T) -> float:
    """Total BG/NBD log-likelihood of customers (x, t_x, T) under `params`."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return float(_bgnbd_loglik(np.log(params), _bgnbd_data(x, t_x, T), gradient=False))


@_one_blas_thread
def fit_bgnbd(inputs: pd.DataFrame, *, min_repeat_buyers: int = 30) -> Fit:
    """Fit BG/NBD by maximum likelihood.

    Parameters
    ----------
    inputs : one row per customer with x (repeat purchase days), t_x
        (recency) and T (age), t_x and T in the model's time unit.
    min_repeat_buyers : fewest customers with x > 0 to fit at all.

    Returns
    -------
    Fit with params BgNbd(r, alpha, a, b) in the inputs' time unit.

    Raises
    ------
    ClvUnavailable : too few repeat buyers, no convergence, a parameter at
        the edge of its range, or a flat likelihood.
    """
    x, t_x, T = (inputs[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    _require_repeat_buyers(int((x > 0).sum()), min_repeat_buyers, "too_few_repeat_buyers")
    scale = float(T.mean()) or 1.0

    def restricted(rows):
        return _bgnbd_objective(x[rows], t_x[rows] / scale, T[rows] / scale)

    objective = _bgnbd_objective(x, t_x / scale, T / scale)
    unscale = np.log([1.0, scale, 1.0, 1.0])
    theta = _maximise(objective, len(x), restricted, BGNBD_STARTS, BgNbd._fields, "BG/NBD",
                      unscale)
    ll, covariance = _log_likelihood_and_covariance(objective, theta, "BG/NBD")
    theta = theta + unscale
    ll -= np.log(scale) * x.sum()   # the rescaled likelihood differs by a constant
    return Fit(BgNbd(*np.exp(theta)), float(ll), covariance, len(x))


def _bgnbd_objective(x, t_x, T):
    data = _bgnbd_data(x, t_x, T)
    return lambda theta, gradient=True: _bgnbd_loglik(theta, data, gradient)


# ---- Gamma-Gamma likelihood and fit -------------------------------------------------

class _GammaGammaData(NamedTuple):
    x: np.ndarray          # repeat purchase days (> 0)
    z: np.ndarray          # mean repeat spend (> 0)
    x_values: np.ndarray
    x_counts: np.ndarray
    sum_x_log_z: float
    sum_log_z: float
    sum_x_log_x: float


def _gamma_gamma_data(x, z) -> _GammaGammaData:
    x_values, x_counts = np.unique(x, return_counts=True)
    log_z = np.log(z)
    return _GammaGammaData(x, z, x_values, x_counts.astype(float), float(x @ log_z),
                           float(log_z.sum()), float(x @ np.log(x)))


def _gamma_gamma_loglik(theta, d: _GammaGammaData, gradient: bool = True):
    """Total log-likelihood of the mean spends (and gradient in log parameters).

    z̄ | x ~ gamma(p x, ν x) with ν ~ gamma(q, γ), so z̄ has density
    Γ(px+q) / (Γ(px) Γ(q)) · γ^q x^{px} z̄^{px-1} / (γ + x z̄)^{px+q}.
    """
    p, q, g = np.exp(theta)
    n = len(d.x)
    xv, xc = d.x_values, d.x_counts
    log_gxz = np.log(g + d.x * d.z)
    ll = (xc @ (special.gammaln(p * xv + q) - special.gammaln(p * xv))
          + n * (q * np.log(g) - special.gammaln(q))
          + p * (d.sum_x_log_z + d.sum_x_log_x) - d.sum_log_z
          - p * (d.x @ log_gxz) - q * log_gxz.sum())
    if not gradient:
        return ll
    psi_pxq = special.digamma(p * xv + q)
    d_p = (xc @ (xv * (psi_pxq - special.digamma(p * xv)))
           + d.sum_x_log_z + d.sum_x_log_x - d.x @ log_gxz)
    d_q = xc @ psi_pxq - n * special.digamma(q) + n * np.log(g) - log_gxz.sum()
    d_g = n * q / g - ((p * d.x + q) / (g + d.x * d.z)).sum()
    return ll, np.array([d_p, d_q, d_g]) * np.array([p, q, g])


def gamma_gamma_log_likelihood(params: GammaGamma, x, mean_spend) -> float:
    """Total Gamma-Gamma log-likelihood of repeat buyers (x > 0, mean spend > 0)."""
    x, z = np.asarray(x, dtype=float), np.asarray(mean_spend, dtype=float)
    return float(_gamma_gamma_loglik(np.log(params), _gamma_gamma_data(x, z), False))


@_one_blas_thread
def fit_gamma_gamma(inputs: pd.DataFrame, *, min_repeat_buyers: int = 30) -> Fit:
    """Fit Gamma-Gamma by maximum likelihood on the repeat buyers with positive spend.

    Parameters
    ----------
    inputs : one row per customer with x (repeat purchase days) and
        mean_repeat_spend (NaN or anything when x is 0); rows with x = 0 or
        mean_repeat_spend <= 0 are left out of the fit.
    min_repeat_buyers : fewest such customers to fit at all.

    Returns
    -------
    Fit with params GammaGamma(p, q, gamma) in the spend's currency.

    Raises
    ------
    ClvUnavailable : too few such customers, no convergence, a parameter
        at the edge of its range, a flat likelihood, or q <= 1 (no finite
        mean spend).
    """
    x = inputs["x"].to_numpy(dtype=float)
    z = inputs["mean_repeat_spend"].to_numpy(dtype=float)
    keep = (x > 0) & (np.nan_to_num(z) > 0)
    x, z = x[keep], z[keep]
    _require_repeat_buyers(len(x), min_repeat_buyers, "too_few_spending_repeat_buyers")
    scale = float(z.mean())

    def restricted(rows):
        return _gamma_gamma_objective(x[rows], z[rows] / scale)

    objective = _gamma_gamma_objective(x, z / scale)
    unscale = np.log([1.0, 1.0, scale])
    theta = _maximise(objective, len(x), restricted, GAMMA_GAMMA_STARTS,
                      GammaGamma._fields, "Gamma-Gamma", unscale)
    ll, covariance = _log_likelihood_and_covariance(objective, theta, "Gamma-Gamma")
    params = GammaGamma(*np.exp(theta + unscale))
    if params.q <= 1:
        raise ClvUnavailable("spend_mean_not_finite", q=f"{params.q:.3g}")
    return Fit(params, float(ll - len(x) * np.log(scale)), covariance, len(x))


def _gamma_gamma_objective(x, z):
    data = _gamma_gamma_data(x, z)
    return lambda theta, gradient=True: _gamma_gamma_loglik(theta, data, gradient)


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


# ---- predictions ----------------------------------------------------------------------

def p_alive(params: BgNbd, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) of FHL (2005) eq. 11.

    1 / (1 + [x > 0] · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x)).
    """
    return 1.0 / (1.0 + _dropout_odds(params, *(np.asarray(v, dtype=float) for v in (x, t_x, T))))


def _dropout_odds(params: BgNbd, x, t_x, T) -> np.ndarray:
    """P(dead) / P(alive) given the history; 0 for customers without a repeat purchase."""
    r, alpha, a, b = params
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = (np.log(a) - np.log(b + x - 1)
                    + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)))
    return np.where(x > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def expected_purchases_if_alive(params: BgNbd, t, x, T) -> np.ndarray:
    """Expected purchases in (T, T + t] of a customer alive at T with x repeat purchases.

    The BG/NBD conditional expectation (FHL 2005 eq. 10) is P(alive) times
    this. It is (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ·
    2F1(r+x, b+x; a+b+x−1; z)] with z = t/(α+T+t), computed through Euler's
    transformation 2F1(A, B; C; z) = (1−z)^(C−A−B) 2F1(C−A, C−B; C; z),
    which keeps every term of moderate size even for thousands of repeat
    purchases: (a+b+x−1)/(a−1) · [1 − (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z)].
    `t` broadcasts against x and T.
    """
    r, alpha, a, b = params
    t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, x, T)))
    z = t / (alpha + T + t)
    if abs(a - 1) < 1e-4:   # removable singularity at a = 1: mean of both sides
        return (_if_alive(r, 1 - 1e-4, b, x, z) + _if_alive(r, 1 + 1e-4, b, x, z)) / 2
    return _if_alive(r, a, b, x, z)


def _if_alive(r, a, b, x, z):
    c = a + b + x - 1
    return c / (a - 1) * (1 - (1 - z) ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, c, z))


def conditional_expected_purchases(params: BgNbd, t, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005 eq. 10)."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, t, x, T)


def expected_spend(params: GammaGamma, x, mean_spend) -> np.ndarray:
    """E[spend per purchase | x, mean repeat spend] of the Gamma-Gamma model.

    p (γ + x z̄) / (p x + q − 1): the base's mean p γ / (q − 1) for a
    customer without repeat purchases (x = 0), moving towards z̄ as x grows.
    """
    p, q, g = params
    x = np.asarray(x, dtype=float)
    z = np.where(x > 0, np.nan_to_num(np.asarray(mean_spend, dtype=float)), 0.0)
    return p * (g + x * z) / (p * x + q - 1)


def _expected_spend_log_gradient(params: GammaGamma, x, z) -> np.ndarray:
    """d log E[spend] / d log (p, q, γ), one row per customer."""
    p, q, g = params
    denominator = p * x + q - 1
    return np.column_stack([1 - p * x / denominator, -q / denominator,
                            g / (g + x * z)])


def _p_alive_log_gradient(params: BgNbd, x, t_x, T, alive) -> np.ndarray:
    """d log P(alive) / d log (r, α, a, b), one row per customer."""
    r, alpha, a, b = params
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        d_odds = np.column_stack([
            r * (np.log(alpha + T) - np.log(alpha + t_x)),
            alpha * (r + x) * (1 / (alpha + T) - 1 / (alpha + t_x)),
            np.ones_like(x),
            -b / (b + x - 1)])
    return np.where(repeat[:, None], -(1 - alive)[:, None] * d_odds, 0.0)


def _discount_weights(months: int, annual_rate: float) -> np.ndarray:
    """Weight of the cumulative expected purchases at each month end.

    Purchases of month m are discounted by (1 + rate)^(−m/12); written as
    Σ_m v_m (Y_m − Y_{m−1}) = Σ_m Y_m (v_m − v_{m+1}) with v_{months+1} = 0.
    """
    v = (1 + annual_rate) ** (-np.arange(1, months + 2) / 12)
    v[-1] = 0.0
    return v[:-1] - v[1:]


class _PerPair(NamedTuple):
    """Values per distinct (x, T), computed once and gathered per customer."""
    short: np.ndarray        # expected purchases in the short horizon, if alive
    horizon: np.ndarray      # ... in the whole horizon, if alive
    discounted: np.ndarray   # discounted purchases over the horizon, if alive
    log_gradient: np.ndarray # d log discounted / d log (r, α, a, b)


def _per_pair(params: BgNbd, x, T, *, short_t: float, month_t: float,
              weights: np.ndarray) -> _PerPair:
    months = month_t * np.arange(1, len(weights) + 1)

    def discounted(p):
        return expected_purchases_if_alive(p, months[None, :], x[:, None], T[:, None]) @ weights

    base = discounted(params)
    theta, h = np.log(params), 1e-4
    gradient = np.empty((len(x), 4))
    for j in range(4):
        step = np.zeros(4)
        step[j] = h
        up, down = (discounted(BgNbd(*np.exp(theta + s))) for s in (step, -step))
        gradient[:, j] = (np.log(up) - np.log(down)) / (2 * h)
    return _PerPair(expected_purchases_if_alive(params, short_t, x, T),
                    expected_purchases_if_alive(params, months[-1], x, T),
                    base, gradient)


@_one_blas_thread
def predict_customers(inputs: pd.DataFrame, bgnbd: Fit, gamma_gamma: Fit | None,
                      settings: ClvSettings = ClvSettings()) -> pd.DataFrame:
    """P(alive), expected purchases, expected spend and CLV per customer.

    Parameters
    ----------
    inputs : one row per customer (`model_inputs`): customer_id, x, t_x, T
        (time units of `settings.time_unit`, which the fits must share) and
        mean_repeat_spend.
    bgnbd, gamma_gamma : fits from `fit_bgnbd` and `fit_gamma_gamma`;
        gamma_gamma None leaves expected_spend and the CLV columns NaN.
    settings : horizons, discount rate, band level.

    Returns
    -------
    DataFrame in the order of `inputs`, columns `settings.columns`
    (defaults): customer_id; p_alive (at T); expected_purchases_90d and
    expected_purchases_12m (purchase days in the next 90 days / 12 months);
    expected_spend (per purchase day); clv_12m (expected spend × monthly
    discounted expected purchases); clv_12m_low and clv_12m_high (the band
    at `settings.band_level` from the parameters' covariance).

    Raises
    ------
    ClvUnavailable : a prediction is not a finite number (code not_finite,
        params["model"] "BG/NBD" or, for spend and CLV only, "Gamma-Gamma").
    """
    x, t_x, T = (inputs[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    z = np.where(x > 0, np.nan_to_num(inputs["mean_repeat_spend"].to_numpy(dtype=float)), 0.0)
    unit = DAYS_PER_UNIT[settings.time_unit]
    codes, (ux, uT), _ = _group_rows(x, T)
    with np.errstate(all="ignore"):
        pair = _per_pair(bgnbd.params, ux, uT, short_t=settings.short_horizon_days / unit,
                         month_t=DAYS_PER_MONTH / unit,
                         weights=_discount_weights(settings.horizon_months,
                                                   settings.annual_discount_rate))
        alive = p_alive(bgnbd.params, x, t_x, T)
        names = settings.columns
        frame = pd.DataFrame({
            names[0]: inputs["customer_id"].to_numpy(), names[1]: alive,
            names[2]: alive * pair.short[codes], names[3]: alive * pair.horizon[codes]})
        _require_finite(frame[list(names[1:4])], "BG/NBD")
        if gamma_gamma is None:
            return frame.reindex(columns=list(names))   # spend and CLV: NaN
        spend = expected_spend(gamma_gamma.params, x, z)
        clv = spend * alive * pair.discounted[codes]
        g_bg = pair.log_gradient[codes] + _p_alive_log_gradient(bgnbd.params, x, t_x, T, alive)
        g_gg = _expected_spend_log_gradient(gamma_gamma.params, x, z)
        sd = np.sqrt(np.einsum("ni,ij,nj->n", g_bg, bgnbd.covariance, g_bg)
                     + np.einsum("ni,ij,nj->n", g_gg, gamma_gamma.covariance, g_gg))
        spread = np.exp(special.ndtri(0.5 + settings.band_level / 2) * sd)
        frame[names[4]], frame[names[5]] = spend, clv
        frame[names[6]], frame[names[7]] = clv / spread, clv * spread
    _require_finite(frame[list(names[4:])], "Gamma-Gamma")
    return frame


def _require_finite(values: pd.DataFrame, model: str) -> None:
    array = values.to_numpy(dtype=float)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ClvUnavailable("not_finite", model=model)


# ---- holdout check ----------------------------------------------------------------------

def holdout_by_frequency(inputs: pd.DataFrame, bgnbd: Fit, *, holdout_t: float,
                         max_frequency: int = 7) -> pd.DataFrame:
    """Actual against predicted holdout purchases by calibration frequency.

    The check of FHL (2005) figure 4: customers grouped by their repeat
    purchase days x in the calibration period (the last group holds x ≥
    `max_frequency`), with the mean purchase days each group made in the
    holdout and the mean the model expected.

    Parameters
    ----------
    inputs : calibration rows (`model_inputs`): x, t_x, T and
        holdout_purchase_days.
    bgnbd : fit on those rows.
    holdout_t : length of the holdout period in the model's time unit.

    Returns
    -------
    DataFrame with one row per frequency 0..max_frequency: frequency (int;
    the last means "or more"), label ("0", …, "7+"), customers,
    actual_mean, predicted_mean.
    """
    x, t_x, T = (inputs[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    frame = pd.DataFrame({
        "frequency": np.minimum(x, max_frequency).astype(int),
        "actual": inputs["holdout_purchase_days"].to_numpy(dtype=float),
        "predicted": conditional_expected_purchases(bgnbd.params, holdout_t, x, t_x, T)})
    grouped = frame.groupby("frequency").agg(customers=("actual", "size"),
                                             actual_mean=("actual", "mean"),
                                             predicted_mean=("predicted", "mean"))
    grouped = grouped.reindex(range(max_frequency + 1)).reset_index()
    grouped["customers"] = grouped["customers"].fillna(0).astype(int)
    grouped.insert(1, "label", [str(f) for f in range(max_frequency)] + [f"{max_frequency}+"])
    return grouped


# ---- the whole computation --------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ClvResult:
    """Everything the lifetime-value page and command line show.

    `customers` is the frame of `predict_customers` as of `as_of`;
    `mean_p_alive` the mean P(alive) of the calibration customers at the
    calibration end; `holdout` {"start", "end", "actual", "predicted"} and
    `holdout_frequency` (`holdout_by_frequency`) are None without a holdout.

    A partial result has `gamma_gamma` None and the reason in
    `spend_error`: the spend model could not be trusted on the data, so
    expected_spend and the CLV columns are NaN while P(alive) and the
    expected purchases stand.
    """
    as_of: date
    calibration_end: date
    settings: ClvSettings
    bgnbd: Fit
    gamma_gamma: Fit | None
    customers: pd.DataFrame
    mean_p_alive: float
    holdout: dict | None
    holdout_frequency: pd.DataFrame | None
    spend_error: ClvUnavailable | None = None

    @property
    def partial(self) -> bool:
        """Whether spend and CLV are missing (see `spend_error`)."""
        return self.gamma_gamma is None

    def to_json(self) -> dict:
        """The `clv --json` document (DESIGN §5); gamma_gamma is null in a partial result."""
        r, alpha, a, b = self.bgnbd.params
        spend = None
        if self.gamma_gamma is not None:
            p, q, g = self.gamma_gamma.params
            spend = {"p": p, "q": q, "gamma": g,
                     "log_likelihood": self.gamma_gamma.log_likelihood,
                     "customers": self.gamma_gamma.customers}
        error = None if self.spend_error is None else {
            "code": self.spend_error.code, "message": self.spend_error.message("en")}
        return {
            "time_unit": self.settings.time_unit,
            "customers": self.bgnbd.customers,
            "bgnbd": {"r": r, "alpha": alpha, "a": a, "b": b,
                      "log_likelihood": self.bgnbd.log_likelihood},
            "gamma_gamma": spend,
            "spend_error": error,
            "mean_p_alive": self.mean_p_alive,
            "holdout": self.holdout,
        }


def fit_and_predict(calibration: pd.DataFrame, current: pd.DataFrame | None = None, *,
                    calibration_end: date, as_of: date | None = None,
                    settings: ClvSettings = ClvSettings()) -> ClvResult:
    """Fit both models on the calibration rows and predict every current customer.

    Parameters
    ----------
    calibration : `clv_inputs.purchase_summary` as of `calibration_end`
        with the holdout up to `as_of`.
    current : the same as of `as_of` (no holdout); defaults to
        `calibration` when the two dates are the same.
    calibration_end, as_of : the dates of those summaries.

    Returns
    -------
    ClvResult; partial (gamma_gamma None, the reason in spend_error) when
    `fit_gamma_gamma` or the spend predictions fail but BG/NBD holds.

    Raises
    ------
    ClvUnavailable : no customers, or BG/NBD cannot be fitted or predicted
        (see `fit_bgnbd`, `predict_customers`).
    """
    as_of = calibration_end if as_of is None else as_of
    if current is None and as_of > calibration_end:
        raise ValueError("with a holdout (as_of after calibration_end), pass the summary "
                         "as of as_of as `current`")
    if len(calibration) == 0:
        raise ClvUnavailable("no_customers", date=calibration_end)
    cal = model_inputs(calibration, settings.time_unit)
    bgnbd = fit_bgnbd(cal, min_repeat_buyers=settings.min_repeat_buyers)
    spend_error = None
    try:
        gamma_gamma = fit_gamma_gamma(cal, min_repeat_buyers=settings.min_repeat_buyers)
    except ClvUnavailable as exc:
        gamma_gamma, spend_error = None, exc
    now = cal if current is None else model_inputs(current, settings.time_unit)
    try:
        customers = predict_customers(now, bgnbd, gamma_gamma, settings)
    except ClvUnavailable as exc:
        if exc.params.get("model") != "Gamma-Gamma":
            raise
        gamma_gamma, spend_error = None, exc
        customers = predict_customers(now, bgnbd, None, settings)
    mean_p_alive = float(p_alive(bgnbd.params, cal["x"], cal["t_x"], cal["T"]).mean())
    holdout, by_frequency = None, None
    if as_of > calibration_end:
        holdout_t = (as_of - calibration_end).days / DAYS_PER_UNIT[settings.time_unit]
        by_frequency = holdout_by_frequency(cal, bgnbd, holdout_t=holdout_t)
        predicted = np.nansum(by_frequency["predicted_mean"] * by_frequency["customers"])
        holdout = {"start": (calibration_end + timedelta(days=1)).isoformat(),
                   "end": as_of.isoformat(),
                   "actual": int(cal["holdout_purchase_days"].sum()),
                   "predicted": float(predicted)}
    return ClvResult(as_of, calibration_end, settings, bgnbd, gamma_gamma, customers,
                     mean_p_alive, holdout, by_frequency, spend_error)


def load_inputs(con, *, as_of: date, calibration_end: date | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The calibration summary (with holdout) and, when it differs, the one as of `as_of`."""
    calibration_end = as_of if calibration_end is None else calibration_end
    calibration = clv_inputs.purchase_summary(con, calibration_end=calibration_end, as_of=as_of)
    if calibration_end == as_of:
        return calibration, None
    return calibration, clv_inputs.purchase_summary(con, calibration_end=as_of)


def compute_clv(con, *, as_of: date, calibration_end: date | None = None,
                settings: ClvSettings = ClvSettings()) -> ClvResult:
    """Lifetime values as of `as_of`, the models fitted on purchases up to `calibration_end`.

    Runs the feature SQL on `con` (`load_inputs`), then `fit_and_predict`
    (which needs no connection; callers that want to release the file
    before the fit can call the two themselves).
    """
    calibration_end = as_of if calibration_end is None else calibration_end
    if calibration_end > as_of:
        raise ValueError(f"calibration_end ({calibration_end}) is after as_of ({as_of})")
    calibration, current = load_inputs(con, as_of=as_of, calibration_end=calibration_end)
    return fit_and_predict(calibration, current, calibration_end=calibration_end,
                           as_of=as_of, settings=settings)


# ---- what the page shows ------------------------------------------------------------------

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


PAST_VALUE_COLUMNS = ("customer_id", "name", "revenue_12m", "purchase_days",
                      "first_purchase_date", "last_purchase_date", "days_since_last_purchase")


def small_data(features: pd.DataFrame, settings: ClvSettings = ClvSettings()) -> dict:
    """What the page still shows when the models cannot be fitted, from the feature table.

    Returns
    -------
    dict with buyers (customers with a purchase), repeat_buyers (of them, purchases on 2
    or more days: the `x` > 0 the models learn from), needed (settings.min_repeat_buyers),
    purchase_days (DataFrame purchase_days, customers: how many buyers bought on 1, 2, …
    days) and past (the buyers, PAST_VALUE_COLUMNS, the most 12-month revenue first, then
    the most purchase days, then customer_id).
    """
    days = pd.to_numeric(features["purchase_days"]).fillna(0).astype("int64")
    bought = features[days.to_numpy() > 0]
    counts = days[days > 0].value_counts().sort_index()
    past = bought[list(PAST_VALUE_COLUMNS)].sort_values(
        ["revenue_12m", "purchase_days", "customer_id"], ascending=[False, False, True],
        kind="stable", na_position="last")
    return {"buyers": len(bought), "repeat_buyers": int((days >= 2).sum()),
            "needed": settings.min_repeat_buyers,
            "purchase_days": pd.DataFrame({"purchase_days": counts.index.to_numpy(),
                                           "customers": counts.to_numpy()}),
            "past": past.reset_index(drop=True)}


def default_calibration_end(as_of: date, months: int = 6) -> date:
    """The last day of the month `months` before as_of's month: the start of a holdout.

    2026-06-30 and 2026-06-15 both give 2025-12-31 with the default six months.
    """
    first_of_month = as_of.replace(day=1)
    year, month = divmod(first_of_month.year * 12 + first_of_month.month - 1 - months + 1, 12)
    return date(year, month + 1, 1) - timedelta(days=1)


def calibration_end_range(first: date, as_of: date, *, min_calibration_days: int = 90,
                          min_holdout_days: int = 28) -> tuple[date, date] | None:
    """The calibration ends worth offering for a holdout check, or None when the history
    is too short: at least `min_calibration_days` after the first event `first` and at
    least `min_holdout_days` before `as_of`."""
    low = first + timedelta(days=min_calibration_days)
    high = as_of - timedelta(days=min_holdout_days)
    return (low, high) if low <= high else None


def with_lenses(customers: pd.DataFrame, lenses: pd.DataFrame) -> pd.DataFrame:
    """The per-customer figures with each customer's master data and lenses.

    Parameters
    ----------
    customers : the frame of `predict_customers` (`ClvResult.customers`).
    lenses : one row per customer: customer_id and any other columns
        (name, tier, segment, revenue_12m, revenue_rank, ...).

    Returns
    -------
    DataFrame in the order of `customers`: customer_id, the lenses'
    columns (NaN for a customer they do not hold), then the figures.
    """
    extra = lenses.drop_duplicates("customer_id").set_index("customer_id")
    joined = extra.reindex(customers["customer_id"].to_numpy()).reset_index(drop=True)
    figures = customers.reset_index(drop=True)
    return pd.concat([figures[["customer_id"]], joined, figures.drop(columns="customer_id")],
                     axis=1)


def distribution_by(table: pd.DataFrame, group: str, *, categories,
                    columns=("p_alive", "clv_12m"),
                    quantiles=QUANTILES) -> pd.DataFrame:
    """How `columns` are spread within each category of `group`.

    Returns
    -------
    DataFrame with one row per category, in `categories` order: key,
    customers (int64), and for every column c: c_mean, c_sum, c_share (of
    the column's total over all categories; NaN when that is not positive)
    and c_q10, c_q25, c_q50, c_q75, c_q90 (the quantiles asked for, named
    by percent). Statistics are NaN for an empty group or a column with no
    value (such as CLV in a partial result). Rows whose `group` is outside
    `categories` are not counted.
    """
    keys = pd.Categorical(table[group], categories=list(categories))
    counted = table[keys.codes >= 0]
    by = pd.Categorical(counted[group], categories=list(categories))
    out = pd.DataFrame({"key": list(categories),
                        "customers": np.bincount(by.codes, minlength=len(categories))
                        .astype(np.int64)})
    for column in columns:
        grouped = counted[column].astype(float).groupby(by, observed=False)
        total = counted[column].sum(min_count=1)
        sums = grouped.sum(min_count=1).to_numpy()
        out[f"{column}_mean"] = grouped.mean().to_numpy()
        out[f"{column}_sum"] = sums
        out[f"{column}_share"] = sums / total if total > 0 else np.nan
        for q in quantiles:
            out[f"{column}_q{round(q * 100)}"] = grouped.quantile(q).to_numpy()
    return out


def top_customers(table: pd.DataFrame, n: int, *, by: str = "clv_12m") -> pd.DataFrame:
    """The `n` customers with the largest `by`, ties by customer_id; none without a value."""
    ranked = table[table[by].notna()].sort_values([by, "customer_id"], ascending=[False, True])
    return ranked.head(max(int(n), 0)).reset_index(drop=True)


def valuable_and_slipping(table: pd.DataFrame, *, base_size: int, top_share: float = 0.2,
                          max_p_alive: float = 0.5) -> pd.DataFrame:
    """High past value, low chance of still being a customer.

    Parameters
    ----------
    table : `with_lenses` output holding revenue_12m and revenue_rank
        (rank by 12-month revenue among all customers, ties sharing the
        better rank, as in `engine.scoring.pyramid`) and p_alive.
    base_size : all customers ranked (N).
    top_share : high past value means revenue_rank / N ≤ top_share and
        revenue_12m > 0 (the default 0.2 is the pyramid's gold and above).
    max_p_alive : slipping means P(alive) below this.

    Returns
    -------
    The matching rows, highest revenue_12m first (ties by customer_id).
    """
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be above 0 and at most 1, got {top_share!r}.")
    if not 0 <= max_p_alive <= 1:
        raise ValueError(f"max_p_alive must be between 0 and 1, got {max_p_alive!r}.")
    valuable = ((table["revenue_rank"] <= top_share * base_size + 1e-9)
                & (table["revenue_12m"] > 0))
    slipping = table["p_alive"] < max_p_alive
    found = table[valuable & slipping]
    return found.sort_values(["revenue_12m", "customer_id"],
                             ascending=[False, True]).reset_index(drop=True)


def totals(result: ClvResult) -> dict:
    """Headline figures as of `as_of`: customers, mean_p_alive, expected purchases in
    the short horizon and the horizon, and the horizon's CLV (None in a partial result)."""
    h, d = result.settings.horizon_months, result.settings.short_horizon_days
    frame = result.customers
    return {"customers": len(frame),
            "mean_p_alive": float(frame["p_alive"].mean()) if len(frame) else None,
            "expected_purchases_short": float(frame[f"expected_purchases_{d}d"].sum()),
            "expected_purchases": float(frame[f"expected_purchases_{h}m"].sum()),
            "clv": None if result.partial else float(frame[f"clv_{h}m"].sum())}


def parameter_table(result: ClvResult) -> pd.DataFrame:
    """The fitted parameters: model, parameter, value, standard_error (delta method).

    Rate parameters (BG/NBD alpha) are per `settings.time_unit`; Gamma-Gamma
    gamma is in the currency. A partial result lists BG/NBD only.
    """
    rows = []
    for model, fit in (("BG/NBD", result.bgnbd), ("Gamma-Gamma", result.gamma_gamma)):
        if fit is None:
            continue
        errors = fit.standard_errors()
        rows += [(model, name, float(value), errors[name])
                 for name, value in zip(fit.params._fields, fit.params)]
    return pd.DataFrame(rows, columns=["model", "parameter", "value", "standard_error"])


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


# ---- command line -----------------------------------------------------------------------

def add_arguments(parser) -> None:
    """Options of `python -m engine clv`."""
    defaults = ClvSettings()
    parser.add_argument("--as-of", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="date T of the figures (default: the latest event date)")
    parser.add_argument("--calibration-end", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="fit on purchases up to this date and check the days after it "
                             "up to --as-of (default: the as-of date, no holdout)")
    parser.add_argument("--json", type=str, default=None, metavar="FILE",
                        help="write the fitted parameters and the holdout check as JSON")
    parser.add_argument("--out", type=str, default=None, metavar="FILE.csv",
                        help="write one row per customer (UTF-8 with BOM)")
    parser.add_argument("--time-unit", choices=sorted(DAYS_PER_UNIT),
                        default=defaults.time_unit,
                        help=f"time unit of the models (default {defaults.time_unit})")
    parser.add_argument("--discount-rate", type=float, default=defaults.annual_discount_rate,
                        help="annual discount rate, applied monthly "
                             f"(default {defaults.annual_discount_rate})")


def run(args) -> int:
    """Fit, predict, write the files asked for and print one summary line."""
    from engine import store
    from engine.cli import InputRejected
    began = time.perf_counter()
    if not args.db.exists():
        raise InputRejected(f"{args.db}: no such database file")
    try:
        settings = ClvSettings(time_unit=args.time_unit,
                               annual_discount_rate=args.discount_rate)
    except ValueError as exc:
        raise InputRejected(str(exc)) from None
    with store.connect(args.db) as con:
        as_of = args.as_of or store.date_range(con)[1]
        if as_of is None:
            raise InputRejected(f"{args.db}: the database holds no events")
        calibration_end = args.calibration_end or as_of
        if calibration_end > as_of:
            raise InputRejected(f"--calibration-end {calibration_end} is after the "
                                f"as-of date {as_of}")
        calibration, current = load_inputs(con, as_of=as_of, calibration_end=calibration_end)
    try:
        result = fit_and_predict(calibration, current, calibration_end=calibration_end,
                                 as_of=as_of, settings=settings)
    except ClvUnavailable as exc:
        raise InputRejected(f"{args.db}: {exc}") from None
    _write_outputs(result, args)
    print(_summary_line(result, time.perf_counter() - began))
    if result.spend_error is not None:
        h = result.settings.horizon_months
        print(f"{args.db}: expected_spend and clv_{h}m are left empty: {result.spend_error}",
              file=sys.stderr)
    return 0


def _write_outputs(result: ClvResult, args) -> None:
    from engine import export
    if args.out:
        export.write_csv(rounded_for_export(result.customers), args.out)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(_plain(result.to_json()), handle, ensure_ascii=False, indent=2)


def rounded_for_export(customers: pd.DataFrame) -> pd.DataFrame:
    """The per-customer frame for a file: money to cents, the rest to 6 decimals.

    Write it with `engine.export.write_csv` / `to_csv_bytes` (UTF-8 with
    BOM, dot decimals, formula-safe text; DESIGN §5).
    """
    money = [c for c in customers.columns if c == "expected_spend" or c.startswith("clv_")]
    others = [c for c in customers.columns if c not in money and c != "customer_id"]
    return customers.round({**{c: 2 for c in money}, **{c: 6 for c in others}})


def _plain(value):
    """numpy numbers as Python numbers, for json."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.item() if isinstance(value, np.generic) else value


def _summary_line(result: ClvResult, seconds: float) -> str:
    r, alpha, a, b = result.bgnbd.params
    h = result.settings.horizon_months
    if result.gamma_gamma is None:
        spend = f"Gamma-Gamma not fitted ({result.spend_error.code})"
        value = f"{h}-month CLV not available"
    else:
        p, q, g = result.gamma_gamma.params
        spend = f"Gamma-Gamma p={p:.4g} q={q:.4g} gamma={g:.4g}"
        value = f"{h}-month CLV {result.customers[f'clv_{h}m'].sum():,.2f}"
    purchases = result.customers[f"expected_purchases_{h}m"].sum()
    line = (f"{result.bgnbd.customers:,} customers fitted up to {result.calibration_end} "
            f"(per {result.settings.time_unit}): BG/NBD r={r:.4g} alpha={alpha:.4g} "
            f"a={a:.4g} b={b:.4g}; {spend}; mean P(alive) {result.mean_p_alive:.3f}; "
            f"as of {result.as_of} over {len(result.customers):,} customers: "
            f"{purchases:,.1f} expected purchase days in {h} months, {value}")
    if result.holdout:
        line += (f"; holdout {result.holdout['start']}..{result.holdout['end']}: "
                 f"{result.holdout['actual']:,} purchase days, predicted "
                 f"{result.holdout['predicted']:,.1f}")
    return f"{line} ({seconds:.1f} s)"


COMMAND = ("clv", add_arguments, run)


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
