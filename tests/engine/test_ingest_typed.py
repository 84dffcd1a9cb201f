"""The fast path's read: columns whose first rows look clean (engine.ingest.typed)
are read typed by read_csv; a later cell that does not fit sends the file to the
staged path, which stores and reports exactly as before."""
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from engine import ingest
from engine.ingest import limits, load, readers, typed
from engine.ingest.validate import Plan
from tests.helpers import csv, rows

TODAY = date(2026, 6, 30)
HEADER = "customer_id,txn_date,amount,txn_id,quantity\n"
# 60 clean rows: more than the 50 rows the sample holds, so that what follows is
# not seen when the columns' types are chosen.
CLEAN = "".join(f"C{k % 3},2024-01-{1 + k % 28:02d},{k}.50,T{k},{1 + k % 4}\n"
                for k in range(60))
QUERY = ("SELECT customer_id, txn_date, amount, txn_id, quantity FROM transactions "
         "WHERE txn_id = 'T99'")


def plan_of(headers: list[str], mapping: dict) -> Plan:
    return Plan.build("transactions", headers, mapping, day_first=True)


def test_columns_whose_sample_is_plain_are_read_typed():
    headers = ["id", "day", "at", "money", "n", "odd", "empty"]
    sample = pd.DataFrame({"id": ["C1", "C2"], "day": ["2024-01-05", "2024-12-31"],
                           "at": ["2024-01-05 10:30", ""], "money": ["-12.5", "3"],
                           "n": ["2", "1.5"], "odd": [" 4", "5"], "empty": ["", None]},
                          dtype="string")
    mapping = {"id": "customer_id", "day": "txn_date", "at": "paid_date", "money": "amount",
               "n": "quantity", "odd": "unit_price", "empty": "due_date"}
    read = typed.choose(plan_of(headers, mapping), sample)
    # the id stays text, and " 4" (a space); the empty due date is read as the first date
    assert read.types == {"c1": "DATE", "c2": "TIMESTAMP", "c3": "DECIMAL(18, 2)",
                          "c4": "DOUBLE", "c6": "DATE"}
    assert read.formats == {"dateformat": "%Y-%m-%d", "timestampformat": "%Y-%m-%d %H:%M"}


def test_a_second_timestamp_form_stays_text():
    headers = ["id", "day", "due", "paid"]
    sample = pd.DataFrame({"id": ["C1"], "day": ["2024/01/05"], "due": ["2024-01-05 10:30:00"],
                           "paid": ["2024-01-05 10:30"]}, dtype="string")
    mapping = {"id": "customer_id", "day": "txn_date", "due": "due_date", "paid": "paid_date"}
    read = typed.choose(plan_of(headers, mapping), sample)
    # 2024/01/05 is no plain form; the paid date would need a second timestamp format
    assert read.types == {"c2": "TIMESTAMP"}
    assert read.formats == {"timestampformat": "%Y-%m-%d %H:%M:%S"}


def test_a_date_column_empty_in_the_sample_takes_the_form_of_the_first_date_column():
    headers = ["id", "day", "due", "n"]
    sample = pd.DataFrame({"id": ["C1", "C2"], "day": ["2024-01-05", "2024-01-06"],
                           "due": ["", None], "n": ["", ""]}, dtype="string")
    mapping = {"id": "customer_id", "day": "txn_date", "due": "due_date", "n": "quantity"}
    read = typed.choose(plan_of(headers, mapping), sample)
    assert read.types == {"c1": "DATE", "c2": "DATE"}     # the empty number stays text
    no_dates = sample.assign(day=["05/01/2024", "06/01/2024"])
    assert typed.choose(plan_of(headers, mapping), no_dates).types == {}


@pytest.fixture
def fast_only(monkeypatch):
    """The staged path made to fail: the import must land on the fast path."""
    def staged(*args, **kwargs):
        raise AssertionError("the file went to the staged path")
    monkeypatch.setattr(load, "_staged_import", staged)


def test_cells_the_typed_read_takes_are_stored_as_the_exact_cast_would(tmp_path, fast_only):
    # Forms the exact cast accepts besides the sample's: a single-digit month and day,
    # a space before a date, three decimals (rounded to the cent), an exponent, a sign.
    text = HEADER + CLEAN + "C1, 2024-3-7,12.345,T99,+1e1\n"
    db = tmp_path / "x.duckdb"
    report = ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                                create_customers=True, today=TODAY)
    assert report.inserted == 61
    assert rows(db, QUERY) == [("C1", date(2024, 3, 7), Decimal("12.35"), "T99", 10.0)]


