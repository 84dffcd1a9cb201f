"""The layering of DESIGN §2 and STYLE, checked on the import graph built from the code.

Every import of every module of the project counts, the ones inside functions
too, relative imports resolved. The graph must have no cycle, and every import
must go to the module's own package or to a lower layer (LAYERS). Two layers of
the same rank (the command line and the Streamlit helpers) do not import each
other. Imports by name at run time (importlib) are not seen; the command line's
dispatcher is the only one.
"""
import ast
import graphlib

from tests.conftest import ROOT

# Top-level package (or module) -> rank: an import may only go to a lower rank,
# or within its own package.
LAYERS = {
    "engine": 0,                  # pure logic and SQL
    "report": 1,                  # presentation: plotly figures, HTML and Excel renderings
    "cli": 2, "ui": 2,            # front-ends: the command line, the pages' Streamlit helpers
    "views": 3, "app": 3, "bench": 3,   # pages, the app, the bench script (times ui.data too)
}
# The one import against the layers: `python -m engine` is the spelling DESIGN §5 names,
# so the engine's __main__ hands over to the command line.
ALLOWED_UPWARD = {("engine.__main__", "cli.main")}


def project_modules(root=ROOT) -> dict[str, object]:
    """{dotted module name: path} of every Python file of the layered packages."""
    modules = {}
    for top in LAYERS:
        paths = [root / f"{top}.py"] if (root / f"{top}.py").exists() else (root / top).rglob("*.py")
        for path in paths:
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules) -> str | None:
    """The project module `name` means: itself, else its longest prefix that is one."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _base(module: str, path, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names, relative levels resolved."""
    if not node.level:
        return node.module
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = package[:len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def imports_of(module: str, path, modules) -> set[str]:
    """The project modules that `module` imports anywhere in its file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, path, node)
            names = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found |= {_resolve(n, modules) for n in names}
    return found - {None, module}


def import_graph(root=ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {m: imports_of(m, p, modules) for m, p in modules.items()}


def test_the_graph_sees_imports_inside_functions_and_relative_ones(tmp_path):
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "__init__.py").write_text("")
    (tmp_path / "engine" / "a.py").write_text("def f():\n    from . import b\n")
    (tmp_path / "engine" / "b.py").write_text("import engine.c\n")
    (tmp_path / "engine" / "c.py").write_text("from engine.a import f\n")
    graph = import_graph(tmp_path)
    assert graph["engine.a"] == {"engine.b"}
    assert graph["engine.b"] == {"engine.c"}
    assert graph["engine.c"] == {"engine.a"}


def test_no_import_cycle():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        raise AssertionError(f"import cycle: {' -> '.join(exc.args[1])}") from None


def test_every_import_follows_the_layers():
    wrong = [f"{source} imports {target}"
             for source, targets in import_graph().items() for target in sorted(targets)
             if _against_layers(source, target)]
    assert not wrong, "\n".join(wrong)


def _against_layers(source: str, target: str) -> bool:
    own, other = source.split(".")[0], target.split(".")[0]
    if own == other or (source, target) in ALLOWED_UPWARD:
        return False
    return LAYERS[other] >= LAYERS[own]


def external_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_engine_imports_neither_streamlit_nor_plotly():
    for path in (ROOT / "engine").rglob("*.py"):
        bad = {"streamlit", "plotly"} & set(external_imports(path))
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_presentation_and_command_line_import_no_streamlit():
    for path in [*(ROOT / "report").rglob("*.py"), *(ROOT / "cli").rglob("*.py")]:
        bad = {"streamlit"} & set(external_imports(path))
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_pages_import_neither_duckdb_nor_sklearn():
    for path in [*(ROOT / "views").glob("*.py"), ROOT / "app.py"]:
        bad = {"duckdb", "sklearn"} & set(external_imports(path))
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_no_test_module_imports_another():
    """Shared test code lives in tests/conftest.py, tests/helpers.py or tests/browser/chromium.py."""
    wrong = []
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            wrong += [f"{path.relative_to(ROOT)} imports {n}" for n in names
                      if n.split(".")[-1].startswith("test_")]
    assert not wrong, "\n".join(wrong)
