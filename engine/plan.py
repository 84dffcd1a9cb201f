"""The maintenance plan (维护计划): playbook, today's tasks, and the follow-up log (DESIGN §4.7).

The playbook is data: an ordered tuple of `PlaybookRule` (action, which
customers it applies to, cadence, owner role), declared once in
`DEFAULT_PLAYBOOK` and saved edited in the `settings` table (kind
'playbook', JSON). A customer gets one next action, the first rule in order
that applies. The task is due at the date of the last follow-up of that
action that is not paused (done, in progress or without a status) plus the
cadence, or `first_due_days` after T when there is none (0 days, T itself,
for all but win-back, which is due within 24 hours: T + 1).

Follow-ups are written at once, each in its own transaction through
`store.write` (which bumps the data version, so cached pages refresh);
reading them per customer and action is SQL in
`engine.features.followup_state`.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime

import numpy as np
import pandas as pd

from engine import audit, i18n, risk, store
from engine.features.customer import customer_features
from engine.features.followup_state import followup_state as read_followup_state
from engine.scoring import TIERS

ACTIONS = ("visit", "care", "wake_up", "win_back", "other")
STATUSES = ("in_progress", "done", "paused")
OWNER_ROLES = ("account_manager", "service_rep", "service_supervisor")
# What a rule can choose customers by, and the codes each column can hold.
RULE_COLUMNS = {"risk_level": risk.RISK_LEVELS, "demand_tag": risk.DEMAND_TAGS,
                "tier": TIERS, "lifecycle": risk.LIFECYCLE_STAGES}
PLAYBOOK_KIND = "playbook"
MAX_DAYS = 3650


class PlanError(ValueError):
    """A follow-up or playbook the plan refuses; `key` and `values` word it in either language."""

    def __init__(self, key: str, **values):
        self.key, self.values = key, values
        super().__init__(i18n.t(key, "en", **values))

    def message(self, lang: str = "en") -> str:
        return i18n.t(self.key, lang, **self.values)


class FollowupError(PlanError):
    """A follow-up that cannot be logged or changed (unknown customer, action, status, id, date)."""


class PlaybookError(PlanError):
    """A playbook rule that is not valid, or a saved playbook that cannot be read."""


@dataclass(frozen=True)
class PlaybookRule:
    """One line of the playbook: customers whose `column` equals `value` get `action`.

    The task is due `cadence_days` after the last follow-up of the action
    that is not paused, or `first_due_days` after T when there is
    none. `owner_role` takes the task when the customer has no owner.
    """
    action: str
    column: str
    value: str
    cadence_days: int
    first_due_days: int
    owner_role: str


DEFAULT_PLAYBOOK: tuple[PlaybookRule, ...] = (
    PlaybookRule("win_back", "risk_level", "high", 1, 1, "service_supervisor"),
    PlaybookRule("wake_up", "demand_tag", "dormant", 7, 0, "service_rep"),
    PlaybookRule("visit", "tier", "high", 30, 0, "account_manager"),
    PlaybookRule("care", "tier", "potential", 14, 0, "service_rep"),
)
RULE_FIELDS = tuple(f.name for f in fields(PlaybookRule))


# --- the playbook as data ---------------------------------------------------

def playbook_from_records(records) -> tuple[PlaybookRule, ...]:
    """Rules from a list of dicts (or a DataFrame, as a data editor returns it), validated.

    Raises PlaybookError naming the rule (1-based) and what to change.
    """
    if isinstance(records, pd.DataFrame):
        records = records.to_dict("records")
    rules, seen = [], set()
    for index, record in enumerate(records, start=1):
        record = asdict(record) if isinstance(record, PlaybookRule) else dict(record)
        if set(record) != set(RULE_FIELDS):
            raise PlaybookError("plan.error.playbook_bad_rule", index=index,
                                allowed=", ".join(RULE_FIELDS))
        rule = _validated_rule(index, record)
        if rule.action in seen:
            raise PlaybookError("plan.error.playbook_duplicate_action", index=index,
                                value=rule.action)
        seen.add(rule.action)
        rules.append(rule)
    return tuple(rules)


def _validated_rule(index: int, r: dict) -> PlaybookRule:
    def check(ok, key, **values):
        if not ok:
            raise PlaybookError(f"plan.error.playbook_{key}", index=index, **values)

    check(r["action"] in ACTIONS, "bad_action", value=r["action"], allowed=", ".join(ACTIONS))
    check(r["column"] in RULE_COLUMNS, "bad_column", value=r["column"],
          allowed=", ".join(RULE_COLUMNS))
    allowed = RULE_COLUMNS[r["column"]]
    check(r["value"] in allowed, "bad_value", column=r["column"], value=r["value"],
          allowed=", ".join(allowed))
    for name in ("cadence_days", "first_due_days"):
        value = r[name]
        whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
        check(whole and 0 <= value <= MAX_DAYS, "bad_days", field=name, value=value)
        r[name] = int(value)
    check(r["owner_role"] in OWNER_ROLES, "bad_role", value=r["owner_role"],
          allowed=", ".join(OWNER_ROLES))
    return PlaybookRule(**r)


def playbook_records(playbook) -> list[dict]:
    """The rules as a list of dicts (for JSON and for a data editor)."""
    return [asdict(rule) for rule in playbook]


def save_playbook(path, playbook, *, name: str = "default", actor: str = audit.LOCAL) -> None:
    """Validate and save the playbook in the settings table (one write, bumps the data
    version, recorded in the audit log as done by `actor`)."""
    rules = playbook_from_records(playbook)
    value = json.dumps(playbook_records(rules), ensure_ascii=False)
    with store.write(path) as con:
        con.execute("DELETE FROM settings WHERE kind = ? AND name = ?", [PLAYBOOK_KIND, name])
        con.execute("INSERT INTO settings VALUES (?, ?, ?, ?)",
                    [PLAYBOOK_KIND, name, value, datetime.now().replace(microsecond=0)])
        audit.record(con, actor, "playbook_saved", {"name": name, "rules": len(rules)})


def load_playbook(con, *, name: str = "default") -> tuple[PlaybookRule, ...]:
    """The saved playbook `name`, or DEFAULT_PLAYBOOK when none is saved."""
    row = store.first_row(con, "SELECT value FROM settings WHERE kind = ? AND name = ? "
                               "ORDER BY saved_at DESC LIMIT 1", [PLAYBOOK_KIND, name])
    if row is None:
        return DEFAULT_PLAYBOOK
    try:
        records = json.loads(row[0])
    except json.JSONDecodeError as exc:
        raise PlaybookError("plan.error.playbook_unreadable", name=name, detail=str(exc)) from exc
    return playbook_from_records(records)


# --- next actions and the task list ----------------------------------------

NEXT_ACTION_COLUMNS = ("customer_id", "tier", "action", "owner_role", "owner", "due_date",
                       "overdue", "followups", "last_followup_id", "last_followup_date",
                       "last_followup_result", "last_followup_status")


def next_actions(assessed: pd.DataFrame, *, tiers: pd.Series, followup_state: pd.DataFrame,
                 as_of: date, playbook=DEFAULT_PLAYBOOK, owners=None) -> pd.DataFrame:
    """Every customer's next action and its due date, vectorised.

    Parameters
    ----------
    assessed : `risk.assess(...)` as of T (customer_id, demand_tag, risk_level, lifecycle).
    tiers : value tier code per customer (index customer_id), as engine
        scoring computed it; customers missing from it have no tier.
    followup_state : `engine.features.followup_state.followup_state(con, as_of=T)`.
    owners : the customers' owners in `assessed`'s row order (array-like);
        None, NaN or blank falls back to the rule's role.

    Returns
    -------
    DataFrame in `assessed`'s row order, columns NEXT_ACTION_COLUMNS:
    customer_id, tier, action (None where no rule applies), owner_role,
    owner (the customer's owner, else the role code), due_date (NaT
    without action), overdue (due < T), followups, last_followup_id,
    last_followup_date, last_followup_result, last_followup_status (the
    latest follow-up of that action by T, any status).
    """
    ids = assessed["customer_id"]
    n = len(ids)
    positions = pd.Index(ids.array)
    columns = {"tier": _aligned(tiers, positions), "risk_level": assessed["risk_level"],
               "demand_tag": assessed["demand_tag"], "lifecycle": assessed["lifecycle"]}
    none = len(playbook)                        # index of "no rule applies"
    rule_of = np.full(n, none, dtype=np.int64)
    for i, rule in enumerate(playbook):
        hit = np.asarray(columns[rule.column] == rule.value, dtype=bool) & (rule_of == none)
        rule_of[hit] = i
    has = rule_of != none

    def per_rule(name, missing):
        return np.array([getattr(r, name) for r in playbook] + [missing])[rule_of]

    latest = _latest_followups(followup_state, positions, rule_of, playbook)
    t = np.datetime64(as_of, "D")
    last_active = pd.to_datetime(latest["last_active_date"]).to_numpy(dtype="datetime64[D]")
    cadence = per_rule("cadence_days", 0).astype("timedelta64[D]")
    first_due = per_rule("first_due_days", 0).astype("timedelta64[D]")
    due = np.where(np.isnat(last_active), t + first_due, last_active + cadence)
    due[~has] = np.datetime64("NaT")

    # codes as Categoricals: cheap to build and to filter for a million rows
    actions = [rule.action for rule in playbook]
    roles = list(dict.fromkeys(rule.owner_role for rule in playbook))
    role_code = np.array([roles.index(r.owner_role) for r in playbook] + [-1])[rule_of]
    owner_code, owner_names = pd.factorize(
        pd.Series(owners if owners is not None else np.full(n, None, dtype=object),
                  dtype="string").str.strip().replace("", None))
    categories = {name: k for k, name in enumerate(owner_names)}
    for role in roles:                           # a role code is a category of its own
        categories.setdefault(role, len(categories))
    role_in_owner = np.array([categories[r] for r in roles] + [-1])[role_code]
    owner_code = np.where(has & (owner_code >= 0), owner_code, role_in_owner)
    return pd.DataFrame({
        "customer_id": ids.array,
        "tier": pd.Categorical(columns["tier"], categories=list(TIERS)),
        "action": pd.Categorical.from_codes(np.where(has, rule_of, -1), categories=actions),
        "owner_role": pd.Categorical.from_codes(role_code, categories=roles),
        "owner": pd.Categorical.from_codes(owner_code, categories=list(categories)),
        "due_date": due.astype("datetime64[us]"), "overdue": due < t,
        "followups": latest["followups"].fillna(0).astype("int64").to_numpy(),
        "last_followup_id": latest["last_followup_id"].astype("Int64").array,
        "last_followup_date": pd.to_datetime(latest["last_date"]).array,
        "last_followup_result": latest["last_result"].array,
        "last_followup_status": latest["last_status"].array,
    })


def _aligned(values: pd.Series, positions: pd.Index) -> np.ndarray:
    """`values` (index customer_id) in the order of `positions`, None where missing."""
    if values.index.equals(positions):
        return values.to_numpy(dtype=object)
    where = positions.get_indexer(values.index)
    out = np.full(len(positions), None, dtype=object)
    found = where >= 0
    out[where[found]] = values.to_numpy(dtype=object)[found]
    return out


def _latest_followups(state: pd.DataFrame, positions: pd.Index, rule_of: np.ndarray,
                      playbook) -> pd.DataFrame:
    """Row i: the follow-up state of customer i and its rule's action (NaN/NaT where none)."""
    codes = {action: k for k, action in enumerate(ACTIONS)}
    k = len(ACTIONS)
    state_pos = positions.get_indexer(pd.Index(state["customer_id"].array))
    state_code = pd.Categorical(state["action"], categories=list(ACTIONS)).codes.astype(np.int64)
    usable = np.flatnonzero((state_pos >= 0) & (state_code >= 0))
    row_code = np.array([codes[r.action] for r in playbook] + [-1], dtype=np.int64)[rule_of]
    wanted = np.arange(len(rule_of), dtype=np.int64) * k + row_code
    found = pd.Index(state_pos[usable] * k + state_code[usable]).get_indexer(wanted)
    found[row_code < 0] = -1
    if len(usable) == 0:
        return state.iloc[:0].reset_index(drop=True).reindex(range(len(rule_of)))
    picked = state.iloc[usable[np.maximum(found, 0)]].reset_index(drop=True)
    return picked.where(pd.Series(found >= 0), axis=0)


