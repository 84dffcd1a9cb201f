"""The Data page: upload, map, check, import, report, undo, reset — as the user sees it.

Every test that writes works on its own copy of the demo database (or on a
new file), never on the session-wide one.
"""

import io
import json

import openpyxl
import pytest

from engine import ingest, store
from tests.conftest import ROOT, open_page
from tests.helpers import upload
from ui.import_view import IGNORE

SAMPLES = ROOT / "data" / "samples"
BROKEN = ("客户编号,交易日期,金额,状态\n"
          "C000001,2025-03-01,100,已支付\n"
          "C000002,2025-13-45,200,paid\n"
          "C000003,2025-03-02,abc,paid\n"
          "C000004,2025-03-03,50,神秘状态\n").encode("utf-8")
LABELS = {
    "en": {"title": "Import data", "tabs": ["Import files", "History and undo", "Start over",
                                            "Backup and restore"],
           "metrics": ["Inserted", "Updated", "Unchanged", "Rejected", "Customers created"],
           "imported": "Imported transactions.csv into transactions",
           "undone": "Batch 1 (transactions) undone",
           "rows": "customers ·"},
    "zh": {"title": "数据导入", "tabs": ["导入文件", "导入记录与撤销", "重新开始", "备份与恢复"],
           "metrics": ["新增", "更新", "未变", "拒绝", "新建客户"],
           "imported": "已将 transactions.csv 导入交易", "undone": "批次 1（交易）已撤销",
           "rows": "位客户 ·"},
}


def table_counts(db):
    with store.connect(db) as con:
        return store.table_counts(con)


def sidebar_rows(lang="en"):
    """The sidebar's row counts, as a new visit to the app shows them."""
    at = open_page(None, lang)
    return next(c.value for c in at.sidebar.caption if LABELS[lang]["rows"] in c.value)


