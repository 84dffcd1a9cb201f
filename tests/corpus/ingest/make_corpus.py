"""Write the broken files of the import corpus and their manifest.

    python tests/corpus/ingest/make_corpus.py

Each entry of manifest.json names a file, the table it is imported into,
options for the import, and substrings the rejection message must hold
(English). The database they go into holds customers C1, C2, C3 and
transaction T1 (C1, 2024-01-05, 100.00); see tests/engine/test_ingest_corpus.py.
"""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
ENTRIES: list[dict] = []


def text(name: str, body: str, table: str, expect: list[str], *, write_as: str = "utf-8",
         **options) -> None:
    (HERE / name).write_bytes(body.encode(write_as))
    ENTRIES.append({"file": name, "table": table, "options": options, "expect": expect})


def raw(name: str, data: bytes, table: str, expect: list[str], **options) -> None:
    (HERE / name).write_bytes(data)
    ENTRIES.append({"file": name, "table": table, "options": options, "expect": expect})


def sheet(name: str, rows: list[list], table: str, expect: list[str], title: str = "Sheet1",
          **options) -> None:
    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    book.save(HERE / name)
    ENTRIES.append({"file": name, "table": table, "options": options, "expect": expect})


T = "customer_id,txn_date,amount,txn_id\n"
text("no_amount_column.csv", "客户编号,交易日期,订单编号\nC1,2024-01-15,T2\n", "transactions",
     ["no_amount_column.csv", "no column is mapped to amount", "required"])
text("no_kind_column.csv", "客户编号,时间,渠道\nC1,2024-01-15 10:00,电话\n", "interactions",
     ["no column is mapped to kind"])
raw("empty.csv", b"", "transactions", ["empty.csv", "the file holds no data"])
text("header_only.csv", T, "transactions", ["header_only.csv", "the file holds no data"])
text("blank_lines_only.csv", T + "\n\n,,,\n", "transactions", ["the file holds no data"])
text("bad_date.csv", "客户编号,交易日期,金额\nC1,2024-01-15,10\nC2,2024-13-45,20\n", "transactions",
     ['bad_date.csv, line 3, column "交易日期"', '"2024-13-45" is not a date',
      "expected a date such as 2024-01-15"])
text("bad_amount.csv", "客户编号,交易日期,金额\nC1,2024-01-15,abc\n", "transactions",
     ['line 2, column "金额"', '"abc" is not an amount', "expected an amount such as"])
text("amount_two_decimal_marks.csv", T + 'C1,2024-01-15,"1.2.3",T7\n', "transactions",
     ['"1.2.3" is not an amount'])
text("missing_customer_id.csv", "客户编号,交易日期,金额\nC1,2024-01-15,1\n,2024-01-16,2\n",
     "transactions", ["guest orders (rows that name no customer), which cannot be attributed "
                      "to anyone: 1", "--skip-invalid", 'line 3, column "客户编号"',
                      "no customer (a guest order)"])
text("missing_date.csv", T + "C1,,5,T8\n", "transactions",
     ['line 2, column "txn_date": no value', "txn_date is required"])
text("unknown_customer.csv", T + "C1,2024-01-15,5,T9\nX9,2024-01-16,6,T10\n", "transactions",
     ['line 3, column "customer_id"', 'customer "X9" is not in the database',
      "--create-customers"])
text("duplicate_txn_id.csv", T + "C1,2024-01-15,5,T20\nC2,2024-01-16,6,T20\n", "transactions",
     ['line 3, column "customer_id"',
      'this line of order "T20" names customer_id "C2", its line 2 names "C1"',
      'line 3, column "txn_date"', "the same txn_date on every line of one order"])
text("duplicate_customer_id.csv", "客户编号,客户名称\nC7,甲\nC8,乙\nC7,丙\n", "customers",
     ['line 4, column "客户编号"', '"C7" appears again (first on line 2)'])
text("txn_conflict.csv", T + "C1,2024-01-05,120.00,T1\n", "transactions",
     ['txn_id "T1" is already stored with a different amount'])
text("future_date.csv", T + "C1,2999-01-01,5,T30\n", "transactions",
     ['"2999-01-01" is after today', "no later than today"])
