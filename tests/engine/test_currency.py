"""The sign a shop's amounts are shown with (engine.currency): a setting of the database,
¥ until chosen, used by the monthly review and its report as by the pages."""
import shutil

import pytest

from cli.main import main
from engine import audit, store
from engine.currency import DEFAULT, SIGNS, save_currency, saved_currency


def test_a_new_database_shows_yuan_and_keeps_the_sign_chosen(tmp_path):
    db = tmp_path / "d.duckdb"
    with store.connect(db) as con:
        assert saved_currency(con) == DEFAULT == "¥"
    for sign in ("£", "", "HK$"):
        with store.write(db) as con:
            save_currency(con, sign, actor="ann")
        with store.connect(db) as con:
            assert saved_currency(con) == sign
            assert con.execute("SELECT count(*) FROM settings WHERE kind = 'display'"
                               ).fetchone()[0] == 1
    with store.connect(db) as con:
        log = audit.read_log(con, actions=("currency_saved",))
    assert log["actor"].tolist() == ["ann"] * 3


def test_a_sign_not_offered_is_refused_and_nothing_is_written(tmp_path):
    db = tmp_path / "d.duckdb"
    with pytest.raises(ValueError, match="unknown currency sign"):
        with store.write(db) as con:
            save_currency(con, "Kč")
    with store.connect(db) as con:
        assert saved_currency(con) == "¥"
        assert con.execute("SELECT count(*) FROM settings").fetchone()[0] == 0
    assert "Kč" not in SIGNS


def test_a_stored_value_that_is_no_sign_reads_as_yuan(tmp_path):
    db = tmp_path / "d.duckdb"
    with store.write(db) as con:
        con.execute("INSERT INTO settings VALUES ('display', 'currency', '=1+1', now())")
    with store.connect(db) as con:
        assert saved_currency(con) == "¥"


def test_the_review_command_shows_revenue_with_the_shops_sign(tmp_path, demo_db, capsys):
    db = tmp_path / "d.duckdb"
    shutil.copy(demo_db, db)
    html = tmp_path / "r.html"
    assert main(["review", "--db", str(db), "--month", "2026-06"]) == 0
    assert "Revenue: ¥" in capsys.readouterr().out
    with store.write(db) as con:
        save_currency(con, "£")
    assert main(["review", "--db", str(db), "--month", "2026-06", "--out", str(html)]) == 0
    printed = capsys.readouterr().out
    assert "Revenue: £" in printed and "¥" not in printed
    assert "Revenue: £" in html.read_text(encoding="utf-8")
