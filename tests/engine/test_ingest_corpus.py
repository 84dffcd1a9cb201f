"""Every broken file of tests/corpus/ingest is refused with a message that says why,
and the database is exactly as before."""
import json
from pathlib import Path

import pytest

from engine import ingest, store
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "corpus" / "ingest"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
TODAY = "2026-06-30"


def snapshot(db) -> dict:
    """Every row of every table, sorted, and the data version."""
    with store.connect(db) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY 1").fetchall()]
        rows = {t: sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall()))
                for t in tables}
    return rows


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[Path, dict]:
    """Customers C1-C3 and transaction T1, imported as a user would; and their snapshot."""
    folder = tmp_path_factory.mktemp("corpus")
    db = folder / "seed.duckdb"
    ingest.import_file(db, b"customer_id,name\nC1,Ann\nC2,Bo\nC3,Cy\n", "customers",
                       name="c.csv")
    ingest.import_file(db, b"customer_id,txn_date,amount,txn_id\nC1,2024-01-05,100.00,T1\n",
                       "transactions", name="t.csv")
    return db, snapshot(db)


def test_corpus_is_large_enough():
    assert len(MANIFEST) >= 25
    assert all((CORPUS / e["file"]).is_file() for e in MANIFEST)


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_broken_file_is_refused_and_nothing_changes(entry, seeded, tmp_path):
    seed, before = seeded
    db = tmp_path / "db.duckdb"
    db.write_bytes(seed.read_bytes())
    options = dict(entry["options"])
    with pytest.raises(ingest.ImportRejected) as caught:
        ingest.import_file(db, CORPUS / entry["file"], entry["table"],
                           today=ingest_today(), **options)
    message = str(caught.value)
    for expected in entry["expect"]:
        assert expected in message, f"{expected!r} not in:\n{message}"
    assert snapshot(db) == before
    assert caught.value.problems and caught.value.problems[0].message("zh")


def ingest_today():
    from datetime import date
    return date.fromisoformat(TODAY)
