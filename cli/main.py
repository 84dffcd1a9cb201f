"""The command line (DESIGN §5).

Each subcommand lives beside its logic and registers itself here through a
`(name, add_arguments, run)` triple, so this file stays a dispatcher. Exit
codes: 0 success, 1 input rejected, 2 usage error (argparse's own).
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from engine.store import StoreLocked, default_db_path

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD, else a usage error (exit 2)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}")


class InputRejected(Exception):
    """Raised by a subcommand when its input is refused; the message is shown as is."""


def _subcommands():
    """The subcommands, imported lazily so `--help` stays fast."""
    from engine import (access, backup, clv, demo, export_parquet, ingest, review, scorecard,
                        spark_features)
    return [demo.COMMAND, ingest.COMMAND, clv.COMMAND, scorecard.COMMAND, review.COMMAND,
            export_parquet.COMMAND, spark_features.COMMAND, backup.BACKUP_COMMAND,
            backup.RESTORE_COMMAND, access.COMMAND]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine",
                                     description="Customer tiering engine")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, add_arguments, run in _subcommands():
        p = sub.add_parser(name)
        p.add_argument("--db", type=Path, default=None,
                       help=f"DuckDB file (default: $CRM_DB or {default_db_path()})")
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.db = args.db or default_db_path()
    try:
        return args.run(args) or EXIT_OK
    except (InputRejected, StoreLocked) as exc:
        print(exc, file=sys.stderr)
        return EXIT_REJECTED
