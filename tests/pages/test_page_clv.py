"""The Lifetime value page shows the engine's figures, in the reader's language, and says why
when the data do not support them."""
import json
from datetime import date

import pandas as pd
import pytest

from engine import clv, clv_page, scoring, store
from engine.features import customer_features, optional_columns_present
from engine.scoring_settings import DEFAULT_SETTINGS
from tests.conftest import ROOT, open_page
from tests.helpers import plotly_list as values
from tests.helpers import heavy_spend_copy
from tests.helpers import column_formats
from ui.data import clv as clv_data
from ui.format import money

HOLDOUT_START = date(2025, 12, 31)   # the default: six month ends before the as-of date


def engine_result(db, calibration_end=None) -> clv.ClvResult:
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        return clv.compute_clv(con, as_of=as_of, calibration_end=calibration_end)


def engine_lenses(db) -> pd.DataFrame:
    """The modelled customers with tier, pyramid level, revenue and its rank (default weights)."""
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
    levels = scoring.pyramid(features)
    lenses = pd.DataFrame({"customer_id": features["customer_id"],
                           "tier": scoring.score_customers(features, available=available)["tier"],
                           "pyramid": levels["pyramid"], "revenue_12m": levels["revenue_12m"],
                           "revenue_rank": levels["revenue_rank"]})
    return clv_page.with_lenses(engine_result(db).customers, lenses), len(features)


def chart(at, trace_name):
    """The spec of the first Plotly chart with a trace named `trace_name`."""
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if any(trace.get("name") == trace_name for trace in spec["data"]):
            return spec
    raise AssertionError(f"no chart with a trace {trace_name!r}")


@pytest.fixture
def heavy_db(demo_db, tmp_path, monkeypatch):
    """The demo with customers' spends spread over five orders of magnitude: no spend model."""
    path = heavy_spend_copy(demo_db, tmp_path / "heavy.duckdb")
    monkeypatch.setenv("CRM_DB", str(path))
    return path


def test_headline_figures_are_the_engines(app_db):
    result = engine_result(app_db)
    customers = result.customers
    at = open_page("clv", "en")
    assert not at.exception
    assert at.title[0].value == "Customer lifetime value"
    cards = {m.label: m.value for m in at.metric}
    assert cards["Customers modelled"] == f"{len(customers):,}"
    assert cards["Mean P(alive)"] == f"{customers['p_alive'].mean():.1%}"
    assert cards["Expected purchases (12 m)"] == f"{customers['expected_purchases_12m'].sum():,.0f}"
    assert cards["12-month CLV"] == money(customers["clv_12m"].sum(), "en", "¥")
    assert not at.main.warning and not at.error   # the sidebar warns that no login is set
    assert any(f"from the purchase history of {len(customers):,} customers" in c.value
               for c in at.caption)


def test_distribution_by_tier_and_by_pyramid_level(app_db):
    table, _ = engine_lenses(app_db)
    at = open_page("clv", "en")
    groups = at.dataframe[0].value
    assert groups["key"].tolist() == ["High value", "Potential", "Ordinary"]
    by_tier = table.groupby("tier", observed=False)
    expected = pd.DataFrame({"customers": by_tier.size(), "p_alive": by_tier["p_alive"].mean(),
                             "clv": by_tier["clv_12m"].sum(min_count=1)})
    assert groups["customers"].tolist() == expected["customers"].tolist()
    assert expected["customers"].sum() == len(table)
    # a tier without customers (no high-value customer in this small base) shows no figures
    assert groups["p_alive_mean"].tolist() == pytest.approx((expected["p_alive"] * 100).tolist(),
                                                            nan_ok=True)    # in points
    assert groups["clv_12m_share"].tolist() == pytest.approx(
        (expected["clv"] / expected["clv"].sum() * 100).tolist(), nan_ok=True)
    assert {c: column_formats(at.dataframe[0])[c] for c in ("customers", "p_alive_mean",
                                                            "clv_12m_share")} == {
        "customers": "localized", "p_alive_mean": "%.1f%%", "clv_12m_share": "%.1f%%"}
    assert groups["clv_12m_sum"].tolist() == pytest.approx(expected["clv"].tolist(), nan_ok=True)
    boxes = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert boxes["type"] == "box"
    assert boxes["x"] == [k for k, n in zip(["High value", "Potential", "Ordinary"],
                                            expected["customers"]) if n]
    assert values(boxes["median"]) == pytest.approx(
        table.groupby("tier", observed=True)["p_alive"].median().tolist())

    at.radio(key="clv.lens").set_value("pyramid").run()
    groups = at.dataframe[0].value
    assert groups["key"].tolist() == ["Platinum", "Gold", "Iron", "Lead"]
    by_level = table["pyramid"].value_counts()
    assert groups["customers"].tolist() == [by_level.get(level, 0)
                                            for level in scoring.PYRAMID_LEVELS]


