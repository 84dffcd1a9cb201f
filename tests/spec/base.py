"""The data as DESIGN §3 describes it, and the words of DESIGN §4's preamble.

A `Base` holds the four event tables as lists of plain rows (dicts) read
from the database file; everything else here is a word of §4: windows,
orders, purchases, spend, first contact, tenure. Money is kept as exact
fractions, so ties between customers are ties of the real numbers.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

TABLES = ("customers", "transactions", "interactions", "followups")
NO_PURCHASE_STATUSES = ("refunded", "cancelled", "pending")


@dataclass
class Base:
    """The rows of DESIGN §3's tables, each a dict of column -> Python value."""
    customers: list[dict]
    transactions: list[dict]
    interactions: list[dict]
    followups: list[dict]


def read_base(con) -> Base:
    """Every row of the four tables, as stored (no engine code involved)."""
    tables = {}
    for table in TABLES:
        cursor = con.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cursor.description]
        tables[table] = [dict(zip(names, row)) for row in cursor.fetchall()]
    return Base(**tables)


def day(value) -> date:
    """An event counts by its calendar date (DESIGN §4)."""
    return value.date() if isinstance(value, datetime) else value


def money(value) -> Fraction:
    return Fraction(value)


# --- windows (DESIGN §4) -----------------------------------------------------------

def in_window(d: date, T: date, days: int, *, ending_days_before: int = 0) -> bool:
    """(T − days, T − ending_days_before]: "last 90 days" is (T − 90 days, T]."""
    return T - timedelta(days=days) < d <= T - timedelta(days=ending_days_before)


def last_6_months(d: date, T: date) -> bool:
    """"Last 6 months" means the window (T − 182 days, T]."""
    return in_window(d, T, 182)


def last_90_days(d: date, T: date) -> bool:
    return in_window(d, T, 90)


def previous_90_days(d: date, T: date) -> bool:
    """(T − 180 days, T − 90 days]."""
    return in_window(d, T, 180, ending_days_before=90)


def last_30_days(d: date, T: date) -> bool:
    return in_window(d, T, 30)


def twelve_months(T: date) -> list[tuple[int, int]]:
    """"The 12 calendar months ending with T's month" as (year, month), oldest first."""
    months = []
    y, m = T.year, T.month
    for _ in range(12):
        months.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months[::-1]


def last_12_months(d: date, T: date) -> bool:
    """In one of the 12 calendar months ending with T's month, and still not after T."""
    first_y, first_m = twelve_months(T)[0]
    return date(first_y, first_m, 1) <= d <= T


# --- orders, purchases, spend (DESIGN §3 and §4's "Words used below") ----------------

def net_amount(row: dict) -> Fraction:
    """One row's money: "Refunds are negative amounts or status refunded" and
    "cancelled and pending orders count nothing".

    Reading: a row with status refunded counts −|amount| whichever sign it
    was written with; any other row (paid, other, empty status) counts its
    amount as written, so a negative amount is a refund too.
    """
    status = row["status"]
    if status in ("cancelled", "pending"):
        return Fraction(0)
    if status == "refunded":
        return -abs(money(row["amount"]))
    return money(row["amount"])


def live(line: dict) -> bool:
    """A line that buys something: not refunded, cancelled or pending (a line
    without a status, or with another status, is live)."""
    return line["status"] not in NO_PURCHASE_STATUSES


def orders(rows: list[dict]) -> list[dict]:
    """"Lines sharing a txn_id are one order ... its amount is the sum of its
    line amounts"; a row without txn_id is an order by itself.

    Reading: the order's amount is the sum of its lines' money (`net_amount`:
    a refunded line −|amount|, a cancelled or pending line 0), since
    "cancelled and pending orders count nothing" and an order's money is what
    spend and revenue sum. Each order: customer_id, date, due and paid dates
    (the import makes every line of an order share them), amount, lines.
    """
    grouped: dict = {}
    for i, row in enumerate(rows):
        key = ("txn", row["txn_id"]) if row["txn_id"] is not None else ("row", i)
        grouped.setdefault(key, []).append(row)
    return [{"customer_id": lines[0]["customer_id"], "date": day(lines[0]["txn_date"]),
             "due_date": lines[0]["due_date"], "paid_date": lines[0]["paid_date"],
             "amount": sum((net_amount(r) for r in lines), Fraction(0)), "lines": lines}
            for lines in grouped.values()]


def is_purchase(order: dict) -> bool:
    """DESIGN §4: "A purchase is an order (§3: a txn_id's lines, or a row
    without one) whose amount is ≥ 0 and whose status is not refunded,
    cancelled or pending"; §3: cancelled and pending orders "are kept but
    are no purchase and add no spend or revenue".

    Reading for an order whose lines have different statuses (a shop's order
    with one line refunded, or one sub-order closed): the order's status is
    refunded, cancelled or pending only when every line's is. An order with
    one line refunded (a partial refund) or one line cancelled is still a
    purchase of its other lines, as long as its net amount (`orders`) is ≥ 0;
    an order whose every line is refunded, cancelled or pending is none.
    """
    return order["amount"] >= 0 and any(live(line) for line in order["lines"])


class Customer:
    """One customer's events on or before T, and the words of §4 about them."""

    def __init__(self, master: dict, base: Base, T: date):
        cid = master["customer_id"]
        self.id, self.master, self.T = cid, master, T
        self.txns = [r for r in base.transactions
                     if r["customer_id"] == cid and day(r["txn_date"]) <= T]
        self.interactions = [r for r in base.interactions
                             if r["customer_id"] == cid and day(r["ts"]) <= T]
        self.followups = [r for r in base.followups
                          if r["customer_id"] == cid and day(r["ts"]) <= T]
        self.orders = orders(self.txns)
        self.purchases = [o for o in self.orders if is_purchase(o)]

    # purchases and spend
    def purchases_in(self, window) -> list[dict]:
        return [o for o in self.purchases if window(o["date"], self.T)]

    def spend_in(self, window) -> Fraction:
        """Net sum of amounts of every transaction in the window."""
        return sum((net_amount(r) for r in self.txns if window(day(r["txn_date"]), self.T)),
                   Fraction(0))

    def purchase_days(self) -> list[date]:
        return sorted({o["date"] for o in self.purchases})

    def first_purchase(self) -> date | None:
        days = self.purchase_days()
        return days[0] if days else None

    def last_purchase(self) -> date | None:
        days = self.purchase_days()
        return days[-1] if days else None

    def interactions_in(self, window, kind: str | None = None) -> list[dict]:
        return [r for r in self.interactions
                if window(day(r["ts"]), self.T) and (kind is None or r["kind"] == kind)]

    def first_contact(self) -> date | None:
        """"The earlier of first_contact_date and the first interaction".

        Reading: a first_contact_date after T is not yet a contact as of T
        ("only events on or before T count"), so it is ignored.
        """
        dates = [day(r["ts"]) for r in self.interactions]
        fcd = self.master["first_contact_date"]
        if fcd is not None and fcd <= self.T:
            dates.append(fcd)
        return min(dates) if dates else None

    def tenure_days(self) -> int | None:
        """"Tenure runs from the earlier of first purchase and first contact"; None without either."""
        starts = [d for d in (self.first_purchase(), self.first_contact()) if d is not None]
        return (self.T - min(starts)).days if starts else None


def median(values):
    return statistics.median(values)
