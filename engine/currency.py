"""The sign a shop's amounts are shown with: a setting of the database.

Amounts are stored as numbers whatever the currency (an import reads ¥1,234.50,
£12 and $12 alike as numbers). The pages, the monthly review and its report
put this sign before them: ¥ until a manager chooses another on the Data page,
so that a shop whose exports are in pounds or dollars (the UCI data, a Shopify
store) does not read its revenue in yuan.
"""
from __future__ import annotations

from engine import audit

SIGNS = ("¥", "$", "€", "£", "HK$", "")   # "": amounts without a sign
DEFAULT = "¥"
_KIND, _NAME = "display", "currency"


def saved_currency(con) -> str:
    """The sign chosen for this database, or ¥."""
    row = con.execute("SELECT value FROM settings WHERE kind = ? AND name = ? "
                      "ORDER BY saved_at DESC LIMIT 1", [_KIND, _NAME]).fetchone()
    return row[0] if row is not None and row[0] in SIGNS else DEFAULT


def written(value: float, sign: str, decimals: int = 0) -> str:
    """An amount with the shop's sign and thousands separators, the minus first: -¥1,234."""
    return f"{'-' if value < 0 else ''}{sign}{abs(value):,.{decimals}f}"


def save_currency(con, sign: str, *, actor: str = audit.LOCAL) -> None:
    """Choose the sign (inside `engine.store.write`, with its audit row, done by `actor`;
    the dashboard writes it without a new data version, as it changes no figure);
    ValueError for a sign not in SIGNS."""
    if sign not in SIGNS:
        raise ValueError(f"unknown currency sign {sign!r}; expected one of "
                         f"{', '.join(repr(s) for s in SIGNS)}")
    con.execute("DELETE FROM settings WHERE kind = ? AND name = ?", [_KIND, _NAME])
    con.execute("INSERT INTO settings (kind, name, value, saved_at) "
                "VALUES (?, ?, ?, current_timestamp)", [_KIND, _NAME, sign])
    audit.record(con, actor, "currency_saved", {"currency": sign or "—"})
