"""The engine against the executable specification (tests/spec) on random small bases.

Hypothesis draws bases of 1–60 customers with the awkward corners of DESIGN
§3–4: optional columns filled for all, some or no rows; refunds written as a
negative amount and as status refunded; ties; several purchases on one day;
orders of several lines (a txn_id repeated, numbered in order_line, amounts
written or quantity × unit price) whose lines may differ in status (paid,
refunded, cancelled, pending, other, none), one-row orders with and without
a txn_id; events exactly on the window edges (T−30, T−90,
T−180, T−182, the first day of the 12-month window) and on leap days;
customers with only master data, only interactions or only follow-ups;
referrals; contracts ending before, on and after T. Each base goes into an
in-memory DuckDB through the store's schema, and the engine's entry points
of `engine score` and `engine review` must agree with tests/spec on every
customer and on a month's review figures.

Profiles (tests/conftest.py): "ci" by default, "deep" with
HYPOTHESIS_PROFILE=deep for a long local run.
"""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import plan, scorecard, scoring, store
from engine import review as engine_review
from engine import risk as engine_risk
from engine.features import customer_features, optional_columns_present
from engine.features.followup_state import followup_state
from tests.spec import base as spec_base
from tests.spec import review as spec_review
from tests.spec import score as spec_score
from tests.spec import tags

TOLERANCE = 1e-9
AS_OF_DATES = (date(2024, 2, 29), date(2024, 3, 1), date(2024, 6, 30), date(2025, 2, 28),
               date(2024, 12, 31), date(2025, 3, 31))
LEAP_DAYS = (date(2020, 2, 29), date(2024, 2, 29), date(2028, 2, 29))
AMOUNTS = ("0", "10", "10.10", "20.20", "25.50", "30.30", "0.10", "0.30", "100", "1000")
# The statuses the import stores (engine.ingest maps the platforms' words to them).
STATUSES = ("paid", "paid", "refunded", "cancelled", "pending", "other")
KINDS = ("consultation", "complaint", "feedback", "visit", "event", "referral", "other")


# --- random bases -------------------------------------------------------------------

def edge_days(T: date) -> list[date]:
    """The dates where DESIGN's windows begin and end, as seen from T."""
    twelve = date(T.year - (T.month <= 11), (T.month - 12) % 12 + 1, 1)
    offsets = (0, 1, 29, 30, 31, 89, 90, 91, 179, 180, 181, 182, 183, 364, 365, 366, -1, -3)
    return [T - timedelta(days=k) for k in offsets] + [twelve, twelve - timedelta(days=1),
                                                       *[d for d in LEAP_DAYS if d <= T + timedelta(3)]]


def a_day(T: date):
    """An edge of a window, or any day from two years before T to a few days after."""
    return st.one_of(st.sampled_from(edge_days(T)),
                     st.integers(-5, 730).map(lambda k: T - timedelta(days=k)))


def column_mode():
    """An optional column is filled for every row, for some, or for none."""
    return st.sampled_from(("all", "some", "none"))


def maybe(draw, mode: str, values):
    if mode == "none" or (mode == "some" and draw(st.booleans())):
        return None
    return draw(values)


@st.composite
def weightings(draw):
    """Weights in steps of 10 that sum to 100 (some may be 0), and thresholds high > potential."""
    cuts = sorted(draw(st.lists(st.integers(0, 10), min_size=3, max_size=3)))
    tens = [b - a for a, b in zip([0, *cuts], [*cuts, 10], strict=True)]
    weights = {d: 10 * t for d, t in zip(scoring.DIMENSIONS, tens, strict=True)}
    potential = draw(st.integers(1, 90))
    return weights, (draw(st.integers(potential + 1, 100)), potential)


@st.composite
def bases(draw):
    """(T, tables): a random small base as rows of DESIGN §3's tables."""
    T = draw(st.one_of(st.sampled_from(AS_OF_DATES),
                       st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31))))
    n = draw(st.integers(1, 60))
    ids = [f"C{i:03d}" for i in range(n)]
    modes = {c: draw(column_mode()) for c in ("first_contact_date", "contract_end", "referred_by",
                                             "owner", "product", "category", "due", "paid", "topic",
                                             "satisfaction", "response_hours", "status")}
    day_of = a_day(T)
    customers, txns, inter, follow = [], [], [], []
    for cid in ids:
        customers.append({
            "customer_id": cid, "name": f"name {cid}",
            "first_contact_date": maybe(draw, modes["first_contact_date"], day_of),
            "owner": maybe(draw, modes["owner"], st.sampled_from(("ann", "bo"))),
            "referred_by": maybe(draw, modes["referred_by"], st.sampled_from(ids + ["X999"])),
            "contract_end": maybe(draw, modes["contract_end"], day_of)})
        for _ in range(draw(st.integers(0, 5))):
            txns += an_order(draw, cid, day_of, modes, txn_id=f"T{len(txns)}")
        for _ in range(draw(st.integers(0, 5))):
            when = draw(day_of)
            inter.append({
                "customer_id": cid,
                "ts": datetime.combine(when, datetime.min.time()) + timedelta(hours=draw(st.integers(0, 23))),
                "kind": draw(st.sampled_from(KINDS)),
                "topic": maybe(draw, modes["topic"], st.sampled_from(("price", "delivery"))),
                "satisfaction": maybe(draw, modes["satisfaction"], st.integers(1, 5)),
                "response_hours": maybe(draw, modes["response_hours"],
                                        st.sampled_from((0.0, 1.5, 2.0, 24.0, 48.0)))})
        for _ in range(draw(st.integers(0, 3))):
            when = draw(day_of)
            follow.append({
                "followup_id": len(follow) + 1, "customer_id": cid,
                "ts": datetime.combine(when, datetime.min.time()) + timedelta(hours=draw(st.integers(0, 23))),
                "action": draw(st.sampled_from(plan.ACTIONS)),
                "status": draw(st.sampled_from(plan.STATUSES + (None,)))})
    return T, {"customers": customers, "transactions": txns, "interactions": inter,
               "followups": follow}


