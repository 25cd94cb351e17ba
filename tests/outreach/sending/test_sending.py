from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction

from campaigns.services.transitions import kill_campaign, pause_campaign
from leads.services import add_suppression
from outreach.models import Enrollment, EnrollmentState, Message, MessageState, StopReason
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages

pytestmark = pytest.mark.django_db


def prepare(campaign, sequence):
    enroll_leads(campaign=campaign, sequence=sequence)
    return schedule_due_messages(campaign=campaign)


def test_cap_of_20_with_50_due_sends_20_today_and_the_rest_on_later_days(live_campaign, frozen_now):
    campaign, sequence = live_campaign(leads=50, cap=20)
    assert prepare(campaign, sequence) == 50
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 20 and stats.cap_reached
    assert len(mail.outbox) == 20
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 0  # same day: nothing more
    frozen_now.shift(dt.timedelta(days=1))
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 20
    frozen_now.shift(dt.timedelta(days=1))
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 10
    assert Message.objects.filter(state=MessageState.SENT).count() == 50
    assert len({m.to[0] for m in mail.outbox}) == 50


def test_highest_scores_go_first(live_campaign):
    campaign, sequence = live_campaign(leads=6, cap=3)
    prepare(campaign, sequence)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    sent_scores = sorted(
        Message.objects.filter(state=MessageState.SENT).values_list("lead__score", flat=True)
    )
    pending_scores = Message.objects.filter(state=MessageState.SCHEDULED).values_list(
        "lead__score", flat=True
    )
    assert min(sent_scores) >= max(pending_scores)


def test_dry_run_records_and_sends_nothing(live_campaign):
    campaign, sequence = live_campaign(leads=3, mode="dry_run")
    prepare(campaign, sequence)
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)  # campaign itself is dry-run
    assert stats.dry_run == 3 and stats.sent == 0
    assert mail.outbox == []
    assert all(m.dry_run and m.state == MessageState.SENT for m in Message.objects.all())


def test_every_email_has_one_recipient_and_rfc8058_headers(live_campaign):
    campaign, sequence = live_campaign(leads=2)
    prepare(campaign, sequence)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    for email in mail.outbox:
        assert len(email.to) == 1 and not email.cc and not email.bcc
        assert email.extra_headers["List-Unsubscribe"].startswith("<http")
        assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "{{" not in email.body and "Unsubscribe" in email.body
        assert email.extra_headers["Message-ID"]


def test_redelivered_send_task_makes_one_provider_call_per_message(live_campaign, scripted_backend):
    campaign, sequence = live_campaign(leads=4)
    prepare(campaign, sequence)
    calls: list[str] = []
    backend = scripted_backend(calls=calls)
    send_due_messages(campaign_id=campaign.pk, dry_run=False, connection=backend)
    send_due_messages(campaign_id=campaign.pk, dry_run=False, connection=backend)  # the same task again
    assert len(calls) == 4 and len(set(calls)) == 4


def test_503_three_times_then_success_is_one_sent_message_after_three_retries(
    live_campaign, scripted_backend, frozen_now
):
    campaign, sequence = live_campaign(leads=1)
    prepare(campaign, sequence)
    calls: list[str] = []
    backend = scripted_backend(script=[503, 503, 503], calls=calls)
    retries = []
    for _ in range(4):
        send_due_messages(campaign_id=campaign.pk, dry_run=False, connection=backend)
        message = Message.objects.get()
        if message.state == MessageState.RETRY_SCHEDULED:
            retries.append(message.scheduled_for)
            assert "503" in message.last_error
            frozen_now.move_to(message.scheduled_for + dt.timedelta(seconds=1))
    message = Message.objects.get()
    assert message.state == MessageState.SENT
    assert message.attempts == 4 and len(calls) == 4
    assert len(retries) == 3 and retries == sorted(retries)


def test_400_is_not_retried_and_ends_dead_with_the_error(live_campaign, scripted_backend, frozen_now):
    campaign, sequence = live_campaign(leads=1)
    prepare(campaign, sequence)
    calls: list[str] = []
    send_due_messages(
        campaign_id=campaign.pk, dry_run=False, connection=scripted_backend(script=[400], calls=calls)
    )
    frozen_now.shift(dt.timedelta(days=1))
    send_due_messages(campaign_id=campaign.pk, dry_run=False, connection=scripted_backend(calls=calls))
    message = Message.objects.get()
    assert message.state == MessageState.DEAD and len(calls) == 1
    assert "400" in message.last_error


def test_kill_cancels_everything_scheduled_and_stops_enrollments(live_campaign, operator):
    campaign, sequence = live_campaign(leads=5)
    prepare(campaign, sequence)
    kill_campaign(campaign=campaign, actor=operator, rationale="client churned")
    assert set(Message.objects.values_list("state", flat=True)) == {MessageState.CANCELLED}
    assert set(Enrollment.objects.values_list("stop_reason", flat=True)) == {StopReason.KILLED}
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).stopped_reason == "campaign is cancelled"
    assert mail.outbox == []


def test_pause_stops_claiming_at_once(live_campaign, operator):
    campaign, sequence = live_campaign(leads=3)
    prepare(campaign, sequence)
    pause_campaign(campaign=campaign, actor=operator, rationale="hold")
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 0 and stats.stopped_reason == "campaign is paused"
    assert Message.objects.filter(state=MessageState.SCHEDULED).count() == 3


def test_rolled_back_scheduling_sends_nothing(live_campaign):
    campaign, sequence = live_campaign(leads=3)
    enroll_leads(campaign=campaign, sequence=sequence)
    with pytest.raises(RuntimeError), transaction.atomic():
        schedule_due_messages(campaign=campaign)
        raise RuntimeError("a later step failed")
    assert not Message.objects.exists()
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 0
    assert mail.outbox == []


