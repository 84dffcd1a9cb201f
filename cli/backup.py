"""`python -m engine backup`: a backup of the whole database (engine.backup)."""
from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import output_file
from engine.backup import KINDS, digest, write_backup
from engine.errors import InputRejected


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Write a backup of the whole database (DuckDB file or Parquet zip)."
    parser.add_argument("--out", type=output_file, required=True, metavar="FILE",
                        help="FILE.duckdb, or FILE.zip for one Parquet file per table")
    parser.add_argument("--format", choices=KINDS, default=None,
                        help="default: parquet for a .zip name, else duckdb")


def run(args) -> int:
    if not Path(args.db).exists():
        raise InputRejected(f"{args.db}: no such database file.")
    saved = write_backup(args.db, args.out, args.format)
    print(f"Wrote {args.out}: {saved['rows'].sum():,} rows in {len(saved)} tables, "
          f"checksum {digest(saved)}.")
    return 0
