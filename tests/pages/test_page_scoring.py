"""The Scoring page: weights that sum to 100, the tier mix, who moves, presets.

The first tests cover the small engine summaries the page draws
(engine.scoring: rebalance_weights, category_mix, score_histogram,
tier_moves) on hand-made data; the rest run the page.
"""
import json

import numpy as np
import pandas as pd
import pytest

import engine.prepared
import ui.data.clv_fit
import ui.data.common
from engine import presets, scoring, store
from engine.features import customer_features, optional_columns_present
from tests.conftest import open_page
from ui.format import exact_money
from tests.helpers import plotly_array as chart_values
from tests.helpers import column_formats

# --- engine summaries ----------------------------------------------------------------


def test_rebalance_shares_the_rest_in_proportion():
    moved = scoring.rebalance_weights(scoring.DEFAULT_WEIGHTS, "consumption", 50)
    # the rest, 50, over 30 : 20 : 10 is 25, 16.67, 8.33 -> largest remainder gives 17
    assert moved == {"consumption": 50, "interaction": 25, "stability": 17, "referral": 8}
    assert scoring.rebalance_weights(moved, "consumption", 40) == scoring.DEFAULT_WEIGHTS


@pytest.mark.parametrize("weights, dimension, value, expected", [
    ({"consumption": 100, "interaction": 0, "stability": 0, "referral": 0}, "interaction", 10,
     {"consumption": 90, "interaction": 10, "stability": 0, "referral": 0}),
    ({"consumption": 100, "interaction": 0, "stability": 0, "referral": 0}, "consumption", 97,
     {"consumption": 97, "interaction": 1, "stability": 1, "referral": 1}),   # others all 0: equal
    ({"consumption": 25, "interaction": 25, "stability": 25, "referral": 25}, "referral", 0,
     {"consumption": 34, "interaction": 33, "stability": 33, "referral": 0}),  # tie: first listed
    (scoring.DEFAULT_WEIGHTS, "stability", 130,
     {"consumption": 0, "interaction": 0, "stability": 100, "referral": 0}),   # clamped
    ({"consumption": 33.3, "interaction": 33.3, "stability": 33.4, "referral": 0}, "consumption", 33.3,
     {"consumption": 33, "interaction": 33, "stability": 34, "referral": 0}),  # whole numbers
])
def test_rebalance_keeps_whole_numbers_summing_to_100(weights, dimension, value, expected):
    assert scoring.rebalance_weights(weights, dimension, value) == expected
    assert sum(expected.values()) == 100


def test_rebalance_rejects_an_unknown_dimension():
    with pytest.raises(ValueError, match="dimension must be one of"):
        scoring.rebalance_weights(scoring.DEFAULT_WEIGHTS, "loyalty", 10)


def test_category_mix_counts_and_shares():
    mix = scoring.category_mix(["high", "ordinary", "high", "ordinary", None],
                               [60.0, 30.0, 20.0, np.nan, -10.0], categories=scoring.TIERS)
    assert list(mix["key"]) == list(scoring.TIERS)
    assert list(mix["customers"]) == [2, 0, 2]
    assert list(mix["customer_share"]) == [0.4, 0.0, 0.4]
    assert list(mix["revenue"]) == [80.0, 0.0, 30.0]
    assert list(mix["revenue_share"]) == [80 / 100, 0.0, 30 / 100]  # total 100 counts everyone
    no_revenue = scoring.category_mix(["high"], [0.0], categories=scoring.TIERS)
    assert no_revenue["revenue_share"].isna().all()


def test_score_histogram_bands():
    hist = scoring.score_histogram([0, 4.99, 5, 80, 100], ["ordinary", "ordinary", "ordinary",
                                                           "high", "high"], bins=20)
    assert len(hist) == 60
    counts = hist.set_index(["bin_start", "tier"])["customers"]
    assert counts[(0.0, "ordinary")] == 2 and counts[(5.0, "ordinary")] == 1
    assert counts[(80.0, "high")] == 1 and counts[(95.0, "high")] == 1  # 100 in the last band
    assert hist["customers"].sum() == 5


