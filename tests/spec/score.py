"""DESIGN §4.1 value score, §4.2 tiers and pyramid, §4.3 RFM: one function per definition."""
from __future__ import annotations

import math
from datetime import date
from fractions import Fraction

from tests.spec.base import (
    Base,
    Customer,
    last_6_months,
    last_12_months,
    live,
    median,
    twelve_months,
)

WEIGHTS = {"consumption": 40, "interaction": 30, "stability": 20, "referral": 10}
THRESHOLDS = (80, 60)

# sub-metric -> (dimension, higher is better, data source that can be missing)
SUB_METRICS = {
    "spend_6m": ("consumption", True, "transactions"),
    "aov_6m": ("consumption", True, "transactions"),
    "products_6m": ("consumption", True, "product_or_category"),
    "interactions_6m": ("interaction", True, "interactions"),
    "events_6m": ("interaction", True, "event_interactions"),
    "median_response_hours_6m": ("interaction", False, "response_hours"),
    "tenure_days": ("stability", True, None),
    "purchase_months_12m": ("stability", True, "transactions"),
    "ontime_share": ("stability", True, "due_paid_dates"),
    "renewal": ("stability", True, "contract_end"),
    "referred_customers": ("referral", True, "referred_by"),
    "referral_interactions": ("referral", True, "referral_interactions"),
}


class NoWeightLeft(ValueError):
    """Every weight sits on dimensions that have no sub-metric left."""


# --- who is scored -----------------------------------------------------------------

def known_by(c: Customer) -> bool:
    """DESIGN §4.8: "customers known by then (a first contact or an event on or
    before that day)". Events are transactions and interactions (§2's raw
    events); a follow-up is a log of our own work, not the customer's event."""
    return c.first_contact() is not None or bool(c.txns) or bool(c.interactions)


def only_master_data(c: Customer, base: Base) -> bool:
    """No first_contact_date and no transaction or interaction at any date."""
    cid = c.id
    return (c.master["first_contact_date"] is None
            and not any(r["customer_id"] == cid for r in base.transactions)
            and not any(r["customer_id"] == cid for r in base.interactions))


def scored_customers(base: Base, T: date, *, snapshot: bool = False) -> list[Customer]:
    """The customers the metrics as of T are computed over, sorted by id.

    DESIGN names the population only for the review's snapshots ("over the
    customers known by then"). Reading for the score as of T: the same
    customers, and also those with master data only (no first contact date
    and no events at all), since §4.4 tags "a customer with no events at all"
    dormant; a customer whose first contact and events all lie after T is
    not a customer yet. Snapshots keep to §4.8's sentence.
    """
    everyone = [Customer(m, base, T) for m in sorted(base.customers, key=lambda m: m["customer_id"])]
    return [c for c in everyone if known_by(c) or (not snapshot and only_master_data(c, base))]


# --- sub-metric values (DESIGN §4.1 table, §4 "Words used below") ------------------

def spend_6m(c: Customer) -> Fraction:
    return c.spend_in(last_6_months)


def aov_6m(c: Customer) -> Fraction:
    """"Average order value = spend / purchases in the window (0 when none)"."""
    n = len(c.purchases_in(last_6_months))
    return spend_6m(c) / n if n else Fraction(0)


def products_6m(c: Customer) -> int:
    """"Distinct products count product, or category where product is empty";
    §3: an order's "products are the lines' products".

    Reading: over the lines of the purchases in the window that bought
    something: a line refunded (status refunded or a negative amount),
    cancelled or pending inside a purchase buys nothing, and an order that is
    no purchase buys nothing at all.
    """
    names = set()
    for order in c.purchases_in(last_6_months):
        for line in order["lines"]:
            if not live(line) or line["amount"] < 0:
                continue
            name = line["product"] if line["product"] not in (None, "") else line["category"]
            if name not in (None, ""):
                names.add(name)
    return len(names)


def interactions_6m(c: Customer) -> int:
    return len(c.interactions_in(last_6_months))


def events_6m(c: Customer) -> int:
    return len(c.interactions_in(last_6_months, "event"))


def median_response_hours_6m(c: Customer) -> float | None:
    """"median response hours over the last 6 months"; None without a value."""
    hours = [r["response_hours"] for r in c.interactions_in(last_6_months)
             if r["response_hours"] is not None]
    return median(hours) if hours else None


def tenure_days(c: Customer) -> int | None:
    return c.tenure_days()


def purchase_months_12m(c: Customer) -> Fraction:
    """"share of the last 12 months with a purchase"."""
    months = {(o["date"].year, o["date"].month) for o in c.purchases if last_12_months(o["date"], c.T)}
    return Fraction(len(months & set(twelve_months(c.T))), 12)


