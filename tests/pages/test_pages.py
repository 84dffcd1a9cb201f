"""Every page runs through app.py's navigation in both languages without an exception."""
import pytest

from tests.conftest import ROOT, open_page

PAGES = sorted(p.stem for p in (ROOT / "views").glob("*.py"))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_page_runs(app_db, page, lang):
    at = open_page(page, lang)
    assert not at.exception, at.exception
    assert at.title, "every page has a title"
