"""Backups of the whole database and their restore (engine.backup)."""
from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from engine import audit, backup
from ui import auth

# A backup is of the data at the moment it is asked for, so it is not cached; the
# check of an uploaded backup is cached on the upload, like the import's dry run.


@st.cache_data(show_spinner=False, max_entries=16)
def data_fingerprint(db: str, version: int) -> pd.DataFrame:
    """Rows and checksum of every table now (engine.backup.fingerprint)."""
    return backup.data_fingerprint(db)


def backup_file_maker(db: str, kind: str):
    """The download button's callable for a backup of the whole database ("duckdb" or
    "parquet"). Every owner's customers are in it, so auth.Forbidden for any reader but
    an admin, checked here, while the page runs: Streamlit calls the callable on the
    click, outside the session, where the reader is not known."""
    return functools.partial(backup_file, db, kind, auth.actor("backup"))


def backup_file(db: str, kind: str, actor: str) -> bytes:
    """A backup as bytes, its download written to the audit log as `actor`'s."""
    content = backup.backup_bytes(db, kind)
    audit.log_event(db, actor, "backup_download", {"kind": kind, "bytes": len(content)})
    return content


@st.cache_data(show_spinner=False, max_entries=8)
def check_backup(file_id: str, _upload, name: str) -> dict:
    """{"report": what the backup holds} or {"rejected": BackupRejected's code and params}."""
    try:
        return {"report": backup.check_backup(_upload, name=name)}
    except backup.BackupRejected as exc:
        return {"rejected": (exc.code, exc.params)}


def restore_backup(db: str, upload):
    """Replace the data with a backup's (a write: bumps the version); BackupRejected
    (nothing changed) or StoreLocked when refused. See engine.backup.restore."""
    actor = auth.actor("restore")
    return backup.restore(db, upload, name=upload.name, actor=actor)