def test_tier_moves_up_and_down():
    before = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "score": [79.0, 61.0, 50.0, 85.0],
                           "tier": pd.Categorical(["potential", "potential", "ordinary", "high"],
                                                  categories=scoring.TIERS)})
    after = before.assign(score=[81.0, 59.0, 65.0, 86.0],
                          tier=pd.Categorical(["high", "ordinary", "potential", "high"],
                                              categories=scoring.TIERS))
    moves = scoring.tier_moves(before, after)
    assert (moves.up, moves.down) == (2, 1)
    assert list(moves.movers["customer_id"]) == ["c", "a", "b"]  # ups first, largest change first
    assert list(moves.movers["direction"]) == ["up", "up", "down"]
    assert list(moves.movers["tier_before"]) == ["ordinary", "potential", "potential"]
    first = scoring.tier_moves(before, after, rows=2)
    assert (first.up, first.down) == (2, 1) and list(first.movers["customer_id"]) == ["c", "a"]
    with pytest.raises(ValueError, match="same customers"):
        scoring.tier_moves(before, after.iloc[::-1])
    with pytest.raises(ValueError, match="same customers"):
        scoring.tier_moves(before, after.iloc[:3])


def test_tier_moves_carry_columns_beside_each_mover():
    ids = pd.array(["a", "b", "c", "d"], dtype="str")   # text as the feature table holds it
    before = pd.DataFrame({"customer_id": ids, "score": [79.0, 61.0, 50.0, 85.0],
                           "tier": pd.Categorical(["potential", "potential", "ordinary", "high"],
                                                  categories=scoring.TIERS)})
    after = before.assign(score=[81.0, 59.0, 65.0, 86.0],
                          tier=pd.Categorical(["high", "ordinary", "potential", "high"],
                                              categories=scoring.TIERS))
    names = pd.DataFrame({"name": pd.array(["Ann", "Bo", "Cy", "Di"], dtype="str")})
    movers = scoring.tier_moves(before, after, carry=names).movers
    assert list(movers.columns) == ["customer_id", "name", "tier_before", "tier_after",
                                    "score_before", "score_after", "direction"]
    assert list(zip(movers["customer_id"], movers["name"])) == [("c", "Cy"), ("a", "Ann"),
                                                                ("b", "Bo")]


# --- the page ------------------------------------------------------------------------

def engine_scores(db, weights=scoring.DEFAULT_WEIGHTS, thresholds=scoring.DEFAULT_THRESHOLDS):
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
    return features, scoring.score_customers(features, weights=weights, thresholds=thresholds,
                                             available=available)


def tier_cards(at):
    return {m.label: m.value for m in at.metric}


def expected_cards(scores, lang="en"):
    words = {"en": ("High value", "Potential", "Ordinary"), "zh": ("高价值", "潜力", "普通")}[lang]
    counts = scores["tier"].value_counts()
    return {w: f"{counts.get(t, 0):,}" for w, t in zip(words, scoring.TIERS)}


def test_shared_frames_compute_once_and_a_callers_change_stays_its_own():
    runs = []

    @ui.data.common.shared_frames(max_entries=2)
    def table(key):
        runs.append(key)
        return pd.DataFrame({"x": [1.0, 2.0]}), {"note": key}

    first, note = table("k")
    first["x"] = 0.0
    first.loc[1, "y"] = 5.0
    note["note"] = "changed"
    again, note_again = table("k")
    assert runs == ["k"]
    assert list(again.columns) == ["x"] and list(again["x"]) == [1.0, 2.0]
    assert note_again == {"note": "k"}


def test_tier_mix_shows_the_engine_counts_and_shares(app_db):
    features, scores = engine_scores(app_db)
    at = open_page("scoring", "en")
    assert not at.exception
    assert at.title[0].value == "Value scoring"
    assert tier_cards(at) == expected_cards(scores)
    mix = at.dataframe[0].value
    assert list(mix["key"]) == ["High value", "Potential", "Ordinary"]
    expected = scoring.category_mix(scores["tier"], features["revenue_12m"], categories=scoring.TIERS)
    assert list(mix["customers"]) == list(expected["customers"])
    for share in ("customer_share", "revenue_share"):   # in points, one decimal in every row
        assert np.allclose(mix[share], expected[share] * 100)
        assert column_formats(at.dataframe[0])[share] == "%.1f%%"
    assert any("0** customers move up a tier and **0** move down" in m.value for m in at.markdown)
    histogram = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert sum(chart_values(trace["y"]).sum() for trace in histogram["data"]) == len(features)


