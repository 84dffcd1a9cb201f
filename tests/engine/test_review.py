"""The monthly review on a hand-made base (answers worked out by hand).

M = June 2024, M−1 = May 2024. Month ends E1 = 2024-05-31 and E2 = 2024-06-30.
Windows (DESIGN §4, checked with datetime):
  at E1: last 90 days (2024-03-02, E1], previous 90 days (2023-12-03, 2024-03-02],
         last 6 months (2023-12-01, E1];
  at E2: last 90 days (2024-04-01, E2], last 6 months (2023-12-31, E2].

Scores use weights consumption 100 / others 0, so a score is the mean of the
spend_6m and aov_6m percentiles (no transaction names a product or
category, so products_6m is left out). Percentile of x > 0: 100 × (customers
with a value ≤ x) / (all known customers); 0 or less scores 0.

Customers (events in date order; "fu" = follow-up):
  A  buys 1000 on 04-15 and 1000 on 06-15; fu (visit) 06-02
  B  buys 50 on 01-10; consultation 06-10 (rating 5); fu (wake_up) 06-08
  C  buys 400 on 02-01, 100 on 04-01, 300 on 06-20; fu (win_back) 06-05
  D  buys 200 on 03-15; complaints 04-10 ("delivery") and 05-20 (no topic,
     rating 1); buys 80 on 06-25; fu 07-01 (after M)
  E  buys 600 on 01-20; feedback 05-05 (rating 4); fu 05-25 (before M);
     complaint 06-02 ("delivery", no rating)
  F  buys 30 on 2023-11-15; buys 40 on 07-01 (after M)
  G  new: first contact and a purchase of 500 on 06-12
  H  buys 20 on 2023-12-20; refund −20 (status refunded) on 06-03
  I  consultation on 03-02 (exactly 90 days before E1); complaint with a
     blank topic at 06-30 23:30 (rating 2)
  J  other interaction on 03-03 (89 days before E1)
  K  buys 10 on 04-01 (in E1's 90 days, exactly on E2's edge: outside them)
  L  buys 5 on 05-10 and 3000 on 06-18

Known at E1: all but G (11). Known at E2: all 12.

Tiers at E1 (11 customers; F, I, J have nothing in the 6 months, spend and
AOV rank alike: L 5, K 10, H 20, B 50, D 200, C 500 (AOV 250), E 600, A 1000):
  A 100, E 90.9, C 81.8 -> high; D 72.7, B 63.6 -> potential;
  H 54.5, K 45.5, L 36.4, F/I/J 0 -> ordinary.          (3, 2, 6)
Tiers at E2 (12 customers; F, I, J 0 and H −20 rank at or below zero):
  spend  K 10, B 50, D 280, G 500, E 600, C 800, A 2000, L 3005 -> 5/12 ... 12/12
  AOV    K 10, B 50, D 140, C 266.7, G 500, E 600, A 1000, L 1502.5
  L 100, A 91.7 -> high; E (75 + 83.3) / 2 = 79.2, C (83.3 + 66.7) / 2 = 75,
  G (66.7 + 75) / 2 = 70.8 -> potential; D 58.3, B 50, K 41.7, F/H/I/J 0 -> ordinary.  (2, 3, 7)
Transitions (customers known at both ends):
  high      -> high A; potential E, C                       (1, 2, 0)
  potential -> ordinary D, B                                (0, 0, 2)
  ordinary  -> high L; ordinary H, K, F, I, J               (1, 0, 5)
  new in June: G, potential.
Wake-up: dormant at E1 (no transaction or interaction after 2024-03-02):
  B (01-10), F (2023-11-15), H (2023-12-20), I (03-02: 90 days is dormant);
  not J (03-03). Woken in June: B (consultation), H (a refund is a
  transaction), I (on June's last day); not F (July is after M). 3 of 4.
Win-back: high risk at E1: B, E, H (spend fell 100 % against the previous
  90 days), C (400 -> 100, −75 %), D (2 complaints in 90 days). Not F (its
  purchase is before the previous 90 days). Won (a purchase in June): C, D;
  not B, E, H (H's refund is no purchase). 2 of 5.
  With a follow-up in June: B, C -> 1 of 2. Without: D (its follow-up is in
  July), E (in May), H -> 1 of 3.
Retention: bought in E1's 90 days: A (04-15), C (04-01), D (03-15), K (04-01),
  L (05-10). Again in E2's 90 days: A, C (06-20), D (06-25), L (06-18); not K
  (04-01 is the edge, outside). 4 of 5.
Complaints: May: unspecified 1 (D); June: delivery 1 (E), unspecified 1 (I's
  blank topic). Mean satisfaction: May (4 + 1) / 2 = 2.5; June (5 + 2) / 2 = 3.5.
Revenue in June by tier at E2: high A 1000 + L 3000 = 4000; potential C 300
  + G 500 = 800; ordinary D 80 + H −20 = 60. Buyers 2, 2, 1 (H's refund is
  no purchase).
"""
from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd
import pytest

