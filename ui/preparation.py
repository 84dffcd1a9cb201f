"""Preparing the pages' costly results in the background when the data changes
(engine.prepared), with the progress in the sidebar.

One job per file and data version in this process, started by the first page
run that sees a version whose results the file does not hold yet: an import
on the Data page, or by the command line, or a follow-up. Sessions share the
job; a page that needs a result before the job reaches it computes it itself
(engine.derived lets one computation of a result run at a time, so neither
does the work twice).

CRM_PREPARE=0 turns it off (the tests do: each test's pages would start one).
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field

import streamlit as st

from engine import i18n, prepared

_LOG = logging.getLogger(__name__)
TICK_S = 1.5   # how often the sidebar redraws the progress while a job runs


@dataclass
class Job:
    done: int = 0
    total: int = 0
    error: str | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total


_JOBS: dict[tuple[str, int], Job] = {}
_READY: set[tuple[str, int]] = set()   # found prepared: not asked of the file again each run
_GUARD = threading.Lock()


def enabled() -> bool:
    return os.environ.get("CRM_PREPARE", "1") != "0"


def start(db: str, version: int) -> Job | None:
    """The job preparing `db` at `version`, started now unless it ran or runs already or
    the file holds its results; None when there is nothing to do."""
    if not enabled() or (db, version) in _READY:
        return None
    with _GUARD:
        job = _JOBS.get((db, version))
        if job is None:
            if prepared.is_prepared(db, version):
                _READY.add((db, version))
                return None
            job = _JOBS[(db, version)] = Job()
            threading.Thread(target=_run, args=(db, job), name="prepare", daemon=True).start()
    return job


def _run(db: str, job: Job) -> None:
    try:
        prepared.prepare(db, progress=job.progress)
    except Exception as exc:   # the pages still compute what they need; say why in the sidebar
        _LOG.exception("preparing %s failed", db)
        job.error = f"{type(exc).__name__}: {exc}"
    finally:
        job.finished.set()


def show(job: Job | None, lang: str) -> None:
    """The job's progress in the sidebar, redrawn every TICK_S while it runs; the page runs
    once more when it ends, so the redrawing stops."""
    if job is None or (job.finished.is_set() and job.error is None):
        return
    if job.error is not None:
        st.caption(i18n.t("sidebar.prepare_failed", lang, detail=job.error))
        return
    _progress(job, lang)


@st.fragment(run_every=TICK_S)
def _progress(job: Job, lang: str) -> None:
    if job.finished.is_set():
        st.rerun(scope="app")
    share = job.done / job.total if job.total else 0.0
    st.progress(share, text=i18n.t("sidebar.preparing", lang, done=job.done,
                                   total=job.total or "…"))
