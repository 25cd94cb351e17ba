"""The next-cycle preview: read only, and what it predicts is what the next real cycle does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import AuditEvent, CampaignState
from campaigns.services.system_pause import set_system_pause
from campaigns.services.transitions import pause_campaign
from leads.models import Lead
from leads.services import bulk_add_leads
from outreach.models import CycleLease, Enrollment, Message, MessageState
from outreach.services.cycle import run_cycle
from outreach.services.preview import CANCEL, HELD, LATER, RECORD, SEND, WAIT, preview_next_cycle

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE")


def _table_counts() -> dict[str, int]:
    return {
        "messages": Message.objects.count(),
        "enrollments": Enrollment.objects.count(),
        "audit": AuditEvent.objects.count(),
        "leases": CycleLease.objects.count(),
        "lead_history": Lead.history.count(),
        "leads_new": Lead.objects.filter(state="new").count(),
    }


def _row_state() -> list[tuple]:
    """Everything a cycle changes on the rows it touches: states, steps, times, scores."""
    return [
        *Lead.objects.order_by("pk").values_list("pk", "state", "score", "next_action_at"),
        *Enrollment.objects.order_by("pk").values_list("pk", "state", "current_step", "next_send_at"),
        *Message.objects.order_by("pk").values_list("pk", "state", "scheduled_for", "attempts"),
    ]


def _going(preview) -> set[tuple[int, int]]:
    return {(row.lead_id, row.step) for row in preview.going}


def _sent_by_last_cycle(before_ids: set[int]) -> set[tuple[int, int]]:
    return {
        (m.lead_id, m.step.position)
        for m in Message.objects.exclude(pk__in=before_ids).select_related("step")
        if m.state == MessageState.SENT
    }


def _add_scored_leads(campaign, count: int) -> None:
    """Leads whose scores differ (title, size, industry each add to the legacy score)."""
    bulk_add_leads(
        campaign=campaign,
        records=[
            {
                "email": f"scored{i}@firm{i}.example",
                "first_name": f"Scored{i}",
                "title": "COO" if i % 2 else "",
                "company_size": "51-200" if i % 3 == 0 else "",
                "industry": "Logistics" if i % 4 == 0 else "",
            }
            for i in range(count)
        ],
    )


def test_a_preview_writes_nothing_and_issues_only_selects(live_campaign):
    campaign, _ = live_campaign(leads=4, follow_up=True)
    run_cycle(campaign_id=campaign.pk, dry_run=False)  # some history: sent steps, follow-ups due later
    _add_scored_leads(campaign, 3)
    counts, rows = _table_counts(), _row_state()
    with CaptureQueriesContext(connection) as queries:
        preview = preview_next_cycle(campaign=campaign)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]
    assert writes == []
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    assert _table_counts() == counts and _row_state() == rows
    assert len(preview.going) == 3  # the three new leads' first step; the follow-ups wait 3 days
    # ... and it used nothing up: the real cycle still sends those three.
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).sent == 3


def test_the_next_cycle_sends_what_the_preview_predicted(live_campaign, frozen_now):
    """Cap 3, leads of different scores, a follow-up step: day 1 and day 4 (follow-ups due and new
    leads waiting) are both predicted lead by lead and step by step."""
    campaign, _ = live_campaign(leads=0, cap=3, follow_up=True)
    _add_scored_leads(campaign, 7)
    for _day in range(2):
        before = set(Message.objects.values_list("pk", flat=True))
        preview = preview_next_cycle(campaign=campaign)
        assert len(preview.going) == 3 and {r.outcome for r in preview.going} == {SEND}
        stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
        assert stats.sent == 3 and stats.cap_reached
        assert _sent_by_last_cycle(before) == _going(preview)
        # an existing enrollment's A/B arm is predicted too (a new one's is chosen from its new id)
        for row in preview.going:
            message = Message.objects.get(lead_id=row.lead_id, step__position=row.step)
            assert message.step_variant.label in row.variant.split("/")
            assert row.mailbox == message.from_email
        frozen_now.shift(dt.timedelta(days=3, hours=1))
    steps = {step for _, step in _going(preview)}
    assert steps == {2}, "day 4: the best-scored leads' follow-ups beat the new enrollments"
    assert preview.counts.get(LATER, 0) + preview.more_leads >= 1


def test_a_dry_run_campaign_preview_records_what_its_cycle_records(live_campaign):
    campaign, _ = live_campaign(leads=3, mode="dry_run")
    preview = preview_next_cycle(campaign=campaign)
    assert {r.outcome for r in preview.rows} == {RECORD} and preview.dry_run
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.recorded_dry_run == 3
    recorded = {(m.lead_id, m.step.position) for m in Message.objects.select_related("step")}
    assert recorded == _going(preview)


def test_before_the_berlin_window_the_preview_and_the_cycle_say_when(live_campaign, frozen_now):
    frozen_now.move_to(dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC))  # Monday 07:00 in Berlin
    campaign, _ = live_campaign(leads=5, timezone="Europe/Berlin")
    preview = preview_next_cycle(campaign=campaign)
    assert preview.going == [] and {r.outcome for r in preview.rows} == {WAIT}
    assert {r.at_display for r in preview.rows} == {"2026-03-02 09:00 Europe/Berlin (CET)"}
    assert "5 scheduled for 09:00 Europe/Berlin (next send window)." in preview.explanation
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 0 and stats.scheduled == 5
    assert stats.reasons[0] == "5 scheduled for 09:00 Europe/Berlin (next send window)."
    window = (
        "Outside the send window (Mon\u2013Fri 09:00\u201317:00 Europe/Berlin): it opens 09:00 Europe/Berlin."
    )
    assert window in stats.reasons
    # a second cycle before 09:00 sends nothing either, and says so (the leads are scheduled already)
    again = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert again.sent == 0 and again.scheduled == 0
    assert "5 scheduled for 09:00 Europe/Berlin (next send window)." in again.reasons
    # at 09:00 Berlin what was predicted goes
    frozen_now.move_to(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).sent == 5
    assert {(r.lead_id, r.step) for r in preview.rows} == {
        (m.lead_id, m.step.position) for m in Message.objects.filter(state="sent").select_related("step")
    }


def test_cap_reached_is_said_in_the_cycle_and_the_preview(live_campaign):
    campaign, _ = live_campaign(leads=3, cap=2)
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).sent == 2
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 0
    assert "Daily cap reached (2/2): the rest wait for tomorrow's room." in stats.reasons
    preview = preview_next_cycle(campaign=campaign)
    assert preview.going == [] and preview.room == 0
    assert "1 more wait for room under the daily cap (2 a day)." in preview.explanation


def _scheduled_before_the_berlin_window(live_campaign, frozen_now, **kwargs):
    """Messages rendered at 07:00 Berlin, due at 09:00: the next cycle at 09:00 claims them."""
    frozen_now.move_to(dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC))
    campaign, _ = live_campaign(timezone="Europe/Berlin", **kwargs)
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).scheduled == kwargs["leads"]
    frozen_now.move_to(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))
    return campaign


def test_a_lowered_cap_holds_the_due_messages_it_has_no_room_for(live_campaign, frozen_now):
    campaign = _scheduled_before_the_berlin_window(live_campaign, frozen_now, leads=3, cap=3)
    campaign.daily_email_cap = 1
    campaign.save(update_fields=["daily_email_cap"])
    preview = preview_next_cycle(campaign=campaign)
    held = {row.lead_id for row in preview.rows if row.outcome == HELD}
    assert len(preview.going) == 1 and len(held) == 2
    assert {row.reason for row in preview.rows if row.outcome == HELD} == {
        "Daily cap reached (1/1): the rest wait for tomorrow's room"
    }
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 1 and "Daily cap reached (1/1): the rest wait for tomorrow's room." in stats.reasons
    assert _going(preview) == {
        (m.lead_id, m.step.position) for m in Message.objects.filter(state="sent").select_related("step")
    }
    assert set(Message.objects.filter(state="scheduled").values_list("lead_id", flat=True)) == held


def test_a_lead_suppressed_after_scheduling_is_predicted_cancelled(live_campaign, frozen_now):
    from leads.services import add_suppression

    campaign = _scheduled_before_the_berlin_window(live_campaign, frozen_now, leads=2)
    lead = Lead.objects.filter(campaign=campaign).order_by("pk").first()
    add_suppression(client=campaign.client, email=lead.email, reason="manual_dnc")
    preview = preview_next_cycle(campaign=campaign)
    assert [(r.lead_id, r.outcome) for r in preview.rows if r.lead_id == lead.pk] == [(lead.pk, CANCEL)]
    assert len(preview.going) == 1
    assert any(s.startswith("1 would be cancelled: lead is not contactable") for s in preview.explanation)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 1 and stats.skipped == 1
    assert Message.objects.get(lead=lead).state == MessageState.CANCELLED
    assert any(s.startswith("1 cancelled: the lead may no longer be mailed") for s in stats.reasons)


def test_a_paused_campaign_preview_says_it_does_not_run(live_campaign, operator):
    campaign, _ = live_campaign(leads=2)
    campaign = pause_campaign(campaign=campaign, actor=operator, rationale="hold")
    assert campaign.state == CampaignState.PAUSED
    preview = preview_next_cycle(campaign=campaign)
    assert not preview.runs and preview.rows == []
    assert preview.explanation == ["Campaign paused: its cycle does not run until it is resumed."]
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.reasons == ["Campaign paused: its cycle does not run until it is resumed."]


def test_system_pause_holds_what_is_due(live_campaign, operator):
    campaign, _ = live_campaign(leads=2)
    set_system_pause(paused=True, actor=operator, rationale="incident")
    preview = preview_next_cycle(campaign=campaign)
    assert {r.outcome for r in preview.rows} == {HELD}
    assert "System pause is on: nothing is sent until it is lifted." in preview.explanation
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 0 and "System pause is on: nothing is sent until it is lifted." in stats.reasons


def test_an_active_campaign_without_creative_says_what_is_missing(campaign_in_state):
    campaign = campaign_in_state(CampaignState.ACTIVE)
    expected = "No approved email creative: approve one, then create a sequence from it."
    assert expected in preview_next_cycle(campaign=campaign).explanation
    assert expected in run_cycle(campaign_id=campaign.pk, dry_run=False).reasons
