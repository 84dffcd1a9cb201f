"""`python -m engine score`: one row per customer with every lens, written as CSV (DESIGN §5).

The columns and where they come from: `engine.scorecard`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from cli.common import iso_date, output_file
from engine import clv, export, i18n, plan, scoring, store
from engine.errors import InputRejected
from engine.features import customer_features, latest_event_date, optional_columns_present
from engine.features.followup_state import followup_state, no_followups
from engine.scorecard import build_scorecard, lifetime_values


def _numbers(text: str, count: int, names: str) -> list[float]:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count:
        raise argparse.ArgumentTypeError(
            f"expected {count} numbers separated by commas ({names}), got {text!r}")
    return values


def _weights(text: str) -> dict[str, float]:
    values = _numbers(text, 4, ", ".join(scoring.DIMENSIONS))
    try:
        return scoring.validate_weights(dict(zip(scoring.DIMENSIONS, values)))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _thresholds(text: str) -> tuple[float, float]:
    values = _numbers(text, 2, "high, potential")
    try:
        return scoring.validate_thresholds(values)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Score every customer and write one row each to a CSV file."
    parser.add_argument("--as-of", type=iso_date, default=None, metavar="YYYY-MM-DD",
                        help="the date T (default: the latest transaction or interaction)")
    parser.add_argument("--weights", type=_weights, default=dict(scoring.DEFAULT_WEIGHTS),
                        metavar="C,I,S,R",
                        help="weights of consumption, interaction, stability, referral, "
                             "summing to 100 (default: 40,30,20,10)")
    parser.add_argument("--thresholds", type=_thresholds, default=scoring.DEFAULT_THRESHOLDS,
                        metavar="HIGH,POTENTIAL", help="tier thresholds (default: 80,60)")
    parser.add_argument("--with-clv", action="store_true",
                        help="include the 12-month CLV in the consumption score (off by "
                             "default; refused when the lifetime-value models cannot be fitted)")
    parser.add_argument("--lang", choices=("en", "zh"), default="en",
                        help="language of the risk_reasons column (default: en)")
    parser.add_argument("--out", type=output_file, required=True, metavar="FILE.csv",
                        help="the CSV file to write (UTF-8 with BOM)")
    parser.add_argument("--features", type=Path, default=None, metavar="DIR",
                        help="score a precomputed feature table (python -m engine features "
                             "--out DIR) instead of the database; p_alive and clv_12m stay "
                             "empty, next actions are as if there were no follow-ups")


def _summary(card: pd.DataFrame, as_of: dt.date, plan: scoring.ScoringPlan, out: Path) -> str:
    counts = card["tier"].value_counts()
    tiers = ", ".join(f"{t} {int(counts.get(t, 0)):,}" for t in scoring.TIERS)
    lines = [f"Scored {len(card):,} customers as of {as_of}: {tiers}. Wrote {out}."]
    if scoring.CLV_SUB_METRIC in plan.sub_metrics:
        lines.append("The consumption score includes the 12-month CLV.")
    if plan.left_out_sub_metrics:
        lines.append("Left out for lack of data: " + ", ".join(plan.left_out_sub_metrics) + ".")
    if plan.left_out_dimensions:
        rescaled = ", ".join(f"{d} {w:.1f}" for d, w in plan.weights.items())
        lines.append(f"Dimension(s) without data: {', '.join(plan.left_out_dimensions)}; "
                     f"weights rescaled to {rescaled}.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "features", None) is not None:
        return _run_on_features(args)
    db = Path(args.db)
    if not db.exists():
        raise InputRejected(f"{db}: no such database file; import data first "
                            f"(python -m engine import) or make one (python -m engine demo).")
    with store.connect(db) as con:
        as_of = args.as_of or latest_event_date(con) or dt.date.today()
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
        purchases, _ = clv.load_inputs(con, as_of=as_of)
        try:
            actions = {"as_of": as_of, "followup_state": followup_state(con, as_of=as_of),
                       "playbook": plan.load_playbook(con), "lang": args.lang}
        except plan.PlaybookError as exc:
            raise InputRejected(f"{db}: {exc.message(args.lang)}") from None
    with_clv = getattr(args, "with_clv", False)
    try:
        weighting = scoring.scoring_plan(args.weights, available, clv=with_clv)
    except ValueError as exc:
        raise InputRejected(f"{db}: {exc}") from None
    lifetime, left_empty = lifetime_values(purchases, as_of=as_of)
    if with_clv and left_empty:
        raise InputRejected(f"{db}: --with-clv needs the 12-month CLV, but {left_empty}; "
                            f"nothing written (drop --with-clv to score without it).")
    card = build_scorecard(features, weights=args.weights, thresholds=args.thresholds,
                           available=available, lifetime=lifetime, actions=actions,
                           clv_in_score=with_clv)
    export.write_csv(card, args.out)
    print(_summary(card, as_of, weighting, args.out))
    if left_empty:
        print(f"{db}: {left_empty}", file=sys.stderr)
    return 0


def _run_on_features(args: argparse.Namespace) -> int:
    """`--features DIR`: score a feature table from `engine features` (DESIGN §2).

    Only what needs raw events is missing: p_alive and clv_12m (the CLV
    models read purchases) are left empty; next_action and next_action_due
    are computed as if there were no follow-ups, under the default playbook
    (the follow-up log and the saved playbook live in the database). Which
    optional sources hold data comes from DIR/features.json, or is judged
    from the table itself.
    """
    from engine.features import parquet_source

    if getattr(args, "with_clv", False):
        raise InputRejected(f"{args.features}: --with-clv needs the raw purchases of a "
                            f"database (--db); a feature table alone has no lifetime values.")
    try:
        table = parquet_source.load_feature_table(args.features)
    except parquet_source.FeatureTableError as exc:
        raise InputRejected(exc.message(getattr(args, "lang", "en"))) from None
    features, available = table.frame, table.available
    as_of = _feature_table_date(args.features, table.as_of, args.as_of)
    try:
        weighting = scoring.scoring_plan(args.weights, available)
    except ValueError as exc:
        raise InputRejected(f"{args.features}: {exc}") from None
    actions = {"as_of": as_of, "followup_state": no_followups(),
               "playbook": plan.DEFAULT_PLAYBOOK, "lang": getattr(args, "lang", "en")}
    card = build_scorecard(features, weights=args.weights, thresholds=args.thresholds,
                           available=available, lifetime=None, actions=actions)
    export.write_csv(card, args.out)
    print(_summary(card, as_of, weighting, args.out))
    print(i18n.t("score.cli.features_left_out", getattr(args, "lang", "en"),
                 folder=args.features), file=sys.stderr)
    return 0


def _feature_table_date(folder: Path, table_as_of: dt.date | None,
                        asked: dt.date | None) -> dt.date:
    """The T of a feature table's scores: the table's own. Its windows were counted at that
    date, so scoring at another would measure days since from one date and spend, complaints
    and interactions from another (DESIGN §4: every metric as of one T)."""
    if table_as_of is None and asked is None:
        raise InputRejected(f"{folder}: the table does not say which date its features were "
                            f"computed for (no features.json); give that date with --as-of.")
    if table_as_of is not None and asked is not None and asked != table_as_of:
        raise InputRejected(f"{folder}: its features were computed as of {table_as_of}, not "
                            f"{asked}; drop --as-of, or compute them as of {asked} first "
                            f"(python -m engine features --as-of {asked} ...).")
    return table_as_of or asked
