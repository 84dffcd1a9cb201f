"""Numbers as a manager reads them, in their language; user text shown literally."""
from __future__ import annotations

import re


def money(value, lang: str) -> str:
    """Compact currency: ¥435.4M in English, ¥4.35亿 / ¥43.5万 in Chinese."""
    if value is None or value != value:
        return "—"
    value = float(value)
    sign, v = ("-" if value < 0 else ""), abs(value)
    if lang == "zh":
        for size, unit in ((1e8, "亿"), (1e4, "万")):
            if v >= size:
                return f"{sign}¥{v / size:,.2f}{unit}"
    else:
        for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if v >= size:
                return f"{sign}¥{v / size:,.1f}{unit}"
    return f"{sign}¥{v:,.0f}"


def escape(text: str) -> str:
    """Text from a file or its name (a customer's name, a file name), shown literally
    in Markdown: the characters Markdown or HTML would act on get a backslash."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~$])", r"\\\1", text)


_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


WORD_JOINER = "\u2060"   # zero width, shown as nothing


def plain(text: str) -> str:
    """A name or id from the data, shown in Markdown as the characters it holds, on one
    line: every ASCII punctuation mark gets a backslash (no `:red[...]`, no emphasis),
    line breaks become spaces (a heading would otherwise end at the first one and drop
    what follows), and an invisible word joiner follows each ":", "/", "@" and each "."
    before a letter or digit, since Streamlit turns text that reads as a URL, a domain
    or an e-mail into a link after the escapes have gone."""
    one_line = _LINE_BREAKS.sub(" ", text)
    escaped = re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", one_line)
    return re.sub(r"([:/@]|\.(?=[^\W_]))", r"\1" + WORD_JOINER, escaped)
