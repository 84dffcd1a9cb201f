"""Gamma-Gamma (Fader, Hardie & Lee 2005; Fader & Hardie 2013): its log-likelihood with
the analytic gradient, and its fit."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from engine.clv.fitting import _log_likelihood_and_covariance, _maximise, _require_repeat_buyers
from engine.clv.model import ClvUnavailable, Fit, GAMMA_GAMMA_STARTS, GammaGamma, _one_blas_thread


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
