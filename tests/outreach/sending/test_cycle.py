from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import AuditEvent, CampaignState
from leads.models import Lead
from leads.services import transition_lead
from outreach.models import CycleLease, Message
from outreach.services import cycle as cycle_module
from outreach.services.cycle import run_all, run_cycle
from outreach.services.sending import scheduling_room

pytestmark = pytest.mark.django_db
STATS_KEYS = {
    "campaign_id",
    "dry_run",
    "discovered",
    "enriched",
    "enrolled",
    "scheduled",
    "sent",
    "recorded_dry_run",
    "failed",
    "skipped",
    "rescheduled",
    "cap_reached",
    "paused",
    "pause_reason",
    "skipped_cycle",
    "simulated",
    "errors",
    "metrics",
    "reasons",
}


def test_cycle_runs_every_stage_and_returns_stats(live_campaign):
    campaign, _ = live_campaign(leads=5)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False).as_dict()
    assert set(stats) == STATS_KEYS
    assert (
        stats["enriched"] == 5 and stats["enrolled"] == 5 and stats["scheduled"] == 5 and stats["sent"] == 5
    )
    assert stats["metrics"]["leads_total"] == 5 and stats["errors"] == []
    assert len(mail.outbox) == 5
    assert set(Lead.objects.values_list("state", flat=True)) == {"contacted"}


def test_dry_run_cycle_of_a_live_campaign_sends_nothing_and_uses_nothing_up(live_campaign):
    campaign, _ = live_campaign(leads=3)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=True)
    assert stats.dry_run and stats.simulated and stats.recorded_dry_run == 3 and stats.sent == 0
    assert mail.outbox == [] and not Message.objects.exists()
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).sent == 3  # the rehearsal consumed nothing


def test_cycles_of_one_campaign_never_overlap(live_campaign, frozen_now):
    campaign, _ = live_campaign(leads=2)
    from django.utils import timezone

    CycleLease.objects.create(
        campaign=campaign, holder="other", expires_at=timezone.now() + timezone.timedelta(minutes=5)
    )
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.skipped_cycle == "another cycle of this campaign is running"
    assert not Message.objects.exists()


def test_one_campaigns_failure_does_not_stop_the_others(live_campaign, monkeypatch):
    broken, _ = live_campaign(leads=2)
    healthy, _ = live_campaign(leads=2)
    original = cycle_module.schedule_due_messages

    def flaky(*, campaign, **kwargs):
        if campaign.pk == broken.pk:
            raise RuntimeError("template store unavailable")
        return original(campaign=campaign, **kwargs)

    monkeypatch.setattr(cycle_module, "schedule_due_messages", flaky)
    results = {s.campaign_id: s for s in run_all(dry_run=False)}
    assert results[broken.pk].errors == ["RuntimeError: template store unavailable"]
    assert results[healthy.pk].sent == 2 and results[healthy.pk].errors == []
    assert not CycleLease.objects.filter(campaign=broken, expires_at__gt=cycle_module.timezone.now()).exists()


def test_goal_met_auto_pauses_with_the_numbers(live_campaign):
    campaign, _ = live_campaign(leads=3)
    campaign.target_clients = 1
    campaign.save(update_fields=["target_clients"])
    lead = Lead.objects.filter(campaign=campaign).first()
    for step in ("mark_enriched", "mark_contacted", "mark_replied", "qualify"):
        transition_lead(lead=lead, transition=step)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    campaign.refresh_from_db()
    assert stats.paused and "Goal met: 1 qualified" in stats.pause_reason
    assert campaign.state == CampaignState.PAUSED
    event = AuditEvent.objects.filter(campaign=campaign, verb="campaign.paused").latest("id")
    assert event.metadata["rule"] == "goal_met" and event.metadata["numbers"]["qualified"] == 1


def test_commands(live_campaign):
    campaign, _ = live_campaign(leads=2)
    out = io.StringIO()
    call_command("run_cycle", "--campaign", str(campaign.pk), stdout=out)
    assert "dry run" in out.getvalue() and "recorded (dry run) 2" in out.getvalue()
    out = io.StringIO()
    call_command("run_all", "--no-dry-run", stdout=out, stderr=io.StringIO())
    assert "1 active campaign(s), 0 with errors." in out.getvalue()


def test_run_cycle_api(api_as, operator, client_user, other_client_user, live_campaign):
    campaign, _ = live_campaign(leads=2)
    campaign.client = client_user.client
    campaign.save(update_fields=["client"])
    url = f"/api/v1/campaigns/{campaign.pk}/run-cycle/"
    body = api_as(client_user).post(url).json()
    assert body["dry_run"] is True and body["recorded_dry_run"] == 2 and body["sent"] == 0
    assert api_as(client_user).post(url + "?dry_run=false").status_code == 403
    assert api_as(other_client_user).post(url).status_code == 404
    assert api_as(operator).post(url + "?dry_run=maybe").status_code == 400


def test_a_cycle_renders_only_what_the_daily_cap_can_still_send(live_campaign, frozen_now):
    campaign, _ = live_campaign(leads=30, cap=5)
    first = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert first.enriched == 30 and first.enrolled == 5 and first.scheduled == 5 and first.sent == 5
    assert Message.objects.count() == 5  # 25 scored leads wait for the next days, not rendered
    again = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert again.scheduled == 0 and again.sent == 0  # the day's cap is used up
    frozen_now.shift(dt.timedelta(days=1))
    next_day = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert next_day.scheduled == 5 and next_day.sent == 5
    sent_scores = list(Message.objects.values_list("lead__score", flat=True))
    waiting_scores = Lead.objects.exclude(messages__isnull=False).values_list("score", flat=True)
    assert min(sent_scores) >= max(waiting_scores)  # highest scores were rendered and sent first


def test_messages_held_for_a_send_window_do_not_use_up_the_days_room(live_campaign, frozen_now):
    # frozen_now is Monday 10:00 UTC: inside Berlin's window, long before New York's opens.
    campaign, _ = live_campaign(leads=4, cap=10, lead_timezone="America/New_York")
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.scheduled == 4 and stats.sent == 0
    assert all(m.scheduled_for > timezone.now() for m in Message.objects.all())  # New York's 9:00
    campaign.refresh_from_db()
    assert scheduling_room(campaign=campaign, now=timezone.now(), dry_run=False) == 10
