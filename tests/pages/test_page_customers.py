"""The Customers page: filters and search, the table, downloads that Excel cannot run, opening a profile."""
import io

import openpyxl
import pandas as pd
import pytest

from engine import profile, scoring, store
from engine.features import customer_features, optional_columns_present
from tests.conftest import open_page
from ui.data import customers as customers_data


def engine_table(db):
    with store.connect(db) as con:
        as_of = store.date_range(con)[1]
        features = customer_features(con, as_of=as_of)
        available = optional_columns_present(con, as_of=as_of)
    return profile.customer_table(features, scoring.score_customers(features, available=available),
                                  scoring.rfm(features), scoring.pyramid(features))


def test_every_customer_best_score_first(app_db):
    table = engine_table(app_db)
    at = open_page("customers", "en")
    assert not at.exception
    assert at.title[0].value == "Customers"
    assert any(f"**{len(table):,}** of {len(table):,} customers match" in m.value for m in at.markdown)
    shown = at.dataframe[0].value
    expected = profile.filter_customers(table)
    assert list(shown["customer_id"]) == list(expected["customer_id"])
    assert shown["score"].tolist() == pytest.approx(expected["score"].tolist())
    assert set(shown["tier"]) <= {"High value", "Potential", "Ordinary"}


def test_the_list_puts_its_first_rows_in_words_and_counts_every_match(app_db):
    table = engine_table(app_db)
    version = store.data_version(app_db)
    with store.connect(app_db) as con:
        as_of = store.date_range(con)[1]
    weights = tuple(scoring.DEFAULT_WEIGHTS[d] for d in scoring.DIMENSIONS)
    listed = customers_data.customer_list.scoped(
        str(app_db), version, as_of, weights, scoring.DEFAULT_THRESHOLDS, {"tiers": ("high",)},
        "", "zh", False, 5, owner=None)
    high = profile.filter_customers(table, tiers=("high",))
    assert listed["count"] == len(high) > 5
    assert list(listed["table"]["customer_id"]) == list(high["customer_id"].head(5))
    assert set(listed["table"]["tier"]) == {"高价值"}


def test_filter_search_and_download(app_db, downloads):
    table = engine_table(app_db)
    owner = table["owner"].value_counts().index[0]
    at = open_page("customers", "en")
    at.multiselect(key="customers.filter.tiers").select("ordinary").run()
    at.multiselect(key="customers.filter.owners").select(owner).run()
    at.text_input(key="customers.search").input("c00").run()
    assert not at.exception
    expected = profile.filter_customers(table, tiers=["ordinary"], owners=[owner], search="c00")
    assert 0 < len(expected) < len(table)
    assert any(f"**{len(expected):,}** of {len(table):,} customers match" in m.value
               for m in at.markdown)
    assert list(at.dataframe[0].value["customer_id"]) == list(expected["customer_id"])

    csv_name, xlsx_name = sorted(downloads)  # customers_<T>.csv and .xlsx
    assert csv_name.endswith(".csv") and xlsx_name.endswith(".xlsx")
    csv = downloads[csv_name]
    assert csv.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM for Excel
    rows = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype={"Customer ID": str})
    assert list(rows["Customer ID"]) == list(expected["customer_id"])
    assert set(rows["Tier"]) == {"Ordinary"} and set(rows["Owner"]) == {owner}
    assert rows["Score"].tolist() == expected["score"].round(1).tolist()   # one decimal
    sheet = pd.read_excel(io.BytesIO(downloads[xlsx_name]), dtype={"Customer ID": str})
    assert list(sheet["Customer ID"]) == list(expected["customer_id"])


def test_downloads_cannot_run_as_formulas(work_db, downloads):
    with store.write(work_db) as con:
        con.execute("UPDATE customers SET name = '=HYPERLINK(\"http://evil\",\"x\")' "
                    "WHERE customer_id = (SELECT min(customer_id) FROM customers)")
    at = open_page("customers", "en")
    at.text_input(key="customers.search").input("hyperlink").run()
    csv = next(v for k, v in downloads.items() if k.endswith(".csv"))
    rows = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert list(rows["Name"]) == ["'=HYPERLINK(\"http://evil\",\"x\")"]
    xlsx = next(v for k, v in downloads.items() if k.endswith(".xlsx"))
    cell = openpyxl.load_workbook(io.BytesIO(xlsx)).active["B2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil","x")'   # text, as typed


def test_no_match_says_so(app_db):
    at = open_page("customers", "en")
    at.text_input(key="customers.search").input("no such customer").run()
    assert at.info[0].value == "No customer matches these filters."
    assert not at.download_button


def test_choosing_a_row_opens_the_profile(app_db):
    table = profile.filter_customers(engine_table(app_db))
    at = open_page("customers", "en")
    at.session_state["customers.table"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    customer = table["customer_id"].iloc[2]
    assert at.session_state["profile.customer"] == customer
    assert at.title[0].value == "Customer profile"
    assert at.selectbox[0].value == customer


def test_chinese_labels(app_db):
    at = open_page("customers", "zh")
    assert at.title[0].value == "客户列表"
    assert at.multiselect(key="customers.filter.tiers").label == "价值等级"
    assert set(at.dataframe[0].value["tier"]) <= {"高价值", "潜力", "普通"}
    assert [b.label for b in at.download_button] == ["下载 CSV", "下载 Excel"]


def test_filters_survive_a_visit_to_another_page(app_db):
    at = open_page("customers", "en")
    at.multiselect(key="customers.filter.tiers").select("high").run()
    at.text_input(key="customers.search").input("C0").run()
    at.switch_page("views/rfm.py").run()
    at.switch_page("views/customers.py").run()
    assert at.multiselect(key="customers.filter.tiers").value == ["high"]
    assert at.text_input(key="customers.search").value == "C0"
