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

import streamlit as st
from starlette.middleware import Middleware

from ui import auth, uploads

app = st.App("app.py", middleware=[Middleware(uploads.UploadGate)], lifespan=uploads.lifespan)


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
# colours) compiles its templates on import, 0.15 s of a first page.
LIBRARIES = ("pandas.io.formats.style",)


def preload(packages=("engine", "report")) -> list[str]:
    """Import every module of the engine and the presentation layer, with the libraries
    they load (pandas, plotly, scikit-learn, SciPy, openpyxl) and LIBRARIES, before the
    server opens.

    Otherwise the first visitor after a start pays for these imports (about 2 s of CPU)
    inside their first page. Not ui/: its caches belong to the Streamlit runtime, which
    does not exist yet. The names of our modules imported, for the test.
    """
    for name in LIBRARIES:
        importlib.import_module(name)
    names = []
    for package in packages:
        path = importlib.import_module(package).__path__
        names += [m.name for m in pkgutil.walk_packages(path, f"{package}.")
                  if not m.name.endswith(".__main__")]   # the command line's entry would run
    for name in names:
        importlib.import_module(name)
    skip_use_warning()
    freeze_loaded()
    return names


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
