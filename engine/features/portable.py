"""The feature SQL on other engines: a portability check and the Spark transpilation.

`customer.sql` stays hand-written DuckDB SQL (DESIGN §2, "Design principle
for scale"). SQLGlot transpiles it to Spark SQL; `customer.spark.sql` beside
it is that transpilation, committed so that a SQLGlot upgrade shows up as a
reviewable diff (tests/engine/test_portable.py compares it with a fresh one).

`check(sql)` parses DuckDB SQL with SQLGlot and walks the tree for the
constructs that break or silently change meaning on Spark:

- date minus date (DuckDB gives an integer or an interval, Spark an interval
  or an error): use date_diff('day', a, b);
- date_diff with a unit other than day (DuckDB counts boundaries crossed,
  Spark's months_between is fractional);
- quantile_cont / quantile_disc / percentile_* (Spark's approximate forms
  differ; median() is exact on both);
- list and array functions, list literals and lambdas / comprehensions;
- arg_max / arg_min (ties and NULL handling differ);
- extract(dow) / dayofweek (DuckDB: Sunday = 0, Spark: Sunday = 1);
- array_agg(... ORDER BY ...) (Spark's collect_list has no order);
- generate_series / range / unnest as a table;
- division whose divisor is not NULLIF(..., 0) or a non-zero number (DuckDB
  and Spark agree on x / 0 being NULL only outside ANSI mode).

`$as_of` is bound on Spark by substituting a typed DATE literal made here
from a `datetime.date`, never from user text.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

HERE = Path(__file__).resolve().parent
DUCKDB_SQL_PATH = HERE / "customer.sql"
SPARK_SQL_PATH = HERE / "customer.spark.sql"
PARAMETER = "as_of"
_PLACEHOLDER = "__AS_OF_DATE__"  # stands in for $as_of in the Spark text


@dataclass(frozen=True)
class Problem:
    construct: str
    sql: str

    def __str__(self) -> str:
        return f"{self.construct}: {self.sql}"


_DATEISH_NAME = re.compile(r"(^|_)(date|ts|t|day|at|time|timestamp|edge.*|from_\w+)($|_)", re.I)
_DATE_FUNCS = (exp.CurrentDate, exp.CurrentTimestamp, exp.DateTrunc, exp.TimestampTrunc,
               exp.TsOrDsToDate, exp.StrToDate, exp.Date, exp.DateAdd, exp.DateSub)
_LIST_PREFIXES = ("list_", "array_", "len", "unnest", "flatten")
_TABLE_FUNCS = {"generate_series", "range", "unnest", "explode"}


def _is_dateish(node: exp.Expression) -> bool:
    """A heuristic: does this operand look like a date or timestamp?"""
    node = node.unnest() if isinstance(node, exp.Paren) else node
    if isinstance(node, exp.Cast):
        return node.to.this in (exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP,
                                exp.DataType.Type.DATETIME, exp.DataType.Type.TIMESTAMPTZ)
    if isinstance(node, _DATE_FUNCS):
        return True
    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        return True  # $as_of is a date
    if isinstance(node, exp.Column):
        return bool(_DATEISH_NAME.search(node.name))
    if isinstance(node, exp.Anonymous):
        return node.name.lower() in ("today", "now", "make_date", "date_trunc")
    return False


def _is_safe_divisor(node: exp.Expression) -> bool:
    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    if isinstance(node, exp.Nullif):
        return True
    if isinstance(node, exp.Literal) and node.is_number:
        return float(node.this) != 0
    return False


def _func_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""


def check(sql: str) -> list[Problem]:
    """The non-portable constructs in DuckDB `sql`; empty when it is portable."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        return [Problem("does not parse as DuckDB SQL (list comprehension?)", str(exc)[:200])]
    problems: list[Problem] = []

    def flag(construct: str, node: exp.Expression) -> None:
        problems.append(Problem(construct, node.sql(dialect="duckdb")[:200]))

    for tree in trees:
        if tree is None:
            continue
        for node in tree.walk():
            name = _func_name(node)
            if isinstance(node, exp.Sub):
                if not isinstance(node.expression, exp.Interval) and (
                        _is_dateish(node.this) or _is_dateish(node.expression)):
                    flag("date minus date (use date_diff('day', a, b))", node)
            elif isinstance(node, (exp.DateDiff, exp.DatetimeDiff, exp.TimestampDiff)):
                unit = node.args.get("unit")
                unit_name = (unit.name if unit is not None else "day").lower()
                if unit_name not in ("day", "days", "d"):
                    flag(f"date_diff with unit '{unit_name}' (only 'day' is portable)", node)
            elif isinstance(node, (exp.PercentileCont, exp.PercentileDisc, exp.Quantile,
                                   exp.ApproxQuantile)) or name.startswith(("quantile",
                                                                            "percentile")):
                flag("quantile / percentile (use median())", node)
            elif isinstance(node, exp.ArrayAgg) and node.find(exp.Order):
                flag("array_agg(... ORDER BY ...)", node)
            elif isinstance(node, (exp.ArgMax, exp.ArgMin)) or name in (
                    "arg_max", "arg_min", "argmax", "argmin", "max_by", "min_by"):
                flag("arg_max / arg_min", node)
            elif isinstance(node, exp.Extract):
                part = node.this.name.lower() if node.this is not None else ""
                if part in ("dow", "dayofweek", "isodow", "weekday", "dw"):
                    flag("extract(dow) (Sunday is 0 on DuckDB, 1 on Spark)", node)
            elif isinstance(node, (exp.DayOfWeek, exp.DayOfWeekIso)) or name in (
                    "dayofweek", "isodow", "weekday"):
                flag("dayofweek (Sunday is 0 on DuckDB, 1 on Spark)", node)
            elif isinstance(node, exp.GenerateSeries) or name in _TABLE_FUNCS:
                flag("generate_series / range / unnest as a table", node)
            elif isinstance(node, (exp.Lambda, exp.Array, exp.List, exp.Bracket, exp.Unnest,
                                   exp.Explode)) \
                    or type(node).__name__.startswith(("Array", "List")) \
                    or name.startswith(_LIST_PREFIXES):
                flag("list / array function or comprehension", node)
            elif isinstance(node, exp.Div):
                if not _is_safe_divisor(node.expression):
                    flag("division without NULLIF(divisor, 0)", node)
    return problems


