"""What only a browser shows at a manager's screen width: cards and axes that fit, every page
at its own address. Real headless Chromium (see tests/browser/chromium.py for the set-up)."""
from __future__ import annotations

import math

import pytest

from tests.browser.chromium import (keep_failure, open_by_link, open_root, serving_demo,
                                    wait_idle)

pytestmark = pytest.mark.browser

# Any element of a metric card whose text is wider than its box is cut ("¥7,69…"). A box
# that ends its text with an ellipsis does so at the first pixel too many ("Revenue (12
# mont…" overflowed by 1 px as the browser rounds it); others are allowed that pixel.
CUT_CARD_TEXT = """() => Array.from(document.querySelectorAll(
    '[data-testid="stMetricValue"], [data-testid="stMetricLabel"], [data-testid="stMetricDelta"]'))
    .filter(card => [card, ...card.querySelectorAll('*')].some(e => e.scrollWidth
        > e.clientWidth + (getComputedStyle(e).textOverflow === "ellipsis" ? 0 : 1)))
    .map(card => card.innerText)"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """2,000 customers: 12-month revenue in the tens of millions (¥3,0xx万, ¥30.xM)."""
    with serving_demo(tmp_path_factory.mktemp("layout"), customers=2_000, seed=3) as url:
        yield url


@pytest.fixture
def narrow(browser, request):
    """A page 1,280 px wide, the narrowest screen a manager works on."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    keep_failure(request, pg)
    context.close()


def choose_language(page, server: str, lang: str) -> None:
    open_root(page, server)
    page.locator('[data-testid="stSidebar"]').get_by_text(
        "中文" if lang == "zh" else "English", exact=True).click()
    wait_idle(page)


def open_with_cards(page, slug: str, timeout: float = 120_000) -> None:
    open_by_link(page, slug, timeout)
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=timeout)
    wait_idle(page, timeout)


def test_every_page_opens_by_its_own_address(narrow, server):
    """A bookmark of any page, the first one included, opens that page (no "Page not
    found"), and the root opens the first page at its address."""
    for slug in ("overview", "data", "scoring", "customers", "profile", "rfm", "segments",
                 "risk", "plan", "review", "clv", "audit"):
        narrow.goto(f"{server}/{slug}")
        wait_idle(narrow)
        current = narrow.locator('[data-testid="stSidebarNav"] a[aria-current="page"]')
        current.wait_for(timeout=60_000)
        assert current.get_attribute("href").endswith(f"/{slug}")
        assert narrow.get_by_text("Page not found").count() == 0, slug
    narrow.goto(server)
    narrow.wait_for_url("**/overview", timeout=60_000)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_metric_cards_show_whole_figures_at_1280_px(narrow, server, lang):
    choose_language(narrow, server, lang)
    for slug in ("overview", "risk", "clv", "review", "profile", "plan"):
        open_with_cards(narrow, slug)
        narrow.wait_for_timeout(500)
        assert narrow.evaluate(CUT_CARD_TEXT) == [], slug


