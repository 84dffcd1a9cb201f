"""What every page needs to know: database, its data version, as-of date, language.

The sidebar (drawn once by app.py) sets these in session state; pages read
them through `current()`. The data version is read from the file on each
run, so a write by the command line shows up on the next interaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from engine import i18n, store
from ui import auth, data


@dataclass(frozen=True)
class Context:
    db: str
    version: int
    as_of: date | None
    lang: str

    def t(self, key: str, **values) -> str:
        return i18n.t(key, self.lang, **values)

    def label(self, kind: str, code) -> str:
        return i18n.label(kind, code, self.lang)


def language() -> str:
    """The reader's language: their choice, else the browser's, else English."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = i18n.normalise_language(st.context.locale)
    return st.session_state["lang"]


def _choose_language() -> None:
    st.session_state["lang"] = st.session_state["lang_widget"]


def sidebar() -> None:
    """Language switch, data source and as-of date; stores the Context."""
    lang = language()
    # The widget has its own key, mirrored from "lang" on every run: widget
    # state is dropped on a run that does not draw the widget, the choice
    # itself must never be.
    st.session_state["lang_widget"] = lang
    with st.sidebar:
        st.radio(i18n.t("sidebar.language", lang), i18n.LANGUAGES, key="lang_widget",
                 format_func={"zh": "中文", "en": "English"}.get, horizontal=True,
                 on_change=_choose_language)
        st.subheader(i18n.t("sidebar.data_source", lang))
        db = st.text_input(i18n.t("sidebar.db_path", lang),
                           value=str(store.default_db_path()), key="db_path",
                           help=i18n.t("sidebar.db_path_help", lang),
                           disabled=not auth.allowed("choose_database"))
        st.session_state["context"] = _source(db, lang)


def _source(db: str, lang: str) -> Context | None:
    """Describe the file in the sidebar; None when there is nothing to show."""
    if not Path(db).exists():
        st.info(i18n.t("sidebar.no_db", lang, path=db))
        _demo_button(db, lang)
        return None
    try:
        version = store.data_version(db)
    except store.StoreLocked as exc:
        st.error(i18n.t("sidebar.locked", lang, path=db, seconds=exc.waited))
        return None
    summary = data.source_summary(db, version)
    counts, first, last = summary["counts"], summary["first"], summary["last"]
    if auth.scope() is None:   # whole-base counts are not a rep's to see
        st.caption(i18n.t("sidebar.rows", lang, **counts))
    if last is None:
        st.info(i18n.t("sidebar.empty", lang))
        _demo_button(db, lang)
        return Context(db, version, None, lang)
    st.caption(i18n.t("sidebar.range", lang, start=first, end=last))
    as_of = st.date_input(i18n.t("sidebar.as_of", lang), value=last,
                          min_value=first, max_value=last, key=f"as_of:{db}",
                          help=i18n.t("sidebar.as_of_help", lang))
    return Context(db, version, as_of, lang)


def _demo_button(db: str, lang: str) -> None:
    if st.button(i18n.t("sidebar.create_demo", lang), disabled=not auth.allowed("reset")):
        bar = st.progress(0.0, text=i18n.t("sidebar.creating_demo", lang))
        data.create_demo(db, progress=bar.progress)
        st.rerun()


def current() -> Context | None:
    """The context the sidebar stored for this run."""
    return st.session_state.get("context")


def require() -> Context:
    """The context, or stop the page with a note when there is no data yet."""
    ctx = current()
    if ctx is None or ctx.as_of is None:
        st.info(i18n.t("sidebar.empty", language()))
        st.stop()
    return ctx


def not_yet(title_key: str) -> None:
    """The one-line notice of a page whose issue is still open."""
    lang = language()
    st.title(i18n.t(title_key, lang))
    st.info(i18n.t("common.not_yet", lang))
