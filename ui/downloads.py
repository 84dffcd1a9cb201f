"""The CSV and Excel buttons beside a list, drawn the same way on every page that has them."""
from __future__ import annotations

from typing import Any, Callable

import streamlit as st

MIME = {"csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def file_buttons(t: Callable[..., str], file_name: str, data: Callable[[str], Any], *,
                 key: str | None = None, disabled: bool = False) -> None:
    """A CSV and an Excel button side by side, each as wide as its words: in a sixth of the
    row each, "Download Excel" was cut to "Download …" at 1,280 px. `data(kind)` gives a
    button's file ("csv" or "xlsx"), or what builds it when clicked (made_on_click);
    `key` the buttons' keys, `key.csv` and `key.xlsx`."""
    row = st.container(horizontal=True)
    for kind, mime in MIME.items():
        row.download_button(t(f"common.download_{kind}"), data(kind), f"{file_name}.{kind}", mime,
                            icon=":material/download:", disabled=disabled,
                            key=None if key is None else f"{key}.{kind}")
