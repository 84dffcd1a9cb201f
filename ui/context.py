"""What every page needs to know: database, its data version, as-of date, language.

The sidebar (drawn once by app.py) sets these in session state; pages read
them through `current()`. The data version is read from the file on each
run, so a write by the command line shows up on the next interaction.

The source is a database file or a precomputed feature table (a folder
written by `engine features --out`); for the latter `db` is the folder and
`version` changes with its files, so ui.data's caches stay keyed right.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import streamlit as st

from engine import i18n, store
from engine.currency import DEFAULT as DEFAULT_CURRENCY
from engine.features import parquet_source
from ui import auth, preparation
from ui.data import sources as sources_data
from ui.settings import show_settings_in_url

SOURCE_KIND = "source_kind"   # session key of the sidebar's choice of source
PROBLEM = "source_problem"    # why the sidebar shows no data (a locked or refused file), this run
SOURCE_KINDS = ("database", "feature_table")


@dataclass(frozen=True)
class Context:
    db: str
    version: int
    as_of: date | None
    lang: str
    feature_table: bool = False   # db is a feature table folder: no raw events, no writes
    currency: str = DEFAULT_CURRENCY   # the sign amounts are shown with (engine.currency)

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
        st.session_state.pop(PROBLEM, None)
        st.session_state["context"] = choose_source(lang)
    show_settings_in_url()


def choose_source(lang: str) -> Context | None:
    """The source choice: a database file (read and written) or a feature table (read only).

    CRM_FEATURES, when set, names the default feature table folder and makes
    it the default source.
    """
    default = os.environ.get("CRM_FEATURES", "")
    fixed = not auth.allowed("choose_database")   # only an admin points the app elsewhere
    kind = st.radio(i18n.t("source.kind", lang), SOURCE_KINDS, index=1 if default else 0,
                    key=SOURCE_KIND, format_func=lambda k: i18n.t(f"source.kind.{k}", lang),
                    help=i18n.t("source.kind_help", lang), disabled=fixed)
    if kind == "feature_table":
        folder = st.text_input(i18n.t("source.folder", lang), value=default, key="features_path",
                               help=i18n.t("source.folder_help", lang), disabled=fixed)
        folder = folder.strip()
        return None if _refused(folder, default, lang) else _feature_table(folder, lang)
    db = st.text_input(i18n.t("sidebar.db_path", lang),
                       value=str(store.default_db_path()), key="db_path",
                       help=i18n.t("sidebar.db_path_help", lang), disabled=fixed)
    return None if _refused(db, str(store.default_db_path()), lang) else _source(db, lang)


def _refused(path: str, operator_set: str, lang: str) -> bool:
    """Refuse (and say why) a typed path outside the operator's data folder: the
    dashboard opens and creates files only there, or at the path the operator set."""
    if not path or store.in_data_folder(path) or (
            operator_set and Path(path).resolve() == Path(operator_set).resolve()):
        return False
    _problem(i18n.t("source.outside_data_folder", lang, path=path,
                    folder=str(store.data_folder())))
    return True


def _problem(message: str) -> None:
    """Show why there is no data in the sidebar, and keep it for the page (`require`)."""
    st.error(message)
    st.session_state[PROBLEM] = message


def _feature_table(folder: str, lang: str) -> Context | None:
    """Describe the feature table in the sidebar, its own as-of date shown; None when unusable."""
    if not folder:
        st.info(i18n.t("source.folder_empty", lang))
        return None
    try:
        version = parquet_source.feature_table_version(folder)
        summary = sources_data.feature_table_summary(folder, version)
    except parquet_source.FeatureTableError as exc:
        st.error(exc.message(lang))
        return None
    if summary["as_of"] is None:
        st.error(i18n.t("source.error.no_as_of", lang, path=folder))
        return None
    st.caption(i18n.t("source.rows", lang, customers=summary["customers"],
                      engine=summary["engine"]))
    st.caption(i18n.t("source.as_of", lang, as_of=summary["as_of"]))
    return Context(folder, version, summary["as_of"], lang, feature_table=True)


def _source(db: str, lang: str) -> Context | None:
    """Describe the file in the sidebar; None when there is nothing to show."""
    if not Path(db).exists():
        st.info(i18n.t("sidebar.no_db", lang, path=db))
        _demo_button(db, lang)
        return None
    try:
        version, sign = sources_data.version_and_currency(db)
    except store.StoreLocked as exc:
        _problem(i18n.t("sidebar.locked", lang, path=db, seconds=exc.waited))
        return None
    except store.ForeignFile as exc:
        _problem(i18n.t(f"source.foreign.{exc.reason}", lang, path=db, detail=exc.detail))
        return None
    summary = sources_data.source_summary(db, version)
    counts, first, last = summary["counts"], summary["first"], summary["last"]
    if auth.scope() is None:   # whole-base counts are not a rep's to see
        st.caption(i18n.t("sidebar.rows", lang, **counts))
    if last is None:
        st.info(i18n.t(_empty_note(counts), lang))
        _demo_button(db, lang)
        return Context(db, version, None, lang, currency=sign)
    st.caption(i18n.t("sidebar.range", lang, start=first, end=last))
    as_of = st.date_input(i18n.t("sidebar.as_of", lang), value=last,
                          min_value=first, max_value=last, key=f"as_of:{db}",
                          help=i18n.t("sidebar.as_of_help", lang))
    preparation.show(preparation.start(db, version), lang)
    return Context(db, version, as_of, lang, currency=sign)


def _demo_button(db: str, lang: str) -> None:
    if st.button(i18n.t("sidebar.create_demo", lang), disabled=not auth.allowed("reset")):
        bar = st.progress(0.0, text=i18n.t("sidebar.creating_demo", lang))
        sources_data.create_demo(db, progress=bar.progress)
        st.rerun()


def current() -> Context | None:
    """The context the sidebar stored for this run."""
    return st.session_state.get("context")


def problem() -> str | None:
    """Why the sidebar shows no data this run (a locked, refused or foreign file), if so."""
    return st.session_state.get(PROBLEM)


def require() -> Context:
    """The context, or stop the page with a note when there is no data yet."""
    ctx = current()
    if ctx is None and st.session_state.get(PROBLEM):   # the sidebar said why: say it here too
        st.error(st.session_state[PROBLEM])
        st.stop()
    if ctx is None or ctx.as_of is None:
        feature_table = st.session_state.get(SOURCE_KIND) == "feature_table"
        key = ("source.no_table" if feature_table else "sidebar.empty" if ctx is None
               else _empty_note(sources_data.source_summary(ctx.db, ctx.version)["counts"]))
        st.info(i18n.t(key, language()))
        st.stop()
    return ctx


def _empty_note(counts: dict) -> str:
    """Why there is no date to show figures as of: an empty file, or customers without events
    (not "the database is empty" beside "80 customers")."""
    return "sidebar.no_events" if counts["customers"] else "sidebar.empty"


def require_database(key: str, title_key: str | None = None) -> None:
    """Stop a page, or its last part, that reads raw events or writes, when the source is a
    feature table; the catalogue text `key` says what needs the database and why (under
    the page title `title_key` when the page has not drawn it yet)."""
    if st.session_state.get(SOURCE_KIND) == "feature_table":
        if title_key:
            st.title(i18n.t(title_key, language()))
        st.info(i18n.t(key, language()), icon=":material/database:")
        st.stop()


def not_yet(title_key: str) -> None:
    """The one-line notice of a page whose issue is still open."""
    lang = language()
    st.title(i18n.t(title_key, lang))
    st.info(i18n.t("common.not_yet", lang))


def card_row(n: int) -> list:
    """Places for n metric cards side by side that move onto a new line when their text
    does not fit (st.columns would cut a long label or a large amount with "…")."""
    return [st.container(horizontal=True)] * n