def bills(c: Customer) -> list[dict]:
    """Orders (up to T) whose due date has come by T.

    DESIGN: "on-time payment share (only where due/paid dates exist)".
    Reading: the share of the bills due by T that were paid by their due
    date, as an on-time payment rate over a period is usually taken; a bill
    not yet due is left out even when already paid, and a payment after T
    is not known at T. A bill is an order (its lines share one due and one
    paid date), whatever its status.
    """
    return [o for o in c.orders if o["due_date"] is not None and o["due_date"] <= c.T]


def ontime_share(c: Customer) -> Fraction | None:
    """On time: paid on or before the due date. None without a bill due."""
    due = bills(c)
    if not due:
        return None
    on_time = [o for o in due if o["paid_date"] is not None and o["paid_date"] <= o["due_date"]]
    return Fraction(len(on_time), len(due))


def renewal(c: Customer) -> int | None:
    """"renewal (contract_end in the future ...)": 1 when contract_end > T."""
    end = c.master["contract_end"]
    return None if end is None else int(end > c.T)


def referred_customers(c: Customer, population: list[Customer]) -> int:
    """"customers referred (customers.referred_by)", counted "over all time up to T".

    Reading: a referred customer counts once it is one of the customers
    scored as of T (`scored_customers`), in a month-end snapshot too: there
    a customer with master data only (no date at all) is not reviewed, but
    its referral has no date to lie after the month end, so it counts (as
    it does for the score as of the same day).
    """
    return sum(1 for other in population if other.master["referred_by"] == c.id)


def referral_interactions(c: Customer) -> int:
    return len([r for r in c.interactions if r["kind"] == "referral"])


def sub_metric_values(population: list[Customer], referred: list[Customer]
                      ) -> dict[str, dict[str, object]]:
    """sub-metric -> customer_id -> value (None: no data); `referred`: the
    customers whose referrals count (`referred_customers`)."""
    values = {name: {} for name in SUB_METRICS}
    for c in population:
        for name in SUB_METRICS:
            fn = globals()[name]
            values[name][c.id] = fn(c, referred) if name == "referred_customers" else fn(c)
    return values


def sources_present(population: list[Customer], base: Base) -> dict[str, bool]:
    """Which data sources hold a value up to T, for DESIGN §4.1's left-out rule.

    DESIGN: "A sub-metric whose source column holds no value for any
    customer (response_hours, due/paid dates, contract_end, referred_by) is
    left out of its dimension's mean" and "A dimension with no sub-metric
    left is left out". Reading: the list names the optional columns, and a
    source that holds nothing at all (no transactions up to T, no product or
    category, no interactions, no event or referral interactions) is left
    out the same way; otherwise no dimension could ever be left out, and a
    base without an interactions file would rank everyone 0 there. Due/paid
    dates need a due_date and a paid_date on transactions up to T.
    contract_end and referred_by are master data without a date: "holds no
    value for any customer" is read over the customers table, scored or not,
    so that whether the column is filled does not change with T or the month
    end.
    """
    txns = [r for c in population for r in c.txns]
    inter = [r for c in population for r in c.interactions]
    return {
        "transactions": bool(txns),
        "product_or_category": any(r["product"] not in (None, "") or r["category"] not in (None, "")
                                   for r in txns),
        "interactions": bool(inter),
        "event_interactions": any(r["kind"] == "event" for r in inter),
        "referral_interactions": any(r["kind"] == "referral" for r in inter),
        "response_hours": any(r["response_hours"] is not None for r in inter),
        "due_paid_dates": (any(r["due_date"] is not None for r in txns)
                           and any(r["paid_date"] is not None for r in txns)),
        "contract_end": any(m["contract_end"] is not None for m in base.customers),
        "referred_by": any(m["referred_by"] not in (None, "") for m in base.customers),
    }


# --- scores (DESIGN §4.1) ------------------------------------------------------------

def percentile_score(x, values: list, *, higher_is_better: bool = True) -> Fraction:
    """DESIGN §4.1: "a customer with value x > 0 scores 100 × (customers whose
    value is ≤ x) / (all customers), where a customer without data for that
    sub-metric counts as 0 (and so as ≤ x) ... a customer with nothing (0 or
    no data) scores 0. ... Where lower is better (response hours) the order
    is reversed: 100 × (customers with a value ≥ x, those without a value
    counting as worst) / (all customers)."

    Reading for lower is better: "nothing" is no value, so a customer with
    a value (0 hours included, the best there is) scores by the reversed
    count, and one without a value scores 0.
    """
    n = len(values)
    if higher_is_better:
        if x is None or x <= 0:
            return Fraction(0)
        return Fraction(100 * sum(1 for v in values if (v if v is not None else 0) <= x), n)
    if x is None:
        return Fraction(0)
    return Fraction(100 * sum(1 for v in values if v is None or v >= x), n)