TASK_COLUMNS = ("customer_id", "name", "action", "owner", "owner_role", "due_date", "overdue",
                "days_overdue", "tier", "risk_level", "demand_tag", "lifecycle", "followups",
                "last_followup_id", "last_followup_date", "last_followup_result",
                "last_followup_status")


def task_list(features: pd.DataFrame, *, tiers: pd.Series, followup_state: pd.DataFrame,
              as_of: date, playbook=DEFAULT_PLAYBOOK, assessed: pd.DataFrame | None = None,
              rules: risk.RiskRules = risk.DEFAULT_RULES) -> pd.DataFrame:
    """The tasks as of T: one row per customer that needs an action.

    `features` is the feature table as of T (customer_id, name, owner and
    what `risk.assess` reads); pass `assessed` when it is already computed.
    Columns TASK_COLUMNS: customer_id, name, action, owner (the customer's
    owner, else the role code: show it with i18n.label("owner_role", ...),
    which leaves a person's name as it is), owner_role, due_date, overdue,
    days_overdue (0 when not overdue), tier, risk_level, demand_tag,
    lifecycle, followups, last_followup_id, last_followup_date,
    last_followup_result, last_followup_status. Sorted by what matters most
    (`task_order`): win-back first (due within 24 hours), then the value tier
    (high, potential, ordinary, none), then the rule's place in the playbook,
    then the due date (overdue first), then customer_id.
    """
    if assessed is None:
        assessed = risk.assess(features, as_of=as_of, rules=rules)
    tasks = next_actions(assessed, tiers=tiers, followup_state=followup_state, as_of=as_of,
                         playbook=playbook, owners=features["owner"].array)
    has = tasks["action"].notna().to_numpy()
    tasks = tasks[has].assign(
        name=features["name"].array[has], risk_level=assessed["risk_level"].array[has],
        demand_tag=assessed["demand_tag"].array[has], lifecycle=assessed["lifecycle"].array[has])
    late = (np.datetime64(as_of, "D") - tasks["due_date"].to_numpy(dtype="datetime64[D]"))
    tasks["days_overdue"] = np.maximum(late.astype("int64"), 0)
    return task_order(tasks)[list(TASK_COLUMNS)].reset_index(drop=True)


