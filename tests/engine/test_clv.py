"""Lifetime value (DESIGN §4.9): the feature SQL, BG/NBD and Gamma-Gamma, CLV, the CLI.

The models are checked against the published fits on the CDNOW sample
(tests/data/README.md), the formulas on customers worked out by hand, and
the failure modes on data that cannot support a fit.
"""
from __future__ import annotations

import json
import math
from dataclasses import fields
from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

from engine import clv, clv_page, clv_synthetic, store
from engine.clv import prediction
from engine.clv.bgnbd import _bgnbd_objective
from engine.clv.gamma_gamma import _gamma_gamma_objective
from engine.clv.model import PARAMETER_BOUNDS
from cli.main import main
from engine.features import clv_inputs
from tests.conftest import ROOT
from tests.helpers import assert_same_clv, heavy_spend_copy

DATA = ROOT / "tests" / "data"
CAL_END, HOLDOUT_END = date(1997, 9, 30), date(1998, 6, 30)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def cdnow_transactions() -> pd.DataFrame:
    """The raw CDNOW sample as rows of the transactions table."""
    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "dollars"],
                      dtype={"customer_id": str, "date": str})
    return pd.DataFrame({"customer_id": raw["customer_id"],
                         "txn_date": pd.to_datetime(raw["date"], format="%Y%m%d").dt.date,
                         "amount": raw["dollars"], "quantity": raw["cds"]})


def load_transactions(con, rows: pd.DataFrame) -> None:
    """Insert `rows` into the transactions table of a connection made by the store."""
    con.register("incoming", rows)
    con.execute("INSERT INTO transactions BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


@pytest.fixture(scope="module")
def cdnow():
    con = duckdb.connect()
    store.migrate(con)
    load_transactions(con, cdnow_transactions())
    yield con
    con.close()


@pytest.fixture(scope="module")
def cdnow_result(cdnow):
    return clv.compute_clv(cdnow, as_of=HOLDOUT_END, calibration_end=CAL_END)


# ---- the feature SQL ---------------------------------------------------------------------

def test_summary_counts_purchase_days_from_the_first_purchase():
    con = duckdb.connect()
    store.migrate(con)
    rows = pd.DataFrame([
        # two orders on the first day are one purchase day; a refund and a
        # refunded order are not purchases; the 22nd is in the holdout
        ("A", date(2024, 1, 1), 10.0, None), ("A", date(2024, 1, 1), 5.0, None),
        ("A", date(2024, 1, 8), 20.0, "paid"), ("A", date(2024, 1, 9), -20.0, None),
        ("A", date(2024, 1, 15), 30.0, "refunded"), ("A", date(2024, 1, 22), 40.0, None),
        ("A", date(2024, 2, 5), 50.0, None),              # after as_of
        ("B", date(2024, 1, 20), 7.0, None),              # first purchase on the calibration end
        ("C", date(2024, 1, 21), 9.0, None),              # first purchase in the holdout
        ("D", date(2024, 1, 3), -5.0, None),              # only a refund
        ("E", date(2024, 1, 2), 0.0, None), ("E", date(2024, 1, 4), 0.0, None),
    ], columns=["customer_id", "txn_date", "amount", "status"])
    load_transactions(con, rows)
    got = clv_inputs.purchase_summary(con, calibration_end=date(2024, 1, 20),
                                      as_of=date(2024, 1, 31))
    assert list(got.columns) == list(clv_inputs.SUMMARY_COLUMNS)
    assert got["customer_id"].tolist() == ["A", "B", "E"]
    assert got["x"].tolist() == [1, 0, 1]
    assert got["t_x_days"].tolist() == [7, 0, 2]
    assert got["age_days"].tolist() == [19, 0, 18]
    assert got["mean_repeat_spend"].tolist()[0] == 20.0
    assert math.isnan(got["mean_repeat_spend"].tolist()[1])
    assert got["mean_repeat_spend"].tolist()[2] == 0.0
    assert got["holdout_purchase_days"].tolist() == [1, 0, 0]


def test_summary_rejects_an_as_of_before_the_calibration_end(cdnow):
    with pytest.raises(ValueError, match="before calibration_end"):
        clv_inputs.purchase_summary(cdnow, calibration_end=CAL_END, as_of=date(1997, 9, 1))


def test_summary_sql_keeps_to_the_portable_subset():
    sql = clv_inputs.SUMMARY_SQL.lower()
    for construct in ("quantile_cont", "list_", "arg_max", "arg_min", "filter (", "::"):
        assert construct not in sql, construct
    assert "date_diff('day'" in sql and "nullif(x, 0)" in sql


def test_cdnow_summary_from_raw_transactions_matches_the_published_summary(cdnow):
    ours = clv.model_inputs(clv_inputs.purchase_summary(cdnow, calibration_end=CAL_END))
    published = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    assert len(ours) == len(published) == 2357
    assert ours["customer_id"].astype(int).tolist() == published["ID"].tolist()
    assert (ours["x"] == published["x"]).all()
    assert ours["x"].sum() == 2457
    assert np.abs(ours["t_x"] - published["t_x"]).max() < 0.006
    assert np.abs(ours["T"] - published["T"]).max() < 0.006
    repeat = ours["x"] > 0
    assert np.abs(ours["mean_repeat_spend"][repeat] - published["zbar"][repeat]).max() < 0.006


# ---- the published fits -------------------------------------------------------------------

def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_result):
    fit = cdnow_result.bgnbd
    for name, value in PUBLISHED_BGNBD.items():
        assert getattr(fit.params, name) == pytest.approx(value, rel=0.01), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert fit.customers == 2357


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow_result):
    fit = cdnow_result.gamma_gamma
    for name, value in PUBLISHED_GAMMA_GAMMA.items():
        assert getattr(fit.params, name) == pytest.approx(value, rel=0.01), name
    assert fit.customers == 946