def test_segments_are_a_lens(app_db):
    at = open_page("clv", "en")
    assert at.radio(key="clv.lens").options == ["Value tier", "Segment", "Pyramid level"]
    at.radio(key="clv.lens").set_value("segment").run()
    assert not at.exception
    groups = at.dataframe[0].value
    assert groups["customers"].sum() == len(engine_result(app_db).customers)
    assert all(" · " in key for key in groups["key"])      # "1 · big spenders, ..."


def test_top_customers_by_clv_with_their_band(app_db):
    customers = engine_result(app_db).customers
    expected = customers.sort_values(["clv_12m", "customer_id"], ascending=[False, True]).head(20)
    at = open_page("clv", "en")
    top = at.dataframe[1].value
    assert top["customer_id"].tolist() == expected["customer_id"].tolist()
    assert top["clv_12m"].tolist() == pytest.approx(expected["clv_12m"].tolist())
    assert top["p_alive"].tolist() == pytest.approx((expected["p_alive"] * 100).tolist())
    assert column_formats(at.dataframe[1])["p_alive"] == "%.1f%%"
    bar = json.loads(at.get("plotly_chart")[2].proto.spec)["data"][0]
    assert bar["orientation"] == "h" and len(bar["y"]) == 20
    assert bar["y"][-1].startswith(expected["customer_id"].iloc[0] + " · ")   # largest on top
    assert "error_x" in bar
    assert any("95% band" in c.value for c in at.caption)
    at.slider(key="clv.top").set_value(10).run()
    assert len(at.dataframe[1].value) == 10


def test_valuable_and_slipping_follow_the_sliders(app_db):
    table, base = engine_lenses(app_db)

    def expected(share, p_alive):
        rows = table[(table["revenue_rank"] <= share * base) & (table["revenue_12m"] > 0)
                     & (table["p_alive"] < p_alive)]
        return rows.sort_values(["revenue_12m", "customer_id"], ascending=[False, True])

    at = open_page("clv", "en")
    found = expected(0.2, 0.5)
    assert 0 < len(found)
    assert any(f"**{len(found):,}** customers are in the top 20% by 12-month revenue and have "
               f"a P(alive) below 50%." in m.value for m in at.markdown)
    assert at.dataframe[2].value["customer_id"].tolist() == found["customer_id"].tolist()
    at.slider(key="clv.slip.share").set_value(40).run()
    at.slider(key="clv.slip.alive").set_value(90).run()
    found = expected(0.4, 0.9)
    assert any(f"**{len(found):,}** customers are in the top 40%" in m.value for m in at.markdown)
    assert at.dataframe[2].value["customer_id"].tolist() == found["customer_id"].tolist()


