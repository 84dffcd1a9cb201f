"""Real headless Chromium against the served dashboard: the server and page fixtures.

Browser tests are skipped where Debian's Chromium is missing, except under
CI, where a missing browser fails the run (the browser tests are required).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium for the browser tests")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(db: Path, *, timeout: float = 60, secrets: Path | None = None,
                    env: dict | None = None, script: Path | None = None) -> tuple[subprocess.Popen, str]:
    """The dashboard as `make run` serves it (serve.py, the upload gate in front) on a free
    local port, with CRM_DB pointing at `db` and, when given, this secrets file; or a
    `script` of its own under `streamlit run` (the bench's bare slider app)."""
    port = free_port()
    env = os.environ | {"CRM_DB": str(db)} | (env or {})
    flags = ["--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
             "--browser.gatherUsageStats=false"]
    if secrets is not None:
        flags.append(f"--secrets.files={secrets}")
    command = ([sys.executable, "-m", "streamlit", "run", str(script)] if script is not None
               else [sys.executable, str(ROOT / "serve.py")])
    proc = subprocess.Popen([*command, *flags],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not start on {url} within {timeout} s")


@contextmanager
def serving_demo(folder: Path, *, customers: int, seed: int) -> Iterator[str]:
    """A demo database of `customers` (24 months) made in `folder` and served: its url.
    Skips, or fails under CI, without Chromium (`require_chromium`)."""
    require_chromium()
    from engine import demo
    db = folder / "demo.duckdb"
    demo.generate_demo(db, customers=customers, months=24, seed=seed)
    with serving(db) as url:
        yield url


@contextmanager
def serving(db: Path, **options) -> Iterator[str]:
    """`start_streamlit` for the length of a with block: its url; the server stops after."""
    proc, url = start_streamlit(db, **options)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def running_chromium():
    """Debian's headless Chromium, driven by Playwright, for the length of a with block."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            yield browser
        finally:
            browser.close()


def keep_failure(request, page) -> None:
    """Screenshot the page into ARTIFACTS when the test's call failed (see conftest)."""
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


# Streamlit has finished the script and drawn what it sent (JavaScript; see `wait_idle`).
IDLE = ("document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState"
        " === 'notRunning' && !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')")


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script and has drawn what it sent:
    the app's own run state, as the bench reads it, and no element still a skeleton. The
    "running" widget alone is not enough: Streamlit draws it only after a delay (a reload
    of Scoring ran for a second without it, polled every frame). And the first time a page
    shows a kind of element, Streamlit draws a grey skeleton until that element's code has
    loaded, a second or more after the script ended on a first load of a page with charts."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(f"() => {IDLE}", timeout=timeout)


def open_root(page, server: str, timeout: float = 60_000) -> None:
    """Open the app's address and wait for the hidden home page's switch to the first page:
    a click made between the two runs was lost to that switch (the first page stayed)."""
    page.goto(server)
    page.wait_for_url("**/overview", timeout=timeout)
    wait_idle(page, timeout)


def open_by_link(page, slug: str, timeout: float = 120_000) -> None:
    """Click a page's link in the navigation and wait until that page is the current one
    and its script has finished. The navigation's mark, not the address: on a slow run the
    address bar once kept the last page's path while the new page was drawn (seen in CI)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{slug}"]').click()
    page.locator(f'[data-testid="stSidebarNav"] a[aria-current="page"][href$="/{slug}"]'
                 ).wait_for(timeout=timeout)
    wait_idle(page, timeout)
