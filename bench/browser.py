"""The benchmark's browser steps: what a manager waits for in real headless Chromium.

Each page's first load on a fresh server (nothing cached: the time from
asking for the address to the page drawn and idle), and a drag of the
Scoring page's consumption slider one step until the rerun it starts is
drawn (the sentence "… customers move up a tier …" rewritten among the
rest), beside the same round trip of a bare Streamlit app (one slider, one
line of text) served in the same run. The servers and the
browser are the test suite's (tests/browser/chromium.py), started untimed in each
step's preparation.
"""
from __future__ import annotations

import functools
import time
from pathlib import Path

from bench.steps import BASELINES, SETUP, STEPS, Step, Workspace
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, IDLE, start_streamlit

# Pages in the navigation's order, by address.
PAGES = ("overview", "data", "scoring", "customers", "profile", "rfm", "segments", "clv",
         "risk", "plan", "review", "audit")
# Drawn and idle: the page's first element (its title, the bare app's slider) drawn, no
# script running, no spinner or progress bar, every element drawn (none still a grey
# skeleton) and every chart drawn, for SETTLED_S.
# The app's own script-run state is the signal that counts: Streamlit draws its "running"
# widget only after a delay, so a page busy in a query without a spinner looked idle.
# Streamlit's browser code loads each kind of element's own code the first time a page
# shows one, and until then draws a skeleton in its place: once the script had finished,
# a first load of a page with charts still showed some 20 skeletons and no chart for
# another second or more. Those are part of the wait.
READY = f"""drawn => !!document.querySelector(drawn) && {IDLE}
    && !document.querySelector('[data-testid="stSpinner"], [data-testid="stProgress"]')
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(chart => chart.querySelector(".main-svg"))"""
SETTLED_S = 0.3
TIMEOUT_MS = 600_000
BARE_APP = '''import streamlit as st
value = st.slider("Consumption", 0, 100, 40, key="w")
st.markdown(f"**{value}** customers move up a tier")
'''
# The same with one small plotly chart: the floor of a first load of a page with a chart
# (plotly's browser code is the largest Streamlit loads: 4.7 MB in Streamlit 1.67).
BARE_CHART_APP = BARE_APP + '''import plotly.graph_objects as go
st.plotly_chart(go.Figure(go.Bar(x=list(range(12)), y=list(range(12)))))
'''
# The sentence a slider move rewrites, on the Scoring page and in the bare app.
SENTENCE = "move up a tier"


def _browser(ws: Workspace):
    """One headless Chromium for the whole run (closed with the workspace)."""
    if "browser" not in ws.cache:
        from playwright.sync_api import sync_playwright
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             headless=True)
        ws.cache["browser"] = browser
        ws.cleanup.append(playwright.stop)
        ws.cleanup.append(browser.close)
    return ws.cache["browser"]


def _serve(ws: Workspace, slot: str, script: Path | None = None) -> str:
    """A fresh server in `slot` (the one there before is stopped): its address."""
    _stop(ws, slot)
    proc, url = start_streamlit(ws.db, script=script, timeout=120)
    ws.cache[slot] = proc
    ws.cleanup.append(lambda: _stop(ws, slot))
    return url


def _stop(ws: Workspace, slot: str) -> None:
    proc = ws.cache.pop(slot, None)
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=30)


def _page(ws: Workspace, url: str):
    context = _browser(ws).new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    ws.cleanup.append(context.close)
    return context.new_page()


def wait_ready(page, drawn: str = "h1") -> float:
    """Wait until the page is drawn and idle and stays so for SETTLED_S; the moment
    (perf_counter) it became so."""
    while True:
        page.wait_for_function(READY, arg=drawn, timeout=TIMEOUT_MS, polling=50)
        ready = time.perf_counter()
        time.sleep(SETTLED_S)
        if page.evaluate(READY, drawn):
            return ready


