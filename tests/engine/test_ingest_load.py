"""Importing into the database: counts, idempotence, upsert, rejects, undo, atomicity."""
import os
import subprocess
import sys
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from engine import ingest, store
from tests.conftest import ROOT
from tests.helpers import csv, rows

SAMPLES = ROOT / "data" / "samples"
TODAY = date(2026, 6, 30)
CUSTOMERS = "客户编号,客户名称,地区,负责人\nC1,张三,华东,王芳\nC2,李四,华南,王芳\nC3,王五,华北,刘洋\n"
TXNS = ("客户编号,交易日期,金额,订单编号,订单状态\n"
        "C1,2024-01-15,\"¥1,234.50\",T1,交易成功\n"
        "C2,2024/1/16,(12.00),T2,退款\n"
        "C3,2024年1月17日,30,T3,锁定\n")


def snapshot(db) -> dict:
    with store.connect(db) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY 1").fetchall()]
        return {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall()))
                for t in tables}


@pytest.fixture
def db(tmp_path) -> Path:
    """A database with customers C1-C3 (batch 1)."""
    path = tmp_path / "crm.duckdb"
    ingest.import_file(path, csv(tmp_path, "customers.csv", CUSTOMERS), "customers", today=TODAY)
    return path


def test_import_creates_the_file_and_tags_every_row(tmp_path):
    path = tmp_path / "new" / "crm.duckdb"
    report = ingest.import_file(path, csv(tmp_path, "customers.csv", CUSTOMERS), "customers")
    assert path.exists()
    assert (report.inserted, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    assert rows(path, "SELECT customer_id, name, region, batch_id FROM customers ORDER BY 1") == [
        ("C1", "张三", "华东", 1), ("C2", "李四", "华南", 1), ("C3", "王五", "华北", 1)]
    assert rows(path, "SELECT batch_id, file_name, table_name, rows_inserted FROM import_batches"
                ) == [(1, "customers.csv", "customers", 3)]


def test_transactions_are_parsed_and_codes_resolved(db, tmp_path):
    report = ingest.import_file(db, csv(tmp_path, "t.csv", TXNS), "transactions", today=TODAY)
    assert report.inserted == 3 and report.batch_id == 2
    assert rows(db, "SELECT customer_id, txn_date, amount, txn_id, status FROM transactions "
                    "ORDER BY txn_id") == [
        ("C1", date(2024, 1, 15), Decimal("1234.50"), "T1", "paid"),
        ("C2", date(2024, 1, 16), Decimal("-12.00"), "T2", "refunded"),
        ("C3", date(2024, 1, 17), Decimal("30.00"), "T3", "other")]
    assert report.other_values == {"status": {"锁定": 1}}
    assert report.other_counts == {"status": 1}
    assert "status: 1 value stored as other" in report.summary()


def test_the_same_file_twice_adds_nothing(db, tmp_path):
    path = csv(tmp_path, "t.csv", TXNS)
    first = ingest.import_file(db, path, "transactions", today=TODAY)
    before = snapshot(db)["transactions"]
    again = ingest.import_file(db, path, "transactions", today=TODAY)
    assert (again.inserted, again.unchanged, again.rejected) == (0, 3, 0)
    assert again.same_file_batches == [first.batch_id]
    assert snapshot(db)["transactions"] == before


def test_rows_without_a_key_match_on_content_as_a_multiset(db, tmp_path):
    head = "customer_id,ts,kind\n"
    a, b, c = "C1,2024-01-01 09:00,咨询\n", "C2,2024-01-02 09:00,投诉\n", "C3,2024-01-03,反馈\n"
    first = ingest.import_file(db, csv(tmp_path, "1.csv", head + a + b + b), "interactions")
    assert first.inserted == 3          # the same row twice in a file is two events
    second = ingest.import_file(db, csv(tmp_path, "2.csv", head + b + b + c), "interactions")
    assert (second.inserted, second.unchanged) == (1, 2)
    assert rows(db, "SELECT count(*) FROM interactions") == [(4,)]


def test_response_times_in_minutes_are_stored_as_hours(db, tmp_path):
    text = "客户编号,时间,类型,响应时长\nC1,2024-01-01 09:00,咨询,30分钟\nC2,2024-01-02 09:00,投诉,2\n"
    ingest.import_file(db, csv(tmp_path, "i.csv", text), "interactions", today=TODAY)
    assert rows(db, "SELECT customer_id, response_hours FROM interactions ORDER BY 1") == [
        ("C1", 0.5), ("C2", 2.0)]


def test_customers_are_upserted_and_previous_versions_kept(db, tmp_path):
    changed = "客户编号,客户名称,地区\nC1,张三,华东\nC2,李四,西南\nC4,赵六,华中\n"
    report = ingest.import_file(db, csv(tmp_path, "c2.csv", changed), "customers")
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    assert rows(db, "SELECT customer_id, region, owner, batch_id FROM customers ORDER BY 1") == [
        ("C1", "华东", "王芳", 1), ("C2", "西南", "王芳", 2), ("C3", "华北", "刘洋", 1),
        ("C4", "华中", None, 2)]
    assert rows(db, "SELECT customer_id, region, batch_id, replaced_by FROM customer_versions"
                ) == [("C2", "华南", 1, 2)]


def test_a_stored_txn_id_is_unchanged_when_equal_and_refused_when_different(db, tmp_path):
    ingest.import_file(db, csv(tmp_path, "t.csv", TXNS), "transactions", today=TODAY)
    same = "customer_id,txn_date,amount,txn_id\nC1,2024-01-15,1234.5,T1\n"
    report = ingest.import_file(db, csv(tmp_path, "same.csv", same), "transactions", today=TODAY)
    assert (report.inserted, report.unchanged) == (0, 1)
    before = snapshot(db)
    other = "customer_id,txn_date,amount,txn_id\nC1,2024-01-15,99,T1\nC2,2024-02-01,5,T9\n"
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, csv(tmp_path, "other.csv", other), "transactions", today=TODAY)
    problem = caught.value.problems[0]
    assert (problem.code, problem.line, problem.column, problem.value) == (
        "txn_conflict", 2, "txn_id", "T1")
    assert "different amount" in problem.message()
    assert snapshot(db) == before


