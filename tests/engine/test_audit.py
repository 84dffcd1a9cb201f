"""The audit log in the reader's words (engine.audit.log_in_words) on two hand-made rows."""
import json

import pandas as pd

from engine import audit


def test_each_detail_a_sentence_and_each_action_in_words():
    log = pd.DataFrame({"actor": ["ada", "max"], "action": ["backup_download", "reset"],
                        "detail": [json.dumps({"kind": "duckdb", "bytes": 12345}),
                                   json.dumps({"demo": True, "rows": 7})]})
    words = audit.log_in_words(log, "en")
    assert words["action"].tolist() == ["Backup download", "Reset data"]
    assert words["detail"].tolist() == ["Backup downloaded (duckdb, 12,345 bytes)",
                                        "Data reset, demo data loaded: Yes, rows: 7"]
    assert words["actor"].tolist() == ["ada", "max"]
    assert log["action"].tolist() == ["backup_download", "reset"]      # the log is left as read
    assert audit.log_in_words(log, "zh")["action"].tolist() == ["下载备份", "重置数据"]
