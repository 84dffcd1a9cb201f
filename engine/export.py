"""Files the product writes for people: CSV and Excel (DESIGN §5).

CSV is UTF-8 with a BOM (so Excel shows Chinese), numbers with a dot, dates
as YYYY-MM-DD and an empty cell where a value does not apply. In a CSV, text
that a spreadsheet would run as a formula (a cell or a column name starting
with = + - @, a tab or a carriage return, a plain signed number aside) gets a
leading apostrophe; and when any text holds a semicolon, every text cell is
quoted, since Excel in a locale whose list separator is ";" splits `x;=1+1`
into a second cell that is a formula. An Excel workbook stores text as text
(never as a formula or a link), so its cells are written as they are, without
an apostrophe.

The downloads a manager forwards (`to_csv_bytes`, `to_excel_bytes`) show
money to the cent, scores to one decimal, shares as percentages and yes/no
in the reader's words, read from the columns' canonical names
(`column_kind`); Excel sheets get a frozen header and fitted columns. The
command line's files (`write_csv`) keep full precision for other programs.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Collection, Mapping

import numpy as np
import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is a plain signed number ("-5", "+12.50") starts like a formula but is none:
# a spreadsheet reads it as the number, so it keeps no apostrophe.
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)*")
MONEY_WORDS = ("revenue", "spend", "amount", "clv", "order_value", "price")
SCORE_COLUMNS = frozenset({"score", "consumption", "interaction", "stability", "referral",
                           "score_before", "score_after"})
SHARE_ENDINGS = ("_share", "_rate", "p_alive")
WIDEST = 60   # characters: a column of long sentences wraps past this in Excel


def column_kind(name: str) -> str | None:
    """How a download shows a column, from its canonical name: "money" (to the cent),
    "score" (one decimal), "share" (a fraction, as a percentage) or None (as it is)."""
    if name in SCORE_COLUMNS or name.endswith("_score"):
        return "score"
    if name.endswith(SHARE_ENDINGS):
        return "share"
    if any(word in name for word in MONEY_WORDS):
        return "money"
    return None


def for_people(df: pd.DataFrame, lang: str) -> tuple[pd.DataFrame, list[str]]:
    """df rounded as people read it (see column_kind; other fractions to 2 decimals), with
    yes/no in `lang`; and the share columns, still fractions, for the writer to show."""
    from engine import i18n
    frame, shares = df.copy(), []
    for column in frame.columns:
        series, kind = frame[column], column_kind(str(column))
        if pd.api.types.is_bool_dtype(series.dtype):
            words = {True: i18n.t("common.yes", lang), False: i18n.t("common.no", lang)}
            frame[column] = series.map(words).astype(object)
        elif pd.api.types.is_float_dtype(series.dtype):
            if kind == "share":
                shares.append(column)
            frame[column] = series.round({"money": 2, "score": 1, "share": 4}.get(kind, 2))
    return frame, shares


def safe_text(value):
    """The value, with an apostrophe before text that starts like a formula."""
    return "'" + value if _risky(value) else value


def _risky(value) -> bool:
    return (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value))


def _guard(series: pd.Series) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        renamed = [safe_text(c) for c in dtype.categories]
        if renamed == list(dtype.categories):
            return series
        if len(set(renamed)) == len(renamed):
            return series.cat.rename_categories(renamed)
        return _guard(series.astype(object))
    if pd.api.types.is_object_dtype(dtype):
        values = series.to_numpy(dtype=object)
        risky = np.fromiter((_risky(v) for v in values), dtype=bool, count=len(values))
        if not risky.any():
            return series
        values = values.copy()
        values[risky] = ["'" + v for v in values[risky]]
        return pd.Series(values, index=series.index, dtype=object, name=series.name)
    if pd.api.types.is_string_dtype(dtype):
        risky = (series.str.startswith(FORMULA_STARTS)
                 & ~series.str.fullmatch(_PLAIN_NUMBER.pattern)).fillna(False).astype(bool)
        return series.mask(risky, "'" + series) if risky.any() else series
    return series


def safe_text_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of df whose text cells cannot run as spreadsheet formulas.

    Only text is touched (object, string and categorical columns, and the
    column names): numbers such as a negative amount, and dates, stay as they are.
    """
    guarded = pd.DataFrame({k: _guard(df.iloc[:, k]) for k in range(df.shape[1])},
                           index=df.index)
    guarded.columns = [safe_text(column) for column in df.columns]
    return guarded


