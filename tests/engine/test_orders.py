"""Orders and their lines, order states, shop exports (DESIGN §3, §4): import to features.

Every figure is worked out by hand from the small files below.
"""
import tempfile
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ingest, store
from engine.features import activity, customer_features
from engine.features.clv_inputs import purchase_summary
from engine.features.month_activity import customer_month_activity
from tests.helpers import csv as write, rows

TODAY = date(2024, 6, 30)
T = date(2024, 3, 31)

# Invoice lines in the layout of UCI "Online Retail II": no amount column, so each
# line's amount is quantity × price; invoice 489434 has three lines (83.40 + 81.00
# + 6.30 = 170.70); C489449 takes one frame back (-2.10); the doormat has no buyer.
LINES = """Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country
489434,85048,LED CUSHION,12,2024-03-01 07:45,6.95,13085,United Kingdom
489434,79323P,PINK LIGHTS,12,2024-03-01 07:45,6.75,13085,United Kingdom
489434,22041,RECORD FRAME,3,2024-03-01 07:45,2.10,13085,United Kingdom
489435,22350,CAT BOWL,12,2024-03-02 07:46,2.55,13086,United Kingdom
C489449,22041,RECORD FRAME,-1,2024-03-03 10:33,2.10,13085,United Kingdom
489436,21523,DOORMAT,2,2024-03-03 09:06,5.95,,United Kingdom
"""

# A Taobao order report (GBK, one row per order): the amount is what the buyer paid
# (买家实际支付金额), not 总金额; 交易关闭 is cancelled, 等待买家付款 pending.
TAOBAO = """订单编号,买家会员名,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,订单创建时间,订单付款时间,宝贝标题,宝贝总数量
1001,tb_alice,100.00,10.00,110.00,105.00,交易成功,2024-03-01 10:00:00,2024-03-01 10:05:00,茶杯,2
1002,tb_alice,50.00,0.00,50.00,50.00,交易关闭,2024-03-05 10:00:00,,茶壶,1
1003,tb_bob,80.00,0.00,80.00,80.00,等待买家付款,2024-03-06 10:00:00,,茶叶,1
1004,tb_bob,60.00,0.00,60.00,58.00,卖家已发货，等待买家确认,2024-03-07 10:00:00,2024-03-07 10:01:00,茶盘,1
"""

# Shopify writes an order's values on its first line only.
SHOPIFY = """Name,Email,Financial Status,Paid at,Subtotal,Total,Created at,Lineitem quantity,Lineitem name,Lineitem price
#1001,ann@example.com,paid,2024-03-01 10:05:00,25.00,27.00,2024-03-01 10:00:00,2,Mug,10.00
#1001,,,,,,,1,Spoon,5.00
#1002,bob@example.com,voided,,10.00,10.00,2024-03-02 11:00:00,1,Mug,10.00
#1003,ann@example.com,pending,,7.00,7.00,2024-03-03 09:00:00,1,Cup,7.00
"""


def features(db, as_of=T):
    with store.connect(db) as con:
        return customer_features(con, as_of=as_of).set_index("customer_id")


@pytest.fixture
def lines_db(tmp_path):
    db = tmp_path / "lines.duckdb"
    report = ingest.import_file(db, write(tmp_path, "online_retail.csv", LINES), "transactions",
                                create_customers=True, skip_invalid=True, today=TODAY)
    return db, report


# ---- import ------------------------------------------------------------------------

def test_invoice_lines_are_kept_as_lines_with_derived_amounts(lines_db):
    db, report = lines_db
    assert report.platform == "online_retail"
    assert (report.inserted, report.rejected, report.guests) == (5, 1, 1)
    assert "1 row without a customer (a guest order) skipped" in report.summary()
    assert rows(db, "SELECT txn_id, product, quantity, unit_price, amount, order_line "
                    "FROM transactions ORDER BY rowid") == [
        ("489434", "LED CUSHION", 12.0, Decimal("6.95"), Decimal("83.40"), 1),
        ("489434", "PINK LIGHTS", 12.0, Decimal("6.75"), Decimal("81.00"), 2),
        ("489434", "RECORD FRAME", 3.0, Decimal("2.10"), Decimal("6.30"), 3),
        ("489435", "CAT BOWL", 12.0, Decimal("2.55"), Decimal("30.60"), None),
        ("C489449", "RECORD FRAME", -1.0, Decimal("2.10"), Decimal("-2.10"), None)]
    assert "no customer" in report.rejects["error"][0]


