"""What the subcommands share: the exit codes and argument types (a bad value is a usage error)."""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
from pathlib import Path

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2   # DESIGN §5: done, input rejected, usage error


def counted(n: int, noun: str) -> str:
    """"1 row", "2,000 rows": the command line's own English counts."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD, else a usage error (exit 2)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}")


def output_file(text: str) -> Path:
    """An argparse type: a file the command may write (no folder, in a folder that exists
    and can be written), else a usage error (exit 2) before any work is done: a command
    that found out only when writing lost its work, or half of it."""
    path = Path(text)
    problem = unwritable_file(path)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return path


def output_folder(text: str) -> Path:
    """An argparse type: a folder the command may fill, existing or to be made (with the
    folders above it) under a folder that can be written."""
    path = Path(text)
    existing = next(p for p in (path, *path.parents) if p.exists() or p == Path(p.anchor))
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{existing} is a file; give a folder")
    if not os.access(existing, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write in folder {existing} (permission denied)")
    return path


def unwritable_file(path: Path) -> str | None:
    """Why `path` cannot be written as a file, or None."""
    folder = path.parent
    if path.is_dir():
        return f"{path} is a folder; give a file name"
    if not folder.is_dir():
        return f"folder {folder} does not exist"
    if path.exists() and not os.access(path, os.W_OK):
        return f"cannot write {path} (permission denied)"
    if not path.exists() and not os.access(folder, os.W_OK):
        return f"cannot write in folder {folder} (permission denied)"
    return None
