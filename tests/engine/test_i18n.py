"""The translation catalogue is complete in both languages and used correctly."""
import re

from engine import i18n
from tests.conftest import ROOT

KEY_USE = re.compile(
    r"""\b(?:t|ctx\.t|i18n\.t|not_yet|i18n\.plural)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""")


def test_every_key_has_both_languages():
    for key, texts in i18n.catalogue().items():
        for lang in i18n.LANGUAGES:
            assert texts.get(lang, "").strip(), f"{key} has no {lang} text"


def test_placeholders_match_between_languages():
    field = re.compile(r"\{(\w+)")
    for key, texts in i18n.catalogue().items():
        assert set(field.findall(texts["en"])) == set(field.findall(texts["zh"])), key


def test_every_key_used_in_the_code_exists():
    sources = [*ROOT.glob("app.py"), *ROOT.glob("views/*.py"), *ROOT.glob("ui/*.py"),
               *ROOT.glob("engine/**/*.py")]
    used = {m for path in sources for m in KEY_USE.findall(path.read_text(encoding="utf-8"))}
    missing = sorted(used - set(i18n.catalogue()))
    assert not missing, f"keys used but not in the catalogue: {missing}"


def test_a_singular_has_its_plural_and_says_one():
    catalogue = i18n.catalogue()
    for key in (k for k in catalogue if k.endswith(".one")):
        assert key.removesuffix(".one") in catalogue, key
        assert "1" in catalogue[key]["en"] and "{count" not in catalogue[key]["en"], key


def test_column_labels_begin_with_a_capital_in_english():
    labels = {k: v["en"] for k, v in i18n.catalogue().items() if k.startswith("ingest.column.")}
    assert labels and all(text[0].isupper() for text in labels.values()), labels


def test_language_from_locale():
    assert i18n.normalise_language("zh-CN") == "zh"
    assert i18n.normalise_language("zh_TW") == "zh"
    assert i18n.normalise_language("en-US") == "en"
    assert i18n.normalise_language(None) == "en"


def test_labels_are_namespaced_and_fall_back_to_the_code():
    assert i18n.label("nowhere", "xyz", "zh") == "xyz"
    assert i18n.label("tier", None, "en") == ""
