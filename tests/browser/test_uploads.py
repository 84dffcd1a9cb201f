"""Uploads (issue 19, part 1): none before login, bounded per session, released when it goes.

The probe an attacker ran is run here against the served app (serve.py, as
`make run` starts it): open a session on the login page over the websocket,
take the XSRF cookie from /_stcore/health, PUT a file to the upload route.
"""
from __future__ import annotations

import asyncio
import tomllib
import types

import pytest
import requests
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from engine import access
from engine.ingest.limits import LIMITS
from tests.browser.chromium import serving
from tests.conftest import ROOT
from tests.helpers import login
from ui import uploads

MB = 1024 * 1024


async def _open_session(url: str) -> tuple[str, object]:
    ws = await websockets.connect(url.replace("http", "ws") + "/_stcore/stream",
                                  subprotocols=["streamlit"])
    back = BackMsg()
    back.rerun_script.query_string = ""
    await ws.send(back.SerializeToString())
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
        if msg.WhichOneof("type") == "new_session":
            return msg.new_session.initialize.session_id, ws


def put_file(url: str, session_id: str, data: bytes) -> int:
    """The upload the browser's file_uploader would send, with a valid XSRF token."""
    http = requests.Session()
    http.get(f"{url}/_stcore/health", timeout=10)
    token = http.cookies.get("_streamlit_xsrf")
    reply = http.put(f"{url}/_stcore/upload_file/{session_id}/probe-1",
                     files={"file": ("x.csv", data, "text/csv")},
                     headers={"X-Xsrftoken": token or ""}, timeout=30)
    return reply.status_code


@pytest.fixture
def secrets_file(tmp_path):
    path = tmp_path / "secrets.toml"
    path.write_text(f'[users.ada]\npassword_hash = "{access.hash_password("ada-secret")}"\n'
                    'role = "admin"\n', encoding="utf-8")
    return path


def test_an_upload_from_a_session_on_the_login_page_is_refused(work_db, secrets_file):
    async def probe(url):
        session_id, ws = await _open_session(url)
        try:
            return put_file(url, session_id, b"customer_id\nC1\n" * 1000)
        finally:
            await ws.close()

    with serving(work_db, secrets=secrets_file) as url:   # a copy: the server keeps results in it
        assert asyncio.run(probe(url)) == 403
        assert put_file(url, "no-such-session", b"x") == 403


def test_without_logins_a_session_that_ran_the_app_may_upload(work_db):
    async def probe(url):
        session_id, ws = await _open_session(url)
        try:
            for _ in range(100):   # the script admits the session when its run starts
                msg = ForwardMsg()
                msg.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
                if msg.WhichOneof("type") == "script_finished":
                    break
            return put_file(url, session_id, b"customer_id\nC1\n")
        finally:
            await ws.close()

    with serving(work_db) as url:   # a copy: the server keeps the results it computes in it
        assert asyncio.run(probe(url)) == 204


@pytest.mark.parametrize("name, password, may", [("ada", "ada-secret", True),
                                                 ("max", "max-secret", False),
                                                 ("rita", "rita-secret", False),
                                                 ("ada", "wrong", False)])
def test_only_a_reader_who_may_import_or_restore_is_admitted(app_db, name, password, may,
                                                             monkeypatch):
    monkeypatch.setattr(uploads, "_admitted", {})
    login(app_db, name, password)
    assert list(uploads._admitted.values()) == [may]


class FakeRuntime:
    """What ui.uploads reads of Streamlit's runtime: the sessions connected, the files held."""

    def __init__(self, files: dict[str, int], active: set[str]):
        self.uploaded_file_mgr = types.SimpleNamespace(
            file_storage={sid: {"f": types.SimpleNamespace(data=b"x" * size)}
                          for sid, size in files.items()},
            remove_session_files=lambda sid: self.uploaded_file_mgr.file_storage.pop(sid, None))
        self.active = active

    def is_active_session(self, sid):
        return sid in self.active


@pytest.fixture
def runtime(monkeypatch):
    monkeypatch.setattr(uploads, "_admitted", {})
    monkeypatch.setattr(uploads, "_gone_since", {})
    rt = FakeRuntime({"s1": 3 * MB, "s2": 1 * MB}, active={"s1"})
    monkeypatch.setattr(uploads, "_runtime", lambda: rt)
    monkeypatch.setenv("CRM_MAX_SESSION_UPLOAD_MB", "5")
    return rt


def test_a_session_holds_at_most_its_share(runtime):
    uploads.admit("s1", True)
    path = "/_stcore/upload_file/s1/f2"
    assert uploads.refusal(path, "PUT", str(2 * MB)) is None          # 3 + 2 = 5 MB
    assert uploads.refusal(path, "PUT", str(2 * MB + 1))[0] == 413
    assert uploads.refusal(path, "PUT", None)[0] == 411                # size not said
    assert uploads.refusal("/_stcore/upload_file/s3/f", "PUT", "10")[0] == 403
    assert uploads.refusal(path, "DELETE", None) is None               # removing is fine


def test_a_gone_sessions_files_are_released_after_the_grace(runtime):
    uploads.admit("s1", True)
    uploads.admit("s2", True)
    assert uploads.release_idle(now=100.0) == []                       # s2 seen gone now
    assert uploads.release_idle(now=100.0 + uploads.RELEASE_AFTER_S - 1) == []
    assert uploads.release_idle(now=100.0 + uploads.RELEASE_AFTER_S) == ["s2"]
    assert set(runtime.uploaded_file_mgr.file_storage) == {"s1"}
    assert not uploads.may_upload("s2") and uploads.may_upload("s1")


def test_the_upload_limit_is_the_servers_and_documented():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == LIMITS["max_upload_mb"].default
    assert LIMITS["max_session_upload_mb"].default >= LIMITS["max_upload_mb"].default
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "python serve.py" in readme and "upload_file" in readme
