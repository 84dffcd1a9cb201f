"""Code columns of a table in the reader's words (engine.i18n.label), for the pages'
tables and the files they download: the data keep codes, the reader sees words."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine import i18n

# Code columns of the customer list and the label kind that names their codes.
LIST_CODES = {"tier": "tier", "rfm_segment": "rfm", "pyramid": "pyramid",
              "customer_type": "customer_type", "source": "source"}
# Code columns of the risk lists and the task list, and the label kind that names their codes.
RISK_CODES = {"tier": "tier", "risk_level": "risk", "demand_tag": "demand",
              "lifecycle": "lifecycle", "action": "action", "owner": "owner_role",
              "last_followup_status": "followup_status", "state": "task_state"}


def in_words(table: pd.DataFrame, lang: str, kinds: dict[str, str]) -> pd.DataFrame:
    """A copy of `table` whose code columns ({column: label kind}) read in `lang`; columns
    of `kinds` the table lacks are skipped, a missing value stays missing."""
    table = table.copy()
    for column in set(kinds) & set(table.columns):
        # Each distinct code labelled once, then taken by position: mapping a million
        # codes one by one (Series.map of objects) took about a second per column.
        codes, found = pd.factorize(table[column])
        words = np.array([i18n.label(kinds[column], code, lang) for code in found] + [np.nan],
                         dtype=object)
        table[column] = pd.Series(words[codes], index=table.index, dtype=object)
    return table


def id_and_name(table: pd.DataFrame) -> pd.Series:
    """"id · name" of each row of a table with customer_id and name (a missing name
    left blank), for pickers and chart axes."""
    return table["customer_id"] + " · " + table["name"].fillna("")