def test_ids_written_as_floats_or_in_another_case_are_the_customers_they_name(tmp_path):
    """UCI's CSV writes Customer ID as 13085.0 (its workbook as 13085); a shop export may
    write one buyer's e-mail in two cases. Both the fast and the staged path."""
    floats = LINES.replace(",13085,", ",13085.0,").replace(",13086,", ",13086.00,")
    buyers = "".join(line + "\n" for line in floats.splitlines() if ",,United" not in line)
    for name, text, skip in (("fast", buyers, False), ("staged", floats, True)):
        db = tmp_path / f"{name}.duckdb"
        ingest.import_file(db, write(tmp_path, f"{name}.csv", text), "transactions",
                           create_customers=True, skip_invalid=skip, today=TODAY)
        assert rows(db, "SELECT DISTINCT customer_id FROM transactions ORDER BY 1") == [
            ("13085",), ("13086",)]
    mails = ("Email,Created at,Total\nAnn@Example.com,2024-03-01,10\nann@example.com,2024-03-02,5\n"
             "Bob@example.COM,2024-03-03,7\n")
    db = tmp_path / "m.duckdb"
    ingest.import_file(db, write(tmp_path, "m.csv", mails), "transactions", create_customers=True,
                       today=TODAY)
    assert rows(db, "SELECT customer_id, count(*) FROM transactions GROUP BY 1 ORDER BY 1") == [
        ("ann@example.com", 2), ("bob@example.com", 1)]
    assert ingest.parse_values("id", ["C1.5", "1.00", "A.0", "=\"00123\""]) == [
        "C1.5", "1", "A.0", "00123"]


def test_ids_typed_in_full_width_are_the_customers_and_orders_they_name(tmp_path):
    """A Chinese input method in full-width mode types Ｃ００１ for C001: the customers file
    and the orders name one customer and one order whichever width they used. Both paths:
    the fast one, and the staged one (taken with --skip-invalid)."""
    customers = "customer_id,name\nＣ００１,甲\nC002,乙\n"
    orders = ("order_id,customer_id,txn_date,amount\nＴ－１,C001,2024-03-01,10\n"
              "T-1,Ｃ００１,2024-03-01,5\nT-2,客户Ｃ００２,2024-03-02,7\n")
    for order in ("customers first", "orders first"):
        db = tmp_path / f"{order}.duckdb"
        steps = [("customers", customers, {}),
                 ("transactions", orders, {"create_customers": True,
                                           "skip_invalid": order == "customers first"})]
        for table, text, options in steps if order == "customers first" else steps[::-1]:
            ingest.import_file(db, write(tmp_path, f"{table}.csv", text), table, today=TODAY,
                               **options)
        assert rows(db, "SELECT customer_id, txn_id, amount FROM transactions ORDER BY rowid") == [
            ("C001", "T-1", Decimal("10.00")), ("C001", "T-1", Decimal("5.00")),
            ("客户C002", "T-2", Decimal("7.00"))]
        assert rows(db, "SELECT customer_id, name FROM customers ORDER BY 1") == [
            ("C001", "甲"), ("C002", "乙"), ("客户C002", None)]
    assert ingest.parse_values("id", ["Ｃ００１", "１３０８５.０", "ＡＮＮ＠ＸＸ.ＣＯＭ", "Ｃ１　２"]) == [
        "C001", "13085", "ann@xx.com", "C1\u30002"]


def test_fast_path_numbers_the_lines_as_the_staged_path(tmp_path):
    """Into an empty table without guests the file takes the fast path: same rows."""
    db = tmp_path / "fast.duckdb"
    text = LINES.replace(",,United", ",13099,United")
    ingest.import_file(db, write(tmp_path, "l.csv", text), "transactions",
                       create_customers=True, today=TODAY)
    assert rows(db, "SELECT txn_id, amount, order_line FROM transactions ORDER BY rowid") == [
        ("489434", Decimal("83.40"), 1), ("489434", Decimal("81.00"), 2),
        ("489434", Decimal("6.30"), 3), ("489435", Decimal("30.60"), None),
        ("C489449", Decimal("-2.10"), None), ("489436", Decimal("11.90"), None)]


# Orders whose lines are spread through the file: 1 has lines on data rows 1, 3, 6;
# 2 on rows 2 and 5 (lines next to each other are numbered by where the order starts,
# spread ones in file order); 3 has one line.
SPREAD = """Invoice,StockCode,Quantity,InvoiceDate,Price,Customer ID
1,A,1,2024-03-01 07:45,1.00,10
2,B,1,2024-03-01 08:00,2.00,20
1,C,1,2024-03-01 07:45,3.00,10
3,D,1,2024-03-02 09:00,4.00,10
2,E,1,2024-03-01 08:00,5.00,20
1,F,1,2024-03-01 07:45,6.00,10
4,G,1,2024-03-03 09:00,7.00,20
4,H,1,2024-03-03 09:00,8.00,20
"""


