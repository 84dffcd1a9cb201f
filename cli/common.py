"""What the subcommands share: the exit codes and argument types (a bad value is a usage error)."""
from __future__ import annotations

import argparse
import datetime as dt
import re

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2   # DESIGN §5: done, input rejected, usage error


def iso_date(text: str) -> dt.date:
    """An argparse type: a date written YYYY-MM-DD, else a usage error (exit 2)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}")
