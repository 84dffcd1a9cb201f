"""The fast path against the staged path, file by file: it may only be stricter.

Every hand-made file here is imported twice into a new database: once as an
import runs (the fast path, which falls back to the staged path when it
refuses), and once with the fast path switched off (`_fast_path_fits` made
False), which is the reference. The two must store the same rows (every
column but the batch id, in file order) and the same customers, or refuse
with the same problems (file, line, column, code, value). The files put
their odd cell after 50 clean rows, where the typed read
(engine.ingest.typed) has already chosen the columns' types from the
sample; Hypothesis adds files built from a pool of awkward cells.
"""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ingest
from engine.ingest import limits, load
from tests.helpers import csv, rows

TODAY = date(2026, 6, 30)
TXN = "customer_id,txn_date,amount,txn_id,quantity\n"
TXN_ROWS = "".join(f"C{k % 3},2024-01-{1 + k % 28:02d},{k}.50,T{k},{1 + k % 4}\n"
                   for k in range(55))
LINES = "customer_id,txn_date,unit_price,txn_id,quantity\n"   # amount = quantity × price
ORDERS = "customer_id,txn_date,amount,txn_id,status,due_date\n"
ORDER_ROWS = "".join(f"C{k % 3},2024-01-{1 + k % 28:02d},{k}.50,T{k},paid,\n" for k in range(55))
TALKS = "customer_id,ts,kind,satisfaction,response_hours\n"
TALK_ROWS = "".join(f"C{k % 3},2024-01-{1 + k % 28:02d} 10:{k % 60:02d},咨询,{1 + k % 5},{k % 7}\n"
                    for k in range(55))


def outcome(tmp_path, monkeypatch, text: str, table: str, *, staged: bool):
    """What importing `text` into a new database leaves: the rows stored, the customers
    and the batch's counts, or the problems of the refusal."""
    folder = tmp_path / ("staged" if staged else "fast")
    folder.mkdir()
    db = folder / "x.duckdb"
    with monkeypatch.context() as m:
        if staged:
            m.setattr(load, "_fast_path_fits", lambda *args: False)
        try:
            ingest.import_file(db, csv(folder, "t.csv", text), table, create_customers=True,
                               today=TODAY)
        except ingest.ImportRejected as refused:
            return [(p.file, p.line, p.column, p.code, p.value, p.params)
                    for p in refused.problems], db.exists()
    names = [r[0] for r in rows(db, f"DESCRIBE {table}") if r[0] != "batch_id"]
    # repr: -0.0 and 0.0 (or Decimal 0.00 and -0.00) are equal, but not the same value
    return ([repr(r) for r in rows(db, f"SELECT {', '.join(names)} FROM {table} ORDER BY rowid")],
            rows(db, "SELECT customer_id FROM customers ORDER BY 1"),
            rows(db, "SELECT file_name, content_hash, table_name, rows_inserted, rows_updated, "
                     "rows_unchanged, rows_rejected, customers_created FROM import_batches"))


def assert_same(tmp_path, monkeypatch, text: str, table: str = "transactions") -> None:
    assert (outcome(tmp_path, monkeypatch, text, table, staged=False)
            == outcome(tmp_path, monkeypatch, text, table, staged=True))


