"""Problems found in a file, and the error that rejects it.

A problem is data: a code, where it is (file, line, the file's own column
header) and what was found, plus parameters. Its words come from the
translation catalogue (`engine/locales/ingest.json`) in either language, so
the Data page shows them in the reader's language and the command line in
English. `render_messages` does the same for a whole DataFrame of problems at
once (the error column of a rejects file), without a loop over rows.
"""
from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field

import pandas as pd

from engine import i18n

SHOWN_IN_MESSAGE = 10


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, a row or a cell.

    `line` is the line in the file (header = 1; for .xlsx the sheet row),
    `column` the file's own header, `target` the canonical column it maps
    to, `value` the cell as found. `params` fill the message's other slots.
    """
    code: str
    file: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    target: str | None = None
    params: dict = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        """Where, what, and what was expected, in `lang` ("en" or "zh")."""
        return render_messages(pd.DataFrame([self.as_row()]), lang).iloc[0]

    def what(self, lang: str = "en") -> str:
        """What is wrong, without where: for a table that has a column for where."""
        return i18n.t(f"ingest.problem.{self.code}", lang, **self._slots(lang))

    def expected(self, lang: str = "en") -> str:
        """What the file should hold instead."""
        return i18n.t(f"ingest.expected.{self.code}", lang, **self._slots(lang))

    def as_row(self) -> dict:
        row = asdict(self)
        params = row.pop("params")
        return {**params, **row}

    def _slots(self, lang: str) -> dict:
        slots = {k: "" if v is None else v for k, v in self.as_row().items()}
        slots["target"] = column_label(self.target, lang)
        return slots


class ImportRejected(Exception):
    """The file (or the mapping) was refused; nothing was written.

    `problems` lists the first problems found (at most a thousand), `total`
    counts all of them; `report` is the ImportReport of the dry run when
    the file could be read.
    """

    def __init__(self, problems: list[Problem], *, total: int | None = None, report=None):
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        self.report = report
        super().__init__(self.message("en"))

    def message(self, lang: str = "en") -> str:
        """A short text naming the file and the first problems."""
        name = self.problems[0].file if self.problems else ""
        head = i18n.plural("ingest.rejected", self.total, lang, file=name)
        lines = [f"  {p.message(lang)}" for p in self.problems[:SHOWN_IN_MESSAGE]]
        more = self.total - len(lines)
        if more > 0:
            lines.append("  " + i18n.t("ingest.rejected_more", lang, count=more))
        return "\n".join([head, *lines])

    def __str__(self) -> str:
        return self.message("en")

    def __reduce__(self):
        """Pickled with its problems, total and report, not its English message alone:
        a workbook is read in a worker process (engine.ingest.worker), whose refusal
        must arrive as it was raised."""
        return functools.partial(ImportRejected, total=self.total, report=self.report), (
            self.problems,)


def sheets_left_out_note(sheets: list[str], lang: str) -> str:
    """The sentence naming the sheets `--sheet all` left out (their columns differ): said
    when the workbook is checked and again in the import's summary."""
    return i18n.plural("ingest.summary.sheets_left_out", len(sheets), lang,
                       sheets=", ".join(sheets))


def column_label(target: str | None, lang: str, *, in_message: bool = True) -> str:
    """A canonical column in the reader's words: amount -> 金额, or Amount on a screen.

    An English message names the canonical column itself (amount), the word a
    `--mapping` or a renamed header needs; a screen (in_message=False) shows
    the English label too.
    """
    if not target:
        return ""
    key = f"ingest.column.{target}"
    if key not in i18n.catalogue() or (lang == "en" and in_message):
        return target
    return i18n.t(key, lang)


def render_messages(problems: pd.DataFrame, lang: str = "en", *,
                    with_file: bool = True) -> pd.Series:
    """The message of every row of a problems frame, as a string Series.

    `problems` has the Problem fields as columns (code, file, line, column,
    value, target) and one column per parameter; missing ones count as
    empty. With `with_file=False` the message leaves out file and line (for
    a rejects file, which has them in columns of its own).
    """
    frame = problems.copy()
    for name in ("file", "line", "column", "value", "target"):
        if name not in frame:
            frame[name] = None
    targets = frame["target"].dropna().unique()
    frame["target"] = frame["target"].map({t: column_label(t, lang) for t in targets})
    has_line = frame["line"].notna() & with_file
    has_column = frame["column"].notna() & (frame["column"].astype("string") != "")
    where_key = pd.Series("ingest.where.file", index=frame.index)
    where_key[has_line] = "ingest.where.line"
    where_key[has_column] = "ingest.where.column"
    where_key[has_line & has_column] = "ingest.where.line_column"
    if not with_file:
        where_key[:] = ""
        where_key[has_column] = "ingest.where.cell"
    frame["line"] = frame["line"].astype("Int64")
    out = pd.Series("", index=frame.index, dtype="string")
    joiner = i18n.t("ingest.message", lang, where="{where}", problem="{problem}",
                    expected="{expected}")
    for (code, wkey), group in frame.groupby([frame["code"], where_key], sort=False):
        parts = {
            "where": _fill(i18n.t(wkey, lang) if wkey else "", group),
            "problem": _fill(i18n.t(f"ingest.problem.{code}", lang), group),
            "expected": _fill(i18n.t(f"ingest.expected.{code}", lang), group),
        }
        out[group.index] = _fill(joiner, pd.DataFrame(parts)).str.lstrip(":：; ")
    return out


def _fill(template: str, frame: pd.DataFrame) -> pd.Series:
    """`template` with each {name} replaced by that column of `frame`, row by row."""
    pieces = re.split(r"\{(\w+)\}", template)
    out = pd.Series(pieces[0], index=frame.index, dtype="string")
    for slot, text in zip(pieces[1::2], pieces[2::2]):
        values = frame[slot] if slot in frame else pd.Series(None, index=frame.index)
        out = out + values.astype("string").fillna("") + text
    return out
