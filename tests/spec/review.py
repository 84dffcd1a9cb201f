"""DESIGN §4.8: the monthly review's figures for month M."""
from __future__ import annotations

import calendar
from datetime import date
from fractions import Fraction

from tests.spec.base import Base, Customer, day, in_window
from tests.spec.score import NoWeightLeft, scored_customers, value_scores
from tests.spec.tags import demand_tag, risk

TIERS = ("high", "potential", "ordinary")


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def snapshot(base: Base, end: date, **weighting) -> dict[str, dict]:
    """"Snapshots are the metrics above as of each month end, over the
    customers known by then": customer_id -> tier, demand tag, risk level.
    `weighting`: weights and thresholds of `value_scores`.

    Reading: a month end whose data hold nothing for any weighted dimension
    (DESIGN §4.1 rescales the weights of the others, and none is left) has
    no tiers; the review of a month M that ends so cannot be made.
    """
    try:
        scores = value_scores(base, end, snapshot=True, **weighting)
    except NoWeightLeft:
        scores = {}
    return {c.id: {"tier": scores[c.id]["tier"] if scores else None, "demand": demand_tag(c),
                   "risk": risk(c)[0]}
            for c in scored_customers(base, end, snapshot=True)}


def _in_month(d: date, year: int, month: int) -> bool:
    return (d.year, d.month) == (year, month)


def _rate(eligible: int, count: int):
    return {"eligible": eligible, "count": count,
            "rate": None if eligible == 0 else Fraction(count, eligible)}


def _purchase_days(base: Base, cid: str, until: date) -> list[date]:
    return Customer(next(m for m in base.customers if m["customer_id"] == cid), base, until).purchase_days()


def review(base: Base, year: int, month: int, **weighting) -> dict:
    """The figures of DESIGN §4.8 for month M = (year, month), the tiers
    under `weighting` (weights and thresholds of `value_scores`).

    Readings: the transition matrix counts the customers in both month-end
    snapshots (a customer first known during M has no tier at the end of
    M−1); "a transaction or interaction during M" is any transaction
    (cancelled and pending ones too, as for §4.4's dormant) or interaction
    dated in M; "any follow-up logged for them during M" is a follow-up of
    any action or status dated in M.
    """
    py, pm = previous_month(year, month)
    end, prev_end = month_end(year, month), month_end(py, pm)
    value_scores(base, end, snapshot=True, **weighting)   # raises NoWeightLeft for M
    before, after = snapshot(base, prev_end, **weighting), snapshot(base, end, **weighting)
    txn_days = {}
    for r in base.transactions:
        txn_days.setdefault(r["customer_id"], []).append(day(r["txn_date"]))
    inter_days = {}
    for r in base.interactions:
        inter_days.setdefault(r["customer_id"], []).append(day(r["ts"]))
    follow_days = {}
    for r in base.followups:
        follow_days.setdefault(r["customer_id"], []).append(day(r["ts"]))

    def touched(cid):
        return any(_in_month(d, year, month) for d in txn_days.get(cid, []) + inter_days.get(cid, []))

    def bought_in_month(cid):
        return any(_in_month(d, year, month) for d in _purchase_days(base, cid, end))

    def followed(cid):
        return any(_in_month(d, year, month) for d in follow_days.get(cid, []))

    dormant = [cid for cid, s in before.items() if s["demand"] == "dormant"]
    high = [cid for cid, s in before.items() if s["risk"] == "high"]
    with_f = [cid for cid in high if followed(cid)]
    without_f = [cid for cid in high if not followed(cid)]
    ids = [m["customer_id"] for m in base.customers]
    retained_base = [cid for cid in ids
                     if any(in_window(d, prev_end, 90) for d in _purchase_days(base, cid, prev_end))]
    return {
        "tier_counts": {key: {t: sum(1 for s in snap.values() if s["tier"] == t) for t in TIERS}
                        for key, snap in ((f"{py:04d}-{pm:02d}", before),
                                          (f"{year:04d}-{month:02d}", after))},
        "transitions": {a: {b: sum(1 for cid in before if cid in after and before[cid]["tier"] == a
                                   and after[cid]["tier"] == b) for b in TIERS} for a in TIERS},
        "wake_up": _rate(len(dormant), sum(1 for cid in dormant if touched(cid))),
        "win_back": _rate(len(high), sum(1 for cid in high if bought_in_month(cid))),
        "win_back_with_followup": _rate(len(with_f), sum(1 for cid in with_f if bought_in_month(cid))),
        "win_back_without_followup": _rate(len(without_f),
                                           sum(1 for cid in without_f if bought_in_month(cid))),
        "retention": _rate(len(retained_base), sum(
            1 for cid in retained_base if any(in_window(d, end, 90) for d in _purchase_days(base, cid, end)))),
        "complaints_by_topic": {key: _complaints(base, y, m)
                                for key, (y, m) in ((f"{py:04d}-{pm:02d}", (py, pm)),
                                                    (f"{year:04d}-{month:02d}", (year, month)))},
        "mean_satisfaction": {key: _mean_satisfaction(base, y, m)
                              for key, (y, m) in ((f"{py:04d}-{pm:02d}", (py, pm)),
                                                  (f"{year:04d}-{month:02d}", (year, month)))},
    }


def _complaints(base: Base, year: int, month: int) -> dict[str, int]:
    """"complaints by topic ... (no topic counts as `unspecified`)"."""
    out: dict[str, int] = {}
    for r in base.interactions:
        if r["kind"] == "complaint" and _in_month(day(r["ts"]), year, month):
            topic = r["topic"] if r["topic"] not in (None, "") else "unspecified"
            out[topic] = out.get(topic, 0) + 1
    return out


def _mean_satisfaction(base: Base, year: int, month: int):
    """"mean satisfaction in M over every interaction of M that carries a rating"."""
    ratings = [r["satisfaction"] for r in base.interactions
               if r["satisfaction"] is not None and _in_month(day(r["ts"]), year, month)]
    return Fraction(sum(ratings), len(ratings)) if ratings else None
