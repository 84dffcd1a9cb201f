"""Downloads a manager forwards as they are: rounded, in words, sheets that read well."""
import io
from datetime import date

import openpyxl
import pandas as pd

from engine.export import column_kind, to_csv_bytes, to_excel_bytes, write_csv

FRAME = pd.DataFrame({
    "customer_id": ["C1", "C2"],
    "revenue_12m": [3492028.359999996, 10.0],
    "score": [94.666667, 60.04],
    "revenue_share": [0.1234, 1 / 3],
    "overdue": [True, False],
    "due_date": pd.to_datetime(["2024-06-01", None]),
    "risk_reasons": ["spend −62 % vs previous 90 days and 2 complaints", ""],
})
HEADERS = {"customer_id": "客户编号", "revenue_12m": "近12个月收入", "score": "评分",
           "revenue_share": "收入占比", "overdue": "已逾期", "due_date": "到期日",
           "risk_reasons": "风险原因"}


def test_columns_are_known_by_their_names():
    assert [column_kind(c) for c in ("revenue_12m", "clv_12m", "score", "interaction",
                                     "customer_share", "p_alive", "frequency")] == [
        "money", "money", "score", "score", "share", "share", None]


def test_csv_rounds_money_and_scores_shares_in_percent_yes_no_in_words():
    text = to_csv_bytes(FRAME, headers=HEADERS, lang="zh").decode("utf-8-sig")
    rows = text.splitlines()
    assert rows[0] == "客户编号,近12个月收入,评分,收入占比,已逾期,到期日,风险原因"
    assert rows[1] == ("C1,3492028.36,94.7,12.3%,是,2024-06-01,"
                       "spend −62 % vs previous 90 days and 2 complaints")
    assert rows[2] == "C2,10.0,60.0,33.3%,否,,"


def test_the_command_lines_csv_keeps_full_precision(tmp_path):
    write_csv(FRAME[["score"]], tmp_path / "x.csv")
    assert "94.666667" in (tmp_path / "x.csv").read_text(encoding="utf-8-sig")


def test_workbook_named_frozen_fitted_with_dates_and_percentages():
    book = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(
        FRAME, sheet_name="维护计划", headers=HEADERS, lang="zh")))
    sheet = book.active
    assert book.sheetnames == ["维护计划"]
    assert sheet.freeze_panes == "A2"                   # the header stays in view
    assert sheet["B2"].value == 3492028.36 and sheet["C2"].value == 94.7
    assert sheet["D2"].value == 0.1234 and sheet["D2"].number_format == "0.0%"
    assert sheet["E2"].value == "是" and sheet["E3"].value == "否"
    assert sheet["F2"].is_date and sheet["F2"].value.date() == date(2024, 6, 1)
    widths = {c: sheet.column_dimensions[c].width for c in "ABG"}
    assert widths["A"] < widths["G"] and widths["G"] >= 40   # the reasons fit, the id is narrow
