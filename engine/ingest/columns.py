"""The canonical columns an import can fill, declared once as data (DESIGN §3).

Every other module of the package works from these specs: the mapping offers
their names, the parsers pick a parser by `kind`, validation checks
`required` and `past_only`, and the loader writes exactly these columns.
"""
from __future__ import annotations

from dataclasses import dataclass

# Parsers by kind (see `parse.py`):
#   id         text key, trimmed; Excel's ="00123" and '00123 unwrapped
#   text       trimmed free text
#   date       calendar date
#   timestamp  date and time (a date alone means midnight)
#   amount     money, DECIMAL(18, 2)
#   number     plain number (quantity)
#   hours      a duration in hours: a plain number, or with a unit of hours or
#              minutes (30分钟 is 0.5), or h:mm[:ss]
#   rating     whole number 1-5
#   code       one of a closed list; values no synonym maps become `other`
#   label      a code where known (synonyms), else the text as written
KINDS = ("id", "text", "date", "timestamp", "amount", "number", "hours", "rating", "code",
         "label")


@dataclass(frozen=True)
class Column:
    """One canonical column of one table."""
    name: str
    kind: str
    required: bool = False
    past_only: bool = False      # a value after today is an error
    vocabulary: str | None = None  # code list for kind code/label (see parse.VOCABULARIES)


def _c(name, kind, **kw) -> Column:
    return Column(name, kind, **kw)


TABLES: dict[str, tuple[Column, ...]] = {
    "customers": (
        _c("customer_id", "id", required=True),
        _c("name", "text"),
        _c("customer_type", "label", vocabulary="customer_type"),
        _c("channel_type", "label", vocabulary="channel_type"),
        _c("region", "text"),
        _c("source", "label", vocabulary="source"),
        _c("first_contact_date", "date", past_only=True),
        _c("owner", "text"),
        _c("referred_by", "id"),
        _c("contract_end", "date"),
    ),
    "transactions": (
        _c("customer_id", "id", required=True),
        _c("txn_date", "date", required=True, past_only=True),
        _c("amount", "amount", required=True),
        _c("txn_id", "id"),
        _c("product", "text"),
        _c("category", "text"),
        _c("quantity", "number"),
        _c("unit_price", "amount"),
        _c("due_date", "date"),
        _c("paid_date", "date", past_only=True),
        _c("status", "code", vocabulary="txn_status"),
    ),
    "interactions": (
        _c("customer_id", "id", required=True),
        _c("ts", "timestamp", required=True, past_only=True),
        _c("kind", "code", required=True, vocabulary="kind"),
        _c("channel", "code", vocabulary="channel"),
        _c("topic", "text"),
        _c("satisfaction", "rating"),
        _c("response_hours", "hours"),
        _c("note", "text"),
        _c("owner", "text"),
    ),
    "followups": (
        _c("customer_id", "id", required=True),
        _c("ts", "timestamp", required=True, past_only=True),
        _c("action", "code", vocabulary="action"),
        _c("channel", "code", vocabulary="channel"),
        _c("need", "text"),
        _c("result", "text"),
        _c("next_contact_date", "date"),
        _c("owner", "text"),
        _c("status", "code", vocabulary="followup_status"),
    ),
}
# Import customers before the events that name them.
TABLE_ORDER = tuple(TABLES)
# The natural key that makes a row the same row in a later import.
NATURAL_KEY = {"customers": "customer_id", "transactions": "txn_id"}


def columns(table: str) -> tuple[Column, ...]:
    """The canonical columns of `table`; ValueError for an unknown table."""
    try:
        return TABLES[table]
    except KeyError:
        raise ValueError(f"unknown table {table!r}; expected one of "
                         f"{', '.join(TABLES)}") from None


def column(table: str, name: str) -> Column:
    """One canonical column by name."""
    for col in columns(table):
        if col.name == name:
            return col
    raise ValueError(f"{table} has no column {name!r}")


def required(table: str, mapped=()) -> list[str]:
    """Names of the columns a file for `table` must map, given the columns it does map.

    A transactions file without an amount column needs a unit price instead:
    each line's amount is then its quantity times its unit price (DESIGN §3).
    """
    names = [c.name for c in columns(table) if c.required]
    if table == "transactions" and "amount" not in mapped and "unit_price" in mapped:
        names.remove("amount")
    return names


def amount_derived(table: str, mapped) -> bool:
    """Whether a file's amount comes from quantity × unit price (no amount column)."""
    return table == "transactions" and "amount" not in mapped and "unit_price" in mapped
