"""`python -m engine prepare`: compute and keep in the file what the dashboard's pages show
first for the current data (engine.prepared), e.g. after a nightly import, so that
the next visit of each page, even after a restart, finds it ready."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from engine import prepared
from engine.errors import InputRejected


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Compute and keep in the database file the results the dashboard "
                          "shows first (feature table, risk trend, the latest review) for "
                          "the current data.")


def run(args: argparse.Namespace) -> int:
    if not Path(args.db).exists():
        raise InputRejected(f"{args.db}: no such database file.")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"\rstep {done} of {total}", end="", file=sys.stderr, flush=True)

    version = prepared.prepare(args.db, progress=progress)
    print(file=sys.stderr)
    print(f"Prepared data version {version} of {args.db} in "
          f"{time.perf_counter() - started:.1f} s.")
    return 0
