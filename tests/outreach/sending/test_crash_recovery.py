"""Issue 16 point 1: a claim covers what is handed to the provider before the next commit.

A worker dies in the middle of a send (a BaseException from the provider call, which nothing in
the send path catches, stands in for the kill): only the call in flight is left uncertain, the rest
of the due messages are still `scheduled`, the recovery sweep makes the uncertain one `unknown`, and
a provider event or the end of the window settles it as sent, once, moving its enrollment on and
booking its cost exactly once. The real-process version (SIGKILL of a Celery worker on PostgreSQL)
is tests/integration/test_celery_worker.py.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from campaigns.models import SpendEntry, SpendKind
from leads.models import LeadState
from outreach.models import Enrollment, EnrollmentState, Message, MessageState, SendResolution
from outreach.services.sending import (
    enroll_leads,
    recover_interrupted_sends,
    schedule_due_messages,
    send_due_messages,
)
from outreach.services.tracking import TrackingInput, record_tracking_event

pytestmark = pytest.mark.django_db
COST = Decimal("0.01")


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no handler catches it."""


class ESPLikeBackend(LocmemBackend):
    """An ESP's API: accepts each message (journal), then takes ``delay`` seconds to answer; the
    ``die_on``-th call never returns (the worker dies while it is in flight)."""

    def __init__(self, *, delay=0.1, die_on=None, **kwargs):
        super().__init__(**kwargs)
        self.delay, self.die_on, self.journal = delay, die_on, []

    def send_messages(self, messages):
        for message in messages:
            self.journal.append(int(message.metadata["aicmo_message_id"]))
        time.sleep(self.delay)
        if self.die_on is not None and len(self.journal) >= self.die_on:
            raise WorkerKilled
        return super().send_messages(messages)


@pytest.fixture
def cost(settings):
    settings.AICMO_COST_PER_EMAIL = COST
    return COST


def crash_mid_send(live_campaign, *, leads: int, die_on: int, follow_up: bool = False):
    """``leads`` due messages, more than one slice (the chunk is 250); the worker dies during the
    ``die_on``-th provider call. Returns the campaign, the backend (its journal) and the message
    in flight."""
    campaign, sequence = live_campaign(leads=leads, cap=100, follow_up=follow_up)
    enroll_leads(campaign=campaign, sequence=sequence)
    assert schedule_due_messages(campaign=campaign) == leads
    backend = ESPLikeBackend(die_on=die_on)
    with pytest.raises(WorkerKilled):
        send_due_messages(campaign_id=campaign.pk, dry_run=False, connection=backend)
    return campaign, backend, Message.objects.get(pk=backend.journal[-1])


def states() -> dict[str, int]:
    counts = {state: Message.objects.filter(state=state).count() for state in MessageState.values}
    return {state: n for state, n in counts.items() if n}


def booked(campaign) -> Decimal:
    return (
        SpendEntry.objects.filter(campaign=campaign, kind=SpendKind.ESP).aggregate(t=Sum("amount"))["t"] or 0
    )


def test_a_crash_leaves_only_the_call_in_flight_uncertain_and_every_message_is_sent_once(
    live_campaign, frozen_now, settings, cost
):
    campaign, backend, in_flight = crash_mid_send(live_campaign, leads=8, die_on=4)

    # Three sent and recorded, the fourth with the provider when the worker died, four never claimed.
    assert states() == {MessageState.SENT: 3, MessageState.SENDING: 1, MessageState.SCHEDULED: 4}
    assert Message.objects.get(state=MessageState.SENDING) == in_flight

    # The sweep leaves a claim alone until it is stale, then calls its outcome unknown (never resent).
    assert recover_interrupted_sends().unknown == 0
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 1))
    assert recover_interrupted_sends().unknown == 1

    # The restarted worker sends the four never claimed, and nothing twice.
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False, connection=ESPLikeBackend(delay=0))
    assert stats.sent == 4
    # No event came for the unknown one: after the window it counts as sent, once.
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_UNKNOWN_RESOLVE_SECONDS))
    assert recover_interrupted_sends().assumed == 1
    assert recover_interrupted_sends().assumed == 0

    in_flight.refresh_from_db()
    assert in_flight.state == MessageState.SENT and in_flight.send_resolution == SendResolution.ASSUMED
    assert states() == {MessageState.SENT: 8}
    assert not Enrollment.objects.exclude(state=EnrollmentState.COMPLETED).exists()  # nobody frozen
    # 8 provider calls (the crashed one included), each booked once.
    assert len(backend.journal) + stats.sent == 8
    assert booked(campaign) == 8 * cost
    assert not Message.objects.filter(cost_unbooked=True).exists()