def test_holdout_chart_and_totals_with_a_calibration_end_picker(app_db):
    result = engine_result(app_db, HOLDOUT_START)
    holdout, table = result.holdout, result.holdout_frequency
    at = open_page("clv", "en")
    picker = at.date_input(key="clv.calibration_end:2026-06-30")
    assert picker.value == HOLDOUT_START
    assert any(f"From 2026-01-01 to 2026-06-30 the customers fitted on made "
               f"**{holdout['actual']:,}** purchase days; the models predicted "
               f"**{holdout['predicted']:,.0f}**." in m.value for m in at.markdown)
    spec = chart(at, "Actual")
    actual, predicted = spec["data"]
    assert actual["x"] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert values(actual["y"]) == pytest.approx(table["actual_mean"].tolist())
    assert predicted["name"] == "Predicted"
    assert values(predicted["y"]) == pytest.approx(table["predicted_mean"].tolist())

    picker.set_value(date(2026, 3, 31)).run()
    later = engine_result(app_db, date(2026, 3, 31)).holdout
    assert any(f"From 2026-04-01 to 2026-06-30 the customers fitted on made "
               f"**{later['actual']:,}** purchase days" in m.value for m in at.markdown)


def test_fitted_parameters_in_an_expander(app_db):
    result = engine_result(app_db)
    at = open_page("clv", "en")
    assert at.expander[0].label == "Fitted parameters"
    params = at.dataframe[3].value
    assert params["parameter"].tolist() == ["r", "alpha", "a", "b", "p", "q", "gamma"]
    assert params["value"].tolist() == pytest.approx([*result.bgnbd.params,
                                                      *result.gamma_gamma.params])
    assert any("per week" in c.value for c in at.caption)


def test_chinese_labels(app_db):
    result = engine_result(app_db)
    at = open_page("clv", "zh")
    assert not at.exception
    assert at.title[0].value == "客户终身价值"
    cards = {m.label: m.value for m in at.metric}
    assert cards["建模客户数"] == f"{len(result.customers):,}"
    assert cards["12个月终身价值"] == money(result.customers["clv_12m"].sum(), "zh", "¥")
    assert {"按分组看存活概率和终身价值", "12个月终身价值最高的客户", "高价值但可能流失",
            "留出期检验"} <= {h.value for h in at.subheader}
    assert at.dataframe[0].value["key"].tolist() == ["高价值", "潜力", "普通"]
    assert any("参与拟合的客户实际购买" in m.value for m in at.markdown)
    assert chart(at, "实际")["data"][1]["name"] == "预测"


@pytest.mark.parametrize("lang, warning, reason, empty", [
    ("en", "Expected spend and lifetime value are left empty", "no finite mean spend",
     "No lifetime values without the spend model"),
    ("zh", "预计消费金额和终身价值留空", "无法给出有限的平均消费", "没有消费金额模型就没有终身价值"),
])
def test_partial_result_when_the_spend_model_fails(heavy_db, lang, warning, reason, empty):
    result = engine_result(heavy_db)
    assert result.partial
    at = open_page("clv", lang)
    assert not at.exception
    said = at.warning[0].value
    assert warning in said and reason in said
    cards = [m.value for m in at.metric]
    assert cards[0] == f"{len(result.customers):,}"
    assert cards[1] == f"{result.customers['p_alive'].mean():.1%}"
    assert cards[3] == "—"
    assert sum(empty in i.value for i in at.info) == 2      # CLV chart and top customers
    # P(alive) by group and the holdout check still show; no CLV columns anywhere
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]["type"] == "box"
    assert len(at.get("plotly_chart")) == 2
    for frame in at.dataframe:
        assert not {"clv_12m", "clv_12m_sum", "expected_spend"} & set(frame.value.columns)
    params = at.dataframe[-1].value
    assert params["model"].unique().tolist() == ["BG/NBD"]