URGENT_ACTION = "win_back"    # DESIGN §4.7: within 24 hours, whatever the tier


def task_order(tasks: pd.DataFrame) -> pd.DataFrame:
    """Tasks with the most valuable work first: win-back (urgent), then tier (high first;
    a high-value customer's visit before an ordinary customer's overdue wake-up), then
    playbook order (the action's category code), then due date, then customer_id."""
    tier = pd.Categorical(tasks["tier"], categories=list(TIERS)).codes.astype(np.int64)
    keys = pd.DataFrame({
        "urgent": (tasks["action"] != URGENT_ACTION).to_numpy(dtype=np.int64),
        "tier": np.where(tier >= 0, tier, len(TIERS)),
        "rule": tasks["action"].cat.codes.to_numpy(),
        "due": tasks["due_date"].to_numpy(), "id": tasks["customer_id"].to_numpy()},
        index=tasks.index)
    return tasks.loc[keys.sort_values(list(keys.columns), kind="stable").index]


def tasks_for(con, *, as_of: date, tiers: pd.Series, playbook=None) -> pd.DataFrame:
    """`task_list` read from the database: features, follow-ups and the saved playbook as of T."""
    return task_list(customer_features(con, as_of=as_of), tiers=tiers,
                     followup_state=read_followup_state(con, as_of=as_of), as_of=as_of,
                     playbook=playbook if playbook is not None else load_playbook(con))