def value_scores(base: Base, T: date, *, weights=WEIGHTS, thresholds=THRESHOLDS,
                 snapshot: bool = False) -> dict[str, dict]:
    """customer_id -> {<sub-metric>_score, the four dimensions (None when left
    out), score, tier} as exact fractions.

    "A dimension score is the mean of its remaining sub-metric scores. The
    total is the weighted sum divided by 100. A dimension with no sub-metric
    left is left out, the other weights are rescaled to 100".
    """
    population = scored_customers(base, T, snapshot=snapshot)
    values = sub_metric_values(population, scored_customers(base, T))
    present = sources_present(population, base)
    kept = [m for m, (_, _, source) in SUB_METRICS.items() if source is None or present[source]]
    with_data = {SUB_METRICS[m][0] for m in kept}
    weight_sum = sum(w for d, w in weights.items() if d in with_data)
    if weight_sum == 0:
        raise NoWeightLeft(weights)
    out = {}
    for c in population:
        row = {}
        for m, (dim, higher, _) in SUB_METRICS.items():
            row[f"{m}_score"] = percentile_score(values[m][c.id], list(values[m].values()),
                                                 higher_is_better=higher)
        total = Fraction(0)
        for dim, w in weights.items():
            scores = [row[f"{m}_score"] for m in kept if SUB_METRICS[m][0] == dim]
            row[dim] = sum(scores, Fraction(0)) / len(scores) if scores else None
            if scores:
                total += Fraction(w) * 100 / weight_sum * row[dim]
        row["score"] = total / 100
        row["tier"] = tier(row["score"], thresholds)
        row["left_out"] = [m for m in SUB_METRICS if m not in kept]
        out[c.id] = row
    return out


# --- tiers and pyramid (DESIGN §4.2) --------------------------------------------------

def tier(score, thresholds=THRESHOLDS) -> str:
    """`high` score ≥ 80, `potential` 60–80, `ordinary` < 60."""
    high, potential = thresholds
    return "high" if score >= high else "potential" if score >= potential else "ordinary"


def revenue_12m(c: Customer) -> Fraction:
    return c.spend_in(last_12_months)


def pyramid(base: Base, T: date) -> dict[str, str]:
    """"customers ranked by revenue (ties share the better rank), and rank /
    all customers ≤ 5 % is platinum, ≤ 20 % gold, ≤ 80 % iron, the rest
    lead; revenue ≤ 0 is always lead"."""
    population = scored_customers(base, T)
    revenue = {c.id: revenue_12m(c) for c in population}
    n = len(population)
    out = {}
    for cid, r in revenue.items():
        rank = 1 + sum(1 for v in revenue.values() if v > r)
        share = Fraction(rank, n)
        out[cid] = ("lead" if r <= 0 else "platinum" if share <= Fraction(5, 100)
                    else "gold" if share <= Fraction(20, 100) else "iron" if share <= Fraction(80, 100)
                    else "lead")
    return out


# --- RFM (DESIGN §4.3) ----------------------------------------------------------------

RFM_TABLE = {   # R -> segment for FM 1..5
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "loyal", "champions", "champions"),
    3: ("about_to_sleep", "need_attention", "loyal", "loyal", "loyal"),
    2: ("hibernating", "about_to_sleep", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "hibernating", "at_risk", "cannot_lose", "cannot_lose"),
}


def rfm_values(c: Customer) -> tuple[int, int, Fraction] | None:
    """R = days since last purchase, F = purchases, M = spend, over the last
    12 months; None without a purchase there."""
    bought = c.purchases_in(last_12_months)
    if not bought:
        return None
    return (c.T - max(o["date"] for o in bought)).days, len(bought), c.spend_in(last_12_months)


def quintile(x, values: list, *, reverse: bool = False) -> int:
    """"score = ⌈5 × (buyers with a value ≤ x) / (all buyers)⌉, reversed for R"."""
    count = sum(1 for v in values if (v >= x if reverse else v <= x))
    return math.ceil(Fraction(5 * count, len(values)))


def rfm(base: Base, T: date) -> dict[str, dict]:
    """customer_id -> r, f, m (scores 1–5, None for a non-buyer) and rfm_segment."""
    population = scored_customers(base, T)
    raw = {c.id: rfm_values(c) for c in population}
    buyers = {cid: v for cid, v in raw.items() if v is not None}
    out = {}
    for cid, v in raw.items():
        if v is None:
            out[cid] = {"r": None, "f": None, "m": None, "rfm_segment": "lost"}
            continue
        r = quintile(v[0], [b[0] for b in buyers.values()], reverse=True)
        f = quintile(v[1], [b[1] for b in buyers.values()])
        m = quintile(v[2], [b[2] for b in buyers.values()])
        fm = math.floor(Fraction(f + m, 2) + Fraction(1, 2))     # rounded half up
        out[cid] = {"r": r, "f": f, "m": m, "rfm_segment": RFM_TABLE[r][fm - 1]}
    return out
