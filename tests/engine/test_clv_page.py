"""What the Lifetime value page shows besides the models (engine.clv_page): the lenses
of five hand-made customers in words, the calibration end offered, the top chart."""
from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from engine.clv_page import (LENSES, calibration_choice, lens_columns, rows_of, top_customers,
                             top_for_chart)
from engine.words import id_and_name

# revenue 500, 300, 300, 100, 0 of 5 customers: ranks 1, 2, 2, 4, 5; rank / 5 = 20 % is
# gold, 40 % and 80 % iron, revenue 0 always lead (DESIGN §4.2).
FEATURES = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4", "C5"],
                         "name": ["Ann", "Bo", "Cy", None, "Ed"],
                         "revenue_12m": [500.0, 300.0, 300.0, 100.0, 0.0]})
TIERS = pd.Series(pd.Categorical(["high", "potential", "potential", "ordinary", "ordinary"]))
SEGMENTS = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "segment": [2, 1, 1, 2],
                         "segment_name": ["Small", "Big", "Big", "Small"]})


def test_every_customers_lenses_in_words():
    lenses, categories = lens_columns(FEATURES, TIERS, "en", segments=SEGMENTS)
    assert lenses["tier"].tolist() == ["High value", "Potential", "Potential", "Ordinary",
                                       "Ordinary"]
    assert lenses["pyramid"].tolist() == ["Gold", "Iron", "Iron", "Iron", "Lead"]
    assert lenses["revenue_rank"].tolist() == [1, 2, 2, 4, 5]
    assert lenses["segment"].tolist()[:4] == ["2 · Small", "1 · Big", "1 · Big", "2 · Small"]
    assert pd.isna(lenses["segment"].iloc[4])                 # C5 is in no segment
    assert lenses["name"].tolist()[:3] == ["Ann", "Bo", "Cy"]
    assert categories == {"tier": ["High value", "Potential", "Ordinary"],
                          "pyramid": ["Platinum", "Gold", "Iron", "Lead"],
                          "segment": ["1 · Big", "2 · Small"]}
    assert set(LENSES) == set(categories)


def test_without_segments_the_segment_lens_is_empty():
    lenses, categories = lens_columns(FEATURES, TIERS, "zh")
    assert lenses["segment"].isna().all() and categories["segment"] == []
    assert categories["tier"] == ["高价值", "潜力", "普通"]


def test_the_calibration_end_offered():
    as_of = date(2024, 6, 30)     # six months before: 2023-12-31; latest end 28 days before T
    assert calibration_choice(date(2023, 1, 1), as_of) == (date(2023, 12, 31), date(2023, 4, 1),
                                                           date(2024, 6, 2))
    # a short history: the default is moved up to 90 days after the first event
    assert calibration_choice(date(2024, 3, 1), as_of) == (date(2024, 5, 30), date(2024, 5, 30),
                                                           date(2024, 6, 2))
    assert calibration_choice(date(2024, 4, 1), as_of) is None


def test_the_top_chart_labels_id_and_name():
    table = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "name": ["Ann", None, "Cy"],
                          "clv_12m": [10.0, 30.0, np.nan]})
    top = top_for_chart(table, 5)
    assert top["customer_id"].tolist() == ["C2", "C1"]          # no value, no place
    assert top["label"].tolist() == ["C2 · ", "C1 · Ann"]
    assert id_and_name(table).tolist() == ["C1 · Ann", "C2 · ", "C3 · Cy"]


@given(st.lists(st.tuples(st.sampled_from(["C1", "C2", "C3", "C10", "C11", "D4"]),
                          st.one_of(st.none(), st.sampled_from([0.0, 5.0, 5.0, 12.5, -1.0]),
                                    st.floats(0, 100))),
                max_size=40, unique_by=lambda r: r[0]),
       st.integers(0, 8))
def test_the_top_customers_are_the_head_of_the_whole_sort(rows, n):
    table = pd.DataFrame(rows, columns=["customer_id", "clv_12m"]).astype({"clv_12m": float})
    whole = table[table["clv_12m"].notna()].sort_values(["clv_12m", "customer_id"],
                                                       ascending=[False, True])
    pd.testing.assert_frame_equal(top_customers(table, n), whole.head(n).reset_index(drop=True))


@given(st.lists(st.sampled_from(["C1", "C2", "C10", "客户3", ""]), max_size=12),
       st.lists(st.sampled_from(["C1", "C2", "C10", "客户3", "", "C9"]), max_size=12))
def test_rows_of_finds_each_key_where_it_first_is(keys, wanted):
    first = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    got = rows_of(pd.Series(keys, dtype="str"), pd.Series(wanted, dtype="str"))
    assert got.tolist() == [first.get(key, -1) for key in wanted]