@pytest.mark.parametrize("skip_invalid", [False, True], ids=["fast path", "staged path"])
def test_lines_spread_through_the_file_are_numbered_in_file_order(tmp_path, skip_invalid):
    db = tmp_path / "spread.duckdb"
    ingest.import_file(db, write(tmp_path, "s.csv", SPREAD), "transactions",
                       create_customers=True, skip_invalid=skip_invalid, today=TODAY)
    assert rows(db, "SELECT txn_id, product, order_line FROM transactions ORDER BY rowid") == [
        ("1", "A", 1), ("2", "B", 1), ("1", "C", 2), ("3", "D", None), ("2", "E", 2),
        ("1", "F", 3), ("4", "G", 1), ("4", "H", 2)]

def test_a_file_read_in_parallel_keeps_its_order_and_its_line_numbers(tmp_path):
    """300,000 lines, more than DuckDB reads in one piece: the fast path lands them
    in a work table and copies them on, and each line keeps its place in the file
    and its number in its order (product n is line n)."""
    n = 100_000
    body = "".join(f"{o},P{k},1,2024-03-01 07:45,1.00,{o % 997}\n"
                   for o in range(n) for k in (1, 2, 3))
    db = tmp_path / "big.duckdb"
    report = ingest.import_file(db, write(tmp_path, "big.csv", SPREAD.splitlines()[0] + "\n"
                                          + body), "transactions",
                                create_customers=True, today=TODAY)
    assert report.inserted == 3 * n
    assert rows(db, """
        SELECT count(*), count(*) FILTER (WHERE product = 'P' || order_line),
               count(*) FILTER (WHERE CAST(txn_id AS INTEGER) * 3 + order_line - 1 = rowid)
        FROM transactions""") == [(3 * n, 3 * n, 3 * n)]


def test_same_file_again_adds_nothing_and_undo_removes_its_batch(lines_db, tmp_path):
    db, first = lines_db
    again = ingest.import_file(db, write(tmp_path, "online_retail.csv", LINES), "transactions",
                               create_customers=True, skip_invalid=True, today=TODAY)
    assert (again.inserted, again.unchanged, again.rejected) == (0, 5, 1)
    more = LINES + "489437,22350,CAT BOWL,1,2024-03-04 08:00,2.55,13086,United Kingdom\n"
    third = ingest.import_file(db, write(tmp_path, "more.csv", more), "transactions",
                               create_customers=True, skip_invalid=True, today=TODAY)
    assert (third.inserted, third.unchanged) == (1, 5)
    ingest.undo_batch(db, third.batch_id)
    assert rows(db, "SELECT count(*), sum(amount) FROM transactions") == [(5, Decimal("199.20"))]
    ingest.undo_batch(db, first.batch_id)
    assert rows(db, "SELECT count(*) FROM transactions") == [(0,)]


# Two orders of lines, then what a later file may hold of them (DESIGN §3: an order whose
# lines differ from those stored is an error).
STORED = """txn_id,customer_id,txn_date,product,quantity,unit_price
O1,C1,2024-01-05,A,2,10
O1,C1,2024-01-05,B,1,5.5
O2,C2,2024-01-06,A,3,10
"""


@pytest.fixture
def stored_db(tmp_path):
    db = tmp_path / "s.duckdb"
    ingest.import_file(db, write(tmp_path, "first.csv", STORED), "transactions",
                       create_customers=True, today=TODAY)
    return db


