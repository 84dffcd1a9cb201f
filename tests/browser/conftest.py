"""The Chromium every browser test module shares with its own `server` fixture."""
import pytest

from tests.browser.chromium import running_chromium


@pytest.fixture(scope="module")
def browser(server):
    """One headless Chromium per module, started once its server is up."""
    with running_chromium() as b:
        yield b
