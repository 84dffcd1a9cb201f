"""Files in: format, encoding and separator detection, Excel sheets, line numbers.

A file arrives as a path, as bytes, or as an uploaded file object (anything
with `.read()` and a `.name`). `inspect_file` looks at its beginning only and
says what it is; `open_source` prepares the whole file for DuckDB: a CSV in
UTF-8 is read in place by DuckDB's own `read_csv` (other encodings are
transcoded to a temporary UTF-8 copy in chunks), an .xlsx sheet goes
through pandas. Either way DuckDB sees columns named c0, c1, … holding the
cells as text, one row per data record, in file order. With `in_worker` (the
dashboard) a workbook is read in a worker process (engine.ingest.worker), since
openpyxl's pure-Python parsing would hold up every other session's page.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path
from typing import BinaryIO, Iterator, Union

import charset_normalizer
import numpy as np
import pandas as pd

from engine import workfiles
from engine.ingest import worker
from engine.ingest.errors import ImportRejected, Problem
from engine.ingest.limits import limit
from engine.ingest.parse import ID_BYTES, NULL_MARKERS

FileLike = Union[str, os.PathLike, bytes, BinaryIO]

MB = 1024 * 1024
SAMPLE_BYTES = 256 * 1024
# Read in chunks of this size: with the copies and masks a chunk makes, the scan of
# a 240 MB file peaks at 17 MB (67 MB with 16 MB chunks; tests/pages/test_limits.py).
CHUNK_BYTES = 4 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
# Encodings charset-normalizer may choose between; GBK and GB2312 are read
# as their superset GB18030.
CANDIDATE_ENCODINGS = ["utf_8", "gb18030", "big5", "utf_16", "cp1252"]
_GB = {"gb2312", "gbk", "gb18030", "hz", "cp936", "gb_2312"}
_XLSX_MAGIC = b"PK\x03\x04"
ALL_SHEETS = "all"   # the `sheet` that reads every sheet with the first sheet's columns
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass
class FileInfo:
    """What a file is, from its beginning: enough to map its columns.

    `sample` holds the first data rows as text, one column per header.
    """
    name: str
    format: str                      # "csv" or "xlsx"
    headers: list[str]
    sample: pd.DataFrame
    encoding: str | None = None      # csv only, a Python codec name
    delimiter: str | None = None     # csv only
    sheets: list[str] = field(default_factory=list)  # xlsx only
    sheet: str | None = None         # xlsx only, the sheet read (ALL_SHEETS: several)
    sheets_read: list[str] = field(default_factory=list)  # xlsx only, the sheets read
    sheets_left_out: list[str] = field(default_factory=list)  # ALL_SHEETS: other columns
    sheet_rows: int = 0              # xlsx only, data rows the sheets read declare
    day_first: bool | None = None    # what the sample says of year-last dates
    title_rows: int = 0              # records above the header (a report title, say)
    header_line: int = 1             # the header's line in the file (row in the sheet)
    cr_only: bool = False            # csv only: lines end in a carriage return alone (old Mac)


@dataclass
class Source:
    """A file prepared for DuckDB (see `open_source`).

    `relation` is SQL for a table with columns c0..c{n-1} of text, to be run
    with `params`; `ordinal_lines(n_rows, rejected_starts)` gives each row's
    line in the file.
    """
    info: FileInfo
    content_hash: str
    relation: str
    params: dict
    frame: pd.DataFrame | None = None   # xlsx: the cells, registered as `relation`
    csv_path: Path | None = None        # csv: the UTF-8 file DuckDB reads
    csv_read: "CsvRead | None" = None   # csv: how DuckDB reads it
    lines: np.ndarray | None = None     # xlsx: each row's row in its sheet
    row_sheets: np.ndarray | None = None  # xlsx of several sheets: each row's sheet
    odd_spaces: bool = True             # may hold tabs, full-width spaces, … to trim
    bare_cells: bool = False            # csv: no cell begins or ends with whitespace
    absent: frozenset[int] = frozenset()  # csv: bytes the file never holds (of _LOOKED_FOR)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def null_markers(self) -> tuple[str, ...]:
        """The markers that may be a cell: not one with a byte the file never holds."""
        return tuple(m for m in NULL_MARKERS if not set(m.encode()) & self.absent)

    def ordinal_lines(self, n_rows: int, rejected: np.ndarray) -> np.ndarray | None:
        """Line number (header = 1) of each row DuckDB read, or None if unsure.

        `rejected` are byte offsets (DuckDB's line_byte_position) of the
        records DuckDB refused, which it does not number as rows.
        """
        if self.frame is not None:
            return self.lines[:n_rows]
        starts, lines = record_starts(self.csv_path, 1 + self.info.title_rows)
        keep = np.ones(len(starts), bool)
        keep[_record_of(starts, rejected)] = False
        if int(keep.sum()) != n_rows:
            return None
        return lines[keep]

    def line_of_offsets(self, offsets: np.ndarray) -> np.ndarray:
        """Line numbers of the records that hold these byte offsets."""
        starts, lines = record_starts(self.csv_path, 1 + self.info.title_rows)
        return lines[_record_of(starts, offsets)]


@dataclass(frozen=True)
class CsvRead:
    """DuckDB's read_csv of a prepared UTF-8 CSV: `width` columns c0.., the first `skip`
    lines (titles) left out, in parallel unless a quoted value spans lines. Records
    DuckDB refuses go to `_ingest_rejects`."""
    width: int
    skip: int
    parallel: bool

    def relation(self, types: dict[str, str] | None = None,
                 formats: dict[str, str] | None = None, nulls: tuple[str, ...] = ()) -> str:
        """SQL reading every cell as text, or the columns in `types` (c{i}: a DuckDB type)
        as that type with the `formats` given (dateformat, timestampformat): a cell that
        does not fit its type is then a refused record. A cell that is one of `nulls`
        (besides the empty one) is read as NULL. Types, formats and nulls are the
        caller's constants, never text from the file."""
        types = types or {}
        columns = ", ".join(f"'c{i}': '{types.get(f'c{i}', 'VARCHAR')}'"
                            for i in range(self.width))
        options = "".join(f"{k} = '{v}', " for k, v in (formats or {}).items())
        if nulls:
            marks = ", ".join("'" + m.replace("'", "''") + "'" for m in ("", *nulls))
            options += f"nullstr = [{marks}], "
        return (f"read_csv($path, auto_detect = false, header = true, skip = {self.skip}, "
                "delim = $delim, quote = '\"', escape = '\"', encoding = 'utf-8', "
                f"{options}columns = {{{columns}}}, null_padding = true, "
                f"parallel = {'true' if self.parallel else 'false'}, "
                "store_rejects = true, rejects_table = '_ingest_rejects', "
                f"rejects_scan = '_ingest_reject_scans', max_line_size = {MAX_LINE_BYTES})")


# ---- entry points ------------------------------------------------------------

def inspect_file(file: FileLike, *, name: str | None = None, encoding: str | None = None,
                 delimiter: str | None = None, sheet: str | None = None,
                 sample_rows: int = 20, in_worker: bool = False) -> FileInfo:
    """Format, encoding, separator, sheets, headers and first rows of a file.

    Reads only the beginning of a CSV and the first rows of a sheet (in a
    worker process with `in_worker`: loading a workbook parses all its shared
    strings). Raises ImportRejected when the file cannot be read at all.
    """
    with _local_file(file, name) as (path, label):
        _check_size(path, label)
        head = _read_head(path)
        if _is_xlsx(head, label):
            return _parsed(in_worker, label, _inspect_xlsx, path, label, sheet, sample_rows)
        return _inspect_csv(path, label, head, encoding, delimiter, sample_rows)


@contextmanager
def open_source(file: FileLike, *, name: str | None = None, encoding: str | None = None,
                delimiter: str | None = None, sheet: str | None = None,
                in_worker: bool = False) -> Iterator[Source]:
    """The whole file ready for DuckDB; temporary copies go when the block ends.
    With `in_worker` a workbook is read in a worker process (a CSV is read by
    DuckDB, which lets other threads run)."""
    with _local_file(file, name) as (path, label):
        info = inspect_file(path, name=label, encoding=encoding, delimiter=delimiter,
                            sheet=sheet, sample_rows=50, in_worker=in_worker)
        if info.format == "xlsx":   # the same workbook's other sheet is another import
            digest = file_hash(path) if len(info.sheets) < 2 else hashlib.sha256(
                f"{file_hash(path)} {info.sheet}".encode()).hexdigest()
            yield _parsed(in_worker, label, _workbook_source, path, label, info, digest)
            return
        with _utf8_copy(path, label, info.encoding, cr_only=info.cr_only) as utf8:
            scan = scan_csv(utf8, info.delimiter)
            _check_rows(scan.lines - info.header_line, label)
            if scan.open_quote_at is not None:
                raise ImportRejected([_open_quote(utf8, label, scan.open_quote_at)])
            digest = scan.sha256 if utf8 == path else file_hash(path)
            odd = scan.odd_spaces or scan.quoted_newlines
            # Short rows are padded with empty cells; DuckDB can do that in
            # parallel only when no quoted value spans lines.
            read = CsvRead(len(info.headers), info.header_line - 1, not scan.quoted_newlines)
            yield Source(info, digest, read.relation(),
                         {"path": str(utf8), "delim": info.delimiter},
                         csv_read=read, csv_path=utf8, odd_spaces=odd,
                         bare_cells=not (odd or scan.padded), absent=scan.absent)


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the same file imported twice is known as such."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def list_sheets(file: FileLike, *, name: str | None = None) -> list[str]:
    """Sheet names of an .xlsx file, in workbook order."""
    with _local_file(file, name) as (path, label):
        return _sheet_names(path, label)


# ---- detection ----------------------------------------------------------------

def detect_encoding(sample: bytes) -> str:
    """A Python codec for a file's first bytes: UTF-8 (with BOM or not), GB18030, …

    A byte order mark decides; then valid UTF-8 is UTF-8; otherwise
    charset-normalizer chooses among CANDIDATE_ENCODINGS, and any GB
    family answer becomes GB18030, the superset of GBK and GB2312.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    cut = sample.rfind(b"\n") + 1 if len(sample) >= SAMPLE_BYTES else len(sample)
    try:
        sample[:cut or len(sample)].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(sample[:cut or len(sample)],
                                         cp_isolation=CANDIDATE_ENCODINGS).best()
    if best is None:
        return "gb18030"
    found = best.encoding.lower().replace("-", "_")
    return "gb18030" if found in _GB else codecs.lookup(found).name


def sniff_delimiter(text: str) -> str:
    """The separator that gives the sample the most consistent rows of several fields.

    Read with the wrong separator, a quoted value holding a carriage return
    sits in an unquoted field, which the csv module refuses: that separator
    is not the one.
    """
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = list(islice(csv.reader(io.StringIO(text), delimiter=delimiter), 50))
        except csv.Error:
            continue
        widths = pd.Series([len(r) for r in rows[:-1] or rows if any(c.strip() for c in r)],
                           dtype="int64")
        if widths.empty or widths.max() < 2:
            continue
        usual = int(widths.mode().max())
        score = (float((widths == usual).mean()), usual)
        if score > best_score:
            best, best_score = delimiter, score
    return best


MAX_TITLE_ROWS = 5
# The longest line DuckDB reads (max_line_size below); the sample is parsed with the
# same bound, so a long field near the top is read as it is further down.
MAX_LINE_BYTES = 8 * MB
csv.field_size_limit(MAX_LINE_BYTES)


def title_rows(filled: pd.Series) -> int:
    """How many rows above the header: a title or export note of one cell, blank lines.

    The header is the first of the first rows with at least two cells
    filled; a file of a single column has none above it.
    """
    head = filled.reset_index(drop=True).iloc[:MAX_TITLE_ROWS + 1]
    wide = head.index[head >= 2]
    return int(wide[0]) if len(wide) else 0


def unique_headers(raw: list[str]) -> list[str]:
    """Header cells made usable as names: trimmed, empty ones numbered, repeats suffixed."""
    seen: dict[str, int] = {}
    out = []
    for i, cell in enumerate(raw):
        text = (cell or "").strip().lstrip("\ufeff").strip() or f"column {i + 1}"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        out.append(text)
    return out


# ---- csv ----------------------------------------------------------------------

def _inspect_csv(path: Path, label: str, head: bytes, encoding, delimiter,
                 sample_rows: int) -> FileInfo:
    from engine.ingest.parse import guess_day_first
    encoding = _codec(encoding, label) if encoding else detect_encoding(head)
    text = _decode_head(head, encoding, label, complete=len(head) < SAMPLE_BYTES)
    if not text.strip():
        raise ImportRejected([Problem("empty_file", label)])
    cr_only = "\r" in text and "\n" not in text
    if cr_only:   # read as the LF copy `open_source` makes of it
        text = text.replace("\r", "\n")
    delimiter = _delimiter(delimiter, label) if delimiter else sniff_delimiter(text)
    # The first records of the sample, parsed as DuckDB will parse the whole file,
    # with the line each ends on.
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    records, ends = [], []
    try:
        for record in islice(reader, sample_rows + 2 + MAX_TITLE_ROWS):
            if record:
                records.append(record)
                ends.append(reader.line_num)
    except csv.Error as exc:
        raise ImportRejected([Problem("bad_line", label, line=reader.line_num,
                                      params={"detail": _short(exc)})]) from None
    if len(head) >= SAMPLE_BYTES and len(records) > 1:
        records = records[:-1]   # the last record of a cut sample may be cut too
    titles = title_rows(pd.DataFrame({"cells": [sum(bool(c.strip()) for c in r)
                                                for r in records]})["cells"])
    header_line = ends[titles] - sum(c.count("\n") for c in records[titles])
    records = records[titles:]
    header = records[0]
    body = records[1:sample_rows + 1]
    if body and all(len(r) == len(header) + 1 and not r[-1].strip() for r in body):
        header = header + [""]   # every row ends with a separator the header lacks
    headers = unique_headers(header)
    _check_columns(len(headers), label)
    width = len(headers)
    sample = pd.DataFrame([(r + [""] * width)[:width] for r in body],
                          columns=headers, dtype="string")
    day_first = guess_day_first(sample.stack()) if len(sample) else None
    return FileInfo(label, "csv", headers, sample, encoding=encoding, delimiter=delimiter,
                    day_first=day_first, title_rows=titles, header_line=header_line,
                    cr_only=cr_only)


def _decode_head(head: bytes, encoding: str, label: str, complete: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        return decoder.decode(head, final=complete)
    except UnicodeDecodeError as exc:
        line = head[:exc.start].count(b"\n") + 1
        raise ImportRejected([Problem("bad_encoding", label, line=line,
                                      params={"encoding": encoding})]) from None


@contextmanager
def _utf8_copy(path: Path, label: str, encoding: str, *, cr_only: bool = False
               ) -> Iterator[Path]:
    """The file itself when it is UTF-8 with LF or CRLF line ends, else a UTF-8 copy made
    chunk by chunk (old-Mac CR line ends made LF, so lines are counted as everywhere)."""
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") and not cr_only:  # DuckDB skips a BOM
        yield path
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    lines_before = 0
    with workfiles.file("ingest", ".csv") as (fd, tmp):
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while True:
                chunk = src.read(CHUNK_BYTES)
                try:
                    text = decoder.decode(chunk, final=not chunk)
                    dst.write((text.replace("\r", "\n") if cr_only else text).encode("utf-8"))
                except UnicodeDecodeError as exc:
                    line = lines_before + chunk[:max(exc.start, 0)].count(b"\n") + 1
                    raise ImportRejected([Problem("bad_encoding", label, line=line,
                                                  params={"encoding": encoding})]) from None
                if not chunk:
                    break
                lines_before += chunk.count(b"\n")
        yield tmp


def _record_of(starts: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Index of the record each byte offset falls in (offsets before the first: 0)."""
    return np.maximum(np.searchsorted(starts, np.asarray(offsets, np.int64), "right") - 1, 0)


# UTF-8 of the full-width space, the no-break space and the byte order mark.
_ODD_SPACES = tuple(c.encode("utf-8") for c in "\u3000\u00a0\ufeff")
# UTF-8 of the other Unicode space separators, which DuckDB's trim() strips too.
_OTHER_SPACES = tuple(chr(c).encode("utf-8")
                      for c in (0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F))

# The bytes of the null markers and those ids are cleaned of; the scan notes those a
# file never holds.
_LOOKED_FOR = frozenset(b for m in NULL_MARKERS for b in m.encode()) | ID_BYTES


def _holds_any(block: bytes, patterns: tuple[bytes, ...]) -> bool:
    """Whether a block of UTF-8 holds one of `patterns` (vectorised over the bytes).

    Their lead bytes are found first; plain `in` would be slow on Chinese
    text, where those lead bytes are common. A lead byte is first looked for
    with memchr: most blocks lack them all, and finding where a byte is costs
    seven times as much.
    """
    a = np.frombuffer(block, np.uint8)
    leads: dict[int, np.ndarray] = {}
    for pattern in patterns:
        k = len(pattern)
        if pattern[0] not in leads:
            leads[pattern[0]] = (np.flatnonzero(a == pattern[0]) if pattern[:1] in block
                                 else np.empty(0, np.intp))
        at = leads[pattern[0]]
        at = at[at < len(a) - k + 1]
        hit = np.ones(len(at), bool)
        for i in range(1, k):
            hit &= a[at + i] == pattern[i]
        if hit.any():
            return True
    return False


def _space_at_an_edge(block: bytes, delimiter: str, *, starts: bool) -> bool:
    """Whether a space of a block of a CSV may begin or end a cell: one beside a
    separator, a line end or a quote (a quote inside a value counts too, which only
    errs on the side of trimming). `starts`: the block begins the file. A space at
    either end of the block is judged with the next or previous block, which
    overlap it by two bytes (the file's last byte: by `scan_csv`)."""
    if ord(delimiter) > 127:
        return True
    if b" " not in block:   # memchr: a tenth of the look below
        return False
    a = np.frombuffer(block, np.uint8)
    at = np.flatnonzero(a == 0x20)
    if starts and at[0] == 0:
        return True
    edges = np.array([ord(delimiter), 10, 13, 34], np.uint8)
    before, after = at[at > 0] - 1, at[at < len(a) - 1] + 1
    return bool(np.isin(a[before], edges).any() or np.isin(a[after], edges).any())


@dataclass(frozen=True)
class CsvScan:
    """What one pass over a CSV's bytes tells (see `scan_csv`)."""
    sha256: str
    odd_spaces: bool       # tabs (not separating), full-width or no-break spaces, BOM inside
    quoted_newlines: bool  # a line break inside a quoted value
    open_quote_at: int | None = None  # byte offset of a record whose quote never closes
    lines: int = 0         # line breaks in the file (records, give or take quoted ones)
    padded: bool = True    # a cell may begin or end with a space trim() strips
    absent: frozenset[int] = frozenset()  # bytes looked for (_LOOKED_FOR) it never holds


def scan_csv(path: Path, delimiter: str) -> CsvScan:
    """Hash a UTF-8 CSV and look for what makes reading it slower, in one pass.

    When the file holds no whitespace that plain trim() would leave on a
    value, values need only the cheap trim, and none at all when no cell
    begins or ends with a space; when no quoted value spans lines, DuckDB
    may read it in parallel. It also tells which bytes of the null markers
    (`parse.NULL_MARKERS`) the file never holds: a marker with such a byte
    cannot be a cell, so read_csv need not compare every cell with it (each
    marker it compares costs about 2 % of reading the file); and the same of
    the bytes ids are cleaned of (`parse.id_macro`).
    """
    tabs = delimiter != "\t"
    unseen = set(_LOOKED_FOR)
    digest = hashlib.sha256()
    odd = lone_cr = padded = False
    quotes = lines = 0
    tail = b""
    # The hash runs in a thread beside the looks below (hashlib lets go of the GIL), one
    # chunk at a time: a chunk waits for the one before, so a slow hash never queues
    # the file up in memory.
    with open(path, "rb") as f, ThreadPoolExecutor(1) as hasher:
        first, hashing = True, None
        while chunk := f.read(CHUNK_BYTES):
            if hashing is not None:
                hashing.result()
            hashing = hasher.submit(digest.update, chunk)   # one worker: the chunks in order
            body = chunk[3:] if first and chunk.startswith(codecs.BOM_UTF8) else chunk
            block = tail + body
            wide = bool(np.frombuffer(block, np.uint8).max(initial=0) >= 0x80)  # not ASCII
            odd = odd or (tabs and b"\t" in body) or (wide and _holds_any(block, _ODD_SPACES))
            padded = (padded or odd or (wide and _holds_any(block, _OTHER_SPACES))
                      or _space_at_an_edge(block, delimiter, starts=first))
            bytes_ = np.frombuffer(body, np.uint8)
            quotes += int(np.count_nonzero(bytes_ == 34))    # numpy: faster than bytes.count
            lines += int(np.count_nonzero(bytes_ == 10))
            # DuckDB ends a line at a carriage return alone too; one inside quotes
            # (seen as any CR not before LF) rules out the parallel reader as well
            lone_cr = lone_cr or (b"\r" in body and b"\r" in body.replace(b"\r\n", b""))
            unseen = {b for b in unseen if bytes((b,)) not in body}   # memchr: fast
            tail, first = block[-2:], False
    padded = padded or tail.endswith(b" ")
    if not quotes:
        return CsvScan(digest.hexdigest(), odd, False, lines=lines, padded=padded,
                       absent=frozenset(unseen))
    newlines, outside, _, _ = _scan_newlines(path)
    open_at = None
    if quotes % 2:   # the last quote opens a value that never ends
        ends = newlines[outside]
        open_at = int(ends[-1]) + 1 if len(ends) else 0
    return CsvScan(digest.hexdigest(), odd, lone_cr or not bool(outside.all()), open_at,
                   lines=lines, padded=padded, absent=frozenset(unseen))


def _open_quote(path: Path, label: str, offset: int) -> Problem:
    """The problem of a quote that never closes, on the line where its record starts."""
    line = int(np.searchsorted(_scan_newlines(path)[0], offset)) + 1
    with open(path, "rb") as f:
        f.seek(offset)
        start = f.read(200).decode("utf-8", "replace").splitlines()
    return Problem("bad_quote", label, line=line, value=(start[0] if start else "")[:80])


def record_starts(path: Path, header_records: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Byte offset and line number of every data record of a CSV, blank lines left out.

    A record ends at a newline outside double quotes (a doubled quote
    inside a quoted value counts twice, so the parity still holds). The
    first `header_records` records (titles and the header) are left out
    too. Vectorised with numpy, in chunks.
    """
    nl, ev, cr, size = _scan_newlines(path)
    if not len(nl):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ends = nl[ev]
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends, [size]])
    crs = np.concatenate([cr[ev], [False]])
    length = stops - starts - crs
    keep = length > 0
    starts = starts[keep]
    lines = np.searchsorted(nl, starts) + 1
    return starts[header_records:], lines[header_records:]


def _scan_newlines(path: Path):
    """Every newline's offset, whether it lies outside quotes, whether a CR precedes it; size."""
    newlines, even, cr_before = [], [], []
    offset, quotes, last_byte = 0, 0, 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            a = np.frombuffer(chunk, np.uint8)
            nl = np.flatnonzero(a == 10)
            qpos = np.flatnonzero(a == 34)
            even.append((quotes + np.searchsorted(qpos, nl)) % 2 == 0)
            prev = np.where(nl > 0, a[np.maximum(nl - 1, 0)], last_byte)
            cr_before.append(prev == 13)
            newlines.append(nl + offset)
            quotes += len(qpos)
            offset += len(a)
            last_byte = a[-1]
    if not newlines:
        return (np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, bool), offset)
    nl, ev, cr = (np.concatenate(x) for x in (newlines, even, cr_before))
    return nl, ev, cr, offset


# ---- xlsx ---------------------------------------------------------------------

def _sheet_names(path: Path, label: str) -> list[str]:
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            return [str(s) for s in book.sheet_names]
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportRejected([Problem("unreadable", label,
                                      params={"detail": _short(exc)})]) from None


def _pick_sheet(path: Path, label: str, sheet: str | None) -> tuple[list[str], str]:
    sheets = _sheet_names(path, label)
    if not sheets:
        raise ImportRejected([Problem("empty_file", label)])
    if sheet is None:
        return sheets, sheets[0]
    if sheet not in sheets:
        raise ImportRejected([Problem("no_sheet", label, value=sheet,
                                      params={"sheets": ", ".join(sheets)})])
    return sheets, sheet


def _inspect_xlsx(path: Path, label: str, sheet: str | None, sample_rows: int) -> FileInfo:
    """The first sheet's (or the named sheet's) headers and first rows; with ALL_SHEETS,
    also which sheets have the same columns, in any order (a workbook of one sheet per
    year or shop), and which sheets with something in them were left out."""
    if sheet != ALL_SHEETS:
        return _inspect_one_sheet(path, label, sheet, sample_rows)
    info = _inspect_one_sheet(path, label, None, sample_rows)
    headers = {s: _sheet_headers(path, label, s) for s in info.sheets[1:]}
    alike = [info.sheet] + [s for s, h in headers.items() if _same_columns(h, info.headers)]
    info.sheet, info.sheets_read = ALL_SHEETS, alike
    info.sheets_left_out = [s for s, h in headers.items() if s not in alike and h != []]
    info.sheet_rows = sum(_declared_rows(path, s) for s in alike) - len(alike) * info.header_line
    return info


def _same_columns(headers: list[str] | None, first: list[str]) -> bool:
    return headers is not None and sorted(headers) == sorted(first)


def _sheet_headers(path: Path, label: str, sheet: str) -> list[str] | None:
    """A sheet's headers: [] when it is empty, None when it cannot be read (too large)."""
    try:
        return _inspect_one_sheet(path, label, sheet, 0).headers
    except ImportRejected as exc:
        return [] if exc.problems[0].code == "empty_file" else None


def _load_workbook(path: Path, **options):
    """openpyxl's read-only workbook. openpyxl is imported here, the first time a workbook
    is read: it takes a tenth of a second to import, which every `python -m engine import`
    of a CSV paid."""
    import openpyxl
    return openpyxl.load_workbook(path, read_only=True, **options)


def _declared_rows(path: Path, sheet: str) -> int:
    book = _load_workbook(path)
    try:
        return book[sheet].max_row or 0
    finally:
        book.close()


def _workbook_source(path: Path, label: str, info: FileInfo, digest: str) -> "Source":
    """The rows of the sheet read, or of every sheet read (ALL_SHEETS) one after the other."""
    if info.sheet != ALL_SHEETS:
        frame = read_sheet(path, label, info)
        lines = np.arange(len(frame), dtype=np.int64) + info.header_line + 1
        return Source(info, digest, "_ingest_src", {}, frame=frame, lines=lines)
    frames, lines, names = [], [], []
    for sheet in info.sheets_read:
        one = _inspect_one_sheet(path, label, sheet, 0)
        frame = read_sheet(path, label, one)
        # the columns in the first sheet's order (a sheet may order the same columns otherwise)
        frame = frame.iloc[:, [one.headers.index(h) for h in info.headers]]
        frame.columns = [f"c{i}" for i in range(frame.shape[1])]
        frames.append(frame)
        lines.append(np.arange(len(frame), dtype=np.int64) + one.header_line + 1)
        names.append(np.full(len(frame), sheet, dtype=object))
    frame = pd.concat(frames, ignore_index=True)
    _check_rows(len(frame), label)
    return Source(info, digest, "_ingest_src", {}, frame=frame, lines=np.concatenate(lines),
                  row_sheets=np.concatenate(names))


def _inspect_one_sheet(path: Path, label: str, sheet: str | None, sample_rows: int) -> FileInfo:
    from engine.ingest.parse import guess_day_first
    sheets, sheet = _pick_sheet(path, label, sheet)
    _check_sheet(path, label, sheet)
    cells = _read_cells(path, label, sheet, nrows=sample_rows + 1 + MAX_TITLE_ROWS)
    if cells.empty:
        raise ImportRejected([Problem("empty_file", label)])
    titles = title_rows(_filled(cells))
    headers = unique_headers(cells.iloc[titles].fillna("").tolist())
    _check_columns(len(headers), label)
    sample = cells.iloc[titles + 1:titles + 1 + sample_rows].copy()
    sample.columns = headers
    sample = sample.reset_index(drop=True)
    day_first = guess_day_first(sample.stack()) if len(sample) else None
    return FileInfo(label, "xlsx", headers, sample, sheets=sheets, sheet=sheet,
                    day_first=day_first, title_rows=titles, header_line=titles + 1)


def read_sheet(path: Path, label: str, info: FileInfo) -> pd.DataFrame:
    """All data rows of a sheet as text in columns c0.., the rows down to the header dropped."""
    cells = _read_cells(path, label, info.sheet)
    body = cells.iloc[info.header_line:].reset_index(drop=True)
    body.columns = [f"c{i}" for i in range(body.shape[1])]
    return body


def _filled(cells: pd.DataFrame) -> pd.Series:
    """How many cells of each row hold something."""
    return (cells.fillna("").apply(lambda col: col.str.strip()) != "").sum(axis=1)


def _read_cells(path: Path, label: str, sheet: str, nrows: int | None = None) -> pd.DataFrame:
    """Every cell of a sheet as text (pandas string dtype), rows as in the sheet.

    Excel keeps every number as a float, so whole numbers come back as
    "10001" rather than "10001.0"; dates and times come as ISO text. The
    rows and cells are counted as they are parsed (`_counted_sheet`), so a
    sheet that lies about its size is stopped at the limit, not after.
    """
    try:
        book = _load_workbook(path, data_only=True, keep_links=False)
    except Exception as exc:  # a damaged workbook fails in many ways
        raise ImportRejected([Problem("unreadable", label,
                                      params={"detail": _short(exc)})]) from None
    try:
        for worksheet in book.worksheets:
            worksheet.__class__ = _counted_sheet()
            worksheet.label = label
        raw = pd.read_excel(book, sheet_name=sheet, header=None, dtype=object,
                            nrows=nrows, engine="openpyxl")
    except ImportRejected:
        raise
    except Exception as exc:  # a damaged workbook fails in many ways
        raise ImportRejected([Problem("unreadable", label,
                                      params={"detail": _short(exc)})]) from None
    finally:
        book.close()
    out = raw.astype("string")
    for col in out.columns:
        text = out[col]
        whole = text.str.fullmatch(r"-?\d+\.0").fillna(False)
        out[col] = text.where(~whole, text.str.slice(0, -2))
    return out


@cache
def _counted_sheet() -> type:
    """openpyxl's read-only sheet, made to count the rows and cells it hands out while they
    are parsed and to refuse the file once they pass `max_rows` (after the header) or
    `max_sheet_cells`. Made on first use, as openpyxl is imported then (`_load_workbook`).

    What counts is what the XML holds, gaps filled as openpyxl fills them, not the
    `<dimension>` the file declares (which may be small, wrong or missing).
    """
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    class CountedSheet(ReadOnlyWorksheet):
        label = ""

        def _cells_by_row(self, *args, **kwargs):
            most_rows, most_cells = limit("max_rows"), limit("max_sheet_cells")
            rows = cells = 0
            for row in super()._cells_by_row(*args, **kwargs):
                rows, cells = rows + 1, cells + len(row)
                if rows - 1 > most_rows:
                    raise ImportRejected([Problem("sheet_too_many_rows", self.label, params={
                        "limit": f"{most_rows:,}"})])
                if cells > most_cells:
                    raise ImportRejected([Problem("sheet_too_many_cells", self.label, params={
                        "rows": f"{rows:,}", "limit": f"{most_cells:,}"})])
                yield row
    return CountedSheet


# ---- limits (engine.ingest.limits) ---------------------------------------------

def _check_size(path: Path, label: str) -> None:
    size, most = path.stat().st_size, limit("max_file_mb")
    if size > most * MB:
        raise ImportRejected([Problem("too_large", label, params={
            "size_mb": f"{size / MB:,.0f}", "limit_mb": f"{most:,}"})])


def _check_columns(found: int, label: str) -> None:
    if found > limit("max_columns"):
        raise ImportRejected([Problem("too_many_columns", label, params={
            "found": f"{found:,}", "limit": f"{limit('max_columns'):,}"})])


def _check_rows(found: int, label: str) -> None:
    if found > limit("max_rows"):
        raise ImportRejected([Problem("too_many_rows", label, params={
            "found": f"{found:,}", "limit": f"{limit('max_rows'):,}"})])


def _check_sheet(path: Path, label: str, sheet: str) -> None:
    """Refuse a workbook that would unpack to too much, from its zip directory and the
    sheet's declared dimension, before a row of it is parsed.

    Every part counts (shared strings, styles and drawings can be as large as a
    sheet). The sizes are the zip directory's, and they hold: Python's zipfile
    stops each part at its declared size (and fails its checksum if more was
    packed). The declared dimension only refuses early; what the sheet really
    holds is counted while it is read (`_counted_sheet`).
    """
    try:
        with zipfile.ZipFile(path) as book:
            unpacked = sum(i.file_size for i in book.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRejected([Problem("unreadable", label,
                                      params={"detail": _short(exc)})]) from None
    if unpacked > limit("max_sheet_mb") * MB:
        raise ImportRejected([Problem("sheet_unpacks_too_large", label, params={
            "size_mb": f"{unpacked / MB:,.0f}", "limit_mb": f"{limit('max_sheet_mb'):,}"})])
    book = _load_workbook(path)
    try:
        rows, columns = book[sheet].max_row, book[sheet].max_column
    finally:
        book.close()
    if rows and columns and rows * columns > limit("max_sheet_cells"):
        raise ImportRejected([Problem("sheet_too_large", label, params={
            "rows": f"{rows:,}", "columns": f"{columns:,}",
            "limit": f"{limit('max_sheet_cells'):,}"})])
    if rows:
        _check_rows(rows - 1, label)


# ---- plumbing -----------------------------------------------------------------

def _parsed(in_worker: bool, label: str, fn, *args):
    """`fn(*args)`, here or in a worker process; a worker that died (killed, out of
    memory) refuses the file as unreadable, like any other failure to read it."""
    if not in_worker:
        return fn(*args)
    try:
        return worker.run(fn, *args)
    except BrokenProcessPool as exc:
        raise ImportRejected([Problem("unreadable", label,
                                      params={"detail": _short(exc)})]) from None


@contextmanager
def _local_file(file: FileLike, name: str | None) -> Iterator[tuple[Path, str]]:
    """A path on disk for any kind of input, and the name to show in messages."""
    if isinstance(file, (str, os.PathLike)):
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        yield path, name or path.name
        return
    label = name or Path(getattr(file, "name", "") or "upload").name
    with workfiles.file("upload", Path(label).suffix) as (fd, tmp):
        with os.fdopen(fd, "wb") as dst:
            if isinstance(file, (bytes, bytearray, memoryview)):
                dst.write(file)
            else:
                if hasattr(file, "seek"):
                    file.seek(0)
                shutil.copyfileobj(file, dst, CHUNK_BYTES)
        yield tmp, label


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(SAMPLE_BYTES)


def _is_xlsx(head: bytes, label: str) -> bool:
    if head.startswith(_XLSX_MAGIC):
        return True
    if head.startswith(_OLE_MAGIC) or label.lower().endswith(".xls"):
        raise ImportRejected([Problem("unsupported_format", label, value="xls")])
    if b"\x00" in head[:4096] and not head.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportRejected([Problem("unsupported_format", label, value="binary")])
    return False


def _codec(encoding: str, label: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    return "gb18030" if name in _GB else name


def _delimiter(delimiter: str, label: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(delimiter.lower(), delimiter)
    if len(delimiter) != 1 or delimiter in "\"\r\n":
        raise ValueError(f"unusable delimiter {delimiter!r}; use one character "
                         "such as , ; | or tab")
    return delimiter


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