def test_moving_a_weight_rebalances_and_changes_the_tier_mix(app_db, monkeypatch):
    runs = []
    real = engine.prepared.customer_features
    monkeypatch.setattr(engine.prepared, "customer_features",
                        lambda con, as_of: runs.append(as_of) or real(con, as_of=as_of))
    at = open_page("scoring", "en")
    before = tier_cards(at)
    assert len(runs) == 1

    at.slider(key="scoring.weight.consumption").set_value(80).run()
    assert not at.exception
    weights = {d: at.slider(key=f"scoring.weight.{d}").value for d in scoring.DIMENSIONS}
    assert weights == {"consumption": 80, "interaction": 10, "stability": 7, "referral": 3}
    assert any("Total: 100 %" in c.value for c in at.caption)
    _, default = engine_scores(app_db)
    _, scores = engine_scores(app_db, weights=weights)
    assert tier_cards(at) == expected_cards(scores) != before
    moves = scoring.tier_moves(default, scores)
    assert moves.up + moves.down > 0
    assert any(f"**{moves.up:,}** customers move up a tier and **{moves.down:,}** move down" in m.value
               for m in at.markdown)
    movers = at.dataframe[1].value
    assert sorted(movers["customer_id"]) == sorted(moves.movers["customer_id"])
    assert len(runs) == 1, "a slider move must not run the feature query again"


def test_weights_moved_step_by_step_end_where_one_move_would(app_db):
    at = open_page("scoring", "en")
    for value in range(41, 51):
        at.slider(key="scoring.weight.consumption").set_value(value).run()
    weights = {d: at.slider(key=f"scoring.weight.{d}").value for d in scoring.DIMENSIONS}
    assert weights == scoring.rebalance_weights(scoring.DEFAULT_WEIGHTS, "consumption", 50)
    assert weights == {"consumption": 50, "interaction": 25, "stability": 17, "referral": 8}
    at.slider(key="scoring.weight.stability").set_value(25).run()  # another slider: its own start
    assert {d: at.slider(key=f"scoring.weight.{d}").value for d in scoring.DIMENSIONS} == \
        {"consumption": 45, "interaction": 23, "stability": 25, "referral": 7}


def test_thresholds_stay_in_order_and_retier(app_db):
    at = open_page("scoring", "en")
    at.slider(key="scoring.potential").set_value(90).run()
    assert at.slider(key="scoring.high").value == 90  # high follows potential up
    _, scores = engine_scores(app_db, thresholds=(90, 90))
    assert tier_cards(at) == expected_cards(scores)
    at.slider(key="scoring.high").set_value(30).run()
    assert at.slider(key="scoring.potential").value == 30


def test_save_compare_and_load_a_preset(work_db):
    at = open_page("scoring", "en")
    at.slider(key="scoring.weight.consumption").set_value(70).run()
    at.text_input(key="scoring.preset_name").input("Growth").run()
    at.button(key="scoring.save").click().run()
    assert not at.exception
    with store.connect(work_db) as con:
        saved = presets.load_presets(con)
    assert saved["Growth"]["weights"] == {"consumption": 70, "interaction": 15, "stability": 10,
                                          "referral": 5}
    # the saved preset, as a manager finds it on the next visit
    at = open_page("scoring", "en")
    compare = at.selectbox[1]
    assert compare.options == ["Default (40 / 30 / 20 / 10, thresholds 80 / 60)", "Growth"]
    compare.set_value("Growth").run()
    _, growth = engine_scores(work_db, weights=saved["Growth"]["weights"])
    _, default = engine_scores(work_db)
    moves = scoring.tier_moves(growth, default)
    assert moves.up + moves.down > 0
    assert any(f"Against **Growth**: **{moves.up:,}** customers move up a tier and "
               f"**{moves.down:,}** move down" in m.value for m in at.markdown)

    at.selectbox(key="scoring.preset_choice").set_value("Growth").run()
    at.button(key="scoring.load").click().run()
    assert {d: at.slider(key=f"scoring.weight.{d}").value for d in scoring.DIMENSIONS} == \
        saved["Growth"]["weights"]
    assert any("**0** customers move up a tier and **0** move down" in m.value for m in at.markdown)
    at.selectbox(key="scoring.preset_choice").set_value("__default__").run()
    at.button(key="scoring.load").click().run()
    assert {d: at.slider(key=f"scoring.weight.{d}").value for d in scoring.DIMENSIONS} == \
        scoring.DEFAULT_WEIGHTS


