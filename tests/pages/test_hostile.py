"""Hostile input: HTML, script, SQL fragments and spreadsheet formulas in names, notes, topics.

They go through the import unchanged, show on the pages as the text they
are, and leave every file the product writes harmless: no formula runs in
Excel, no markup in the HTML report, no markup in plotly labels.
"""
import csv
import io
import re
import shutil

import openpyxl
import pandas as pd
import pytest

from engine import ingest, store
from engine.export import to_csv_bytes, to_excel_bytes
from report import review as review_report
from report.html import review_html
from tests.conftest import ROOT, open_page
from tests.helpers import rows
from report import charts

HOSTILE = ["<script>alert(1)</script>", '<img src=x onerror="window.__xss=1">',
           "'; DROP TABLE customers; --", "Robert'); --", "=1+1", "+1", "-1", "@SUM(A1)",
           '=HYPERLINK("http://evil.example","click")', "\t=2+2", "\r=3+3",
           "**bold** [link](javascript:alert(1))"]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def runs(cell: str) -> bool:
    """Whether a spreadsheet would run the cell as a formula: it starts like one and is no
    plain signed number (-1 and +1 are read as the numbers)."""
    return cell.startswith(FORMULA) and not re.fullmatch(r"[+-]?\d+(?:[.,]\d+)*", cell)
MONTH = "2026-05"   # a complete month of the demo data, with the complaints below in it


def stored(value):
    """What the import keeps: the value with surrounding whitespace trimmed (as for any cell)."""
    return value.strip()


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def hostile_db(demo_db, tmp_path_factory):
    """The demo plus one customer per hostile string, with a purchase and a complaint each."""
    folder = tmp_path_factory.mktemp("hostile")
    db = folder / "hostile.duckdb"
    shutil.copy(demo_db, db)
    ids = [f"H{k:02d}" for k in range(len(HOSTILE))]
    files = [
        ("customers", write_csv(folder / "customers.csv", ["customer_id", "name", "region", "owner"],
                                [(i, h, h, h) for i, h in zip(ids, HOSTILE)])),
        ("transactions", write_csv(folder / "transactions.csv",
                                   ["customer_id", "txn_date", "amount", "txn_id", "product", "category"],
                                   [(i, f"{MONTH}-1{k % 9}", 100 + k, f"HT{k}", h, h)
                                    for k, (i, h) in enumerate(zip(ids, HOSTILE))])),
        ("interactions", write_csv(folder / "interactions.csv",
                                   ["customer_id", "ts", "kind", "topic", "note"],
                                   [(i, f"{MONTH}-1{k % 9} 10:00", "complaint", h, h)
                                    for k, (i, h) in enumerate(zip(ids, HOSTILE))])),
    ]
    for table, path in files:
        ingest.import_file(db, path, table)
    return db


def test_the_import_stores_every_value_unchanged(hostile_db):
    with store.connect(hostile_db) as con:
        names = dict(con.execute("SELECT customer_id, name FROM customers "
                                 "WHERE customer_id LIKE 'H%'").fetchall())
        topics = [r[0] for r in con.execute("SELECT topic FROM interactions "
                                            "WHERE customer_id LIKE 'H%' ORDER BY customer_id")
                  .fetchall()]
        notes = [r[0] for r in con.execute("SELECT note FROM interactions "
                                           "WHERE customer_id LIKE 'H%' ORDER BY customer_id")
                 .fetchall()]
        products = [r[0] for r in con.execute("SELECT product FROM transactions "
                                              "WHERE customer_id LIKE 'H%' ORDER BY customer_id")
                    .fetchall()]
        assert store.table_counts(con)["customers"] == 400 + len(HOSTILE)   # no table dropped
    expected = [stored(h) for h in HOSTILE]
    assert [names[f"H{k:02d}"] for k in range(len(HOSTILE))] == expected
    assert topics == notes == products == expected


