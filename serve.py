"""Start the dashboard behind its upload gate: `python serve.py` (what `make run` does).

Streamlit takes file uploads from any open session, logged in or not; here
the app runs as an `st.App` with `ui.uploads.UploadGate` in front, which
refuses them from a session that has not logged in (see that module). Run
`streamlit run app.py` only on a machine nobody else can reach.

Options are Streamlit's, as `--server.port=8502`. Without logins
(no `[users]` or `[auth]` in the secrets) the server listens on 127.0.0.1
only, unless `--server.address` (or STREAMLIT_SERVER_ADDRESS, or
`server.address` in .streamlit/config.toml) names another address.
"""
import gc
import importlib
import pkgutil
import sys
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware

from ui import auth, uploads


def config_from_argv(argv: list[str]) -> dict:
    """`--section.option=value` flags as App.run's config overrides (a list option, such as
    secrets.files, takes values separated by commas)."""
    from streamlit import config
    options = {}
    for arg in argv:
        key, _, value = arg[2:].partition("=")
        option = config._config_options_template.get(key)
        if not arg.startswith("--") or not value or option is None:
            raise SystemExit(f"serve.py: unknown argument {arg!r}; use --section.option=value")
        options[key] = (value.split(",") if option.multiple else int(value) if value.isdigit()
                        else {"true": True, "false": False}.get(value.lower(), value))
    return options


# Libraries the pages load only when first used: pandas' Styler (the Plan and RFM tables'
# colours) compiles its templates on import, 0.15 s of a first page; the rest, found by
# listing what a server had imported after showing each page once, took 0.05 s more:
# reading a kept result (Parquet into pandas), plotly's colours and narwhals (through
# which plotly reads a frame), pandas' reshaping, Streamlit's icon names and its script
# magic. plotly's JSON and tools come with `draw_once`.
LIBRARIES = ("pandas.io.formats.style", "pyarrow.dataset", "pyarrow.pandas_compat",
             "_plotly_utils.colors", "narwhals._pandas_like.dataframe",
             "pandas.core.reshape.reshape", "openpyxl", "openpyxl.worksheet._read_only",
             "streamlit.material_icon_names", "streamlit.runtime.scriptrunner.magic_funcs",
             "streamlit.dataframe.lazy_df_adapters")


def preload(packages=("engine", "report")) -> list[str]:
    """Import every module of the engine and the presentation layer, with the libraries
    they load (pandas, plotly, scikit-learn, SciPy, openpyxl) and LIBRARIES, before the
    server opens.

    Otherwise the first visitor after a start pays for these imports (about 2 s of CPU)
    inside their first page. Not ui/: its caches belong to the Streamlit runtime, which
    does not exist yet (`lifespan` imports it). The names of our modules imported, for
    the test.
    """
    for name in LIBRARIES:
        importlib.import_module(name)
    names = [name for package in packages for name in import_package(package)]
    draw_once()
    skip_use_warning()
    freeze_loaded()
    return names


def import_package(package: str) -> list[str]:
    """Import each module of one of our packages (but the command line's entry, which
    would run); their names."""
    path = importlib.import_module(package).__path__
    names = [m.name for m in pkgutil.walk_packages(path, f"{package}.")
             if not m.name.endswith(".__main__")]
    for name in names:
        importlib.import_module(name)
    return names


@asynccontextmanager
async def lifespan(app):
    """Import the pages' own modules (ui/) as the server starts, once the runtime runs:
    each `st.cache_data` asks for the runtime's cache storage when it is declared (without
    one, it logs a warning). 0.05 s the first pages would pay otherwise. They live as
    long as the server, so they too are left out of later collections (freeze_loaded).
    Then the upload gate's own lifespan."""
    import_package("ui")
    freeze_loaded()
    async with uploads.lifespan(app):
        yield


app = st.App("app.py", middleware=[Middleware(uploads.UploadGate)], lifespan=lifespan)


def draw_once() -> None:
    """Build and serialise one figure of each kind of trace the charts draw, in their layout.

    plotly loads a trace's or a layout property's class, and builds its validators, the
    first time a figure uses it: 0.05-0.1 s of the first page with a chart after a start.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from report import charts
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for trace in (go.Bar, go.Scatter, go.Scattergl, go.Box, go.Heatmap):
        fig.add_trace(trace(x=[0], y=[0], hovertemplate="%{y}"), secondary_y=trace is go.Scatter)
    fig.add_hline(y=0, line_dash="dot")
    fig.add_annotation(x=0, y=0, text="0")
    fig.update_xaxes(title_text="0", type="category", tickformat=",d")
    for figure in (fig, go.Figure(go.Treemap(labels=["0"], parents=[""], values=[0])),
                   go.Figure(go.Sankey(node={"label": ["0", "1"]},
                                       link={"source": [0], "target": [1], "value": [0]}))):
        charts.apply_layout(figure).to_json()


def freeze_loaded() -> None:
    """Leave what is loaded so far out of every later garbage collection.

    Streamlit runs a full collection after each script run (runner.postScriptGC).
    With the engine's libraries loaded that walked some 230,000 objects: 0.13-0.16 s
    after each page load and slider move at 5,000 customers, during which the
    server sent nothing. Frozen (gc.freeze), the modules, classes and functions
    loaded at start, which live as long as the server, are skipped: a collection
    then takes 3-10 ms.
    """
    gc.collect()
    gc.freeze()


def skip_use_warning() -> None:
    """Spare the first page after a start Streamlit's check for a script run without
    `streamlit run`.

    The first element a process draws asks whether it runs in a REPL, to warn
    such users; the check walks the stack with inspect.stack(), which looks up
    the source file of every module loaded: 0.18 s of the first page once the
    preload has loaded its 2,500 modules. This server runs the app under
    Streamlit's runtime, where the warning never applies, so it is marked as
    given (Streamlit 1.67 keeps that mark in `delta_generator`).
    """
    from streamlit import delta_generator
    delta_generator._use_warning_has_been_displayed = True


if __name__ == "__main__":
    from streamlit.web import bootstrap

    from engine import workfiles
    workfiles.sweep()   # work files a killed server left behind (a restore's staged copy)
    overrides = config_from_argv(sys.argv[1:])
    sys.argv[1:] = []
    bootstrap.load_config_options(overrides)   # the operator's choices, read as Streamlit will
    address = auth.default_address(overrides.get("server.address"))
    if address is not None:
        overrides["server.address"] = address
    print(auth.start_note(st.get_option("server.address") or address), flush=True)
    preload()
    app.run(config=overrides)
