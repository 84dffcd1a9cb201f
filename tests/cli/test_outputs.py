"""Where the command line writes, and which database it opens: a place it cannot write
or a --db that is no database of this app is a usage error (exit 2), said before any
work is done, not a traceback after it (DESIGN §5, §6)."""
import shutil

import duckdb
import pytest

from cli.main import main
from engine import store

REJECTED = "customer_id,name\nR1,Good\n,No id\n"


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:   # argparse's usage errors
        code = exc.code
    return code, capsys.readouterr().err


@pytest.fixture
def db(tmp_path, demo_db):
    path = tmp_path / "d.duckdb"
    shutil.copy(demo_db, path)
    return path


@pytest.mark.parametrize("command, problem", [
    (["score", "--out", "{tmp}"], "is a folder; give a file name"),
    (["score", "--out", "{tmp}/missing/s.csv"], "does not exist"),
    (["review", "--month", "2026-05", "--out", "{tmp}/missing/r.html"], "does not exist"),
    (["review", "--month", "2026-05", "--xlsx", "{tmp}"], "is a folder"),
    (["clv", "--json", "{tmp}/missing/c.json"], "does not exist"),
    (["export", "--out", "{tmp}/a_file"], "is a file; give a folder"),
    (["backup", "--out", "{tmp}/missing/b.duckdb"], "does not exist"),
])
def test_an_output_that_cannot_be_written_is_a_usage_error(db, tmp_path, capsys, command,
                                                            problem):
    (tmp_path / "a_file").write_text("x")
    before = db.read_bytes()
    code, err = run([*command[:1], "--db", db, *(a.format(tmp=tmp_path) for a in command[1:])],
                    capsys)
    assert code == 2 and problem in err
    assert "Traceback" not in err and db.read_bytes() == before


def test_skip_invalid_with_a_rejects_file_that_cannot_be_written_imports_nothing(tmp_path,
                                                                                 capsys):
    """The valid rows were stored, then writing the rejected ones failed: they were lost."""
    db, data = tmp_path / "i.duckdb", tmp_path / "c.csv"
    data.write_text(REJECTED)
    code, err = run(["import", "--db", db, "--table", "customers", "--skip-invalid", "--rejects",
                     tmp_path / "missing" / "r.csv", data], capsys)
    assert code == 2 and "folder" in err and "does not exist" in err
    assert not db.exists()
    code, err = run(["import", "--db", db, "--table", "customers", "--skip-invalid", data], capsys)
    assert code == 0 and (tmp_path / "c.rejects.csv").exists()


@pytest.mark.parametrize("content, says", [
    (b"hello", "is not a database of this app"),
    (b"SQLite format 3\x00" + bytes(4096), "is not a database of this app"),  # not fetched
])
@pytest.mark.parametrize("command", [["score", "--out", "{tmp}/s.csv"],
                                     ["import", "--table", "customers", "{tmp}/c.csv"]])
def test_a_db_that_is_no_database_of_this_app_is_a_usage_error(tmp_path, capsys, content, says,
                                                              command):
    other = tmp_path / "other.db"
    other.write_bytes(content)
    (tmp_path / "c.csv").write_text(REJECTED)
    code, err = run([command[0], "--db", other, *(a.format(tmp=tmp_path) for a in command[1:])],
                    capsys)
    assert code == 2 and says in err and "It was not changed." in err
    assert other.read_bytes() == content


def test_another_applications_database_names_its_tables(tmp_path, capsys):
    other = tmp_path / "shop.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE invoices (id INTEGER)")
    code, err = run(["score", "--db", other, "--out", tmp_path / "s.csv"], capsys)
    assert code == 2 and "another application's database (tables: invoices)" in err


def test_the_demo_does_not_replace_imported_data_unless_told(tmp_path, capsys):
    db, data = tmp_path / "mine.duckdb", tmp_path / "c.csv"
    data.write_text("customer_id,name\nR1,Mine\n")
    assert main(["import", "--db", str(db), "--table", "customers", str(data)]) == 0
    before = db.read_bytes()
    code, err = run(["demo", "--db", db, "--customers", 20], capsys)
    assert code == 1 and "holds imported data (imports in force: 1)" in err and "--replace" in err
    assert db.read_bytes() == before
    assert run(["demo", "--db", db, "--customers", 20, "--replace"], capsys)[0] == 0
    with store.connect(db) as con:   # the imports' history goes with them
        assert con.execute("SELECT count(*) FROM import_batches").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM customers WHERE customer_id = 'R1'"
                           ).fetchone() == (0,)
    assert run(["demo", "--db", db, "--customers", 20], capsys)[0] == 0   # demo over demo


@pytest.mark.parametrize("flags, says", [
    (["--discount-rate", "-1"], "--discount-rate"),
    (["--as-of", "2026-03-31", "--calibration-end", "2026-04-30"], "is after the as-of date"),
])
def test_clv_flags_out_of_range_or_at_odds_are_usage_errors(db, capsys, flags, says):
    code, err = run(["clv", "--db", db, *flags], capsys)
    assert code == 2 and says in err


def test_export_makes_the_folders_it_is_given(db, tmp_path, capsys):
    code, _ = run(["export", "--db", db, "--out", tmp_path / "a" / "b"], capsys)
    assert code == 0 and (tmp_path / "a" / "b" / "customers.parquet").exists()