RISK_COLUMNS = ("demand_tag", "risk_level", "risk_reasons", "lifecycle", "next_action",
                "next_action_due")


def risk_columns(features: pd.DataFrame, *, tiers: pd.Series, followup_state: pd.DataFrame,
                 as_of: date, playbook=DEFAULT_PLAYBOOK, lang: str = "en",
                 rules: risk.RiskRules = risk.DEFAULT_RULES) -> pd.DataFrame:
    """The risk and plan columns of the score CSV (DESIGN §5), indexed by customer_id.

    Columns RISK_COLUMNS: demand_tag, risk_level, lifecycle (codes),
    risk_reasons (words in `lang`, "" when none), next_action (code, None
    when no rule applies), next_action_due (datetime64 at midnight, NaT
    when no action; to_csv writes it as YYYY-MM-DD and an empty cell).
    """
    assessed = risk.assess(features, as_of=as_of, rules=rules)
    nxt = next_actions(assessed, tiers=tiers, followup_state=followup_state, as_of=as_of,
                       playbook=playbook, owners=features["owner"].array)
    return pd.DataFrame({
        "demand_tag": assessed["demand_tag"].array,
        "risk_level": assessed["risk_level"].array,
        "risk_reasons": risk.reasons_text(assessed, lang).array,
        "lifecycle": assessed["lifecycle"].array,
        "next_action": nxt["action"].array,
        "next_action_due": nxt["due_date"].array,
    }, index=pd.Index(assessed["customer_id"].array, name="customer_id"))


