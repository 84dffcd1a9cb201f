"""Cleaning that real exports need (DESIGN §6, the scoring audit's list): full-width
digits, amounts in 万, satisfaction in words, totals rows, zoned and AM/PM times, an
unknowable day/month order named, a missing column's message naming the sheets."""
from datetime import date, datetime
from decimal import Decimal

import pytest

from engine import ingest
from tests.conftest import ROOT
from tests.helpers import csv, rows

TODAY = date(2026, 6, 30)


def local(text: str) -> datetime:
    """A zoned ISO time as this machine's local wall-clock time (what the import stores)."""
    return datetime.fromisoformat(text).astimezone().replace(tzinfo=None)


def test_full_width_digits_and_amounts_in_wan():
    assert ingest.parse_values("amount", ["１２３", "￥１,２３４.５", "1.2万", "1.23456万", "-3万",
                                          "３万元"]) == [
        Decimal("123.00"), Decimal("1234.50"), Decimal("12000.00"), Decimal("12345.60"),
        Decimal("-30000.00"), Decimal("30000.00")]
    assert ingest.parse_values("number", ["３件", "１２"]) == [3.0, 12.0]
    assert ingest.parse_values("date", ["２０２４-０１-１５", "２０２４年１月５日"]) == [
        date(2024, 1, 15), date(2024, 1, 5)]


def test_satisfaction_in_words():
    words = ["非常满意", "满意", "一般", "不满意", "非常不满意", "Very satisfied", "很不满意"]
    assert ingest.parse_values("rating", words) == [5, 4, 3, 2, 1, 5, 1]


def test_times_with_a_zone_become_local_and_pm_is_afternoon():
    values = ["2024-03-01T10:00:00Z", "2024-03-01 10:00:00+08:00", "2024-03-01 10:00:00 +0800",
              "2024-03-01 23:30:00 -05:00", "2024-03-01 2:03 PM", "2024/1/5 11:59:59 AM",
              "2024-03-01 12:15 AM"]
    assert ingest.parse_values("timestamp", values) == [
        local("2024-03-01T10:00:00+00:00"), local("2024-03-01T10:00:00+08:00"),
        local("2024-03-01T10:00:00+08:00"), local("2024-03-01T23:30:00-05:00"),
        datetime(2024, 3, 1, 14, 3), datetime(2024, 1, 5, 11, 59, 59),
        datetime(2024, 3, 1, 0, 15)]
    # a date column takes the local date of a zoned time
    assert ingest.parse_values("date", ["2024-03-01 01:00:00+08:00"]) == [
        local("2024-03-01T01:00:00+08:00").date()]


def test_a_totals_row_is_left_out_with_a_note(tmp_path):
    text = ("客户编号,交易日期,金额,订单编号\nC1,2024-01-15,100,T1\nC2,2024-01-16,1.2万,T2\n"
            "合计,,12100,\n")
    db = tmp_path / "t.duckdb"
    report = ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                                create_customers=True, today=TODAY)
    assert (report.rows_read, report.inserted, report.totals_rows) == (2, 2, 1)
    assert "1 totals row (合计, 总计, Total) left out." in report.summary()
    assert rows(db, "SELECT customer_id, amount FROM transactions ORDER BY 1") == [
        ("C1", Decimal("100.00")), ("C2", Decimal("12000.00"))]


@pytest.mark.parametrize("cell", ["合计：", "合计:", "合计（2笔）", "Total: 2 orders", "总计 (含税)"])
def test_a_totals_row_with_a_colon_or_a_note_is_left_out_too(tmp_path, cell):
    text = f"订单号,客户编号,日期,金额\nT1,C1,2024-03-01,100\nT2,C2,2024-03-02,200\n{cell},,,300\n"
    report = ingest.import_file(tmp_path / "t.duckdb", csv(tmp_path, "t.csv", text),
                                "transactions", create_customers=True, today=TODAY)
    assert (report.rows_read, report.inserted, report.totals_rows) == (2, 2, 1)


def test_a_name_that_begins_with_a_totals_word_is_no_totals_row(tmp_path):
    text = "客户编号,客户名称\nC1,Totalcare Ltd\nC2,合计通讯\n"
    report = ingest.import_file(tmp_path / "c.duckdb", csv(tmp_path, "c.csv", text), "customers",
                                today=TODAY)
    assert (report.inserted, report.totals_rows) == (2, 0)


def test_a_day_month_order_no_date_tells_is_named_and_the_whole_file_is_asked(tmp_path):
    ambiguous = "客户编号,交易日期,金额\n" + "".join(
        f"C1,0{m}/0{d}/2024,1\n" for m, d in [(1, 2), (2, 3), (3, 4)] * 10)
    report = ingest.preview_import(tmp_path / "none.duckdb", csv(tmp_path, "a.csv", ambiguous),
                                   "transactions", create_customers=True, today=TODAY)
    assert report.day_first_assumed and report.day_first
    assert "read day first (3 April 2024)" in report.summary()
    assert "--no-day-first" in report.summary()
    # one date after the first rows (row 32) tells: month first
    told = ambiguous + "C1,03/25/2024,5\n"
    report = ingest.preview_import(tmp_path / "none.duckdb", csv(tmp_path, "b.csv", told),
                                   "transactions", create_customers=True, today=TODAY)
    assert not report.day_first_assumed and report.day_first is False
    assert report.preview["txn_date"][0] == datetime(2024, 1, 2)


def test_a_missing_column_message_lists_the_workbooks_sheets(tmp_path):
    book = ROOT / "data" / "samples" / "transactions.xlsx"
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.preview_import(tmp_path / "none.duckdb", book, "transactions", sheet="说明")
    message = caught.value.message("en")
    assert "the workbook's sheets are 订单, 说明" in message and "--sheet" in message
