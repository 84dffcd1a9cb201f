"""Backups: download the whole database, restore it, and check it equals what was saved.

A refused backup must leave the database file byte for byte as it was.
"""
import hashlib
import json
import os
import zipfile

import duckdb
import pytest

from engine import audit, backup, store
from cli.main import main
from tests.conftest import open_page, version_1_file


def file_sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def customer_names(db):
    with store.connect(db) as con:
        return con.execute("SELECT customer_id, name FROM customers ORDER BY 1").fetchall()


def restored_part(fp):
    """A fingerprint without the tables a restore keeps as they are (the audit log)."""
    return fp[~fp["table"].isin(backup.KEPT_TABLES)].reset_index(drop=True)


def tiny_db(path, rows):
    with store.write(path) as con:
        con.executemany("INSERT INTO customers (customer_id, name) VALUES (?, ?)", rows)
    return path


def test_fingerprint_sees_changed_missing_and_doubled_rows_not_order(tmp_path):
    a = tiny_db(tmp_path / "a.duckdb", [("C1", "甲"), ("C2", "乙")])
    b = tiny_db(tmp_path / "b.duckdb", [("C2", "乙"), ("C1", "甲")])
    changed = tiny_db(tmp_path / "c.duckdb", [("C1", "甲"), ("C2", "丙")])
    doubled = tiny_db(tmp_path / "d.duckdb", [("C1", "甲"), ("C2", "乙"), ("C2", "乙")])
    fa, fb, fc, fd = (backup.data_fingerprint(p) for p in (a, b, changed, doubled))
    customers = lambda fp: fp.set_index("table").loc["customers"]  # noqa: E731
    assert customers(fa)["rows"] == 2 and customers(fd)["rows"] == 3
    assert customers(fa)["checksum"] == customers(fb)["checksum"]
    assert customers(fa)["checksum"] != customers(fc)["checksum"]
    assert customers(fa)["checksum"] != customers(fd)["checksum"]
    assert backup.digest(fa) == backup.digest(fb) != backup.digest(fc)
    # the store's own data version is no part of the data
    with store.write(a):
        pass
    assert backup.digest(backup.data_fingerprint(a)) == backup.digest(fa)


@pytest.mark.parametrize("kind", backup.KINDS)
def test_backup_then_restore_gives_back_what_was_saved(work_db, tmp_path, kind):
    out = tmp_path / f"saved{backup.SUFFIX[kind]}"
    saved = backup.write_backup(work_db, out, kind)
    names = customer_names(work_db)
    assert saved.set_index("table").loc["customers", "rows"] == 400
    # change the data after the backup: drop customers, add a transaction, save a setting
    with store.write(work_db) as con:
        con.execute("DELETE FROM customers WHERE customer_id IN "
                    "(SELECT customer_id FROM customers ORDER BY 1 LIMIT 10)")
        con.execute("INSERT INTO transactions (customer_id, txn_date, amount) "
                    "VALUES ('C000001', DATE '2025-01-01', 1)")
        con.execute("INSERT INTO settings VALUES ('preset', 'x', '{}', now())")
    version = store.data_version(work_db)
    assert backup.data_fingerprint(work_db).equals(saved) is False

    with store.connect(work_db) as con:
        log_before = audit.read_log(con)

    report = backup.restore(work_db, out, actor="ada")

    assert report.kind == kind and report.equal
    assert report.check.set_index("table").loc["customers", "rows_restored"] == 400
    assert restored_part(backup.data_fingerprint(work_db)).equals(restored_part(saved))
    assert report.digest == backup.digest(restored_part(saved))
    assert customer_names(work_db) == names
    assert store.data_version(work_db) == version + 1   # caches keyed on the version drop
    # the audit log is not rewound: what was there stays, and the restore is added by its actor
    with store.connect(work_db) as con:
        log_after = audit.read_log(con)
    assert len(log_after) == len(log_before) + 1
    newest = log_after.iloc[0]
    assert (newest["actor"], newest["action"]) == ("ada", "restore")
    assert json.loads(newest["detail"])["rows"]["customers"] == 400


