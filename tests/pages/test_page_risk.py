"""The Risk page 流失预警: counts, lists with reasons, value at risk, the monthly trend, the model.

Expected figures come from the engine on the same demo database as of its
last event date, so every number the page shows is checked against
engine.risk / engine.churn_model, in both languages.
"""
import csv
import io
import json

import numpy as np
import pandas as pd
import pytest

import ui.data.risk
from engine import demo, i18n, risk, store
from engine.features import customer_features
from tests.conftest import open_page
from tests.helpers import plotly_array as values
from tests.helpers import column_formats
from ui import format

WORDS = {"en": {"title": "Churn risk", "high": "High risk", "dormant": "Dormant",
                "value": "Value at risk (12 months)", "train": "Train the churn model",
                "lists": ("High churn risk ({n:,})", "Dormant ({n:,})"), "reasons": "Reasons"},
         "zh": {"title": "流失预警", "high": "高风险", "dormant": "沉睡",
                "value": "风险金额（近12个月）", "train": "训练流失模型",
                "lists": ("高流失风险（{n:,}）", "沉睡客户（{n:,}）"), "reasons": "预警原因"}}


def engine_view(db):
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        trend = risk.flagged_by_month(con, as_of=as_of)
    assessed = risk.assess(features, as_of=as_of)
    return as_of, features, assessed, trend


