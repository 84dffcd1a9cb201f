"""What is prepared ahead of the pages (engine.prepared): each kept result equals the one
computed straight from the data, and once prepared, the pages' questions are answered
from the file without computing."""
from __future__ import annotations

import shutil
from dataclasses import fields
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from cli.main import main as cli_main
from engine import (clv, clv_page, derived, plan, prepared, profile, review, risk, scoring,
                    segments, store)
from engine.features import activity, customer_features, optional_columns_present
from engine.features.followup_state import followup_state
from engine.months import last_month_ends, month_key
from engine.scoring_settings import DEFAULT_SETTINGS
from tests.helpers import assert_same_clv


@pytest.fixture(scope="module")
def ready(demo_db, tmp_path_factory):
    """A copy of the demo prepared once: (path, data version, T, the month the Review opens
    on), and the progress `prepare` reported."""
    db = tmp_path_factory.mktemp("prepared") / "demo.duckdb"
    shutil.copy(demo_db, db)
    steps = []
    version = prepared.prepare(db, progress=lambda done, total: steps.append((done, total)))
    with store.connect(db) as con:
        first, last = store.date_range(con)
    return db, version, last, month_key(review.reviewable_months(first, last)[0]), steps


def fail(*args, **kwargs):
    raise AssertionError("computed, not read from the file")


def test_prepare_counts_its_steps_and_leaves_its_mark(ready):
    db, version, *_, steps = ready
    # features, sub-scores, segments, overview, risk trend, month-end tiers, tasks, the CLV
    # fit and its holdout check, 12 months of the review
    assert steps == [(k, 21) for k in range(22)]
    assert prepared.is_prepared(db, version)


def test_the_features_kept_are_those_of_the_query(ready, monkeypatch):
    db, version, last, *_ = ready
    with store.connect(db) as con:
        expected = customer_features(con, as_of=last)
    monkeypatch.setattr(prepared, "customer_features", fail)
    pd.testing.assert_frame_equal(prepared.features(db, version, last), expected)


def test_the_sub_scores_kept_are_those_of_the_features(ready, monkeypatch):
    db, version, last, *_ = ready
    with store.connect(db) as con:
        available = optional_columns_present(con, as_of=last)
        expected = scoring.sub_metric_scores(customer_features(con, as_of=last),
                                             available=available)
    monkeypatch.setattr(scoring, "sub_metric_scores", fail)
    scores, present = prepared.sub_scores(db, version, last)
    pd.testing.assert_frame_equal(scores, expected)
    assert present == available


def test_the_segments_kept_are_those_of_the_features(ready, monkeypatch):
    db, version, last, *_ = ready
    with store.connect(db) as con:
        expected = segments.segment_customers(customer_features(con, as_of=last))
    monkeypatch.setattr(segments, "segment_customers", fail)
    got = prepared.segmentation(db, version, last)
    pd.testing.assert_frame_equal(got.assignment(), expected.assignment())
    pd.testing.assert_frame_equal(got.curve, expected.curve)
    assert (got.k, got.auto, got.fit_rows, got.columns) == (
        expected.k, expected.auto, expected.fit_rows, expected.columns)
    assert got.silhouette == expected.silhouette
    for name in ("fills", "mean_", "scale_", "centers_"):
        assert np.array_equal(getattr(got.model, name), getattr(expected.model, name)), name
    table = prepared.features(db, version, last)
    assert np.array_equal(got.model.predict(table), expected.model.predict(table))


def test_the_risk_trend_kept_is_the_one_computed(ready, monkeypatch):
    db, version, last, *_ = ready
    expected = risk.flagged_by_month(db, as_of=last)
    monkeypatch.setattr(risk, "flagged_by_month", fail)
    pd.testing.assert_frame_equal(prepared.risk_trend(db, version, last), expected)


def review_from_kept(db, version, month, snapshot):
    """The review of `month` put together from kept months, as the Review page does."""
    months = review.review_months(month)
    pieces = [prepared.review_month(db, version, month_key(m), DEFAULT_SETTINGS, snapshot)
              for m in months]
    return review.build_review(
        month, months=months, summaries=[p["summary"] for p in pieces],
        changes=pieces[-1]["changes"], rates=[prepared.month_rates(p) for p in pieces],
        complaints=pd.concat([p["complaints"] for p in pieces], ignore_index=True),
        interactions=pd.concat([p["interactions"] for p in pieces], ignore_index=True),
        data_end=_data_end(db))


def _data_end(db):
    with store.connect(db) as con:
        return store.date_range(con)[1]


def assert_same_review(got: review.MonthlyReview, expected: review.MonthlyReview) -> None:
    for field in fields(review.MonthlyReview):
        a, b = getattr(got, field.name), getattr(expected, field.name)
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_dtype=True)
        else:
            assert a == b, field.name


def test_the_review_kept_is_the_review_computed_from_the_data(ready, monkeypatch):
    db, version, _, month, _ = ready
    with store.connect(db) as con:
        expected = review.monthly_review(con, month=month)
    for name in ("month_activity_for", "month_end_snapshot"):
        monkeypatch.setattr(review, name, fail)
    assert_same_review(review_from_kept(db, version, month, fail), expected)


def test_a_month_not_prepared_is_computed_kept_and_equal(ready):
    db, version, _, month, _ = ready
    older = month_key(review.review_months(month, 14)[0])   # two months before the prepared ones
    with store.connect(db) as con:
        expected = review.monthly_review(con, month=older)
    got = review_from_kept(db, version, older, prepared.snapshots_in_order(db))
    assert_same_review(got, expected)
    with store.connect(db) as con:
        assert derived.load(con, "review_month", {"month": older, "settings": DEFAULT_SETTINGS},
                            version) is not derived.MISSING


