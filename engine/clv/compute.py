"""The whole computation: the inputs from the feature SQL, both fits, the predictions
per customer and the holdout check, as one `ClvResult`."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from engine.features import clv_inputs
from engine.clv.bgnbd import fit_bgnbd
from engine.clv.fitting import model_inputs
from engine.clv.gamma_gamma import fit_gamma_gamma
from engine.clv.model import (BgNbd, ClvSettings, ClvUnavailable, DAYS_PER_UNIT, Fit,
                              GammaGamma)
from engine.clv.prediction import holdout_by_frequency, p_alive, predict_customers


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


# ---- as plain parts (kept in the file: engine.prepared) ----------------------------------

def result_parts(result: ClvResult | ClvUnavailable) -> dict:
    """A fit, or the reason there is none, as dicts, numbers, dates and frames: what
    engine.derived keeps in the file (never a pickle); `from_parts` gives it back."""
    if isinstance(result, ClvUnavailable):
        return {"error": _error_parts(result)}
    return {"as_of": result.as_of, "calibration_end": result.calibration_end,
            "settings": asdict(result.settings), "bgnbd": _fit_parts(result.bgnbd),
            "gamma_gamma": None if result.gamma_gamma is None
            else _fit_parts(result.gamma_gamma),
            "customers": result.customers, "mean_p_alive": result.mean_p_alive,
            "holdout": result.holdout, "holdout_frequency": result.holdout_frequency,
            "spend_error": None if result.spend_error is None
            else _error_parts(result.spend_error)}


def from_parts(parts: dict) -> ClvResult | ClvUnavailable:
    """The ClvResult (or ClvUnavailable) `result_parts` was given."""
    if "error" in parts:
        return _error(parts["error"])
    return ClvResult(parts["as_of"], parts["calibration_end"], ClvSettings(**parts["settings"]),
                     _fit(parts["bgnbd"], BgNbd),
                     None if parts["gamma_gamma"] is None
                     else _fit(parts["gamma_gamma"], GammaGamma),
                     parts["customers"], parts["mean_p_alive"], parts["holdout"],
                     parts["holdout_frequency"],
                     None if parts["spend_error"] is None else _error(parts["spend_error"]))


def _fit_parts(fit: Fit) -> dict:
    return {"params": list(fit.params), "log_likelihood": fit.log_likelihood,
            "covariance": fit.covariance.tolist(), "customers": fit.customers}


def _fit(parts: dict, params: type) -> Fit:
    return Fit(params(*parts["params"]), parts["log_likelihood"],
               np.array(parts["covariance"], dtype=float), parts["customers"])


def _error_parts(error: ClvUnavailable) -> dict:
    return {"code": error.code, "params": error.params}


def _error(parts: dict) -> ClvUnavailable:
    return ClvUnavailable(parts["code"], **parts["params"])


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