def test_left_out_dimension_is_named_with_rescaled_weights(work_db):
    with store.write(work_db) as con:
        con.execute("UPDATE customers SET referred_by = NULL")
        con.execute("DELETE FROM interactions WHERE kind = 'referral'")
    at = open_page("scoring", "en")
    warning = at.warning[0].value
    assert "Dimensions left out: Referral" in warning
    assert "Consumption 44.4, Interaction 33.3, Stability 22.2" in warning


def test_all_weight_on_a_dimension_without_data(work_db):
    with store.write(work_db) as con:
        con.execute("UPDATE customers SET referred_by = NULL")
        con.execute("DELETE FROM interactions WHERE kind = 'referral'")
    at = open_page("scoring", "en")
    at.slider(key="scoring.weight.referral").set_value(100).run()
    assert at.error[0].value.startswith("All the weight is on dimensions without data.")
    at.switch_page("views/customers.py").run()  # still scored with the last usable weights
    assert not at.exception
    assert "weights 40 / 30 / 20 / 10" in at.caption[0].value


def test_chinese_labels(app_db):
    _, scores = engine_scores(app_db)
    at = open_page("scoring", "zh")
    assert at.title[0].value == "价值评分"
    assert tier_cards(at) == expected_cards(scores, "zh")
    assert at.slider(key="scoring.weight.consumption").label == "消费能力"


def test_weights_carry_to_the_other_pages(app_db):
    at = open_page("scoring", "en")
    at.slider(key="scoring.weight.consumption").set_value(70).run()
    at.switch_page("views/customers.py").run()
    assert "weights 70 / 15 / 10 / 5 and thresholds 80 / 60" in at.caption[0].value
    at.switch_page("views/scoring.py").run()
    assert at.slider(key="scoring.weight.consumption").value == 70


# --- the 12-month CLV in the consumption score ---------------------------------------------

def clv_scores(db, **settings):
    """The engine's scores with the 12-month CLV fitted as of T in the consumption mean."""
    from engine import clv
    with store.connect(db) as con:
        result = clv.compute_clv(con, as_of=store.date_range(con)[1])
    features, _ = engine_scores(db)
    with store.connect(db) as con:
        available = optional_columns_present(con, as_of=store.date_range(con)[1])
    values = result.customers.set_index("customer_id")["clv_12m"]
    return values, scoring.score_customers(features, available=available, clv=values, **settings)


def counting(monkeypatch, module, name):
    """Wrap module.name to note the as_of of each call; returns the list of them."""
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(k["as_of"]) or real(*a, **k))
    return calls


def test_clv_toggle_changes_the_tier_mix_and_the_other_pages_follow(app_db, monkeypatch):
    _, default = engine_scores(app_db)
    values, with_clv = clv_scores(app_db)
    moves = scoring.tier_moves(default, with_clv)
    assert moves.up + moves.down > 0            # the demo base does move
    fits = counting(monkeypatch, ui.data.clv_fit.clv_engine, "fit_and_predict")
    queries = counting(monkeypatch, engine.prepared, "customer_features")

    at = open_page("scoring", "en")
    toggle = at.toggle(key="scoring.clv")
    assert toggle.label == "Include 12-month CLV in the consumption score"
    assert toggle.value is False and not toggle.proto.disabled
    assert tier_cards(at) == expected_cards(default)
    assert fits == []                           # off: the models are not even fitted

    toggle.set_value(True).run()
    assert not at.exception
    # the cards follow the CLV scoring; on this base its ups and downs may cancel
    # out in the counts, so the movers sentence below shows that tiers did change
    assert tier_cards(at) == expected_cards(with_clv)
    assert any(f"**{moves.up:,}** customers move up a tier and **{moves.down:,}** move down"
               in m.value for m in at.markdown)   # against the default baseline, without CLV
    assert not [w for w in at.warning if "left out" in w.value]   # nothing left out
    at.slider(key="scoring.high").set_value(79).run()
    at.slider(key="scoring.high").set_value(80).run()
    assert tier_cards(at) == expected_cards(with_clv)

    at.switch_page("views/customers.py").run()
    assert "The consumption score includes the 12-month CLV." in at.caption[0].value
    shown = at.dataframe[0].value
    words = dict(zip(scoring.TIERS, ("High value", "Potential", "Ordinary")))
    assert shown["tier"].value_counts().to_dict() == \
        with_clv["tier"].astype(str).map(words).value_counts().to_dict()
    best = with_clv.sort_values(["score", "customer_id"], ascending=[False, True]).iloc[0]
    assert shown["customer_id"].iloc[0] == best["customer_id"]
    assert shown["score"].iloc[0] == pytest.approx(best["score"])

    at.switch_page("views/profile.py").run()   # the best customer, its CLV in the breakdown
    assert not at.exception
    subs = at.table[0].value.set_axis(["dimension", "sub_metric", "value", "percentile"], axis=1)
    row = subs[subs["sub_metric"] == "12-month customer lifetime value (CLV)"]
    assert row["dimension"].tolist() == ["Consumption"]
    assert row["value"].iloc[0] == exact_money(values[best["customer_id"]], "¥")   # shown as money
    assert row["percentile"].iloc[0] == pytest.approx(best["clv_12m_score"])
    dimensions = at.dataframe[1].value
    assert dimensions["score"].iloc[0] == pytest.approx(best["consumption"])
    assert dimensions["points"].sum() == pytest.approx(best["score"])

    at.switch_page("views/scoring.py").run()
    assert at.toggle(key="scoring.clv").value is True   # kept across pages
    at.toggle(key="scoring.clv").set_value(False).run()
    assert tier_cards(at) == expected_cards(default)
    with store.connect(app_db) as con:
        as_of = store.date_range(con)[1]
    # T and each month end of the profile's tier history (T is one), each once
    from engine.months import last_month_ends
    assert fits.count(as_of) == 1, "the CLV models are fitted once per file, version and date"
    assert sorted(fits) == sorted({as_of, *last_month_ends(as_of)})
    assert queries == [as_of], "the toggle and the sliders never run the feature query again"


