"""The layering of DESIGN §2 and STYLE: the engine has no UI, the pages no database."""
import ast

from tests.conftest import ROOT


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_engine_imports_neither_streamlit_nor_plotly():
    for path in (ROOT / "engine").rglob("*.py"):
        bad = {"streamlit", "plotly"} & set(imported_modules(path))
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_pages_import_neither_duckdb_nor_sklearn():
    for path in [*(ROOT / "views").glob("*.py"), ROOT / "app.py"]:
        bad = {"duckdb", "sklearn"} & set(imported_modules(path))
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"