def test_backup_from_bytes_and_a_new_database(demo_db, tmp_path):
    """A backup uploaded as bytes restores into a database that did not exist yet."""
    data = backup.backup_bytes(demo_db, "parquet")
    fresh = tmp_path / "new.duckdb"
    report = backup.restore(fresh, data, name="upload.zip")
    assert report.equal and report.digest == backup.digest(backup.data_fingerprint(demo_db))


def test_duckdb_backup_is_one_snapshot_while_another_session_writes(work_db, tmp_path):
    """An uncommitted write of another connection in this process (another session's
    operation, under way) is not in the backup."""
    with store.connect(work_db) as other:
        other.execute("BEGIN TRANSACTION")
        other.execute("DELETE FROM transactions")
        try:
            saved = backup.write_backup(work_db, tmp_path / "b.duckdb", "duckdb")
        finally:
            other.execute("ROLLBACK")
    assert saved.set_index("table").loc["transactions", "rows"] > 0
    check = backup.check_backup(tmp_path / "b.duckdb")
    assert check.digest == backup.digest(saved)


def test_an_older_schema_backup_is_migrated(tmp_path):
    old = version_1_file(tmp_path / "old.duckdb", data_version=3, customers=[("C9", "老客户")])
    db = tiny_db(tmp_path / "db.duckdb", [("C1", "甲")])
    report = backup.restore(db, old)
    assert report.schema_version == 1 and report.equal
    assert customer_names(db) == [("C9", "老客户")]
    with store.connect(db) as con:
        assert store.schema_version(con) == store.SCHEMA_VERSION


def foreign_duckdb(path):
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.close()
    return path.read_bytes()


def newer_schema(path):
    with store.connect(path) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    return path.read_bytes()


def extra_table(path):
    with store.connect(path) as con:
        con.execute("CREATE TABLE invoices (id INTEGER)")
    return path.read_bytes()


def zip_without_manifest(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("customers.parquet", b"not parquet")
    return path.read_bytes()


def tampered_parquet(path, demo_db):
    backup.write_backup(demo_db, path, "parquet")
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(files["manifest.json"])
    manifest["tables"][[t["table"] for t in manifest["tables"]].index("customers")]["rows"] = 5
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in files.items():
            zf.writestr(n, b)
    return path.read_bytes()


def zip_without_customers(path, demo_db):
    """A Parquet backup with customers.parquet and its manifest entry removed: consistent
    with itself, but every transaction names a customer it does not hold."""
    backup.write_backup(demo_db, path, "parquet")
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist() if n != "customers.parquet"}
    manifest = json.loads(files["manifest.json"])
    manifest["tables"] = [t for t in manifest["tables"] if t["table"] != "customers"]
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, b in files.items():
            zf.writestr(n, b)
    return path.read_bytes()


def edited_duckdb(path, demo_db, sql):
    """A DuckDB backup edited by `sql`: its fingerprint is taken from it, so it agrees."""
    backup.write_backup(demo_db, path, "duckdb")
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()
    return path.read_bytes()


def corrupted_block(path, demo_db):
    """A DuckDB backup with 1 KB of each data block overwritten (past its checksum)."""
    backup.write_backup(demo_db, path, "duckdb")
    data = bytearray(path.read_bytes())
    for start in range(3 * 4096 + 64, len(data) - 1024, 256 * 1024):   # after the 3 headers
        data[start:start + 1024] = b"\xa5" * 1024
    return bytes(data)


