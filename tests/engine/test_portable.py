"""The feature SQL stays portable to Spark, and the committed transpilation is current."""
from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("sqlglot")

from engine.features import portable  # noqa: E402


def test_customer_sql_is_portable():
    sql = portable.DUCKDB_SQL_PATH.read_text(encoding="utf-8")
    assert portable.check(sql) == []


def test_golden_spark_sql_equals_a_fresh_transpilation():
    fresh = portable.transpile_to_spark(portable.DUCKDB_SQL_PATH.read_text(encoding="utf-8"))
    assert portable.SPARK_SQL_PATH.read_text(encoding="utf-8") == fresh, (
        "engine/features/customer.spark.sql is stale: run python -m engine.features.portable "
        "and review the diff")


@pytest.mark.parametrize("snippet, construct", [
    ("SELECT txn_date - first_contact_date FROM t", "date minus date"),
    ("SELECT CAST($as_of AS DATE) - d FROM t", "date minus date"),
    ("SELECT date_diff('month', a_date, b_date) FROM t", "unit 'month'"),
    ("SELECT datediff('year', a_date, b_date) FROM t", "unit 'year'"),
    ("SELECT quantile_cont(x, 0.5) FROM t", "quantile"),
    ("SELECT quantile_disc(x, 0.9) FROM t", "quantile"),
    ("SELECT list_sum(xs) FROM t", "list / array"),
    ("SELECT [x * 2 FOR x IN xs] FROM t", None),
    ("SELECT list_transform(xs, x -> x + 1) FROM t", "list / array"),
    ("SELECT arg_max(product, amount) FROM t", "arg_max"),
    ("SELECT arg_min(product, amount) FROM t", "arg_max"),
    ("SELECT extract(dow FROM txn_date) FROM t", "dow"),
    ("SELECT dayofweek(txn_date) FROM t", "dayofweek"),
    ("SELECT array_agg(product ORDER BY txn_date) FROM t", "array_agg"),
    ("SELECT * FROM generate_series(DATE '2024-01-01', DATE '2024-02-01', INTERVAL 1 DAY)",
     "generate_series"),
    ("SELECT * FROM range(10)", "generate_series"),
    ("SELECT spend / purchases FROM t", "NULLIF"),
    ("SELECT CAST(a AS DOUBLE) / (b + 1) FROM t", "NULLIF"),
])
def test_checker_flags_non_portable_constructs(snippet, construct):
    problems = portable.check(snippet)
    assert problems, snippet
    if construct:
        assert any(construct in p.construct for p in problems), problems


@pytest.mark.parametrize("snippet", [
    "SELECT date_diff('day', a_date, b_date) FROM t",
    "SELECT CAST($as_of - INTERVAL 90 DAY AS DATE)",
    "SELECT spend / NULLIF(purchases, 0), amount / 100, a - b FROM t",
    "SELECT median(x), count(CASE WHEN y > 0 THEN 1 END) FROM t",
])
def test_checker_accepts_portable_snippets(snippet):
    assert portable.check(snippet) == []


def test_transpile_refuses_non_portable_sql():
    with pytest.raises(ValueError, match="not portable"):
        portable.transpile_to_spark("SELECT quantile_cont(x, 0.5) FROM t")


def test_as_of_is_bound_as_a_typed_date_literal_from_a_date_only():
    sql = portable.spark_customer_sql(dt.date(2024, 3, 1))
    assert "DATE '2024-03-01'" in sql
    assert portable._PLACEHOLDER not in sql
    for bad in ("2024-03-01", dt.datetime(2024, 3, 1), "2024-03-01'; DROP TABLE x; --"):
        with pytest.raises(TypeError):
            portable.spark_customer_sql(bad)


def test_money_is_decimal_cents_in_the_schema():
    from engine import store
    assert "amount DECIMAL(18, 2) NOT NULL" in store.MIGRATIONS[0]