def test_no_page_renders_html(hostile_db):
    """Streamlit shows HTML only when a page asks for it; none does."""
    sources = [ROOT / "app.py", *ROOT.glob("views/*.py"), *ROOT.glob("ui/*.py")]
    found = [f"{p.name}: {m}" for p in sources
             for m in re.findall(r"unsafe_allow_html\s*=\s*True|st\.html\(|components\.v1",
                                 p.read_text(encoding="utf-8"))]
    assert not found, found


def test_customers_page_shows_the_names_as_text(hostile_db, monkeypatch, downloads):
    monkeypatch.setenv("CRM_DB", str(hostile_db))
    at = open_page("customers", "en")
    at.text_input(key="customers.search").input("H").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    shown = dict(zip(table[table.columns[0]], table[table.columns[1]]))
    assert [shown[f"H{k:02d}"] for k in range(len(HOSTILE))] == [stored(h) for h in HOSTILE]
    csv_rows = pd.read_csv(io.BytesIO(next(v for k, v in downloads.items() if k.endswith(".csv"))),
                           encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for name in csv_rows["Name"]:
        assert not runs(name), name
    assert "'=1+1" in set(csv_rows["Name"]) and "<script>alert(1)</script>" in set(csv_rows["Name"])


@pytest.mark.parametrize("k", [0, 1, 2, 4, 11])
def test_profile_header_shows_the_name_as_typed(hostile_db, monkeypatch, k):
    monkeypatch.setenv("CRM_DB", str(hostile_db))
    at = open_page(None, "en")
    at.session_state["profile.customer"] = f"H{k:02d}"
    at.switch_page("views/profile.py")
    at.run()
    assert not at.exception, at.exception
    header = at.header[0].value.replace("\u2060", "")   # invisible joiners keep URLs no link
    # every character Markdown or HTML would act on is escaped, so it shows as typed
    assert re.sub(r"\\(.)", r"\1", header) == f"{stored(HOSTILE[k])} · H{k:02d}"
    assert not re.search(r"(?<!\\)[<>\[\]*]", header), header


def test_exports_cannot_run_formulas_and_keep_numbers():
    frame = pd.DataFrame({"name": [stored(h) for h in HOSTILE],
                          "amount": [-1.5] * len(HOSTILE)})
    rows = list(csv.reader(io.StringIO(to_csv_bytes(frame).decode("utf-8-sig"))))[1:]
    for (name, amount), value in zip(rows, frame["name"]):
        assert name == ("'" + value if runs(value) else value)
        assert amount == "-1.5"
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame))).active
    for row, value in zip(sheet.iter_rows(min_row=2), frame["name"]):
        assert row[0].data_type == "s" and row[0].value == value   # text as text, no apostrophe
        assert row[1].data_type == "n" and row[1].value == -1.5


def test_column_names_are_guarded_in_every_export():
    frame = pd.DataFrame({'=HYPERLINK("http://evil.example","x")': ["a"], "@SUM(A1)": [1]})
    header = next(csv.reader(io.StringIO(to_csv_bytes(frame).decode("utf-8-sig"))))
    assert header == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'@SUM(A1)"]
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frame))).active
    assert [c.data_type for c in sheet[1]] == ["s", "s"]
    assert sheet["A1"].value == '=HYPERLINK("http://evil.example","x")'