def test_fit_in_days_is_the_fit_in_weeks_rescaled(cdnow, cdnow_result):
    by_day = clv.compute_clv(cdnow, as_of=CAL_END, settings=clv.ClvSettings(time_unit="day"))
    weeks, days = cdnow_result.bgnbd.params, by_day.bgnbd.params
    assert days.alpha == pytest.approx(7 * weeks.alpha, rel=1e-4)
    for name in ("r", "a", "b"):
        assert getattr(days, name) == pytest.approx(getattr(weeks, name), rel=1e-4)
    # the density of recency and age changes by a factor 7 per repeat purchase
    assert by_day.bgnbd.log_likelihood == pytest.approx(
        cdnow_result.bgnbd.log_likelihood - 2457 * math.log(7), abs=0.01)
    assert by_day.to_json()["time_unit"] == "day"


def test_analytic_gradients_match_finite_differences(cdnow):
    inputs = clv.model_inputs(clv_inputs.purchase_summary(cdnow, calibration_end=CAL_END))
    x, t_x, T = (inputs[c].to_numpy() for c in ("x", "t_x", "T"))
    z = inputs["mean_repeat_spend"].to_numpy()
    keep = x > 0
    cases = [(_bgnbd_objective(x, t_x, T), np.log([0.3, 5.0, 0.7, 2.0])),
             (_gamma_gamma_objective(x[keep], z[keep]), np.log([5.0, 3.0, 12.0]))]
    for objective, theta in cases:
        _, gradient = objective(theta)
        for j in range(len(theta)):
            step = np.eye(len(theta))[j] * 1e-6
            numeric = (objective(theta + step, False) - objective(theta - step, False)) / 2e-6
            assert gradient[j] == pytest.approx(numeric, rel=1e-5, abs=1e-4)


def test_parameters_are_recovered_from_simulated_customers():
    truth_bg, truth_gg = clv.BgNbd(0.5, 8.0, 0.6, 3.0), clv.GammaGamma(4.0, 5.0, 30.0)
    summary = clv_synthetic.simulate_summary(40_000, bgnbd=truth_bg, gamma_gamma=truth_gg,
                                   max_age_days=700, seed=5)
    inputs = clv.model_inputs(summary)
    for fit, truth in ((clv.fit_bgnbd(inputs), truth_bg), (clv.fit_gamma_gamma(inputs), truth_gg)):
        errors = fit.standard_errors()
        for name, value in truth._asdict().items():
            assert abs(getattr(fit.params, name) - value) < 4 * errors[name] + 0.02 * value, name


# ---- the formulas, by hand ------------------------------------------------------------------

