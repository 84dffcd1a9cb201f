"""`python -m engine demo`: write the demo database (engine.demo) and say what it holds."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli.common import EXIT_REJECTED, counted
from engine import audit
from engine.demo import generate_demo
from engine.ingest.history import list_batches, reset


def add_arguments(parser) -> None:
    """Options of `python -m engine demo`."""
    parser.add_argument("--customers", type=_at_least(1, int), default=5000,
                        help="customers to make (default 5000)")
    parser.add_argument("--months", type=_at_least(1, int), default=24,
                        help="months of history ending 2026-06-30 (default 24)")
    parser.add_argument("--seed", type=int, default=7,
                        help="random seed; the same seed makes the same data (default 7)")
    parser.add_argument("--txns-per-customer", type=_at_least(0, float), default=30.0,
                        help="average transactions per customer (default 30)")
    parser.add_argument("--replace", action="store_true",
                        help="replace a database that holds imported data (refused without)")


def _imports_in_force(db: Path) -> int:
    if not Path(db).exists():
        return 0
    return int(list_batches(db)["undone_at"].isna().sum())


def _at_least(low, kind):
    """An argparse type: `kind` of the text, refused below `low` (exit 2)."""
    def parse(text: str):
        value = kind(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {text}")
        return value
    parse.__name__ = kind.__name__  # argparse names it in "invalid int value"
    return parse


def run(args) -> int:
    """Write the demo database and print one line with what it holds; a database holding
    imports is left alone unless --replace says to replace it (DESIGN §6: bad input never
    loses data, and a mistyped --db is bad input)."""
    imported = _imports_in_force(args.db)
    if imported and not args.replace:
        print(f"engine demo: {args.db} holds imported data (imports in force: {imported:,}); "
              "the demo would replace it. Give another --db, or --replace to replace it.",
              file=sys.stderr)
        return EXIT_REJECTED
    began = time.perf_counter()
    options = dict(customers=args.customers, months=args.months, seed=args.seed,
                   txns_per_customer=args.txns_per_customer)
    # replacing imports empties their history too, as the Data page's "Start over" does
    counts = (reset(args.db, demo=True, actor=audit.cli_actor(), **options) if imported
              else generate_demo(args.db, **options))
    print(f"{args.db}: {counted(counts['customers'], 'customer')}, "
          f"{counted(counts['transactions'], 'transaction')}, "
          f"{counted(counts['interactions'], 'interaction')}, "
          f"{counted(counts['followups'], 'follow-up')} "
          f"({time.perf_counter() - began:.1f} s)")
    return 0