def test_scheduling_twice_does_not_duplicate_a_step(live_campaign):
    campaign, sequence = live_campaign(leads=3)
    enroll_leads(campaign=campaign, sequence=sequence)
    assert enroll_leads(campaign=campaign, sequence=sequence) == 0
    assert schedule_due_messages(campaign=campaign) == 3
    Enrollment.objects.update(next_send_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # as if due again
    assert schedule_due_messages(campaign=campaign) == 0
    assert Message.objects.count() == 3


def test_suppressed_after_scheduling_is_never_sent(live_campaign):
    campaign, sequence = live_campaign(leads=2)
    prepare(campaign, sequence)
    add_suppression(reason="manual_dnc", email="LEAD0@company0.example", client=campaign.client)
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 1 and stats.skipped == 1
    assert [m.to[0] for m in mail.outbox] == ["lead1@company1.example"]
    cancelled = Message.objects.get(state=MessageState.CANCELLED)
    assert cancelled.to_email == "lead0@company0.example" and "not contactable" in cancelled.skip_reason
    assert Enrollment.objects.get(lead=cancelled.lead).state == EnrollmentState.STOPPED


def test_send_window_in_the_leads_time_zone(live_campaign, frozen_now):
    # 10:00 UTC on Monday is 05:00 in New York: the message waits for 09:00 local (14:00 UTC).
    campaign, sequence = live_campaign(leads=1, lead_timezone="America/New_York")
    prepare(campaign, sequence)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 0
    assert Message.objects.get().scheduled_for == dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    frozen_now.move_to(dt.datetime(2026, 3, 2, 14, 0, 1, tzinfo=dt.UTC))
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 1


def test_two_step_sequence_sends_step_two_after_its_delay(live_campaign, operator, frozen_now):
    from creative.models import CreativeVariant

    campaign, _ = live_campaign(leads=0)
    creative_ids = list(CreativeVariant.objects.filter(campaign=campaign).values_list("pk", flat=True))
    from outreach.services.sending import create_sequence

    sequence = create_sequence(
        campaign=campaign,
        name="Two steps",
        actor=operator,
        steps=[
            {"delay_days": 0, "creatives": creative_ids[:1]},
            {"delay_days": 3, "creatives": creative_ids[1:2]},
        ],
    )
    from leads.services import add_lead

    add_lead(campaign=campaign, email="solo@example.org", first_name="Solo")
    prepare(campaign, sequence)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    frozen_now.shift(dt.timedelta(days=2))
    assert schedule_due_messages(campaign=campaign) == 0
    frozen_now.shift(dt.timedelta(days=1, minutes=1))
    assert schedule_due_messages(campaign=campaign) == 1
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert len(mail.outbox) == 2
    assert Enrollment.objects.get().state == EnrollmentState.COMPLETED


def queries_of_a_run(campaign, sequence, size: int) -> int:
    """Queries of one send run over ``size - 1`` due messages (one message sent first, to warm
    caches); the run must send them all."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    prepare(campaign, sequence)
    send_due_messages(campaign_id=campaign.pk, dry_run=False, chunk_size=1, max_chunks=1)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        # Two claims: the run's first takes one message (the provider's pace is not known
        # yet), the second, against this fast backend, the whole rest of the chunk.
        stats = send_due_messages(campaign_id=campaign.pk, dry_run=False, chunk_size=size - 1, max_chunks=2)
    assert stats.sent == size - 1
    return len(queries.captured_queries)


def test_queries_per_chunk_do_not_grow_with_the_chunk_size(live_campaign, settings):
    settings.OUTREACH_SEND_CONCURRENCY = 1  # one thread: the claims do not depend on which call ends first
    counts = {}
    for size in (4, 16):
        campaign, sequence = live_campaign(leads=size, cap=100)
        counts[size] = queries_of_a_run(campaign, sequence, size)
    assert counts[4] == counts[16], counts


def test_ranking_made_once_per_run_still_rechecks_each_chunk(live_campaign):
    """The due messages are ranked once for several chunks; a message stopped, suppressed or
    already taken after the ranking is still not sent by a later chunk of the same run, and
    the best leads still go first across chunks."""
    from django.core.mail.backends.locmem import EmailBackend

    campaign, sequence = live_campaign(leads=8, cap=100)
    prepare(campaign, sequence)
    ranked = list(Message.objects.filter(campaign=campaign).order_by("-lead__score", "scheduled_for", "id"))
    stopped, suppressed = ranked[-1], ranked[-2]

    class StopsOthersDuringTheFirstChunk(EmailBackend):
        calls = 0

        def send_messages(self, messages):
            StopsOthersDuringTheFirstChunk.calls += 1
            if StopsOthersDuringTheFirstChunk.calls == 1:
                Enrollment.objects.filter(pk=stopped.enrollment_id).update(
                    state=EnrollmentState.STOPPED, stop_reason=StopReason.REPLIED
                )
                Message.objects.filter(pk=stopped.pk).update(state=MessageState.CANCELLED)
                add_suppression(reason="unsubscribed", email=suppressed.to_email, client=campaign.client)
            return super().send_messages(messages)

    stats = send_due_messages(
        campaign_id=campaign.pk, dry_run=False, chunk_size=2, connection=StopsOthersDuringTheFirstChunk()
    )
    assert stats.sent == 6
    sent_ids = [m.metadata["aicmo_message_id"] for m in mail.outbox]
    assert sent_ids == [str(m.pk) for m in ranked[:6]]
    assert Message.objects.get(pk=stopped.pk).state == MessageState.CANCELLED
    assert Message.objects.get(pk=suppressed.pk).state == MessageState.CANCELLED