def test_unknown_customers_are_refused_or_created(db, tmp_path):
    text = "customer_id,txn_date,amount\nC1,2024-01-15,5\nN1,2024-01-16,6\nN1,2024-01-17,7\n"
    path = csv(tmp_path, "t.csv", text)
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, path, "transactions", today=TODAY)
    assert [(p.code, p.line) for p in caught.value.problems] == [
        ("unknown_customer", 3), ("unknown_customer", 4)]
    report = ingest.import_file(db, path, "transactions", create_customers=True, today=TODAY)
    assert (report.inserted, report.customers_created) == (3, 1)
    assert rows(db, "SELECT customer_id, name, batch_id FROM customers WHERE customer_id = 'N1'"
                ) == [("N1", None, report.batch_id)]


def test_a_transactions_file_alone_is_enough_to_start(tmp_path):
    path = tmp_path / "fresh.duckdb"
    report = ingest.import_file(path, csv(tmp_path, "t.csv", TXNS), "transactions",
                                create_customers=True, today=TODAY)
    assert (report.inserted, report.customers_created) == (3, 3)
    assert rows(path, "SELECT count(*) FROM customers") == [(3,)]


def test_all_or_nothing_by_default(db, tmp_path):
    text = TXNS + "C1,2024-13-01,5,T4,交易成功\nC1,2024-01-20,abc,T5,交易成功\n"
    before = snapshot(db)
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions", today=TODAY)
    assert [(p.line, p.column, p.code) for p in caught.value.problems] == [
        (5, "交易日期", "bad_date"), (6, "金额", "bad_amount")]
    assert caught.value.total == 2 and caught.value.report.rejected == 2
    assert snapshot(db) == before