def test_a_preset_keeps_the_clv_toggle(work_db):
    at = open_page("scoring", "en")
    at.toggle(key="scoring.clv").set_value(True).run()
    at.text_input(key="scoring.preset_name").input("With CLV").run()
    at.button(key="scoring.save").click().run()
    assert not at.exception
    with store.connect(work_db) as con:
        assert presets.load_presets(con)["With CLV"]["clv"] is True

    at = open_page("scoring", "en")                 # a new visit starts without CLV
    assert at.toggle(key="scoring.clv").value is False
    at.selectbox(key="scoring.preset_choice").set_value("With CLV").run()
    at.button(key="scoring.load").click().run()
    assert at.toggle(key="scoring.clv").value is True
    _, with_clv = clv_scores(work_db)
    assert tier_cards(at) == expected_cards(with_clv)
    assert any("Against **With CLV**: **0** customers move up a tier and **0** move down"
               in m.value for m in at.markdown)
    at.toggle(key="scoring.clv").set_value(False).run()   # the saved baseline keeps its CLV
    _, default = engine_scores(work_db)
    moves = scoring.tier_moves(with_clv, default)
    assert any(f"Against **With CLV**: **{moves.up:,}** customers move up a tier and "
               f"**{moves.down:,}** move down" in m.value for m in at.markdown)


@pytest.mark.parametrize("spoil, reason", [
    # 20 buyers left, fewer than the 30 repeat buyers the models need (all 20 buy again)
    ("DELETE FROM transactions WHERE customer_id NOT IN "
     "(SELECT customer_id FROM customers ORDER BY customer_id LIMIT 20)",
     "Only 20 customers bought again on a later day than their first purchase"),
    # every repeat purchase free: BG/NBD fits, the spend model has no one (a partial result)
    ("UPDATE transactions SET amount = 0 WHERE txn_date > (SELECT min(t2.txn_date) "
     "FROM transactions t2 WHERE t2.customer_id = transactions.customer_id)",
     "Only 0 repeat buyers spent a positive amount on their repeat purchases"),
])
def test_clv_toggle_is_refused_with_the_reason_when_the_models_cannot_serve(work_db, spoil,
                                                                           reason):
    with store.write(work_db) as con:
        con.execute(spoil)
    _, default = engine_scores(work_db)
    at = open_page("scoring", "en")
    assert tier_cards(at) == expected_cards(default)
    at.toggle(key="scoring.clv").set_value(True).run()
    assert not at.exception
    toggle = at.toggle(key="scoring.clv")
    assert toggle.value is False and toggle.proto.disabled
    assert any(c.value.startswith("CLV cannot join the score on these data, so the score "
                                  "leaves it out: " + reason) for c in at.caption)
    assert tier_cards(at) == expected_cards(default)     # the score is unchanged
    at.switch_page("views/customers.py").run()
    assert "CLV" not in at.caption[0].value