CASES = {
    # dates of a column read typed as DATE (%Y-%m-%d)
    "short month and day": TXN + TXN_ROWS + "C1,2024-1-5,5,T99,2\n",
    "slashes": TXN + TXN_ROWS + "C1,2024/01/05,5,T99,2\n",
    "day first": TXN + TXN_ROWS + "C1,05/01/2024,5,T99,2\n",
    "month first": TXN + TXN_ROWS + "C1,01/25/2024,5,T99,2\n",
    "zulu": TXN + TXN_ROWS + "C1,2024-01-05T10:00:00Z,5,T99,2\n",
    "offset": TXN + TXN_ROWS + "C1,2024-01-05 23:30+08:00,5,T99,2\n",
    "12-hour clock": TXN + TXN_ROWS + "C1,2024-01-05 2:03 PM,5,T99,2\n",
    "with a time": TXN + TXN_ROWS + "C1,2024-01-05 10:00,5,T99,2\n",
    "compact": TXN + TXN_ROWS + "C1,20240105,5,T99,2\n",
    "excel serial": TXN + TXN_ROWS + "C1,45306,5,T99,2\n",
    "chinese date": TXN + TXN_ROWS + "C1,2024年1月5日,5,T99,2\n",
    "full-width digits": TXN + TXN_ROWS + "C1,２０２４-01-05,5,T99,2\n",
    "no leap day": TXN + TXN_ROWS + "C1,2023-02-29,5,T99,2\n",
    "leap day": TXN + TXN_ROWS + "C1,2024-02-29,5,T99,2\n",
    "before 1900": TXN + TXN_ROWS + "C1,1899-12-31,5,T99,2\n",
    "year 0": TXN + TXN_ROWS + "C1,0-12-31,5,T99,2\n",
    "before the earliest": TXN + TXN_ROWS + "C1,1989-12-31,5,T99,2\n",
    "after today": TXN + TXN_ROWS + "C1,2026-07-01,5,T99,2\n",
    "five-digit year": TXN + TXN_ROWS + "C1,10000-01-01,5,T99,2\n",
    "infinity": TXN + TXN_ROWS + "C1,infinity,5,T99,2\n",
    "epoch": TXN + TXN_ROWS + "C1,epoch,5,T99,2\n",
    "trailing space": TXN + TXN_ROWS + "C1,2024-01-05 ,5,T99,2\n",
    "null marker date": TXN + TXN_ROWS + "C1,N/A,5,T99,2\n",
    # amounts read typed as DECIMAL(18, 2)
    "thousands": TXN + TXN_ROWS + 'C1,2024-01-05,"1,234.50",T99,2\n',
    "yuan sign": TXN + TXN_ROWS + "C1,2024-01-05,¥12,T99,2\n",
    "dollar sign": TXN + TXN_ROWS + "C1,2024-01-05,$12.5,T99,2\n",
    "parentheses": TXN + TXN_ROWS + "C1,2024-01-05,(12.00),T99,2\n",
    "exponent": TXN + TXN_ROWS + "C1,2024-01-05,1e3,T99,2\n",
    "minus zero": TXN + TXN_ROWS + "C1,2024-01-05,-0,T99,2\n",
    "plus": TXN + TXN_ROWS + "C1,2024-01-05,+12,T99,2\n",
    "half cent": TXN + TXN_ROWS + "C1,2024-01-05,2.675,T99,2\n",
    "minus half cent": TXN + TXN_ROWS + "C1,2024-01-05,-0.005,T99,2\n",
    "many places": TXN + TXN_ROWS + "C1,2024-01-05,1.99999999999999999999,T99,2\n",
    "too big": TXN + TXN_ROWS + "C1,2024-01-05,12345678901234567890,T99,2\n",
    "quoted number": TXN + TXN_ROWS + 'C1,2024-01-05,"12.5",T99,2\n',
    "NULL amount": TXN + TXN_ROWS + "C1,2024-01-05,NULL,T99,2\n",
    "empty amount": TXN + TXN_ROWS + "C1,2024-01-05,,T99,2\n",
    "nan amount": TXN + TXN_ROWS + "C1,2024-01-05,NaN,T99,2\n",
    # numbers read typed as DOUBLE
    "infinite quantity": TXN + TXN_ROWS + "C1,2024-01-05,5,T99,inf\n",
    "quantity with a unit": TXN + TXN_ROWS + "C1,2024-01-05,5,T99,2件\n",
    "huge quantity": TXN + TXN_ROWS + "C1,2024-01-05,5,T99,1e300\n",
    "dash quantity": TXN + TXN_ROWS + "C1,2024-01-05,5,T99,-\n",
    # a dirty row further down than the first chunk's worth of rows
    "dirty row 2001": TXN + TXN_ROWS * 37 + "C1,2024/01/05,¥5,T99,2件\n",
    # the file's own shape
    "bom and crlf": "\ufeff" + (TXN + TXN_ROWS + "C1,2024/01/05,5,T99,2\n").replace("\n", "\r\n"),
    "chinese headers, semicolons": ("客户编号;日期;金额;订单号;数量\n"
                                    + TXN_ROWS.replace(",", ";") + "C1;2024-1-5;5;T99;2\n"),
    "padded text": TXN + TXN_ROWS + " C1 ,2024-01-05,5, T99,2\n",
    "due date filled late, another form": (TXN.replace("\n", ",due_date\n")
                                           + TXN_ROWS.replace("\n", ",\n")
                                           + "C1,2024-03-07,5,T99,2,07/03/2024\n"),
    "totals row": ORDERS + ORDER_ROWS + "合计,,500,,,\n",
    # amounts from quantity × unit price
    "infinite quantity of a line": LINES + TXN_ROWS + "C1,2024-01-05,5,T99,inf\n",
    "NaN quantity of a line": LINES + TXN_ROWS + "C1,2024-01-05,5,T99,NAN\n",
    "third decimal of a price": LINES + TXN_ROWS + "C1,2024-01-05,0.125,T99,3\n",
    "quantity too large for a line": LINES + TXN_ROWS + "C1,2024-01-05,5,T99,1e17\n",
    "price × quantity too large": LINES + TXN_ROWS + "C1,2024-01-05,1e15,T99,100\n",
    "line of 92 billion": LINES + TXN_ROWS + "C1,2024-01-05,92000000000,T99,2\n",
    "quantity of a trillion": LINES + TXN_ROWS + "C1,2024-01-05,0.01,T99,1e12\n",
}
# Orders of several lines (the rows after 55 single-line orders), their values left
# blank on some line.
ORDER_CASES = {
    "later line without a status": ("C1,2024-02-01,5,T99,refunded,", "C1,2024-02-01,6,T99,,"),
    "later line without a due date": ("C1,2024-02-01,5,T99,paid,2024-03-01",
                                      "C1,2024-02-01,6,T99,paid,"),
    "later line without a customer": ("C1,2024-02-01,5,T99,paid,", ",2024-02-01,6,T99,paid,"),
    "later line without an amount": ("C1,2024-02-01,5,T99,paid,", "C1,2024-02-01,,T99,paid,"),
    "first line without a status": ("C1,2024-02-01,5,T99,,", "C1,2024-02-01,6,T99,paid,"),
    "lines of another customer": ("C1,2024-02-01,5,T99,paid,", "C2,2024-02-01,6,T99,paid,"),
    "spread lines": ("C1,2024-02-01,5,T99,paid,", "C2,2024-02-02,5,T98,paid,",
                     "C1,2024-02-01,6,T99,,"),
}
CASES |= {name: ORDERS + ORDER_ROWS + "".join(f"{line}\n" for line in lines)
          for name, lines in ORDER_CASES.items()}
