"""Compact money in both languages, and the exact amount it rounds."""
import pandas as pd

from ui.format import POINTS, exact_money, in_points, money, money_help


def test_money_english():
    assert money(435_396_000, "en", "¥") == "¥435.4M"
    assert money(76_940_812.34, "en", "¥") == "¥76.9M"
    assert money(-1_234, "en", "¥") == "-¥1.2K"
    assert money(999, "en", "¥") == "¥999"
    assert money(None, "en", "¥") == "—"


def test_money_chinese_three_digits_whole_wan_from_a_million():
    assert money(435_396_000, "zh", "¥") == "¥4.35亿"
    assert money(76_940_812.34, "zh", "¥") == "¥7,694万"    # not ¥7,694.08万, which a card cuts
    assert money(12_422_900, "zh", "¥") == "¥1,242万"
    assert money(7_690_000, "zh", "¥") == "¥769万"
    assert money(123_456, "zh", "¥") == "¥12.3万"
    assert money(43_500, "zh", "¥") == "¥4.35万"
    assert money(9_999, "zh", "¥") == "¥9,999"
    assert money(-2_500_000_000, "zh", "¥") == "-¥25.0亿"


def test_exact_amount_to_the_cent_in_the_help():
    assert exact_money(76_940_812.34, "¥") == "¥76,940,812.34"
    assert exact_money(-20, "¥") == "-¥20.00"
    assert money_help("Net revenue.", 1234.5, "en", "¥") == "Net revenue.\n\nExact amount: ¥1,234.50"
    assert money_help(None, 1234.5, "zh", "¥") == "精确金额：¥1,234.50"


def test_a_sub_metric_value_reads_in_its_unit():
    from ui.format import quantity
    assert quantity(20100, "money", "en", "¥") == "¥20,100.00"
    assert quantity(0.8125, "share", "en", "¥") == "81.2%"       # Python rounds half to even
    assert quantity(0.81251, "share", "zh", "¥") == "81.3%"
    assert quantity(3.14, "hours", "en", "¥") == "3.1"
    assert quantity(1, "flag", "en", "¥") == "Yes" and quantity(0, "flag", "zh", "¥") == "否"
    assert quantity(12345, "count", "en", "¥") == "12,345"
    assert quantity(float("nan"), "money", "en", "¥") == quantity(None, "count", "zh", "¥") == "—"


def test_shares_in_points_keep_one_decimal_in_every_row():
    frame = pd.DataFrame({"tier": ["high", "low"], "share": [0.016, 0.1496], "n": [1, 2]})
    shown = in_points(frame, ["share"])
    assert shown["share"].tolist() == [1.6, 14.96]
    assert shown[["tier", "n"]].equals(frame[["tier", "n"]]) and frame["share"].iloc[0] == 0.016
    assert [POINTS % v for v in shown["share"]] == ["1.6%", "15.0%"]


def test_money_takes_the_shops_currency_sign():
    assert money(76_940_812.34, "en", "£") == "£76.9M"
    assert money(-1_234, "en", "$") == "-$1.2K"
    assert money(123_456, "zh", "HK$") == "HK$12.3万"
    assert money(999, "en", "") == "999"
    assert exact_money(-20, "€") == "-€20.00"
    assert money_help(None, 1234.5, "en", "£") == "Exact amount: £1,234.50"
    from ui.format import quantity
    assert quantity(20100, "money", "en", "$") == "$20,100.00"