def test_p_alive_by_hand():
    params = clv.BgNbd(r=1.0, alpha=1.0, a=1.0, b=1.0)
    # 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)) = 1 / (1 + 1/2 * (11/5)^3)
    assert clv.p_alive(params, 2, 4, 10) == pytest.approx(1 / (1 + 0.5 * 1331 / 125), rel=1e-12)
    # a customer without a repeat purchase has not had a chance to drop out
    assert clv.p_alive(params, 0, 0, 10) == 1.0
    # bought again at the very end: alive with the odds b+x-1 : a ... times 1
    assert clv.p_alive(clv.BgNbd(0.5, 2.0, 2.0, 3.0), 3, 6, 6) == pytest.approx(5 / 7)


def test_conditional_expectation_by_hand():
    # x = 0, T = 0, r = alpha = 1, a = 2, b = 1, t = 1: alive for sure, lambda ~ exp(1),
    # p ~ beta(2, 1) with density 2p, and E[Y(t) | lambda, p] = (1 - e^(-lambda p t)) / p,
    # so E = int_0^1 (1 - 1/(1+p)) / p * 2p dp = 2 int_0^1 p/(1+p) dp = 2 (1 - ln 2).
    params = clv.BgNbd(r=1.0, alpha=1.0, a=2.0, b=1.0)
    assert clv.conditional_expected_purchases(params, 1.0, 0, 0, 0) == pytest.approx(
        2 * (1 - math.log(2)), rel=1e-10)
    # x = 1, t_x = T = 1, t = 2: P(alive) = 1/(1 + 2/1 * 1) = 1/3; given alive,
    # lambda ~ gamma(2, 2) and p ~ beta(2, 2), so E = 1/3 * int_0^1 6p(1-p) (2+p)/(1+p)^2 dp
    # = 1/3 * 6 (ln 2 - 1/2).
    assert clv.conditional_expected_purchases(params, 2.0, 1, 1, 1) == pytest.approx(
        2 * (math.log(2) - 0.5), rel=1e-10)