def edit_mapping(at, header, column):
    """Change one row of the (only) mapping editor, as a user picking from its selectbox."""
    editor = next(e for e in at.data_editor if e.key.startswith("data_page.map."))
    row = editor.value["header"].tolist().index(header)
    at.session_state[editor.key] = {"edited_rows": {row: {"column": column}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception


def error_text(at, k=0):
    """An error as the reader sees it (Markdown escapes taken out)."""
    return at.error[k].value.replace("\\", "")


def metrics(at):
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_map_import_then_undo(work_db, lang):
    labels = LABELS[lang]
    before = table_counts(work_db)
    at = open_page("data", lang)
    assert not at.exception, at.exception
    assert at.title[0].value == labels["title"]
    assert [tab.label for tab in at.tabs] == labels["tabs"]
    upload(at, "transactions", "transactions.csv", (SAMPLES / "transactions.csv").read_bytes())
    # the GBK file is read and mapped automatically; the demo lacks the sample's customers
    assert "GB18030" in " ".join(c.value for c in at.caption)
    at.checkbox(key="data_page.create.False").check().run()
    assert metrics(at)[labels["metrics"][0]] == "375"
    assert metrics(at)[labels["metrics"][4]] == "79"
    preview = next(d.value for d in at.dataframe if "ok" in d.value.columns)
    assert "product" in preview.columns

    edit_mapping(at, "商品名称", IGNORE)   # leave the product name out
    preview = next(d.value for d in at.dataframe if "ok" in d.value.columns)
    assert "product" not in preview.columns and "category" in preview.columns

    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    assert any(labels["imported"] in s.value for s in at.success)
    assert list(metrics(at)) == labels["metrics"]
    assert list(metrics(at).values()) == ["375", "0", "0", "0", "79"]
    after = table_counts(work_db)
    assert after["transactions"] == before["transactions"] + 375
    assert after["customers"] == before["customers"] + 79
    assert f"{after['transactions']:,}" in sidebar_rows(lang)
    with store.connect(work_db) as con:
        stored = con.execute("SELECT count(*), count(product), count(category) FROM transactions "
                             "WHERE batch_id = 1").fetchone()
    assert stored == (375, 0, 375)
    assert not at.file_uploader[0].value   # the uploader is empty again

    assert "#1 · transactions.csv" in " ".join(m.value for m in at.markdown)
    at.button(key="data_page.undo.1").click().run()
    assert not at.exception, at.exception
    assert any(labels["undone"] in s.value for s in at.success)
    assert "375" in next(s.value for s in at.success if labels["undone"] in s.value)
    assert table_counts(work_db) == before
    assert f"{before['transactions']:,}" in sidebar_rows(lang)
    assert "data_page.undo.1" not in [b.key for b in at.button]   # undone: no second undo


def test_broken_file_is_rejected_and_nothing_written(work_db):
    before = table_counts(work_db)
    at = open_page("data", "en")
    upload(at, "transactions", "broken.csv", BROKEN)
    assert "2 problems in 2 rows" in at.warning[0].value
    problems = at.table[0].value     # a static table: "Expected" wraps rather than being cut
    assert problems[["Line", "Column"]].values.tolist() == [[3, "交易日期"], [4, "金额"]]
    assert "not a date" in problems["Problem"][0] and "not an amount" in problems["Problem"][1]
    assert at.radio(key="data_page.skip").value is False   # rejecting the file is the default
    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    message = error_text(at)
    assert "broken.csv: rejected, nothing was imported" in message
    assert "line 3" in message and "line 4" in message
    assert table_counts(work_db) == before
    assert ingest.list_batches(work_db).empty


def test_broken_file_in_chinese(work_db):
    at = open_page("data", "zh")
    upload(at, "transactions", "broken.csv", BROKEN)
    problems = at.table[0].value
    assert "不是日期" in problems["问题"][0]
    at.button(key="data_page.import").click().run()
    assert "broken.csv：已拒绝，未导入任何数据" in error_text(at)


def test_skip_invalid_imports_the_valid_rows_and_offers_the_rejected(work_db):
    before = table_counts(work_db)
    at = open_page("data", "en")
    upload(at, "transactions", "broken.csv", BROKEN)
    assert any(b.label.startswith("Download the rejected rows") for b in at.download_button)
    at.radio(key="data_page.skip").set_value(True).run()
    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    shown = metrics(at)
    assert (shown["Inserted"], shown["Rejected"]) == ("2", "2")
    assert any("Status (status): 1 value(s) matched no known word and were stored as “other” (神秘状态 ×1)"
               in c.value for c in at.caption)
    assert any(b.label == "Download the 2 rejected rows (CSV with an error column)"
               for b in at.download_button)
    assert table_counts(work_db)["transactions"] == before["transactions"] + 2


def test_unreadable_file_is_named_and_blocks_the_import(work_db):
    at = open_page("data", "en")
    upload(at, "customers", "junk.xlsx", b"PK\x03\x04 this is no workbook",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "junk.xlsx" in error_text(at) and "cannot be read" in error_text(at)
    assert at.button(key="data_page.import").disabled


def test_unmapped_required_column_blocks_the_import(work_db):
    at = open_page("data", "en")
    upload(at, "customers", "customers.csv", (SAMPLES / "customers.csv").read_bytes())
    assert not at.button(key="data_page.import").disabled
    edit_mapping(at, "客户编号", IGNORE)
    assert "no column is mapped to customer_id" in error_text(at)
    assert at.button(key="data_page.import").disabled


def test_a_saved_mapping_is_offered_again(work_db):
    at = open_page("data", "en")
    upload(at, "customers", "customers.csv", (SAMPLES / "customers.csv").read_bytes())
    edit_mapping(at, "地区", IGNORE)   # no region
    name_box = next(w for w in at.text_input if w.key.startswith("data_page.save_name."))
    name_box.input("crm export").run()
    next(b for b in at.button if b.key.startswith("data_page.save.")).click().run()
    assert not at.exception, at.exception
    assert any("Mapping “crm export” saved." in s.value for s in at.success)
    saved = next(s for s in at.selectbox if s.key.startswith("data_page.saved."))
    assert saved.value == "crm export"
    editor = next(e for e in at.data_editor if e.key.startswith("data_page.map."))
    assert dict(zip(editor.value["header"], editor.value["column"]))["地区"] == IGNORE
    table, kept = ingest.load_mapping(work_db, "crm export")
    assert table == "customers" and kept["地区"] is None and kept["客户编号"] == "customer_id"


def test_empty_database_first_import_creates_it(tmp_path, monkeypatch):
    db = tmp_path / "new.duckdb"
    monkeypatch.setenv("CRM_DB", str(db))
    at = open_page("data", "en")
    assert not at.exception, at.exception
    assert any("first import creates it" in i.value for i in at.info)
    upload(at, "transactions", "transactions.csv", (SAMPLES / "transactions.csv").read_bytes())
    assert at.checkbox(key="data_page.create.True").value   # on while there are no customers
    assert not db.exists()   # checking writes nothing
    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    assert (metrics(at)["Inserted"], metrics(at)["Customers created"]) == ("375", "79")
    assert table_counts(db) == {"customers": 79, "transactions": 375, "interactions": 0,
                                "followups": 0}
    assert "79 customers · 375 transactions" in sidebar_rows()


def test_several_files_at_once_and_a_sheet_picker(work_db):
    at = open_page("data", "en")
    at.segmented_control(key="data_page.table").set_value("transactions").run()
    at.file_uploader[0].set_value([
        ("transactions.csv", (SAMPLES / "transactions.csv").read_bytes(), "text/csv"),
        ("transactions.xlsx", (SAMPLES / "transactions.xlsx").read_bytes(),
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")]).run()
    sheet = next(s for s in at.selectbox if s.key.startswith("data_page.sheet."))
    assert sheet.options == ["订单", "说明", "All sheets with the same columns"]
    assert sheet.value == "订单"
    at.checkbox(key="data_page.create.False").check().run()
    assert at.button(key="data_page.import").label == "Import 2 files into transactions"
    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success if s.value.startswith("Imported")] == [
        "Imported transactions.csv into transactions", "Imported transactions.xlsx into transactions"]
    batches = ingest.list_batches(work_db)
    assert batches["file_name"].tolist() == ["transactions.xlsx", "transactions.csv"]


def test_a_workbook_of_one_sheet_per_year_imported_whole(work_db):
    """The sample order-line workbook: every sheet, its guest lines skipped, orders counted."""
    at = open_page("data", "en")
    upload(at, "transactions", "order_lines.xlsx", (SAMPLES / "order_lines.xlsx").read_bytes(),
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    sheet = next(s for s in at.selectbox if s.key.startswith("data_page.sheet."))
    sheet.set_value(ingest.ALL_SHEETS).run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "2 sheets with the same columns (Year 2025, Year 2026), 386 rows" in captions
    assert any("UCI Online Retail invoice-line file" in i.value for i in at.info)
    at.checkbox(key="data_page.create.False").check().run()
    assert metrics(at)["Rejected"] == "3"
    at.radio(key="data_page.skip").set_value(True).run()
    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    assert metrics(at)["Inserted"] == "383"
    captions = " ".join(c.value for c in at.caption)
    assert "3 rows without a customer (guest orders) skipped." in captions
    assert "Read 2 sheets with the same columns: Year 2025, Year 2026." in captions


@pytest.mark.parametrize("lang, found, left_out", [
    ("en", "2 sheets with the same columns (2025, 2026), 2 rows",
     "Left out 1 sheet whose columns differ: 备注."),
    ("zh", "2 个列相同的工作表（2025, 2026），共 2 行", "未读取 1 个列不同的工作表：备注。")])
def test_all_sheets_takes_the_same_columns_in_any_order_and_names_the_sheets_left_out(
        work_db, lang, found, left_out):
    book = openpyxl.Workbook()
    book.active.title = "2025"
    for row in (["订单号", "客户编号", "日期", "金额"], ["W1", "C1", "2025-03-01", 100]):
        book.active.append(row)
    later = book.create_sheet("2026")
    for row in (["客户编号", "金额", "订单号", "日期"], ["C2", 400, "W2", "2026-01-02"]):
        later.append(row)
    book.create_sheet("备注").append(["导出人", "张三"])
    content = io.BytesIO()
    book.save(content)
    at = open_page("data", lang)
    upload(at, "transactions", "orders.xlsx", content.getvalue(),
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    next(s for s in at.selectbox if s.key.startswith("data_page.sheet.")).set_value(
        ingest.ALL_SHEETS).run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert found in captions and left_out in captions
    at.checkbox(key="data_page.create.False").check().run()
    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    assert left_out in " ".join(c.value for c in at.caption)
    with store.connect(work_db) as con:
        assert con.execute("SELECT txn_id, customer_id, CAST(amount AS DOUBLE) FROM transactions "
                           "WHERE txn_id LIKE 'W_' ORDER BY txn_id").fetchall() == [
            ("W1", "C1", 100.0), ("W2", "C2", 400.0)]


@pytest.mark.parametrize("lang, note", [
    ("en", "“Order Total Amount” repeats the order's total on every line of the order: taken "
           "once for its 1 order."),
    ("zh", "“Order Total Amount”在订单的每一行都重复了订单总额：该订单只计一次。")])
def test_an_order_total_repeated_on_its_lines_is_said_on_the_page(work_db, lang, note):
    text = (ROOT / "tests" / "corpus" / "platforms" / "woocommerce_orders.csv").read_text(
        "utf-8").replace("2001,,,,,,,,,,,2,Tea Towel",
                         "2001,Completed,2024-03-05 09:00,Olivia,Wang,olivia@example.com,555-0101,"
                         "30.00,5.00,35.00,Credit Card,2,Tea Towel")
    at = open_page("data", lang)
    upload(at, "transactions", "orders.csv", text.encode("utf-8"))
    at.checkbox(key="data_page.create.False").check().run()
    assert note in " ".join(c.value for c in at.caption)   # in the check, before the import


@pytest.mark.parametrize("lang, looks, money", [
    ("en", "This looks like a Taobao/Tmall order report", "Amount is taken from “买家实际支付金额”"),
    ("zh", "这看起来是淘宝/天猫订单报表", "金额取自“买家实际支付金额”")])
def test_a_taobao_report_is_recognised_and_its_money_column_shown(work_db, lang, looks, money):
    at = open_page("data", lang)
    upload(at, "transactions", "taobao_orders.csv", (SAMPLES / "taobao_orders.csv").read_bytes())
    assert any(looks in i.value and "买家会员名 →" in i.value for i in at.info)
    caption = next(c.value for c in at.caption if money in c.value)
    assert "总金额" in caption and "买家应付货款" in caption


def test_reset_to_an_empty_database(work_db):
    at = open_page("data", "zh")
    assert "400" in at.main.warning[-1].value   # the confirmation says what goes
    at.radio(key="data_page.reset_demo").set_value(False).run()
    at.button(key="data_page.reset_confirm").click().run()
    assert not at.exception, at.exception
    assert any("数据库已清空" in s.value for s in at.success)
    assert table_counts(work_db) == dict.fromkeys(store.EVENT_TABLES, 0)
    assert "0 位客户" in sidebar_rows("zh")


def test_samples_offer_downloads(app_db):
    at = open_page("data", "en")
    names = [b.label for b in at.download_button if b.key.startswith("data_page.sample.")]
    assert names == ["customers.csv", "transactions.csv", "transactions.xlsx", "interactions.csv",
                     "followups.csv", "taobao_orders.csv", "order_lines.xlsx"]


def test_a_workbook_is_read_outside_the_sessions_process(work_db, monkeypatch):
    """openpyxl's parsing would hold up every other session (issue 19): the page's checks
    and its import read the workbook in a worker, so here openpyxl may open nothing."""
    def refuse(*args, **kwargs):
        raise AssertionError("a workbook was opened in the dashboard's process")
    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    at = open_page("data", "en")
    upload(at, "transactions", "transactions.xlsx", (SAMPLES / "transactions.xlsx").read_bytes(),
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    at.checkbox(key="data_page.create.False").check().run()
    at.button(key="data_page.import").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success if s.value.startswith("Imported")] == [
        "Imported transactions.xlsx into transactions"]
    assert ingest.list_batches(work_db)["file_name"].tolist() == ["transactions.xlsx"]


def test_import_polish_in_english(work_db):
    """Mapping targets as labels with the stored name after them, one file in the singular,
    and a file that will be refused said so before the click, the button no longer primary."""
    at = open_page("data", "en")
    upload(at, "transactions", "broken.csv", BROKEN)
    editor = next(e for e in at.data_editor if e.key.startswith("data_page.map."))
    options = json.loads(editor.proto.columns)["column"]["type_config"]["options"]
    labels = {o["value"]: o["label"] for o in options}
    assert labels["customer_id"] == "Customer ID (customer_id) *"
    assert labels["txn_date"] == "Transaction date (txn_date) *"
    button = at.button(key="data_page.import")
    assert button.label == "Import 1 file into transactions"
    assert button.proto.type == "secondary"
    assert any("will refuse broken.csv and import nothing" in w.value for w in at.warning)
    at.radio(key="data_page.skip").set_value(True).run()
    assert at.button(key="data_page.import").proto.type == "primary"
    assert not any("will refuse" in w.value for w in at.warning)


def test_undo_of_one_row_says_row(work_db):
    at = open_page("data", "en")
    one = "客户编号,交易日期,金额\nC00001,2024-03-01,10\n".encode()
    upload(at, "transactions", "one.csv", one)
    at.checkbox(key="data_page.create.False").check().run()
    at.button(key="data_page.import").click().run()
    batch = int(ingest.list_batches(work_db)["batch_id"].max())
    at.button(key=f"data_page.undo.{batch}").click().run()
    done = next(s.value for s in at.success if "undone" in s.value)
    assert "1 row removed, 1 customer removed, 0 customers restored" in done   # C00001 was new


def test_customers_only_are_not_an_empty_database(tmp_path, monkeypatch):
    db = tmp_path / "new.duckdb"
    monkeypatch.setenv("CRM_DB", str(db))
    at = open_page("data", "en")
    upload(at, "customers", "customers.csv", (SAMPLES / "customers.csv").read_bytes())
    at.button(key="data_page.import").click().run()
    assert "80 customers · 0 transactions" in sidebar_rows()
    notes = [i.value for i in at.sidebar.info]
    assert not any("The database is empty" in n for n in notes)
    assert any(n.startswith("No transactions or interactions yet") for n in notes)
    overview = open_page("overview", "en")    # a page that needs a date says the same
    assert any(i.value.startswith("No transactions or interactions yet") for i in overview.info)


def test_preview_shows_missing_values_as_empty_cells(work_db):
    at = open_page("data", "en")
    upload(at, "transactions", "broken.csv", BROKEN)
    preview = next(d for d in at.dataframe if "ok" in d.value.columns)
    assert preview.value.isna().any().any()   # the file leaves cells empty...
    assert preview.proto.HasField("placeholder") and preview.proto.placeholder == ""   # not "None"


@pytest.mark.parametrize("lang, saved", [("en", "Amounts are now shown with £."),
                                         ("zh", "金额现在用 £ 显示。")])
def test_the_currency_chosen_on_the_data_page_shows_on_every_page(work_db, lang, saved):
    version = store.data_version(work_db)
    at = open_page("data", lang)
    choice = at.selectbox(key="data_page.currency")
    assert choice.value == "¥"
    choice.set_value("£").run()
    assert not at.exception
    assert saved in [s.value for s in at.success]
    assert at.selectbox(key="data_page.currency").value == "£"
    # a setting, not data: the data version (and every page prepared for it) stays
    assert store.data_version(work_db) == version
    at.switch_page("views/overview.py").run()
    revenue = next(m for m in at.metric if m.label in ("Revenue (12 months)", "近12个月收入"))
    assert revenue.value.startswith("£") and "£" in revenue.proto.help
    at.switch_page("views/review.py").run()
    assert not at.exception
    assert any("£" in m.value for m in at.markdown) and not any("¥" in m.value for m in at.markdown)
