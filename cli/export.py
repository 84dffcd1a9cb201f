"""`python -m engine export`: the feature inputs as Parquet (engine.export_parquet)."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import output_folder
from engine.errors import InputRejected
from engine.export_parquet import export_parquet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Write customers, transactions and interactions as Parquet files."
    parser.add_argument("--out", type=output_folder, required=True, metavar="DIR",
                        help="folder for customers.parquet, transactions.parquet, "
                             "interactions.parquet")


def run(args: argparse.Namespace) -> int:
    db = Path(args.db)
    if not db.exists():
        raise InputRejected(f"{db}: no such database file.")
    counts = export_parquet(db, Path(args.out))
    print("Wrote " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items())
          + f" to {args.out}.")
    return 0
