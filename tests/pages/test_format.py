"""Compact money in both languages."""
from ui.format import money


def test_money_english():
    assert money(435_396_000, "en") == "¥435.4M"
    assert money(-1_234, "en") == "-¥1.2K"
    assert money(999, "en") == "¥999"
    assert money(None, "en") == "—"


def test_money_chinese():
    assert money(435_396_000, "zh") == "¥4.35亿"
    assert money(123_456, "zh") == "¥12.35万"
    assert money(9_999, "zh") == "¥9,999"
