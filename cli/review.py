"""`python -m engine review`: the month's review (DESIGN §4.8) as text, JSON, Excel and HTML."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from cli.common import output_file
from engine import i18n, store
from engine.currency import saved_currency
from engine.errors import InputRejected
from engine.months import month_end, month_key, parse_month, shift_month
from engine.review import monthly_review, review_json
from report.review import review_workbook, summary_lines


def _month_argument(text: str) -> date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Review a month (DESIGN §4.8): tier shifts, wake-up, win-back and "
                          "retention rates, complaints, satisfaction, revenue by tier.")
    parser.add_argument("--month", type=_month_argument, required=True, metavar="YYYY-MM",
                        help="the month M to review (compared with M−1)")
    parser.add_argument("--out", type=output_file, metavar="FILE.html",
                        help="write a self-contained HTML report (opens offline)")
    parser.add_argument("--xlsx", type=output_file, metavar="FILE.xlsx",
                        help="write an Excel workbook, one sheet per table")
    parser.add_argument("--json", type=output_file, metavar="FILE.json",
                        help="write the figures as JSON (DESIGN §5)")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="en",
                        help="language of the report, workbook and summary (default: en)")


def run(args: argparse.Namespace) -> int:
    db = Path(args.db)
    if not db.exists():
        raise InputRejected(f"{db}: no such database file; import data first "
                            f"(python -m engine import) or make one (python -m engine demo).")
    with store.connect(db) as con:
        first, last = store.date_range(con)
        if last is None:
            raise InputRejected(f"{db}: the database holds no transactions or interactions.")
        if month_end(shift_month(args.month, -1)) < first or args.month > last:
            raise InputRejected(
                f"{db}: nothing to review for {month_key(args.month)}: the data runs from "
                f"{first} to {last}, and a review needs the month and the one before it.")
        review = monthly_review(con, month=args.month)
        sign = saved_currency(con)
    if not review.complete:
        print(i18n.t("review.cli.incomplete", args.lang, last=last, month=month_key(args.month)),
              file=sys.stderr)
    for line in summary_lines(review, args.lang, sign):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(review_json(review), ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
        print(i18n.t("review.cli.wrote", args.lang, path=args.json))
    if args.xlsx:
        args.xlsx.write_bytes(review_workbook(review, args.lang, sign))
        print(i18n.t("review.cli.wrote", args.lang, path=args.xlsx))
    if args.out:
        from report.html import review_html   # plotly loads only for an HTML report
        args.out.write_text(review_html(review, args.lang, sign), encoding="utf-8")
        print(i18n.t("review.cli.wrote", args.lang, path=args.out))
    return 0
