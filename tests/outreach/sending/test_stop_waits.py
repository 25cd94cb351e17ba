"""A pause or kill commits at once and returns once the campaign's calls already with the provider
are recorded (outreach.services.sending.wait_for_calls_in_flight, run after the stop commits)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from campaigns.services.transitions import kill_campaign
from outreach.models import Message, MessageState
from outreach.services.leases import acquire_lease
from outreach.services.sending import enroll_leads, schedule_due_messages, wait_for_calls_in_flight


def with_claims(live_campaign, *, claimed_at):
    """Two due messages, the first of them `sending` (claimed at ``claimed_at``)."""
    campaign, sequence = live_campaign(leads=2, cap=100)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    first = Message.objects.order_by("pk").first()
    Message.objects.filter(pk=first.pk).update(state=MessageState.SENDING, claimed_at=claimed_at)
    return campaign, first


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_is_not_waited_for(live_campaign, settings):
    settings.OUTREACH_STOP_WAIT_SECONDS = 5
    campaign, _ = with_claims(live_campaign, claimed_at=timezone.now() - dt.timedelta(minutes=10))
    started = time.monotonic()
    assert wait_for_calls_in_flight(campaign.pk) is True
    assert time.monotonic() - started < 1  # no cycle holds the campaign: nobody will record it


@pytest.mark.django_db
def test_a_call_that_never_comes_back_is_waited_for_only_so_long(live_campaign, settings):
    settings.OUTREACH_STOP_WAIT_SECONDS = 1
    campaign, _ = with_claims(live_campaign, claimed_at=timezone.now() - dt.timedelta(minutes=10))
    assert acquire_lease(campaign_id=campaign.pk) is not None  # a cycle is running it
    started = time.monotonic()
    assert wait_for_calls_in_flight(campaign.pk) is False
    assert 0.9 < time.monotonic() - started < 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_kill_returns_once_the_call_in_flight_is_recorded(live_campaign, operator, settings):
    settings.OUTREACH_STOP_WAIT_SECONDS = 10
    campaign, in_flight = with_claims(live_campaign, claimed_at=timezone.now())
    recorded_at: list[float] = []

    def provider_answers():  # the sender records the call's outcome 0.5 s later
        try:
            time.sleep(0.5)
            Message.objects.filter(pk=in_flight.pk).update(state=MessageState.SENT)
            recorded_at.append(time.monotonic())
        finally:
            db_connection.close()

    sender = threading.Thread(target=provider_answers)
    sender.start()
    kill_campaign(campaign=campaign, actor=operator, rationale="client pulled out")
    returned_at = time.monotonic()
    sender.join(10)
    assert recorded_at and returned_at >= recorded_at[0]
    in_flight.refresh_from_db()
    assert in_flight.state == MessageState.SENT
    # The message never claimed was cancelled by the kill itself.
    assert Message.objects.exclude(pk=in_flight.pk).get().state == MessageState.CANCELLED
