"""Weekly summaries (stored per campaign and ISO week, idempotent; task and command) and the
executive summary with next actions that say which numbers triggered them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.budget import record_spend
from leads.services import transition_lead
from outreach.models import MetricEntry
from reporting.executive import executive_summary
from reporting.models import WeeklySummary
from reporting.services import build_weekly_summary
from reporting.tasks import weekly_summaries
from tests.reporting.conftest import add_leads, add_messages
from tests.reporting.test_metrics import add_tasks

LAST_MONDAY = dt.date(2026, 2, 23)  # frozen now is Monday 2026-03-02 10:00 UTC


def seed_last_week(campaign, variants, frozen_now, operator):
    a, _ = variants
    wednesday = dt.datetime(2026, 2, 25, 12, tzinfo=dt.UTC)
    add_messages(campaign, a, n=5, sent_at=wednesday, events={"replied": 2})
    add_messages(campaign, a, n=2, dry_run=True, sent_at=wednesday)
    add_messages(campaign, a, n=3)  # this week
    tasks = add_tasks(
        campaign,
        [("post", "done", wednesday), ("post", "done", wednesday), ("post", "pending", wednesday)],
    )
    MetricEntry.objects.create(
        task=tasks[0], campaign=campaign, impressions=40, engagements=6, clicks=2, recorded_at=wednesday
    )
    lead = add_leads(campaign, {"contacted": 1})[0]
    frozen_now.move_to(wednesday)
    transition_lead(lead=lead, transition="qualify", actor=operator)
    record_spend(campaign=campaign, kind="manual", amount=Decimal("12.5"), actor=operator, enforce_cap=False)
    frozen_now.move_to(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC))


def test_weekly_summary_numbers_and_idempotency(ab_campaign, frozen_now, operator):
    campaign, variants = ab_campaign
    seed_last_week(campaign, variants, frozen_now, operator)
    first = build_weekly_summary(campaign=campaign, week_start=LAST_MONDAY + dt.timedelta(days=3))
    assert (first.week_start, first.iso_year, first.iso_week) == (LAST_MONDAY, 2026, 9)
    assert (first.tasks_total, first.tasks_done, first.completion_rate) == (3, 2, round(2 / 3, 4))
    assert (first.impressions, first.engagements, first.clicks) == (40, 6, 2)
    assert (first.sent, first.dry_run_recorded, first.replies) == (5, 2, 2)
    assert first.new_qualified_leads == 1
    assert first.spend == Decimal("12.5")
    again = build_weekly_summary(campaign=campaign, week_start=LAST_MONDAY)
    assert again.pk == first.pk
    assert WeeklySummary.objects.filter(campaign=campaign).count() == 1


def test_beat_task_builds_last_and_current_week_once(ab_campaign, frozen_now, operator):
    campaign, variants = ab_campaign
    seed_last_week(campaign, variants, frozen_now, operator)
    assert weekly_summaries() == {"summaries": 2}
    assert weekly_summaries() == {"summaries": 2}
    rows = {s.week_start: s for s in WeeklySummary.objects.filter(campaign=campaign)}
    assert set(rows) == {LAST_MONDAY, dt.date(2026, 3, 2)}
    assert rows[dt.date(2026, 3, 2)].sent == 3


def test_weekly_summary_command_for_one_campaign(ab_campaign, campaign_in_state):
    campaign, _ = ab_campaign
    other = campaign_in_state("active")
    out = StringIO()
    call_command("weekly_summary", campaign=campaign.pk, verbosity=0, stdout=out)
    assert "2026-W09" in out.getvalue() and "2026-W10" in out.getvalue()
    assert WeeklySummary.objects.filter(campaign=campaign).count() == 2
    assert not WeeklySummary.objects.filter(campaign=other).exists()


def test_executive_summary_recommends_a_new_subject_after_many_sends_and_few_replies(ab_campaign):
    campaign, (a, b) = ab_campaign
    add_messages(campaign, a, n=150, events={"replied": 1, "opened": 50})
    add_messages(campaign, b, n=100, events={"replied": 2, "opened": 40})
    summary = executive_summary(campaign).as_dict()
    assert summary["kpis"]["live_sent"] == 250 and summary["kpis"]["reply_rate"] == 0.012
    codes = {a["code"]: a for a in summary["next_actions"]}
    assert "new_subject_line" in codes
    assert "3 replies / 250 sends" in codes["new_subject_line"]["because"]
    assert any("250 emails sent live" in line for line in summary["insights"])


def test_executive_summary_says_goal_met_and_cap_reached(ab_campaign):
    campaign, (a, _) = ab_campaign
    Campaign.objects.filter(pk=campaign.pk).update(target_clients=2, daily_email_cap=5)
    campaign.refresh_from_db()
    add_leads(campaign, {"qualified": 1, "won": 1})
    now = timezone.now()
    for days_ago in (1, 2, 3):
        add_messages(campaign, a, n=5, sent_at=now - dt.timedelta(days=days_ago))
    summary = executive_summary(campaign)
    codes = [r.code for r in summary.next_actions]
    assert codes[0] == "goal_met"
    assert "raise_cap" in codes
    assert summary.numbers.cap_reached_days_running == 3


def test_executive_summary_of_an_empty_campaign_has_no_actions(campaign_in_state):
    summary = executive_summary(campaign_in_state("active", target_clients=0))
    assert summary.next_actions == []
    assert summary.insights == ["No live emails sent yet."]
