"""`engine export`, `engine features --engine duckdb` and `engine score --features`."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pandas.testing as pdt
import pytest

from engine import demo, store
from cli.main import main
from engine.features import customer_features, parquet_source


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("pq") / "demo.duckdb"
    demo.generate_demo(db, customers=150, months=12)
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
    return db, as_of


def test_export_features_and_score_from_features(demo_db, tmp_path, capsys):
    db, as_of = demo_db
    src, out = tmp_path / "src", tmp_path / "features"
    assert main(["export", "--db", str(db), "--out", str(src)]) == 0
    for table in parquet_source.INPUT_TABLES:
        assert (src / f"{table}.parquet").is_file()
    assert main(["features", "--source", str(src), "--as-of", as_of.isoformat(),
                 "--engine", "duckdb", "--out", str(out)]) == 0

    with store.connect(db) as con:
        expected = customer_features(con, as_of=as_of)
    got, meta = parquet_source.read_features(out)
    pdt.assert_frame_equal(got, expected, check_exact=True)
    assert meta["as_of"] == as_of.isoformat() and meta["engine"] == "duckdb"

    from_db, from_features = tmp_path / "db.csv", tmp_path / "features.csv"
    assert main(["score", "--db", str(db), "--as-of", as_of.isoformat(),
                 "--out", str(from_db)]) == 0
    capsys.readouterr()
    assert main(["score", "--features", str(out), "--out", str(from_features)]) == 0
    said = capsys.readouterr().err   # what a card from a feature table lacks, and why
    assert "p_alive and clv_12m are left empty" in said and "no follow-ups" in said
    assert main(["score", "--features", str(out), "--out", str(tmp_path / "zh.csv"),
                 "--lang", "zh"]) == 0
    assert "按没有跟进记录、默认维护策略计算" in capsys.readouterr().err
    a = pd.read_csv(from_db, encoding="utf-8-sig")
    b = pd.read_csv(from_features, encoding="utf-8-sig")
    assert list(a.columns) == list(b.columns)
    # lifetime values need raw purchases; next_action reads the follow-up log
    # (on --features it is computed as if there were no follow-ups)
    same = [c for c in a.columns
            if c not in ("p_alive", "clv_12m", "next_action", "next_action_due")]
    pdt.assert_frame_equal(a[same], b[same])
    assert b["p_alive"].isna().all() and b["clv_12m"].isna().all()


def test_score_on_a_feature_table_keeps_the_date_it_was_computed_for(demo_db, tmp_path,
                                                                      capsys):
    # its windows were counted at that date: scoring at another would mix two dates
    db, as_of = demo_db
    src, out, card = tmp_path / "src", tmp_path / "features", tmp_path / "card.csv"
    assert main(["export", "--db", str(db), "--out", str(src)]) == 0
    assert main(["features", "--source", str(src), "--as-of", as_of.isoformat(),
                 "--engine", "duckdb", "--out", str(out)]) == 0
    other = as_of - dt.timedelta(days=30)
    capsys.readouterr()
    assert main(["score", "--features", str(out), "--as-of", other.isoformat(),
                 "--out", str(card)]) == 1
    assert f"computed as of {as_of}, not {other}" in capsys.readouterr().err
    assert not card.exists()
    assert main(["score", "--features", str(out), "--as-of", as_of.isoformat(),
                 "--out", str(card)]) == 0

    (out / "features.json").unlink()      # a table whose date is not recorded
    card.unlink()
    capsys.readouterr()
    assert main(["score", "--features", str(out), "--out", str(card)]) == 1
    assert "give that date with --as-of" in capsys.readouterr().err
    assert not card.exists()
    assert main(["score", "--features", str(out), "--as-of", as_of.isoformat(),
                 "--out", str(card)]) == 0


def test_available_from_features_matches_the_database(demo_db):
    db, as_of = demo_db
    from engine.features import optional_columns_present
    with store.connect(db) as con:
        frame = customer_features(con, as_of=as_of)
        truth = optional_columns_present(con, as_of=as_of)
    assert parquet_source.available_from_features(frame) == truth


def test_features_rejects_a_source_without_inputs(tmp_path, capsys):
    assert main(["features", "--source", str(tmp_path), "--as-of", "2024-01-01",
                 "--out", str(tmp_path / "o")]) == 1
    assert "customers.parquet" in capsys.readouterr().err


def test_features_rejects_a_bad_date(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["features", "--source", str(tmp_path), "--as-of", "2024-13-01",
              "--out", str(tmp_path / "o")])
    assert exc.value.code == 2


def test_score_refuses_a_folder_of_inputs_and_says_what_to_run(demo_db, tmp_path, capsys):
    db, _ = demo_db
    assert main(["export", "--db", str(db), "--out", str(tmp_path / "src")]) == 0
    capsys.readouterr()
    assert main(["score", "--features", str(tmp_path / "src"), "--out",
                 str(tmp_path / "x.csv")]) == 1
    err = capsys.readouterr().err
    assert "holds the raw Parquet inputs" in err and "python -m engine features --source" in err
    assert not (tmp_path / "x.csv").exists()
