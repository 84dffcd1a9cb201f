"""Named presets of the scoring settings, stored in the database's `settings` table.

A preset is the Scoring page's weights, tier thresholds, whether the
12-month CLV joins the consumption score and the target the thresholds came
from; the rules they follow are
`engine.scoring`'s, this module only stores them (with an audit row).
"""
from __future__ import annotations

import json
from typing import Mapping, Sequence

from engine import audit
from engine.scoring import validate_target, validate_thresholds, validate_weights

PRESET_KIND = "preset"


def save_preset(con, name: str, weights: Mapping[str, float],
                thresholds: Sequence[float], *, clv: bool = False,
                target: Mapping | None = None, actor: str = audit.LOCAL) -> None:
    """Save (or replace) a named preset of weights, thresholds, whether the
    12-month CLV joins the consumption score (CLV_SUB_METRIC), and the target
    the thresholds were derived from (`validate_target`; None when set by hand).

    Call inside `engine.store.write(path)` so the write lands in one
    transaction with a new data version and its audit row (done by `actor`).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a preset needs a name, got {name!r}.")
    value = {"weights": validate_weights(weights),
             "thresholds": list(validate_thresholds(thresholds)), "clv": bool(clv),
             "target": validate_target(target)}
    con.execute("DELETE FROM settings WHERE kind = ? AND name = ?", [PRESET_KIND, name.strip()])
    con.execute("INSERT INTO settings (kind, name, value, saved_at) "
                "VALUES (?, ?, ?, current_timestamp)",
                [PRESET_KIND, name.strip(), json.dumps(value, ensure_ascii=False)])
    audit.record(con, actor, "preset_saved", {"name": name.strip()} | value)


def delete_preset(con, name: str, *, actor: str = audit.LOCAL) -> None:
    """Remove a named preset (inside `engine.store.write`; audited as `actor`)."""
    con.execute("DELETE FROM settings WHERE kind = ? AND name = ?", [PRESET_KIND, name])
    audit.record(con, actor, "preset_deleted", {"name": name})


def load_presets(con) -> dict[str, dict]:
    """{name: {"weights": {dimension: float}, "thresholds": (high, potential), "clv": bool,
    "target": dict or None}}, by name. A preset saved before CLV could join the score has
    "clv" False; one saved before targets, or with thresholds set by hand, target None."""
    rows = con.execute("SELECT name, value FROM settings WHERE kind = ? ORDER BY name",
                       [PRESET_KIND]).fetchall()
    presets = {}
    for name, value in rows:
        data = json.loads(value)
        presets[name] = {"weights": data["weights"],
                         "thresholds": tuple(data["thresholds"]),
                         "clv": bool(data.get("clv", False)),
                         "target": data.get("target")}
    return presets
