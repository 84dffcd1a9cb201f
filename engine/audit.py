"""The audit log (issue 11, part 4): who imported, undid, reset, changed settings or logged a
follow-up; and (issue 19) who logged in, failed to, was held back, or downloaded a backup.

Each write records its row with `record(con, ...)` on the connection of its
own transaction (`store.write`), so the row lands exactly when the action
does: a rejected import or a refused undo leaves no trace, and a recorded
action cannot be lost by a crash between the two.

The actor is the logged-in user's name, `LOCAL` when the dashboard has no
login, and `cli:<OS user>` for the command line (`cli_actor()`).
"""
from __future__ import annotations

import getpass
import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from engine import store

LOCAL = "local"
# Every action the log records; the Audit page offers them as filters.
ACTIONS = ("import", "undo", "reset", "restore", "preset_saved", "preset_deleted",
           "playbook_saved", "mapping_saved", "mapping_deleted", "followup_logged",
           "followup_status", "login", "login_failed", "login_refused", "backup_download",
           "currency_saved")
COLUMNS = ("at", "actor", "action", "detail")
_LOG = logging.getLogger(__name__)


def cli_actor() -> str:
    """The actor of a command-line write: "cli:" and the OS user running it."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):   # no login name and no passwd entry (some containers)
        who = "unknown"
    return f"cli:{who}"


def record(con, actor: str, action: str, detail: dict) -> None:
    """Add one row on `con`, inside the caller's transaction. `detail` is kept as JSON text."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(ACTIONS)}")
    con.execute('INSERT INTO audit_log ("at", actor, action, detail) VALUES (?, ?, ?, ?)',
                [datetime.now(), actor, action,
                 json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)])


def log_event(db, actor: str, action: str, detail: dict) -> bool:
    """Record an action that changes no data (a login, a download) in the database at
    `db`, in a short transaction of its own that leaves the data version as it is (no
    session's caches drop). False, and a warning in the server log, when there is no
    database there or it cannot be written now: a login is not held up by its record.
    """
    if not Path(db).exists():
        return False
    try:
        with store.write(db, timeout=5, bump=False) as con:
            record(con, actor, action, detail)
    except (store.StoreLocked, store.ForeignFile) as exc:
        _LOG.warning("audit row %s by %s not written: %s", action, actor, exc)
        return False
    return True


def read_log(con, *, actors=(), actions=(), start: date | None = None,
             end: date | None = None) -> pd.DataFrame:
    """The log, newest first, filtered by actor, action and the days start..end (both included).

    Columns: at, actor, action, detail (JSON text). Empty filters keep everything.
    """
    return con.execute("""
        SELECT "at", actor, action, detail FROM audit_log
        WHERE (len($actors) = 0 OR list_contains($actors, actor))
          AND (len($actions) = 0 OR list_contains($actions, action))
          AND ($start IS NULL OR "at" >= $start)
          AND ($end IS NULL OR "at" < $end)
        ORDER BY "at" DESC""", {
        "actors": list(actors), "actions": list(actions),
        "start": datetime.combine(start, datetime.min.time()) if start else None,
        "end": datetime.combine(end + timedelta(days=1), datetime.min.time()) if end else None,
    }).df()


def log_filters(con) -> dict:
    """What the filters offer: actors and actions seen, and the first and last day."""
    actors = [r[0] for r in con.execute(
        "SELECT DISTINCT actor FROM audit_log ORDER BY actor").fetchall()]
    actions = [r[0] for r in con.execute(
        "SELECT DISTINCT action FROM audit_log ORDER BY action").fetchall()]
    first, last = con.execute('SELECT min("at")::DATE, max("at")::DATE FROM audit_log').fetchall()[0]
    return {"actors": actors, "actions": actions, "first": first, "last": last}


# The label kind that names the codes of a detail's key (engine.i18n.label).
DETAIL_CODES = {"table": "ingest_table", "action": "action", "status": "followup_status",
                "kind": "backup_kind", "role": "role"}


def describe(action: str, detail: str, lang: str) -> str:
    """A row's JSON detail as a sentence in `lang`: "customers.csv into Customers: 80
    inserted, …" rather than {"batch_id": 1, "file": …}. Keys a sentence does not name
    (an older release's) follow as "· key: value". No ASCII semicolon: a CSV holding one
    is quoted throughout (engine.export)."""
    from engine import i18n
    values = json.loads(detail) if detail else {}
    words = {key: _in_words(key, value, lang) for key, value in values.items()}
    template = i18n.catalogue().get(f"audit.detail.{action}", {}).get(lang, "")
    rest = [f"{key}: {words[key]}" for key in words if "{" + key + "}" not in template]
    return " · ".join([part for part in [template.format_map(_Filled(words)), *rest] if part])



def log_in_words(log: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The log as read_log gives it with each detail a sentence (describe) and each action
    in words, for the Audit page and its file."""
    from engine.words import in_words
    log = log.assign(detail=[describe(a, d, lang) for a, d in zip(log["action"], log["detail"])])
    return in_words(log, lang, {"action": "audit_action"})

class _Filled(dict):
    """Values for a sentence; one an older release did not record shows as a dash."""

    def __missing__(self, key):
        return "—"


def _in_words(key: str, value, lang: str) -> str:
    """One detail value as the reader reads it: codes as labels, yes/no, lists and tables."""
    from engine import i18n
    if isinstance(value, bool):
        return i18n.t("common.yes" if value else "common.no", lang)
    if isinstance(value, dict):
        kind = "dimension" if key == "weights" else "ingest_table"
        return ", ".join(f"{_label(kind, k, lang)} {v:,}" if isinstance(v, int)
                         else f"{_label(kind, k, lang)} {v}" for k, v in value.items())
    if isinstance(value, list):
        return " / ".join(str(v) for v in value)
    if key in DETAIL_CODES and isinstance(value, str):
        return _label(DETAIL_CODES[key], value, lang)
    return f"{value:,}" if isinstance(value, int) else str(value)


def _label(kind: str, code: str, lang: str) -> str:
    from engine import i18n
    if kind == "ingest_table":
        key = f"ingest.table.{code}"
        return i18n.t(key, lang) if key in i18n.catalogue() else code
    return i18n.label(kind, code, lang)
