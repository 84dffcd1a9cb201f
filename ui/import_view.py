"""Parts of the Data page: one uploaded file (options, mapping, check), the outcome of
the last write, the sample files.

Reads go through ui.data (cached on the file's upload id and the data version).
The page writes through ui.data too; after a write it keeps what happened under
FLASH and reruns, so the sidebar and every page show the new data and this page
shows the outcome once.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from engine import i18n, store
from engine.ingest import (ALL_SHEETS, ImportItem, ImportRejected, column_choices,
                           detect_platform, mapping_frame, mapping_problems, money_columns,
                           platform_mapping, required)
from engine.ingest.errors import column_label, sheets_left_out_note
from ui import context, downloads
from ui.data import imports as imports_data
from ui.data.common import on_click
from ui.format import escape

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
SAMPLE_FILES = ("customers.csv", "transactions.csv", "transactions.xlsx", "interactions.csv",
                "followups.csv", "taobao_orders.csv", "order_lines.xlsx")
UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx"]
AUTO = "auto"   # an option meaning "let the engine detect it" (None to the engine)
IGNORE = "-"    # the mapping editor's "not imported" (None to the engine)
ENCODINGS = (AUTO, "utf-8", "gbk", "gb18030", "big5", "utf-16")
SEPARATORS = {AUTO: "data_page.option.auto", ",": "data_page.separator.comma",
              ";": "data_page.separator.semicolon", "\t": "data_page.separator.tab",
              "|": "data_page.separator.pipe"}
FLASH = "data_page.flash"      # (kind, payload) of the last write, shown once after the rerun
UPLOADS = "data_page.uploads"  # bumped after an import to empty the uploaders
PROBLEMS_SHOWN = 50   # the dry run's problems on the page; the rejects file holds them all
MIME = {f".{kind}": mime for kind, mime in downloads.MIME.items()}   # by the file's suffix


@dataclass
class Ready:
    """A file whose mapping works and whose dry run is done: what to import with."""
    upload: object
    mapping: dict
    options: dict       # encoding / delimiter (text) or sheet (xlsx); None = automatic
    report: object      # the ImportReport of the dry run


def database() -> tuple[str, int]:
    """The database the sidebar names and its data version (-1 when there is none to read).

    The sidebar stores no Context while there is no database file
    yet, and the Data page is where a manager starts then; so the path and
    version are read here rather than taken from the Context.
    """
    ctx = context.current()
    db = ctx.db if ctx is not None else (st.session_state.get("db_path")
                                         or str(store.default_db_path()))
    if not Path(db).exists():
        return db, -1
    try:
        return db, store.data_version(db)
    except store.StoreLocked:
        return db, -1


def table_label(table: str, lang: str) -> str:
    return i18n.t(f"ingest.table.{table}", lang)


def column_name(name: str, lang: str, *, star: bool = False) -> str:
    """A canonical column as the reader knows it, the stored name after it: 金额 (amount),
    Amount (amount)."""
    label = column_label(name, lang, in_message=False)
    text = label if label == name else f"{label} ({name})"
    return f"{text} *" if star else text


def refusal(rejected: tuple, lang: str) -> str:
    """The engine's message for a refused file: file, line, column, what was expected."""
    problems, total = rejected
    return as_markdown(ImportRejected(problems, total=total).message(lang))


def as_markdown(message: str) -> str:
    """A message of a head line and indented lines (the engine's form) as a head and a list,
    with the characters Markdown would act on escaped (they come from the user's file)."""
    head, *lines = [escape(line.strip()) for line in message.splitlines() if line.strip()]
    return "\n".join([head, "", *(f"- {line}" for line in lines)]) if lines else head


def locked(db: str, lang: str, seconds: float = store.LOCK_TIMEOUT_S) -> str:
    """Another program holds the file (the sidebar's words)."""
    return i18n.t("sidebar.locked", lang, path=db, seconds=seconds)


def flash(kind: str, payload) -> None:
    st.session_state[FLASH] = (kind, payload)


def clear_uploads() -> None:
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1


# ---- one file ------------------------------------------------------------------------

