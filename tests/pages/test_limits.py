"""Resource limits: oversized, over-wide, bomb-like and huge files are refused early and clearly.

Most cases run against a lowered limit (its environment variable) on a small
file; one real 10-million-row file checks that the refusal streams, with
Python's memory use staying far below the file's size.
"""
import re
import tomllib
import tracemalloc
import zipfile

import numpy as np
import openpyxl
import pytest
import xlsxwriter

from engine import ingest
from engine.ingest.limits import LIMITS
from tests.conftest import ROOT, open_page

HEADER = "customer_id,txn_date,amount\n"


def refusal(file, table="transactions", name=None):
    with pytest.raises(ingest.ImportRejected) as refused:
        ingest.preview_import(None, file, table, name=name)
    return refused.value


def csv_rows(path, rows):
    line = b"C000001,2024-01-01,1.00\n"
    with open(path, "wb") as f:
        f.write(HEADER.encode())
        block = line * 100_000
        for _ in range(rows // 100_000):
            f.write(block)
        f.write(line * (rows % 100_000))
    return path


def test_every_limit_is_documented_and_the_upload_limit_agrees():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for limit in LIMITS.values():
        assert f"`{limit.env}` | {limit.default} |" in readme, limit.env
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == LIMITS["max_upload_mb"].default


def test_a_file_over_the_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_MAX_FILE_MB", "1")
    path = csv_rows(tmp_path / "big.csv", 50_000)   # 1.2 MB
    exc = refusal(path)
    assert [p.code for p in exc.problems] == ["too_large"]
    assert "the file is 1 MB, more than the limit of 1 MB" in exc.message("en")
    assert "split it" in exc.message("en")
    assert "超过了 1 MB 的上限" in exc.message("zh") and "拆分" in exc.message("zh")


def test_a_50_column_junk_file_names_what_is_missing(tmp_path):
    rng = np.random.default_rng(0)
    header = ",".join(f"junk{i}" for i in range(50))
    body = "\n".join(",".join(map(str, row)) for row in rng.integers(0, 999, (30, 50)))
    exc = refusal((header + "\n" + body).encode(), name="junk.csv")
    assert {p.target for p in exc.problems} == {"customer_id", "txn_date", "amount"}
    assert "no column is mapped to customer_id" in exc.message("en")
    assert "没有列对应到客户编号" in exc.message("zh")


def test_a_file_over_the_column_limit(monkeypatch):
    monkeypatch.setenv("CRM_MAX_COLUMNS", "40")
    header = ",".join(["customer_id", "txn_date", "amount"] + [f"x{i}" for i in range(47)])
    exc = refusal((header + "\n" + ",".join(["C1", "2024-01-01", "1"] + ["0"] * 47)).encode(),
                  name="wide.csv")
    assert [p.code for p in exc.problems] == ["too_many_columns"]
    assert "the file has 50 columns, more than the limit of 40" in exc.message("en")
    assert "文件有 50 列，超过了 40 列的上限" in exc.message("zh")


def small_workbook(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["customer_id", "txn_date", "amount"])
    book.active.append(["C000001", "2024-01-01", 1])
    path = tmp_path / "small.xlsx"
    book.save(path)
    return path


def rewrite_sheet(path, out, edit=None, body=None):
    """A copy of the workbook with its first sheet's XML edited, or its rows replaced by `body`
    (an iterator of byte chunks, streamed into the zip)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, data)
            elif edit:
                dst.writestr(item.filename, edit(data))
            else:
                head, tail = data.split(b"<sheetData>")[0], data.split(b"</sheetData>")[1]
                with dst.open(item.filename, "w") as f:
                    f.write(head + b"<sheetData>")
                    for chunk in body:
                        f.write(chunk)
                    f.write(b"</sheetData>" + tail)
    return out


def test_a_tiny_workbook_that_declares_a_huge_sheet(tmp_path):
    bomb = rewrite_sheet(small_workbook(tmp_path), tmp_path / "bomb.xlsx", edit=lambda xml: re.sub(
        rb'<dimension ref="[^"]+" ?/>', b'<dimension ref="A1:XFD1048576"/>', xml))
    assert bomb.stat().st_size < 10_000
    exc = refusal(bomb)
    assert [p.code for p in exc.problems] == ["sheet_too_large"]
    assert "declares 1,048,576 rows × 16,384 columns" in exc.message("en")
    assert "1,048,576 行 × 16,384 列" in exc.message("zh")
    assert "CSV" in exc.message("en")


def raw_rows(start: int, stop: int, column: bytes = b"B") -> bytes:
    """Sheet XML rows start..stop-1: a customer id in A, the number 1 in `column`."""
    row = (b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>C000001</t></is></c>'
           b'<c r="%s%d"><v>1</v></c></row>')
    return b"".join(row % (i, i, column, i) for i in range(start, stop))


def test_a_small_workbook_that_unpacks_to_millions_of_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_MAX_SHEET_MB", "20")
    body = (raw_rows(k, k + 10_000) for k in range(2, 300_002, 10_000))
    bomb = rewrite_sheet(small_workbook(tmp_path), tmp_path / "rows.xlsx", body=body)
    assert bomb.stat().st_size < 3_000_000
    exc = refusal(bomb)
    assert [p.code for p in exc.problems] == ["sheet_unpacks_too_large"]
    assert "more than the limit of 20 MB" in exc.message("en")


def test_a_file_over_the_row_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_MAX_ROWS", "1000")
    exc = refusal(csv_rows(tmp_path / "rows.csv", 1_001))
    assert [p.code for p in exc.problems] == ["too_many_rows"]
    assert "more than 1,000 data rows (about 1,001)" in exc.message("en")
    assert "CRM_MAX_ROWS" in exc.message("en") and "超过 1,000 行" in exc.message("zh")
    assert ingest.preview_import(None, csv_rows(tmp_path / "ok.csv", 1_000), "transactions",
                                 create_customers=True).rows_read == 1_000


def test_ten_million_rows_are_refused_while_streaming(tmp_path):
    path = csv_rows(tmp_path / "ten_million.csv", 10_000_000)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        exc = refusal(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [p.code for p in exc.problems] == ["too_many_rows"]
    assert "more than 5,000,000 data rows (about 10,000,000)" in exc.message("en")
    assert peak < size / 4, (peak, size)   # chunks, not the file, were held in memory


@pytest.mark.parametrize("lang, words", [("en", "more than 1,000 data rows"),
                                         ("zh", "超过 1,000 行")])
def test_the_data_page_says_why_in_the_readers_language(work_db, tmp_path, monkeypatch, lang,
                                                        words):
    monkeypatch.setenv("CRM_MAX_ROWS", "1000")
    at = open_page("data", lang)
    at.segmented_control(key="data_page.table").set_value("transactions").run()
    at.file_uploader[0].upload("rows.csv", csv_rows(tmp_path / "r.csv", 5_000).read_bytes(),
                               "text/csv").run()
    assert not at.exception, at.exception
    assert any(words in e.value.replace("\\", "") for e in at.error), [e.value for e in at.error]
    assert at.button(key="data_page.import").proto.disabled


def workbook_rows(tmp_path, rows, name="many.xlsx"):
    """A real workbook of `rows` data rows (written by openpyxl, as Excel would)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["customer_id", "txn_date", "amount", "a", "b", "c", "d"])
    for i in range(rows):
        sheet.append([f"C{i:06d}", "2024-01-01", 1, "x", "y", "z", "w"])
    path = tmp_path / name
    book.save(path)
    return path