def test_a_new_data_version_is_not_prepared_until_prepared_again(ready, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(ready[0], db)
    with store.write(db) as con:
        con.execute("INSERT INTO customers (customer_id) VALUES ('NEW-1')")
    version = store.data_version(db)
    assert not prepared.is_prepared(db, version)
    assert cli_main(["prepare", "--db", str(db)]) == 0
    assert prepared.is_prepared(db, version)
    assert "NEW-1" in set(prepared.features(db, version, ready[2])["customer_id"])


def test_an_empty_file_has_nothing_to_prepare(tmp_path):
    db = tmp_path / "empty.duckdb"
    with store.connect(db):
        pass
    assert prepared.prepare(db) == 0 and not prepared.is_prepared(db, 0)


def test_the_features_of_another_date_are_not_kept(ready):
    db, version, last, *_ = ready
    earlier = date(last.year - 1, last.month, 1)
    with store.connect(db) as con:
        expected = customer_features(con, as_of=earlier)
    pd.testing.assert_frame_equal(prepared.features(db, version, earlier, keep=False), expected)
    with store.connect(db) as con:
        assert derived.load(con, "features", {"as_of": earlier}, version) is derived.MISSING


def test_the_overview_kept_is_the_one_computed(ready):
    db, version, last, *_ = ready
    with store.connect(db) as con:
        expected = {"kpis": activity.overview_kpis(con, as_of=last),
                    "monthly": activity.monthly_activity(con, as_of=last),
                    "by_region": activity.revenue_by(con, as_of=last, column="region"),
                    "by_source": activity.revenue_by(con, as_of=last, column="source")}
    kept = prepared.overview(db, version, last)
    assert kept["kpis"] == expected["kpis"]
    for name in ("monthly", "by_region", "by_source"):
        pd.testing.assert_frame_equal(kept[name], expected[name])


def test_the_month_end_tiers_kept_give_each_customers_tier_history(ready, monkeypatch):
    db, version, last, *_ = ready
    with store.connect(db) as con:
        snapshots = [(day, *profile.month_end_sub_scores(con, as_of=day))
                     for day in last_month_ends(last)]
        customers = list(con.execute("SELECT customer_id FROM customers ORDER BY customer_id "
                                     "LIMIT 3").fetchnumpy()["customer_id"])
    monkeypatch.setattr(profile, "month_end_sub_scores", fail)
    table = prepared.month_end_tiers(db, version, last, DEFAULT_SETTINGS)
    for customer in [*customers, "NO-SUCH-CUSTOMER"]:
        pd.testing.assert_frame_equal(profile.customer_tier_history(table, customer),
                                      profile.tier_history(snapshots, customer))


def test_the_tasks_kept_are_the_task_list_of_the_data(ready, monkeypatch):
    db, version, last, *_ = ready
    with store.connect(db) as con:
        table = customer_features(con, as_of=last)
        scores = scoring.score_customers(table, available=optional_columns_present(con, as_of=last))
        expected = plan.task_list(table, tiers=scores.set_index("customer_id")["tier"],
                                  followup_state=followup_state(con, as_of=last), as_of=last,
                                  playbook=plan.load_playbook(con))
    monkeypatch.setattr(plan, "task_list", fail)
    kept = prepared.tasks(db, version, last, DEFAULT_SETTINGS)
    assert len(kept) > 0
    pd.testing.assert_frame_equal(kept, expected)


def test_the_clv_fit_and_holdout_check_kept_are_those_computed(ready, monkeypatch):
    db, version, last, *_ = ready
    with store.connect(db) as con:
        first, _ = store.date_range(con)
        expected = clv.compute_clv(con, as_of=last)
        calibration_end = clv_page.calibration_choice(first, last)[0]
        check = clv.compute_clv(con, as_of=last, calibration_end=calibration_end)
    monkeypatch.setattr(clv, "fit_and_predict", fail)
    assert_same_clv(prepared.clv_fit(db, version, last), expected)
    kept = prepared.clv_holdout(db, version, last, calibration_end)
    assert kept["holdout"] == check.holdout
    pd.testing.assert_frame_equal(kept["by_frequency"], check.holdout_frequency)
    with pytest.raises(AssertionError, match="computed"):   # another date is not prepared
        prepared.clv_holdout(db, version, last, calibration_end - timedelta(days=1))


def test_a_holdout_check_without_a_fit_is_kept_as_its_reason(ready):
    db, version, last, *_ = ready
    first_day = date(2000, 1, 1)   # no purchase yet: no customers to fit
    check = prepared.clv_holdout(db, version, last, first_day)
    assert check["error"].code == "no_customers"
    with store.connect(db) as con:
        assert derived.load(con, "clv_holdout", {"as_of": last, "calibration_end": first_day},
                            version) is not derived.MISSING


def assert_same_value(a, b) -> None:
    """Equal nested dicts of frames and plain values."""
    if isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            assert_same_value(a[k], b[k])
    elif isinstance(b, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert a == b


def test_the_months_kept_are_read_together_and_those_not_kept_are_none(ready):
    """review_months_kept gives what review_month keeps, through one opening of the file,
    and None for a month not prepared (the page then computes it)."""
    db, version, _, month, _ = ready
    months = [month_key(m) for m in review.review_months(month)]
    got = prepared.review_months_kept(db, version, [*months, "1999-01"], DEFAULT_SETTINGS)
    assert got[-1] is None
    for key, piece in zip(months, got):
        assert_same_value(piece, prepared.review_month(db, version, key, DEFAULT_SETTINGS, fail))
    assert prepared.review_months_kept(db, version + 1, months[:1], DEFAULT_SETTINGS) == [None]