def test_conditional_expectation_matches_direct_integration(cdnow_result):
    # Given alive at T, lambda ~ gamma(r+x, alpha+T) and p ~ beta(a, b+x); integrating
    # lambda out leaves one integral over p, with no hypergeometric function.
    params = cdnow_result.bgnbd.params
    r, alpha, a, b = params
    for x, t_x, T, t in [(0, 0, 38.86, 39), (2, 30.43, 38.86, 39), (7, 35.0, 38.0, 52.18),
                         (29, 38.43, 38.86, 52.18), (1, 1.71, 38.86, 12.86), (300, 100, 104, 52)]:
        def integrand(p):
            alive = (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p
            return alive * np.exp((a - 1) * np.log(p) + (b + x - 1) * np.log1p(-p)
                                  - special.betaln(a, b + x))
        direct = integrate.quad(integrand, 0, 1, points=[1e-6, 1e-3, 0.1], limit=200)[0]
        expected = clv.p_alive(params, x, t_x, T) * direct
        assert clv.conditional_expected_purchases(params, t, x, t_x, T) == pytest.approx(
            expected, rel=1e-7), (x, t_x, T, t)


def test_conditional_expectation_with_a_dropout_prior_of_large_a_and_b():
    # The fit of the million-customer demo: almost nobody drops out, p ~ beta(6074, 983677)
    # is narrow around 0.006. scipy's 2F1 of Euler's form is NaN there; the figures must
    # still be the integral over p (on the few standard deviations where beta has mass).
    params = clv.BgNbd(r=0.7128203707794775, alpha=3.17287047737583, a=6074.116632772268,
                       b=983677.1748074929)
    r, alpha, a, b = params
    month = 365.25 / 12 / 7
    for x, t_x, T, t in [(8, 90.0, 96.14, month), (8, 90.0, 96.14, 12 * month),
                         (2, 40.0, 90.86, 12 * month), (0, 0.0, 31.43, 12 * month),
                         (114, 99.0, 100.0, 3 * month)]:
        mean = a / (a + b + x)
        sd = math.sqrt(mean * (1 - mean) / (a + b + x + 1))

        def integrand(p):
            alive = (1 - ((alpha + T) / (alpha + T + p * t)) ** (r + x)) / p
            return alive * np.exp((a - 1) * np.log(p) + (b + x - 1) * np.log1p(-p)
                                  - special.betaln(a, b + x))
        direct = integrate.quad(integrand, mean - 15 * sd, mean + 15 * sd, limit=200)[0]
        expected = clv.p_alive(params, x, t_x, T) * direct
        assert clv.conditional_expected_purchases(params, t, x, t_x, T) == pytest.approx(
            expected, rel=1e-7), (x, t_x, T, t)


def test_expected_spend_shrinks_towards_the_base_mean():
    params = clv.GammaGamma(p=6.0, q=4.0, gamma=15.0)
    # no repeat purchase: the base mean p gamma / (q - 1) = 30
    assert clv.expected_spend(params, 0, np.nan) == pytest.approx(30.0)
    # two repeat purchases averaging 50: 6 (15 + 100) / (12 + 3) = 46
    assert clv.expected_spend(params, 2, 50.0) == pytest.approx(46.0)


def test_clv_is_spend_times_monthly_discounted_purchases(cdnow, cdnow_result):
    inputs = clv.model_inputs(clv_inputs.purchase_summary(
        cdnow, calibration_end=HOLDOUT_END)).iloc[:25]
    settings = clv.ClvSettings()
    got = clv.predict_customers(inputs, cdnow_result.bgnbd, cdnow_result.gamma_gamma, settings)
    params = cdnow_result.bgnbd.params
    x, t_x, T = inputs["x"], inputs["t_x"], inputs["T"]
    month = 365.25 / 12 / 7
    cumulative = [clv.conditional_expected_purchases(params, m * month, x, t_x, T)
                  for m in range(13)]
    discounted = sum((cumulative[m] - cumulative[m - 1]) / 1.1 ** (m / 12) for m in range(1, 13))
    spend = clv.expected_spend(cdnow_result.gamma_gamma.params, x, inputs["mean_repeat_spend"])
    assert np.allclose(got["clv_12m"], spend * discounted, rtol=1e-9)
    assert np.allclose(got["expected_purchases_12m"], cumulative[12], rtol=1e-9)
    assert np.allclose(got["expected_purchases_90d"],
                       clv.conditional_expected_purchases(params, 90 / 7, x, t_x, T), rtol=1e-9)
    assert (got["clv_12m_low"] < got["clv_12m"]).all() and (got["clv_12m"] < got["clv_12m_high"]).all()
    undiscounted = clv.predict_customers(inputs, cdnow_result.bgnbd, cdnow_result.gamma_gamma,
                                         clv.ClvSettings(annual_discount_rate=0.0))
    assert np.allclose(undiscounted["clv_12m"], spend * cumulative[12], rtol=1e-9)


def test_band_agrees_with_draws_of_the_parameters(cdnow, cdnow_result):
    # The delta-method band against the quantiles of CLV over parameter draws
    # from the same asymptotic normal distribution (of the log parameters).
    inputs = clv.model_inputs(clv_inputs.purchase_summary(
        cdnow, calibration_end=HOLDOUT_END)).iloc[::40]
    bg, gg = cdnow_result.bgnbd, cdnow_result.gamma_gamma
    band = clv.predict_customers(inputs, bg, gg)
    rng = np.random.default_rng(3)
    draws = zip(rng.multivariate_normal(np.log(bg.params), bg.covariance, 300),
                rng.multivariate_normal(np.log(gg.params), gg.covariance, 300))
    values = np.array([clv.predict_customers(
        inputs, clv.Fit(clv.BgNbd(*np.exp(b)), 0.0, bg.covariance, 0),
        clv.Fit(clv.GammaGamma(*np.exp(g)), 0.0, gg.covariance, 0))["clv_12m"] for b, g in draws])
    low, high = np.quantile(values, [0.025, 0.975], axis=0)
    assert np.median(np.abs(band["clv_12m_low"] / low - 1)) < 0.02
    assert np.median(np.abs(band["clv_12m_high"] / high - 1)) < 0.02


# ---- the holdout check ---------------------------------------------------------------------

def test_holdout_check_on_cdnow(cdnow_result):
    raw = cdnow_transactions()
    holdout_days = raw[raw["txn_date"] > CAL_END].drop_duplicates(["customer_id", "txn_date"])
    assert len(holdout_days) == 1882     # every CDNOW customer first bought in 1997 Q1
    assert cdnow_result.holdout == {"start": "1997-10-01", "end": "1998-06-30",
                                    "actual": 1882, "predicted": pytest.approx(1653.4, abs=0.5)}
    table = cdnow_result.holdout_frequency
    assert table["label"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].tolist() == [1411, 439, 214, 100, 62, 38, 29, 64]
    assert table["actual_mean"].round(3).tolist() == [
        0.237, 0.697, 1.393, 1.560, 2.532, 2.947, 3.862, 6.359]
    assert table["predicted_mean"].is_monotonic_increasing
    assert (table["predicted_mean"] / table["actual_mean"]).between(0.7, 1.1).all()


# ---- honest failure ------------------------------------------------------------------------

def test_too_few_repeat_buyers_give_no_figures():
    summary = clv_synthetic.simulate_summary(40, seed=3)
    with pytest.raises(clv.ClvUnavailable) as caught:
        clv.fit_and_predict(summary, calibration_end=date(2024, 1, 1))
    assert caught.value.code == "too_few_repeat_buyers"
    assert "need at least 30" in str(caught.value)
    assert "至少需要 30" in caught.value.message("zh")


def test_no_customers_give_no_figures(cdnow):
    with pytest.raises(clv.ClvUnavailable, match="No customer has a purchase on or before 1996"):
        clv.compute_clv(cdnow, as_of=date(1996, 12, 31))


def test_a_parameter_at_its_bound_gives_no_figures():
    # Every customer buys every two weeks and is still buying: no spread in
    # the purchase rates, so r and alpha run off to infinity.
    rng = np.random.default_rng(0)
    age = rng.integers(50, 400, 400)
    summary = pd.DataFrame({"customer_id": np.arange(400).astype(str), "x": age // 14,
                            "t_x_days": age - rng.integers(0, 3, 400), "age_days": age,
                            "mean_repeat_spend": rng.gamma(5, 10, 400),
                            "holdout_purchase_days": 0})
    with pytest.raises(clv.ClvUnavailable) as caught:
        clv.fit_and_predict(summary, calibration_end=date(2024, 1, 1))
    assert caught.value.code == "at_bound"
    assert caught.value.params["model"] == "BG/NBD"


def test_spend_without_a_finite_mean_gives_purchases_but_no_spend_or_clv():
    summary = clv_synthetic.simulate_summary(5000, gamma_gamma=clv.GammaGamma(6, 0.8, 15), seed=3)
    result = clv.fit_and_predict(summary, calibration_end=date(2024, 1, 1))
    assert result.partial and result.gamma_gamma is None
    assert result.spend_error.code == "spend_mean_not_finite"
    assert "no finite mean spend" in result.spend_error.message("en")
    assert "无法给出有限的平均消费" in result.spend_error.message("zh")
    customers = result.customers
    assert list(customers.columns) == list(clv.ClvSettings().columns)
    assert len(customers) == 5000
    # the purchase model stands: the same figures as from BG/NBD alone
    alone = clv.predict_customers(clv.model_inputs(summary), result.bgnbd, None)
    pd.testing.assert_frame_equal(customers, alone)
    inputs = clv.model_inputs(summary)
    assert np.allclose(customers["p_alive"], clv.p_alive(result.bgnbd.params, inputs["x"],
                                                         inputs["t_x"], inputs["T"]))
    assert customers["expected_purchases_12m"].gt(0).all()
    for column in ("expected_spend", "clv_12m", "clv_12m_low", "clv_12m_high"):
        assert customers[column].isna().all(), column
    doc = result.to_json()
    assert doc["gamma_gamma"] is None
    assert doc["spend_error"]["code"] == "spend_mean_not_finite"
    assert doc["bgnbd"]["r"] > 0


def test_spend_predictions_that_are_not_finite_give_a_partial_result(monkeypatch):
    summary = clv_synthetic.simulate_summary(3000, seed=4)
    monkeypatch.setattr(prediction, "expected_spend",
                        lambda params, x, z: np.full(len(np.asarray(x)), np.inf))
    result = clv.fit_and_predict(summary, calibration_end=date(2024, 1, 1))
    assert result.spend_error.code == "not_finite"
    assert result.spend_error.params["model"] == "Gamma-Gamma"
    assert result.customers["clv_12m"].isna().all()
    assert result.customers["p_alive"].between(0, 1).all()


def test_purchase_model_failure_still_gives_no_figures_at_all():
    # BG/NBD is the base of every figure: when it fails there is no partial result
    summary = clv_synthetic.simulate_summary(40, gamma_gamma=clv.GammaGamma(6, 0.8, 15), seed=3)
    with pytest.raises(clv.ClvUnavailable) as caught:
        clv.fit_and_predict(summary, calibration_end=date(2024, 1, 1))
    assert caught.value.code == "too_few_repeat_buyers"


def test_unavailable_survives_pickling_with_its_code_and_parameters():
    import pickle
    error = clv.ClvUnavailable("at_bound", model="BG/NBD", parameter="b", value="1e+06")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.params) == (error.code, error.params)
    assert copy.message("zh") == error.message("zh") and str(copy) == str(error)