def an_order(draw, cid: str, day_of, modes: dict, txn_id: str) -> list[dict]:
    """One order's rows as the import stores them (engine.ingest, DESIGN §3).

    Mostly one row, with or without a txn_id; else 2–4 lines sharing the
    txn_id, the customer, the date and the due/paid dates, numbered 1, 2, …
    in `order_line` (NULL for an order of one row). A line's status is the
    order's or its own (a line refunded, cancelled, pending: mixed orders); a
    blank status on a later line takes the first line's, as the import carries
    it. A line's amount is written, or quantity × unit price to the cent; a
    refund may also be a negative amount (a negative quantity, UCI's returns).
    """
    n = draw(st.sampled_from((1, 1, 1, 2, 3, 4)))
    when = draw(day_of)
    due = maybe(draw, modes["due"], st.integers(0, 30))
    due = None if due is None else when + timedelta(due)
    paid = None if due is None else maybe(draw, modes["paid"], st.integers(-3, 10))
    paid = None if paid is None else due + timedelta(paid)
    order_status = maybe(draw, modes["status"], st.sampled_from(STATUSES))
    if n == 1 and not draw(st.booleans()):
        txn_id = None
    rows = []
    for k in range(1, n + 1):
        status = order_status
        if k > 1 and draw(st.integers(0, 2)) == 0:      # a line of its own status
            status = maybe(draw, modes["status"], st.sampled_from(STATUSES)) or order_status
        quantity = unit_price = None
        amount = Decimal(draw(st.sampled_from(AMOUNTS)))
        if draw(st.booleans()):                          # quantity × unit price
            quantity = draw(st.sampled_from((1.0, 2.0, 3.0, 0.5)))
            unit_price = amount
            amount = (Decimal(str(quantity)) * unit_price).quantize(Decimal("0.01"))
        if draw(st.integers(0, 5)) == 0:                 # a refund written as a negative amount
            amount = -amount
            quantity = None if quantity is None else -quantity
        rows.append({
            "customer_id": cid, "txn_date": when, "amount": amount, "txn_id": txn_id,
            "order_line": k if n > 1 else None, "quantity": quantity, "unit_price": unit_price,
            "product": maybe(draw, modes["product"], st.sampled_from(("p1", "p2", "p3"))),
            "category": maybe(draw, modes["category"], st.sampled_from(("c1", "c2"))),
            "due_date": due, "paid_date": paid, "status": status})
    return rows


