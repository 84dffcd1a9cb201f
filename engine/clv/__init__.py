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

The package: `model` (settings, errors, fitted parameters), `fitting`
(maximum likelihood), `bgnbd` and `gamma_gamma` (the two models),
`prediction` (P(alive), purchases, spend, CLV, the holdout check) and
`compute` (all of it from the database). Everything is pure numpy/scipy on
DataFrames and arrays, except `compute_clv` and `load_inputs` (which run the
feature SQL on a connection). What the page shows is `engine.clv_page`;
synthetic data and the benchmark are `engine.clv_synthetic`. Time is in `time_unit`s (week or day) inside the models.
The log-likelihoods are written in closed form in log space with their
analytic gradients; parameters are optimised as logs within bounds, from
several starting points.
"""
from engine.clv.bgnbd import bgnbd_log_likelihood, fit_bgnbd
from engine.clv.compute import ClvResult, compute_clv, fit_and_predict, load_inputs
from engine.clv.fitting import model_inputs
from engine.clv.gamma_gamma import fit_gamma_gamma, gamma_gamma_log_likelihood
from engine.clv.model import (DAYS_PER_MONTH, DAYS_PER_UNIT, BgNbd, ClvSettings, ClvUnavailable,
                              Fit, GammaGamma, setting_help)
from engine.clv.prediction import (conditional_expected_purchases, expected_purchases_if_alive,
                                   expected_spend, holdout_by_frequency, p_alive,
                                   predict_customers)

__all__ = [
    "DAYS_PER_MONTH", "DAYS_PER_UNIT", "BgNbd", "ClvResult", "ClvSettings", "ClvUnavailable",
    "Fit", "GammaGamma", "bgnbd_log_likelihood", "compute_clv", "conditional_expected_purchases",
    "expected_purchases_if_alive", "expected_spend", "fit_and_predict", "fit_bgnbd",
    "fit_gamma_gamma", "gamma_gamma_log_likelihood", "holdout_by_frequency", "load_inputs",
    "model_inputs", "p_alive", "predict_customers", "setting_help",
]
