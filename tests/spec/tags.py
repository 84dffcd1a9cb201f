"""DESIGN §4.4 demand tags, §4.5 churn risk, §4.6 lifecycle, §4.7 next action."""
from __future__ import annotations

import math
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

from tests.spec.base import (
    Customer,
    day,
    last_12_months,
    last_30_days,
    last_90_days,
    median,
    previous_90_days,
)

# §4.7's table, in the order "the first that applies of win-back, wake-up, visit, care".
PLAYBOOK = (("win_back", 1), ("wake_up", 7), ("visit", 30), ("care", 14))


def demand_tag(c: Customer) -> str:
    """DESIGN §4.4, first match wins.

    "dormant: no transaction and no interaction in the last 90 days"; a
    transaction of any status counts (§3: cancelled and pending orders
    "still show that the customer was in touch"). "potential: has
    consultations, and no purchase on a later day than the latest one":
    consultations up to T, and no purchase dated after the latest.
    """
    if (not any(last_90_days(day(r["txn_date"]), c.T) for r in c.txns)
            and not c.interactions_in(last_90_days)):
        return "dormant"
    if len(c.interactions_in(last_30_days)) >= 2:
        return "active"
    consultations = [day(r["ts"]) for r in c.interactions if r["kind"] == "consultation"]
    if consultations:
        latest = max(consultations)
        if not any(o["date"] > latest for o in c.purchases):
            return "potential"
    return "general"


def spend_fall(c: Customer) -> Fraction | None:
    """"The fall is (previous − last) / previous and needs previous > 0"."""
    previous = c.spend_in(previous_90_days)
    if previous <= 0:
        return None
    return (previous - c.spend_in(last_90_days)) / previous


def complaints_90d(c: Customer) -> int:
    return len(c.interactions_in(last_90_days, "complaint"))


def purchase_gap(c: Customer) -> tuple[int, float] | None:
    """(days since the last purchase, median gap between purchase days) when
    the days are "more than (strictly) twice the customer's median gap
    between purchase days (needs ≥ 2 purchase days)"; else None."""
    days = c.purchase_days()
    if len(days) < 2:
        return None
    gap = median([(b - a).days for a, b in pairwise(days)])
    since = (c.T - days[-1]).days
    return (since, gap) if since > 2 * gap else None


def risk(c: Customer) -> tuple[str, list[tuple[str, dict]]]:
    """DESIGN §4.5: the level, and its reasons as [(code, params)].

    "Every flag carries its reasons in words ("spend −62 % vs previous 90
    days; 2 complaints")". Reading: the reasons are every condition of §4.5
    that holds (a fall of at least the medium 25 %, any complaint, an
    overdue purchase), whichever level they led to; a low customer has
    none. The fall is shown in whole percent as DESIGN's example writes it
    ("spend −62 %"), rounded down so it never shows a threshold that was
    not reached, and at most 100 %: "a fall to nothing is a 100 % fall",
    and refunds beyond the purchases (a negative net spend) fall no further.
    """
    fall = spend_fall(c)
    complaints = complaints_90d(c)
    gap = purchase_gap(c)
    reasons = []
    if fall is not None and fall >= Fraction(1, 4):
        reasons.append(("spend_fall", {"pct": math.floor(min(fall, 1) * 100)}))
    if complaints >= 1:
        reasons.append(("complaints", {"n": complaints}))
    if gap is not None:
        reasons.append(("purchase_gap", {"days": gap[0], "gap": gap[1]}))
    if (fall is not None and fall >= Fraction(1, 2)) or complaints >= 2:
        return "high", reasons
    if (fall is not None and fall >= Fraction(1, 4)) or complaints == 1 or gap is not None:
        return "medium", reasons
    return "low", reasons


def lifecycle(c: Customer, risk_level: str) -> str:
    """DESIGN §4.6, first match wins.

    "new: first purchase in the last 90 days" is the window (T − 90, T].
    "loyal: tenure ≥ 365 days and purchases in ≥ 6 of the last 12 months".
    """
    last = c.last_purchase()
    if last is None:
        return "prospect"
    since = (c.T - last).days
    if since > 180:
        return "churned"
    if 90 <= since <= 180 or risk_level == "high":
        return "at_risk"
    if last_90_days(c.first_purchase(), c.T):
        return "new"
    months = {(o["date"].year, o["date"].month) for o in c.purchases_in(last_12_months)}
    if c.tenure_days() >= 365 and len(months) >= 6:
        return "loyal"
    return "active"


def next_action(c: Customer, *, tier: str, risk_level: str, demand: str) -> tuple[str | None, date | None]:
    """DESIGN §4.7: "the first that applies of win-back, wake-up, visit, care.
    It is due at the last follow-up of that action (done or in progress, not
    paused) plus the cadence, or at T when there was none; win-back is due
    at T + 1 day."

    Readings: win-back's cadence is its 24 hours, so it is due a day after
    its last follow-up, or at T + 1 day when there was none. A follow-up
    counts from its calendar date, when logged on or before T; one without
    a status counts as not paused.
    """
    applies = {"win_back": risk_level == "high", "wake_up": demand == "dormant",
               "visit": tier == "high", "care": tier == "potential"}
    for action, cadence in PLAYBOOK:
        if applies[action]:
            logged = [day(f["ts"]) for f in c.followups
                      if f["action"] == action and f["status"] != "paused"]
            if logged:
                return action, max(logged) + timedelta(days=cadence)
            return action, c.T + timedelta(days=1 if action == "win_back" else 0)
    return None, None
