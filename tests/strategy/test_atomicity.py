"""Generation + plan + calendar is one transaction: a failure after the variants are written
leaves no strategy row behind. Run with real commits (transaction=True), on PostgreSQL and SQLite."""

from __future__ import annotations

import pytest

from campaigns.models import AuditEvent, CampaignState
from strategy import services
from strategy.models import (
    CalendarItem,
    CampaignPlan,
    PlanPhase,
    StrategyBatch,
    StrategyDecision,
    StrategyVariant,
)
from strategy.services import generation, planning


class InjectedFailure(RuntimeError):
    pass


def _fail_after_calendar_rows_are_written(monkeypatch):
    original = planning._sync_calendar_items
    written = {}

    def write_then_fail(**kwargs):
        original(**kwargs)
        written["calendar_items"] = CalendarItem.objects.count()
        written["variants"] = StrategyVariant.objects.count()
        written["plans"] = CampaignPlan.objects.count()
        raise InjectedFailure("disk full (injected)")

    monkeypatch.setattr(planning, "_sync_calendar_items", write_then_fail)
    return written


def _assert_nothing_left(campaign):
    for model in (StrategyBatch, StrategyVariant, StrategyDecision, CampaignPlan, PlanPhase, CalendarItem):
        assert model.objects.filter(campaign=campaign).count() == 0, model.__name__
    assert not AuditEvent.objects.filter(campaign=campaign, verb__startswith="strategy.generated").exists()
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.DRAFT


def _run_and_check(make_campaign, operator, monkeypatch):
    campaign = make_campaign("product_launch")  # 90 days, Europe/Berlin
    written = _fail_after_calendar_rows_are_written(monkeypatch)
    with pytest.raises(InjectedFailure):
        services.generate_and_approve_strategy(campaign=campaign, actor=operator, rationale="demo run")
    # The rows really were written inside the transaction before the failure…
    assert written["variants"] == 3 and written["plans"] == 1 and written["calendar_items"] > 50
    # …and none of them survived it.
    _assert_nothing_left(campaign)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failure_after_variants_leaves_nothing_on_postgresql(make_campaign, operator, monkeypatch):
    _run_and_check(make_campaign, operator, monkeypatch)


@pytest.mark.django_db(transaction=True)
def test_failure_after_variants_leaves_nothing(make_campaign, operator, monkeypatch):
    _run_and_check(make_campaign, operator, monkeypatch)


@pytest.mark.django_db(transaction=True)
def test_failure_while_advancing_the_campaign_rolls_back_the_new_batch(make_campaign, operator, monkeypatch):
    campaign = make_campaign()

    real_transition = generation.transition_campaign

    def refuse_submission(**kwargs):
        # planning starts (and is written); the submission after it fails
        if kwargs["transition"] == "submit_for_approval":
            raise InjectedFailure("campaign service down (injected)")
        return real_transition(**kwargs)

    monkeypatch.setattr(generation, "transition_campaign", refuse_submission)
    with pytest.raises(InjectedFailure):
        services.generate_strategies(campaign=campaign, actor=operator)
    _assert_nothing_left(campaign)
