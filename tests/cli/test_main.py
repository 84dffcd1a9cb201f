"""The command line's dispatcher (cli.main): a subcommand's modules load only when it runs."""
import json
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("sklearn", "scipy", "plotly", "streamlit", "openpyxl")


def loaded_after(code: str) -> list[str]:
    """The top-level packages (of HEAVY and cli.*) loaded by `code` in a fresh interpreter."""
    script = (f"import sys\n{code}\nimport json\n"
              "print(json.dumps(sorted(m for m in sys.modules "
              f"if m.split('.')[0] in {HEAVY!r} and '.' not in m or m.startswith('cli.'))))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


def test_help_loads_no_subcommand_and_no_heavy_library():
    assert loaded_after("from cli.main import build_parser\nbuild_parser(None)") == [
        "cli.common", "cli.main"]


def test_a_subcommand_loads_its_own_module_only():
    assert loaded_after("from cli.main import build_parser\nbuild_parser('clv')") == [
        "cli.clv", "cli.common", "cli.main", "scipy"]


def test_importing_a_csv_loads_no_workbook_reader(tmp_path):
    """openpyxl is for workbooks: a CSV import does without its tenth of a second."""
    (tmp_path / "c.csv").write_text("customer_id,name\nC1,Ann\n", encoding="utf-8")
    args = ["import", "--db", str(tmp_path / "x.duckdb"), "--table", "customers",
            str(tmp_path / "c.csv")]
    code = ("import contextlib, io\nfrom cli.main import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main({args!r}) == 0")
    assert loaded_after(code) == [
        "cli.common", "cli.ingest", "cli.main"]


def test_python_m_engine_help_lists_every_subcommand_in_order():
    done = subprocess.run([sys.executable, "-m", "engine", "--help"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0
    assert ("{demo,import,clv,score,review,export,features,prepare,backup,restore,hash-password}"
            in done.stdout)


def test_an_unknown_subcommand_is_a_usage_error():
    done = subprocess.run([sys.executable, "-m", "engine", "nope"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid choice: 'nope'" in done.stderr
