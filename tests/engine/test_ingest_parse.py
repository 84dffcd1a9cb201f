"""Value parsers of the import: every accepted spelling, and what is refused."""
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.ingest import parse
from engine.ingest.parse import parse_values


@pytest.mark.parametrize("text, expected", [
    ("2024-01-15", date(2024, 1, 15)),
    ("2024-1-5", date(2024, 1, 5)),
    ("2024/1/15", date(2024, 1, 15)),
    ("2024/01/15", date(2024, 1, 15)),
    ("2024.1.15", date(2024, 1, 15)),
    ("2024年1月15日", date(2024, 1, 15)),
    ("2024 年 1 月 15 日", date(2024, 1, 15)),
    ("20240115", date(2024, 1, 15)),
    ("15.01.2024", date(2024, 1, 15)),
    ("15/01/2024", date(2024, 1, 15)),
    ("45306", date(2024, 1, 15)),            # Excel serial
    ("45306.75", date(2024, 1, 15)),         # Excel serial with a time of day
    ("2024-01-15 10:30:00", date(2024, 1, 15)),
    ("2024/1/15 9:05", date(2024, 1, 15)),
    (" 2024-01-15\u3000", date(2024, 1, 15)),
])
def test_dates(text, expected):
    assert parse_values("date", [text]) == [expected]


@pytest.mark.parametrize("text", ["abc", "2024-02-30", "2024-13-01", "2024115", "2024",
                                  "15.01.24", "next week"])
def test_dates_refused(text):
    assert parse_values("date", [text]) == [None]


def test_empty_and_null_markers_are_no_value():
    assert parse_values("date", ["", None, "N/A", "-", "null"]) == [None] * 5


def test_year_last_dates_follow_day_first():
    assert parse_values("date", ["01/02/2024"], day_first=True) == [date(2024, 2, 1)]
    assert parse_values("date", ["01/02/2024"], day_first=False) == [date(2024, 1, 2)]
    assert parse_values("date", ["15.01.2024"], day_first=False) == [None]
    assert parse_values("date", ["01/15/2024"], day_first=False) == [date(2024, 1, 15)]


def test_day_first_is_guessed_from_a_sample():
    assert parse.guess_day_first(["15.01.2024", "02.03.2024"]) is True
    assert parse.guess_day_first(["01/15/2024", "03/02/2024"]) is False
    assert parse.guess_day_first(["01/02/2024"]) is None
    assert parse.guess_day_first(["2024-01-15", "abc"]) is None
    assert parse.guess_day_first(["15.01.2024", "01/15/2024"]) is None


@pytest.mark.parametrize("text, expected", [
    ("2024-01-15 10:30", datetime(2024, 1, 15, 10, 30)),
    ("2024-01-15T10:30:00.5", datetime(2024, 1, 15, 10, 30, 0, 500000)),
    ("2024/1/15 9:05", datetime(2024, 1, 15, 9, 5)),
    ("2024年1月15日 10时5分", datetime(2024, 1, 15, 10, 5)),
    ("2024年1月15日 10:05", datetime(2024, 1, 15, 10, 5)),
    ("20240115103000", datetime(2024, 1, 15, 10, 30)),
    ("45306.75", datetime(2024, 1, 15, 18, 0)),
    ("2024-01-15", datetime(2024, 1, 15)),
    ("15.01.2024 08:00", datetime(2024, 1, 15, 8, 0)),
])
def test_timestamps(text, expected):
    assert parse_values("timestamp", [text]) == [expected]


@pytest.mark.parametrize("text, expected", [
    ("1234.5", "1234.50"),
    ("1,234.50", "1234.50"),
    ("¥1,234.50", "1234.50"),
    ("￥12", "12.00"),
    ("$12", "12.00"),
    ("€12", "12.00"),
    ("RMB 1,000", "1000.00"),
    ("12元", "12.00"),
    ("-12", "-12.00"),
    ("−7", "-7.00"),
    ("¥-5", "-5.00"),
    ("-¥5", "-5.00"),
    ("(12.00)", "-12.00"),
    ("（3.5）", "-3.50"),
    ("12.00-", "-12.00"),
    ("1.234,50", "1234.50"),
    ("12,5", "12.50"),
    (" 12 ", "12.00"),
    ("12.345", "12.35"),
])
def test_amounts(text, expected):
    assert parse_values("amount", [text]) == [Decimal(expected)]


@pytest.mark.parametrize("text", ["abc", "1,23,4", "1.2.3", "12 34", "¥", "十二元", "--5"])
def test_amounts_refused(text):
    assert parse_values("amount", [text]) == [None]


def test_numbers():
    assert parse_values("number", ["3", "3件", "2 小时", "1,000", "1.5h", "-2", "1e3"]) == [
        3.0, 3.0, 2.0, 1000.0, 1.5, -2.0, 1000.0]
    assert parse_values("number", ["x", "nan", "inf", "1,00"]) == [None, None, None, 1.0]