def file_card(upload, table: str, db: str, version: int, lang: str, create: bool) -> Ready | None:
    """Options, mapping editor and dry run of one upload; None while it cannot be imported."""
    t = functools.partial(i18n.t, lang=lang)
    fid = upload.file_id
    with st.container(border=True):
        st.markdown(f"**{escape(upload.name)}**")
        left, middle, right = st.columns(3)
        options = _file_options(upload, left, middle, lang)
        found = imports_data.inspect_upload(fid, upload, upload.name, **options)
        if "rejected" in found:
            st.error(refusal(found["rejected"], lang))
            return None
        info = found["info"]
        st.caption(_detected(info, lang))
        names = imports_data.saved_mappings(db, version, table)
        saved = right.selectbox(t("data_page.mapping.saved"), ["", *names], key=f"data_page.saved.{fid}",
                                format_func=lambda n: n or t("data_page.mapping.saved_none"),
                                disabled=not names)
        mapping = _mapping_editor(info, table, imports_data.saved_mapping(db, version, saved) if saved else None,
                                  key=f"data_page.map.{fid}.{table}.{saved}", lang=lang)
        _mapping_notes(info.headers, table, mapping, lang)
        problems = mapping_problems(info.headers, table, mapping, file=upload.name)
        _save_mapping(db, table, mapping, fid, lang)
        if problems:
            st.error(as_markdown("\n".join([t("data_page.mapping.blocked"),
                                             *(p.message(lang) for p in problems)])))
            return None
        with st.spinner(t("ingest.stage.check")):
            result = imports_data.preview_upload(db, version, fid, upload, upload.name, table,
                                                 tuple(mapping.items()),
                                                 tuple({**options, "create_customers": create, "lang": lang}.items()))
        if "rejected" in result:
            st.error(refusal(result["rejected"], lang))
            return None
        check(result["report"], table, lang, key=fid)
        return Ready(upload, mapping, options, result["report"])


def _file_options(upload, left, middle, lang: str) -> dict:
    """The sheet picker of a workbook, or encoding and separator of a text file."""
    t = functools.partial(i18n.t, lang=lang)
    fid = upload.file_id
    if upload.name.lower().endswith(".xlsx"):
        first = imports_data.inspect_upload(fid, upload, upload.name)
        sheets = first["info"].sheets if "info" in first else []
        choices = [*sheets, ALL_SHEETS] if len(sheets) > 1 else sheets
        sheet = left.selectbox(t("data_page.file.sheet"), choices, key=f"data_page.sheet.{fid}",
                               disabled=len(sheets) < 2,
                               format_func=lambda s: t("data_page.file.all_sheets") if s == ALL_SHEETS
                               else s)
        return {"sheet": sheet if sheets and sheet != sheets[0] else None}
    encoding = left.selectbox(t("data_page.file.encoding"), ENCODINGS, key=f"data_page.encoding.{fid}",
                              format_func=lambda e: t("data_page.option.auto") if e == AUTO else e)
    delimiter = middle.selectbox(t("data_page.file.separator"), list(SEPARATORS),
                                 key=f"data_page.separator.{fid}", format_func=lambda s: t(SEPARATORS[s]))
    return {"encoding": None if encoding == AUTO else encoding,
            "delimiter": None if delimiter == AUTO else delimiter}


def _detected(info, lang: str) -> str:
    if info.sheet == ALL_SHEETS:
        found = i18n.t("data_page.file.detected_sheets", lang, count=len(info.sheets_read),
                       sheets=", ".join(info.sheets_read), rows=f"{info.sheet_rows:,}",
                       columns=len(info.headers))
        return (f"{found} · {sheets_left_out_note(info.sheets_left_out, lang)}"
                if info.sheets_left_out else found)
    if info.format == "xlsx":
        return i18n.t("data_page.file.detected_xlsx", lang, sheet=info.sheet, line=info.header_line,
                      columns=len(info.headers))
    return i18n.t("data_page.file.detected_csv", lang, encoding=info.encoding.upper(),
                  separator=i18n.t(SEPARATORS.get(info.delimiter, "data_page.option.auto"), lang),
                  line=info.header_line, columns=len(info.headers))


def _mapping_editor(info, table: str, given: dict | None, *, key: str, lang: str) -> dict:
    """The automatic (or saved) mapping in an editable table; returns the mapping as edited.

    "Not imported" travels as IGNORE in the editor (an empty cell would show
    as None in the browser) and as None in the mapping.
    """
    t = functools.partial(i18n.t, lang=lang)
    needed = set(required(table))
    st.markdown(f"**{t('data_page.mapping.title')}**")
    st.caption(t("data_page.mapping.caption"))
    frame = mapping_frame(info.headers, table, given, sample=info.sample)
    frame["column"] = frame["column"].replace("", IGNORE)
    edited = st.data_editor(
        frame, key=key, hide_index=True, width="stretch", disabled=["header", "example"],
        column_config={
            "header": st.column_config.TextColumn(t("data_page.mapping.header")),
            "example": st.column_config.TextColumn(t("data_page.mapping.example")),
            "column": st.column_config.SelectboxColumn(
                t("data_page.mapping.column"), width="medium", required=True,
                options=[IGNORE, *column_choices(table)[1:]],
                format_func=lambda c: t("data_page.mapping.ignore") if c == IGNORE
                else column_name(c, lang, star=c in needed))})
    targets = edited["column"].astype(object).where(edited["column"].notna(), IGNORE)
    return {h: None if c in (IGNORE, "") else c for h, c in zip(edited["header"], targets)}


