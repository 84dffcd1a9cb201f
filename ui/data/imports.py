"""The Data page's imports: inspect, dry run, import, undo, reset, saved mappings."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from engine import currency, ingest, store
from ui import auth

# An upload is keyed on its file_id (a new one for every upload) and handed over as
# `_upload`, which the cache does not hash. A file the engine refuses comes back as
# {"rejected": (problems, total)} rather than raised, so the refusal is cached like a
# result. The writes below go through engine.ingest, which bumps the data version.
# Workbooks are read in a worker process (`in_worker`): openpyxl's parsing would
# otherwise hold the interpreter lock that every other session's page needs.


BATCH_COLUMNS = ("batch_id", "file_name", "table_name", "imported_at", "rows_inserted",
                 "rows_updated", "rows_unchanged", "rows_rejected", "customers_created",
                 "undone_at", "content_hash")


def _refusal(exc: ingest.ImportRejected) -> dict:
    return {"rejected": (exc.problems, exc.total)}


@st.cache_data(show_spinner=False, max_entries=32)
def inspect_upload(file_id: str, _upload, name: str, encoding: str | None = None,
                   delimiter: str | None = None, sheet: str | None = None) -> dict:
    """{"info": FileInfo} (format, encoding, separator, sheets, headers, sample) or
    {"rejected": (problems, total)} for an uploaded file."""
    try:
        return {"info": ingest.inspect_file(_upload, name=name, encoding=encoding,
                                            delimiter=delimiter, sheet=sheet, in_worker=True)}
    except ingest.ImportRejected as exc:
        return _refusal(exc)


@st.cache_data(show_spinner=False, max_entries=16)
def preview_upload(db: str, version: int, file_id: str, _upload, name: str, table: str,
                   mapping: tuple, options: tuple) -> dict:
    """{"report": the ImportReport of a dry run} or {"rejected": (problems, total)}.

    `mapping` is a tuple of (header, column or None) pairs, `options` of
    (name, value) pairs for engine.ingest.preview_import. Writes nothing.
    """
    try:
        return {"report": ingest.preview_import(db, _upload, table, name=name, mapping=dict(mapping),
                                                in_worker=True, **dict(options))}
    except ingest.ImportRejected as exc:
        return _refusal(exc)


@st.cache_data(show_spinner=False, max_entries=16)
def import_batches(db: str, version: int) -> pd.DataFrame:
    """The import history, newest first (engine.ingest.list_batches); empty without a file."""
    if not Path(db).exists():
        return pd.DataFrame(columns=list(BATCH_COLUMNS))
    return ingest.list_batches(db)


@st.cache_data(show_spinner=False, max_entries=16)
def saved_mappings(db: str, version: int, table: str) -> list[str]:
    """Names of the mappings saved for `table`, newest first."""
    if not Path(db).exists():
        return []
    return ingest.list_mappings(db, table)["name"].tolist()


@st.cache_data(show_spinner=False, max_entries=32)
def saved_mapping(db: str, version: int, name: str) -> dict:
    """The mapping saved under `name` ({file header: column or None})."""
    return ingest.load_mapping(db, name)[1]


def import_files(db: str, items: list, *, progress=None, **options) -> list:
    """Import files in one transaction (a write: bumps the version); ImportRejected
    (nothing written) or StoreLocked when refused. See engine.ingest.import_files.
    Admins only (auth.Forbidden), like every write of the Data page."""
    actor = auth.actor("import")
    return ingest.import_files(db, items, progress=progress, actor=actor, in_worker=True, **options)


def undo_import(db: str, batch_id: int):
    """Undo one import batch (a write); UndoRefused when later data builds on it."""
    return ingest.undo_batch(db, batch_id, actor=auth.actor("undo"))


def reset_data(db: str, *, demo: bool, progress=None) -> dict:
    """Empty the data and history, then load the demo or nothing (a write)."""
    options = {"progress": progress} if demo and progress is not None else {}
    return ingest.reset(db, demo=demo, actor=auth.actor("reset"), **options)


def save_currency(db: str, sign: str) -> None:
    """Show the file's amounts with `sign` (engine.currency; an admin's choice, like an
    import). It changes no figure, so the data version stays and no page is computed
    again: the pages read the sign on every run (ui.data.sources.version_and_currency)."""
    actor = auth.actor("import")
    with store.write(db, bump=False) as con:
        currency.save_currency(con, sign, actor=actor)


def save_import_mapping(db: str, name: str, table: str, mapping: dict) -> None:
    """Keep a mapping under `name` for later files of `table` (a write)."""
    ingest.save_mapping(db, name, table, mapping, actor=auth.actor("import"))