def test_an_unknown_message_confirmed_by_a_delivered_event_is_sent_and_its_enrollment_moves_on(
    live_campaign, frozen_now, settings, cost
):
    campaign, _, in_flight = crash_mid_send(live_campaign, leads=3, die_on=1, follow_up=True)
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 1))
    recover_interrupted_sends()
    in_flight.refresh_from_db()
    assert in_flight.state == MessageState.UNKNOWN
    assert Enrollment.objects.get(pk=in_flight.enrollment_id).current_step == 1

    record_tracking_event(
        TrackingInput(
            esp_name="TestESP",
            event_type="delivered",
            event_id="delivered-1",
            metadata={"aicmo_message_id": str(in_flight.pk)},
        )
    )

    in_flight.refresh_from_db()
    assert in_flight.state == MessageState.SENT
    assert in_flight.send_resolution == SendResolution.CONFIRMED
    enrollment = Enrollment.objects.get(pk=in_flight.enrollment_id)
    assert enrollment.state == EnrollmentState.ACTIVE and enrollment.current_step == 2
    assert enrollment.next_send_at is not None  # the follow-up is due in 3 days
    assert in_flight.lead.__class__.objects.get(pk=in_flight.lead_id).state == LeadState.CONTACTED
    # Its cost is booked by the next sweep, once; the window passing later changes nothing.
    assert booked(campaign) == 0
    assert recover_interrupted_sends().booked == 1
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_UNKNOWN_RESOLVE_SECONDS + 1))
    report = recover_interrupted_sends()
    assert report.assumed == 0 and report.booked == 0
    assert booked(campaign) == cost


def test_a_bounce_for_an_unknown_message_settles_it_too(live_campaign, frozen_now, settings):
    _, _, in_flight = crash_mid_send(live_campaign, leads=2, die_on=1, follow_up=True)
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 1))
    recover_interrupted_sends()
    record_tracking_event(
        TrackingInput(
            esp_name="TestESP",
            event_type="bounced",
            event_id="bounce-1",
            reject_reason="bounced",
            metadata={"aicmo_message_id": str(in_flight.pk)},
        )
    )
    in_flight.refresh_from_db()
    assert in_flight.state == MessageState.SENT and in_flight.send_resolution == SendResolution.CONFIRMED
    # ... and the hard bounce still stops the sequence before its follow-up.
    enrollment = Enrollment.objects.get(pk=in_flight.enrollment_id)
    assert enrollment.state == EnrollmentState.STOPPED and enrollment.current_step == 2


def test_an_event_that_came_while_the_message_was_still_sending_settles_it_at_the_sweep(
    live_campaign, frozen_now, settings
):
    _, _, in_flight = crash_mid_send(live_campaign, leads=2, die_on=1)
    record_tracking_event(  # the ESP's webhook beats the sweep: stored, nothing settled yet
        TrackingInput(
            esp_name="TestESP",
            event_type="delivered",
            event_id="early-1",
            metadata={"aicmo_message_id": str(in_flight.pk)},
        )
    )
    assert Message.objects.get(pk=in_flight.pk).state == MessageState.SENDING
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 1))
    report = recover_interrupted_sends()
    assert report.unknown == 1 and report.confirmed == 1 and report.assumed == 0
    assert Message.objects.get(pk=in_flight.pk).send_resolution == SendResolution.CONFIRMED


def test_an_interrupted_dry_run_goes_back_to_scheduled(live_campaign, frozen_now, settings):
    campaign, sequence = live_campaign(leads=2, mode="dry_run")
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    # A worker claimed both and died before recording them.
    Message.objects.update(state=MessageState.SENDING, claimed_at=timezone.now(), attempts=1, dry_run=True)
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 1))
    assert recover_interrupted_sends().released == 2
    assert states() == {MessageState.SCHEDULED: 2}
    assert set(Message.objects.values_list("attempts", flat=True)) == {0}


def test_the_operator_sees_how_many_were_counted_as_sent_without_confirmation(
    client, operator_role_user, live_campaign, frozen_now, settings
):
    campaign, _, in_flight = crash_mid_send(live_campaign, leads=2, die_on=1)
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 1))
    recover_interrupted_sends()
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_UNKNOWN_RESOLVE_SECONDS))
    assert recover_interrupted_sends().assumed == 1
    client.force_login(operator_role_user)

    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert 'id="campaign-link-outreach-assumed-sent"' in page
    assert "Sent without provider confirmation" in page

    listing = client.get(
        reverse("admin:outreach_message_changelist"),
        {"campaign__id__exact": campaign.pk, "send_resolution__exact": SendResolution.ASSUMED},
    )
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [in_flight]