def charts(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_counts_and_value_at_risk_match_the_engine(app_db, lang):
    as_of, features, assessed, _ = engine_view(app_db)
    at = open_page("risk", lang)
    assert not at.exception, at.exception
    assert at.title[0].value == WORDS[lang]["title"]
    cards = {m.label: m.value for m in at.metric}
    for kind, column, codes in (("risk", "risk_level", risk.RISK_LEVELS),
                                ("demand", "demand_tag", risk.DEMAND_TAGS)):
        counts = risk.counts(assessed, column)
        for code in codes:
            assert cards[i18n.label(kind, code, lang)] == f"{counts[code]:,}"
    at_risk = risk.value_at_risk(features, assessed)
    assert at_risk["customers"] == int((assessed["risk_level"] == "high").sum()) > 0
    assert cards[WORDS[lang]["value"]] == format.money(at_risk["revenue_12m"], lang, "¥")
    share = next(m for m in at.metric if m.label == WORDS[lang]["value"]).proto.delta
    assert f"{at_risk['share']:.1%}" in share
    # risk × demand heatmap and lifecycle bars, in the reader's words
    heatmap, lifecycle, trend = charts(at)
    crosstab = risk.risk_by_demand(assessed)
    assert heatmap["data"][0]["y"] == [i18n.label("risk", c, lang) for c in risk.RISK_LEVELS]
    assert heatmap["data"][0]["x"] == [i18n.label("demand", c, lang) for c in risk.DEMAND_TAGS]
    assert values(heatmap["data"][0]["z"]).reshape(3, 4).tolist() == crosstab.to_numpy().tolist()
    stages = dict(zip(lifecycle["data"][0]["y"], values(lifecycle["data"][0]["x"])))
    assert stages == {i18n.label("lifecycle", c, lang): n
                      for c, n in risk.counts(assessed, "lifecycle").items()}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lists_of_high_risk_and_dormant_customers_with_reasons(app_db, lang):
    _, features, assessed, _ = engine_view(app_db)
    high = assessed["risk_level"] == "high"
    dormant = assessed["demand_tag"] == "dormant"
    at = open_page("risk", lang)
    labels = [tab.label for tab in at.tabs]
    assert labels == [WORDS[lang]["lists"][0].format(n=int(high.sum())),
                      WORDS[lang]["lists"][1].format(n=int(dormant.sum()))]
    reasons = risk.reasons_text(assessed, lang).set_axis(assessed["customer_id"])
    for frame, members in zip(at.dataframe, (high, dormant)):
        table = frame.value
        assert sorted(table["customer_id"]) == sorted(assessed.loc[members, "customer_id"])
        revenue = table["revenue_12m"].astype(float).to_numpy()
        assert (np.diff(revenue) <= 1e-9).all(), "most revenue first"
        assert list(table["risk_reasons"]) == list(reasons[table["customer_id"]])
    high_table = at.dataframe[0].value
    assert set(high_table["risk_level"]) == {WORDS[lang]["high"]}
    assert (high_table["risk_reasons"] != "").all(), "every high-risk customer has a reason"
    assert set(at.dataframe[1].value["demand_tag"]) == {WORDS[lang]["dormant"]}


def test_downloads_hold_every_listed_customer_with_headers_in_the_language(app_db, downloads):
    as_of, _, assessed, _ = engine_view(app_db)
    at = open_page("risk", "zh")
    assert len(at.download_button) == 4
    stamp = f"{as_of:%Y%m%d}"
    assert sorted(downloads) == sorted(f"{kind}_{stamp}.{ext}" for kind in ("high", "dormant")
                                       for ext in ("csv", "xlsx"))
    for kind, members in (("high", assessed["risk_level"] == "high"),
                          ("dormant", assessed["demand_tag"] == "dormant")):
        raw = downloads[f"{kind}_{stamp}.csv"]
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(raw[3:].decode("utf-8"))))
        assert sorted(r["客户编号"] for r in rows) == sorted(assessed.loc[members, "customer_id"])
        assert {"预警原因", "流失风险", "需求分类", "近12个月收入"} <= set(rows[0])
        sheet = pd.read_excel(io.BytesIO(downloads[f"{kind}_{stamp}.xlsx"]), dtype={"客户编号": str})
        assert len(sheet) == int(members.sum())
    high = list(csv.DictReader(io.StringIO(downloads[f"high_{stamp}.csv"][3:].decode("utf-8"))))
    assert {r["流失风险"] for r in high} == {"高风险"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_flagged_by_month_chart(app_db, lang):
    _, _, _, trend = engine_view(app_db)
    at = open_page("risk", lang)
    chart = charts(at)[2]
    names = [trace["name"] for trace in chart["data"]]
    assert names == [i18n.label("risk", "high", lang), i18n.label("risk", "medium", lang),
                     i18n.label("demand", "dormant", lang)]
    for trace, column in zip(chart["data"], ("high", "medium", "dormant")):
        assert list(trace["x"]) == list(trend["month"])
        assert values(trace["y"]).tolist() == trend[column].tolist()
    assert len(trend) == 12


def test_churn_model_trains_on_request_and_compares_with_the_rules(app_db):
    at = open_page("risk", "en")
    assert at.button(key="risk_page.train").label == WORDS["en"]["train"]
    assert not any(m.label.startswith("ROC AUC") for m in at.metric), "not trained on open"
    assert "churn_probability" not in at.dataframe[0].value.columns
    at.button(key="risk_page.train").click().run()
    assert not at.exception, at.exception
    version, as_of = store.data_version(app_db), engine_view(app_db)[0]
    model = ui.data.risk.churn_model_view(str(app_db), version, as_of)   # the page's cached result
    summary = model["summary"]
    cards = {m.label: m.value for m in at.metric}
    assert cards["ROC AUC · model"] == f"{summary['auc_model']:.3f}"
    assert cards["ROC AUC · rules"] == f"{summary['auc_rules']:.3f}"
    assert cards["Test rows"] == f"{summary['n_test']:,}"
    assert 0.5 < summary["auc_model"] <= 1
    alerts = at.dataframe[-1].value
    assert list(alerts["flag"]) == ["Rule-based high risk", "Model, same number of alerts"]
    assert list(alerts["alerts"]) == [summary["rules"]["alerts"]] * 2
    assert alerts["precision"].tolist() == pytest.approx(     # in points
        [100 * summary["rules"]["precision"], 100 * summary["model_at_same_alerts"]["precision"]])
    assert alerts["recall"].tolist() == pytest.approx(     # in points
        [100 * summary["rules"]["recall"], 100 * summary["model_at_same_alerts"]["recall"]])
    # the most important features, in words
    bars = charts(at)[-1]["data"][0]
    top = model["importance"].head(10)
    assert sorted(bars["y"]) == sorted(i18n.t(f"churn.feature.{f}", "en") for f in top["feature"])
    # the lists now carry the model's probability next to the rules' reasons
    high = at.dataframe[0].value
    probability = model["probability"].reindex(high["customer_id"]).to_numpy()
    assert np.allclose(high["churn_probability"].to_numpy(dtype=float), probability * 100,
                       equal_nan=True)
    assert {c: column_formats(at.dataframe[0])[c] for c in ("churn_probability",)} == {
        "churn_probability": "%.1f%%"}
    assert {c: column_formats(at.dataframe[-1])[c] for c in ("precision", "recall")} == {
        "precision": "%.1f%%", "recall": "%.1f%%"}

    # the same model in Chinese: another session, served from the cache
    at = open_page("risk", "zh")
    at.button(key="risk_page.train").click().run()
    assert not at.exception, at.exception
    cards = {m.label: m.value for m in at.metric}
    assert cards["ROC AUC · 模型"] == f"{summary['auc_model']:.3f}"
    assert list(at.dataframe[-1].value["flag"]) == ["规则：高流失风险", "模型：相同预警数量"]
    assert sorted(charts(at)[-1]["data"][0]["y"]) == sorted(
        i18n.t(f"churn.feature.{f}", "zh") for f in top["feature"])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_short_history_says_why_there_is_no_model(tmp_path, monkeypatch, lang):
    db = tmp_path / "short.duckdb"
    demo.generate_demo(db, customers=60, months=4, seed=3)
    monkeypatch.setenv("CRM_DB", str(db))
    at = open_page("risk", lang)
    at.button(key="risk_page.train").click().run()
    assert not at.exception, at.exception
    info = at.info[-1].value
    with store.connect(db) as con:
        last = store.date_range(con)[1]
    expected = i18n.t("churn.error.not_enough_history", lang, months=4, as_of=last.isoformat(),
                      needed=6)
    assert info.replace("\\", "") == expected
    assert not any("AUC" in m.label for m in at.metric)


def test_rules_and_model_side_by_side_ordered_by_value_or_probability(app_db):
    """The page says what each signal means; once trained, the backtest's precision and
    recall at the same number of alerts sit above the lists, each listed customer shows
    the rules' reasons beside the probability and whether the model's top as many would
    alert too, and the lists sort by value at risk or, on demand, by probability."""
    _, features, assessed, _ = engine_view(app_db)
    at = open_page("risk", "en")
    assert any(i.value.startswith("Two signals, two questions.") for i in at.info)
    assert any(c.value == "Customers at high churn risk with the reasons, the most value at "
                          "risk (revenue of the last 12 months) first." for c in at.caption)
    at.button(key="risk_page.train").click().run()
    version, as_of = store.data_version(app_db), engine_view(app_db)[0]
    model = ui.data.risk.churn_model_view(str(app_db), version, as_of)
    summary = model["summary"]
    backtest = next(c.value for c in at.caption if c.value.startswith("Backtest on the month"))
    rules, same = summary["rules"], summary["model_at_same_alerts"]
    assert (f"the rules raised {rules['alerts']:,} alerts, of which {rules['precision']:.0%} "
            f"stopped buying (precision), catching {rules['recall']:.0%}") in backtest
    assert (f"precision {same['precision']:.0%}, recall {same['recall']:.0%}.") in backtest

    high = at.dataframe[0].value
    columns = list(at.dataframe[0].proto.column_order)
    assert columns[:6] == ["customer_id", "name", "revenue_12m", "risk_reasons",
                           "churn_probability", "model_alert"]
    assert (np.diff(high["revenue_12m"].astype(float).to_numpy()) <= 1e-9).all()
    n_high = int((assessed["risk_level"] == "high").sum())
    top = model["probability"].dropna().sort_values(ascending=False, kind="stable")
    alerting = set(top.index[:n_high])
    assert set(high.loc[high["model_alert"], "customer_id"]) == alerting & set(high["customer_id"])

    at.segmented_control(key="risk_page.order").set_value("probability").run()
    assert not at.exception
    by_probability = at.dataframe[0].value["churn_probability"].astype(float).to_numpy()
    known = by_probability[~np.isnan(by_probability)]
    assert (np.diff(known) <= 1e-12).all(), "likeliest to stop buying first"
    assert any(c.value.endswith("the likeliest to stop buying (model) first.") for c in at.caption)