def test_every_error_code_has_a_message():
    from engine import i18n
    codes = {"no_customers", "too_few_repeat_buyers", "too_few_spending_repeat_buyers",
             "no_convergence", "at_bound", "not_identified", "spend_mean_not_finite",
             "not_finite"}
    assert {k.removeprefix("clv.error.") for k in i18n.catalogue()
            if k.startswith("clv.error.")} == codes


# ---- settings --------------------------------------------------------------------------------

def test_settings_are_documented_and_validated():
    defaults = clv.setting_help()
    assert {name: default for name, (default, _) in defaults.items()} == {
        "annual_discount_rate": 0.10, "time_unit": "week", "horizon_months": 12,
        "short_horizon_days": 90, "band_level": 0.95, "min_repeat_buyers": 30}
    assert all(len(text) > 20 for _, text in defaults.values())
    assert [f.name for f in fields(clv.ClvSettings)] == list(defaults)
    with pytest.raises(ValueError, match="time_unit"):
        clv.ClvSettings(time_unit="month")
    assert clv.ClvSettings().columns == (
        "customer_id", "p_alive", "expected_purchases_90d", "expected_purchases_12m",
        "expected_spend", "clv_12m", "clv_12m_low", "clv_12m_high")
    assert clv.ClvSettings(horizon_months=6).columns[5] == "clv_6m"