@pytest.mark.parametrize("lines, expected", [
    # an order missing a line, or with one more: every line of it, with both counts
    (["O1,C1,2024-01-05,A,2,10"], [("txn_lines_conflict", 2, 1, 2)]),
    (["O1,C1,2024-01-05,A,2,10", "O1,C1,2024-01-05,B,1,5.5", "O1,C1,2024-01-05,C,1,1"],
     [("txn_lines_conflict", 2, 3, 2), ("txn_lines_conflict", 3, 3, 2),
      ("txn_lines_conflict", 4, 3, 2)]),
    # a changed second line: what differs from the stored second line, and the first line
    # refused with its order
    (["O1,C1,2024-01-05,A,2,10", "O1,C1,2024-01-05,Bx,1,5.5"],
     [("order_refused", 2, None, None), ("txn_conflict", 3, None, None)]),
], ids=["a line left out", "a line added", "a line changed"])
def test_an_order_whose_lines_differ_from_the_stored_ones_is_refused(stored_db, tmp_path, lines,
                                                                     expected):
    text = STORED.splitlines()[0] + "\n" + "\n".join(lines) + "\n"
    before = rows(stored_db, "SELECT * FROM transactions ORDER BY ALL")
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(stored_db, write(tmp_path, "again.csv", text), "transactions",
                           today=TODAY)
    problems = caught.value.problems
    assert [(p.code, p.line, p.params.get("found"), p.params.get("needed")) for p in problems] \
        == expected
    if problems[-1].code == "txn_conflict":
        assert problems[-1].params["columns"] == "product"   # not the columns of line 1
        assert problems[0].params["first_line"] == 3
    assert rows(stored_db, "SELECT * FROM transactions ORDER BY ALL") == before


def test_an_order_with_its_stored_lines_in_another_order_is_unchanged(stored_db, tmp_path):
    text = ("txn_id,customer_id,txn_date,product,quantity,unit_price\n"
            "O1,C1,2024-01-05,B,1,5.5\nO3,C1,2024-01-07,A,1,10\nO1,C1,2024-01-05,A,2,10\n")
    report = ingest.import_file(stored_db, write(tmp_path, "again.csv", text), "transactions",
                                today=TODAY)
    assert (report.inserted, report.unchanged, report.rejected) == (1, 2, 0)


LINE = st.tuples(st.sampled_from("AB"), st.integers(1, 2))   # (product, quantity)


@given(stored=st.lists(LINE, min_size=1, max_size=3), again=st.lists(LINE, min_size=1, max_size=3))
@settings(max_examples=40)
def test_a_stored_order_is_unchanged_exactly_when_the_file_holds_its_lines(stored, again):
    """Reference: the lines as multisets. The later file also holds a new order O2, which
    goes in when O1 is unchanged; otherwise nothing does."""
    def text(lines, extra=""):
        return ("txn_id,customer_id,txn_date,product,quantity,unit_price\n" + "".join(
            f"O1,C1,2024-01-05,{p},{q},10\n" for p, q in lines) + extra)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "h.duckdb"
        ingest.import_file(db, write(tmp, "first.csv", text(stored)), "transactions",
                           create_customers=True, today=TODAY)
        later = write(tmp, "later.csv", text(again, "O2,C1,2024-01-06,A,1,10\n"))
        if Counter(stored) == Counter(again):
            report = ingest.import_file(db, later, "transactions", today=TODAY)
            assert (report.inserted, report.unchanged) == (1, len(again))
        else:
            with pytest.raises(ingest.ImportRejected) as caught:
                ingest.import_file(db, later, "transactions", today=TODAY)
            assert {p.code for p in caught.value.problems} <= {
                "txn_lines_conflict", "txn_conflict", "order_refused"}
            assert rows(db, "SELECT count(*) FROM transactions") == [(len(stored),)]


def test_an_order_with_a_refused_line_is_left_out_whole(tmp_path):
    """With --skip-invalid, the order's good lines are not stored without the bad one: the
    order would count as worth 20 instead of 25, and the corrected file would conflict."""
    db = tmp_path / "w.duckdb"
    bad = ("txn_id,customer_id,txn_date,product,quantity,unit_price\n"
           "O9,C1,2024-01-05,A,2,10\nO9,C1,2024-01-05,B,1,abc\nO8,C1,2024-01-06,A,1,10\n")
    report = ingest.import_file(db, write(tmp_path, "bad.csv", bad), "transactions",
                                create_customers=True, skip_invalid=True, today=TODAY)
    assert (report.inserted, report.rejected) == (1, 2)
    assert rows(db, "SELECT txn_id FROM transactions") == [("O8",)]
    assert report.rejects["txn_id"].tolist() == ["O9", "O9"]
    fixed = ingest.import_file(db, write(tmp_path, "fixed.csv", bad.replace("abc", "5")),
                               "transactions", today=TODAY)
    assert (fixed.inserted, fixed.unchanged, fixed.rejected) == (2, 1, 0)
    assert rows(db, "SELECT sum(amount) FROM transactions WHERE txn_id = 'O9'") == [
        (Decimal("25.00"),)]


def test_a_dry_run_says_what_it_would_do(tmp_path):
    report = ingest.preview_import(tmp_path / "n.duckdb", write(tmp_path, "l.csv", LINES),
                                   "transactions", create_customers=True, skip_invalid=True,
                                   today=TODAY)
    assert "2 customers to create." in report.summary()
    assert "1 row without a customer (a guest order) to skip." in report.summary()


