"""Argument types shared by several subcommands; a bad value is a usage error (exit 2)."""
from __future__ import annotations

import argparse
import datetime as dt
import re


def iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD, else a usage error (exit 2)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}")
