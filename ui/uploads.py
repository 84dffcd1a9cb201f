"""Who may send files to the server, and how much (issue 19, part 1).

Streamlit accepts a PUT to `/_stcore/upload_file/<session>/<id>` from any
open session, logged in or not, and keeps the bytes in memory until the
session is shut down; it has no hook to refuse one. `serve.py` runs the
dashboard as an `st.App` with `UploadGate` in front of Streamlit's routes:

* a session may upload only once `ui.auth.gate` has let in a reader whose
  role may import or restore (`admit`); every other session, including one
  that has not run the script yet, gets 403 before a byte of the body is read;
* an upload must say its size (Content-Length), and a session's uploads held
  at once may not pass the `max_session_upload_mb` limit (413);
* the uploads of a session whose browser has gone (no longer connected for
  RELEASE_AFTER_S) are dropped, with its admission, by `release_idle`, which
  the server runs every SWEEP_S and before each upload.

The registry lives in this process, as Streamlit's sessions do.
"""
from __future__ import annotations

import asyncio
import re
import threading
import time
from contextlib import asynccontextmanager

from engine.ingest.limits import limit

UPLOAD_PATH = re.compile(r"/_stcore/upload_file/([^/]*)")
RELEASE_AFTER_S = 60.0   # a browser that reconnects within a minute keeps its files
SWEEP_S = 15.0
MB = 1024 * 1024

_lock = threading.Lock()
_admitted: dict[str, bool] = {}    # session id -> may upload
_gone_since: dict[str, float] = {}  # session id -> when it was first seen disconnected


def admit(session_id: str | None, may_upload: bool) -> None:
    """Record whether the reader of this session may upload (called on every run)."""
    if session_id:
        with _lock:
            _admitted[session_id] = may_upload


def may_upload(session_id: str) -> bool:
    with _lock:
        return _admitted.get(session_id, False)


def current_session_id() -> str | None:
    """The id Streamlit gave the session running this script (None outside a run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_id if ctx is not None else None


def _runtime():
    from streamlit import runtime
    return runtime.get_instance() if runtime.exists() else None


def held_bytes(session_id: str) -> int:
    """Bytes of the files this session has uploaded and Streamlit still holds."""
    rt = _runtime()
    storage = getattr(rt.uploaded_file_mgr, "file_storage", {}) if rt else {}
    return sum(len(rec.data) for rec in list(storage.get(session_id, {}).values()))


def release_idle(now: float | None = None) -> list[str]:
    """Drop the uploads and admission of sessions disconnected for RELEASE_AFTER_S; their ids."""
    rt = _runtime()
    if rt is None:
        return []
    now = time.monotonic() if now is None else now
    storage = getattr(rt.uploaded_file_mgr, "file_storage", {})
    with _lock:
        known = set(_admitted) | set(storage)
        gone = {sid for sid in known if not rt.is_active_session(sid)}
        for sid in set(_gone_since) - gone:
            del _gone_since[sid]
        released = [sid for sid in gone
                    if now - _gone_since.setdefault(sid, now) >= RELEASE_AFTER_S]
        for sid in released:
            _admitted.pop(sid, None)
            _gone_since.pop(sid, None)
    for sid in released:
        rt.uploaded_file_mgr.remove_session_files(sid)
    return released


def refusal(path: str, method: str, content_length: str | None) -> tuple[int, str] | None:
    """(status, reason) when this request must not reach Streamlit's upload route, else None."""
    match = UPLOAD_PATH.search(path)
    if match is None or method not in ("PUT", "POST"):
        return None
    session_id = match.group(1)
    if not may_upload(session_id):
        return 403, "Uploads need a logged-in session allowed to import or restore."
    if not (content_length or "").isdigit():
        return 411, "An upload must state its Content-Length."
    most = limit("max_session_upload_mb") * MB
    if held_bytes(session_id) + int(content_length) > most:
        return 413, (f"This session would hold more than {limit('max_session_upload_mb')} MB "
                     "of uploads; remove a file first.")
    return None


class UploadGate:
    """ASGI middleware: refuses uploads by `refusal` before Streamlit reads their bodies."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and "upload_file" in scope["path"]:
            release_idle()
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope.get("headers", [])}
            refused = refusal(scope["path"], scope["method"], headers.get("content-length"))
            if refused is not None:
                from starlette.responses import PlainTextResponse
                await PlainTextResponse(refused[1], status_code=refused[0])(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def lifespan(_app):
    """Run `release_idle` every SWEEP_S while the server runs."""
    async def sweep():
        while True:
            await asyncio.sleep(SWEEP_S)
            release_idle()
    task = asyncio.create_task(sweep())
    try:
        yield None
    finally:
        task.cancel()