def test_guest_rows_are_counted_and_the_message_says_how_to_skip(tmp_path):
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(tmp_path / "g.duckdb", write(tmp_path, "l.csv", LINES),
                           "transactions", create_customers=True, today=TODAY)
    message = caught.value.message("en")
    assert "guest orders (rows that name no customer), which cannot be attributed to anyone: 1" \
        in message
    assert "--skip-invalid" in message
    assert 'line 7, column "Customer ID": no customer' in message
    assert "游客订单" in caught.value.message("zh")
    assert not (tmp_path / "g.duckdb").exists()


def test_first_line_values_are_carried_to_later_lines(tmp_path):
    db = tmp_path / "shop.duckdb"
    report = ingest.import_file(db, write(tmp_path, "orders_export.csv", SHOPIFY), "transactions",
                                create_customers=True, today=TODAY)
    assert report.platform == "shopify"
    assert rows(db, "SELECT txn_id, customer_id, txn_date, status, product, amount, order_line "
                    "FROM transactions ORDER BY rowid") == [
        ("#1001", "ann@example.com", date(2024, 3, 1), "paid", "Mug", Decimal("27.00"), 1),
        ("#1001", "ann@example.com", date(2024, 3, 1), "paid", "Spoon", Decimal("0.00"), 2),
        ("#1002", "bob@example.com", date(2024, 3, 2), "cancelled", "Mug", Decimal("10.00"), None),
        ("#1003", "ann@example.com", date(2024, 3, 3), "pending", "Cup", Decimal("7.00"), None)]
    f = features(db)
    # ann: one purchase of 27.00 with two products; the pending order adds nothing
    assert (f.loc["ann@example.com", "purchases_6m"], f.loc["ann@example.com", "spend_6m"],
            f.loc["ann@example.com", "products_6m"]) == (1, 27.0, 2)
    # bob: only a voided order: no purchase, no spend, but in touch on 2024-03-02
    assert (f.loc["bob@example.com", "purchases_6m"], f.loc["bob@example.com", "spend_6m"]) == (0, 0)
    assert f.loc["bob@example.com", "last_txn_date"] == pd.Timestamp(2024, 3, 2)


# Orders whose lines have different statuses (DESIGN §4's purchase, read in
# tests/spec/base.py is_purchase): A1 nets 10.00 − 30.00 = −20.00 (a returned
# teapot written as a negative line), so it is no purchase and buys no mug; A2 is
# a purchase of the cup (20.00) with the spoon refunded (−5.00): 15.00. Bob's B1
# has every line cancelled or pending (nothing); B2 is a purchase of the tray
# (12.00) with the jug cancelled.
MIXED = """order,customer,date,amount,product,status
A1,ann,2024-03-01,10.00,Mug,paid
A1,ann,2024-03-01,-30.00,Teapot,paid
A2,ann,2024-03-05,20.00,Cup,paid
A2,ann,2024-03-05,5.00,Spoon,refunded
B1,bob,2024-03-02,40.00,Bowl,cancelled
B1,bob,2024-03-02,10.00,Plate,pending
B2,bob,2024-03-06,12.00,Tray,paid
B2,bob,2024-03-06,8.00,Jug,cancelled
"""


def test_an_order_of_mixed_lines_is_a_purchase_of_its_live_lines_only(tmp_path):
    db = tmp_path / "mixed.duckdb"
    ingest.import_file(db, write(tmp_path, "mixed.csv", MIXED), "transactions",
                       mapping={"order": "txn_id", "customer": "customer_id", "date": "txn_date"},
                       create_customers=True, today=TODAY)
    f = features(db)
    ann, bob = f.loc["ann"], f.loc["bob"]
    # ann: spend −20 + 15 = −5 over one purchase (A2); the mug of A1 was not bought
    assert (ann["purchases_6m"], ann["spend_6m"], ann["aov_6m"], ann["products_6m"]) == (1, -5, -5, 1)
    assert (ann["first_purchase_date"], ann["purchase_days"]) == (pd.Timestamp(2024, 3, 5), 1)
    # bob: B2 only, 12.00, one product
    assert (bob["purchases_6m"], bob["spend_6m"], bob["aov_6m"], bob["products_6m"]) == (1, 12, 12, 1)
    assert bob["first_purchase_date"] == pd.Timestamp(2024, 3, 6)


