"""`python -m engine import`: the import of DESIGN §5 for scheduled jobs and scripts.

    python -m engine import --db DB --table TABLE FILE [FILE ...]
        [--mapping JSON] [--create-customers] [--skip-invalid [--rejects FILE.csv]]

All files go in one transaction (customers first). Exit 0 when imported, 1
when a file is rejected (nothing written; a new database file is removed
again), 2 on a usage error. Messages are in English.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from cli.common import (EXIT_OK, EXIT_REJECTED, EXIT_USAGE, counted, output_file,
                        unwritable_file)
from engine import audit
from engine.errors import InputRejected
from engine.ingest.columns import TABLES
from engine.ingest.errors import ImportRejected
from engine.ingest.load import ImportItem, ImportReport, import_files, preview_import
from engine.ingest.mapping import load_mapping, parse_mapping_json

SHOWN_PROBLEMS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `python -m engine import`."""
    parser.add_argument("--table", required=True, choices=list(TABLES))
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="CSV (comma, semicolon or tab) or .xlsx")
    parser.add_argument("--mapping", metavar="JSON",
                        help='headers to columns, inline or a file: {"下单日期": "txn_date"}')
    parser.add_argument("--saved-mapping", metavar="NAME",
                        help="a mapping saved on the Data page")
    parser.add_argument("--create-customers", action="store_true",
                        help="add customers the file names but the database lacks")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="import the valid rows, write the others to a rejects file")
    parser.add_argument("--rejects", type=output_file, metavar="FILE.csv",
                        help="where --skip-invalid writes rejected rows "
                             "(default: NAME.rejects.csv next to the input)")
    parser.add_argument("--encoding", help="e.g. utf-8, gbk (default: detected)")
    parser.add_argument("--delimiter", help=", ; tab or | (default: detected)")
    parser.add_argument("--sheet", help="sheet of an .xlsx file (default: the first); "
                        "all: every sheet with the first sheet's columns")
    parser.add_argument("--day-first", action=argparse.BooleanOptionalAction, default=None,
                        help="read 01.02.2024 as 1 February (default: from the file)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check and report, write nothing")
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)


def run(args) -> int:
    """Import the files, print one report line per file; see the module docstring."""
    try:
        mapping = _mapping(args)
        _check_usage(args)
    except ValueError as exc:
        print(f"engine import: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = dict(create_customers=args.create_customers, skip_invalid=args.skip_invalid,
                   encoding=args.encoding, delimiter=args.delimiter, sheet=args.sheet,
                   day_first=args.day_first, today=args.today)
    try:
        if args.dry_run:
            reports = [preview_import(args.db, f, args.table, mapping=mapping, **options)
                       for f in args.files]
        else:
            reports = import_files(args.db, [ImportItem(f, args.table, mapping)
                                             for f in args.files], actor=audit.cli_actor(),
                                   **options)
    except ImportRejected as exc:
        raise InputRejected(str(exc)) from None
    except ValueError as exc:   # an unknown encoding or delimiter
        print(f"engine import: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path, report in zip(args.files, reports):
        print(_describe(report, path, args))
    if args.dry_run and any(r.problem_count for r in reports) and not args.skip_invalid:
        return EXIT_REJECTED
    return EXIT_OK


def _mapping(args):
    mapping = parse_mapping_json(args.mapping) if args.mapping else None
    if args.saved_mapping:
        if not Path(args.db).exists():
            raise ValueError(f"no saved mapping named {args.saved_mapping!r} ({args.db} does not exist)")
        try:
            table, saved = load_mapping(args.db, args.saved_mapping)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        if table != args.table:
            raise ValueError(f"mapping {args.saved_mapping!r} is for {table}, not {args.table}")
        mapping = {**saved, **(mapping or {})}
    return mapping


def _check_usage(args) -> None:
    missing = [str(f) for f in args.files if not f.is_file()]
    if missing:
        raise ValueError(f"no such file: {', '.join(missing)}")
    if args.rejects and not args.skip_invalid:
        raise ValueError("--rejects needs --skip-invalid")
    if args.rejects and len(args.files) > 1:
        raise ValueError("--rejects takes one input file; leave it out to write "
                         "NAME.rejects.csv next to each input")
    if args.skip_invalid and not args.rejects and not args.dry_run:
        # checked before the import: found only when writing, the rows would be lost
        for problem in filter(None, (unwritable_file(_rejects_path(f)) for f in args.files)):
            raise ValueError(f"{problem}, where the rejected rows go: choose another place "
                             "with --rejects")


def _rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def _describe(report: ImportReport, path: Path, args) -> str:
    lines = [report.summary("en")]
    if report.batch_id is not None:
        lines[0] += f" Batch {report.batch_id}."
    for column, values in report.other_values.items():
        shown = ", ".join(f"{v} ×{n}" for v, n in list(values.items())[:5])
        lines.append(f"  {column} stored as other: {shown}")
    if report.same_file_batches:
        lines.append("  the same file was imported before as batch "
                     + ", ".join(map(str, report.same_file_batches)))
    if report.rejects is not None and len(report.rejects) and not args.dry_run:
        target = args.rejects or _rejects_path(path)
        target.write_bytes(report.rejects_csv())
        lines.append(f"  {counted(len(report.rejects), 'rejected row')} written to {target}")
    for problem in report.problems[:SHOWN_PROBLEMS]:
        lines.append(f"  {problem.message('en')}")
    if report.problem_count > SHOWN_PROBLEMS:
        lines.append(f"  … and {report.problem_count - SHOWN_PROBLEMS:,} more problems")
    return "\n".join(lines)
