"""The lifetime-value models' shared pieces: settings, the error that says why a model
cannot be fitted, the fitted parameters, and the optimiser's constants."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from engine import i18n


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
