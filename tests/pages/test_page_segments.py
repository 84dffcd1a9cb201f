"""The Segments page shows the engine's segments, names and counts, in the reader's language."""
import json


from engine import scoring, segments, store
from engine.features import customer_features, optional_columns_present
from tests.conftest import open_page
from tests.helpers import plotly_list as values


def expected(db, k=None, columns=segments.DEFAULT_FEATURES):
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
    result = segments.segment_customers(features, columns=columns, k=k)
    tiers = scoring.score_customers(features, available=available)["tier"]
    profile = segments.segment_profile(features, result, tiers=tiers)
    return features, result, profile


def customer_features_of(db):
    with store.connect(db) as con:
        return customer_features(con, as_of=store.date_range(con)[1])


def labels(profile, lang):
    sep = " · "
    return [f"{s}{sep}{name}" for s, name in segments.segment_names(profile, lang).items()]


def overview_of(at, lang="en"):
    """The page's "at a glance" table (a static table, so the next steps wrap), its columns
    by their names in the frame."""
    from engine import i18n
    names = ("segment", "customers", "customer_share", "revenue", "revenue_share", "next_step")
    table = at.table[0].value
    assert list(table.columns) == [i18n.t(f"segments.table.{c}", lang) for c in names]
    return table.set_axis(list(names), axis=1)


def chart(at, i):
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def test_automatic_segments_as_the_engine_finds_them(app_db):
    features, result, profile = expected(app_db)
    at = open_page("segments", "en")
    assert not at.exception
    assert at.title[0].value == "Segments"
    cards = {m.label: m.value for m in at.metric}
    assert cards["Segments"] == str(result.k)
    assert cards["Silhouette"] == f"{result.silhouette:.2f}"
    assert cards["Customers"] == f"{len(features):,}"
    overview = overview_of(at)
    assert overview["segment"].tolist() == labels(profile, "en")
    assert overview["customers"].tolist() == profile["customers"].tolist()
    assert overview["customers"].sum() == len(features)
    crosstab = at.dataframe[0].value
    assert list(crosstab.columns) == ["High value", "Potential", "Ordinary"]
    assert crosstab.to_numpy().sum() == len(features)
    assert crosstab.sum(axis=1).tolist() == profile["customers"].tolist()


def test_charts_elbow_heatmap_scatter(app_db):
    features, result, profile = expected(app_db)
    at = open_page("segments", "en")
    assert len(at.get("plotly_chart")) == 3
    curve = chart(at, 0)
    assert [values(trace["x"]) for trace in curve["data"]] == [list(range(3, 9))] * 2
    assert [trace["name"] for trace in curve["data"]] == ["Inertia (within-segment spread)",
                                                          "Silhouette"]
    heatmap = chart(at, 1)["data"][0]
    assert heatmap["y"] == labels(profile, "en")
    assert heatmap["x"][0] == "Days since last purchase"
    first = profile[f"index_{segments.DEFAULT_FEATURES[0]}"].iloc[0]
    assert heatmap["text"][0][0] == f"{first:,.0f}"
    scatter = chart(at, 2)
    assert [trace["name"] for trace in scatter["data"]] == labels(profile, "en")
    assert sum(len(values(trace["x"])) for trace in scatter["data"]) == len(features)  # 400 < sample
    assert "Component 1" in scatter["layout"]["xaxis"]["title"]["text"]
    assert len(at.get("download_button")) == 2