@pytest.mark.parametrize("make, code", [
    (lambda p, d: zip_without_customers(p / "nc.zip", d), "missing_tables"),
    (lambda p, d: edited_duckdb(p / "far.duckdb", d, "INSERT INTO transactions (customer_id, "
                                "txn_date, amount) VALUES ('C000001', DATE '9999-12-31', 1)"),
     "content"),
    (lambda p, d: edited_duckdb(p / "old.duckdb", d, "UPDATE transactions SET txn_date = "
                                "DATE '1900-01-01' WHERE rowid = 0"), "content"),
    (lambda p, d: edited_duckdb(p / "orphan.duckdb", d, "DELETE FROM customers WHERE "
                                "customer_id IN (SELECT customer_id FROM transactions LIMIT 1)"),
     "content"),
    (lambda p, d: edited_duckdb(p / "v.duckdb", d, "UPDATE meta SET value = 'abc' "
                                "WHERE key = 'schema_version'"), "foreign"),
    (lambda p, d: corrupted_block(p / "c.duckdb", d), ("damaged", "unreadable")),
    (lambda p, d: b"customer_id,name\nC1,x\n", "not_backup"),
    (lambda p, d: b"\0" * 8 + b"DUCK" + b"\0" * 100, "unreadable"),
    (lambda p, d: foreign_duckdb(p / "f.duckdb"), "foreign"),
    (lambda p, d: newer_schema(p / "n.duckdb"), "newer"),
    (lambda p, d: extra_table(p / "x.duckdb"), "foreign_tables"),
    (lambda p, d: zip_without_manifest(p / "z.zip"), "foreign"),
    (lambda p, d: tampered_parquet(p / "t.zip", d), "damaged"),
])
def test_a_refused_backup_leaves_the_database_as_it_was(work_db, demo_db, tmp_path, make, code):
    bad = make(tmp_path, demo_db)
    before = file_sha(work_db)
    with pytest.raises(backup.BackupRejected) as refused:
        backup.restore(work_db, bad, name="bad.file")
    assert refused.value.code in (code if isinstance(code, tuple) else (code,))
    assert "bad.file" in refused.value.message("en")
    assert "bad.file" in refused.value.message("zh")
    assert file_sha(work_db) == before


def test_a_mismatch_after_writing_rolls_the_restore_back(work_db, tmp_path, monkeypatch):
    out = tmp_path / "b.duckdb"
    backup.write_backup(work_db, out)
    with store.write(work_db) as con:
        con.execute("DELETE FROM followups")
    before = backup.data_fingerprint(work_db)
    version = store.data_version(work_db)
    real = backup.fingerprint
    calls = []

    def off_by_one(con):   # the check inside the write transaction sees one row too few
        fp = real(con)
        calls.append(1)
        if len(calls) == 2:
            fp.loc[fp["table"] == "customers", "rows"] -= 1
        return fp

    monkeypatch.setattr(backup, "fingerprint", off_by_one)
    with pytest.raises(backup.BackupRejected, match="customers"):
        backup.restore(work_db, out)
    monkeypatch.undo()
    assert backup.data_fingerprint(work_db).equals(before)
    assert store.data_version(work_db) == version


def test_cli_backup_and_restore(work_db, tmp_path, capsys):
    out = tmp_path / "cli.zip"
    assert main(["backup", "--db", str(work_db), "--out", str(out)]) == 0
    assert zipfile.is_zipfile(out)
    with store.write(work_db) as con:
        con.execute("DELETE FROM interactions")
    assert main(["restore", "--db", str(work_db), str(out)]) == 0
    text = capsys.readouterr().out
    assert "equal to the backup" in text
    assert main(["restore", "--db", str(work_db), __file__]) == 1
    assert "not a backup of this app" in capsys.readouterr().err


