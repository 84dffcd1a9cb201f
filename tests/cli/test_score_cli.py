"""`python -m engine score` on a hand-made database file, T = 2024-06-30.

Three customers (N = 3), answers by hand:
  A: purchases 2024-05-01 50.00 (p2) and 2024-06-01 100.00 (p1), a consultation
     on 2024-06-10. Spend 150, 2 purchases, AOV 75, 2 products, 1 interaction,
     tenure from 2024-05-01 = 60 days, purchases in 2 months.
  B: purchase 2024-06-15 30.00 (p1). Spend 30, AOV 30, 1 product, tenure 15, 1 month.
  C: a complaint on 2024-06-20 only. Tenure from it = 10 days.
No response hours, due dates, contract ends, referrers, events or referral
interactions: those sub-metrics are left out, and so is the referral
dimension; the weights become 400/9, 300/9, 200/9.
  consumption: spend, AOV and products each score A 100, B 200/3, C 0
  interaction: interactions 1, 0, 1 -> A 100, B 0, C 100
  stability: tenure 60, 15, 10 -> 100, 200/3, 100/3; months 2, 1, 0 -> 100, 200/3, 0
             -> A 100, B 200/3, C 50/3
  score A = (40·100 + 30·100 + 20·100) / 90 = 100                  -> high
        B = (40·200/3 + 20·200/3) / 90 = 4000/90 = 44.4444444444    -> ordinary
        C = (30·100 + 20·50/3) / 90 = 10000/270 = 37.037037         -> ordinary
  RFM, buyers A and B: recency 29 and 15 -> R 3 (⌈5·1/2⌉) and 5; frequency 2, 1
        -> F 5, 3; monetary 150, 30 -> M 5, 3. A R3 FM5 loyal; B R5 FM3
        potential_loyalist; C lost.
  Pyramid: revenue 150, 30, 0 -> ranks 1, 2 of 3 (33 %, 67 %) iron, iron; C lead.
  Risk and plan (DESIGN §4.4–4.7): A potential demand (consulted 06-10 after its
        last purchase 06-01), low risk, new (first purchase 60 days ago), high
        tier -> visit due T; B general, low, new, no action; C general, medium
        risk ("1 complaint"), prospect (no purchase), no action.
"""
import subprocess
import sys

import pytest

import cli.main as cli
from engine import store
from engine.scorecard import SCORECARD_COLUMNS
from tests.conftest import ROOT

HEADER = ",".join(SCORECARD_COLUMNS)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "crm.duckdb"
    with store.write(path) as con:
        con.execute("INSERT INTO customers (customer_id, name, owner) VALUES "
                    "('A', '=HYPERLINK(\"x\")', '-boss'), ('B', '王芳', 'Li'), ('C', NULL, NULL)")
        con.execute("INSERT INTO transactions (customer_id, txn_date, amount, product, status) "
                    "VALUES ('A', DATE '2024-05-01', 50.00, 'p2', 'paid'),"
                    " ('A', DATE '2024-06-01', 100.00, 'p1', 'paid'),"
                    " ('B', DATE '2024-06-15', 30.00, 'p1', 'paid')")
        con.execute("INSERT INTO interactions (customer_id, ts, kind) VALUES "
                    "('A', TIMESTAMP '2024-06-10 09:00:00', 'consultation'),"
                    " ('C', TIMESTAMP '2024-06-20 15:30:00', 'complaint')")
    return path


