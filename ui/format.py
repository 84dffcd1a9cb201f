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