def test_lines_of_one_order_naming_two_customers_are_an_error_naming_both(tmp_path):
    text = SHOPIFY.replace("#1001,,,,,,,1,Spoon", "#1001,cat@example.com,,,,,,1,Spoon")
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(tmp_path / "x.duckdb", write(tmp_path, "o.csv", text), "transactions",
                           create_customers=True, today=TODAY)
    first, problem = caught.value.problems     # the order's first line is refused with it
    assert (first.code, first.line, first.params["first_line"]) == ("order_refused", 2, 3)
    assert (problem.code, problem.line, problem.target) == ("order_conflict", 3, "customer_id")
    assert ('this line of order "#1001" names customer_id "cat@example.com", '
            'its line 2 names "ann@example.com"') in problem.message("en")


# Orders with every value on every line: T1's lines are adjacent, T2's spread.
DATED = """txn_id,customer_id,txn_date,amount,due_date,paid_date
T1,C1,2024-03-01,5,2024-03-10,
T1,C1,2024-03-01,6,2024-03-10,
T2,C2,2024-03-02,7,,2024-03-02
T3,C1,2024-03-03,8,,
T2,C2,2024-03-02,9,,2024-03-02
"""


@pytest.mark.parametrize("first, line, old, new, column", [
    (2, 3, "T1,C1,2024-03-01,6,2024-03-10,", "T1,C1,2024-03-01,6,2024-03-10,2024-03-11", "paid_date"),
    (2, 3, "T1,C1,2024-03-01,6,2024-03-10,", "T1,C1,2024-03-01,6,2024-03-12,", "due_date"),
    (4, 6, "T2,C2,2024-03-02,9,,", "T2,C3,2024-03-02,9,,", "customer_id"),
    (4, 6, "T2,C2,2024-03-02,9,,", "T2,C2,2024-03-04,9,,", "txn_date"),
], ids=["paid date added", "due date", "customer, spread", "date, spread"])
def test_a_later_line_that_differs_from_its_first_is_refused(tmp_path, first, line, old, new,
                                                              column):
    """Every cell is valid, so the fast path checks the lines and falls back to report; the
    order's first line is refused with it (an order is imported whole or not at all)."""
    db = tmp_path / "d.duckdb"
    ingest.import_file(db, write(tmp_path, "ok.csv", DATED), "transactions",
                       create_customers=True, today=TODAY)
    assert rows(db, "SELECT txn_id, order_line FROM transactions ORDER BY rowid") == [
        ("T1", 1), ("T1", 2), ("T2", 1), ("T3", None), ("T2", 2)]
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(tmp_path / "x.duckdb", write(tmp_path, "o.csv", DATED.replace(old, new)),
                           "transactions", create_customers=True, today=TODAY)
    assert [(p.code, p.line, p.target) for p in caught.value.problems] == [
        ("order_refused", first, "txn_id"), ("order_conflict", line, column)]
    assert not (tmp_path / "x.duckdb").exists()


def test_taobao_report_takes_what_the_buyer_paid_and_its_states(tmp_path):
    db = tmp_path / "tb.duckdb"
    report = ingest.import_file(db, write(tmp_path, "ExportOrderList.csv", TAOBAO, "gbk"),
                                "transactions", create_customers=True, today=TODAY)
    assert report.platform == "taobao" and report.other_values == {}
    assert report.mapping["买家实际支付金额"] == "amount" and report.mapping["总金额"] is None
    assert report.mapping["买家会员名"] == "customer_id"
    assert rows(db, "SELECT txn_id, status, amount FROM transactions ORDER BY txn_id") == [
        ("1001", "paid", Decimal("105.00")), ("1002", "cancelled", Decimal("50.00")),
        ("1003", "pending", Decimal("80.00")), ("1004", "paid", Decimal("58.00"))]
    f = features(db)
    assert (f.loc["tb_alice", "purchases_6m"], f.loc["tb_alice", "spend_6m"]) == (1, 105.0)
    assert (f.loc["tb_bob", "purchases_6m"], f.loc["tb_bob", "spend_6m"]) == (1, 58.0)
    assert f.loc["tb_bob", "aov_6m"] == 58.0
    with store.connect(db) as con:
        assert activity.overview_kpis(con, as_of=T)["revenue_12m"] == Decimal("163.00")
        monthly = activity.monthly_activity(con, as_of=T)
    assert monthly["purchases"].tolist() == [2] and float(monthly["revenue"][0]) == 163.0