def test_skip_invalid_imports_the_rest_and_returns_the_rejects(db, tmp_path):
    text = TXNS + "C1,2024-13-01,5,T4,交易成功\nC1,2024-01-20,abc,T5,交易成功\n"
    report = ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                                skip_invalid=True, today=TODAY)
    assert (report.inserted, report.rejected, report.problem_count) == (3, 2, 2)
    rejects = report.rejects
    assert list(rejects.columns) == ["客户编号", "交易日期", "金额", "订单编号", "订单状态",
                                     "line", "error"]
    assert rejects["line"].tolist() == [5, 6]
    assert rejects["交易日期"].tolist() == ["2024-13-01", "2024-01-20"]
    assert rejects["error"][0].startswith('column "交易日期": "2024-13-01" is not a date')
    data = report.rejects_csv()
    assert data.startswith("\ufeff".encode()) and "2024-13-01" in data.decode("utf-8-sig")


def test_rejects_in_chinese(db, tmp_path):
    text = "customer_id,txn_date,amount\nC1,2024-01-15,abc\n"
    report = ingest.preview_import(db, csv(tmp_path, "t.csv", text), "transactions", lang="zh")
    assert report.rejects["error"][0].startswith("“amount”列：“abc”不是金额")


def test_a_rejected_import_into_a_new_file_leaves_no_file(tmp_path):
    path = tmp_path / "never.duckdb"
    with pytest.raises(ingest.ImportRejected):
        ingest.import_file(path, csv(tmp_path, "t.csv", TXNS), "transactions", today=TODAY)
    assert not path.exists() and not Path(f"{path}.wal").exists()


def test_preview_writes_nothing_and_shows_rows_as_stored(db, tmp_path):
    before = snapshot(db)
    text = TXNS + "C9,2024-01-20,5,T5,交易成功\n"
    report = ingest.preview_import(db, csv(tmp_path, "t.csv", text), "transactions", today=TODAY)
    assert report.dry_run and report.batch_id is None
    assert (report.inserted, report.rejected) == (3, 1)
    assert report.preview[["line", "customer_id", "amount", "status", "ok"]].values.tolist() == [
        [2, "C1", 1234.5, "paid", True], [3, "C2", -12.0, "refunded", True],
        [4, "C3", 30.0, "other", True], [5, "C9", 5.0, "paid", False]]
    assert report.problem_table()["problem"].tolist() == ['customer "C9" is not in the database']
    assert snapshot(db) == before
    assert not (tmp_path / "nothing.duckdb").exists()
    ingest.preview_import(tmp_path / "nothing.duckdb", csv(tmp_path, "c.csv", CUSTOMERS),
                          "customers")
    assert not (tmp_path / "nothing.duckdb").exists()


def test_duplicate_keys_in_a_file(db, tmp_path):
    text = "客户编号,客户名称\nC7,甲\nC8,乙\nC7,丙\n"
    report = ingest.import_file(db, csv(tmp_path, "c.csv", text), "customers", skip_invalid=True)
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.problems[0].params == {"first_line": 2}
    assert rows(db, "SELECT name FROM customers WHERE customer_id = 'C7'") == [("甲",)]


def test_future_dates_and_ratings(db, tmp_path):
    text = ("customer_id,ts,kind,satisfaction\nC1,2026-07-01 09:00,咨询,5\n"
            "C1,2026-06-30 23:00,咨询,6\nC2,2026-06-01,投诉,\nC2,2026-06-02,投诉,4.5\n"
            "C2,2026-06-03,投诉,0.5\nC2,2026-06-04,投诉,5.0\n")
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, csv(tmp_path, "i.csv", text), "interactions", today=TODAY)
    problems = caught.value.problems
    assert [(p.line, p.code) for p in problems] == [
        (2, "future_date"), (3, "rating_range"), (5, "rating_fraction"), (6, "rating_range")]
    assert problems[2].message("en").endswith(
        '"4.5" is not a whole number; expected a whole number from 1 to 5')