import cli.main as cli
from engine.months import month_end, parse_month, shift_month
from engine import profile, review, scoring, store
from engine.features import month_activity
from report import review as review_report

WEIGHTS = {"consumption": 100, "interaction": 0, "stability": 0, "referral": 0}
E1, E2 = date(2024, 5, 31), date(2024, 6, 30)
JUNE, MAY = date(2024, 6, 1), date(2024, 5, 1)

CUSTOMERS = list("ABCDEFGHIJKL")
TRANSACTIONS = [  # customer, date, amount, status
    ("A", "2024-04-15", 1000, "paid"), ("A", "2024-06-15", 1000, "paid"),
    ("B", "2024-01-10", 50, "paid"),
    ("C", "2024-02-01", 400, "paid"), ("C", "2024-04-01", 100, "paid"),
    ("C", "2024-06-20", 300, "paid"),
    ("D", "2024-03-15", 200, "paid"), ("D", "2024-06-25", 80, "paid"),
    ("E", "2024-01-20", 600, "paid"),
    ("F", "2023-11-15", 30, "paid"), ("F", "2024-07-01", 40, "paid"),
    ("G", "2024-06-12", 500, "paid"),
    ("H", "2023-12-20", 20, "paid"), ("H", "2024-06-03", -20, "refunded"),
    ("K", "2024-04-01", 10, "paid"),
    ("L", "2024-05-10", 5, "paid"), ("L", "2024-06-18", 3000, "paid"),
]
INTERACTIONS = [  # customer, ts, kind, topic, satisfaction
    ("B", "2024-06-10 10:00:00", "consultation", "price", 5),
    ("D", "2024-04-10 09:00:00", "complaint", "delivery", None),
    ("D", "2024-05-20 09:00:00", "complaint", None, 1),
    ("E", "2024-05-05 12:00:00", "feedback", None, 4),
    ("E", "2024-06-02 12:00:00", "complaint", "delivery", None),
    ("I", "2024-03-02 08:00:00", "consultation", "price", None),
    ("I", "2024-06-30 23:30:00", "complaint", "  ", 2),
    ("J", "2024-03-03 08:00:00", "other", None, None),
]
FOLLOWUPS = [  # customer, ts, action
    ("A", "2024-06-02 09:00:00", "visit"), ("B", "2024-06-08 09:00:00", "wake_up"),
    ("C", "2024-06-05 09:00:00", "win_back"), ("D", "2024-07-01 09:00:00", "win_back"),
    ("E", "2024-05-25 09:00:00", "win_back"),
]