def lines(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")            # UTF-8 with a BOM
    return raw[3:].decode("utf-8").split("\r\n")


def test_score_writes_the_scorecard(db, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert cli.main(["score", "--db", str(db), "--out", str(out)]) == 0
    # T defaults to the latest event, the complaint of 2024-06-20: recompute at
    # the date of the docstring to check the numbers
    assert "as of 2024-06-20" in capsys.readouterr().out
    assert cli.main(["score", "--db", str(db), "--as-of", "2024-06-30", "--out", str(out)]) == 0
    assert lines(out) == [
        HEADER,
        # the name and the owner that start like formulas are quoted with an
        # apostrophe; p_alive and clv_12m stay empty (too few repeat buyers);
        # k = 2 is the only k three customers allow: the two buyers A and B
        # against C, who never bought; segment 1 has the higher mean revenue
        "A,\"'=HYPERLINK(\"\"x\"\")\",100.0,high,100.0,100.0,100.0,,3,5,5,loyal,iron,"
        "potential,low,,new,1,visit,2024-06-30,'-boss,,",
        "B,王芳,44.4444444444,ordinary,66.6666666667,0.0,66.6666666667,,5,3,3,potential_loyalist,iron,"
        "general,low,,new,1,,,Li,,",
        "C,,37.037037037,ordinary,0.0,100.0,16.6666666667,,,,,lost,lead,general,medium,1 complaint,"
        "prospect,2,,,,,",
        "",
    ]
    said = capsys.readouterr().out
    assert "Scored 3 customers as of 2024-06-30: high 1, potential 0, ordinary 2." in said
    assert "Dimension(s) without data: referral; weights rescaled to consumption 44.4, " \
           "interaction 33.3, stability 22.2." in said


def test_weights_and_thresholds(db, tmp_path):
    out = tmp_path / "scores.csv"
    assert cli.main(["score", "--db", str(db), "--as-of", "2024-06-30", "--weights",
                     "0,100,0,0", "--thresholds", "100,40", "--out", str(out)]) == 0
    # all weight on interaction: A 100 high, B 0 ordinary, C 100 high
    rows = [r.split(",") for r in lines(out)[1:4]]
    assert [(r[0], r[2], r[3]) for r in rows] == [("A", "100.0", "high"), ("B", "0.0", "ordinary"),
                                                   ("C", "100.0", "high")]


@pytest.mark.parametrize("args, message", [
    (["--weights", "40,30,20"], "expected 4 numbers separated by commas"),
    (["--weights", "40,30,20,5"], "weights must sum to 100, got 95 (40 + 30 + 20 + 5)."),
    (["--weights", "a,b,c,d"], "expected 4 numbers"),
    (["--thresholds", "60,80"], "0 ≤ potential ≤ high ≤ 100, got high 60 and potential 80."),
    (["--as-of", "2024/06/30"], "expected a date as YYYY-MM-DD, got '2024/06/30'"),
])
def test_usage_errors_exit_2(db, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(["score", "--db", str(db), "--out", str(tmp_path / "x.csv"), *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_missing_database_is_rejected(tmp_path, capsys):
    missing = tmp_path / "none.duckdb"
    assert cli.main(["score", "--db", str(missing), "--out", str(tmp_path / "x.csv")]) == 1
    assert "no such database file" in capsys.readouterr().err
    assert not missing.exists()


def test_all_weight_on_a_dimension_without_data(db, tmp_path, capsys):
    code = cli.main(["score", "--db", str(db), "--weights", "0,0,0,100",
                     "--out", str(tmp_path / "x.csv")])
    assert code == 1
    assert "all the weight is on dimensions left out for lack of data (referral)" \
        in capsys.readouterr().err


def test_as_module(db, tmp_path):
    out = tmp_path / "scores.csv"
    done = subprocess.run([sys.executable, "-m", "engine", "score", "--db", str(db),
                           "--as-of", "2024-06-30", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert lines(out)[0] == HEADER


# --- risk, lifecycle and the next action (engine.plan.risk_columns) ---------------------
# A second hand-made base, T = 2024-06-30:
#   P: one purchase 2024-02-15 (200.00, in the previous 90 days (01-02, 04-01]), nothing
#      since; complaints 06-01 and 06-05. Spend fell 100 %, 2 complaints -> high risk;
#      2 interactions in 30 days -> active demand; last purchase 136 days ago -> at_risk.
#      Next action win-back: due T + 1 = 2024-07-01, or one day after its last
#      win-back that is done or in progress.
#   Q: one purchase 2023-12-01 (before both 90-day windows), nothing since: dormant,
#      low risk, churned (212 days). Next action wake-up, due T; a paused follow-up
#      does not count.

@pytest.fixture
def risky_db(tmp_path):
    path = tmp_path / "risky.duckdb"
    with store.write(path) as con:
        con.execute("INSERT INTO customers (customer_id, name, owner) VALUES "
                    "('P', '李雷', '韩梅'), ('Q', 'Quinn', NULL)")
        con.execute("INSERT INTO transactions (customer_id, txn_date, amount, status) VALUES "
                    "('P', DATE '2024-02-15', 200.00, 'paid'), ('Q', DATE '2023-12-01', 80.00, 'paid')")
        con.execute("INSERT INTO interactions (customer_id, ts, kind) VALUES "
                    "('P', TIMESTAMP '2024-06-01 10:00:00', 'complaint'),"
                    " ('P', TIMESTAMP '2024-06-05 10:00:00', 'complaint')")
    return path


def score_rows(db, out, *extra):
    import csv
    assert cli.main(["score", "--db", str(db), "--as-of", "2024-06-30", "--out", str(out),
                     *extra]) == 0
    return {row["customer_id"]: row for row in csv.DictReader(lines(out))}


PLAN_COLUMNS = ("demand_tag", "risk_level", "risk_reasons", "lifecycle", "next_action",
                "next_action_due", "owner")


def test_score_fills_risk_lifecycle_and_next_action(risky_db, tmp_path):
    rows = score_rows(risky_db, tmp_path / "s.csv")
    assert [rows["P"][c] for c in PLAN_COLUMNS] == [
        "active", "high", "spend −100 % vs previous 90 days; 2 complaints", "at_risk",
        "win_back", "2024-07-01", "韩梅"]
    assert [rows["Q"][c] for c in PLAN_COLUMNS] == [
        "dormant", "low", "", "churned", "wake_up", "2024-06-30", ""]
    # two different customers make two segments, numbered by revenue: P (200) before Q (80)
    assert (rows["P"]["segment"], rows["Q"]["segment"]) == ("1", "2")


def test_score_reasons_in_chinese_and_followups_move_the_due_date(risky_db, tmp_path):
    from engine import plan
    plan.log_followup(risky_db, customer_id="P", action="win_back", channel="phone",
                      need=None, result="refund offered", next_contact_date=None,
                      status="done", owner="韩梅", ts="2024-06-29 16:00:00")
    plan.log_followup(risky_db, customer_id="Q", action="wake_up", channel="email",
                      need=None, result=None, next_contact_date=None, status="paused",
                      owner=None, ts="2024-06-25 09:00:00")
    rows = score_rows(risky_db, tmp_path / "s.csv", "--lang", "zh")
    assert rows["P"]["risk_reasons"] == "消费较前90天下降 100%；近90天投诉 2 次"
    assert rows["P"]["risk_level"] == "high"                     # codes stay English
    assert rows["P"]["next_action_due"] == "2024-06-30"          # 06-29 + 1 day
    assert rows["Q"]["next_action_due"] == "2024-06-30"          # paused: still due at T


def test_score_follows_the_saved_playbook(risky_db, tmp_path):
    from engine import plan
    rules = plan.playbook_records(plan.DEFAULT_PLAYBOOK)
    rules[1]["first_due_days"] = 2                               # wake-up within 2 days
    plan.save_playbook(risky_db, [rules[1], rules[0]])           # and before win-back
    rows = score_rows(risky_db, tmp_path / "s.csv")
    assert (rows["Q"]["next_action"], rows["Q"]["next_action_due"]) == ("wake_up", "2024-07-02")
    assert (rows["P"]["next_action"], rows["P"]["next_action_due"]) == ("win_back", "2024-07-01")


def test_score_refuses_an_unreadable_playbook(risky_db, tmp_path, capsys):
    with store.write(risky_db) as con:
        con.execute("INSERT INTO settings VALUES ('playbook', 'default', '{not json', now())")
    assert cli.main(["score", "--db", str(risky_db), "--out", str(tmp_path / "s.csv")]) == 1
    assert "The saved playbook 'default' cannot be read" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()


def test_lang_must_be_en_or_zh(risky_db, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["score", "--db", str(risky_db), "--lang", "fr", "--out", str(tmp_path / "s.csv")])
    assert exc.value.code == 2
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_score_segment_matches_the_segments_engine(demo_db, tmp_path):
    """The scorecard's segment is the default segmentation of the Segments page."""
    import csv
    from engine import segments
    from engine.features import customer_features
    out = tmp_path / "seg.csv"
    assert cli.main(["score", "--db", str(demo_db), "--out", str(out)]) == 0
    card = {row["customer_id"]: row["segment"] for row in csv.DictReader(lines(out))}
    with store.connect(demo_db) as con:
        features = customer_features(con, as_of=store.date_range(con)[1])
    expected = segments.assign_segments(features)
    assert {cid: str(seg) for cid, seg in zip(expected["customer_id"], expected["segment"])} == card
    assert len(set(card.values())) >= 2


# --- the 12-month CLV in the score (--with-clv) -------------------------------------------

def test_scorecard_with_clv_in_the_score_by_hand(db):
    # The base of the first tests at T = 2024-06-30, with lifetime values given by
    # hand: clv_12m A 100, B 300, C none. N = 3, C's missing value counts as 0:
    # A scores 100·2/3 (A and C are ≤ 100), B 100·3/3, C 0.
    # consumption = mean of four: A (3·100 + 200/3)/4 = 275/3, B (3·200/3 + 100)/4
    # = 75, C 0. Score A = (40·275/3 + 30·100 + 20·100)/90 = 26000/270 = 96.296296,
    # high under 80/60 but potential under 97/60 (without CLV: 100, high under both);
    # B = (40·75 + 20·200/3)/90 = 13000/270 = 48.148148; C 37.037037 as without CLV.
    import pandas as pd
    from engine.features import customer_features, optional_columns_present
    from engine.scorecard import build_scorecard
    with store.connect(db) as con:
        as_of = __import__("datetime").date(2024, 6, 30)
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
    lifetime = pd.DataFrame({"customer_id": ["A", "B", "C"], "p_alive": [0.9, 0.5, None],
                             "clv_12m": [100.0, 300.0, None]})
    card = build_scorecard(features, available=available, lifetime=lifetime, thresholds=(97, 60),
                           clv_in_score=True).set_index("customer_id")
    assert card["consumption"].tolist() == pytest.approx([275 / 3, 75.0, 0.0], abs=1e-9)
    assert card["score"].tolist() == pytest.approx([26000 / 270, 13000 / 270, 10000 / 270],
                                                   abs=1e-9)
    assert card["tier"].tolist() == ["potential", "ordinary", "ordinary"]
    without = build_scorecard(features, available=available, lifetime=lifetime,
                              thresholds=(97, 60)).set_index("customer_id")
    assert without.loc["A", ["score", "tier"]].tolist() == [100.0, "high"]
    with pytest.raises(ValueError, match="without lifetime values"):
        build_scorecard(features, available=available, clv_in_score=True)


def test_with_clv_adds_the_clv_percentile_to_the_consumption_mean(demo_db, tmp_path, capsys):
    """On the demo base (the models fit): with --with-clv, consumption is the mean of its
    three sub-metrics and the percentile of the clv_12m column; nothing else moves but
    the score, by 40 % of the consumption change, the tier that follows from it and the
    next action of a customer whose tier changed."""
    import numpy as np
    import pandas as pd
    plain, with_clv = tmp_path / "plain.csv", tmp_path / "clv.csv"
    assert cli.main(["score", "--db", str(demo_db), "--out", str(plain)]) == 0
    assert "includes the 12-month CLV" not in capsys.readouterr().out
    assert cli.main(["score", "--db", str(demo_db), "--with-clv", "--out", str(with_clv)]) == 0
    said = capsys.readouterr()
    assert "The consumption score includes the 12-month CLV." in said.out
    assert said.err == ""
    before = pd.read_csv(plain, encoding="utf-8-sig", dtype={"customer_id": str})
    after = pd.read_csv(with_clv, encoding="utf-8-sig", dtype={"customer_id": str})
    moved = ["score", "tier", "consumption", "next_action", "next_action_due"]
    pd.testing.assert_frame_equal(before.drop(columns=moved), after.drop(columns=moved))
    same_tier = before["tier"] == after["tier"]   # the playbook acts on tiers
    pd.testing.assert_frame_equal(before.loc[same_tier, moved[3:]], after.loc[same_tier, moved[3:]])
    # the unrounded CLV (the file holds cents: a CLV of 0.002 is above 0 and scores)
    from engine import clv as clv_engine
    with store.connect(demo_db) as con:
        result = clv_engine.compute_clv(con, as_of=store.date_range(con)[1])
    clv = result.customers.set_index("customer_id")["clv_12m"].reindex(after["customer_id"])
    assert np.allclose(clv.round(2), after["clv_12m"], equal_nan=True)
    clv = clv.to_numpy()
    n = len(clv)
    assert np.isfinite(clv).sum() > n / 2
    # DESIGN §4.1: a customer without a CLV counts as 0, so as ≤ any x > 0
    without = np.isnan(clv).sum()
    percentile = np.array([100 * (np.sum(clv <= x) + without) / n if x > 0 else 0.0
                           for x in clv])
    assert np.allclose(after["consumption"], (3 * before["consumption"] + percentile) / 4,
                       atol=1e-5)
    assert np.allclose(after["score"] - before["score"],
                       40 * (after["consumption"] - before["consumption"]) / 100, atol=1e-5)
    expected_tier = np.where(after["score"] >= 80, "high",
                             np.where(after["score"] >= 60, "potential", "ordinary"))
    assert (after["tier"] == expected_tier).all()
    assert (after["tier"] != before["tier"]).any()


def test_with_clv_is_refused_when_the_models_cannot_be_fitted(db, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert cli.main(["score", "--db", str(db), "--with-clv", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "--with-clv needs the 12-month CLV, but p_alive and clv_12m are left empty: " \
           "Only 1 customers bought again" in err
    assert "nothing written" in err
    assert not out.exists()


def test_with_clv_is_refused_on_a_feature_table(tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert cli.main(["score", "--features", str(tmp_path), "--with-clv", "--out", str(out)]) == 1
    assert "--with-clv needs the raw purchases of a database" in capsys.readouterr().err
    assert not out.exists()
