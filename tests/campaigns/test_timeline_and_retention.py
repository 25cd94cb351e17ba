from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from campaigns import retention, tasks
from campaigns.models import AuditDailySummary, AuditEvent, CampaignState
from campaigns.selectors import campaign_timeline_entries, timeline_kinds
from campaigns.services.audit import record_audit_event
from campaigns.services.editing import create_campaign, update_campaign
from campaigns.services.policy import set_compliance_policy
from campaigns.services.retention import keep_verbs_q, prune_audit_events
from campaigns.services.transitions import transition_campaign
from campaigns.timeline import register_timeline_history
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
S = CampaignState


@pytest.fixture
def story(frozen_now, operator):
    """A campaign with decisions spread over time, as the other apps will record them."""
    client = ClientFactory()
    # The story stands in for strategy work with audit rows only, so its policy waives the real thing.
    set_compliance_policy(client=client, require_strategy_approval=False)
    campaign = create_campaign(client=client, name="Story", actor=operator)
    frozen_now.shift(60)
    update_campaign(campaign=campaign, actor=operator, target_clients=12, rationale="bigger goal")
    frozen_now.shift(60)
    strategy = ClientFactory(name="Strategy variant B")  # stands in for a strategy variant
    record_audit_event(verb="strategy.generated", campaign=campaign, target=strategy)
    frozen_now.shift(60)
    record_audit_event(
        verb="strategy.approved",
        actor=operator,
        campaign=campaign,
        target=strategy,
        rationale="best fit for a cautious buyer",
    )
    frozen_now.shift(60)
    for step in ("start_planning", "submit_for_approval", "approve", "activate"):
        transition_campaign(campaign=campaign, transition=step, actor=operator)
        frozen_now.shift(1)
    return campaign


def test_timeline_merges_audit_and_history_in_time_order(story, operator):
    entries = campaign_timeline_entries(story)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    actions = [e.action for e in entries]
    assert (
        actions.index("campaign.created")
        < actions.index("strategy.approved")
        < actions.index("campaign.activated")
    )
    edit = next(e for e in entries if e.source == "history" and "target_clients" in e.details)
    assert edit.rationale == "bigger goal" and edit.actor == operator.username
    assert "10 → 12" in edit.details
    # "Who approved this strategy and why?"
    approved = [e for e in entries if e.action == "strategy.approved"]
    assert [(e.actor, e.rationale, e.object) for e in approved] == [
        (operator.username, "best fit for a cautious buyer", "Strategy variant B")
    ]


def test_timeline_filters_by_kind(story):
    assert {"campaign", "strategy", "history"} <= set(timeline_kinds(story))
    only_strategy = campaign_timeline_entries(story, kinds=["strategy"])
    assert [e.action for e in only_strategy] == ["strategy.generated", "strategy.approved"]
    only_history = campaign_timeline_entries(story, kinds=["history"])
    assert only_history and {e.source for e in only_history} == {"history"}


def test_other_apps_register_history_models(story, operator):
    with pytest.raises(ValueError, match="no simple-history"):
        register_timeline_history(AuditEvent)
    set_compliance_policy(campaign=story, actor=operator, max_daily_volume=7, rationale="cap it")
    policy_rows = [e for e in campaign_timeline_entries(story, kinds=["history"]) if "policy" in e.action]
    assert [(e.action, e.rationale) for e in policy_rows] == [("compliance policy created", "cap it")]


