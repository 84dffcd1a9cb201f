"""Reading files: encodings, separators, Excel sheets, and the line of every row."""
import codecs
import datetime as dt
import io

import numpy as np
import openpyxl
import pytest

from engine.ingest import ImportRejected, inspect_file, list_sheets, readers

CHINESE = "客户编号,客户名称,金额\nS1,张三,￥12.50\nS2,李四,8\n"


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"),
    ("utf-8-sig", "utf-8-sig"),
    ("gbk", "gb18030"),
    ("gb18030", "gb18030"),
])
def test_encoding_is_detected(encoding, expected):
    data = (CHINESE * 20).encode(encoding)
    info = inspect_file(data, name="x.csv")
    assert info.encoding == expected
    assert info.headers == ["客户编号", "客户名称", "金额"]
    assert info.sample.iloc[0].tolist() == ["S1", "张三", "￥12.50"]


def test_utf16_with_bom_is_read():
    info = inspect_file(CHINESE.replace(",", "\t").encode("utf-16"), name="unicode.txt")
    assert info.encoding == "utf-16" and info.delimiter == "\t"
    assert info.headers[0] == "客户编号"


def test_encoding_can_be_given_by_hand():
    data = CHINESE.encode("gbk")
    assert inspect_file(data, name="x.csv", encoding="GBK").encoding == "gb18030"
    with pytest.raises(ImportRejected) as caught:
        inspect_file(data, name="x.csv", encoding="utf-8")
    assert caught.value.problems[0].code == "bad_encoding"
    assert caught.value.problems[0].line == 1


def test_detect_encoding_prefers_utf8_and_maps_gb_family():
    assert readers.detect_encoding("纯文本".encode()) == "utf-8"
    assert readers.detect_encoding(codecs.BOM_UTF8 + b"a") == "utf-8-sig"
    assert readers.detect_encoding(("客户名称,地区\n" * 50).encode("gbk")) == "gb18030"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_separator_is_sniffed(delimiter):
    body = "\n".join(delimiter.join(r) for r in [["id", "date", "amount"], ["1", "2024-01-01", "1,5"],
                                                    ["2", "2024-01-02", "2"]])
    info = inspect_file((body + "\n").encode(), name="x.csv")
    assert info.delimiter == delimiter
    assert info.headers == ["id", "date", "amount"]


def test_quoted_separators_do_not_fool_the_sniffer():
    info = inspect_file(b'id,amount,note\n1,"1,234.50","a; b; c"\n2,"5","x;y"\n', name="q.csv")
    assert info.delimiter == ","


def test_separator_can_be_given_by_hand():
    info = inspect_file(b"a;b\n1;2\n", name="x.csv", delimiter="tab")
    assert info.delimiter == "\t" and info.headers == ["a;b"]
    with pytest.raises(ValueError):
        inspect_file(b"a;b\n", name="x.csv", delimiter="ab")


def test_headers_are_made_unique_and_named():
    assert readers.unique_headers(["备注", "", "备注", " 金额 "]) == [
        "备注", "column 2", "备注 (2)", "金额"]


def test_uploaded_file_objects_are_accepted():
    upload = io.BytesIO(b"customer_id,amount\nS1,5\n")
    upload.name = "upload.csv"
    assert inspect_file(upload).name == "upload.csv"


