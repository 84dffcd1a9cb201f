"""What the Plan page shows of the task list (engine.plan_page), on four hand-made tasks
as of T = 2024-06-30: C1 and C4 overdue (10 and 30 days), C2 due on T, C3 upcoming."""
from datetime import date

import pandas as pd

from engine import plan
from engine.plan_page import (PLAYBOOK_TARGETS, customer_task, playbook_from_rows,
                              playbook_rows, target_label, task_options, task_view,
                              tiers_by_customer)

T = date(2024, 6, 30)
TASKS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4"],
    "name": ["Ann", "Bo", None, "Di"],
    "action": pd.Categorical(["win_back", "visit", "wake_up", "care"], categories=plan.ACTIONS),
    "owner": ["张伟", "account_manager", "张伟", "李娜"],
    "due_date": pd.to_datetime(["2024-06-20", "2024-06-30", "2024-07-07", "2024-05-31"]),
    "overdue": [True, False, False, True],
    "days_overdue": [10, 0, 0, 1030],
    "risk_level": ["high", "low", "low", "medium"],
    "lifecycle": ["at_risk", "loyal", "churned", "active"]})


def view(owners=(), actions=(), due="all", lang="en"):
    return task_view(TASKS, owners=owners, actions=actions, due=due, as_of=T, lang=lang)


def test_rows_puts_only_the_first_kept_tasks_in_words_and_counts_them_all():
    first = task_view(TASKS, owners=(), actions=(), due="overdue", as_of=T, lang="en", rows=1)
    assert first["kept"] == 2 and first["total"] == 4      # C1 and C4 are overdue
    assert first["table"]["customer_id"].tolist() == ["C1"]
    assert first["codes"]["customer_id"].tolist() == ["C1"] and list(first["names"]) == ["C1"]
    assert first["table"]["state"].tolist() == ["Overdue by 10 days"]
    assert view(due="overdue")["kept"] == 2 and len(view(due="overdue")["table"]) == 2


def test_every_task_with_its_state_in_words():
    shown = view()
    assert shown["codes"]["state"].tolist() == ["overdue", "due", "upcoming", "overdue"]
    assert shown["table"]["state"].tolist() == ["Overdue by 10 days", "Due", "Upcoming",
                                                "Overdue by 1,030 days"]
    assert shown["table"]["action"].tolist() == ["Win back", "Exclusive visit", "Wake up",
                                                 "Care contact"]
    assert shown["table"]["owner"].tolist() == ["张伟", "Account manager", "张伟", "李娜"]
    assert shown["names"] == {"C1": "C1 · Ann · Win back", "C2": "C2 · Bo · Exclusive visit",
                              "C3": "C3 ·  · Wake up", "C4": "C4 · Di · Care contact"}
    assert view(lang="zh")["table"]["state"].iloc[0] == "逾期 10 天"


def test_a_churned_customer_is_not_called_low_risk():
    risk = view()["table"]["risk_level"].tolist()
    assert risk == ["High risk", "Low risk", "— already churned", "Medium risk"]


def test_the_filters_keep_some_tasks_and_the_counts_stay_those_of_all():
    assert view(due="due")["codes"]["customer_id"].tolist() == ["C1", "C2", "C4"]
    assert view(due="overdue")["codes"]["customer_id"].tolist() == ["C1", "C4"]
    assert view(owners=("张伟",))["codes"]["customer_id"].tolist() == ["C1", "C3"]
    assert view(owners=("张伟",), actions=("wake_up", "visit"))["codes"]["customer_id"].tolist() \
        == ["C3"]
    nothing = view(owners=("李娜",), due="due", actions=("visit",))
    assert nothing["codes"].empty and nothing["names"] == {}
    assert (nothing["total"], nothing["overdue"], nothing["due_today"]) == (4, 2, 1)


def test_the_filters_offer_the_owners_and_actions_there_are_most_tasks_first():
    options = task_options(TASKS)
    assert options["owner"][0] == "张伟" and set(options["owner"]) == {"张伟", "account_manager",
                                                                       "李娜"}
    assert set(options["action"]) == {"win_back", "visit", "wake_up", "care"}   # no "other"


def test_one_customers_task():
    assert customer_task(TASKS, "C3")["action"] == "wake_up"
    assert customer_task(TASKS, "C9") is None


def test_tiers_by_customer():
    scores = pd.DataFrame({"customer_id": ["A", "B"], "tier": ["high", "ordinary"],
                           "score": [90.0, 10.0]})
    assert tiers_by_customer(scores).to_dict() == {"A": "high", "B": "ordinary"}


def test_the_playbook_as_editor_rows_and_back():
    rows = playbook_rows(plan.DEFAULT_PLAYBOOK)
    assert list(rows.columns) == ["action", "applies_to", "cadence_days", "first_due_days",
                                  "owner_role"]
    assert rows.iloc[0].tolist() == ["win_back", "risk_level:high", 1, 1, "service_supervisor"]
    assert playbook_from_rows(rows) == plan.playbook_records(plan.DEFAULT_PLAYBOOK)
    blank = pd.DataFrame([{"action": "care", "applies_to": None, "cadence_days": 7,
                           "first_due_days": 0, "owner_role": "service_rep"}])
    assert playbook_from_rows(blank)[0]["column"] is None
    assert playbook_from_rows(blank)[0]["value"] is None


def test_the_targets_a_rule_may_apply_to_in_words():
    assert len(PLAYBOOK_TARGETS) == 3 + 4 + 3 + 6      # risk levels, demand tags, tiers, stages
    assert "tier:high" in PLAYBOOK_TARGETS and "lifecycle:churned" in PLAYBOOK_TARGETS
    assert target_label("tier:high", "en") == "Value tier: High value"
    assert target_label("risk_level:high", "zh") == "流失风险：高风险"
