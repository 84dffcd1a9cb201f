"""Column mapping: automatic by header in Chinese and English, editable, saved by name."""
import json

import pytest

from engine import ingest
from engine.ingest import ImportRejected, mapping


@pytest.mark.parametrize("table, headers, expected", [
    ("customers", ["客户编号", "客户名称", "客户类型", "地区", "客户来源", "首次接触日期", "负责人",
                   "推荐人", "合同到期日"],
     ["customer_id", "name", "customer_type", "region", "source", "first_contact_date", "owner",
      "referred_by", "contract_end"]),
    ("transactions", ["订单编号", "会员ID", "下单时间", "商品名称", "类目", "购买数量", "实付金额",
                      "订单状态", "付款时间"],
     ["txn_id", "customer_id", "txn_date", "product", "category", "quantity", "amount", "status",
      "paid_date"]),
    ("transactions", ["Customer ID", "Order Date", "Total", "Order No."],
     ["customer_id", "txn_date", "amount", "txn_id"]),
    ("interactions", ["客户ID", "来电时间", "工单类型", "沟通渠道", "问题分类", "满意度", "响应时长",
                      "备注", "客服"],
     ["customer_id", "ts", "kind", "channel", "topic", "satisfaction", "response_hours", "note",
      "owner"]),
    ("followups", ["客户编号", "跟进时间", "维护动作", "跟进方式", "客户需求", "跟进结果",
                   "下次跟进日期", "跟进人", "跟进状态"],
     ["customer_id", "ts", "action", "channel", "need", "result", "next_contact_date", "owner",
      "status"]),
])
def test_usual_export_headers_map_automatically(table, headers, expected):
    assert list(mapping.auto_mapping(headers, table).values()) == expected


def test_case_spaces_punctuation_and_units_are_ignored():
    found = mapping.auto_mapping(["CUSTOMER_ID", " txn date ", "金额（元）", "Qty."], "transactions")
    assert found == {"CUSTOMER_ID": "customer_id", " txn date ": "txn_date",
                     "金额（元）": "amount", "Qty.": "quantity"}


def test_better_synonym_wins_and_others_stay_unmapped():
    found = mapping.auto_mapping(["订单金额", "实付金额", "备注"], "transactions")
    assert found == {"订单金额": None, "实付金额": "amount", "备注": None}


def test_given_mapping_overrides_and_the_rest_is_automatic():
    headers = ["客户编号", "下单日期", "实付", "金额"]
    merged = mapping.resolve_mapping(headers, "transactions", {"实付": "amount", "下单日期": "txn_date"})
    assert merged == {"客户编号": "customer_id", "下单日期": "txn_date", "实付": "amount", "金额": None}


def test_a_header_can_be_left_out():
    merged = mapping.merge_mapping(["客户编号", "交易日期", "金额", "备注"], "transactions",
                                   {"备注": None, "金额": ""})
    assert merged["备注"] is None and merged["金额"] is None


def test_given_names_match_headers_loosely():
    merged = mapping.merge_mapping(["Customer ID", "Date", "Amount"], "transactions",
                                   {"customer id": "customer_id"})
    assert merged["Customer ID"] == "customer_id"


@pytest.mark.parametrize("given, code", [
    ({"实付": "amount"}, "unknown_header"),   # and 金额 still maps to amount
    ({"金额": "amout"}, "unknown_target"),
    ({"金额": "amount", "备注": "amount"}, "duplicate_target"),
    ({"金额": None}, "missing_column"),
])
def test_mapping_problems(given, code):
    headers = ["客户编号", "交易日期", "金额", "备注"]
    with pytest.raises(ImportRejected) as caught:
        mapping.resolve_mapping(headers, "transactions", given, file="t.csv")
    assert caught.value.problems[0].code == code
    assert caught.value.problems[0].message("zh")


def test_missing_required_column_names_the_column_in_both_languages():
    with pytest.raises(ImportRejected) as caught:
        mapping.resolve_mapping(["客户编号", "日期"], "transactions", file="t.csv")
    problem = caught.value.problems[0]
    assert problem.target == "amount"
    assert "no column is mapped to amount" in problem.message("en")
    assert "金额" in problem.message("zh")


def test_mapping_frame_round_trip():
    info = ingest.inspect_file(b"\xe5\xae\xa2\xe6\x88\xb7\xe7\xbc\x96\xe5\x8f\xb7,x\nS1,\n,y\n",
                               name="m.csv")
    frame = mapping.mapping_frame(info.headers, "transactions", sample=info.sample)
    assert frame.to_dict("list") == {"header": ["客户编号", "x"], "example": ["S1", "y"],
                                     "column": ["customer_id", ""]}
    frame.loc[1, "column"] = "amount"
    assert mapping.mapping_from_frame(frame) == {"客户编号": "customer_id", "x": "amount"}
    assert mapping.column_choices("transactions")[:3] == ["", "customer_id", "txn_date"]


def test_mapping_json_inline_file_and_saved_form(tmp_path):
    assert mapping.parse_mapping_json('{"下单日期": "txn_date"}') == {"下单日期": "txn_date"}
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"table": "transactions", "mapping": {"实付": "amount"}}),
                    encoding="utf-8")
    assert mapping.parse_mapping_json(str(path)) == {"实付": "amount"}
    for bad in ['{"a": 1}', "[1]", "{nope", "missing.json"]:
        with pytest.raises(ValueError):
            mapping.parse_mapping_json(bad)


def test_saved_mappings(tmp_path):
    db = tmp_path / "m.duckdb"
    ingest.save_mapping(db, "店铺导出", "transactions", {"实付": "amount"})
    ingest.save_mapping(db, "店铺导出", "transactions", {"实付款": "amount"})
    ingest.save_mapping(db, "CRM", "customers", {"ID": "customer_id"})
    assert ingest.load_mapping(db, "店铺导出") == ("transactions", {"实付款": "amount"})
    listed = ingest.list_mappings(db, "transactions")
    assert listed["name"].tolist() == ["店铺导出"]
    assert len(ingest.list_mappings(db)) == 2
    ingest.delete_mapping(db, "CRM")
    with pytest.raises(KeyError):
        ingest.load_mapping(db, "CRM")


def test_no_synonym_is_claimed_by_two_columns_of_a_table():
    from engine.ingest.parse import normalise
    for table, synonyms in mapping.SYNONYMS.items():
        seen = {}
        for column, words in synonyms.items():
            for word in (column, *words):
                key = normalise(word)
                assert seen.setdefault(key, column) == column, (table, word)