def test_a_csv_cell_with_a_semicolon_stays_one_cell_where_excel_splits_on_semicolons():
    frame = pd.DataFrame({"name": ["x;=1+1", "plain"], "amount": [1.5, -2.0]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert '"x;=1+1"' in text
    for line in text.splitlines()[1:]:   # as Excel reads it with ";" as the list separator
        cells = next(csv.reader([line], delimiter=";"))
        assert not [c for c in cells if runs(c)], cells
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1:] == [["x;=1+1", "1.5"], ["plain", "-2.0"]]


def test_the_rejects_file_guards_its_header(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["customer_id", "txn_date", "amount",
                                           '=HYPERLINK("http://evil.example","x")'],
                    [("C1", "not a date", "5", "y")])
    report = ingest.preview_import(None, bad, "transactions", create_customers=True)
    header = next(csv.reader(io.StringIO(report.rejects_csv().decode("utf-8-sig"))))
    assert not [h for h in header if runs(h)], header
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in header


def test_rejects_file_cannot_run_formulas(tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["customer_id", "txn_date", "amount", "product"],
                    [("C1", "2024-01-01", "=1+1", "=HYPERLINK(\"x\")"),
                     ("C2", "not a date", "-12.50", "@SUM(A1)"),
                     ("C3", "not a date", "5", "-5")])
    report = ingest.preview_import(None, bad, "transactions", create_customers=True)
    rows = list(csv.DictReader(io.StringIO(report.rejects_csv().decode("utf-8-sig"))))
    assert [r["amount"] for r in rows] == ["'=1+1", "-12.50", "5"]   # a refund stays a number
    assert [r["product"] for r in rows] == ["'=HYPERLINK(\"x\")", "'@SUM(A1)", "-5"]


def test_a_rejects_file_corrected_and_imported_again_stores_what_was_meant(tmp_path):
    """The apostrophe the rejects file put before text that would run as a formula is
    the file's, not the customer's: imported again, the text is as first written."""
    names = ['=HYPERLINK("x")', "@cmd", "-2+3", "-5", "'tis"]
    bad = write_csv(tmp_path / "bad.csv", ["customer_id", "name", "contract_end"],
                    [(f"C{k}", name, "not a date") for k, name in enumerate(names)])
    db = tmp_path / "r.duckdb"
    report = ingest.import_file(db, bad, "customers", skip_invalid=True)
    fixed = tmp_path / "fixed.csv"
    fixed.write_bytes(report.rejects_csv().replace(b"not a date", b"2027-01-01"))
    ingest.import_file(db, fixed, "customers", mapping={"line": None, "error": None})
    assert [r[0] for r in rows(db, "SELECT name FROM customers ORDER BY customer_id")] == names


def test_review_report_escapes_and_workbook_cannot_run_formulas(hostile_db):
    from engine import review
    with store.connect(hostile_db) as con:
        monthly = review.monthly_review(con, month=MONTH)
    topics = set(monthly.complaints["topic"])
    assert "<script>alert(1)</script>" in topics
    page = review_html(monthly, "en")
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    book = openpyxl.load_workbook(io.BytesIO(review_report.review_workbook(monthly, "en")))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert not [c.value for c in cells if c.data_type == "f"]
    assert any(c.value == "=1+1" and c.data_type == "s" for c in cells)   # text, shown as typed


def test_plotly_labels_show_markup_as_text():
    figure = charts.compare_bars(pd.DataFrame({"topic": HOSTILE[:2], "n": [1, 2]}), label="topic",
                                 series={"n": "now"}, value_title="complaints")
    assert list(figure.data[0].y) == ["&lt;script&gt;alert(1)&lt;/script&gt;",
                                      '&lt;img src=x onerror="window.__xss=1"&gt;']
    points = pd.DataFrame({"x": [1.0], "y": [2.0], "segment": [0], "customer_id": ["<b>C1</b>"]})
    scatter = charts.segment_scatter(points, labels={0: "A"}, x_title="x", y_title="y")
    assert list(scatter.data[0].text) == ["&lt;b&gt;C1&lt;/b&gt;"]


def test_no_script_runs_in_a_real_browser(hostile_db):
    """The <img onerror> name would set window.__xss if a page let it become HTML: the
    profile's header and the review's complaint chart show it (tables draw on a canvas)."""
    from tests.browser.chromium import require_chromium, running_chromium, serving, wait_idle
    require_chromium()
    with serving(hostile_db) as url, running_chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for path in ("profile?customer=H01", "review"):
            page.goto(f"{url}/{path}")
            wait_idle(page)
            page.get_by_text('<img src=x onerror="window.__xss=1">').first.wait_for(
                timeout=60_000)
            assert page.evaluate("() => window.__xss") is None, path
        assert dialogs == []
