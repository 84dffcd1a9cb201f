"""The sidebar's data source: a database file or a precomputed feature table (issue 10, point 3).

The feature table is written from the shared demo database through the
command line (`engine export`, then `engine features --engine duckdb`) as of
the database's last event date, so both sources describe the same customers
at the same T and every figure must come out the same.
"""
import json
import os
import shutil

import pandas as pd
import pandas.testing as pdt
import pytest

from ui.data import customers as customers_data
from ui.data import plan as plan_data
from ui.data import risk as risk_data
from ui.data import scoring as scoring_data
from ui.data import segments as segments_data
from ui.data import sources as sources_data
from ui import auth
from engine import i18n, segments, store
from cli.main import main
from engine.features import parquet_source
from engine.scoring_settings import DEFAULT_SETTINGS
from tests.conftest import open_page

SETTINGS = DEFAULT_SETTINGS


@pytest.fixture(autouse=True)
def every_customer(monkeypatch):
    """The data layer called straight, outside a session: read as the local user (no login),
    who sees every customer (access control has tests of its own)."""
    monkeypatch.setattr(auth, "scope", lambda: None)


@pytest.fixture(scope="module")
def feature_dir(demo_db, tmp_path_factory):
    """(folder of the demo database's feature table, T)."""
    with store.connect(demo_db) as con:
        as_of = store.date_range(con)[1]
    root = tmp_path_factory.mktemp("source")
    assert main(["export", "--db", str(demo_db), "--out", str(root / "inputs")]) == 0
    assert main(["features", "--source", str(root / "inputs"), "--as-of", as_of.isoformat(),
                 "--engine", "duckdb", "--out", str(root / "features")]) == 0
    return root / "features", as_of


@pytest.fixture
def feature_source(feature_dir, app_db, monkeypatch):
    """The app pointed at the feature table (CRM_FEATURES makes it the default source)."""
    monkeypatch.setenv("CRM_FEATURES", str(feature_dir[0]))
    return feature_dir


def both(db, folder, as_of, call, *args):
    """`call` on the database and on the feature table, each with its own data version."""
    return (call(str(db), store.data_version(db), as_of, *args),
            call(str(folder), parquet_source.feature_table_version(folder), as_of, *args))


# --- the same results from both sources (ui.data, the pages' only door) ----------------

def test_tiers_rfm_lists_and_risk_are_the_same_from_a_feature_table(demo_db, feature_dir):
    folder, as_of = feature_dir
    a, b = both(demo_db, folder, as_of, sources_data.features)
    pdt.assert_frame_equal(a, b, check_exact=True)
    a, b = both(demo_db, folder, as_of, scoring_data.sub_scores)
    pdt.assert_frame_equal(a[0], b[0], check_exact=True)
    assert a[1] == b[1]   # the sources present: features.json, written from the raw events
    a, b = both(demo_db, folder, as_of, scoring_data.scores, *SETTINGS)
    pdt.assert_frame_equal(a, b, check_exact=True)
    assert a["tier"].nunique() > 1   # a comparison of tiers that could differ
    a, b = both(demo_db, folder, as_of, scoring_data.rfm_view)
    for key in ("cells", "segments"):
        pdt.assert_frame_equal(a[key], b[key], check_exact=True)
    a, b = both(demo_db, folder, as_of, customers_data.customer_list, *SETTINGS[:2], {}, "", "en",
                SETTINGS[2])
    pdt.assert_frame_equal(a["table"], b["table"], check_exact=True)
    assert a["count"] == b["count"] == len(a["table"])
    a, b = both(demo_db, folder, as_of, risk_data.risk_summary)
    for key in ("risk", "demand", "lifecycle", "crosstab"):
        pdt.assert_series_equal(a[key], b[key]) if isinstance(a[key], pd.Series) \
            else pdt.assert_frame_equal(a[key], b[key])
    assert a["value_at_risk"] == b["value_at_risk"]
    for kind in ("high", "dormant"):
        a, b = both(demo_db, folder, as_of, risk_data.risk_list, kind, SETTINGS, "zh")
        assert len(a) > 0
        pdt.assert_frame_equal(a, b, check_exact=True)


def test_segments_are_the_same_from_a_feature_table(demo_db, feature_dir):
    folder, as_of = feature_dir
    a, b = both(demo_db, folder, as_of, segments_data.segment_view, tuple(segments.DEFAULT_FEATURES),
                None, "en", SETTINGS)
    assert a["k"] == b["k"] and a["labels"] == b["labels"]
    pdt.assert_frame_equal(a["overview"], b["overview"], check_exact=True)
    pdt.assert_frame_equal(a["crosstab"], b["crosstab"], check_exact=True)


def test_tasks_are_the_same_as_on_a_database_without_follow_ups(work_db, feature_dir):
    """A feature table holds no follow-ups: its tasks are those of a database without any."""
    folder, as_of = feature_dir
    with_log, _ = both(work_db, folder, as_of, plan_data.tasks, SETTINGS)
    with store.write(work_db) as con:
        con.execute("DELETE FROM followups")
    a, b = both(work_db, folder, as_of, plan_data.tasks, SETTINGS)
    assert len(a) > 0
    pdt.assert_frame_equal(a, b, check_exact=True)
    assert not a["last_followup_date"].equals(with_log["last_followup_date"])  # the log mattered