# ---- command line ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cdnow_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clv") / "cdnow.duckdb"
    with store.connect(path) as con:
        load_transactions(con, cdnow_transactions())
    return path


def test_cli_writes_the_csv_and_the_json(cdnow_file, tmp_path, capsys):
    out, doc = tmp_path / "clv.csv", tmp_path / "clv.json"
    code = main(["clv", "--db", str(cdnow_file), "--calibration-end", "1997-09-30",
                 "--out", str(out), "--json", str(doc)])
    assert code == 0
    assert "2,357 customers" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"\xef\xbb\xbfcustomer_id,p_alive,")
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"customer_id": str})
    assert list(table.columns) == list(clv.ClvSettings().columns)
    assert len(table) == 2357 and table["p_alive"].between(0, 1).all()
    written = json.loads(doc.read_text(encoding="utf-8"))
    assert set(written) == {"time_unit", "customers", "bgnbd", "gamma_gamma", "spend_error",
                            "mean_p_alive", "holdout"}
    assert written["spend_error"] is None
    assert written["gamma_gamma"]["customers"] == 946
    assert written["time_unit"] == "week" and written["customers"] == 2357
    assert written["bgnbd"]["r"] == pytest.approx(0.243, rel=0.01)
    assert written["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert written["gamma_gamma"]["gamma"] == pytest.approx(15.44, rel=0.01)
    assert 0 < written["mean_p_alive"] < 1
    # the as-of date defaults to the latest event date
    assert written["holdout"]["start"] == "1997-10-01"
    assert written["holdout"]["end"] == "1998-06-30"
    assert written["holdout"]["actual"] == 1882


def test_cli_without_holdout_writes_null(cdnow_file, tmp_path):
    doc = tmp_path / "clv.json"
    assert main(["clv", "--db", str(cdnow_file), "--as-of", "1997-09-30",
                 "--time-unit", "day", "--json", str(doc)]) == 0
    written = json.loads(doc.read_text(encoding="utf-8"))
    assert written["holdout"] is None and written["time_unit"] == "day"


@pytest.mark.parametrize("option", ["--as-of", "--calibration-end"])
def test_cli_refuses_a_date_it_cannot_read_as_the_other_commands_do(cdnow_file, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["clv", "--db", str(cdnow_file), option, "1997-13-01"])
    assert exc.value.code == 2
    assert "expected a date as YYYY-MM-DD, got '1997-13-01'" in capsys.readouterr().err


def test_cli_rejects_input_it_cannot_use(cdnow_file, tmp_path, capsys):
    assert main(["clv", "--db", str(tmp_path / "missing.duckdb")]) == 1
    assert "no such database file" in capsys.readouterr().err
    assert main(["clv", "--db", str(cdnow_file), "--as-of", "1997-06-30",
                 "--calibration-end", "1997-09-30"]) == 2    # flags at odds: a usage error
    assert "after the as-of date" in capsys.readouterr().err
    assert main(["clv", "--db", str(cdnow_file), "--as-of", "1997-01-02"]) == 1
    assert "bought again" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["clv", "--db", str(cdnow_file), "--as-of", "1997-13-01"])
    assert usage.value.code == 2


