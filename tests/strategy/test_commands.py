from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import CampaignState
from strategy.models import CalendarItem, CampaignPlan, StrategyBatch, VariantState

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("generate_strategies", *[str(a) for a in args], stdout=out)
    return out.getvalue()


def test_prints_a_readable_summary_of_each_variant(make_campaign):
    campaign = make_campaign("content")
    output = run(campaign.pk, "--variants", 4)
    batch = StrategyBatch.objects.get(campaign=campaign)
    assert f"batch {batch.number}, 4 variants by template" in output
    for position, angle in enumerate(["Conservative", "Aggressive", "Creative", "Proof-led"], start=1):
        assert f"[{position}] {angle} content" in output
    for label in ("Positioning:", "Pillars:", "Channels:", "Phases:", "KPIs:", "Budget:", "Risks:"):
        assert output.count(label) == 4
    assert "Foundation 18d" in output and "engagement_rate" in output
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.AWAITING_APPROVAL


def test_approve_builds_plan_and_calendar(make_campaign):
    campaign = make_campaign("lead_gen")
    output = run(campaign.pk, "--approve", 2, "--rationale", "pilot")
    plan = CampaignPlan.objects.get(campaign=campaign)
    assert plan.variant.position == 2 and plan.variant.state == VariantState.APPROVED
    assert f"{CalendarItem.objects.filter(campaign=campaign).count()} calendar items" in output
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.APPROVED


def test_errors_are_clear(make_campaign):
    with pytest.raises(CommandError, match="Campaign 999999 does not exist"):
        run(999999)
    campaign = make_campaign()
    with pytest.raises(CommandError, match="2 to 5 variants"):
        run(campaign.pk, "--variants", 7)
    with pytest.raises(CommandError, match="Unknown strategy generator 'gpt'"):
        run(campaign.pk, "--generator", "gpt")
    assert not StrategyBatch.objects.filter(campaign=campaign).exists()