TALK_CASES = {
    "infinite rating": TALK_ROWS + "C1,2024-01-05 10:00,咨询,inf,1\n",
    "NaN rating": TALK_ROWS + "C1,2024-01-05 10:00,咨询,-nan,1\n",
    "rating of three billion": TALK_ROWS + "C1,2024-01-05 10:00,咨询,3e9,1\n",
    "half a star": TALK_ROWS + "C1,2024-01-05 10:00,咨询,4.5,1\n",
    "rating in words": TALK_ROWS + "C1,2024-01-05 10:00,咨询,满意,1\n",
    "stars": TALK_ROWS + "C1,2024-01-05 10:00,咨询,★★★,1\n",
    "infinite hours": TALK_ROWS + "C1,2024-01-05 10:00,咨询,3,inf\n",
    "hours and minutes": TALK_ROWS + "C1,2024-01-05 10:00,咨询,3,1:30\n",
    "a date without a time": TALK_ROWS + "C1,2024-01-05,咨询,3,1\n",
    "seconds": TALK_ROWS + "C1,2024-01-05 10:00:30,咨询,3,1\n",
    "single-digit hour": TALK_ROWS + "C1,2024-01-05 9:05,咨询,3,1\n",
    "afternoon": TALK_ROWS + "C1,2024-01-05 10:30 PM,咨询,3,1\n",
    "last minute of today": TALK_ROWS + "C1,2026-06-30 23:59,咨询,3,1\n",
    "tomorrow": TALK_ROWS + "C1,2026-07-01 00:00,咨询,3,1\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_a_transactions_file_is_stored_or_refused_as_the_staged_path_does(
        tmp_path, monkeypatch, text):
    assert_same(tmp_path, monkeypatch, text)