def test_too_few_repeat_buyers_explained_with_what_the_data_still_show(work_db):
    """20 customers keep their purchases: the page says how many repeat buyers there are
    against the 30 needed, shows each buyer's past value and recency, how often they bought,
    and what to do; no lifetime figures."""
    with store.write(work_db) as con:
        con.execute("DELETE FROM transactions WHERE customer_id > 'C000020'")
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
    days = pd.to_numeric(features["purchase_days"]).fillna(0)
    buyers, repeat = int((days > 0).sum()), int((days >= 2).sum())
    assert repeat < 30
    at = open_page("clv", "en")
    assert not at.exception
    warning = at.warning[0].value
    assert (f"Of the {buyers:,} customers who bought, {repeat:,} bought on more than one day; "
            f"the models need at least 30. That is {30 - repeat:,} too few") in warning
    assert at.caption[0].value.startswith("No lifetime values for this date: Only ")
    cards = {m.label: (m.value, m.proto.delta) for m in at.metric}
    assert cards["Repeat buyers"] == (f"{repeat:,}", "models need ≥ 30")
    assert cards["Customers who bought"][0] == f"{buyers:,}"
    assert not any(label.startswith("CLV") for label in cards)
    assert "Import more purchase history" in next(m.value for m in at.markdown
                                                 if "**Data**" in m.value)
    past = at.dataframe[0].value
    bought = features[days.to_numpy() > 0].sort_values(
        ["revenue_12m", "purchase_days", "customer_id"], ascending=[False, False, True])
    assert past["customer_id"].tolist() == bought["customer_id"].tolist()
    history = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert sum(values(history["y"])) == buyers
    at = open_page("clv", "zh")
    assert at.warning[0].value.startswith("客户终身价值模型需要从复购客户身上学习")
    assert at.caption[0].value.startswith("该日期无法给出客户终身价值：只有 ")


def test_sample_data_fit_that_does_not_settle_is_explained(tmp_path, monkeypatch):
    """The sample files: 74 of 79 buyers bought again, above the minimum, yet the BG/NBD fit
    is flat; the page says so in words and still lists the buyers."""
    import cli.main as cli
    db = tmp_path / "samples.duckdb"
    samples = ROOT / "data" / "samples"
    for table, files in (("customers", ["customers.csv"]),
                         ("transactions", ["transactions.csv", "transactions.xlsx"])):
        assert cli.main(["import", "--db", str(db), "--table", table,
                         *[str(samples / f) for f in files]]) == 0
    monkeypatch.setenv("CRM_DB", str(db))
    at = open_page("clv", "en")
    assert not at.exception
    warning = at.warning[0].value
    assert "Of the 79 customers who bought, 74 bought on more than one day" in warning
    assert "That is above the minimum, yet the fit did not settle" in warning
    assert "not a proper maximum" in at.caption[0].value
    assert len(at.dataframe[0].value) == 79


def test_download_files_hold_every_modelled_customer_in_the_readers_words(app_db):
    result = engine_result(app_db)
    with store.connect(app_db) as con:
        as_of = store.date_range(con)[1]
    version = store.data_version(str(app_db))
    csv = clv_data.clv_file(str(app_db), version, as_of, DEFAULT_SETTINGS, "zh", "csv")
    assert csv.startswith("\ufeff客户编号,客户名称,价值分级,客户分群,金字塔层级".encode("utf-8"))
    table = pd.read_csv(pd.io.common.BytesIO(csv), encoding="utf-8-sig", dtype={"客户编号": str})
    assert len(table) == len(result.customers)
    assert table["12个月终身价值"].sum() == pytest.approx(result.customers["clv_12m"].sum(),
                                                      rel=1e-6)
    assert set(table["价值分级"]) <= {"高价值", "潜力", "普通"}
    slipping = clv_data.clv_file(str(app_db), version, as_of, DEFAULT_SETTINGS,
                                 "en", "xlsx", (0.2, 0.5))
    sheet = pd.read_excel(pd.io.common.BytesIO(slipping))
    assert list(sheet.columns[:3]) == ["Customer ID", "Name", "Value tier"]
    assert 0 < len(sheet) < len(table)