@pytest.mark.parametrize("lang, texts", [
    ("en", ("Backup and restore", "is a valid backup", "Every table matches the backup")),
    ("zh", ("备份与恢复", "是有效的备份", "每张表都与备份一致")),
])
def test_data_page_restores_a_backup_and_shows_the_check(work_db, tmp_path, lang, texts):
    saved = backup.write_backup(work_db, tmp_path / "b.duckdb")
    with store.write(work_db) as con:
        con.execute("DELETE FROM transactions")
    at = open_page("data", lang)
    assert [tab.label for tab in at.tabs][-1] == texts[0]
    assert {b.key for b in at.get("download_button")} >= {"data_page.backup.duckdb",
                                                           "data_page.backup.parquet"}
    uploader = next(u for u in at.file_uploader if u.key.startswith("data_page.backup.upload"))
    uploader.upload("b.duckdb", (tmp_path / "b.duckdb").read_bytes(),
                    "application/octet-stream").run()
    assert not at.exception, at.exception
    assert any(texts[1] in i.value and backup.digest(saved) in i.value for i in at.info)
    at.button(key="data_page.backup.confirm").click().run()
    assert not at.exception, at.exception
    assert any(texts[2] in s.value for s in at.success)
    shown = at.dataframe[0].value
    assert shown.set_index("table").loc["transactions", "rows_restored"] == \
        saved.set_index("table").loc["transactions", "rows"]
    assert restored_part(backup.data_fingerprint(work_db)).equals(restored_part(saved))
    with store.connect(work_db) as con:   # done by the local user (no login configured)
        assert audit.read_log(con, actions=["restore"])["actor"].tolist() == [audit.LOCAL]


def test_data_page_refuses_a_file_that_is_no_backup(work_db):
    at = open_page("data", "en")
    before = file_sha(work_db)    # after the pages kept what they computed (engine.derived)
    uploader = next(u for u in at.file_uploader if u.key.startswith("data_page.backup.upload"))
    uploader.upload("notes.zip", b"PK\x03\x04 not really", "application/zip").run()
    assert not at.exception, at.exception
    assert any("was not made by this app" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "data_page.backup.confirm"]
    assert file_sha(work_db) == before


@pytest.mark.parametrize("sql, en, zh", [
    ("INSERT INTO transactions (customer_id, txn_date, amount) "
     "VALUES ('C000001', DATE '9999-12-31', 1)",
     "transactions.txn_date is after {latest} in 1 rows (e.g. 9999-12-31)",
     "transactions.txn_date 有 1 行晚于 {latest}（如 9999-12-31）"),
    ("DELETE FROM customers WHERE customer_id = 'C000007'",
     "rows of transactions name a customer the backup does not hold (e.g. C000007)",
     "transactions 有"),
])
def test_a_refused_restore_says_what_was_wrong(work_db, demo_db, tmp_path, sql, en, zh):
    from datetime import date

    from engine.ingest.limits import date_bounds
    latest = date_bounds(date.today())[1].isoformat()
    bad = edited_duckdb(tmp_path / "e.duckdb", demo_db, sql)
    with pytest.raises(backup.BackupRejected) as refused:
        backup.restore(work_db, bad, name="edited.duckdb")
    assert en.format(latest=latest) in refused.value.message("en")
    assert zh.format(latest=latest) in refused.value.message("zh")
    assert "Nothing was changed" in refused.value.message("en")


def test_restore_work_files_are_private_and_gone_after_a_refusal(work_db, demo_db, tmp_path,
                                                                 monkeypatch):
    import stat

    from engine import workfiles
    seen = []
    real = backup._stage_duckdb

    def look(staging, label):
        seen.append((stat.S_IMODE(staging.parent.stat().st_mode),
                     stat.S_IMODE(workfiles.root().stat().st_mode)))
        return real(staging, label)

    monkeypatch.setattr(backup, "_stage_duckdb", look)
    bad = edited_duckdb(tmp_path / "e.duckdb", demo_db, "UPDATE meta SET value = 'abc' "
                        "WHERE key = 'schema_version'")
    with pytest.raises(backup.BackupRejected):
        backup.restore(work_db, bad, name="e.duckdb")
    assert seen == [(0o700, 0o700)]
    mine = [p for p in workfiles.root().iterdir() if p.name.split("-")[1] == str(os.getpid())]
    assert mine == []


def test_sweep_removes_what_a_killed_process_left(tmp_path):
    import subprocess
    import sys

    from engine import workfiles
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    left = workfiles.root() / f"restore-{dead}-abc"
    left.mkdir()
    (left / "staging.duckdb").write_bytes(b"customer data")
    with workfiles.folder("restore") as live:
        assert f"restore-{dead}-abc" in workfiles.sweep()
        assert not left.exists() and live.exists()   # this process's own work stays