def test_benchmark_times_each_step(cdnow):
    timings = clv_synthetic.benchmark(cdnow, as_of=HOLDOUT_END, calibration_end=CAL_END)
    assert timings["customers"] == timings["predicted"] == 2357
    assert timings["repeat_buyers"] == 946 and timings["spend_redrawn"] is False
    assert timings["sql_s"] > 0 and timings["fit_predict_s"] > 0


@pytest.mark.parametrize("calibration_end", [None, date(2025, 12, 31)])
def test_demo_data_give_full_figures_with_and_without_a_holdout(demo_db, calibration_end):
    # The demo's customers spend around a customer-level mean with a heavy
    # but finite spread, and drop out at random times: both models fit,
    # inside their bounds, and the spend model has a finite mean (q > 1).
    with store.connect(demo_db) as con:
        as_of = store.date_range(con)[1]
        result = clv.compute_clv(con, as_of=as_of, calibration_end=calibration_end)
    assert result.spend_error is None
    assert 1.5 < result.gamma_gamma.params.q < 10
    low, high = PARAMETER_BOUNDS
    for value in (*result.bgnbd.params, *result.gamma_gamma.params):
        assert low * 10 < value < high / 10
    assert result.customers["clv_12m"].notna().all()
    assert (result.holdout is None) == (calibration_end is None)
    if calibration_end is not None:
        assert result.holdout["actual"] > 0
        assert 0.5 < result.holdout["predicted"] / result.holdout["actual"] < 2


def test_cli_on_spend_without_a_finite_mean_writes_purchases_and_says_why(
        demo_db, tmp_path, capsys):
    db = heavy_spend_copy(demo_db, tmp_path / "heavy.duckdb")
    out, doc = tmp_path / "clv.csv", tmp_path / "clv.json"
    assert main(["clv", "--db", str(db), "--out", str(out), "--json", str(doc)]) == 0
    said = capsys.readouterr()
    assert "Gamma-Gamma not fitted (spend_mean_not_finite)" in said.out
    assert "12-month CLV not available" in said.out
    assert "expected_spend and clv_12m are left empty" in said.err
    assert "no finite mean spend" in said.err
    written = json.loads(doc.read_text(encoding="utf-8"))
    assert written["gamma_gamma"] is None
    assert written["spend_error"]["code"] == "spend_mean_not_finite"
    assert written["bgnbd"]["r"] > 0
    lines = out.read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[0] == ",".join(clv.ClvSettings().columns)
    first = lines[1].split(",")
    assert 0 < float(first[1]) <= 1 and float(first[3]) > 0     # p_alive, purchases 12m
    assert first[4:] == ["", "", "", ""]                          # spend and CLV empty


def test_benchmark_redraws_spend_without_a_finite_mean(demo_db, tmp_path):
    db = heavy_spend_copy(demo_db, tmp_path / "heavy.duckdb")
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        timings = clv_synthetic.benchmark(con, as_of=as_of)
    assert timings["spend_redrawn"] is True and timings["predicted"] == timings["customers"]


