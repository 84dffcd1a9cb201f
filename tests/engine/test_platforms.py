"""The shop platforms' own order exports import in one step (DESIGN §3).

One realistic file per platform in tests/corpus/platforms (made-up buyers; see
make_platforms.py there). Each is recognised from its headers, mapped, and its
orders counted; the purchases and spend per buyer are worked out by hand from
the files: cancelled and unpaid orders count nothing, an order of several lines
is one purchase.
"""
from datetime import date

import pytest

from engine import ingest, store
from engine.features import customer_features
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "corpus" / "platforms"

CASES = [
    # file, platform, options, as_of, {buyer: (purchases_6m, spend_6m)}
    ("taobao_ExportOrderList.csv", "taobao", {}, date(2024, 3, 31),
     {"小鱼爱喝茶": (1, 118.0), "tb_lanlan88": (1, 189.0)}),     # closed; unpaid
    ("jd_orders.csv", "jd", {}, date(2024, 3, 31),
     {"jd_user_wang": (1, 168.0), "jd_zhao_2024": (1, 89.0)}),   # 已取消 counts nothing
    ("pinduoduo_orders.csv", "pinduoduo", {}, date(2024, 3, 31),
     {"13800000003": (1, 34.8), "13800000004": (1, 40.0)}),
    ("youzan_orders.csv", "youzan", {}, date(2024, 3, 31),
     {"阿杰的咖啡": (1, 98.0), "木木": (0, 0.0)}),                # two lines, one order
    ("douyin_orders.csv", "douyin", {}, date(2024, 3, 31),
     {"13700000007": (1, 138.9), "13700000008": (0, 0.0)}),      # two sub-orders: 119 + 19.90
    ("wechat_shop_orders.xlsx", "wechat_shop", {}, date(2024, 3, 31),
     {"清风徐来": (1, 50.0), "小太阳": (1, 25.0)}),
    ("shopify_orders_export.csv", "shopify", {}, date(2024, 3, 31),
     {"emma@example.com": (1, 40.0), "liam@example.com": (0, 0.0)}),
    ("woocommerce_orders.csv", "woocommerce", {}, date(2024, 3, 31),
     {"olivia@example.com": (1, 35.0), "noah@example.com": (0, 0.0)}),
    # 536365 has two lines (15.30 + 20.34), 536366 one (11.10); C536379 takes 27.50 back;
    # the jam set has no buyer and is skipped
    ("online_retail.csv", "online_retail", {"skip_invalid": True}, date(2010, 12, 31),
     {"17850": (2, 46.74), "14527": (0, -27.5), "13047": (1, 54.08)}),
    ("online_retail_II.xlsx", "online_retail", {"sheet": "all"}, date(2011, 1, 31),
     {"13313": (1, 15.6)}),                                       # 19.50 - 3.90
]


@pytest.mark.parametrize("name, platform, options, as_of, expected", CASES,
                         ids=[c[0] for c in CASES])
def test_platform_export_imports_in_one_step(tmp_path, name, platform, options, as_of, expected):
    db = tmp_path / "shop.duckdb"
    report = ingest.import_file(db, CORPUS / name, "transactions", create_customers=True,
                                today=date(2026, 1, 1), **options)
    assert report.platform == platform
    assert report.other_values == {}          # every state word is known
    with store.connect(db) as con:
        features = customer_features(con, as_of=as_of).set_index("customer_id")
    found = {c: (int(features.loc[c, "purchases_6m"]), round(features.loc[c, "spend_6m"], 2))
             for c in expected}
    assert found == expected


def test_the_mapping_of_a_platform_is_said_and_what_it_chose(tmp_path):
    info = ingest.inspect_file(CORPUS / "taobao_ExportOrderList.csv")
    assert info.encoding == "gb18030"
    platform = ingest.detect_platform(info.headers)
    assert platform.key == "taobao"
    mapping = ingest.platform_mapping(platform, info.headers)
    assert mapping["买家实际支付金额"] == "amount" and mapping["买家会员名"] == "customer_id"
    # the report writes some headers with a trailing space ("订单付款时间 "): trimmed, they match
    assert mapping["订单付款时间"] == "paid_date" and mapping["宝贝标题"] == "product"


def test_a_file_of_no_platform_is_not_taken_for_one():
    assert ingest.detect_platform(["客户编号", "交易日期", "金额", "订单编号"]) is None


REPEATED = (CORPUS / "woocommerce_orders.csv").read_text("utf-8").replace(
    "2001,,,,,,,,,,,2,Tea Towel",   # the export's other layout: order fields on every line
    "2001,Completed,2024-03-05 09:00,Olivia,Wang,olivia@example.com,555-0101,30.00,5.00,35.00,"
    "Credit Card,2,Tea Towel")


@pytest.mark.parametrize("text, spend, note", [
    (REPEATED, 35.0, "“Order Total Amount” repeats the order's total on every line of the "
                     "order: taken once for its 1 order."),
    # lines that hold amounts of their own (35 and 10) are the lines' amounts: summed
    (REPEATED.replace("35.00,Credit Card,2,Tea", "10.00,Credit Card,2,Tea"), 45.0, None),
], ids=["total on every line", "amounts of the lines"])
def test_an_order_total_repeated_on_each_line_is_taken_once(tmp_path, text, spend, note):
    path = tmp_path / "orders.csv"
    path.write_text(text, "utf-8")
    db = tmp_path / "w.duckdb"
    report = ingest.import_file(db, path, "transactions", create_customers=True,
                                today=date(2026, 1, 1))
    with store.connect(db) as con:
        features = customer_features(con, as_of=date(2024, 3, 31)).set_index("customer_id")
    assert (features.loc["olivia@example.com", "purchases_6m"],
            round(features.loc["olivia@example.com", "spend_6m"], 2)) == (1, spend)
    assert (note in report.summary()) if note else ("repeats" not in report.summary())
