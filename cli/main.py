"""The command line (DESIGN §5): the parser, the dispatch, and the errors mapped to exit codes.

Each subcommand is a module of this package with `add_arguments(parser)` and
`run(args)`. Only the module of the subcommand named on the command line is
imported, so `--help` and a light subcommand do not load scikit-learn, SciPy
or plotly. Exit codes (cli.common): 0 success, 1 input rejected (the
engine's InputRejected, or a database locked by another process), 2 usage
error (argparse's own, an output that cannot be written, a --db that is no database of
this app).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from cli.common import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from engine.errors import InputRejected
from engine import workfiles
from engine.store import ForeignFile, StoreLocked, default_db_path

SUBCOMMANDS = {   # name -> module under cli/, in the order `--help` lists them
    "demo": "demo", "import": "ingest", "clv": "clv", "score": "score", "review": "review",
    "export": "export", "features": "features", "prepare": "prepare", "backup": "backup",
    "restore": "restore", "hash-password": "hash_password",
}


def _module(name: str):
    return importlib.import_module(f"cli.{SUBCOMMANDS[name]}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s own options are added (the others' modules stay unloaded)."""
    parser = argparse.ArgumentParser(prog="python -m engine",
                                     description="Customer tiering engine")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        p = sub.add_parser(name)
        p.add_argument("--db", type=Path, default=None,
                       help=f"DuckDB file (default: $CRM_DB or {default_db_path()})")
        if name == command:
            _module(name).add_arguments(p)
    return parser


def _named_command(argv: list[str]) -> str | None:
    """The subcommand in `argv`: its first word that is not an option (the top level has no
    option taking a value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(_named_command(argv)).parse_args(argv)
    args.db = args.db or default_db_path()
    workfiles.sweep()   # what a killed run left behind (a restore's staged copy, say)
    try:
        return _module(args.command).run(args) or EXIT_OK
    except (InputRejected, StoreLocked) as exc:
        print(exc, file=sys.stderr)
        return EXIT_REJECTED
    except ForeignFile as exc:   # --db names no database of ours: a usage error
        print(exc, file=sys.stderr)
        return EXIT_USAGE