def first_load_step(slug: str) -> Step:
    """Open /slug in a new browser tab on a server started just before (untimed), beside
    the bare app's first load on a fresh server of its own: the floor of Streamlit's own
    start in this browser on this machine."""
    def prepare(ws: Workspace) -> None:
        ws.cache["url"] = _serve(ws, "app")
        ws.cache["tab"] = _page(ws, ws.cache["url"])

    def run(ws: Workspace) -> float:
        return _load(ws.cache["tab"], f"{ws.cache['url']}/{slug}")
    return Step(f"browser: first load /{slug}", run, FIRST_LOAD_BASELINE, once=True,
                prepare=prepare)


def _bare_script(ws: Workspace, name: str = "bare_slider.py", text: str = BARE_APP) -> Path:
    script = ws.root / name
    script.write_text(text, encoding="utf-8")
    return script


def _open_fresh(ws: Workspace, name: str, text: str) -> None:
    """The bare app `text` (as NAME.py) on a fresh server, and a new tab for its first load."""
    ws.cache[f"{name}.url"] = _serve(ws, "bare", _bare_script(ws, f"{name}.py", text))
    ws.cache[f"{name}.first"] = _page(ws, ws.cache[f"{name}.url"])


def _first_load(ws: Workspace, name: str) -> float:
    return _load(ws.cache[f"{name}.first"], ws.cache[f"{name}.url"], '[data-testid="stSlider"]')


open_bare_fresh = functools.partial(_open_fresh, name="bare_slider", text=BARE_APP)
bare_first_load = functools.partial(_first_load, name="bare_slider")
open_bare_chart_fresh = functools.partial(_open_fresh, name="bare_chart", text=BARE_CHART_APP)
bare_chart_first_load = functools.partial(_first_load, name="bare_chart")


def _load(page, address: str, drawn: str = "h1") -> float:
    """Seconds from asking for `address` until the page is drawn and idle; the tab is closed
    after. Left open, a tab keeps asking its stopped server to reconnect, and the tabs of
    the pages measured before slowed the loads measured after them (CLV's by 1.7 s)."""
    started = time.perf_counter()
    page.goto(address)
    seconds = wait_ready(page, drawn) - started
    page.context.close()
    return seconds


def _slider_page(ws: Workspace, slot: str, url: str, path: str) -> None:
    """A tab on `url/path` with its first slider drawn, kept for the drags."""
    page = _page(ws, url)
    page.goto(f"{url}/{path}")
    wait_ready(page, '[data-testid="stSlider"]')
    page.get_by_text(SENTENCE).first.wait_for(timeout=TIMEOUT_MS)
    ws.cache[f"{slot}.tab"] = page


# What a rerun rewrites, read in the browser: the sentence, and the values of every slider
# but the one dragged (the Scoring page's other weights follow it; the bare app's sentence
# holds its value).
REWRITTEN = """() => [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
    .map(e => e.innerText).filter(text => text.includes(%r))
    .concat([...document.querySelectorAll('[data-testid="stSlider"] input[type=range]')]
    .slice(1).map(e => e.value)).join("|")""" % SENTENCE
# Records the app's script-run states as they change. A rerun has been drawn once
# "notRunning" follows "running", or, when both changes fell into one frame of a fast
# rerun, once what it rewrites has changed and no script runs.
WATCH_RUNS = """before => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.benchBefore = before;
    window.benchRuns = [];
    new MutationObserver(() => window.benchRuns.push(app.dataset.testScriptState))
        .observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
}"""
RUN_DRAWN = """rewritten => { const runs = window.benchRuns, at = runs.indexOf("running");
    const app = document.querySelector('[data-testid="stApp"]');
    return (at >= 0 && runs.indexOf("notRunning", at) > at)
        || (app.dataset.testScriptState === "notRunning" && rewritten() !== window.benchBefore); }"""