@pytest.mark.parametrize("words, code", [
    (("交易关闭", "已取消", "订单关闭", "cancelled", "Voided", "canceled",
      "expired"), "cancelled"),     # Shopify: an authorisation that lapsed, never paid
    (("等待买家付款", "待付款", "未付款", "pending", "unpaid", "Pending payment"), "pending"),
    (("买家已付款，等待卖家发货", "待发货", "交易成功", "Completed", "paid"), "paid"),
])
def test_platform_state_words(words, code):
    assert ingest.parse_values("code", words, vocabulary="txn_status") == [code] * len(words)


# ---- downstream counts orders ---------------------------------------------------------

def test_features_count_orders_not_lines(lines_db):
    db, _ = lines_db
    f = features(db)
    # 13085: invoice 489434 (three lines, 170.70) and the return C489449 (-2.10)
    a = f.loc["13085"]
    assert (a["purchases_6m"], a["frequency_12m"], a["purchase_days"]) == (1, 1, 1)
    assert (a["spend_6m"], a["aov_6m"], a["products_6m"]) == (168.6, 168.6, 3)
    assert a["revenue_12m"] == 168.6
    assert f.loc["13086", "purchases_6m"] == 1


def test_month_activity_and_clv_inputs_count_orders(lines_db):
    db, _ = lines_db
    with store.connect(db) as con:
        months = customer_month_activity(con, first_month=date(2024, 3, 1),
                                         last_month=date(2024, 3, 1)).set_index("customer_id")
        clv = purchase_summary(con, calibration_end=T).set_index("customer_id")
        monthly = activity.monthly_activity(con, as_of=T)
    assert (months.loc["13085", "transactions"], months.loc["13085", "purchases"],
            months.loc["13085", "revenue"]) == (2, 1, 168.6)
    assert monthly["purchases"].tolist() == [2] and float(monthly["revenue"][0]) == 199.2
    assert (clv.loc["13085", "x"], clv.loc["13085", "first_purchase_date"]) == (
        0, pd.Timestamp(2024, 3, 1))


# ---- mapping ------------------------------------------------------------------------

def test_buyer_key_when_there_is_no_customer_id():
    mapping = ingest.auto_mapping(["订单号", "买家昵称", "手机号", "实付金额", "下单时间"],
                                  "transactions")
    assert mapping["买家昵称"] == "customer_id" and mapping["手机号"] is None
    mapping = ingest.auto_mapping(["Order ID", "Phone", "Email", "Total", "Date"], "transactions")
    assert mapping["Email"] == "customer_id"


def test_the_money_column_is_what_the_customer_paid():
    headers = TAOBAO.splitlines()[0].split(",")
    mapping = ingest.merge_mapping(headers, "transactions", None)
    chosen, others = ingest.money_columns(headers, mapping)
    assert chosen == "买家实际支付金额"
    assert others == ["买家应付货款", "买家应付邮费", "总金额"]


def test_a_money_column_the_user_chooses_replaces_the_platforms_choice():
    headers = TAOBAO.splitlines()[0].split(",")
    mapping = ingest.resolve_mapping(headers, "transactions", {"总金额": "amount"})
    assert mapping["总金额"] == "amount" and mapping["买家实际支付金额"] is None
    assert mapping["买家会员名"] == "customer_id"        # the rest of the platform's mapping stays


@pytest.mark.parametrize("headers, paid", [
    (["Amount", "Paid Amount"], "Paid Amount"),     # what was paid beats a column named amount
    (["amount", "amount_paid"], "amount_paid"),
    (["金额", "实付金额"], "实付金额"),
    (["Subtotal", "Total", "Paid"], "Paid"),
    (["amount", "paid"], "amount"),                 # a bare "paid" may be a yes/no column
])
def test_which_money_column_becomes_the_amount(headers, paid):
    headers = ["order_id", "customer_id", "order_date", *headers]
    chosen, others = ingest.money_columns(headers, ingest.merge_mapping(headers, "transactions", None))
    assert chosen == paid and others == [h for h in headers[3:] if h != paid]


# ---- workbooks of several sheets --------------------------------------------------------

