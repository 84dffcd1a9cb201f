"""Code columns in the reader's words (engine.words.in_words)."""
import pandas as pd

from engine.words import RISK_CODES, in_words


def test_codes_read_in_the_readers_language_and_the_table_is_left_as_it_was():
    table = pd.DataFrame({"customer_id": ["C1", "C2", "C3"],
                          "tier": pd.Categorical(["high", "ordinary", None]),
                          "risk_level": ["low", "high", "low"]})
    words = in_words(table, "en", {"tier": "tier", "risk_level": "risk"})
    assert words["tier"].tolist()[:2] == ["High value", "Ordinary"]
    assert pd.isna(words["tier"].iloc[2])
    assert words["risk_level"].tolist() == ["Low risk", "High risk", "Low risk"]
    assert words["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert table["risk_level"].tolist() == ["low", "high", "low"]     # a copy was changed
    assert in_words(table, "zh", {"risk_level": "risk"})["risk_level"].tolist() == [
        "低风险", "高风险", "低风险"]


def test_columns_the_table_lacks_are_skipped_and_unknown_codes_shown_as_stored():
    table = pd.DataFrame({"action": ["visit", "dance"]})
    assert in_words(table, "en", RISK_CODES)["action"].tolist() == ["Exclusive visit", "dance"]