def test_response_hours_written_in_minutes_or_as_clock_time_are_hours():
    assert parse_values("hours", ["2", "1.5h", "2 小时", "30分钟", "45分", "90 min", "30 mins",
                                  "1:30", "0:45:00"]) == [
        2.0, 1.5, 2.0, 0.5, 0.75, 1.5, 0.5, 1.5, 0.75]
    assert parse_values("hours", ["x", "1:75", "1:30:60", "分钟"]) == [None, None, None, None]


def test_ratings():
    assert parse_values("rating", ["5", "5分", "★★★★", "4.0", "1"]) == [5, 5, 4, 4, 1]
    assert parse_values("rating", ["4.5", "6", "0", "x", ""]) == [None] * 5


def test_ids_and_text_are_trimmed_and_unwrapped():
    assert parse_values("id", ['="00123"', "'00123", " S1 ", "=12", "\u3000S2\t"]) == [
        "00123", "00123", "S1", "12", "S2"]
    assert parse_values("text", [" a ", "x y", "\u00a0b", "NULL", "——", "-5"]) == [
        "a", "x y", "b", None, None, "-5"]


@pytest.mark.parametrize("vocabulary, texts, codes", [
    ("kind", ["投诉", "Complaint", "咨询", "售后咨询", "反馈", "拜访", "活动", "推荐", "其他"],
     ["complaint", "complaint", "consultation", "consultation", "feedback", "visit", "event",
      "referral", "other"]),
    ("channel", ["电话", "Phone", "邮件", "E-mail", "在线客服", "上门", "微信", "WeChat", "短信"],
     ["phone", "phone", "email", "email", "online", "visit", "wechat", "wechat", "sms"]),
    ("txn_status", ["已支付", "交易成功", "PAID", "已退款", "退货", "refunded"],
     ["paid", "paid", "paid", "refunded", "refunded", "refunded"]),
    ("followup_status", ["跟进中", "In Progress", "in_progress", "已完成", "暂停"],
     ["in_progress", "in_progress", "in_progress", "done", "paused"]),
    ("action", ["专属拜访", "关怀联系", "沉睡唤醒", "流失挽回", "Win-Back", "wake up"],
     ["visit", "care", "wake_up", "win_back", "win_back", "wake_up"]),
])
def test_codes_in_chinese_and_english(vocabulary, texts, codes):
    assert parse_values("code", texts, vocabulary=vocabulary) == codes


def test_unknown_codes_become_other_and_labels_stay():
    assert parse_values("code", ["电话", "xyz", None], vocabulary="kind") == [
        "other", "other", None]
    assert parse_values("label", ["企业", "个人", "家庭"], vocabulary="customer_type") == [
        "enterprise", "individual", "家庭"]
    assert parse_values("label", ["淘宝", "门店", "地推"], vocabulary="source") == [
        "online_shop", "store", "地推"]


def test_no_synonym_means_two_codes():
    table = parse.code_table()
    assert not table.duplicated(["vocabulary", "key"]).any()


def test_normalise_ignores_case_spaces_punctuation_and_width():
    assert parse.normalise(" Customer_ID ") == "customerid"
    assert parse.normalise("客户 编号：") == "客户编号"
    assert parse.normalise("ＩＤ") == "id"


# Cells of ids, with every sign an id step looks for, as ASCII and in full width.
_ID_PARTS = ["C001", "13085", ".0", ".5", "=", "'", '"', "@", "Shop.CN", "AB", " ",
             "Ｃ００１", "＝", "＂", "＇", "．０", "＠", "Ｓｈｏｐ"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_ID_PARTS), min_size=1, max_size=4).map("".join),
                min_size=1, max_size=6))
def test_an_id_macro_without_the_steps_a_file_cannot_need_cleans_as_the_whole_one(ids):
    """id_macro leaves out a step whose byte the file never holds; on the ids of any
    such file it must give what the macro with every step gives."""
    held = {b for i in ids for b in i.encode()}
    absent = frozenset(parse.ID_BYTES - held)
    con = duckdb.connect()
    try:
        cleaned = []
        for macro in (parse.id_macro(), parse.id_macro(absent)):
            con.execute(macro)
            cleaned.append(con.execute("SELECT list(ingest_id(s) ORDER BY k) FROM "
                                       "(SELECT unnest($ids) AS s, generate_subscripts($ids, 1) AS k)",
                                       {"ids": ids}).fetchone()[0])
    finally:
        con.close()
    assert cleaned[1] == cleaned[0]


@pytest.mark.parametrize("absent, steps", [
    (frozenset(), 4),                       # full width possible: every step
    (frozenset(b"='@"), 4),                 # a full-width ＝ or ＠ is one once made ASCII
    (frozenset(b"='@\xef"), 1),             # only the float id step (the file has '.')
    (frozenset(b"='.@\xef"), 0),            # an id is taken as it stands
])
def test_an_id_macro_holds_the_steps_a_file_may_need(absent, steps):
    macro = parse.id_macro(absent)
    found = sum(step in macro for step in ("starts_with(s, '=')", "contains(s, '.')",
                                           "contains(s, '@')", "strlen(s) <> length(s)"))
    assert found == steps