@pytest.mark.parametrize("text", TALK_CASES.values(), ids=TALK_CASES.keys())
def test_an_interactions_file_is_stored_or_refused_as_the_staged_path_does(
        tmp_path, monkeypatch, text):
    assert_same(tmp_path, monkeypatch, TALKS + text, "interactions")


@pytest.mark.parametrize("earliest, latest_years, day", [
    ("1900", "10", "1900-01-01"), ("1900", "10", "1900-01-02"),
    ("2024-01-05", "10", "2024-01-04"), ("2024-01-05", "10", "2024-01-05"),
    ("1990", "1", "2027-06-30"), ("1990", "1", "2027-07-01"), ("1990", "2000", "2999-12-31"),
    ("1990", "2000", "3000-01-01")])
def test_the_date_bounds_refuse_as_on_the_staged_path(tmp_path, monkeypatch, earliest,
                                                      latest_years, day):
    monkeypatch.setenv(limits.EARLIEST_DATE.env, earliest)
    monkeypatch.setenv(limits.LATEST_YEARS.env, latest_years)
    rows_ = TXN_ROWS.replace("2024-01-0", "2024-01-2")      # every day from 2024-01-10 on
    text = TXN.replace("\n", ",due_date\n") + rows_.replace("\n", ",\n")
    assert_same(tmp_path, monkeypatch, text + f"C1,2024-02-01,5,T99,2,{day}\n")


# Cells written as exports write them, and the forms an exact cast or read_csv might
# take differently.
DATE_CELLS = ("2024-01-05", "2024-1-5", "2024-01-05 ", " 2024-01-05", "2024/01/05",
              "05.01.2024", "2024-01-05 10:30", "2024-02-30", "2024-13-01", "1900-01-01",
              "epoch", "infinity", "-", "", "2024-01-05Z", "+2024-01-05", "2024-01-05x")
AMOUNT_CELLS = ("12.5", "-12.5", "0.005", "1e3", "+1", "-0", ".5", "5.", "1_000", "1,000",
                "¥5", "(5)", "5-", "inf", "nan", "N/A", "", " 5", "99999999999999999")
NUMBER_CELLS = ("2", "1.5", "-1", "1e3", "inf", "-inf", "NaN", "nan", "3件", "1,5", "", "—",
                "1e400", "0x10", "+2", "1_0")


@settings(max_examples=12)
@given(st.lists(st.tuples(st.sampled_from(DATE_CELLS), st.sampled_from(AMOUNT_CELLS),
                          st.sampled_from(NUMBER_CELLS)), min_size=1, max_size=3))
def test_files_of_awkward_cells_are_stored_or_refused_as_on_the_staged_path(tmp_path_factory,
                                                                            cells):
    tail = "".join(f'C1,"{d}","{a}",T{90 + k},"{n}"\n' for k, (d, a, n) in enumerate(cells))
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(tmp_path_factory.mktemp("awkward"), monkeypatch, TXN + TXN_ROWS + tail)