def test_a_rewritten_folder_gets_a_new_version(feature_dir, tmp_path):
    folder = tmp_path / "features"
    shutil.copytree(feature_dir[0], folder)
    before = parquet_source.feature_table_version(folder)
    assert parquet_source.feature_table_version(folder) == before
    table = folder / "customer_features.parquet"
    os.utime(table, ns=(table.stat().st_atime_ns, table.stat().st_mtime_ns + 1_000_000_000))
    assert parquet_source.feature_table_version(folder) != before


# --- bad folders ----------------------------------------------------------------------

def bad_folder(kind, feature_dir, tmp_path):
    """A folder that is no usable feature table, and the catalogue key that says why."""
    folder = tmp_path / kind
    if kind == "missing":
        return folder, "source.error.missing"
    if kind == "inputs_only":
        folder.mkdir()
        (folder / "customers.parquet").write_bytes(b"")
        return folder, "source.error.inputs_only"
    if kind == "no_table":
        folder.mkdir()
        (folder / "notes.txt").write_text("hello")
        return folder, "source.error.no_table"
    shutil.copytree(feature_dir[0], folder)
    if kind == "columns":
        table = pd.read_parquet(folder / "customer_features.parquet")
        table.drop(columns=["revenue_12m", "spend_90d"]).to_parquet(
            folder / "customer_features.parquet")
        return folder, "source.error.columns"
    meta = json.loads((folder / "features.json").read_text())
    (folder / "features.json").write_text(json.dumps(meta | {"format": 99}))
    return folder, "source.error.format"


@pytest.mark.parametrize("kind", ["missing", "inputs_only", "no_table", "columns", "format"])
def test_a_bad_folder_is_refused_with_a_reason(kind, feature_dir, tmp_path):
    folder, key = bad_folder(kind, feature_dir, tmp_path)
    with pytest.raises(parquet_source.FeatureTableError) as exc:
        parquet_source.load_feature_table(folder)
    assert exc.value.key == key
    if kind == "columns":
        assert exc.value.values["missing"] == "revenue_12m, spend_90d"


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", ["inputs_only", "columns"])
def test_the_sidebar_says_what_is_wrong_with_a_folder(kind, lang, feature_dir, app_db, tmp_path,
                                                      monkeypatch):
    folder, key = bad_folder(kind, feature_dir, tmp_path)
    monkeypatch.setenv("CRM_FEATURES", str(folder))
    at = open_page("scoring", lang)
    values = {"path": str(folder)} | ({"missing": "revenue_12m, spend_90d"}
                                      if kind == "columns" else {})
    assert [e.value for e in at.sidebar.error] == [i18n.t(key, lang, **values)]
    assert [i.value for i in at.main.info] == [i18n.t("source.no_table", lang)]
    assert not at.main.get("metric")


# --- the pages ------------------------------------------------------------------------

def tier_cards(at) -> dict[str, str]:
    return {m.label: m.value for m in at.main.metric}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_scoring_page_gives_the_same_tiers_from_a_feature_table(feature_source, lang,
                                                                monkeypatch):
    folder, as_of = feature_source
    at = open_page("scoring", lang)
    assert not at.exception
    from_table = tier_cards(at)
    assert i18n.t("source.as_of", lang, as_of=as_of) in [c.value for c in at.sidebar.caption]
    assert at.button(key="scoring.save").disabled
    monkeypatch.delenv("CRM_FEATURES")
    from_db = tier_cards(open_page("scoring", lang))
    assert from_table == from_db
    assert set(from_db) == {i18n.label("tier", t, lang) for t in ("high", "potential", "ordinary")}


def test_customers_page_lists_the_same_customers_from_a_feature_table(feature_source,
                                                                      monkeypatch):
    at = open_page("customers")
    assert not at.exception
    counts = [m.value for m in at.main.markdown if "customers match" in m.value]
    table = at.dataframe[0].value
    monkeypatch.delenv("CRM_FEATURES")
    db = open_page("customers")
    assert counts == [m.value for m in db.main.markdown if "customers match" in m.value]
    assert len(counts) == 1
    pdt.assert_frame_equal(table, db.dataframe[0].value)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", ["profile", "review", "clv", "data"])
def test_a_page_that_needs_the_database_says_so(feature_source, page, lang):
    at = open_page(page, lang)
    assert not at.exception
    assert [i.value for i in at.main.info] == [i18n.t(f"source.needs.{page}", lang)]


def test_overview_shows_what_the_table_holds_and_says_the_rest_needs_the_database(
        feature_source, demo_db):
    at = open_page("overview")
    assert [i.value for i in at.main.info] == [i18n.t("source.needs.overview", "en")]
    with store.connect(demo_db) as con:
        customers = store.table_counts(con)["customers"]
    assert [m.value for m in at.main.metric] == [f"{customers:,}"]
    assert len(at.get("plotly_chart")) == 1   # the Pareto curve, no trend


def test_plan_page_lists_tasks_and_keeps_the_database_parts_closed(feature_source):
    at = open_page("plan")
    assert not at.exception
    assert int(at.main.metric[0].value.replace(",", "")) > 0
    assert at.button(key="plan_page.playbook_save").disabled
    assert [i.value for i in at.main.info] == [i18n.t("source.needs.playbook", "en"),
                                               i18n.t("source.needs.followups", "en")]
