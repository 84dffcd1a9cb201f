"""Data 数据导入: bring in the customers' own files, see the import history, undo, start over.

Works without data too: the database path comes from the sidebar, and the
first import creates the file. Every write (import, undo, reset, saved
mapping) bumps the data version; the page then reruns, so the sidebar and
the other pages show the new data.
"""
import functools
from pathlib import Path

import pandas as pd
import streamlit as st

from engine import i18n
from engine.currency import SIGNS
from engine.ingest import TABLES, ImportRejected, UndoRefused, required
from engine.store import StoreLocked
from ui import auth, backup_view, context, import_view as view
from ui.data import imports as imports_data
from ui.data import sources as sources_data

ss = st.session_state
lang = context.language()
t = functools.partial(i18n.t, lang=lang)
context.require_database("source.needs.data", title_key="data_page.title")
if context.problem():   # a refused or foreign file: nothing here may read or write it
    st.title(t("data_page.title"))
    st.error(context.problem())
    st.stop()
db, version = view.database()
HISTORY_SHOWN = 20
ADMIN = auth.allowed("import")   # import, undo and reset: admins only (the data layer refuses others)


def admin_only() -> bool:
    """Say why the tab is closed to this reader; True when it is."""
    if not ADMIN:
        st.info(t("access.admin_only", role=i18n.label("role", auth.current().role, lang)),
                icon=":material/lock:")
    return not ADMIN


def currency_choice() -> None:
    """The sign the file's amounts are shown with on every page and in the review (once
    the first import has made the file: the sidebar has read the sign with its version)."""
    ctx = context.current()
    if ctx is None:
        return
    current = ctx.currency
    column, _ = st.columns([1, 3])
    chosen = column.selectbox(t("data_page.currency.label"), SIGNS, index=SIGNS.index(current),
                              format_func=lambda s: s or t("data_page.currency.none"),
                              help=t("data_page.currency.help"), key="data_page.currency")
    if chosen == current:
        return
    try:
        imports_data.save_currency(db, chosen)
    except StoreLocked as exc:
        st.error(view.locked(db, lang, exc.waited))
        return
    view.flash("currency", chosen)
    st.rerun()


def import_tab() -> None:
    if admin_only():
        return
    currency_choice()
    table = st.segmented_control(t("data_page.table.label"), list(TABLES), key="data_page.table",
                                 default="customers", required=True,
                                 format_func=lambda n: view.table_label(n, lang))
    st.caption(" ".join([t("data_page.table.required", columns=t("data_page.list_separator").join(
        view.column_name(c, lang) for c in required(table))), t("data_page.table.order")]))
    uploads = st.file_uploader(t("data_page.upload.label", table=view.table_label(table, lang)),
                               type=view.UPLOAD_TYPES, accept_multiple_files=True,
                               key=f"data_page.upload.{table}.{ss.get(view.UPLOADS, 0)}")
    create = False
    if table != "customers":
        empty = counts["customers"] == 0   # on by default while there are no customers yet
        create = st.checkbox(t("data_page.import.create"), value=empty, key=f"data_page.create.{empty}",
                             help=t("data_page.import.create_help"))
    if not uploads:
        st.info(t("data_page.upload.none"))
        return
    ready = [view.file_card(u, table, db, version, lang, create) for u in uploads]
    files = [r for r in ready if r is not None]
    skip = False
    if any(r.report.rejected for r in files):
        skip = st.radio(t("data_page.import.on_problems"), (False, True), key="data_page.skip",
                        format_func=lambda s: t("data_page.import.skip" if s
                                                else "data_page.import.reject"))
    blocked = len(files) < len(uploads)
    if blocked:
        st.warning(t("data_page.import.blocked"))
    refused = [r.upload.name for r in files if r.report.rejected and not skip]
    if refused:   # said before the click, and the button no longer invites it
        st.warning(t("data_page.import.will_reject", files=", ".join(refused)))
    label = i18n.plural("data_page.import.button", len(uploads), lang,
                        table=view.table_label(table, lang))
    if st.button(label, type="secondary" if refused else "primary", disabled=blocked,
                 key="data_page.import", icon=":material/upload:"):
        run_import(files, table, create=create, skip=skip)


def run_import(files: list, table: str, *, create: bool, skip: bool) -> None:
    """Import every file (one transaction per group of files), with a progress bar."""
    bar = st.progress(0.0, text=t("ingest.stage.read"))
    groups = view.import_groups(files, table)
    reports, error = [], None
    for k, (items, options) in enumerate(groups):
        def step(fraction, stage, k=k):
            bar.progress(min((k + fraction) / len(groups), 1.0), text=t(f"ingest.stage.{stage}"))
        try:
            reports += imports_data.import_files(db, items, progress=step, create_customers=create,
                                                 skip_invalid=skip, lang=lang, **options)
        except ImportRejected as exc:
            error = view.as_markdown(exc.message(lang))
            break
        except StoreLocked as exc:
            error = view.locked(db, lang, exc.waited)
            break
    bar.empty()
    if not reports:
        st.error(error)
        return
    view.flash("import", (reports, error))
    if error is None:
        view.clear_uploads()
    st.rerun()