TIME_CELLS = ("2024-01-05 10:30", "2024-01-05 9:05", "2024-01-05", "2024-01-05 10:30:00",
              "2024-01-05T10:30", "2024-01-05 10:30Z", "2024-01-05 10:30 PM", "2024-01-05 24:00",
              "2026-06-30 23:59", "2026-07-01 00:00", "1900-01-01 00:00", "")
RATING_CELLS = ("1", "5", "5.0", "4.5", "0", "6", "inf", "NAN", "3e9", "满意", "★★", "", "N/A")


@settings(max_examples=8)
@given(st.lists(st.tuples(st.sampled_from(TIME_CELLS), st.sampled_from(RATING_CELLS),
                          st.sampled_from(NUMBER_CELLS)), min_size=1, max_size=3))
def test_interactions_of_awkward_cells_are_stored_or_refused_as_on_the_staged_path(
        tmp_path_factory, cells):
    tail = "".join(f'C1,"{t}",咨询,"{r}","{h}"\n' for t, r, h in cells)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(tmp_path_factory.mktemp("awkward"), monkeypatch,
                    TALKS + TALK_ROWS + tail, "interactions")


def test_a_line_amount_too_large_to_store_is_refused_with_its_row(tmp_path, monkeypatch):
    """quantity × unit price beyond DECIMAL(18, 2) stopped both paths with DuckDB's
    conversion error; now the row is refused like any bad cell: line 57 (the header and
    55 rows before it), "1e17 × 5.00", and nothing is stored."""
    for staged in (False, True):
        (tmp_path / str(staged)).mkdir()
        problems, stored = outcome(tmp_path / str(staged), monkeypatch,
                                   LINES + TXN_ROWS + "C1,2024-01-05,5,T99,1e17\n",
                                   "transactions", staged=staged)
        assert [(p[1], p[2], p[3], p[4]) for p in problems] == \
            [(57, "unit_price", "amount_range", "1e+17 × 5.00")]
        assert not stored


def test_a_line_of_92_billion_is_stored_to_the_cent(tmp_path, monkeypatch):
    """Quantity × unit price multiplied as DECIMAL(18) overflowed past about 92 billion;
    2 × 92,000,000,000.00 is stored as 184,000,000,000.00 on both paths."""
    for staged in (False, True):
        (tmp_path / str(staged)).mkdir()
        stored, _, _ = outcome(tmp_path / str(staged), monkeypatch,
                               LINES + "C1,2024-01-05,92000000000,T1,2\n", "transactions",
                               staged=staged)
        assert "Decimal('184000000000.00')" in stored[0]


@pytest.mark.parametrize("price, quantity, amount", [
    # below 999 and 9,999,999: multiplied as DECIMAL(9) × DECIMAL(9)
    ("0.33", "2.5", "0.83"),                        # 0.825, the half away from zero
    ("3.33", "-1.5", "-5.00"),                      # -4.995
    ("9999998.99", "998.5", "9984998991.52"),       # 9,984,998,991.515
    # at or past either bound: as DECIMAL(38) × DECIMAL(38), rounded the same way
    ("0.01", "999.5", "10.00"),                     # 9.995
    ("10000000.00", "-3", "-30000000.00"),
    ("9999999.01", "0.5", "4999999.51"),            # 4,999,999.505
])
def test_a_line_amount_is_the_same_either_side_of_the_cheap_multiplication(
        tmp_path, monkeypatch, price, quantity, amount):
    """Lines of small quantities and prices are multiplied in 64-bit decimals, the rest in
    128-bit ones (validate.line_amount): the amount is quantity × price to the cent, half
    away from zero, either way and on both paths."""
    for staged in (False, True):
        (tmp_path / str(staged)).mkdir()
        stored, _, _ = outcome(tmp_path / str(staged), monkeypatch,
                               LINES + TXN_ROWS + f"C1,2024-01-05,{price},T99,{quantity}\n",
                               "transactions", staged=staged)
        assert f"Decimal('{amount}')" in stored[-1]