def xlsx(tmp_path, name="t.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "订单"
    sheet.append(["客户编号", "交易日期", "金额", "会员号"])
    sheet.append(["S1", dt.datetime(2024, 1, 15), 12.5, 10001])
    sheet.append([])
    sheet.append(["S2", dt.datetime(2024, 1, 16, 10, 30), "¥1,234", 10002.0])
    book.create_sheet("说明").append(["这是说明"])
    path = tmp_path / name
    book.save(path)
    return path


def test_xlsx_first_sheet_and_cell_text(tmp_path):
    path = xlsx(tmp_path)
    info = inspect_file(path)
    assert (info.format, info.sheets, info.sheet) == ("xlsx", ["订单", "说明"], "订单")
    assert info.headers == ["客户编号", "交易日期", "金额", "会员号"]
    assert info.sample.iloc[0].tolist() == ["S1", "2024-01-15 00:00:00", "12.5", "10001"]
    assert info.sample.iloc[2].tolist() == ["S2", "2024-01-16 10:30:00", "¥1,234", "10002"]
    assert list_sheets(path) == ["订单", "说明"]


def test_xlsx_sheet_by_name(tmp_path):
    info = inspect_file(xlsx(tmp_path), sheet="说明")
    assert info.headers == ["这是说明"]
    with pytest.raises(ImportRejected) as caught:
        inspect_file(xlsx(tmp_path), sheet="Sheet9")
    assert caught.value.problems[0].code == "no_sheet"


def test_old_excel_and_binary_files_are_refused():
    with pytest.raises(ImportRejected, match="save .xls workbooks as .xlsx"):
        inspect_file(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(100), name="old.xls")
    with pytest.raises(ImportRejected, match="not a file the import reads"):
        inspect_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00", name="p.csv")


def test_record_starts_skip_blank_lines_and_follow_quotes(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b'h1,h2\r\n1,"a\r\nb"\r\n\r\n2,c\r\n"3","d""e"\r\n')
    starts, lines = readers.record_starts(path)
    assert lines.tolist() == [2, 5, 6]
    assert path.read_bytes()[starts[1]:starts[1] + 3] == b"2,c"


def test_scan_finds_odd_spaces_quoted_newlines_and_open_quotes(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("a,b\n1,x\n".encode())
    scan = readers.scan_csv(path, ",")
    assert not scan.odd_spaces and not scan.quoted_newlines and scan.open_quote_at is None
    path.write_bytes('a,b\n1,"x\ny"\n2,\u3000z\n'.encode())
    scan = readers.scan_csv(path, ",")
    assert scan.odd_spaces and scan.quoted_newlines
    path.write_bytes(b'a,b\n1,x\n2,"y\n3,z\n')
    assert readers.scan_csv(path, ",").open_quote_at == len(b"a,b\n1,x\n")


def test_ordinal_lines_skip_records_duckdb_refused(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"a,b\n1,2\n\n3,4,5\n6,7\n")
    with readers.open_source(path) as src:
        refused = np.array([len(b"a,b\n1,2\n\n") + 1])   # DuckDB's offsets are one past
        assert src.ordinal_lines(2, refused).tolist() == [2, 5]
        assert src.line_of_offsets(refused).tolist() == [4]
        assert src.ordinal_lines(3, refused) is None


def test_a_separator_ending_every_row_gets_a_column(tmp_path):
    info = inspect_file(b"customer_id,amount\nS1,5,\nS2,6,\n", name="trailing.csv")
    assert info.headers == ["customer_id", "amount", "column 3"]


def test_title_lines_above_the_header_are_skipped(tmp_path):
    text = "客户交易导出\n导出时间：2024-06-30\n\n客户编号,交易日期,金额\nS1,2024-01-15,5\n"
    info = inspect_file(text.encode(), name="t.csv")
    assert (info.headers, info.title_rows, info.header_line) == (
        ["客户编号", "交易日期", "金额"], 2, 4)
    assert info.sample.iloc[0].tolist() == ["S1", "2024-01-15", "5"]
    book = openpyxl.Workbook()
    book.active.append(["订单报表"])
    book.active.append(["客户编号", "金额"])
    book.active.append(["S1", 5])
    book.save(tmp_path / "t.xlsx")
    info = inspect_file(tmp_path / "t.xlsx")
    assert (info.headers, info.header_line) == (["客户编号", "金额"], 2)


def test_a_single_column_file_has_no_title():
    info = inspect_file(b"customer_id\nS1\nS2\n", name="ids.csv")
    assert (info.headers, info.title_rows, info.header_line) == (["customer_id"], 0, 1)
