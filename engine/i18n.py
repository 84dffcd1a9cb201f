"""The translation catalogue: every user-facing string in 中文 and English.

The catalogue is split into one JSON file per area under `locales/` so that
areas can grow independently; together they form one catalogue, each key
mapping to {"en": ..., "zh": ...}. Codes (tiers, tags, actions) are stored in
English and shown through `label(kind, code, lang)`.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("zh", "en")
LOCALES = Path(__file__).resolve().parent / "locales"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, str]]:
    """All keys of all locale files; a key defined twice is an error."""
    merged: dict[str, dict[str, str]] = {}
    for file in sorted(LOCALES.glob("*.json")):
        for key, texts in json.loads(file.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"{file.name}: key {key!r} is defined twice")
            merged[key] = texts
    return merged


def t(key: str, lang: str, **values) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled."""
    text = catalogue()[key][lang]
    return text.format(**values) if values else text


def label(kind: str, code, lang: str) -> str:
    """A stored code in the reader's words: label("tier", "high", "zh") -> 高价值.

    Codes are namespaced by kind because the same word means different
    things ("high" tier vs "high" risk). Unknown codes are shown as stored.
    """
    if code is None or code != code:  # None or NaN
        return ""
    key = f"code.{kind}.{code}"
    return t(key, lang) if key in catalogue() else str(code)


def normalise_language(locale: str | None) -> str:
    """'zh-CN', 'zh_TW', 'zh' -> 'zh'; anything else (or nothing) -> 'en'."""
    return "zh" if locale and locale.lower().startswith("zh") else "en"


def plural(key: str, count: int, lang: str, **values) -> str:
    """`key`'s text for `count` things: its singular `key.one` when count is 1 and the
    catalogue has one (English: "1 row", "Import 1 file"); Chinese needs none."""
    one = f"{key}.one"
    return t(one if count == 1 and one in catalogue() else key, lang, count=count, **values)