# --- the follow-up log ------------------------------------------------------

def _as_date(value, field: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()) or (
            not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise FollowupError("plan.error.bad_date", field=field, value=value) from None


def _as_timestamp(value) -> datetime:
    if value is None:
        return datetime.now().replace(microsecond=0)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise FollowupError("plan.error.bad_date", field="ts", value=value) from None


def _check_code(value, allowed, key) -> str:
    if value not in allowed:
        raise FollowupError(key, value=value, allowed=", ".join(allowed))
    return value


def log_followup(path, *, customer_id: str, action: str, channel: str | None,
                 need: str | None, result: str | None, next_contact_date, status: str,
                 owner: str | None, ts=None, actor: str = audit.LOCAL,
                 only_owner: str | None = None) -> int:
    """Write one follow-up at once (one transaction; bumps the data version); return its id.

    `ts` defaults to now; `next_contact_date` is a date, an ISO date string
    or None. The new followup_id is the largest so far plus one. Raises
    FollowupError for an unknown customer, action or status, or a bad date.
    With `only_owner`, a customer another owner looks after counts as unknown
    (a rep's write). Recorded in the audit log as done by `actor`.
    """
    if customer_id is None or str(customer_id).strip() == "":
        raise FollowupError("plan.error.missing_customer_id")
    customer_id = str(customer_id).strip()
    _check_code(action, ACTIONS, "plan.error.bad_action")
    _check_code(status, STATUSES, "plan.error.bad_status")
    next_contact = _as_date(next_contact_date, "next_contact_date")
    stamp = _as_timestamp(ts)
    with store.write(path) as con:
        known = store.first_row(con, "SELECT count(*) FROM customers WHERE customer_id = ? "
                                     "AND (CAST(? AS VARCHAR) IS NULL OR owner = ?)",
                                [customer_id, only_owner, only_owner])[0]
        if not known:
            raise FollowupError("plan.error.unknown_customer", customer_id=customer_id)
        new_id = store.first_row(
            con, "SELECT coalesce(max(followup_id), 0) + 1 FROM followups")[0]
        con.execute(
            "INSERT INTO followups (followup_id, customer_id, ts, action, channel, need, result,"
            " next_contact_date, owner, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [new_id, customer_id, stamp, action, channel, need, result, next_contact, owner,
             status])
        audit.record(con, actor, "followup_logged", {
            "followup_id": int(new_id), "customer_id": customer_id, "action": action,
            "status": status})
    return int(new_id)


def set_followup_status(path, followup_id: int, status: str, *, actor: str = audit.LOCAL,
                        only_owner: str | None = None) -> None:
    """Change one follow-up's status (one write; bumps the data version; audited as `actor`).

    With `only_owner`, a follow-up of a customer another owner looks after
    counts as unknown.
    """
    _check_code(status, STATUSES, "plan.error.bad_status")
    try:
        followup_id = int(followup_id)
    except (TypeError, ValueError):
        raise FollowupError("plan.error.unknown_followup", followup_id=followup_id) from None
    with store.write(path) as con:
        found = store.first_row(
            con, "SELECT count(*) FROM followups f LEFT JOIN customers c USING (customer_id) "
                 "WHERE f.followup_id = ? AND (CAST(? AS VARCHAR) IS NULL OR c.owner = ?)",
            [followup_id, only_owner, only_owner])[0]
        if not found:
            raise FollowupError("plan.error.unknown_followup", followup_id=followup_id)
        con.execute("UPDATE followups SET status = ? WHERE followup_id = ?",
                    [status, followup_id])
        audit.record(con, actor, "followup_status", {"followup_id": followup_id,
                                                     "status": status})


FOLLOWUP_COLUMNS = ("followup_id", "customer_id", "ts", "action", "channel", "need", "result",
                    "next_contact_date", "owner", "status")


def customer_followups(con, customer_id: str) -> pd.DataFrame:
    """One customer's follow-ups, latest first. Columns FOLLOWUP_COLUMNS."""
    return con.execute(
        f"SELECT {', '.join(FOLLOWUP_COLUMNS)} FROM followups WHERE customer_id = ? "
        "ORDER BY ts DESC, followup_id DESC", [customer_id]).df()
