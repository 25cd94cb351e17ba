"""Issue 18 point 8: a mailbox whose hard-bounce (or complaint) rate over the window passes its
threshold, with the minimum sample sent, pauses itself with a ``mailbox.paused`` audit event; the
campaign keeps sending from its other mailbox; an approver resumes it. Real send path (locmem
backend), real tracking events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from campaigns.models import AuditEvent, CampaignState
from campaigns.permissions import ActionNotPermittedError
from leads.services import bulk_add_leads
from outreach.models import Message, MessageState, SendingMailbox
from outreach.readiness_tasks import recheck_sender_readiness as daily_task
from outreach.services.mailbox_health import check_mailbox_health, mailbox_health, resume_mailbox_health
from outreach.services.readiness import override_mailbox_readiness, resume_mailbox
from outreach.services.sending import create_sequence, enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import TrackingInput, record_tracking_event, record_tracking_events
from tests.outreach.sending import conftest as sending_fixtures

pytestmark = pytest.mark.django_db
live_campaign = sending_fixtures.live_campaign  # the sending tests' fixture


@pytest.fixture(autouse=True)
def health_settings(settings):
    # point 5 has its own tests: here two sequences mail the same leads on one day, at once
    settings.AICMO_MAILBOX_MIN_GAP_SECONDS = settings.AICMO_MAILBOX_GAP_JITTER_SECONDS = 0
    settings.AICMO_DOMAIN_DAILY_LIMIT = 0
    settings.AICMO_MAILBOX_HARD_BOUNCE_RATE = 0.02
    settings.AICMO_MAILBOX_COMPLAINT_RATE = 0.001
    settings.AICMO_MAILBOX_HEALTH_MIN_SAMPLE = 50
    settings.AICMO_MAILBOX_HEALTH_WINDOW_DAYS = 7
    settings.AICMO_SENDER_READINESS_REQUIRED = False


def _mailbox(email: str) -> SendingMailbox:
    return SendingMailbox.objects.create(email=email, daily_cap=500)


def _send_from(campaign, sequence, mailbox) -> list[Message]:
    type(sequence).objects.filter(pk=sequence.pk).update(mailbox=mailbox)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    return list(Message.objects.filter(mailbox=mailbox, state=MessageState.SENT).order_by("pk"))


def _bounce(messages, *, tag="b"):
    return record_tracking_events(
        [
            TrackingInput(
                esp_name="test",
                event_type="bounced",
                event_id=f"{tag}{m.pk}",
                metadata={"aicmo_message_id": str(m.pk)},
                reject_reason="bounced",
            )
            for m in messages
        ]
    )


def _second_sequence(campaign, operator):
    first = campaign.sequences.get()
    creatives = [sv.creative_id for sv in first.steps.get().variants.all()]
    return create_sequence(
        campaign=campaign, name="Second", actor=operator, steps=[{"delay_days": 0, "creatives": creatives}]
    )


def test_a_mailbox_over_the_bounce_threshold_pauses_itself_and_the_campaign_sends_from_the_other(
    live_campaign,
    frozen_now,
    operator,
    approver_role_user,
    operator_role_user,
):
    campaign, sequence = live_campaign(leads=55, cap=500)
    # two sending domains: one mailbox's bounces do not make the other's domain unhealthy
    bad, good = _mailbox("bad@mail.northwind.example"), _mailbox("good@mail.southwind.example")
    sent = _send_from(campaign, sequence, bad)
    assert len(sent) == 55

    _bounce(sent[:1])  # 1 of 55 = 1.8 %: under 2 %
    bad.refresh_from_db()
    assert bad.is_active
    _bounce(sent[1:2])  # 2 of 55 = 3.6 %: paused by the tracking event itself
    bad.refresh_from_db()
    assert not bad.is_active and bad.paused_reason.startswith("health: mailbox bad@mail.northwind.example")
    assert "hard-bounce rate 3.6% (2 of 55 over 7 days) is above 2.0%" in bad.paused_reason
    event = AuditEvent.objects.get(verb="mailbox.paused")
    assert event.metadata["numbers"]["hard_bounces"] == 2 and event.metadata["campaigns"] == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE  # not the whole campaign

    # The campaign keeps sending: new leads go out from the good mailbox; the bad one's wait.
    bulk_add_leads(campaign=campaign, records=[{"email": f"new{i}@fresh{i}.example"} for i in range(3)])
    enroll_leads(campaign=campaign, sequence=sequence)  # the new leads join the paused mailbox's sequence too
    second = _second_sequence(campaign, operator)
    sent_good = _send_from(campaign, second, good)
    assert len(sent_good) == 55 - 2 + 3  # the two bounced addresses are suppressed
    waiting = Message.objects.filter(mailbox=bad).exclude(state=MessageState.SENT)
    assert waiting.count() == 3 and not waiting.filter(state=MessageState.SENT).exists()

    # Good DNS does not undo bounces: the readiness re-check does not resume it; an operator may not.
    assert resume_mailbox(mailbox=bad, actor=operator_role_user) == [bad.paused_reason]
    with pytest.raises(ActionNotPermittedError):
        resume_mailbox_health(mailbox=bad, actor=operator_role_user, rationale="looks fine")
    # An approver resumes it, through readiness's override; its bounces count afresh from now.
    frozen_now.shift(dt.timedelta(minutes=5))
    resumed = override_mailbox_readiness(mailbox=bad, actor=approver_role_user, rationale="list cleaned")
    assert resumed.is_active and resumed.paused_reason == "" and not resumed.readiness_override
    assert AuditEvent.objects.filter(verb="mailbox.resumed", metadata__after="health").count() == 1
    assert mailbox_health(resumed).sent == 0
    # its waiting messages were put off to the next day while it had no room (a paused mailbox)
    assert set(waiting.values_list("scheduled_for", flat=True)) == {dt.datetime(2026, 3, 3, tzinfo=dt.UTC)}
    frozen_now.move_to(dt.datetime(2026, 3, 3, 10, tzinfo=dt.UTC))
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert Message.objects.filter(mailbox=bad, state=MessageState.SENT).count() == 58


def test_under_the_minimum_sample_nothing_pauses(live_campaign, frozen_now):
    campaign, sequence = live_campaign(leads=10, cap=500)
    box = _mailbox("few@mail.northwind.example")
    sent = _send_from(campaign, sequence, box)
    _bounce(sent[:3])  # 30 %, of 10 emails
    box.refresh_from_db()
    assert box.is_active and not AuditEvent.objects.filter(verb="mailbox.paused").exists()
    assert check_mailbox_health() == []


def test_a_complaint_over_the_threshold_pauses_the_mailbox(live_campaign, frozen_now):
    campaign, sequence = live_campaign(leads=50, cap=500)
    box = _mailbox("loud@mail.northwind.example")
    sent = _send_from(campaign, sequence, box)
    record_tracking_event(
        TrackingInput(
            esp_name="test",
            event_type="complained",
            event_id="c1",
            metadata={"aicmo_message_id": str(sent[0].pk)},
        )
    )
    box.refresh_from_db()
    assert not box.is_active and "complaint rate 2.00% (1 of 50" in box.paused_reason


def test_an_unhealthy_sending_domain_pauses_each_of_its_mailboxes(live_campaign, frozen_now, operator):
    campaign, sequence = live_campaign(leads=30, cap=500)
    one, two = _mailbox("one@mail.northwind.example"), _mailbox("two@mail.northwind.example")
    other = _mailbox("ok@mail.elsewhere.example")
    sent_one = _send_from(campaign, sequence, one)
    sent_two = _send_from(campaign, _second_sequence(campaign, operator), two)
    assert len(sent_one) == len(sent_two) == 30  # each under the minimum sample of 50
    _bounce(sent_one[:1] + sent_two[:1])  # 2 of 60 from the domain = 3.3 %
    for box in (one, two, other):
        box.refresh_from_db()
    assert not one.is_active and not two.is_active and other.is_active
    assert one.paused_reason.startswith("health: sending domain mail.northwind.example")


def test_the_daily_readiness_task_checks_health_too(live_campaign, frozen_now):
    campaign, sequence = live_campaign(leads=50, cap=500)
    box = _mailbox("daily@mail.northwind.example")
    sent = _send_from(campaign, sequence, box)
    # bounces stored while the threshold was looser: only the daily look catches them
    with override_settings(AICMO_MAILBOX_HARD_BOUNCE_RATE=0.5):
        _bounce(sent[:2])
    box.refresh_from_db()
    assert box.is_active
    daily_task()
    box.refresh_from_db()
    assert not box.is_active
