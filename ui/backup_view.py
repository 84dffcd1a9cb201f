"""The Data page's backup tab: download the whole database, restore it, show the check.

Kept apart from the import parts so that access control can gate it as one
piece (`backup_tab`). A restore is a write like an import: it goes through
ui.data, leaves the outcome under import_view.FLASH and reruns.
"""
from __future__ import annotations

import functools

import streamlit as st

from engine import i18n
from engine.backup import KINDS, BackupRejected, backup_file_name, digest
from engine.store import StoreLocked
from ui import import_view as view
from ui.data import backup as backup_data

MIME = {"duckdb": "application/octet-stream", "parquet": "application/zip"}
UPLOADS = "data_page.backup.uploads"   # bumped after a restore to empty the uploader


def backup_tab(db: str, version: int, lang: str) -> None:
    """Download (DuckDB file or Parquet zip) and restore, for the database at `db`."""
    t = functools.partial(i18n.t, lang=lang)
    rows = 0
    if version >= 0:   # a database file to back up (a new machine may have none yet)
        st.markdown(f"**{t('backup.download.title')}**")
        st.caption(t("backup.download.intro"))
        now = backup_data.data_fingerprint(db, version)
        rows = int(now["rows"].sum())
        st.caption(t("backup.download.now", rows=f"{rows:,}", tables=len(now),
                     checksum=digest(now)))
        for column, kind in zip(st.columns(len(KINDS)), KINDS):
            column.download_button(
                t(f"backup.download.{kind}"), backup_data.backup_file_maker(db, kind),
                file_name=backup_file_name(db, kind), mime=MIME[kind], on_click="ignore",
                key=f"data_page.backup.{kind}", icon=":material/download:", width="stretch")
        st.divider()
    st.markdown(f"**{t('backup.restore.title')}**")
    st.caption(t("backup.restore.intro"))
    upload = st.file_uploader(t("backup.restore.upload"), type=["duckdb", "zip"],
                              key=f"data_page.backup.upload.{st.session_state.get(UPLOADS, 0)}")
    if upload is None:
        return
    found = backup_data.check_backup(upload.file_id, upload, upload.name)
    if "rejected" in found:
        code, params = found["rejected"]
        st.error(view.escape(BackupRejected(code, **params).message(lang)))
        return
    report = found["report"]
    st.info(t("backup.restore.holds", file=view.escape(upload.name), rows=f"{report.rows:,}",
              tables=len(report.check), checksum=report.digest, schema=report.schema_version))
    with st.popover(t("backup.restore.button"), icon=":material/settings_backup_restore:"):
        st.warning(t("backup.restore.warning", rows=f"{rows:,}"))
        confirmed = st.button(t("backup.restore.confirm"), type="primary",
                              key="data_page.backup.confirm")
    if confirmed:
        _restore(db, upload, lang)


def _restore(db: str, upload, lang: str) -> None:
    with st.spinner(i18n.t("backup.restore.working", lang)):
        try:
            report = backup_data.restore_backup(db, upload)
        except StoreLocked as exc:
            st.error(view.locked(db, lang, exc.waited))
            return
        except BackupRejected as exc:
            st.error(view.escape(exc.message(lang)))
            return
    view.flash("restore", report)
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1
    st.rerun()