def test_an_order_a_later_sheet_repeats_is_taken_once(tmp_path):
    """Sheets read together are sheets imported one after the other: UCI's Online Retail II
    repeats 1–9 December 2010 in both of its sheets. Invoice 9 is repeated with its lines in
    another order (taken once); invoice 8 with a line changed (an error, the whole order)."""
    header, *body = [line.split(",") for line in LINES.splitlines()]
    book = openpyxl.Workbook()
    book.active.title = "Year 2009-2010"
    nine = [["9", "A", "CUP", "2", "2010-12-01 09:00", "1.50", "13085", "UK"],
            ["9", "B", "MUG", "1", "2010-12-01 09:00", "3.00", "13085", "UK"]]
    eight = ["8", "C", "JUG", "1", "2010-12-02 09:00", "4.00", "13086", "UK"]
    for row in [header, *body[:3], *nine, eight]:
        book.active.append(row)
    later = book.create_sheet("Year 2010-2011")
    for row in [header, nine[1], nine[0], eight[:3] + ["2"] + eight[4:], *body[3:4]]:
        later.append(row)
    path = tmp_path / "two_years.xlsx"
    book.save(path)
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(tmp_path / "r.duckdb", path, "transactions", sheet="all",
                           create_customers=True, today=TODAY)
    assert [(p.code, p.file, p.line) for p in caught.value.problems] == [
        ("order_refused", "two_years.xlsx [Year 2009-2010]", 7),
        ("order_in_two_sheets", "two_years.xlsx [Year 2010-2011]", 4)]
    db = tmp_path / "s.duckdb"
    report = ingest.import_file(db, path, "transactions", sheet="all", create_customers=True,
                                skip_invalid=True, today=TODAY)
    assert (report.inserted, report.unchanged, report.rejected) == (6, 2, 2)
    assert "1 order appears again in a later sheet with the same lines" in report.summary()
    assert rows(db, "SELECT txn_id, count(*), sum(amount) FROM transactions GROUP BY 1 "
                "ORDER BY 1") == [("489434", 3, Decimal("170.70")), ("489435", 1, Decimal("30.60")),
                                  ("9", 2, Decimal("6.00"))]


def test_sheet_all_reads_every_sheet_with_the_same_columns(tmp_path):
    header, *body = [line.split(",") for line in LINES.splitlines()]
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Year 2009-2010"
    for row in [header, *body[:3]]:
        first.append(row)
    second = book.create_sheet("Year 2010-2011")
    for row in [header, *body[3:]]:
        second.append(row[::-1])       # the same columns in another order
    book.create_sheet("Notes").append(["exported by", "someone"])
    book.create_sheet("Empty")
    path = tmp_path / "online_retail_II.xlsx"
    book.save(path)
    info = ingest.inspect_file(path, sheet=ingest.ALL_SHEETS)
    assert info.sheets_read == ["Year 2009-2010", "Year 2010-2011"] and info.sheet_rows == 6
    assert info.sheets_left_out == ["Notes"]      # named; the empty sheet holds nothing to lose
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(tmp_path / "b.duckdb", path, "transactions", sheet="all",
                           create_customers=True, today=TODAY)
    assert 'online_retail_II.xlsx [Year 2010-2011], line 4, column "Customer ID"' in str(
        caught.value)
    report = ingest.preview_import(tmp_path / "b.duckdb", path, "transactions",
                                   create_customers=True, skip_invalid=True, today=TODAY)
    assert ("The workbook has 3 other sheets, not read: Year 2010-2011, Notes, Empty (--sheet "
            "all reads every sheet with the same columns).") in report.summary()
    db = tmp_path / "one_by_one.duckdb"    # the same workbook's other sheet: another import
    first = ingest.import_file(db, path, "transactions", create_customers=True, today=TODAY)
    second = ingest.import_file(db, path, "transactions", sheet="Year 2010-2011",
                                create_customers=True, skip_invalid=True, today=TODAY)
    again = ingest.import_file(db, path, "transactions", create_customers=True, today=TODAY)
    assert (second.same_file_batches, again.same_file_batches) == ([], [first.batch_id])
    with pytest.raises(ingest.ImportRejected) as caught:   # that sheet alone: named too
        ingest.import_file(tmp_path / "b.duckdb", path, "transactions", sheet="Year 2010-2011",
                           create_customers=True, today=TODAY)
    assert 'online_retail_II.xlsx [Year 2010-2011], line 4, column "Customer ID"' in str(
        caught.value)
    report = ingest.import_file(tmp_path / "b.duckdb", path, "transactions", sheet="all",
                                create_customers=True, skip_invalid=True, today=TODAY)
    assert (report.inserted, report.rejected) == (5, 1)
    assert "Read 2 sheets with the same columns: Year 2009-2010, Year 2010-2011." in report.summary()
    assert "Left out 1 sheet whose columns differ: Notes." in report.summary()
    assert rows(tmp_path / "b.duckdb", "SELECT txn_id, customer_id, amount FROM transactions "
                "ORDER BY rowid") == [
        ("489434", "13085", Decimal("83.40")), ("489434", "13085", Decimal("81.00")),
        ("489434", "13085", Decimal("6.30")), ("489435", "13086", Decimal("30.60")),
        ("C489449", "13085", Decimal("-2.10"))]
