"""`python -m engine demo`: write the demo database (engine.demo) and say what it holds."""
from __future__ import annotations

import argparse
import time

from engine.demo import generate_demo


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
    """Write the demo database and print one line with what it holds."""
    began = time.perf_counter()
    counts = generate_demo(args.db, customers=args.customers, months=args.months,
                           seed=args.seed, txns_per_customer=args.txns_per_customer)
    print(f"{args.db}: {counts['customers']:,} customers, "
          f"{counts['transactions']:,} transactions, "
          f"{counts['interactions']:,} interactions, "
          f"{counts['followups']:,} follow-ups "
          f"({time.perf_counter() - began:.1f} s)")
    return 0
