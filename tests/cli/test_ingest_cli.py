"""`python -m engine import`: exit codes, messages, rejects files, mappings (DESIGN §5)."""
import csv
import io
import json
import subprocess
import sys

from engine import ingest, store
from cli.main import main
from tests.conftest import ROOT

TXNS = "下单日期,会员,实付\n2024-01-15,C1,5\n2024-01-16,C2,6\n"


def run(*args, capsys):
    code = main(["import", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def count(db, table):
    with store.connect(db) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_import_with_inline_mapping_and_new_customers(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    mapping = json.dumps({"下单日期": "txn_date", "会员": "customer_id", "实付": "amount"},
                         ensure_ascii=False)
    code, out, _ = run("--db", db, "--table", "transactions", write(tmp_path, "t.csv", TXNS),
                       "--mapping", mapping, "--create-customers", capsys=capsys)
    assert code == 0
    assert "t.csv → transactions: 2 rows read; 2 inserted" in out
    assert "2 customers created." in out and "Batch 1." in out
    assert count(db, "transactions") == 2


def test_mapping_from_a_file_and_saved_by_name(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    ingest.import_file(db, b"customer_id\nC1\nC2\n", "customers", name="c.csv")
    path = write(tmp_path, "m.json", json.dumps({"会员": "customer_id", "实付": "amount"}))
    code, _, _ = run("--db", db, "--table", "transactions", write(tmp_path, "t.csv", TXNS),
                     "--mapping", path, capsys=capsys)
    assert code == 0
    ingest.save_mapping(db, "shop", "transactions", {"会员": "customer_id", "实付": "amount"})
    other = write(tmp_path, "t2.csv", TXNS.replace("5\n", "7\n"))
    code, out, _ = run("--db", db, "--table", "transactions", other, "--saved-mapping", "shop",
                       capsys=capsys)
    assert code == 0 and "1 inserted" in out and "1 unchanged" in out


def test_rejected_file_exits_1_and_leaves_no_new_database(tmp_path, capsys):
    db = tmp_path / "new.duckdb"
    bad = write(tmp_path, "bad.csv", "customer_id,txn_date,amount\nC1,2024-01-15,abc\n")
    code, out, err = run("--db", db, "--table", "transactions", bad, "--create-customers",
                         capsys=capsys)
    assert code == 1 and out == ""
    assert "bad.csv: rejected, nothing was imported (1 problem):" in err
    assert 'bad.csv, line 2, column "amount": "abc" is not an amount' in err
    assert not db.exists()


def test_skip_invalid_writes_rejects_next_to_the_input(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    text = "customer_id,txn_date,amount\nC1,2024-01-15,5\nC2,2024-01-16,abc\n"
    source = write(tmp_path, "orders.csv", text)
    code, out, _ = run("--db", db, "--table", "transactions", source, "--create-customers",
                       "--skip-invalid", capsys=capsys)
    assert code == 0 and "1 inserted" in out and "1 rejected" in out
    rejects = tmp_path / "orders.rejects.csv"
    header = next(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8-sig"))))
    assert header == ["customer_id", "txn_date", "amount", "line", "error"]
    target = tmp_path / "out" / "bad_rows.csv"
    target.parent.mkdir()
    code, _, _ = run("--db", db, "--table", "transactions", source, "--skip-invalid",
                     "--rejects", target, capsys=capsys)
    assert code == 0 and "abc" in target.read_text(encoding="utf-8-sig")
    assert count(db, "transactions") == 1


def test_usage_errors_exit_2(tmp_path, capsys):
    source = write(tmp_path, "t.csv", TXNS)
    db = tmp_path / "u.duckdb"
    for args in (["--rejects", "r.csv"], ["--mapping", "{bad json"],
                 ["--mapping", "nothing.json"], ["--encoding", "klingon"]):
        code, _, err = run("--db", db, "--table", "transactions", source, *args, capsys=capsys)
        assert code == 2, (args, err)
    code, _, err = run("--db", db, "--table", "transactions", tmp_path / "missing.csv",
                       capsys=capsys)
    assert code == 2 and "no such file" in err
    assert not db.exists()


def test_dry_run_reports_and_writes_nothing(tmp_path, capsys):
    db = tmp_path / "d.duckdb"
    ingest.import_file(db, b"customer_id\nC1\n", "customers", name="c.csv")
    source = write(tmp_path, "t.csv", "customer_id,txn_date,amount\nC1,2024-01-15,5\n")
    code, out, _ = run("--db", db, "--table", "transactions", source, "--dry-run", capsys=capsys)
    assert code == 0 and "(not imported yet)" in out
    assert count(db, "transactions") == 0
    source = write(tmp_path, "n.csv", "customer_id,txn_date,amount\nC2,2024-01-15,5\n")
    code, out, _ = run("--db", db, "--table", "transactions", source, "--dry-run",
                       "--create-customers", capsys=capsys)
    assert code == 0 and "1 row read" in out and "1 customer to create." in out   # not "created"
    assert count(db, "customers") == 1


def test_argparse_usage_error_and_help():
    done = subprocess.run([sys.executable, "-m", "engine", "import", "--table", "nope", "x.csv"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and "invalid choice" in done.stderr
