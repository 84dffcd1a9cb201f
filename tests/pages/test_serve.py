"""serve.py: what the server loads before its first visitor."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import json, sys
import gc
import serve
from streamlit import delta_generator
names = serve.preload()
print(json.dumps({"names": names, "use_warning": delta_generator._use_warning_has_been_displayed,
                  "frozen": gc.get_freeze_count(), "unfrozen": len(gc.get_objects()), "loaded": [n for n in names if n in sys.modules],
                  "libraries": [m for m in ("sklearn", "scipy", "plotly.graph_objects", "openpyxl",
                                          *serve.LIBRARIES)
                                if m in sys.modules],
                  "drawn": [m for m in ("plotly.graph_objs._treemap", "plotly.graph_objs._sankey",
                                        "plotly.graph_objs.layout._shape", "plotly.io._json",
                                        "plotly.tools")
                            if m in sys.modules],
                  "expected_libraries": list(serve.LIBRARIES),
                  "caches": [n for n in sys.modules if n.startswith("ui.data")]}))
"""


def test_preload_imports_every_engine_and_presentation_module_and_not_the_caches():
    """Every module file under engine/ and report/ (but the command line's entry), so the
    first page after a start finds them loaded; ui.data's caches wait for the runtime."""
    files = [p.relative_to(ROOT).with_suffix("") for package in ("engine", "report")
             for p in (ROOT / package).rglob("*.py") if p.name != "__main__.py"]
    expected = {".".join(f.parts).removesuffix(".__init__") for f in files} - {"engine", "report"}
    out = json.loads(subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True,
                                    text=True, check=True).stdout)
    assert set(out["names"]) == expected
    assert out["loaded"] == out["names"]
    assert out["libraries"][:5] == ["sklearn", "scipy", "plotly.graph_objects", "openpyxl",
                                    "pandas.io.formats.style"]
    assert out["libraries"][4:] == out["expected_libraries"]
    assert len(out["drawn"]) == 5   # plotly's classes for each trace the charts draw (draw_once)
    assert out["caches"] == []
    assert out["use_warning"]   # the first page does not walk the stack (serve.skip_use_warning)
    # what the preload loaded is left out of each run's garbage collection (serve.freeze_loaded)
    assert out["frozen"] > 100_000 and out["unfrozen"] < out["frozen"] / 20


LIFESPAN = """
import asyncio, gc, json, sys
import serve
async def main():
    frozen = gc.get_freeze_count()
    async with serve.lifespan(serve.app):
        print(json.dumps({"loaded": sorted(n for n in sys.modules if n == "ui" or n.startswith("ui.")),
                          "frozen_more": gc.get_freeze_count() > frozen}))
asyncio.run(main())
"""


def test_the_server_imports_the_pages_modules_as_it_starts():
    """Every module file under ui/, once the runtime runs (serve.lifespan), so the first
    pages do not import them; then frozen (serve.freeze_loaded)."""
    expected = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                for p in (ROOT / "ui").rglob("*.py")}
    out = json.loads(subprocess.run([sys.executable, "-c", LIFESPAN], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout)
    assert set(out["loaded"]) == expected
    assert out["frozen_more"]   # and left out of later garbage collections, like the preload
