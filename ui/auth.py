"""Login and the reader's rights in the dashboard (issue 11, part 3).

`gate()` runs in app.py before the navigation: with no user configured it
returns `access.LOCAL` (the app works as before, and the sidebar says that
nobody has to log in); otherwise it draws the login and stops the run until
someone has logged in. The reader is kept in session state, which lives on
the server, so the browser cannot claim a role.

The data layer asks `actor(action)` before each write (refused with
`Forbidden`, whatever the page drew) and `scope()` before each read of
customers, so a rep's lists, profiles and downloads hold their own customers
only.
"""
from __future__ import annotations

import functools
import math
import time

import streamlit as st

from engine import access, audit, i18n, store
from ui import uploads

USER = "auth.user"   # the access.User of this session
BY = "auth.by"       # how they logged in: "password" or "oidc"
UPLOADERS = ("import", "restore")   # a reader who may do neither has nothing to upload


class Forbidden(PermissionError):
    """The reader's role may not do this; raised by the data layer, shown as a refusal."""

    def __init__(self, action: str):
        self.action = action
        super().__init__(f"not allowed: {action}")

    def message(self, lang: str) -> str:
        return i18n.t("access.forbidden", lang)


def _secrets() -> dict:
    """The secrets file as a dict; empty when there is none."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:   # Streamlit's "no secrets file" error is one
        return {}


def configured_users() -> dict[str, access.User]:
    """The `[users]` of the secrets file (AccessConfigError when unusable)."""
    return access.load_users(_secrets().get("users", {}))


def _oidc_providers() -> list[str | None]:
    """The OIDC providers of `[auth]` for st.login(): None for one set up in `[auth]` itself,
    else the names of its `[auth.NAME]` sections; empty without OIDC."""
    section = _secrets().get("auth", {})
    named = [name for name, value in section.items() if isinstance(value, dict)]
    return named or ([None] if section.get("client_id") else [])


def logins_configured() -> bool:
    """Whether the secrets name users or an OIDC provider (an unusable `[users]` counts)."""
    try:
        users = configured_users()
    except access.AccessConfigError:
        return True
    return bool(users or _oidc_providers())


LOCALHOST = "127.0.0.1"


def default_address(given: str | None) -> str | None:
    """The address to listen on when the operator named none: this computer only while
    nobody has to log in; None to keep theirs (or Streamlit's, every interface)."""
    from streamlit import config
    if given or config.get_option("server.address") or logins_configured():
        return None
    return LOCALHOST


def start_note(address: str | None) -> str:
    """What the server says on start, in both languages: who can reach it."""
    key = ("access.start.logins" if logins_configured() else
           "access.start.local" if address in (LOCALHOST, "localhost") else "access.start.open")
    return "\n".join(i18n.t(key, lang, address=address or "0.0.0.0") for lang in ("en", "zh"))


def gate(lang: str) -> access.User:
    """The reader of this run; without one, draw the login and stop the run."""
    try:
        users = configured_users()
    except access.AccessConfigError as exc:
        st.error(i18n.t("access.config_error", lang, detail=str(exc)))   # fail closed
        st.stop()
    oidc = _oidc_providers()
    if not users and not oidc:
        user = access.LOCAL
    else:
        user = _logged_in(users, oidc, lang)
        if user is None:
            st.session_state.pop(USER, None)
            uploads.admit(uploads.current_session_id(), False)
            _login_page(users, oidc, lang)
            st.stop()
    st.session_state[USER] = user
    uploads.admit(uploads.current_session_id(), any(
        access.allowed(user.role, action) for action in UPLOADERS))
    return user


def _logged_in(users: dict, oidc: list, lang: str) -> access.User | None:
    """The user logged in by password (as configured now) or by OIDC, mapped by e-mail."""
    kept = st.session_state.get(USER)
    if kept is not None and st.session_state.get(BY) == "password":
        return users.get(kept.name)    # as configured now: a user removed from the file is out
    if oidc and st.user.is_logged_in:
        email = st.user.to_dict().get("email")
        user = access.user_for_email(users, email)
        if user is None:
            st.warning(i18n.t("access.oidc_unknown", lang, email=email or "?"))
            if st.button(i18n.t("access.logout", lang), key="auth.oidc_out"):
                st.logout()
            st.stop()
        st.session_state[BY] = "oidc"
        return user
    return None


def _login_page(users: dict, oidc: list, lang: str) -> None:
    t = functools.partial(i18n.t, lang=lang)
    st.session_state["auth.lang"] = lang
    st.radio(t("sidebar.language"), i18n.LANGUAGES, key="auth.lang", horizontal=True,
             format_func={"zh": "中文", "en": "English"}.get, on_change=_choose_language)
    st.title(t("access.login.title"))
    if any(u.password_hash for u in users.values()):
        with st.form("auth.login", width=420):
            name = st.text_input(t("access.login.name"), autocomplete="username")
            password = st.text_input(t("access.login.password"), type="password",
                                     autocomplete="current-password")
            sent = st.form_submit_button(t("access.login.button"), type="primary",
                                         icon=":material/login:")
        if sent:
            _try_login(users, name, password, t)
    for provider in oidc:
        label = t("access.login.oidc", provider=provider or "OIDC")
        if st.button(label, icon=":material/badge:", key=f"auth.oidc_in.{provider}"):
            st.login(*[provider] if provider else [])


def _try_login(users: dict, name: str, password: str, t) -> None:
    """Check the password unless this name or address must wait (access.LOGINS); every
    outcome goes to the audit log of the operator's database."""
    name = (name or "").strip()
    keys = (f"user:{name.lower()}", f"address:{st.context.ip_address or 'local'}")
    now = time.monotonic()
    db = store.default_db_path()
    detail = {"address": st.context.ip_address or "local"}
    wait = access.LOGINS.wait(keys, now)
    if wait > 0:
        audit.log_event(db, name or "?", "login_refused", detail | {"wait_s": round(wait)})
        st.error(t("access.login.wait", seconds=f"{math.ceil(wait):,}"))
        return
    user = access.authenticate(users, name, password)
    if user is None:
        access.LOGINS.failed(keys, now)
        audit.log_event(db, name or "?", "login_failed", detail)
        st.error(t("access.login.failed"))
        return
    access.LOGINS.succeeded(keys[0])
    audit.log_event(db, user.name, "login", detail | {"role": user.role})
    _start(user)


def _choose_language() -> None:
    st.session_state["lang"] = st.session_state["auth.lang"]


def _start(user: access.User) -> None:
    """A fresh session for the user: nothing chosen by whoever used this browser before."""
    lang = st.session_state.get("lang")
    st.session_state.clear()
    st.session_state["lang"] = lang
    st.session_state[USER] = user
    st.session_state[BY] = "password"
    st.rerun()


def _logout() -> None:
    lang = st.session_state.get("lang")
    st.session_state.clear()
    st.session_state["lang"] = lang


def sidebar(user: access.User, lang: str) -> None:
    """Who is logged in, with a logout button; or the note that no login is configured."""
    with st.sidebar:
        if user == access.LOCAL:
            return   # said at the top by `no_login_note`
        role = i18n.label("role", user.role, lang)
        st.caption(i18n.t("access.signed_in", lang, name=user.name, role=role)
                   + (" · " + i18n.t("access.owner", lang, owner=user.owner) if user.scope else ""))
        if st.session_state.get(BY) == "oidc":   # logged in by OIDC: end Streamlit's identity cookie too
            if st.button(i18n.t("access.logout", lang), icon=":material/logout:", key="auth.logout"):
                st.logout()
        else:
            st.button(i18n.t("access.logout", lang), icon=":material/logout:", key="auth.logout",
                      on_click=_logout)


def no_login_note(user: access.User, lang: str) -> None:
    """At the top of the sidebar, without logins: everyone may do everything, and who can
    reach the server."""
    if user != access.LOCAL:
        return
    address = st.get_option("server.address") or "0.0.0.0"
    where = "local" if address in (LOCALHOST, "localhost", "::1") else "open"
    with st.sidebar:
        st.warning(i18n.t("access.no_login", lang) + "  \n"
                   + i18n.t(f"access.no_login.{where}", lang, address=address))


def current() -> access.User | None:
    """The reader of this session, once `gate` has let them in."""
    return st.session_state.get(USER)


def allowed(action: str) -> bool:
    """May this session's reader do `action` (an access.PERMISSIONS key)?"""
    user = current()
    return user is not None and access.allowed(user.role, action)


def actor(action: str) -> str:
    """The name to record for `action`, after checking the reader may do it (else Forbidden)."""
    if not allowed(action):
        raise Forbidden(action)
    return current().name


def scope() -> str | None:
    """The owner whose customers this reader may see; None for all. Forbidden before a login."""
    user = current()
    if user is None:
        raise Forbidden("read")
    return user.scope
