"""BG/NBD (Fader, Hardie & Lee 2005): its log-likelihood in closed form with the
analytic gradient, and its fit."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from engine.clv.fitting import _group_rows, _log_likelihood_and_covariance, _maximise, _require_repeat_buyers
from engine.clv.model import BgNbd, BGNBD_STARTS, Fit, _one_blas_thread


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