def _mapping_notes(headers: list[str], table: str, mapping: dict, lang: str) -> None:
    """Which shop platform's order report the file looks like, and which money column
    is the amount when the file has several (DESIGN §3)."""
    if table != "transactions":
        return
    t = functools.partial(i18n.t, lang=lang)
    platform = detect_platform(headers)
    if platform is not None:
        mapped = platform_mapping(platform, headers)
        st.info(t("data_page.mapping.platform", platform=t(f"ingest.platform.{platform.key}"),
                  mapped=t("data_page.list_separator").join(
                      f"{escape(h)} → {column_name(c, lang)}" for h, c in mapped.items())),
                icon=":material/storefront:")
    chosen, others = money_columns(headers, mapping)
    if chosen and others:
        st.caption(t("data_page.mapping.money", chosen=escape(chosen),
                     others=t("data_page.list_separator").join(escape(h) for h in others)))


def _save_mapping(db: str, table: str, mapping: dict, fid: str, lang: str) -> None:
    t = functools.partial(i18n.t, lang=lang)
    with st.popover(t("data_page.mapping.save"), icon=":material/bookmark_add:"):
        st.text_input(t("data_page.mapping.save_name"), key=f"data_page.save_name.{fid}",
                      help=t("data_page.mapping.save_help"))
        st.button(t("data_page.mapping.save_button"), key=f"data_page.save.{fid}",
                  on_click=_keep_mapping, args=(db, table, mapping, fid))


def _keep_mapping(db: str, table: str, mapping: dict, fid: str) -> None:
    """Save the mapping under the typed name and choose it for this file (a callback)."""
    name = st.session_state.get(f"data_page.save_name.{fid}", "").strip()
    if not name:
        flash("error_key", "data_page.mapping.name_missing")
        return
    try:
        imports_data.save_import_mapping(db, name, table, mapping)
    except store.StoreLocked as exc:
        flash("error", locked(db, context.language(), exc.waited))
        return
    st.session_state[f"data_page.saved.{fid}"] = name
    flash("saved", name)


def check(report, table: str, lang: str, *, key: str) -> None:
    """The dry run: counts, problems by line and column, rejected rows, the first rows."""
    t = functools.partial(i18n.t, lang=lang)
    st.markdown(f"**{t('data_page.check.title')}**")
    counts(report, lang)
    if report.same_file_batches:
        st.info(t("data_page.file.same_file", batches=", ".join(map(str, report.same_file_batches))))
    if report.problem_count:
        st.warning(t("data_page.check.problems", count=f"{report.problem_count:,}",
                     rows=f"{report.rejected:,}"))
        # A static table, whose cells wrap: a grid cut "Expected" at 1,280 px.
        problems = report.problem_table(lang).head(PROBLEMS_SHOWN)
        st.table(problems.rename(columns={c: t(f"data_page.col.{c}") for c in problems.columns}),
                 hide_index=True)
        if len(problems) < report.problem_count:
            st.caption(t("data_page.check.listed", shown=f"{len(problems):,}",
                         count=f"{report.problem_count:,}"))
        rejects_button(report, t("data_page.check.download"), key=f"data_page.rejects.{key}")
    else:
        st.success(t("data_page.check.ok"))
    with st.expander(t("data_page.check.preview")):
        preview = report.preview
        labels = {c: column_name(c, lang) for c in preview.columns if c not in ("line", "ok")}
        st.dataframe(preview, hide_index=True, width="stretch", placeholder="", column_config={
            **labels, "line": t("data_page.col.line"),
            "ok": st.column_config.CheckboxColumn(t("data_page.col.ok"))})


def counts(report, lang: str) -> None:
    """Inserted, updated, unchanged, rejected, customers created, and values stored as other."""
    t = functools.partial(i18n.t, lang=lang)
    names = ("inserted", "updated", "unchanged", "rejected")
    values = [report.inserted, report.updated, report.unchanged, report.rejected]
    if report.table != "customers":
        names, values = (*names, "created"), [*values, report.customers_created]
    for column, name, value in zip(st.columns(len(names)), names, values):
        column.metric(t(f"data_page.report.{name}"), f"{value:,}")
    notes = report.notes(lang)   # the platform and new customers are shown above
    for kind in ("totals",) if report.dry_run else ("guests", "totals"):
        if kind in notes:
            st.caption(notes[kind])
    if "day_first_assumed" in notes:
        st.warning(notes["day_first_assumed"])
    for kind in ("sheets", "sheets_left_out", "orders_in_several_sheets", "repeated_totals"):
        if kind in notes:
            st.caption(notes[kind])
    for name, found in report.other_values.items():
        shown = ", ".join(f"{value} ×{n:,}" for value, n in list(found.items())[:5])
        st.caption(t("data_page.report.other", column=column_name(name, lang),
                     count=f"{sum(found.values()):,}", values=shown))