@pytest.mark.parametrize("day, money, quantity, stored", [
    # written otherwise than the first rows: the staged path parses them as always
    ("2024/03/07", '"¥1,200.50"', "2件", (date(2024, 3, 7), Decimal("1200.50"), 2.0)),
    ("2024年3月7日", "(12.00)", "", (date(2024, 3, 7), Decimal("-12.00"), None)),
    ("N/A", "7", "nan", (None, Decimal("7.00"), None)),   # null markers: empty
])
def test_a_later_cell_in_another_form_goes_to_the_staged_path(tmp_path, day, money, quantity,
                                                              stored):
    text = HEADER.replace("txn_date,", "paid_date,txn_date,") + "".join(
        f"{line.split(',')[0]},2024-01-01,{line.split(',', 1)[1]}" for line in
        CLEAN.splitlines(keepends=True)) + f"C1,{day},2024-03-07,{money},T99,{quantity}\n"
    db = tmp_path / "x.duckdb"
    report = ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                                create_customers=True, today=TODAY)
    assert report.inserted == 61 and report.rejected == 0
    assert rows(db, "SELECT paid_date, amount, quantity FROM transactions "
                    "WHERE txn_id = 'T99'") == [stored]


@pytest.mark.parametrize("column, cell, code", [
    # read_csv's date format reads it as 1900-01-01; the exact cast as the infinite date
    ("txn_date", "infinity", "future_date"),
    ("txn_date", "2024-13-01", "bad_date"),
    ("txn_date", "2026-07-01", "future_date"),   # the day after TODAY
    ("txn_date", "1899-12-31", "bad_date"),
    ("txn_date", "", "missing_value"),
    ("quantity", "inf", "bad_number"),         # read as a number, but not a finite one
    ("amount", "12.3.4", "bad_amount"),
])
def test_a_later_bad_cell_is_reported_on_its_line_and_nothing_written(tmp_path, monkeypatch,
                                                                       column, cell, code):
    # Dates from 1900 on allowed, so that 1900-01-01 would pass if the typed read kept it.
    monkeypatch.setenv(limits.EARLIEST_DATE.env, "1900")
    values = {"customer_id": "C1", "txn_date": "2024-03-07", "amount": "5",
              "txn_id": "T99", "quantity": "2"} | {column: cell}
    text = HEADER + CLEAN + ",".join(values.values()) + "\n" + "C2,2024-03-08,6,T100,1\n"
    db = tmp_path / "x.duckdb"
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                           create_customers=True, today=TODAY)
    # the header is line 1 and the 60 clean rows lines 2-61
    assert [(p.file, p.line, p.column, p.code, p.value) for p in caught.value.problems] == [
        ("t.csv", 62, column, code, cell or None)]
    assert not db.exists()


def test_a_word_the_date_format_misreads_is_read_as_the_exact_cast_reads_it(tmp_path,
                                                                           monkeypatch):
    # read_csv's date format reads "epoch" as 1900-01-01, the exact cast as 1970-01-01
    monkeypatch.setenv(limits.EARLIEST_DATE.env, "1900")
    text = HEADER + CLEAN + "C1,epoch,5,T99,2\n"
    db = tmp_path / "x.duckdb"
    ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                       create_customers=True, today=TODAY)
    assert rows(db, QUERY) == [("C1", date(1970, 1, 1), Decimal("5.00"), "T99", 2.0)]


@pytest.mark.parametrize("due, stored", [("2024-02-01", date(2024, 2, 1)),
                                         ("2024/2/1", date(2024, 2, 1))])   # staged path
def test_a_date_column_empty_in_the_first_rows_is_read_further_down(tmp_path, due, stored):
    text = HEADER.replace("\n", ",due_date\n") + CLEAN.replace("\n", ",\n") \
        + f"C1,2024-03-07,5,T99,2,{due}\n"
    db = tmp_path / "x.duckdb"
    ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                       create_customers=True, today=TODAY)
    assert rows(db, "SELECT due_date FROM transactions WHERE due_date IS NOT NULL") == [
        (stored,)]


def test_a_typed_timestamp_column_reads_into_a_date(tmp_path, fast_only):
    text = ("Invoice,InvoiceDate,Price,Customer ID\n"
            + "".join(f"INV{k},2023-01-0{1 + k % 9} 0{k % 10}:15,1.5,{k % 4}\n"
                      for k in range(55)))
    db = tmp_path / "x.duckdb"
    report = ingest.import_file(db, csv(tmp_path, "lines.csv", text), "transactions",
                                create_customers=True, today=TODAY)
    assert report.inserted == 55
    assert rows(db, "SELECT txn_date, amount FROM transactions WHERE txn_id = 'INV12'") == [
        (date(2023, 1, 4), Decimal("1.50"))]


# ---- cells read as they are: no trim, null markers read as NULL by read_csv ----

@pytest.mark.parametrize("text, padded", [
    ("a,b\nNew York,2\n", False),          # a space inside a cell
    ("a,b\n 1,2\n", True),                 # after a separator or a line end
    ("a,b\n1 ,2\n", True),                 # before a separator
    ("a,b\n1,2 \n", True),                 # before a line end
    ("a,b\r\n1,2 \r\n", True),
    ("a,b\n\"x \",2\n", True),             # inside quotes, at an end
    ("a,b\n1,2 ", True),                   # the file's last byte
    (" a,b\n1,2\n", True),                 # the file's first byte
    ("a,b\n1,x\u2003y\n", True),           # an em space anywhere (trim() strips it)
    ("a,b\n1,x\u201cy\u201d\n", False),    # curly quotes share its lead byte
])
@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 1 << 20])
def test_a_scan_tells_whether_a_cell_may_begin_or_end_with_a_space(tmp_path, monkeypatch,
                                                                   text, padded, chunk):
    monkeypatch.setattr(readers, "CHUNK_BYTES", chunk)
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    assert readers.scan_csv(path, ",").padded is padded