# ---- the scorecard's lifetime columns (engine score) ------------------------------------

def read_scorecard(path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": str},
                       keep_default_na=False, na_values=[""])


def test_score_command_adds_p_alive_and_clv(demo_db, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["score", "--db", str(demo_db), "--out", str(out)]) == 0
    assert capsys.readouterr().err == ""
    card = read_scorecard(out)
    assert list(card.columns[-2:]) == ["p_alive", "clv_12m"]
    with store.connect(demo_db) as con:
        expected = clv.compute_clv(con, as_of=store.date_range(con)[1]).customers
    merged = card.merge(expected, on="customer_id", how="left", suffixes=("", "_model"))
    buyers = merged["p_alive_model"].notna()
    assert buyers.sum() == len(expected) and (~buyers).sum() > 0   # prospects bought nothing
    assert np.allclose(merged.loc[buyers, "p_alive"], merged.loc[buyers, "p_alive_model"],
                       atol=5e-7)
    assert np.allclose(merged.loc[buyers, "clv_12m"], merged.loc[buyers, "clv_12m_model"],
                       atol=0.005)
    assert merged.loc[~buyers, ["p_alive", "clv_12m"]].isna().all().all()


def test_score_command_leaves_clv_empty_when_the_spend_model_fails(demo_db, tmp_path, capsys):
    db = heavy_spend_copy(demo_db, tmp_path / "heavy.duckdb")
    out = tmp_path / "scores.csv"
    assert main(["score", "--db", str(db), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "clv_12m is left empty: Spend per purchase varies too much" in err
    card = read_scorecard(out)
    assert card["clv_12m"].isna().all()
    assert card["p_alive"].notna().sum() > 300 and card["p_alive"].dropna().between(0, 1).all()


def test_small_data_counts_repeat_buyers_and_ranks_the_past():
    """Four customers: A bought on 3 days (revenue 300), B on 1 (500), C on 2 (300), D never;
    repeat buyers A and C; past value by revenue, then purchase days, then id."""
    features = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D"], "name": ["a", "b", "c", "d"],
        "revenue_12m": [300.0, 500.0, 300.0, 0.0], "purchase_days": [3, 1, 2, 0],
        "first_purchase_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01", None]),
        "last_purchase_date": pd.to_datetime(["2024-06-01", "2024-03-01", "2024-05-01", None]),
        "days_since_last_purchase": [29, 121, 60, None]})
    facts = clv_page.small_data(features, clv.ClvSettings(min_repeat_buyers=5))
    assert (facts["buyers"], facts["repeat_buyers"], facts["needed"]) == (3, 2, 5)
    assert facts["past"]["customer_id"].tolist() == ["B", "A", "C"]
    assert facts["purchase_days"].values.tolist() == [[1, 1], [2, 1], [3, 1]]


# ---- kept in the file (engine.prepared.clv_fit) ---------------------------------------------

def through_the_file(value):
    """What engine.prepared keeps of a fit and reads back: its parts, as stored bytes."""
    from engine import derived
    from engine.clv.compute import from_parts, result_parts
    return from_parts(derived.decode(derived.encode(result_parts(value))))


def test_a_fit_with_its_holdout_comes_back_from_the_file_whole(cdnow_result):
    assert cdnow_result.holdout is not None
    assert_same_clv(through_the_file(cdnow_result), cdnow_result)


def test_a_partial_fit_comes_back_from_the_file_with_its_reason():
    summary = clv_synthetic.simulate_summary(3000, gamma_gamma=clv.GammaGamma(6, 0.8, 15), seed=3)
    result = clv.fit_and_predict(summary, calibration_end=date(2024, 1, 1),
                                 settings=clv.ClvSettings(time_unit="day", horizon_months=6))
    assert result.partial
    back = through_the_file(result)
    assert back.partial and back.spend_error.code == "spend_mean_not_finite"
    assert_same_clv(back, result)


def test_no_fit_comes_back_from_the_file_as_its_reason():
    back = through_the_file(clv.ClvUnavailable("too_few_repeat_buyers", found=12, needed=30))
    assert isinstance(back, clv.ClvUnavailable)
    assert (back.code, back.params) == ("too_few_repeat_buyers", {"found": "12", "needed": "30"})