text("future_first_contact.csv", "customer_id,first_contact_date\nC9,2999-12-31\n", "customers",
     ['column "first_contact_date"', "is after today"])
text("satisfaction_7.csv", "customer_id,ts,kind,satisfaction\nC1,2024-01-15 10:00,咨询,7\n",
     "interactions", ['column "satisfaction"', '"7" is outside 1–5', "whole number from 1 to 5"])
text("satisfaction_word.csv", "customer_id,ts,kind,satisfaction\nC1,2024-01-15,投诉,good\n",
     "interactions", ['"good" is not a rating'])
text("bad_timestamp.csv", "客户编号,互动时间,类型\nC1,yesterday,咨询\n", "interactions",
     ['column "互动时间"', '"yesterday" is not a date or time'])
text("bad_quantity.csv", "客户编号,交易日期,金额,数量\nC1,2024-01-15,5,lots\n", "transactions",
     ['column "数量"', '"lots" is not a number'])
text("bad_next_contact.csv", "客户编号,跟进日期,下次联系日期\nC1,2024-02-01,next week\n",
     "followups", ['column "下次联系日期"', '"next week" is not a date'])
text("unquoted_thousands.csv", "客户编号,交易日期,金额\nC1,2024-01-15,1,234.50\n", "transactions",
     ["line 2: the line has 4 values but the header has 3", "quotes"])
text("unclosed_quote.csv", T + 'C1,2024-01-15,5,"T40\nC2,2024-01-16,6,T41\n', "transactions",
     ["line 2", "a quote is opened and never closed"])
text("lines_after_blank_and_note.csv",
     "customer_id;ts;kind;note\nC1;2024-01-15 09:00;咨询;\"two\nlines\"\n\n"
     "C2;2024-01-16 09:00;投诉;ok\nC3;2024-02-30 09:00;咨询;bad day\n",
     "interactions", ['line 6, column "ts"', '"2024-02-30 09:00" is not a date or time'])
text("gbk_bad_amount.csv", "客户编号,交易日期,实付金额\nC1,2024年1月15日,￥12.50\nC2,2024年1月16日,十二元\n",
     "transactions", ['line 3, column "实付金额"', '"十二元" is not an amount'], write_as="gbk")
text("gbk_read_as_utf8.csv", "客户编号,交易日期,金额\nC1,2024-01-15,5\n", "transactions",
     ["line 1", "not valid utf-8"], write_as="gbk", encoding="utf-8")
raw("old_excel.xls", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504), "transactions",
    ["old_excel.xls", "save .xls workbooks as .xlsx"])
raw("picture.csv", bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(64), "transactions",
    ["picture.csv", "this is not a file the import reads"])
raw("damaged.xlsx", b"PK\x03\x04" + b"not really a zip file" * 10, "transactions",
    ["damaged.xlsx", "the file cannot be read"])
sheet("no_such_sheet.xlsx", [["客户编号", "交易日期", "金额"], ["C1", "2024-01-15", 5]],
      "transactions", ['there is no sheet "汇总"', "订单"], title="订单", sheet="汇总")
sheet("xlsx_bad_amount.xlsx", [["客户编号", "交易日期", "金额"], ["C1", "2024-01-15", 5], [],
                               ["C2", "2024-01-16", "n/a?"]],
      "transactions", ['xlsx_bad_amount.xlsx, line 4, column "金额"', '"n/a?" is not an amount'])
text("mapping_unknown_header.csv", T + "C1,2024-01-15,5,T50\n", "transactions",
     ['the mapping names "实付"', "one of the file's headers"], mapping={"实付": "amount"})
text("mapping_unknown_target.csv", T + "C1,2024-01-15,5,T51\n", "transactions",
     ['"amout" is not a column of transactions'], mapping={"amount": "amout"})
text("mapping_twice.csv", "客户编号,交易日期,订单金额,实付金额\nC1,2024-01-15,5,4\n", "transactions",
     ['"订单金额", "实付金额" are all mapped to amount'],
     mapping={"订单金额": "amount", "实付金额": "amount"})

if __name__ == "__main__":
    (HERE / "manifest.json").write_text(
        json.dumps(ENTRIES, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(len(ENTRIES), "files")