def test_day_first_is_taken_from_the_file(db, tmp_path):
    text = "customer_id,txn_date,amount\nC1,15.01.2024,5\nC2,02.03.2024,6\n"
    report = ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions", today=TODAY)
    assert report.day_first is True
    assert rows(db, "SELECT txn_date FROM transactions ORDER BY amount") == [
        (date(2024, 1, 15),), (date(2024, 3, 2),)]
    us = "customer_id,txn_date,amount\nC1,01/15/2024,7\nC2,03/02/2024,8\n"
    report = ingest.import_file(db, csv(tmp_path, "us.csv", us), "transactions", today=TODAY)
    assert report.day_first is False
    assert rows(db, "SELECT txn_date FROM transactions WHERE amount > 6 ORDER BY amount") == [
        (date(2024, 1, 15),), (date(2024, 3, 2),)]


def test_fast_and_staged_paths_store_the_same(tmp_path):
    text = ("客户编号,交易日期,金额,订单编号,订单状态,数量\n"
            " C1 ,2024-01-15,\"¥1,234.50\",T1,交易成功,2\n"
            "C2,2024/1/16 10:30,(12.00),,Refunded,\n"
            "C3,20240117,30,T3,锁定,3件\n"
            "C1,45306,\u300012\u3000,T4,,1\n"
            ",,,,,\n")
    path = csv(tmp_path, "t.csv", text)
    fast_db, staged_db = tmp_path / "fast.duckdb", tmp_path / "staged.duckdb"
    fast = ingest.import_file(fast_db, path, "transactions", create_customers=True, today=TODAY)
    seed = "customer_id,txn_date,amount,txn_id\nZ,2020-01-01,1,Z1\n"
    ingest.import_file(staged_db, csv(tmp_path, "z.csv", seed), "transactions",
                       create_customers=True)
    staged = ingest.import_file(staged_db, path, "transactions", create_customers=True,
                                today=TODAY)
    query = ("SELECT customer_id, txn_date, amount, txn_id, quantity, status FROM transactions "
             "WHERE customer_id <> 'Z' ORDER BY ALL")
    assert rows(fast_db, query) == rows(staged_db, query)
    assert len(rows(fast_db, query)) == 4
    for report in (fast, staged):
        assert (report.inserted, report.customers_created) == (4, 3)
        assert report.other_values == {"status": {"锁定": 1}}


def test_fast_path_falls_back_and_reports_like_the_staged_path(tmp_path):
    text = "customer_id,txn_date,amount,txn_id\nC1,2024-01-15,5,T1\nC2,2024-01-16,6,T1\n"
    path = tmp_path / "x.duckdb"
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(path, csv(tmp_path, "t.csv", text), "transactions",
                           create_customers=True)
    assert [(p.code, p.line, p.target) for p in caught.value.problems] == [
        ("order_refused", 2, "txn_id"), ("order_conflict", 3, "customer_id"),
        ("order_conflict", 3, "txn_date")]
    report = ingest.import_file(tmp_path / "y.duckdb", csv(tmp_path, "t.csv", text),
                                "transactions", create_customers=True, skip_invalid=True)
    assert (report.inserted, report.rejected, report.customers_created) == (0, 2, 0)


def test_followups_get_ids_and_codes(db, tmp_path):
    text = ("客户编号,跟进日期,跟进动作,跟进方式,状态\nC1,2024-02-01,专属拜访,上门,已完成\n"
            "C2,2024-02-02,流失挽回,电话,跟进中\nC3,2024-02-03,发传单,传真,搁置\n")
    report = ingest.import_file(db, csv(tmp_path, "f.csv", text), "followups", today=TODAY)
    assert rows(db, "SELECT followup_id, customer_id, action, channel, status FROM followups "
                    "ORDER BY 1") == [
        (1, "C1", "visit", "visit", "done"), (2, "C2", "win_back", "phone", "in_progress"),
        (3, "C3", "other", "other", "paused")]
    assert report.other_values == {"action": {"发传单": 1}, "channel": {"传真": 1}}