def test_admin_timeline_filters_and_exports_csv(client, operator, story):
    client.force_login(operator)
    url = reverse("admin:campaigns_campaign_timeline", args=[story.pk])
    page = client.get(url, {"kind": "strategy"}).content.decode()
    assert "best fit for a cautious buyer" in page and "campaign.activated" not in page
    assert 'id="timeline-csv"' in page
    export = client.get(url, {"kind": ["strategy", "campaign"], "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    assert f"campaign-{story.pk}-timeline.csv" in export["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0] == ["at", "kind", "source", "actor", "action", "object", "rationale", "details"]
    actions = [r[4] for r in rows[1:]]
    assert actions[0] == "campaign.created" and "strategy.approved" in actions
    assert {r[1] for r in rows[1:]} == {"strategy", "campaign"}


# --- retention ---------------------------------------------------------------------------------


def _event(verb: str, at: dt.datetime, campaign=None) -> AuditEvent:
    return AuditEvent.objects.create(verb=verb, actor_label="system", campaign=campaign, created_at=at)


def test_retention_summarises_and_prunes_old_events_but_never_decisions(campaign_in_state, frozen_now):
    campaign = campaign_in_state(S.DRAFT)
    AuditEvent.objects.all().delete()
    now = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)  # the frozen clock
    old = now - dt.timedelta(days=settings.AICMO_AUDIT_RETENTION_DAYS + 5)
    for _ in range(3):
        _event("email.sent", old, campaign)
    _event("email.sent", old + dt.timedelta(days=1), campaign)
    _event("client.created", old)  # no campaign
    decisions = [
        "strategy.approved",
        "creative.rejected",
        "strategy.selected",
        "campaign.paused",
        "budget.cap_changed",
        "risk.overridden",
        "override.checks",
        "system.paused",
    ]
    for verb in decisions:
        _event(verb, old, campaign)
    recent = _event("email.sent", now - dt.timedelta(days=1), campaign)

    report = prune_audit_events(now=now)

    assert report["pruned"] == 5 and report["days"] == 2
    assert set(AuditEvent.objects.values_list("verb", flat=True)) == set(decisions) | {"email.sent"}
    assert AuditEvent.objects.filter(verb="email.sent").get() == recent
    summary = {(s.campaign_id, s.date, s.verb): s.count for s in AuditDailySummary.objects.all()}
    assert summary == {
        (campaign.pk, old.date(), "email.sent"): 3,
        (campaign.pk, old.date() + dt.timedelta(days=1), "email.sent"): 1,
        (None, old.date(), "client.created"): 1,
    }
    # Twice is harmless: nothing left to count.
    assert prune_audit_events(now=now)["pruned"] == 0
    assert AuditDailySummary.objects.get(verb="email.sent", date=old.date()).count == 3

    # A later run for the same day adds to the day's count.
    _event("email.sent", old, campaign)
    prune_audit_events(now=now)
    assert AuditDailySummary.objects.get(verb="email.sent", date=old.date()).count == 4


@override_settings(AICMO_AUDIT_RETENTION_DAYS=10, AICMO_AUDIT_KEEP_VERBS=["email.*"])
def test_retention_age_and_kept_verbs_are_settings(campaign_in_state):
    campaign = campaign_in_state(S.DRAFT)
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    _event("email.sent", now - dt.timedelta(days=11), campaign)
    _event("campaign.paused", now - dt.timedelta(days=11), campaign)
    _event("campaign.resumed", now - dt.timedelta(days=9), campaign)
    prune_audit_events(now=now)
    assert set(
        AuditEvent.objects.filter(created_at__lt=now - dt.timedelta(days=5)).values_list("verb", flat=True)
    ) == {
        "email.sent",
        "campaign.resumed",
    }


def test_verb_patterns():
    verbs = ["a.approved", "campaign.x", "override.y", "risk.overridden", "email.sent", "x.y.z"]
    for verb in verbs:
        _event(verb, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    kept = AuditEvent.objects.filter(
        keep_verbs_q(["*.approved", "campaign.*", "override*", "*.overrid*", "x.y.z"])
    )
    assert set(kept.values_list("verb", flat=True)) == set(verbs) - {"email.sent"}
    with pytest.raises(ValueError, match="Unsupported verb pattern"):
        keep_verbs_q(["a*b*c"])


def test_retention_task_runs_registered_pruners(monkeypatch):
    seen = {}

    def prune_messages(*, cutoff):
        seen["cutoff"] = cutoff
        return 7

    monkeypatch.setattr(retention, "_pruners", {"outreach.message_events": prune_messages})
    report = tasks.prune_old_audit_events()
    assert report["outreach.message_events"] == 7
    assert seen["cutoff"].isoformat() == report["cutoff"]
    assert (
        settings.CELERY_BEAT_SCHEDULE["audit-retention"]["task"] == "campaigns.tasks.prune_old_audit_events"
    )


def test_registered_history_models_join_the_timeline(story, monkeypatch):
    from campaigns import timeline
    from campaigns.models import Campaign

    monkeypatch.setattr(timeline, "_sources", {})
    # Stands in for e.g. register_timeline_history(StrategyVariant, campaign_lookup="campaign").
    register_timeline_history(Campaign, campaign_lookup="id", label="mirrored campaign")
    actions = [e.action for e in campaign_timeline_entries(story, kinds=["history"])]
    assert "mirrored campaign created" in actions and "campaign created" in actions