def _with_placeholder(tree: exp.Expression) -> exp.Expression:
    def swap(node):
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            return exp.column(_PLACEHOLDER)
        return node
    return tree.transform(swap)


def transpile_to_spark(sql: str) -> str:
    """DuckDB SQL to Spark SQL; `$as_of` becomes the placeholder bound by `bind`."""
    problems = check(sql)
    if problems:
        raise ValueError("not portable to Spark:\n" + "\n".join(map(str, problems)))
    tree = sqlglot.parse_one(sql, read="duckdb")
    text = _with_placeholder(tree).sql(dialect="spark", pretty=True)
    header = ("-- GENERATED from customer.sql by engine/features/portable.py "
              f"(SQLGlot {sqlglot.__version__}); do not edit.\n"
              "-- Regenerate: python -m engine.features.portable\n")
    return header + text + "\n"


def bind(spark_sql: str, as_of: dt.date) -> str:
    """The Spark SQL with T as a typed DATE literal (from a date object only)."""
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a datetime.date, not {type(as_of).__name__}")
    literal = f"DATE '{as_of.isoformat()}'"  # isoformat of a date: digits and dashes only
    assert re.fullmatch(r"DATE '\d{4}-\d{2}-\d{2}'", literal)
    return re.sub(rf"`?\b{_PLACEHOLDER}\b`?", literal, spark_sql)


def spark_customer_sql(as_of: dt.date) -> str:
    """The committed Spark transpilation of customer.sql, bound to T."""
    return bind(SPARK_SQL_PATH.read_text(encoding="utf-8"), as_of)


def main() -> None:
    SPARK_SQL_PATH.write_text(transpile_to_spark(DUCKDB_SQL_PATH.read_text(encoding="utf-8")),
                              encoding="utf-8")
    print(f"wrote {SPARK_SQL_PATH}")


if __name__ == "__main__":
    main()