def test_clv_toggle_in_chinese(app_db):
    at = open_page("scoring", "zh")
    assert at.toggle(key="scoring.clv").label == "将未来12个月 CLV 计入消费能力得分"


# --- tiers that mean something: small tiers, thresholds from a target ----------------------

def test_a_tier_under_5_percent_is_pointed_out(app_db):
    features, scores = engine_scores(app_db)
    mix = scoring.category_mix(scores["tier"], features["revenue_12m"], categories=scoring.TIERS)
    small = mix[mix["customer_share"] < 0.05]
    assert len(small)                         # the demo's top tier is nearly empty at 80 / 60
    at = open_page("scoring", "en")
    notes = [w.value for w in at.warning if "fewer than 5%" in w.value]
    words = {"high": "High value", "potential": "Potential", "ordinary": "Ordinary"}
    assert [note.split(" holds only ")[0] for note in notes] == [words[k] for k in small["key"]]
    row = small.iloc[0]
    assert (f"holds only {row['customers']:,} customers ({row['customer_share']:.1%} of all"
            in notes[0])


def test_thresholds_from_a_target_are_shown_then_applied(app_db):
    features, scores = engine_scores(app_db)
    target = {"basis": "customers", "high": 10, "potential": 40}
    high, potential = scoring.thresholds_for_target(scores["score"], features["revenue_12m"],
                                                    target)
    at = open_page("scoring", "en")
    histogram = json.loads(at.get("plotly_chart")[0].proto.spec)
    lines = sorted(shape["x0"] for shape in histogram["layout"]["shapes"])
    assert lines == sorted([80, 60, high, potential])     # current dotted, proposed dashed
    offer = next(c.value for c in at.caption if c.value.startswith("Proposed thresholds"))
    tiers = scoring.assign_tiers(scores["score"], (high, potential))
    share = (np.asarray(tiers) == "high").mean()
    assert offer.startswith(f"Proposed thresholds {high} / {potential}: high value would hold "
                            f"{share:.1%} of customers")
    assert at.slider(key="scoring.high").value == 80     # nothing applied yet
    at.button(key="scoring.target.apply").click().run()
    assert (at.slider(key="scoring.high").value, at.slider(key="scoring.potential").value) == \
        (high, potential)
    _, applied = engine_scores(app_db, thresholds=(high, potential))
    assert tier_cards(at) == expected_cards(applied)
    assert at.button(key="scoring.target.apply").proto.disabled     # already applied

    at.segmented_control(key="scoring.target.basis").set_value("revenue").run()
    assert (at.number_input(key="scoring.target.high").value,
            at.number_input(key="scoring.target.potential").value) == (50, 80)
    by_revenue = scoring.thresholds_for_target(scores["score"], features["revenue_12m"],
                                               {"basis": "revenue", "high": 50, "potential": 80})
    assert at.button(key="scoring.target.apply").label == \
        f"Apply thresholds {by_revenue[0]} / {by_revenue[1]}"


def test_the_target_saves_with_a_preset_and_comes_back(work_db):
    at = open_page("scoring", "en")
    at.number_input(key="scoring.target.high").set_value(20).run()
    at.button(key="scoring.target.apply").click().run()
    applied = (at.slider(key="scoring.high").value, at.slider(key="scoring.potential").value)
    at.text_input(key="scoring.preset_name").input("Top fifth").run()
    at.button(key="scoring.save").click().run()
    assert not at.exception
    with store.connect(work_db) as con:
        saved = presets.load_presets(con)["Top fifth"]
    assert saved["target"] == {"basis": "customers", "high": 20.0, "potential": 40.0}
    assert saved["thresholds"] == applied
    # a threshold moved by hand is no target's: saved without one
    at.slider(key="scoring.high").set_value(applied[0] + 1).run()
    at.text_input(key="scoring.preset_name").input("By hand").run()
    at.button(key="scoring.save").click().run()
    with store.connect(work_db) as con:
        assert presets.load_presets(con)["By hand"]["target"] is None

    again = open_page("scoring", "en")
    again.selectbox(key="scoring.preset_choice").set_value("Top fifth").run()
    again.button(key="scoring.load").click().run()
    assert again.number_input(key="scoring.target.high").value == 20
    assert (again.slider(key="scoring.high").value,
            again.slider(key="scoring.potential").value) == applied


# --- settings that last: the URL, the baseline -------------------------------------------