@pytest.mark.parametrize("tail, markers", [
    # no N, l, L, / or # and no em dash: only these three can be a cell
    ("", ("nan", "-", "--")),
    # N, / and A further down: None, NaN, N/A and n/a too (NULL lacks U, #N/A the #)
    ("C2,2024-01-06,N/A\n", ("None", "nan", "NaN", "N/A", "n/a", "-", "--")),
    ("C2,2024-01-06,—\n", ("nan", "-", "--", "—", "——")),
])
@pytest.mark.parametrize("chunk", [1, 4, 1 << 20])
def test_read_csv_is_given_only_the_null_markers_whose_bytes_the_file_holds(
        tmp_path, monkeypatch, tail, markers, chunk):
    monkeypatch.setattr(readers, "CHUNK_BYTES", chunk)
    path = tmp_path / "t.csv"
    path.write_text("customer_id,txn_date,amount\nC1,2024-01-05,5\n" + tail, encoding="utf-8")
    with readers.open_source(path) as src:
        assert src.null_markers == markers


def test_a_null_marker_past_the_first_chunk_is_read_as_null(tmp_path, monkeypatch, fast_only):
    monkeypatch.setattr(readers, "CHUNK_BYTES", 64)
    text = HEADER + CLEAN + "C1,2024-03-07,5,T99,N/A\n"
    db = tmp_path / "x.duckdb"
    ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                       create_customers=True, today=TODAY)
    assert rows(db, QUERY) == [("C1", date(2024, 3, 7), Decimal("5.00"), "T99", None)]


def test_a_tab_separated_cell_beside_a_space_is_padded(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\nx \ty\n", encoding="utf-8")
    assert readers.scan_csv(path, "\t").padded
    path.write_text("a\tb\nx y\tz\n", encoding="utf-8")
    assert not readers.scan_csv(path, "\t").padded


@pytest.mark.parametrize("cell, stored", [
    ("C1", "C1"), (" C1", "C1"), ("C1 ", "C1"), ("C1\u2003", "C1"), ("\"C1 \"", "C1")])
def test_a_padded_cell_is_trimmed_on_the_fast_path(tmp_path, fast_only, cell, stored):
    text = HEADER + CLEAN + f"{cell},2024-03-07,5,T99,2\n"
    db = tmp_path / "x.duckdb"
    ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                       create_customers=True, today=TODAY)
    assert rows(db, QUERY) == [(stored, date(2024, 3, 7), Decimal("5.00"), "T99", 2.0)]


def test_null_markers_are_empty_on_the_fast_path(tmp_path, fast_only):
    text = ("customer_id,txn_date,amount,txn_id,quantity,product\n"
            + "".join(f"C{k % 3},2024-01-{1 + k % 28:02d},{k}.50,T{k},{1 + k % 4},P{k}\n"
                      for k in range(60))
            + "C1,2024-03-07,5,T99,-,N/A\nC2,2024-03-08,6,\"null\",—,\"\"\n")
    db = tmp_path / "x.duckdb"
    report = ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                                create_customers=True, today=TODAY)
    assert report.inserted == 62
    assert rows(db, "SELECT customer_id, txn_id, quantity, product FROM transactions "
                    "WHERE txn_date >= DATE '2024-03-01' ORDER BY 1") == [
        ("C1", "T99", None, None), ("C2", None, None, None)]


@pytest.mark.parametrize("cell, stored", [
    ("Ann@Shop.CN", "ann@shop.cn"), ('"=""C7"""', "C7"), ("'C8", "C8"), ("Ｃ９", "C9"),
    ("＇Ｃ１０", "C10")])
def test_an_id_that_needs_cleaning_past_the_first_chunk_is_cleaned_on_the_fast_path(
        tmp_path, monkeypatch, fast_only, cell, stored):
    # The file's bytes are scanned in chunks of 64: the id's sign comes after the first.
    monkeypatch.setattr(readers, "CHUNK_BYTES", 64)
    text = HEADER + CLEAN + f"{cell},2024-03-07,5,T99,2\n"
    db = tmp_path / "x.duckdb"
    ingest.import_file(db, csv(tmp_path, "t.csv", text), "transactions",
                       create_customers=True, today=TODAY)
    assert rows(db, QUERY) == [(stored, date(2024, 3, 7), Decimal("5.00"), "T99", 2.0)]


def test_a_scan_tells_which_bytes_ids_are_cleaned_of_a_file_never_holds(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(HEADER + CLEAN, encoding="utf-8")
    assert readers.scan_csv(path, ",").absent >= frozenset(b"='@\xef")
    path.write_text(HEADER + CLEAN + "Ｃ1,2024-03-07,5,T99,2\n", encoding="utf-8")
    assert 0xEF not in readers.scan_csv(path, ",").absent
