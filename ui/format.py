"""Numbers as a manager reads them, in their language; user text shown literally."""
from __future__ import annotations

import math
import re

from engine import i18n
from engine.currency import written

# The compact units of each language, largest first.
UNITS = {"zh": ((1e8, "亿"), (1e4, "万")), "en": ((1e9, "B"), (1e6, "M"), (1e3, "K"))}


def money(value, lang: str, sign: str) -> str:
    """Compact currency that fits a card: ¥435.4M / ¥76.9M in English; ¥4.35亿, ¥7,694万,
    ¥12.3万 in Chinese (three significant digits, whole 万 from 100万 on, as Chinese
    reports write them); `sign` is the shop's (engine.currency). The exact figure is
    `exact_money`."""
    if value is None or value != value:
        return "—"
    value = float(value)
    minus, v = ("-" if value < 0 else ""), abs(value)
    for size, unit in UNITS["zh" if lang == "zh" else "en"]:
        if v >= size:
            scaled = v / size
            decimals = 1 if lang != "zh" else max(0, 2 - int(math.floor(math.log10(scaled))))
            return f"{minus}{sign}{scaled:,.{decimals}f}{unit}"
    return f"{minus}{sign}{v:,.0f}"


def exact_money(value, sign: str) -> str:
    """The whole amount to the cent: ¥76,940,812.34."""
    if value is None or value != value:
        return "—"
    return written(float(value), sign, 2)


def money_help(help_text: str | None, value, lang: str, sign: str) -> str:
    """A card's help with the exact amount its compact value rounds, on a line of its own."""
    exact = i18n.t("common.exact_amount", lang, amount=exact_money(value, sign))
    return f"{help_text}\n\n{exact}" if help_text else exact


def quantity(value, unit: str, lang: str, sign: str) -> str:
    """A sub-metric's value in its unit (`engine.scoring.SubMetric.unit`): ¥20,100.00,
    81.3%, 3.1, Yes; "—" when the customer has none."""
    if value is None or value != value:
        return "—"
    if unit == "money":
        return exact_money(value, sign)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "flag":
        return i18n.t("common.yes" if value else "common.no", lang)
    return f"{value:,.1f}" if unit == "hours" else f"{value:,.0f}"


# A grid's share column, in percentage points (`in_points`): one decimal in every row, where
# Streamlit's "percent" drops trailing zeros (1.6% beside 14.96%).
POINTS = "%.1f%%"
# An amount in a grid, to the cent in every row with thousands separators (11,234.50):
# "localized" drops trailing zeros (943.2 beside 884.43), "yen" drops the cents.
CENTS = "%,.2f"


def in_points(frame, columns):
    """`frame` with its shares (0–1) in `columns` as percentage points, for a grid column
    formatted with POINTS (a progress bar's scale then runs 0–100)."""
    return frame.assign(**{c: frame[c] * 100 for c in columns})


def wrapping_table(frame, headers: dict, formats: dict | None = None, na_rep: str | None = None):
    """`frame`'s columns named in `headers` (column -> header), in that order and under those
    headers, as a Styler for st.table: a static table whose cells wrap, where a grid's
    one-line cells cut long text at 1,280 px. `formats`: column -> format string."""
    return (frame[list(headers)].rename(columns=headers).style.hide(axis="index")
            .format({headers[c]: f for c, f in (formats or {}).items()}, na_rep=na_rep))


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