def undo(batch_id: int) -> None:
    """Undo one batch (a button callback: it runs before the sidebar is drawn)."""
    try:
        view.flash("undo", imports_data.undo_import(db, batch_id))
    except UndoRefused as exc:
        view.flash("error", exc.message(lang))
    except StoreLocked as exc:
        view.flash("error", view.locked(db, lang, exc.waited))


def history_tab() -> None:
    batches = imports_data.import_batches(db, version)
    if batches.empty:
        st.info(t("data_page.history.none"))
        return
    for row in batches.head(HISTORY_SHOWN).itertuples():
        with st.container(border=True):
            text, action = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"**#{row.batch_id} · {view.escape(row.file_name)}** · " + t(
                "data_page.history.row", table=view.table_label(row.table_name, lang),
                when=f"{row.imported_at:%Y-%m-%d %H:%M}"))
            text.caption(t("data_page.history.counts", inserted=f"{row.rows_inserted:,}",
                           updated=f"{row.rows_updated:,}", unchanged=f"{row.rows_unchanged:,}",
                           rejected=f"{row.rows_rejected:,}", created=f"{row.customers_created:,}"))
            if pd.notna(row.undone_at):
                action.caption(t("data_page.history.undone", when=f"{row.undone_at:%Y-%m-%d %H:%M}"))
                continue
            if not ADMIN:
                continue
            with action.popover(t("data_page.undo.button"), icon=":material/undo:", width="stretch"):
                st.markdown(t("data_page.undo.question", batch=row.batch_id,
                              file=view.escape(row.file_name), rows=f"{row.rows_inserted:,}"))
                st.button(t("data_page.undo.confirm", batch=row.batch_id), type="primary",
                          key=f"data_page.undo.{row.batch_id}", on_click=undo, args=(int(row.batch_id),))
    if len(batches) > HISTORY_SHOWN:
        st.caption(t("data_page.history.older", shown=HISTORY_SHOWN, count=len(batches)))
    with st.expander(t("data_page.history.all")):
        shown = batches.drop(columns="content_hash").assign(
            table_name=batches["table_name"].map(lambda n: view.table_label(n, lang)))
        names = {c: t(f"data_page.batch.{c}") for c in ("batch_id", "file_name", "table_name",
                                                         "imported_at", "undone_at")}
        names |= {f"rows_{c}": t(f"data_page.report.{c}")
                  for c in ("inserted", "updated", "unchanged", "rejected")}
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config=names | {"customers_created": t("data_page.report.created")})


def reset_tab() -> None:
    if admin_only():
        return
    st.caption(t("data_page.reset.intro"))
    demo = st.radio(t("data_page.reset.choice"), (True, False), key="data_page.reset_demo",
                    horizontal=True,
                    format_func=lambda d: t("data_page.reset.demo" if d else "data_page.reset.empty"))
    with st.popover(t("data_page.reset.button"), icon=":material/restart_alt:"):
        st.warning(t("data_page.reset.warning", **counts))
        confirmed = st.button(t("data_page.reset.confirm"), type="primary",
                              key="data_page.reset_confirm")
    if confirmed:
        bar = st.progress(0.0, text=t("data_page.reset.working"))
        try:
            rows = imports_data.reset_data(db, demo=demo, progress=bar.progress)
        except StoreLocked as exc:
            bar.empty()
            st.error(view.locked(db, lang, exc.waited))
            return
        view.flash("reset", (demo, rows))
        view.clear_uploads()
        st.rerun()


st.title(t("data_page.title"))
st.caption(t("data_page.caption"))
exists = Path(db).exists()
counts = (sources_data.source_summary(db, version)["counts"] if exists and version >= 0
          else dict.fromkeys(TABLES, 0))
if not exists:
    st.info(t("data_page.no_db", path=db))
elif version < 0:
    st.error(view.locked(db, lang))
    st.stop()
view.show_flash(lang)
view.samples(lang)
tabs = st.tabs([t("data_page.tab.import"), t("data_page.tab.history"), t("data_page.tab.reset"),
                t("backup.tab")])
# The import tab is filled last: whatever an uploaded file does to it, the history,
# start over and backup tabs are already drawn.
with tabs[1]:
    history_tab()
with tabs[2]:
    reset_tab()
with tabs[3]:
    if not admin_only():   # a backup holds every owner's customers
        backup_view.backup_tab(db, version, lang)
with tabs[0]:
    import_tab()