def load(tables: dict) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the store's schema holding these rows."""
    con = duckdb.connect(":memory:")
    store.migrate(con)
    for table, rows in tables.items():
        if rows:
            frame = pd.DataFrame(rows)
            con.register("incoming", frame)
            columns = ", ".join(frame.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM incoming")
            con.unregister("incoming")
    return con


# --- the engine, as `engine score` and `engine review` run it ------------------------------

def engine_card(con, T: date, weights, thresholds
                ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """What `engine score` computes (engine.scorecard.run), and the sub-metric scores."""
    features = customer_features(con, as_of=T)
    available = optional_columns_present(con, as_of=T)
    left_out = list(scoring.scoring_plan(weights, available).left_out_sub_metrics)
    actions = {"as_of": T, "followup_state": followup_state(con, as_of=T),
               "playbook": plan.load_playbook(con), "lang": "en"}
    card = scorecard.build_scorecard(features, weights=weights, thresholds=thresholds,
                                     available=available, actions=actions)
    subs = scoring.score_customers(features, weights=weights, thresholds=thresholds,
                                   available=available)
    return card.set_index("customer_id"), subs.set_index("customer_id"), left_out


def spec_card(con, T: date, weights, thresholds) -> dict[str, dict]:
    base = spec_base.read_base(con)
    values = spec_score.value_scores(base, T, weights=weights, thresholds=thresholds)
    levels = spec_score.pyramid(base, T)
    grid = spec_score.rfm(base, T)
    out = {}
    for c in spec_score.scored_customers(base, T):
        row = dict(values[c.id], pyramid=levels[c.id], **grid[c.id])
        row["demand_tag"] = tags.demand_tag(c)
        row["risk_level"], reasons = tags.risk(c)
        row["risk_reasons"] = engine_risk.render_reasons(
            [(code, {k: plain(v) for k, v in params.items()}) for code, params in reasons])
        row["lifecycle"] = tags.lifecycle(c, row["risk_level"])
        row["next_action"], row["next_action_due"] = tags.next_action(
            c, tier=row["tier"], risk_level=row["risk_level"], demand=row["demand_tag"])
        out[c.id] = row
    return out


def plain(value):
    """A reason's number as the reasons show it: whole, or to one decimal."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 1)


# --- comparison ------------------------------------------------------------------------

def close(a, b) -> bool:
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    return abs(float(a) - float(b)) <= TOLERANCE


def missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and math.isnan(value))


def same(a, b) -> bool:
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    if isinstance(a, pd.Timestamp):
        a = a.date()
    return a == b


NUMBERS = (*(f"{m}_score" for m in spec_score.SUB_METRICS), *scoring.DIMENSIONS, "score")
CODES = ("tier", "pyramid", "r", "f", "m", "rfm_segment", "demand_tag", "risk_level",
         "risk_reasons", "lifecycle", "next_action", "next_action_due")


def disagreements(card, subs, left_out, expected) -> list[str]:
    found = []
    if sorted(card.index) != sorted(expected):
        return [f"customers: engine {sorted(card.index)} spec {sorted(expected)}"]
    spec_left_out = next(iter(expected.values()))["left_out"] if expected else []
    if set(left_out) != set(spec_left_out):
        found.append(f"left out: engine {left_out} spec {spec_left_out}")
    for cid, want in expected.items():
        for column in NUMBERS:
            if column.endswith("_score") and column[:-6] in spec_left_out:
                continue
            got = subs.at[cid, column]
            if not close(got, want[column]):
                found.append(f"{cid} {column}: engine {got} spec {float(want[column])}")
        for column in CODES:
            got = card.at[cid, column]
            if not same(got, want[column]):
                found.append(f"{cid} {column}: engine {got!r} spec {want[column]!r}")
    return found


def review_disagreements(got: dict, want: dict) -> list[str]:
    found = []
    for key in ("tier_counts", "transitions", "complaints_by_topic"):
        if got[key] != want[key]:
            found.append(f"{key}: engine {got[key]} spec {want[key]}")
    for key, count in (("wake_up", "woken"), ("retention", "retained")):
        found += _rate_disagreements(key, got[key], count, want[key])
    win = got["win_back"]
    found += _rate_disagreements("win_back", win, "won", want["win_back"])
    found += _rate_disagreements("with_followup", win["with_followup"], "won",
                                 want["win_back_with_followup"])
    found += _rate_disagreements("without_followup", win["without_followup"], "won",
                                 want["win_back_without_followup"])
    for month, value in want["mean_satisfaction"].items():
        if not close(got["mean_satisfaction"][month], value):
            found.append(f"mean_satisfaction {month}: engine {got['mean_satisfaction'][month]} "
                         f"spec {value}")
    return found


def _rate_disagreements(name, got, count, want) -> list[str]:
    if (got["eligible"], got[count]) != (want["eligible"], want["count"]) or not close(
            got["rate"], want["rate"]):
        return [f"{name}: engine {got} spec {want}"]
    return []


# --- the tests -----------------------------------------------------------------------

@given(bases(), weightings())
def test_scorecard_follows_the_specification(drawn, weighting):
    T, tables = drawn
    con = load(tables)
    try:
        card, subs, left_out = engine_card(con, T, *weighting)
    except scoring.NoWeightLeft:        # every weight on dimensions without data
        with pytest.raises(spec_score.NoWeightLeft):
            spec_card(con, T, *weighting)
        return
    expected = spec_card(con, T, *weighting)
    assert disagreements(card, subs, left_out, expected) == []


@given(bases(), weightings(), st.integers(0, 11))
def test_review_follows_the_specification(drawn, weighting, months_back):
    T, tables = drawn
    weights, thresholds = weighting
    year, month = T.year, T.month - months_back
    if month < 1:
        year, month = year - 1, month + 12
    con = load(tables)
    base = spec_base.read_base(con)
    try:
        got = engine_review.review_json(engine_review.monthly_review(
            con, month=date(year, month, 1), months=2, weights=weights, thresholds=thresholds))
    except scoring.NoWeightLeft:        # no data for the weighted dimensions at the end of M
        with pytest.raises(spec_score.NoWeightLeft):
            spec_review.review(base, year, month, weights=weights, thresholds=thresholds)
        return
    want = spec_review.review(base, year, month, weights=weights, thresholds=thresholds)
    assert review_disagreements(got, want) == []