def test_a_blank_line_amount_too_large_from_its_price_is_refused(tmp_path):
    """A line whose blank amount comes from quantity × unit price: too large is refused on
    the amount, with the product it came from."""
    text = ("customer_id,txn_date,amount,unit_price,txn_id,quantity\n"
            "C1,2024-01-05,5,5,T1,1\nC1,2024-01-05,,5,T2,1e14\n")
    with pytest.raises(ingest.ImportRejected) as refused:
        ingest.import_file(tmp_path / "x.duckdb", csv(tmp_path, "t.csv", text), "transactions",
                           create_customers=True, today=TODAY)
    assert [(p.line, p.column, p.code, p.value) for p in refused.value.problems] == \
        [(3, "amount", "amount_range", "100000000000000.0 × 5.00")]


ORDER_LINE_HEADER = "customer_id,txn_date,amount,txn_id,status,due_date,paid_date\n"
# What a line may hold in each of its order's columns: customer, date, status, due, paid.
ORDER_LINE_CHOICES = (("C1", "C2", ""), ("2024-02-01", "2024-02-02"), ("paid", "refunded", ""),
                      ("", "2024-03-01", "2024-03-02"), ("", "2024-02-05"))


def _order_lines_file(first: list, later: list, spread: bool) -> str:
    """55 single-line orders, then order T90's two lines (with T91 between them when
    spread), in ORDER_LINE_HEADER's columns."""
    rows_ = ORDER_ROWS.replace(",paid,\n", ",paid,,\n")
    line = "{},{},5,{},{},{},{}\n".format
    between = line("C2", "2024-02-03", "T91", "paid", "", "") if spread else ""
    return (ORDER_LINE_HEADER + rows_ + line(*first[:2], "T90", *first[2:]) + between
            + line(*later[:2], "T90", *later[2:]))


@pytest.mark.parametrize("spread", [False, True], ids=["adjacent", "spread"])
@pytest.mark.parametrize("column", [0, 1, 3, 4], ids=["customer", "date", "due", "paid"])
@pytest.mark.parametrize("change", ["other", "blank later", "blank first"])
def test_a_line_that_differs_from_its_order_in_one_column(tmp_path, monkeypatch, spread, column,
                                                          change):
    """Each of the columns an order's lines must share, changed on one line: to another
    value, or left blank on the later or the first line (a blank date is refused as such)."""
    first = ["C1", "2024-02-01", "paid", "2024-03-01", "2024-02-05"]
    later = list(first)
    if change == "other":
        later[column] = ORDER_LINE_CHOICES[column][1] if first[column] != \
            ORDER_LINE_CHOICES[column][1] else ORDER_LINE_CHOICES[column][0]
    else:
        (later if change == "blank later" else first)[column] = ""
    assert_same(tmp_path, monkeypatch, _order_lines_file(first, later, spread))


@settings(max_examples=20)
@given(st.data())
def test_orders_of_several_lines_are_stored_or_refused_as_on_the_staged_path(
        tmp_path_factory, data):
    """The fast path numbers the lines of each order and checks that they name one
    customer and one set of dates (a blank the same as a blank). Each order has its
    values; a line takes them, or them with one changed (to a blank, or from one),
    and the lines of an order follow one another or are spread."""
    orders = {o: data.draw(st.tuples(*map(st.sampled_from, ORDER_LINE_CHOICES)))
              for o in ("T90", "T91")}
    tail = ""
    for _ in range(data.draw(st.integers(2, 6))):
        order = data.draw(st.sampled_from(sorted(orders)))
        cells = list(orders[order])
        changed = data.draw(st.sampled_from([None, *range(len(cells))]))
        if changed is not None:
            cells[changed] = data.draw(st.sampled_from(ORDER_LINE_CHOICES[changed]))
        customer, day, status, due, paid = cells
        tail += f"{customer},{day},5,{order},{status},{due},{paid}\n"
    rows_ = ORDER_ROWS.replace(",paid,\n", ",paid,,\n")
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(tmp_path_factory.mktemp("orders"), monkeypatch,
                    ORDER_LINE_HEADER + rows_ + tail)
