"""Issue 16 point 5: a worker has up to OUTREACH_SEND_CONCURRENCY provider calls in flight at once,
each send thread with its own connection; claims, outcomes, kills and crashes keep their meaning.

The configured backend (``EMAIL_BACKEND``) is what the send threads open, one connection each; a
connection passed in by the caller is used one call at a time (the other tests of the send path).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db.models import Sum

from campaigns.models import SpendEntry, SpendKind
from campaigns.services.transitions import kill_campaign, pause_campaign, resume_campaign
from outreach.models import Enrollment, EnrollmentState, Message, MessageState
from outreach.services.sending import (
    enroll_leads,
    recover_interrupted_sends,
    schedule_due_messages,
    send_due_messages,
)

BACKEND = f"{__name__}.OverlappingESP"
COST = Decimal("0.01")


class WorkerKilled(BaseException):
    """What a SIGKILL looks like from inside a send thread: no handler catches it."""


class OverlappingESP(BaseEmailBackend):
    """An ESP's API, shared by every connection the send threads open (``OverlappingESP.esp``):
    it accepts a message as the call begins (the journal), answers ``delay`` seconds later with its
    own id for it (``esp-<our id>``), counts the calls in flight, and can make every call wait until
    ``barrier`` calls are in flight together, refuse some recipients, or kill the worker."""

    esp = SimpleNamespace()

    @classmethod
    def reset(cls, *, delay=0.0, barrier=None, refuse=(), die_on=None):
        cls.esp = SimpleNamespace(
            lock=threading.Lock(),
            journal=[],
            in_flight=0,
            peak=0,
            delay=delay,
            barrier=threading.Barrier(barrier, timeout=10) if barrier else None,
            refuse=set(refuse),
            die_on=die_on,
            connections={},  # id(connection) -> the threads that used it
            closed=0,
        )
        return cls.esp

    def close(self):
        with self.esp.lock:
            self.esp.closed += 1

    def send_messages(self, email_messages):
        esp = self.esp
        (email,) = email_messages
        message_id = int(email.metadata["aicmo_message_id"])
        with esp.lock:
            esp.journal.append(message_id)
            esp.in_flight += 1
            esp.peak = max(esp.peak, esp.in_flight)
            esp.connections.setdefault(id(self), set()).add(threading.get_ident())
            dies = esp.die_on is not None and len(esp.journal) == esp.die_on
        try:
            if esp.barrier is not None:
                esp.barrier.wait()
            time.sleep(esp.delay)
            if dies:
                raise WorkerKilled
            if email.to[0] in esp.refuse:
                raise ConnectionResetError("the ESP hung up")
        finally:
            with esp.lock:
                esp.in_flight -= 1
        email.anymail_status = SimpleNamespace(message_id=f"esp-{message_id}")
        return 1


@pytest.fixture
def esp(settings):
    settings.EMAIL_BACKEND = BACKEND
    settings.OUTREACH_SEND_CONCURRENCY = 4
    return OverlappingESP


def due(live_campaign, leads: int):
    campaign, sequence = live_campaign(leads=leads, cap=100)
    enroll_leads(campaign=campaign, sequence=sequence)
    assert schedule_due_messages(campaign=campaign) == leads
    return campaign


@pytest.mark.django_db
def test_a_worker_has_as_many_calls_in_flight_as_send_threads_each_on_its_own_connection(live_campaign, esp):
    # Every call waits until four are in flight together: the run finishes only if they overlap.
    esp.reset(delay=0.02, barrier=4)
    campaign = due(live_campaign, 12)

    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)

    assert stats.sent == 12 and stats.failed == 0
    assert sorted(esp.esp.journal) == sorted(Message.objects.values_list("pk", flat=True))
    assert esp.esp.peak == 4
    # One connection per send thread, never shared between threads, all closed at the end.
    assert len(esp.esp.connections) == 4
    assert all(len(threads) == 1 for threads in esp.esp.connections.values())
    assert esp.esp.closed == 4
    # Each outcome is recorded on its own message, and every enrollment moved on once.
    for message in Message.objects.all():
        assert message.state == MessageState.SENT
        assert message.provider_message_id == f"esp-{message.pk}"
    assert not Enrollment.objects.exclude(state=EnrollmentState.COMPLETED).exists()


@pytest.mark.django_db
def test_failed_calls_among_overlapping_ones_are_retried_and_the_others_recorded_sent(
    live_campaign, esp, frozen_now
):
    esp.reset(delay=0.01)
    campaign = due(live_campaign, 8)
    refused = list(Message.objects.order_by("pk").values_list("to_email", flat=True)[1::3])
    esp.esp.refuse = set(refused)

    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)

    assert stats.sent == 8 - len(refused) and stats.retried == len(refused) == stats.failed
    assert set(
        Message.objects.filter(state=MessageState.RETRY_SCHEDULED).values_list("to_email", flat=True)
    ) == set(refused)
    for message in Message.objects.filter(state=MessageState.RETRY_SCHEDULED):
        assert "ConnectionResetError" in message.last_error and not message.provider_message_id
        assert message.scheduled_for > message.claimed_at  # a retry, later
    assert Message.objects.filter(state=MessageState.SENT).count() == 8 - len(refused)


@pytest.mark.django_db
def test_a_crash_with_calls_in_flight_leaves_only_those_uncertain_and_nothing_is_sent_twice(
    live_campaign, esp, frozen_now, settings
):
    settings.AICMO_COST_PER_EMAIL = COST
    # Slow calls, four threads, claims refilled as calls finish; the worker dies during the sixth.
    esp.reset(delay=0.05, die_on=6)
    campaign = due(live_campaign, 12)

    with pytest.raises(WorkerKilled):
        send_due_messages(campaign_id=campaign.pk, dry_run=False)

    # Uncertain (`sending`): only calls that were in flight when it died. Every call made was
    # claimed, every claimed message was called (none claimed and left waiting), and what was
    # never called is still scheduled.
    crashed_run = list(esp.esp.journal)
    in_flight = set(Message.objects.filter(state=MessageState.SENDING).values_list("pk", flat=True))
    sent = set(Message.objects.filter(state=MessageState.SENT).values_list("pk", flat=True))
    assert 1 <= len(in_flight) <= 4
    assert in_flight | sent == set(crashed_run) and not in_flight & sent
    assert Message.objects.filter(state=MessageState.SCHEDULED).count() == 12 - len(crashed_run)
    uncertain = len(in_flight)

    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 1))
    assert recover_interrupted_sends().unknown == uncertain
    esp.reset()
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 12 - len(crashed_run)
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_UNKNOWN_RESOLVE_SECONDS))
    assert recover_interrupted_sends().assumed == uncertain

    calls = crashed_run + esp.esp.journal
    assert sorted(calls) == sorted(Message.objects.values_list("pk", flat=True))  # each exactly once
    assert Message.objects.filter(state=MessageState.SENT).count() == 12
    assert not Enrollment.objects.exclude(state=EnrollmentState.COMPLETED).exists()
    spent = SpendEntry.objects.filter(campaign=campaign, kind=SpendKind.ESP).aggregate(t=Sum("amount"))
    assert spent["t"] == COST * 12


def stop_while_sending(live_campaign, operator, stop):
    """20 due messages, a sender thread whose calls overlap (0.1 s each); ``stop`` (a kill or a
    pause) once the first call is made. Returns the calls made before the stop, and the campaign."""
    campaign = due(live_campaign, 20)
    errors: list[BaseException] = []

    def send():
        try:
            send_due_messages(campaign_id=campaign.pk, dry_run=False)
        except BaseException as exc:  # surfaced by the assertion on `errors`
            errors.append(exc)
        finally:
            db_connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    deadline = time.monotonic() + 20
    while not OverlappingESP.esp.journal and time.monotonic() < deadline:
        time.sleep(0.005)
    assert OverlappingESP.esp.journal, "the sender never started"
    stop(campaign)
    with OverlappingESP.esp.lock:
        before_stop = list(OverlappingESP.esp.journal)
    sender.join(60)
    assert errors == []
    # No call started after the stop committed: the stop waited for the slice's calls in flight.
    assert OverlappingESP.esp.journal == before_stop
    assert 1 <= len(before_stop) < 20
    assert len(set(before_stop)) == len(before_stop)
    sent = set(Message.objects.filter(state=MessageState.SENT).values_list("pk", flat=True))
    assert sent == set(before_stop)
    return before_stop, campaign


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_kill_mid_slice_waits_for_the_calls_in_flight_and_cancels_the_rest(live_campaign, operator, esp):
    esp.reset(delay=0.1)
    calls, _ = stop_while_sending(
        live_campaign,
        operator,
        lambda campaign: kill_campaign(campaign=campaign, actor=operator, rationale="stop"),
    )
    assert len(calls) <= 4  # one slice: the calls in flight at once
    assert Message.objects.filter(state=MessageState.CANCELLED).count() == 20 - len(calls)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pause_mid_slice_sends_nothing_more_and_resuming_sends_the_rest_once(live_campaign, operator, esp):
    esp.reset(delay=0.1)
    calls, campaign = stop_while_sending(
        live_campaign,
        operator,
        lambda campaign: pause_campaign(campaign=campaign, actor=operator),
    )
    assert Message.objects.filter(state=MessageState.SCHEDULED).count() == 20 - len(calls)
    resume_campaign(campaign=campaign, actor=operator)
    esp.reset(delay=0.0)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 20 - len(calls)
    assert sorted(calls + esp.esp.journal) == sorted(Message.objects.values_list("pk", flat=True))
