"""Import the customers' own data: CSV/Excel files into the DuckDB tables (DESIGN §3, §5).

The API the Data page calls; pure functions, no UI. A typical flow:

    info = inspect_file(upload)                        # format, encoding, headers, sample
    frame = mapping_frame(info.headers, "transactions", sample=info.sample)
    ... the user edits frame["column"] ...
    mapping = mapping_from_frame(frame)
    report = preview_import(db, upload, "transactions", mapping=mapping)   # writes nothing
    ... show report.preview, report.problem_table(lang), report.rejects ...
    report = import_file(db, upload, "transactions", mapping=mapping,
                         skip_invalid=True, progress=callback)
    list_batches(db); undo_batch(db, report.batch_id)

`ImportRejected` (nothing written) carries the problems; every Problem has a
code and params and renders in "en" or "zh".
"""
from engine.ingest.columns import TABLE_ORDER, TABLES, Column, columns, required
from engine.ingest.errors import ImportRejected, Problem, render_messages
from engine.ingest.history import UndoRefused, UndoResult, list_batches, reset, undo_batch
from engine.ingest.load import (ImportItem, ImportReport, import_csv, import_file,
                                import_files, preview_import)
from engine.ingest.mapping import (auto_mapping, column_choices, delete_mapping,
                                   list_mappings, load_mapping, mapping_frame,
                                   mapping_from_frame, mapping_problems, merge_mapping,
                                   money_columns, parse_mapping_json, resolve_mapping,
                                   save_mapping)
from engine.ingest.platforms import PLATFORMS, Platform, detect_platform, platform_mapping
from engine.ingest.parse import VOCABULARIES, parse_values
from engine.ingest.readers import ALL_SHEETS, FileInfo, inspect_file, list_sheets

__all__ = [
    "ALL_SHEETS", "PLATFORMS", "Platform", "detect_platform", "money_columns",
    "platform_mapping", "Column", "FileInfo", "ImportItem", "ImportRejected", "ImportReport",
    "Problem", "TABLES", "TABLE_ORDER", "UndoRefused", "UndoResult", "VOCABULARIES",
    "auto_mapping", "column_choices", "columns", "delete_mapping", "import_csv",
    "import_file", "import_files", "inspect_file", "list_batches", "list_mappings",
    "list_sheets", "load_mapping", "mapping_frame", "mapping_from_frame",
    "mapping_problems", "merge_mapping", "parse_mapping_json", "parse_values",
    "preview_import", "render_messages", "required", "reset", "resolve_mapping",
    "save_mapping", "undo_batch",
]