# The sentence alone, as drawn.
SENTENCE_SHOWN = """() => [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
    .map(e => e.innerText).filter(text => text.includes(%r)).join("|")""" % SENTENCE


def _drag(ws: Workspace, slot: str) -> float:
    """The slider's thumb dragged one step right, until the rerun it starts has finished
    and the browser has drawn what it sent; returns the seconds from the press until the
    sentence was drawn rewritten (until the rerun was drawn when the step left it as it
    was: the sentence was then ready no sooner).

    A drag, not a key press: Streamlit 1.67's slider sends a keyboard step to the
    server only now and then, and a pointer release always. Each step is a setting not
    seen before, so nothing comes from a cache the step before filled.
    """
    page = ws.cache[f"{slot}.tab"]
    slider = page.locator('[data-testid="stSlider"]').first
    track = slider.locator('[data-orientation="horizontal"]').nth(1).bounding_box()
    thumb = slider.locator("input[type=range]")
    value, top = float(thumb.get_attribute("value")), float(thumb.get_attribute("max"))
    grip = thumb.locator("..").bounding_box()
    y = grip["y"] + grip["height"] / 2
    page.evaluate(WATCH_RUNS, page.evaluate(REWRITTEN))
    sentence = page.evaluate(SENTENCE_SHOWN)
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    pressed = time.perf_counter()
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] * (value + 1) / top, y, steps=2)
    page.mouse.up()
    page.wait_for_function(f"""sentence => ({SENTENCE_SHOWN})() !== sentence
                               || ({RUN_DRAWN})({REWRITTEN})""", arg=sentence,
                           timeout=TIMEOUT_MS, polling="raf")
    rewritten = time.perf_counter() - pressed
    page.wait_for_function(f"() => ({RUN_DRAWN})({REWRITTEN})", timeout=TIMEOUT_MS,
                           polling="raf")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return rewritten


def open_scoring(ws: Workspace) -> None:
    """The Scoring page as a manager finds it: first visit paid, then the slider drags."""
    _slider_page(ws, "scoring", _serve(ws, "app"), "scoring")


def slider_drag(ws: Workspace) -> None:
    _drag(ws, "scoring")


def sentence_after_drag(ws: Workspace) -> float:
    return _drag(ws, "scoring")


def open_bare(ws: Workspace) -> None:
    _slider_page(ws, "bare", _serve(ws, "bare", _bare_script(ws)), "")


def bare_drag(ws: Workspace) -> None:
    _drag(ws, "bare")


def bare_sentence_after_drag(ws: Workspace) -> float:
    return _drag(ws, "bare")


FIRST_LOAD_BASELINE = "bare streamlit first load"
BASELINES[FIRST_LOAD_BASELINE] = bare_first_load
SETUP[FIRST_LOAD_BASELINE] = open_bare_fresh
BASELINE = "bare streamlit slider"
PRESSES = 11   # drags per slider, whatever --repeat says: the median of 11
BASELINES[BASELINE] = bare_drag
SETUP[BASELINE] = open_bare
STEPS.extend(first_load_step(slug) for slug in PAGES)
# For reference beside the pages with charts: a bare app's first load with one chart.
STEPS.append(Step("browser: bare app with a chart", bare_chart_first_load, FIRST_LOAD_BASELINE,
                  once=True, prepare=open_bare_chart_fresh))
STEPS.append(Step("browser: consumption slider", slider_drag, BASELINE, prepare=open_scoring,
                  repeat=PRESSES))
# The issue's own measure: from the press to the movers sentence rewritten, which the page
# draws before its table, tier mix and histogram.
SENTENCE_BASELINE = "bare streamlit sentence"
BASELINES[SENTENCE_BASELINE] = bare_sentence_after_drag
SETUP[SENTENCE_BASELINE] = open_bare
STEPS.append(Step("browser: slider -> movers sentence", sentence_after_drag, SENTENCE_BASELINE,
                  prepare=open_scoring, repeat=PRESSES))
