"""Results kept in the file per data version (engine.derived): the payload round trip, the
version and code they are found under, and one computation at a time."""
from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from engine import backup, derived, store
from engine.scoring import TIERS


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.array(["C1", "C2", "C3"], dtype="str"),
        "tier": pd.Categorical(["high", None, "ordinary"], categories=list(TIERS), ordered=True),
        "score": [71.5, np.nan, 12.25],
        "orders": pd.array([3, None, 1], dtype="Int64"),
        "last_purchase": pd.to_datetime(["2024-06-30", None, "2023-01-02"]).as_unit("us"),
        "bought_recently": [True, False, True],
    })


def test_a_frame_comes_back_as_it_was_kept():
    pd.testing.assert_frame_equal(derived.decode(derived.encode(frame())), frame())


def test_a_tree_comes_back_with_its_frames_dates_and_gaps():
    transitions = pd.DataFrame([[1, 2], [0, 4]], index=pd.Index(["high", "normal"], name="before"),
                               columns=pd.Index(["high", "normal"], name="after"))
    value = {"transitions": transitions, "summary": frame(),
             "rates": {"eligible": np.int64(4), "won": 1, "rate": 0.25, "none": None,
                       "nan": float("nan")},
             "as_of": date(2024, 6, 30), "months": ["2024-05", "2024-06"],
             "revenue": Decimal("1234567890123.45")}
    back = derived.decode(derived.encode(value))
    pd.testing.assert_frame_equal(back["transitions"], transitions)
    pd.testing.assert_frame_equal(back["summary"], frame())
    assert back["rates"]["eligible"] == 4 and type(back["rates"]["eligible"]) is int
    assert back["rates"]["none"] is None and np.isnan(back["rates"]["nan"])
    assert back["as_of"] == date(2024, 6, 30) and back["months"] == ["2024-05", "2024-06"]
    assert back["revenue"] == Decimal("1234567890123.45") and isinstance(back["revenue"], Decimal)


@pytest.mark.parametrize("value", [
    {"at": datetime(2024, 6, 30, 12)},       # a time would come back as a date
    {1: "a key that is not text"},
    {"__date__": "a reserved key"},
    {"__decimal__": "a reserved key"},
    {"x": object()},
    {"x": {1, 2}},
])
def test_what_would_not_come_back_as_it_was_is_refused(value):
    with pytest.raises(TypeError):
        derived.encode(value)


def test_a_payload_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="not a derived result"):
        derived.decode(b"\x80\x04pickle")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "kept.duckdb"
    with store.write(path) as con:   # data version 1
        con.execute("INSERT INTO customers (customer_id) VALUES ('C1')")
    return path


def counted(value):
    """A compute function that counts its calls."""
    calls = []

    def compute():
        calls.append(1)
        return value
    return compute, calls


def test_a_result_is_computed_once_per_version_and_then_read_from_the_file(db):
    compute, calls = counted(frame())
    first = derived.kept(db, 1, "f", {"as_of": date(2024, 6, 30)}, compute)
    again = derived.kept(db, 1, "f", {"as_of": date(2024, 6, 30)}, compute)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(again, first)
    other_key = derived.kept(db, 1, "f", {"as_of": date(2024, 5, 31)}, compute)
    assert len(calls) == 2 and len(other_key) == 3


def test_a_new_data_version_computes_again_and_drops_the_old_results(db):
    compute, calls = counted({"n": 1})
    derived.kept(db, 1, "f", {}, compute)
    with store.write(db) as con:     # version 2
        con.execute("INSERT INTO customers (customer_id) VALUES ('C2')")
    derived.kept(db, 2, "f", {}, compute)
    assert len(calls) == 2
    with store.connect(db) as con:
        assert con.execute("SELECT DISTINCT data_version FROM derived_results").fetchall() == [(2,)]


def part_tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() "
                                      "WHERE starts_with(table_name, 'derived_results_')").fetchall()}


