"""The RFM page: R × F grids of customers and revenue, segments with their stance.

The first test covers engine.scoring.rfm_grid on hand-made data.
"""
import json

import pandas as pd
import pytest

from engine import i18n, scoring, store
from engine.features import customer_features
from tests.conftest import open_page
from tests.helpers import plotly_array as values
from ui.format import money


def test_rfm_grid_counts_buyers_per_cell():
    frame = pd.DataFrame({"r": pd.array([5, 5, 1, None], "Int64"),
                          "f": pd.array([1, 1, 5, None], "Int64")})
    grid = scoring.rfm_grid(frame, [10.0, 5.0, 7.0, 100.0])
    assert len(grid) == 25
    assert list(grid[["r", "f"]].iloc[0]) == [5, 1] and list(grid[["r", "f"]].iloc[-1]) == [1, 5]
    cell = grid.set_index(["r", "f"])
    assert cell.loc[(5, 1), "customers"] == 2 and cell.loc[(5, 1), "revenue"] == 15.0
    assert cell.loc[(1, 5), "customers"] == 1 and cell.loc[(1, 5), "revenue"] == 7.0
    assert grid["customers"].sum() == 3  # the non-buyer is not in the grid


def engine_rfm(db):
    with store.connect(db) as con:
        features = customer_features(con, as_of=store.date_range(con)[1])
    return features, scoring.rfm(features)


def test_heatmaps_show_the_grid(app_db):
    features, grid = engine_rfm(app_db)
    cells = scoring.rfm_grid(grid, features["revenue_12m"]).set_index(["r", "f"])
    at = open_page("rfm", "en")
    assert not at.exception
    assert at.title[0].value == "RFM analysis"
    buyers = int(grid["r"].notna().sum())
    assert f"{buyers:,} of {len(features):,} customers bought" in at.caption[0].value
    counts, revenue = (json.loads(c.proto.spec)["data"][0] for c in at.get("plotly_chart")[:2])
    assert list(counts["y"]) == ["1", "2", "3", "4", "5"]  # R = 5 drawn on top
    z = values(counts["z"])
    assert z[4][0] == cells.loc[(5, 1), "customers"]  # row R = 5, column F = 1
    assert z.sum() == buyers
    assert counts["text"][4][0] == f"{cells.loc[(5, 1), 'customers']:,}"
    assert revenue["text"][4][4] == money(cells.loc[(5, 5), "revenue"], "en", "¥")


def test_segment_table_with_stances(app_db):
    features, grid = engine_rfm(app_db)
    at = open_page("rfm", "en")
    table = at.table[0].value      # a static table, so the stances wrap rather than being cut
    assert list(table["Segment"]) == [i18n.label("rfm", s, "en") for s in scoring.RFM_SEGMENTS]
    counts = grid["rfm_segment"].value_counts()
    assert list(table["Customers"]) == [counts.get(s, 0) for s in scoring.RFM_SEGMENTS]
    assert table["Customer share"].sum() == pytest.approx(1.0)
    champions = table.set_index("Segment").loc["Champions"]
    assert champions["Recommended stance"] == i18n.t("rfm.stance.champions", "en")
    treemap = json.loads(at.get("plotly_chart")[2].proto.spec)["data"][0]
    assert treemap["type"] == "treemap"
    assert set(treemap["labels"]) == {i18n.label("rfm", s, "en") for s in counts[counts > 0].index}


def test_chinese_labels(app_db):
    at = open_page("rfm", "zh")
    assert at.title[0].value == "RFM 分析"
    table = at.table[0].value
    assert "重要价值客户" in set(table["分群"])
    assert table.set_index("分群").loc["已流失", "建议策略"] == i18n.t("rfm.stance.lost", "zh")