def fill(con, *, until: str | None = None) -> None:
    """The base above; with `until` (a date), only events on or before it."""
    keep = (lambda day: day[:10] <= until) if until else (lambda day: True)
    con.executemany("INSERT INTO customers (customer_id, name, first_contact_date) "
                    "VALUES (?, ?, ?)",
                    [(c, f"Customer {c}", "2024-06-12" if c == "G" else None)
                     for c in CUSTOMERS])
    con.executemany("INSERT INTO transactions (customer_id, txn_date, amount, status) "
                    "VALUES (?, ?, CAST(? AS DECIMAL(18, 2)), ?)",
                    [row for row in TRANSACTIONS if keep(row[1])])
    con.executemany("INSERT INTO interactions (customer_id, ts, kind, topic, satisfaction) "
                    "VALUES (?, ?, ?, ?, ?)", [row for row in INTERACTIONS if keep(row[1])])
    rows = [(i, *row, "done") for i, row in enumerate(FOLLOWUPS, 1) if keep(row[1])]
    if rows:
        con.executemany("INSERT INTO followups (followup_id, customer_id, ts, action, status) "
                        "VALUES (?, ?, ?, ?, ?)", rows)


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    store.migrate(con)
    fill(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def june(con):
    return review.monthly_review(con, month="2024-06", weights=WEIGHTS)


def tiers(snapshot) -> dict[str, str]:
    return dict(zip(snapshot["customer_id"], snapshot["tier"].astype(str)))


# --- months -----------------------------------------------------------------------------

def test_months():
    assert parse_month("2024-6") == JUNE
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert shift_month(date(2024, 1, 31), -1) == date(2023, 12, 1)
    assert review.review_months("2024-06", 3) == [date(2024, 4, 1), MAY, JUNE]
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month("2024-13")


def test_reviewable_months_are_complete_and_have_a_month_before():
    # data from 2023-11-15; as of 2024-06-29 June is not complete yet
    months = review.reviewable_months(date(2023, 11, 15), date(2024, 6, 29))
    assert months[0] == MAY and months[-1] == date(2023, 12, 1)
    assert review.reviewable_months(date(2023, 11, 15), E2)[0] == JUNE
    assert review.reviewable_months(None, None) == []


# --- snapshots --------------------------------------------------------------------------

def test_snapshots_tiers_by_hand(con):
    may = review.month_end_snapshot(con, month_end=E1, weights=WEIGHTS)
    assert tuple(may.columns) == review.SNAPSHOT_COLUMNS
    assert "G" not in set(may["customer_id"])
    assert tiers(may) == {"A": "high", "E": "high", "C": "high", "D": "potential",
                          "B": "potential", "H": "ordinary", "K": "ordinary", "L": "ordinary",
                          "F": "ordinary", "I": "ordinary", "J": "ordinary"}
    june = review.month_end_snapshot(con, month_end=E2, weights=WEIGHTS)
    assert tiers(june) == {"L": "high", "A": "high", "E": "potential", "C": "potential",
                           "G": "potential", "D": "ordinary", "B": "ordinary", "K": "ordinary",
                           "F": "ordinary", "H": "ordinary", "I": "ordinary", "J": "ordinary"}
    tags = dict(zip(may["customer_id"], may["demand_tag"].astype(str)))
    assert sorted(c for c, tag in tags.items() if tag == "dormant") == ["B", "F", "H", "I"]
    risks = dict(zip(may["customer_id"], may["risk_level"].astype(str)))
    assert sorted(c for c, level in risks.items() if level == "high") == ["B", "C", "D", "E", "H"]
    recent = may.loc[may["bought_recently"], "customer_id"].tolist()
    assert sorted(recent) == ["A", "C", "D", "K", "L"]


def test_a_snapshot_uses_only_events_up_to_its_month_end():
    """Adding June and July events changes nothing in the snapshot at the end of May."""
    before_june = duckdb.connect()
    store.migrate(before_june)
    fill(before_june, until="2024-05-31")
    everything = duckdb.connect()
    store.migrate(everything)
    fill(everything)
    for settings in ({"weights": WEIGHTS}, {}):
        pd.testing.assert_frame_equal(
            review.month_end_snapshot(before_june, month_end=E1, **settings),
            review.month_end_snapshot(everything, month_end=E1, **settings))
    # ... while the snapshot at the end of June does see them
    assert len(review.month_end_snapshot(everything, month_end=E2)) == 12


def test_a_month_end_knows_only_customers_with_a_first_contact_or_an_event_by_then():
    """DESIGN §4.8: snapshots cover "the customers known by then (a first contact or an
    event on or before that day)". X has neither, ever; Y's first contact and Z's first
    event fall in June; A bought on 05-10 and 06-10."""
    con = duckdb.connect()
    store.migrate(con)
    con.executemany("INSERT INTO customers (customer_id, first_contact_date) VALUES (?, ?)",
                    [("A", None), ("X", None), ("Y", "2024-06-15"), ("Z", "2024-07-10")])
    con.executemany("INSERT INTO transactions (customer_id, txn_date, amount) VALUES (?, ?, ?)",
                    [("A", "2024-05-10", 100), ("A", "2024-06-10", 100)])
    con.execute("INSERT INTO interactions (customer_id, ts, kind) "
                "VALUES ('Z', '2024-06-05 10:00:00', 'consultation')")
    may = review.month_end_snapshot(con, month_end=E1)
    assert list(may["customer_id"]) == ["A"]
    assert may["score"].tolist() == [100.0]   # alone, A ranks first in every sub-metric it has
    assert sorted(review.month_end_snapshot(con, month_end=E2)["customer_id"]) == ["A", "Y", "Z"]
    june = review.review_json(review.monthly_review(con, month="2024-06"))
    assert {m: sum(c.values()) for m, c in june["tier_counts"].items()} == {"2024-05": 1,
                                                                            "2024-06": 3}
    assert june["wake_up"] == {"eligible": 0, "woken": 0, "rate": None}   # A bought in May


def test_month_ends_without_data_for_the_weighted_dimensions_have_no_tier():
    """All weight on consumption: A is known from 01-15 (first contact) but buys only on
    05-10 and 06-10, so January to April have no consumption data. Those month ends give
    A no tier, and the review of June and the profile's tier history are still made."""
    con = duckdb.connect()
    store.migrate(con)
    con.execute("INSERT INTO customers (customer_id, first_contact_date) "
                "VALUES ('A', DATE '2024-01-15')")
    con.executemany("INSERT INTO transactions (customer_id, txn_date, amount) VALUES (?, ?, ?)",
                    [("A", "2024-05-10", 100), ("A", "2024-06-10", 100)])
    weights = {"consumption": 100, "interaction": 0, "stability": 0, "referral": 0}
    april = review.month_end_snapshot(con, month_end=date(2024, 4, 30), weights=weights)
    assert list(april["customer_id"]) == ["A"] and april["tier"].isna().all()
    assert april["score"].isna().all()
    june = review.review_json(review.monthly_review(con, month="2024-06", weights=weights))
    assert june["tier_counts"] == {"2024-05": {"high": 1, "potential": 0, "ordinary": 0},
                                   "2024-06": {"high": 1, "potential": 0, "ordinary": 0}}
    assert june["transitions"]["high"]["high"] == 1
    days = [date(2024, 4, 30), E1]
    history = profile.tier_history([(d, *profile.month_end_sub_scores(con, as_of=d))
                                    for d in days], "A", weights=weights)
    assert history["known"].tolist() == [True, True]
    assert pd.isna(history["tier"].iloc[0]) and pd.isna(history["score"].iloc[0])
    assert history["tier"].iloc[1] == "high" and history["score"].iloc[1] == 100.0
    # ... but weights that the reviewed month itself has no data for are refused
    with pytest.raises(scoring.NoWeightLeft, match="all the weight"):
        review.monthly_review(con, month="2024-06", weights={
            "consumption": 0, "interaction": 100, "stability": 0, "referral": 0})


# --- activity during a month (SQL) ------------------------------------------------------

def test_month_activity_counts_by_calendar_date(con):
    june = month_activity.customer_month_activity(con, first_month=JUNE, last_month=JUNE)
    rows = june.set_index("customer_id")
    # F's purchase and D's follow-up on July 1 are outside June
    assert "F" not in rows.index and rows.loc["D", "followups"] == 0
    assert rows.loc["I", "interactions"] == 1          # 06-30 23:30 counts on June 30
    assert (rows.loc["H", ["transactions", "purchases", "revenue"]].tolist()
            == [1, 0, -20.0])                          # a refund: a transaction, no purchase
    assert rows.loc["B", ["interactions", "followups", "transactions"]].tolist() == [1, 1, 0]
    assert rows.loc["C", ["purchases", "revenue", "followups"]].tolist() == [1, 300.0, 1]
    assert sorted(rows.index) == ["A", "B", "C", "D", "E", "G", "H", "I", "L"]


def test_month_activity_counts_a_positive_refund_negative():
    con = duckdb.connect()   # a base of its own: the module's is shared by the other tests
    store.migrate(con)
    fill(con)
    con.execute("INSERT INTO transactions (customer_id, txn_date, amount, status) "
                "VALUES ('H', DATE '2024-06-12', 5, 'refunded')")
    june = month_activity.customer_month_activity(con, first_month=JUNE, last_month=JUNE)
    assert (june.set_index("customer_id").loc["H", ["transactions", "purchases", "revenue"]]
            .tolist() == [2, 0, -25.0])                # -20 and the refund of 5


def test_complaints_and_satisfaction_by_month(con):
    complaints = month_activity.complaints_by_topic(con, first_month=MAY, last_month=JUNE)
    assert complaints.values.tolist() == [[MAY, "unspecified", 1],
                                          [JUNE, "delivery", 1], [JUNE, "unspecified", 1]]
    by_month = month_activity.interactions_by_month(con, first_month=MAY, last_month=JUNE)
    assert by_month["mean_satisfaction"].tolist() == [2.5, 3.5]
    assert by_month["rated"].tolist() == [2, 2]
    assert by_month["interactions"].tolist() == [2, 3]


# --- the figures of June ----------------------------------------------------------------

def test_transition_matrix(june):
    assert june.transitions.to_dict("index") == {
        "high": {"high": 1, "potential": 2, "ordinary": 0},
        "potential": {"high": 0, "potential": 0, "ordinary": 2},
        "ordinary": {"high": 1, "potential": 0, "ordinary": 5}}
    assert june.new_customers == {"high": 0, "potential": 1, "ordinary": 0}
    assert june.moves() == {"up": 1, "down": 4, "stayed": 6}
    assert june.tier_counts(MAY) == {"high": 3, "potential": 2, "ordinary": 6}
    assert june.tier_counts(JUNE) == {"high": 2, "potential": 3, "ordinary": 7}
    assert june.high_share() == {"previous": 3 / 11, "current": 2 / 12,
                                 "change": 2 / 12 - 3 / 11}


def test_wake_up_rate(june):
    assert june.wake_up == {"eligible": 4, "woken": 3, "rate": 0.75}


def test_win_back_rate_split_by_follow_up(june):
    assert june.win_back == {
        "eligible": 5, "won": 2, "rate": 0.4,
        "with_followup": {"eligible": 2, "won": 1, "rate": 0.5},
        "without_followup": {"eligible": 3, "won": 1, "rate": 1 / 3}}


def test_retention(june):
    assert june.retention == {"eligible": 5, "retained": 4, "rate": 0.8}


def test_complaints_satisfaction_and_revenue_by_tier(june):
    assert june.complaints[["topic", "previous", "current", "change"]].values.tolist() == [
        ["unspecified", 1, 1, 0], ["delivery", 0, 1, 1]]
    assert june.mean_satisfaction(JUNE) == 3.5 and june.mean_satisfaction(MAY) == 2.5
    rows = june.summaries[june.summaries["month"] == "2024-06"].set_index("tier")
    assert rows["revenue"].to_dict() == {"high": 4000.0, "potential": 800.0, "ordinary": 60.0}
    assert rows["buyers"].to_dict() == {"high": 2, "potential": 2, "ordinary": 1}
    assert len(june.summaries) == 12 * 3                  # 12 months × 3 tiers
    assert june.revenue(JUNE) == 4860.0


def test_pieces_cached_separately_give_the_same_review(con, june):
    """The dashboard builds the review from per-month pieces; the result is the same."""
    ends = review.review_months(JUNE, 13)
    months = ends[1:]
    snaps = {m: review.month_end_snapshot(con, month_end=month_end(m), weights=WEIGHTS)
             for m in ends}
    acts = {m: review.month_activity_for(con, month=m) for m in months}
    again = review.build_review(
        JUNE, summaries=[review.month_summary(m, snaps[m], acts[m]) for m in months],
        changes=review.month_changes(snaps[MAY], snaps[JUNE], acts[JUNE]),
        rates=[review.month_rates(snaps[before], snaps[m], acts[m])
               for before, m in zip(ends, months)],
        complaints=month_activity.complaints_by_topic(con, first_month=months[0],
                                                      last_month=JUNE),
        interactions=month_activity.interactions_by_month(con, first_month=months[0],
                                                          last_month=JUNE),
        data_end=june.data_end)
    assert review.review_json(again) == review.review_json(june)
    pd.testing.assert_frame_equal(again.summaries, june.summaries)
    pd.testing.assert_frame_equal(again.rate_trend, june.rate_trend)
    # many month ends at once read the event history, and their keys come from the query
    together = review.month_end_snapshots(con, months=months, weights=WEIGHTS)
    for m in months:
        pd.testing.assert_frame_equal(together[m], snaps[m], check_exact=True)


def trend_of(june, figure) -> dict[str, tuple]:
    rows = june.rate_trend[june.rate_trend["figure"] == figure]
    return {m: (e, c, None if pd.isna(r) else round(r, 4))
            for m, e, c, r in zip(rows["month"], rows["eligible"], rows["count"], rows["rate"])}


def test_rate_trend_covers_the_12_months_with_gaps_where_nobody_was_eligible(june):
    """By hand (see the module's docstring for the events; windows as DESIGN §4):
    2023-07 … 2023-11: nobody is known at the end of the month before: gaps.
    2024-01 (from 2023-12-31): F and H bought in the 90 days and again in the 90 days up to
      01-31 (F on 11-15, H on 12-20): retention 2 of 2; no one dormant or at high risk.
    2024-02 (from 01-31): F, H, B, E bought in the 90 days; up to 02-29 the window starts
      12-01, so F (11-15) drops out: 3 of 4.
    2024-03 (from 02-29): F is dormant (nothing since 11-15) and at high risk (30 in the
      previous 90 days, nothing since); it does nothing in March: 0 of 1 woken, 0 of 1 won,
      no follow-up (with: nobody, a gap; without: 0 of 1). Retention: H, B, E, C; H's
      12-20 is before March's window (01-01, 03-31]: 3 of 4.
    2024-06: the month's own figures (3 of 4, 2 of 5 split 1 of 2 / 1 of 3, 4 of 5)."""
    months = [f"2023-{m:02d}" for m in range(7, 13)] + [f"2024-{m:02d}" for m in range(1, 7)]
    assert june.rate_trend["month"].unique().tolist() == months
    wake, win, ret = (trend_of(june, f) for f in ("wake_up", "win_back", "retention"))
    with_, without = trend_of(june, "win_back_with"), trend_of(june, "win_back_without")
    for month in months[:5]:
        assert wake[month] == win[month] == ret[month] == (0, 0, None)
    assert ret["2023-12"] == (1, 1, 1.0) and wake["2023-12"] == (0, 0, None)
    assert ret["2024-01"] == (2, 2, 1.0) and win["2024-01"] == (0, 0, None)
    assert ret["2024-02"] == (4, 3, 0.75) and wake["2024-02"] == (0, 0, None)
    assert wake["2024-03"] == (1, 0, 0.0) and win["2024-03"] == (1, 0, 0.0)
    assert with_["2024-03"] == (0, 0, None) and without["2024-03"] == (1, 0, 0.0)
    assert ret["2024-03"] == (4, 3, 0.75)
    assert wake["2024-06"] == (4, 3, 0.75) and win["2024-06"] == (5, 2, 0.4)
    assert with_["2024-06"] == (2, 1, 0.5) and without["2024-06"] == (3, 1, 0.3333)
    assert ret["2024-06"] == (5, 4, 0.8)


def test_each_months_rates_in_the_trend_are_that_months_review(con, june):
    """The trend reuses the snapshots: its rows for April and May are what the reviews of
    April and May say about their own month."""
    for month in ("2024-04", "2024-05"):
        own = review.monthly_review(con, month=month, weights=WEIGHTS)
        assert trend_of(june, "win_back")[month] == trend_of(own, "win_back")[month]
        for figure, count in (("wake_up", "woken"), ("retention", "retained")):
            figures = getattr(own, figure)
            rate = None if figures["rate"] is None else round(figures["rate"], 4)
            assert trend_of(june, figure)[month] == (figures["eligible"], figures[count], rate)


def test_summary_in_both_languages(june):
    english = review_report.summary_lines(june, "en")
    assert "Wake-up: 3 of 4 dormant customers came back (75.0%)." in english
    assert any("2 of 5 high-risk customers bought again (40.0%); 50.0% with a follow-up"
               in line for line in english)
    assert "Retention: 80.0% (4 of 5 recent buyers bought again within 90 days)." in english
    chinese = review_report.summary_lines(june, "zh")
    assert "沉睡唤醒：4 位沉睡客户中 3 位重新活跃（75.0%）。" in chinese
    assert any("未注明" in line or "delivery" in line for line in chinese)


# --- outputs ----------------------------------------------------------------------------

def test_json_has_the_exact_shape_of_design_5(june):
    figures = review.review_json(june)
    assert figures == {
        "month": "2024-06",
        "wake_up": {"eligible": 4, "woken": 3, "rate": 0.75},
        "win_back": {"eligible": 5, "won": 2, "rate": 0.4,
                     "with_followup": {"eligible": 2, "won": 1, "rate": 0.5},
                     "without_followup": {"eligible": 3, "won": 1, "rate": 1 / 3}},
        "retention": {"eligible": 5, "retained": 4, "rate": 0.8},
        "tier_counts": {"2024-05": {"high": 3, "potential": 2, "ordinary": 6},
                        "2024-06": {"high": 2, "potential": 3, "ordinary": 7}},
        "transitions": {"high": {"high": 1, "potential": 2, "ordinary": 0},
                        "potential": {"high": 0, "potential": 0, "ordinary": 2},
                        "ordinary": {"high": 1, "potential": 0, "ordinary": 5}},
        "complaints_by_topic": {"2024-05": {"unspecified": 1},
                                "2024-06": {"unspecified": 1, "delivery": 1}},
        "mean_satisfaction": {"2024-05": 2.5, "2024-06": 3.5}}
    json.dumps(figures)      # plain types only


def test_rates_are_null_where_nobody_is_eligible(con):
    # At the end of November 2023 only F is known: bought on 11-15, neither
    # dormant nor at risk; still a buyer in the 90 days to 2023-12-31.
    december = review.review_json(review.monthly_review(con, month="2023-12"))
    assert december["wake_up"] == {"eligible": 0, "woken": 0, "rate": None}
    assert december["win_back"]["rate"] is None
    assert december["win_back"]["with_followup"] == {"eligible": 0, "won": 0, "rate": None}
    assert december["retention"] == {"eligible": 1, "retained": 1, "rate": 1.0}
    assert december["mean_satisfaction"] == {"2023-11": None, "2023-12": None}
    assert '"rate": null' in json.dumps(december)


def test_workbook_has_one_sheet_per_table(june):
    from openpyxl import load_workbook
    import io
    book = load_workbook(io.BytesIO(review_report.review_workbook(june, "en")))
    assert book.sheetnames == ["Summary", "Rates", "Rates by month", "Tier mix", "Tier shifts",
                               "Complaints", "Satisfaction", "Revenue by tier"]
    by_month = list(book["Rates by month"].values)
    assert by_month[0][:4] == ("Month", "Wake-up rate", "Wake-up rate: eligible",
                               "Wake-up rate: count")
    assert by_month[0][4:7] == ("Win-back rate", "Win-back rate: eligible",
                                "Win-back rate: count")
    assert len(by_month) == 13
    assert by_month[1][:7] == ("2023-07", None, 0, 0, None, 0, 0)    # nobody eligible: empty
    assert by_month[9][:7] == ("2024-03", 0.0, 1, 0, 0.0, 1, 0)
    assert by_month[12][:7] == ("2024-06", 0.75, 4, 3, 0.4, 5, 2)
    assert by_month[12][13:16] == (0.8, 5, 4)                         # retention
    assert book["Rates by month"]["B13"].number_format == "0.0%"
    rates = list(book["Rates"].values)
    assert rates[0] == ("Figure", "Eligible", "Count", "Rate")
    assert rates[1] == ("Wake-up rate", 4, 3, 0.75)
    shifts = list(book["Tier shifts"].values)
    assert shifts[0] == ("2024-05 → 2024-06", "High value", "Potential", "Ordinary")
    assert shifts[4] == ("New customers", 0, 1, 0)
    zh = load_workbook(io.BytesIO(review_report.review_workbook(june, "zh")))
    assert zh.sheetnames[0] == "摘要"


def test_rate_trend_charts_show_gaps_and_counts(june):
    """The page's and the report's rate charts: one point per month, None (a gap) where
    nobody was eligible, the eligible count in the hover."""
    from report.figures import review_figures
    charts = review_figures(june, "en")
    lines = {trace.name: trace for trace in charts["rate_trend"].data}
    assert list(lines) == ["Win-back rate", "Wake-up rate", "Retention"]
    win = lines["Win-back rate"]
    assert list(win.x) == june.rate_trend["month"].unique().tolist()
    rates = [None if pd.isna(y) else round(y, 4) for y in win.y]
    # high risk at the ends of March (F, H: spent only in the previous 90 days) and April
    # (F, H, B, E) buy nothing in April and May
    assert rates[:8] == [None] * 8 and rates[8:] == [0.0, 0.0, 0.0, 0.4]     # 2024-03 … 06
    assert trend_of(june, "win_back")["2024-05"] == (4, 0, 0.0)
    assert list(win.customdata)[-1] == "2 of 5" and list(win.customdata)[0] == "nobody eligible"
    assert not win.connectgaps
    split = {trace.name: trace for trace in charts["followup_trend"].data}
    assert list(split) == ["With follow-up", "Without follow-up", "Win-back rate"]
    assert list(split["With follow-up"].customdata)[-1] == "1 of 2"
    zh = review_figures(june, "zh")["followup_trend"].data
    assert [trace.name for trace in zh] == ["有跟进挽回率", "无跟进挽回率", "流失挽回率"]
    assert list(zh[0].customdata)[-1] == "2 人中 1 人"


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "review.duckdb"
    con = duckdb.connect(str(path))
    store.migrate(con)
    fill(con)
    con.close()
    return path


def test_cli_writes_json_workbook_and_html(db_file, tmp_path, capsys):
    out = tmp_path / "june"
    code = cli.main(["review", "--db", str(db_file), "--month", "2024-06",
                     "--json", f"{out}.json", "--xlsx", f"{out}.xlsx", "--out", f"{out}.html"])
    assert code == 0
    figures = json.loads((tmp_path / "june.json").read_text(encoding="utf-8"))
    assert list(figures) == ["month", "wake_up", "win_back", "retention", "tier_counts",
                             "transitions", "complaints_by_topic", "mean_satisfaction"]
    assert figures["wake_up"] == {"eligible": 4, "woken": 3, "rate": 0.75}
    assert figures["win_back"]["without_followup"]["eligible"] == 3
    assert (tmp_path / "june.xlsx").read_bytes()[:2] == b"PK"
    page = (tmp_path / "june.html").read_text(encoding="utf-8")
    assert "<title>Monthly review 2024-06</title>" in page
    assert page.count('class="plotly-graph-div"') == 8
    assert "<h2>Win-back, wake-up and retention month by month</h2>" in page
    assert "<h3>Rates by month</h3>" in page
    assert "<script src=" not in page             # plotly.js is inlined: opens offline
    assert "Wake-up: 3 of 4" in capsys.readouterr().out


def test_cli_rejects_a_month_without_data(db_file, capsys):
    assert cli.main(["review", "--db", str(db_file), "--month", "2023-01"]) == 1
    assert "nothing to review for 2023-01" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["review", "--db", str(db_file), "--month", "June"])
    assert exit_.value.code == 2