# How many pixels a grid's columns are wider than its box (it then scrolls sideways, its last
# column cut at the edge); null until the grid is drawn.
GRID_OVERFLOW = """grid => { const scroller = grid.querySelector('.dvn-scroller');
    return scroller ? scroller.scrollWidth - scroller.clientWidth : null; }"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_tier_mix_table_shows_every_column_at_1280_px(narrow, server, lang):
    """The Scoring page's tier mix, five columns in two thirds of the page: its last column
    ("Share of rever…") was cut in English."""
    choose_language(narrow, server, lang)
    open_with_cards(narrow, "scoring")
    mix = narrow.locator('[data-testid="stDataFrame"]').first
    mix.wait_for(timeout=120_000)
    narrow.wait_for_function(f"grid => ({GRID_OVERFLOW})(grid) !== null",
                             arg=mix.element_handle(), timeout=120_000)
    assert mix.evaluate(GRID_OVERFLOW) <= 1


# Any button (a download's too) whose label is wider than its box is cut ("Download …").
CUT_BUTTON_TEXT = """() => Array.from(document.querySelectorAll(
    '[data-testid="stDownloadButton"] button, [data-testid="stButton"] button'))
    .filter(b => [b, ...b.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
    .map(b => b.innerText)"""


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_download_buttons_show_their_whole_label_at_1280_px(narrow, server, lang):
    """"Download Excel" read whole beside the lists, not "Download …" squeezed into a sixth
    of the row."""
    choose_language(narrow, server, lang)
    for slug in ("customers", "risk", "plan", "clv"):
        open_by_link(narrow, slug)
        narrow.locator('[data-testid="stDownloadButton"]').first.wait_for(timeout=120_000)
        wait_idle(narrow, 120_000)
        narrow.wait_for_timeout(500)
        assert narrow.evaluate(CUT_BUTTON_TEXT) == [], slug


def is_round(step: float) -> bool:
    """1, 2, 2.5 or 5 times a power of ten."""
    scale = 10 ** math.floor(math.log10(step))
    return any(math.isclose(step / scale, m) for m in (1, 2, 2.5, 5))


def right_axis_ticks(page) -> list[float]:
    """The second y axis's tick values of the page's first chart."""
    chart = page.locator(".js-plotly-plot").first
    chart.locator(".y2tick").first.wait_for(timeout=120_000)
    return [float(t.replace(",", "").replace("k", "e3"))
            for t in chart.locator(".y2tick text").all_text_contents()]


def test_overview_right_axis_has_round_ticks(narrow, server):
    choose_language(narrow, server, "en")
    ticks = right_axis_ticks(narrow)
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:])}
    assert ticks[0] == 0 and len(steps) == 1 and is_round(steps.pop()), ticks


def test_segments_silhouette_axis_has_round_ticks(narrow, server):
    """The elbow chart's silhouette axis had ticks lined up with the inertia's: 0.3632, …"""
    choose_language(narrow, server, "en")
    open_by_link(narrow, "segments")
    ticks = right_axis_ticks(narrow)
    steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1 and is_round(steps.pop()), ticks
    assert all(math.isclose(t, round(t, 2)) for t in ticks), ticks


# The cells of a static table that are cut: wider than their box, or past the page's edge.
CUT_CELLS = """table => Array.from(table.querySelectorAll('td, th'))
    .filter(c => c.scrollWidth > c.clientWidth + 1
                 || c.getBoundingClientRect().right > document.documentElement.clientWidth)
    .map(c => c.innerText)"""


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("slug, heading", [("rfm", "rfm.segments"),
                                           ("segments", "segments.table.title"),
                                           ("profile", "profile.breakdown")])
def test_static_tables_can_be_read_whole_at_1280_px(narrow, server, lang, slug, heading):
    """In grids, RFM's "Recommended stance" and the segments' "Suggested next step" were cut
    at 1,280 px ("Win back within 24 h (s…"), and the profile's percentiles ran past the
    sub-metrics' column; as static tables, their cells wrap."""
    from engine import i18n
    choose_language(narrow, server, lang)
    open_by_link(narrow, slug)
    main = narrow.locator('[data-testid="stMainBlockContainer"]')   # not the navigation's
    main.get_by_text(i18n.t(heading, lang), exact=True).wait_for(timeout=120_000)
    table = main.locator('[data-testid="stTable"]').first
    table.wait_for(timeout=120_000)
    table.scroll_into_view_if_needed()
    last = table.locator("tbody tr td:last-child").all_inner_texts()
    assert last and all(text.strip() for text in last)
    assert table.evaluate(CUT_CELLS) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_risk_heatmap_tags_do_not_run_into_each_other_at_1280_px(narrow, server, lang):
    """The churn risk × demand tag heatmap, four columns in half the page: "Active demand"
    ran into "Potential demand" in English."""
    choose_language(narrow, server, lang)
    open_with_cards(narrow, "risk")
    chart = narrow.locator(".js-plotly-plot").first
    chart.locator(".xtick text").first.wait_for(timeout=120_000)
    boxes = sorted((box["x"], box["x"] + box["width"]) for box in
                   (label.bounding_box() for label in chart.locator(".xtick text").all()))
    assert len(boxes) == 4
    assert all(right <= left for (_, right), (left, _) in zip(boxes, boxes[1:])), boxes
