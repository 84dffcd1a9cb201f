"""`python -m engine restore`: replace the database's data with a backup's, checked (engine.backup)."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.backup import BackupRejected, restore
from engine.errors import InputRejected


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Replace the database's data with a backup's, checked row for row."
    parser.add_argument("file", type=Path, metavar="FILE", help="a .duckdb or .zip backup")


def run(args) -> int:
    if not args.file.is_file():
        raise InputRejected(f"{args.file}: no such file.")
    try:
        report = restore(args.db, args.file)
    except BackupRejected as exc:
        raise InputRejected(str(exc)) from None
    for r in report.check.itertuples():
        print(f"  {r.table:<20} {r.rows_restored:>12,} rows  {r.checksum_restored}")
    print(f"Restored {report.rows:,} rows from {args.file}, checksum {report.digest}; "
          "equal to the backup.")
    return 0
