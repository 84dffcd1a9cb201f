"""Predictions of fitted models: P(alive), expected purchases and spend, the 12-month CLV
with its band, and the holdout check by frequency."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import special

from engine.clv.fitting import _group_rows
from engine.clv.model import BgNbd, ClvSettings, ClvUnavailable, DAYS_PER_MONTH, DAYS_PER_UNIT, Fit, GammaGamma, _one_blas_thread


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
    """The bracket through Euler's form; where that is not a finite number, through the
    plain one, (a+b+x−1)/(a−1) · [1 − (1−z)^(r+x) · 2F1(r+x, b+x; a+b+x−1; z)].

    Both are the same function. Euler's keeps its terms moderate for many repeat
    purchases; the plain one for a dropout prior of large a and b (a fit to a base
    where nearly everyone stays: a = 6,074 and b = 983,677 on the million-customer
    demo), where scipy's 2F1 of Euler's form gives NaN while the plain one agrees
    with 50-digit arithmetic to 12 digits.
    """
    c = a + b + x - 1
    with np.errstate(all="ignore"):
        euler = c / (a - 1) * (1 - (1 - z) ** (a - 1) * special.hyp2f1(a + b - 1 - r, a - 1, c, z))
        broken = ~np.isfinite(euler)
        if not np.any(broken):
            return euler
        plain = c / (a - 1) * (1 - (1 - z) ** (r + x) * special.hyp2f1(r + x, b + x, c, z))
    return np.where(broken, plain, euler)


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
