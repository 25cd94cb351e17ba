"""Each rule fires on its trigger and not just below it (table-driven)."""

from __future__ import annotations

import pytest

from reporting.next_actions import CampaignNumbers, recommend_next_actions

CASES = [
    # (code, numbers that fire, numbers just below the trigger)
    ("new_subject_line", dict(sent=200, replied=3), dict(sent=200, replied=4)),
    ("new_subject_line", dict(sent=200, replied=3), dict(sent=199, replied=0)),
    ("verify_list", dict(sent=100, bounced=6), dict(sent=100, bounced=5)),
    ("verify_list", dict(sent=100, bounced=6), dict(sent=49, bounced=10)),
    ("review_targeting", dict(sent=1000, complained=1), dict(sent=1001, complained=1)),
    ("check_deliverability", dict(sent=200, opened=29), dict(sent=200, opened=30)),
    ("raise_cap", dict(cap_reached_days_running=3), dict(cap_reached_days_running=2)),
    ("goal_met", dict(qualified=10, target_clients=10), dict(qualified=9, target_clients=10)),
    (
        "import_leads",
        dict(leads_total=50, leads_contactable_remaining=0),
        dict(leads_total=50, leads_contactable_remaining=1),
    ),
    ("clear_overdue_tasks", dict(overdue_tasks=1), dict(overdue_tasks=0)),
    ("review_budget", dict(budget_ratio=0.8), dict(budget_ratio=0.79)),
]


@pytest.mark.parametrize(("code", "fires", "below"), CASES)
def test_rule_fires_on_trigger_and_not_below(code, fires, below):
    fired = {r.code: r for r in recommend_next_actions(CampaignNumbers(**fires))}
    assert code in fired
    assert fired[code].because  # says which numbers triggered it
    assert code not in {r.code for r in recommend_next_actions(CampaignNumbers(**below))}


def test_reasons_quote_the_numbers_and_order_by_priority():
    recs = recommend_next_actions(
        CampaignNumbers(sent=300, replied=3, bounced=30, cap_reached_days_running=4)
    )
    assert [r.code for r in recs] == ["verify_list", "new_subject_line", "raise_cap"]
    assert "30 bounces / 300 sends = 10.0%" in recs[0].because


def test_goal_met_only_for_running_campaigns():
    assert not recommend_next_actions(CampaignNumbers(qualified=5, target_clients=5, state="completed"))