def test_manual_k_and_two_feature_scatter(app_db):
    _, result, profile = expected(app_db, k=3)
    at = open_page("segments", "en")
    at.radio(key="segments.manual").set_value(True).run()
    at.slider(key="segments.k").set_value(3).run()
    cards = {m.label: m for m in at.metric}
    assert cards["Segments"].value == "3"
    # the silhouette of a k set by hand is read off the automatic curve: the same fit
    _, automatic, _ = expected(app_db)
    on_curve = automatic.curve.set_index("k")["silhouette"][3]
    assert cards["Silhouette"].value == f"{on_curve:.2f}"
    assert on_curve == segments.segment_customers(  # same sample, same seed
        customer_features_of(app_db), k=3, curve=True).silhouette
    assert overview_of(at)["segment"].tolist() == labels(profile, "en")
    at.radio(key="segments.pair").set_value(True).run()
    at.selectbox(key="segments.y").set_value("tenure_days").run()
    layout = chart(at, 2)["layout"]
    assert layout["xaxis"]["title"]["text"] == "Days since last purchase"
    assert layout["yaxis"]["title"]["text"] == "Tenure (days)"
    # the elbow keeps the automatic curve, and marks the chosen k
    assert chart(at, 0)["layout"]["shapes"][0]["x0"] == 3


def test_one_feature_is_not_enough(app_db):
    at = open_page("segments", "en")
    at.multiselect(key="segments.features").set_value(["monetary_12m"]).run()
    assert not at.exception
    assert [i.value for i in at.info] == ["Choose at least two features."]
    assert not at.get("plotly_chart")


def test_download_of_one_segment(app_db):
    """The file behind the download buttons: members of segment 1 (CSV, UTF-8 with BOM)."""
    from ui.data import segments as segments_data
    _, _, profile = expected(app_db)
    with store.connect(app_db) as con:
        as_of = store.date_range(con)[1]
    body = segments_data.segment_members_file(str(app_db), store.data_version(app_db), as_of,
                                              segments.DEFAULT_FEATURES, None, 1, "en", "csv")
    assert body.startswith("\ufeff".encode("utf-8"))
    lines = body.decode("utf-8-sig").strip().split("\r\n")
    assert lines[0].startswith("customer_id,name,owner,segment,segment_name,")
    assert len(lines) - 1 == profile["customers"].iloc[0]
    assert all(line.split(",")[3] == "1" for line in lines[1:])


def test_chinese(app_db):
    _, result, profile = expected(app_db)
    at = open_page("segments", "zh")
    assert not at.exception
    assert at.title[0].value == "客户分群"
    assert {"分群数", "轮廓系数", "客户数"} <= {m.label for m in at.metric}
    assert overview_of(at, "zh")["segment"].tolist() == labels(profile, "zh")
    assert list(at.dataframe[0].value.columns) == ["高价值", "潜力", "普通"]
    assert [s.value for s in at.subheader][:2] == ["选择 k：肘部曲线与轮廓系数", "分群概览"]
    heatmap = chart(at, 1)["data"][0]
    assert heatmap["x"][0] == "距上次购买天数"


def test_k_is_chosen_in_3_to_8_and_each_segment_has_a_next_step(app_db):
    """Automatic k tries 3–8 only; every segment's row says the playbook action most of its
    members are due on the Plan page, with their share."""
    from engine import plan

    features, result, profile = expected(app_db)
    assert 3 <= result.k <= 8 and list(result.curve["k"]) == list(range(3, 9))
    with store.connect(app_db) as con:
        as_of = store.date_range(con)[1]
        tiers = scoring.score_customers(features, available=optional_columns_present(
            con, as_of=as_of)).set_index(features["customer_id"])["tier"]
        tasks = plan.tasks_for(con, as_of=as_of, tiers=tiers)
    action = tasks.set_index("customer_id")["action"].astype(object).reindex(
        features["customer_id"])
    at = open_page("segments", "en")
    overview = overview_of(at)
    words = {"visit": "Exclusive visit (account manager)", "care": "Care contact (service rep)",
             "wake_up": "Wake-up mail/SMS, then a call (service rep)",
             "win_back": "Win back within 24 h (service supervisor)"}
    for segment, step in zip(range(1, result.k + 1), overview["next_step"]):
        due = action[result.labels == segment].value_counts()
        top = due.index[0]
        share = due.iloc[0] / (result.labels == segment).sum()
        assert step == f"{words[top]} · {share:.0%} of members due"
    chinese = overview_of(open_page("segments", "zh"), "zh")
    assert all(" · 成员中 " in step for step in chinese["next_step"])