def rejects_button(report, label: str, *, key: str) -> None:
    if report.rejects is None or not len(report.rejects):
        return
    st.download_button(label, on_click(report.rejects_csv()), file_name=f"{Path(report.file_name).stem}.rejects.csv",
                       mime="text/csv", key=key, on_click="ignore", icon=":material/download:")


def import_groups(ready: list[Ready], table: str) -> list[tuple[list, dict]]:
    """The files as (items, options) groups that one engine call can import together.

    The engine takes one encoding and separator (text files) and one sheet
    (workbooks) per call; files that need others go in a group of their own.
    """
    groups: list[tuple[list, dict]] = []
    for r in ready:
        item = ImportItem(r.upload, table, r.mapping, r.upload.name)
        for items, options in groups:
            if all(options.get(k, v) == v for k, v in r.options.items()):
                items.append(item)
                options.update(r.options)
                break
        else:
            groups.append(([item], dict(r.options)))
    return groups


# ---- after a write ---------------------------------------------------------------------

def show_flash(lang: str) -> None:
    """What the last write did (once): the import reports, an undo, a reset, a restore,
    a saved mapping."""
    if FLASH not in st.session_state:
        return
    kind, payload = st.session_state.pop(FLASH)
    t = functools.partial(i18n.t, lang=lang)
    if kind == "import":
        reports, error = payload
        for k, report in enumerate(reports):
            with st.container(border=True):
                st.success(t("data_page.report.title", file=escape(report.file_name),
                             table=table_label(report.table, lang)), icon=":material/task_alt:")
                counts(report, lang)
                st.caption(t("data_page.report.batch", batch=report.batch_id, seconds=report.seconds))
                rejects_button(report, t("data_page.report.rejects", rows=f"{report.rejected:,}"),
                               key=f"data_page.report_rejects.{k}")
        if error:
            st.error(error)
    elif kind == "undo":
        rows, customers = (functools.partial(i18n.plural, key, lang=lang)
                           for key in ("data_page.n_rows", "data_page.n_customers"))
        st.success(t("data_page.undo.done", batch=payload.batch_id, table=table_label(payload.table, lang),
                     removed=rows(payload.rows_removed), customers_removed=customers(payload.customers_removed),
                     restored=customers(payload.customers_restored)), icon=":material/undo:")
    elif kind == "reset":
        demo, rows = payload
        st.success(t("data_page.reset.done_demo", **rows) if demo else t("data_page.reset.done_empty"))
    elif kind == "restore":
        show_restored(payload, lang)
    elif kind == "saved":
        st.success(t("data_page.mapping.saved_done", name=payload))
    elif kind == "currency":
        st.success(t("data_page.currency.saved", sign=payload or t("data_page.currency.none")))
    elif kind == "error_key":
        st.error(t(payload))
    else:
        st.error(payload)


def show_restored(report, lang: str) -> None:
    """After a restore: rows and checksum per table as saved and as restored, and the verdict."""
    t = functools.partial(i18n.t, lang=lang)
    if report.equal:
        st.success(t("backup.restored.equal", rows=f"{report.rows:,}", checksum=report.digest),
                   icon=":material/verified:")
    check = report.check.assign(equal=report.check["equal"].map(
        lambda same: t("backup.check.same" if same else "backup.check.different")))
    st.dataframe(check, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(t(f"backup.check.{c}"), format="localized")
        if c.startswith("rows_") else t(f"backup.check.{c}") for c in check.columns})


def samples(lang: str) -> None:
    """The sample files with download buttons, so a new user can try the whole flow."""
    t = functools.partial(i18n.t, lang=lang)
    with st.expander(t("data_page.samples.title"), icon=":material/lightbulb:"):
        st.caption(t("data_page.samples.intro"))
        for name in SAMPLE_FILES:
            path = SAMPLES / name
            if not path.exists():
                continue
            text, button = st.columns([4, 1], vertical_alignment="center")
            key = f"data_page.sample.{name.replace('.', '_')}"
            text.markdown(f"`{name}` · {t(key)}")
            button.download_button(name, functools.partial(path.read_bytes), file_name=name,
                                   mime=MIME[path.suffix], key=f"data_page.sample.{name}",
                                   on_click="ignore", icon=":material/download:", width="stretch")
