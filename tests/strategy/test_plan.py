from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from campaigns.errors import TransitionNotAllowedError
from strategy import services
from strategy.models import CalendarItem, CampaignPlan, PlanPhase

pytestmark = pytest.mark.django_db
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def _approve(campaign, variant, actor=None):
    services.select_strategy_variant(variant=variant, actor=actor)
    return services.approve_strategy_variant(variant=variant, actor=actor, rationale="go")


def test_plan_phases_cover_the_campaign_dates(generated, operator):
    campaign, _batch, variants = generated
    _approve(campaign, variants[0], operator)
    plan = CampaignPlan.objects.get(campaign=campaign)
    phases = list(plan.phases.all())
    assert (plan.start_date, plan.end_date) == (campaign.start_date, campaign.end_date)
    assert plan.duration_days == 90
    assert phases[0].start_date == plan.start_date and phases[-1].end_date == plan.end_date
    for earlier, later in itertools.pairwise(phases):
        assert later.start_date == earlier.end_date + dt.timedelta(days=1)
    # lead_gen: research 20 %, outreach 50 %, nurture 30 % of 90 days
    assert [(p.end_date - p.start_date).days + 1 for p in phases] == [18, 45, 27]
    assert phases[0].tactics[:3] == ["Define ICP", "Build and verify lead list", "Set up tracking"]
    assert phases[-1].metrics["qualified_leads"] == plan.kpi_targets["qualified_leads"]


def test_calendar_follows_cadence_inside_business_hours(generated, operator):
    campaign, _batch, variants = generated
    approved = _approve(campaign, variants[1], operator)
    items = list(CalendarItem.objects.filter(campaign=campaign))
    weeks = 90 / 7
    for channel, cadence in approved.cadence.items():
        count = sum(1 for i in items if i.platform == channel)
        assert abs(count - cadence["per_week"] * weeks) <= cadence["per_week"] + 1
        assert {i.content_type for i in items if i.platform == channel} == {cadence["content_type"]}
    for item in items:
        local = item.scheduled_at.astimezone(BERLIN)
        assert local.weekday() < 5
        assert dt.time(9, 0) <= local.time() < dt.time(17, 0)
        assert campaign.start_date <= local.date() <= campaign.end_date
        assert item.phase.start_date <= local.date() <= item.phase.end_date
        assert any(p in item.theme for p in approved.pillars)


def test_rebuilding_does_not_duplicate_and_keeps_operator_edits(generated, operator):
    campaign, _batch, variants = generated
    _approve(campaign, variants[2], operator)
    first_count = CalendarItem.objects.filter(campaign=campaign).count()
    edited = CalendarItem.objects.filter(campaign=campaign).first()
    services.update_calendar_item(item=edited, actor=operator, theme="Launch-day special")

    services.build_plan_and_calendar(campaign=campaign, actor=operator)
    services.build_plan_and_calendar(campaign=campaign, actor=operator)

    assert CampaignPlan.objects.filter(campaign=campaign).count() == 1
    assert PlanPhase.objects.filter(plan__campaign=campaign).count() == 3
    assert CalendarItem.objects.filter(campaign=campaign).count() == first_count
    edited.refresh_from_db()
    assert edited.theme == "Launch-day special" and edited.edited_by_operator


def test_plan_defaults_to_90_days_from_today_without_dates(make_campaign, operator, frozen_now):
    campaign = make_campaign(start_date=None, end_date=None)
    services.generate_and_approve_strategy(campaign=campaign, actor=operator)
    plan = CampaignPlan.objects.get(campaign=campaign)
    assert plan.start_date == dt.date(2026, 3, 2) and plan.duration_days == 90


def test_plan_needs_an_approved_variant(generated):
    campaign, *_ = generated
    with pytest.raises(TransitionNotAllowedError, match="no approved strategy variant"):
        services.build_plan_and_calendar(campaign=campaign)


def test_each_platform_posts_in_its_own_window(make_campaign, operator):
    campaign = make_campaign("product_launch")  # email, linkedin, x, instagram
    services.generate_and_approve_strategy(campaign=campaign, actor=operator, choose=3)
    windows = {"email": (9, 11), "linkedin": (9, 12), "x": (11, 15), "instagram": (12, 17)}
    items = CalendarItem.objects.filter(campaign=campaign)
    assert {i.platform for i in items} == set(windows)
    for item in items:
        opens, closes = windows[item.platform]
        assert opens <= item.scheduled_at.astimezone(BERLIN).hour < closes