def write_csv(df: pd.DataFrame, path: Path | str) -> None:
    """Write df as a CSV file (see the module docstring), values at full precision."""
    Path(path).write_bytes(_csv(df))


def to_csv_bytes(df: pd.DataFrame, *, headers: Mapping[str, str] | None = None,
                 lang: str = "en") -> bytes:
    """A download's CSV: df as people read it (`for_people`, shares as "37.5%"), its
    canonical columns headed by `headers`."""
    frame, shares = for_people(df, lang)
    for column in shares:
        frame[column] = frame[column].map(lambda v: "" if pd.isna(v) else f"{v:.1%}")
    return _csv(frame.rename(columns=headers or {}))


def _csv(df: pd.DataFrame) -> bytes:
    quoting = csv.QUOTE_NONNUMERIC if _holds(df, ";") else csv.QUOTE_MINIMAL
    text = safe_text_frame(df).to_csv(index=False, na_rep="", lineterminator="\r\n",
                                      quoting=quoting)
    return text.encode("utf-8-sig")


def _holds(df: pd.DataFrame, character: str) -> bool:
    """Whether any text cell or column name of df contains `character`."""
    if any(character in str(column) for column in df.columns):
        return True
    return any(df[c].astype("string").str.contains(character, regex=False).any()
               for c in df.columns
               if pd.api.types.is_object_dtype(df[c].dtype)
               or pd.api.types.is_string_dtype(df[c].dtype)
               or isinstance(df[c].dtype, pd.CategoricalDtype))


def to_excel_bytes(df: pd.DataFrame, *, sheet_name: str = "data",
                   headers: Mapping[str, str] | None = None, lang: str = "en") -> bytes:
    """A download's workbook: df as people read it in one sheet named after what it holds,
    its canonical columns headed by `headers`; text is written as text, never as a formula."""
    frame, shares = for_people(df, lang)
    headers = dict(headers or {})
    return workbook_bytes({sheet_name: frame.rename(columns=headers)},
                          percent_columns=[headers.get(c, c) for c in shares])


def workbook_bytes(sheets: Mapping[str, pd.DataFrame], *, percent_columns: Collection[str] = (),
                   column_width: float | None = None) -> bytes:
    """An .xlsx workbook, one sheet per table (names cut to Excel's 31 characters).

    Text is written as text, never as a formula or a link; dates without a
    time of day as dates. Columns named in `percent_columns` hold fractions
    shown as percentages. The header row stays in view while scrolling. With
    `column_width`, columns get that width, and a sheet of a single column
    (sentences, one per row) a wide one; without, each column fits its text.
    """
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter", date_format="yyyy-mm-dd",
                        datetime_format="yyyy-mm-dd hh:mm:ss",
                        engine_kwargs={"options": {"strings_to_formulas": False,
                                                   "strings_to_urls": False}}) as writer:
        percent = writer.book.add_format({"num_format": "0.0%"})
        for name, table in sheets.items():
            sheet_name = name[:31]
            _for_excel(table).to_excel(writer, sheet_name=sheet_name, index=False, na_rep="")
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes(1, 0)
            if column_width is not None:
                sheet.set_column(0, max(len(table.columns) - 1, 0),
                                 120 if len(table.columns) == 1 else column_width)
            for i, column in enumerate(table.columns):
                width = column_width if column_width is not None else _fitted(table[column])
                if column_width is None or column in percent_columns:
                    sheet.set_column(i, i, width, percent if column in percent_columns else None)
    return buffer.getvalue()


def _fitted(series: pd.Series) -> float:
    """Excel's width (in characters) for a column's header and its first 1,000 values;
    a Chinese character is two wide."""
    texts = [str(series.name), *series.head(1_000).dropna().map(str)]
    widest = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) for text in texts)
    return float(min(max(widest + 2, 8), WIDEST))


def _for_excel(df: pd.DataFrame) -> pd.DataFrame:
    """df with whole-day date-times as dates (text needs no guard: it is stored as text)."""
    frame = df.copy()
    for column in frame.columns:
        series = frame[column]
        if (pd.api.types.is_datetime64_any_dtype(series.dtype)
                and (series.dropna() == series.dropna().dt.normalize()).all()):
            frame[column] = series.dt.date.astype(object).where(series.notna(), None)
    return frame