@pytest.mark.parametrize("dimension", [b'<dimension ref="A1:G2"/>', b""])
def test_a_workbook_that_hides_its_rows_is_counted_as_read(tmp_path, monkeypatch, dimension):
    """30,000 rows declared as two (or with no dimension at all) pass no row limit of 1,000."""
    monkeypatch.setenv("CRM_MAX_ROWS", "1000")
    liar = rewrite_sheet(workbook_rows(tmp_path, 30_000), tmp_path / "liar.xlsx", edit=lambda xml: re.sub(
        rb'<dimension ref="[^"]+" ?/>', dimension, xml))
    xml = zipfile.ZipFile(liar).read("xl/worksheets/sheet1.xml")
    assert (b'ref="A1:G2"' in xml) == bool(dimension) and b"A1:G30001" not in xml
    exc = refusal(liar)
    assert [p.code for p in exc.problems] == ["sheet_too_many_rows"]
    assert "more than 1,000 data rows" in exc.message("en")
    assert "超过 1,000 行" in exc.message("zh")


def test_a_row_with_a_cell_far_right_counts_every_cell_between(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_MAX_SHEET_CELLS", "50000")
    wide = rewrite_sheet(small_workbook(tmp_path), tmp_path / "wide.xlsx",
                         body=iter([raw_rows(2, 6, b"XFD")]))
    exc = refusal(wide)
    assert [p.code for p in exc.problems] == ["sheet_too_many_cells"]
    assert "more than 50,000 cells" in exc.message("en")


def test_shared_strings_count_towards_the_unpacked_size(tmp_path, monkeypatch):
    """A sheet of a few KB whose 3 MB of shared strings pass a 1 MB limit on the sheets alone."""
    monkeypatch.setenv("CRM_MAX_SHEET_MB", "2")
    path = tmp_path / "strings.xlsx"
    with xlsxwriter.Workbook(path) as book:   # writes text as shared strings, as Excel does
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, ["customer_id", "txn_date", "amount"])
        for i in range(300):
            sheet.write_row(i + 1, 0, [f"C{i}", "2024-01-01", "x" * 10_000 + str(i)])
    parts = {i.filename: i.file_size for i in zipfile.ZipFile(path).infolist()}
    assert parts["xl/worksheets/sheet1.xml"] < 100_000 < 2 * 1024 * 1024 < parts["xl/sharedStrings.xml"]
    exc = refusal(path)
    assert [p.code for p in exc.problems] == ["sheet_unpacks_too_large"]
    assert "the workbook unpacks to 3 MB, more than the limit of 2 MB" in exc.message("en")


def test_a_workbook_within_the_limits_reads_every_row(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_MAX_ROWS", "1000")
    report = ingest.preview_import(None, workbook_rows(tmp_path, 1000), "transactions",
                                   create_customers=True)
    assert report.rows_read == 1000
