"""`engine review --lang zh` speaks Chinese throughout: the summary, and the command's own
lines about the files it wrote and a month the data does not cover to its end."""
import shutil

from cli.main import main
from engine import store


def test_the_review_commands_own_lines_follow_lang(tmp_path, demo_db, capsys):
    db = tmp_path / "d.duckdb"
    shutil.copy(demo_db, db)
    with store.write(db) as con:   # the data now ends mid-June: June is not complete
        for table, column in (("transactions", "txn_date"), ("interactions", "CAST(ts AS DATE)")):
            con.execute(f"DELETE FROM {table} WHERE {column} > DATE '2026-06-15'")
    out = {name: tmp_path / name for name in ("r.json", "r.xlsx")}
    assert main(["review", "--db", str(db), "--month", "2026-06", "--lang", "zh",
                 "--json", str(out["r.json"]), "--xlsx", str(out["r.xlsx"])]) == 0
    printed = capsys.readouterr()
    assert f"已写入 {out['r.json']}。" in printed.out and f"已写入 {out['r.xlsx']}。" in printed.out
    assert "Wrote" not in printed.out
    assert "数据截止于 2026-06-15，早于 2026-06 月末" in printed.err and "Note" not in printed.err
    assert main(["review", "--db", str(db), "--month", "2026-06", "--lang", "en",
                 "--json", str(out["r.json"])]) == 0
    printed = capsys.readouterr()
    assert f"Wrote {out['r.json']}." in printed.out
    assert "the data ends on 2026-06-15, before the end of 2026-06" in printed.err