def test_settings_go_into_the_url_and_a_reload_restores_them(app_db):
    at = open_page("scoring", "en")
    assert "weights" not in at.query_params            # defaults leave the URL clean
    at.slider(key="scoring.weight.consumption").set_value(70).run()
    at.slider(key="scoring.high").set_value(70).run()
    assert at.query_params["weights"] == "70,15,10,5"
    assert at.query_params["thresholds"] == "70,60"
    at.switch_page("views/customers.py").run()          # a page switch keeps them
    assert at.query_params["weights"] == "70,15,10,5"

    reloaded = ui_with_query({"weights": "70,15,10,5", "thresholds": "70,60"})
    reloaded.switch_page("views/customers.py").run()
    assert "weights 70 / 15 / 10 / 5 and thresholds 70 / 60" in reloaded.caption[0].value
    reloaded.switch_page("views/scoring.py").run()
    assert reloaded.slider(key="scoring.weight.consumption").value == 70
    assert reloaded.slider(key="scoring.high").value == 70

    broken = ui_with_query({"weights": "90,30,20,10"})   # sums to 150: the defaults serve
    broken.switch_page("views/customers.py").run()
    assert "weights 40 / 30 / 20 / 10 and thresholds 80 / 60" in broken.caption[0].value


def ui_with_query(params: dict):
    """app.py opened from a link carrying `params` (a browser reload: a new session)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["lang"] = "en"
    at.query_params.update(params)
    at.run()
    return at


def test_saving_a_preset_keeps_the_baseline_compared_with(work_db):
    with store.write(work_db) as con:
        presets.save_preset(con, "Old", {"consumption": 25, "interaction": 25, "stability": 25,
                                         "referral": 25}, (80, 60))
    at = open_page("scoring", "en")
    at.selectbox[1].set_value("Old").run()
    at.slider(key="scoring.weight.consumption").set_value(70).run()
    at.text_input(key="scoring.preset_name").input("New").run()
    at.button(key="scoring.save").click().run()
    assert not at.exception
    assert at.selectbox[1].value == "Old"
    assert any("Against **Old**" in m.value for m in at.markdown)


def test_an_empty_basis_from_the_browser_keeps_the_basis_shown(app_db):
    """Streamlit 1.67's browser can send the required basis back empty after a weight
    slider moved; the page then crashed with a KeyError. The basis shown last stands."""
    at = open_page("scoring", "en")
    at.segmented_control(key="scoring.target.basis").set_value("revenue").run()
    at.number_input(key="scoring.target.high").set_value(30).run()
    at.segmented_control(key="scoring.target.basis").set_value(None).run()
    assert not at.exception
    assert at.segmented_control(key="scoring.target.basis").value == "revenue"
    assert at.number_input(key="scoring.target.high").value == 30   # not reset to 50


def test_a_slider_move_scores_the_customers_once(app_db, monkeypatch):
    """The tier view and the threshold offer both need the new position's scores: one
    computation serves both (they computed it once each)."""
    import streamlit as st
    st.cache_resource.clear()        # no position left over from another test
    at = open_page("scoring", "en")
    calls, real = [], scoring.combine_scores
    monkeypatch.setattr(scoring, "combine_scores",
                        lambda *a, **k: calls.append(k["weights"]) or real(*a, **k))
    at.slider(key="scoring.weight.consumption").set_value(47).run()
    assert not at.exception
    assert len(calls) == 1 and calls[0]["consumption"] == 47


def test_the_movers_sentence_is_sent_before_the_movers_are_listed(app_db, monkeypatch):
    """At a million customers listing and sorting the movers takes longer than scoring: the
    sentence, which needs only their counts, is written before the list is made."""
    import streamlit as st
    st.cache_data.clear()
    at = open_page("scoring", "en")

    def no_list(*args, **kwargs):
        raise RuntimeError("the movers were listed")
    monkeypatch.setattr(scoring, "tier_moves", no_list)
    at.slider(key="scoring.weight.consumption").set_value(63).run()
    assert at.exception   # the list was asked for, after the sentence
    weights = scoring.rebalance_weights(scoring.DEFAULT_WEIGHTS, "consumption", 63)
    _, default = engine_scores(app_db)
    _, scores = engine_scores(app_db, weights=weights)
    up, down = scoring.tier_move_counts(default, scores)
    assert up + down > 0
    assert any(f"**{up:,}** customers move up a tier and **{down:,}** move down" in m.value
               for m in at.markdown)