def test_xlsx_import_with_sheet_lines(db, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    sheet = book.create_sheet("订单")
    sheet.append(["客户编号", "交易日期", "金额", "订单编号"])
    sheet.append(["C1", date(2024, 1, 15), 12.5, 1001])
    sheet.append([])
    sheet.append(["C2", date(2024, 1, 16), "abc", 1002])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    report = ingest.import_file(db, path, "transactions", sheet="订单", skip_invalid=True,
                                today=TODAY)
    assert (report.inserted, report.rejected, report.sheet) == (1, 1, "订单")
    assert report.problems[0].line == 4 and report.problems[0].column == "金额"
    assert rows(db, "SELECT txn_id, amount FROM transactions") == [("1001", Decimal("12.50"))]


def test_several_files_in_one_transaction(tmp_path):
    path = tmp_path / "multi.duckdb"
    customers = csv(tmp_path, "c.csv", CUSTOMERS)
    bad = csv(tmp_path, "bad.csv", TXNS + "C1,never,5,T9,交易成功\n")
    with pytest.raises(ingest.ImportRejected):
        ingest.import_files(path, [(bad, "transactions"), (customers, "customers")])
    assert not path.exists()
    reports = ingest.import_files(path, [(csv(tmp_path, "t.csv", TXNS), "transactions"),
                                         (customers, "customers")], today=TODAY)
    assert [(r.table, r.batch_id, r.inserted) for r in reports] == [
        ("customers", 1, 3), ("transactions", 2, 3)]


@pytest.mark.parametrize("extra, skip", [("", False), ("C1,2024-13-01,5,T9,x\n", True),
                                          ("C1,2024-13-01,5,T9,x\n", False)])
def test_progress_is_reported_in_order(db, tmp_path, extra, skip):
    seen, stages = [], {"read", "check", "write", "done"}
    try:
        ingest.import_file(db, csv(tmp_path, "t.csv", TXNS + extra), "transactions",
                           today=TODAY, skip_invalid=skip,
                           progress=lambda fraction, stage: seen.append((fraction, stage)))
    except ingest.ImportRejected:
        seen.append((1.0, "done"))   # the fast path failed, then the staged checks refused
        stages.remove("write")       # a refused file is never written
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and seen[-1] == (1.0, "done")
    assert {s for _, s in seen} == stages
    assert len(set(seen)) == len(seen)


def test_history_and_undo(db, tmp_path):
    ingest.import_file(db, csv(tmp_path, "t.csv", TXNS), "transactions", today=TODAY)
    changed = csv(tmp_path, "c2.csv", "客户编号,地区\nC2,西南\nC9,新疆\n")
    ingest.import_file(db, changed, "customers")
    history = ingest.list_batches(db)
    assert history["batch_id"].tolist() == [3, 2, 1]
    assert history["table_name"].tolist() == ["customers", "transactions", "customers"]
    undone = ingest.undo_batch(db, 3)
    assert (undone.rows_removed, undone.customers_restored) == (1, 1)
    assert rows(db, "SELECT customer_id, region, batch_id FROM customers ORDER BY 1") == [
        ("C1", "华东", 1), ("C2", "华南", 1), ("C3", "华北", 1)]
    assert rows(db, "SELECT count(*) FROM customer_versions") == [(0,)]
    assert ingest.undo_batch(db, 2).rows_removed == 3
    assert rows(db, "SELECT count(*) FROM transactions") == [(0,)]
    with pytest.raises(ingest.UndoRefused, match="already undone"):
        ingest.undo_batch(db, 2)
    with pytest.raises(ingest.UndoRefused, match="no import batch 99"):
        ingest.undo_batch(db, 99)
    assert ingest.list_batches(db)["undone_at"].notna().tolist() == [True, True, False]


def test_undo_refuses_what_later_imports_build_on(db, tmp_path):
    ingest.import_file(db, csv(tmp_path, "c2.csv", "客户编号,地区\nC1,西北\n"), "customers")
    with pytest.raises(ingest.UndoRefused) as caught:
        ingest.undo_batch(db, 1)
    assert caught.value.code == "later_changes" and "(2)" in str(caught.value)
    txns = "customer_id,txn_date,amount\nN1,2024-01-15,5\n"
    created = ingest.import_file(db, csv(tmp_path, "t.csv", txns), "transactions",
                                 create_customers=True, today=TODAY)
    more = "customer_id,txn_date,amount\nN1,2024-02-15,6\n"
    ingest.import_file(db, csv(tmp_path, "t2.csv", more), "transactions", today=TODAY)
    with pytest.raises(ingest.UndoRefused) as caught:
        ingest.undo_batch(db, created.batch_id)
    assert caught.value.code == "customers_in_use"
    assert caught.value.message("zh")
    ingest.undo_batch(db, created.batch_id + 1)
    result = ingest.undo_batch(db, created.batch_id)
    assert (result.rows_removed, result.customers_removed) == (1, 1)
    assert rows(db, "SELECT count(*) FROM customers WHERE customer_id = 'N1'") == [(0,)]


def test_reset_empty_and_demo(db, tmp_path):
    ingest.save_mapping(db, "m", "customers", {"ID": "customer_id"})
    counts = ingest.reset(db, demo=False)
    assert counts == dict.fromkeys(store.EVENT_TABLES, 0)
    assert rows(db, "SELECT count(*) FROM import_batches") == [(0,)]
    assert len(ingest.list_mappings(db)) == 1
    counts = ingest.reset(db, demo=True, customers=30, months=2)
    assert counts["customers"] == 30 and counts["transactions"] > 0


def test_all_samples_import_in_order(tmp_path):
    path = tmp_path / "samples.duckdb"
    files = [("customers.csv", "customers"), ("transactions.csv", "transactions"),
             ("transactions.xlsx", "transactions"), ("interactions.csv", "interactions"),
             ("followups.csv", "followups")]
    for name, table in files:
        report = ingest.import_file(path, SAMPLES / name, table, today=TODAY)
        assert report.rejected == 0 and report.inserted > 0, report.summary()
    assert ingest.inspect_file(SAMPLES / "transactions.csv").encoding == "gb18030"
    ids = rows(path, "SELECT count(*) FROM transactions t WHERE customer_id NOT IN "
                     "(SELECT customer_id FROM customers)")
    assert ids == [(0,)]


def test_a_crash_during_the_import_leaves_the_database_as_it_was(db, tmp_path):
    before = snapshot(db)
    big = "customer_id,txn_date,amount\n" + "C1,2024-01-15,5\n" * 2000
    path = csv(tmp_path, "t.csv", big)
    script = textwrap.dedent(f"""
        import os
        from engine import ingest
        def crash(fraction, stage):
            if stage == "write" and fraction > 0.5:
                os._exit(9)
        ingest.import_file({str(db)!r}, {str(path)!r}, "transactions", progress=crash)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 9, done.stderr.decode()
    assert snapshot(db) == before


def test_rows_ending_in_a_separator_import(db, tmp_path):
    text = "customer_id,txn_date,amount,\nC1,2024-01-15,5,\nC2,2024-01-16,6,\n"
    text = text.replace("amount,\n", "amount\n")
    report = ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions", today=TODAY)
    assert (report.inserted, report.rejected) == (2, 0)


def test_files_with_a_title_above_the_header(db, tmp_path):
    text = "订单导出\n\n客户编号,交易日期,金额\nC1,2024-01-15,5\n\nC2,2024-01-16,x\n"
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions", today=TODAY)
    assert [(p.line, p.column) for p in caught.value.problems] == [(6, "金额")]
    book = openpyxl.Workbook()
    for row in (["订单报表"], [], ["客户编号", "交易日期", "金额"], ["C1", "2024-01-15", "y"]):
        book.active.append(row)
    book.save(tmp_path / "t.xlsx")
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, tmp_path / "t.xlsx", "transactions", today=TODAY)
    assert [(p.line, p.column) for p in caught.value.problems] == [(4, "金额")]