def test_each_result_has_its_own_table_of_bytes_and_none_outlives_it(db):
    # Read apart, a result does not read the bytes of the others (one BLOB column would).
    derived.save(db, "f", {"k": 1}, 1, {"n": 1})
    derived.save(db, "f", {"k": 2}, 1, frame())
    derived.save(db, "f", {"k": 1}, 1, {"n": 2})     # replaced
    with store.connect(db) as con:
        parts = con.execute("SELECT key, part FROM derived_results ORDER BY key").fetchall()
        assert part_tables(con) == {derived.part_table(part) for _, part in parts}
        assert derived.load(con, "f", {"k": 1}, 1) == {"n": 2}
        assert not set(backup.fingerprint(con)["table"]) & (part_tables(con) | {"derived_results"})
    with store.write(db) as con:     # version 2: the next save drops version 1's
        con.execute("INSERT INTO customers (customer_id) VALUES ('C2')")
    derived.save(db, "g", {}, 2, {"n": 3})
    with store.connect(db) as con:
        (part,), = con.execute("SELECT part FROM derived_results").fetchall()
        assert part_tables(con) == {derived.part_table(part)}


def test_a_result_of_data_that_has_moved_on_is_not_kept(db):
    with store.write(db) as con:     # version 2 while version 1's result was computed
        con.execute("INSERT INTO customers (customer_id) VALUES ('C2')")
    assert not derived.save(db, "f", {}, 1, {"n": 1})
    with store.connect(db) as con:
        assert derived.load(con, "f", {}, 1) is derived.MISSING
        assert con.execute("SELECT count(*) FROM derived_results").fetchone() == (0,)


def test_keeping_a_result_leaves_the_data_version_alone(db):
    derived.save(db, "f", {}, 1, {"n": 1})
    assert store.data_version(db) == 1


def test_results_of_other_engine_code_are_not_read(db, monkeypatch):
    derived.save(db, "f", {}, 1, {"n": 1})
    monkeypatch.setattr(derived, "engine_code", lambda: "another release")
    with store.connect(db) as con:
        assert derived.load(con, "f", {}, 1) is derived.MISSING


def test_two_sessions_asking_at_once_compute_once(db):
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow():
        calls.append(1)
        started.set()
        release.wait(10)
        return {"n": 7}
    results = []
    first = threading.Thread(target=lambda: results.append(derived.kept(db, 1, "f", {}, slow)))
    first.start()
    started.wait(10)
    second = threading.Thread(target=lambda: results.append(derived.kept(db, 1, "f", {}, slow)))
    second.start()
    release.set()
    first.join(10), second.join(10)
    assert results == [{"n": 7}, {"n": 7}] and len(calls) == 1


def test_a_file_held_elsewhere_leaves_the_result_unkept_but_given(db, monkeypatch):
    def locked(*args, **kwargs):
        raise store.StoreLocked(db, 5.0, "held")
    monkeypatch.setattr(store, "write", locked)
    compute, calls = counted({"n": 1})
    assert derived.kept(db, 1, "f", {}, compute) == {"n": 1}
    assert derived.kept(db, 1, "f", {}, compute) == {"n": 1}
    assert len(calls) == 2


def test_a_whole_number_finds_the_same_result_as_int_or_float(db):
    derived.save(db, "f", {"weights": (40, 30, 20, 10), "t": date(2024, 6, 30)}, 1, {"n": 1})
    with store.connect(db) as con:
        assert derived.load(con, "f", {"t": date(2024, 6, 30),
                                       "weights": [40.0, 30.0, 20.0, 10.0]}, 1) == {"n": 1}
        assert derived.load(con, "f", {"t": date(2024, 6, 30),
                                       "weights": [40.5, 30.0, 20.0, 10.0]}, 1) is derived.MISSING


def test_a_result_not_to_keep_is_computed_each_time_and_never_stored(db):
    compute, calls = counted({"n": 1})
    assert derived.kept(db, 1, "f", {}, compute, keep=False) == {"n": 1}
    derived.kept(db, 1, "f", {}, compute, keep=False)
    assert len(calls) == 2
    with store.connect(db) as con:
        assert con.execute("SELECT count(*) FROM derived_results").fetchone() == (0,)
