"""Concurrency on the real PostgreSQL server: claims under SKIP LOCKED and the kill's lock order."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection

from campaigns.services.transitions import kill_campaign
from outreach.models import Message, MessageState
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class RecordingBackend(LocmemBackend):
    """A thread-safe stand-in for the ESP: records each call, optionally slowly."""

    def __init__(self, journal, lock, delay=0.0, **kwargs):
        super().__init__(**kwargs)
        self.journal, self.lock, self.delay = journal, lock, delay

    def send_messages(self, messages):
        with self.lock:
            self.journal.extend(("call", m.to[0]) for m in messages)
        if self.delay:
            time.sleep(self.delay)
        return len(messages)


def in_thread(target, errors):
    def run():
        try:
            target()
        except Exception as exc:  # surfaced by the assertion on `errors`
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=run)


def test_ten_threads_claiming_at_once_send_each_message_exactly_once(live_campaign):
    campaign, sequence = live_campaign(leads=30, cap=100)
    enroll_leads(campaign=campaign, sequence=sequence)
    assert schedule_due_messages(campaign=campaign) == 30
    journal, lock, errors = [], threading.Lock(), []
    start = threading.Barrier(10)

    def worker():
        start.wait()
        send_due_messages(
            campaign_id=campaign.pk, dry_run=False, chunk_size=3, connection=RecordingBackend(journal, lock)
        )

    threads = [in_thread(worker, errors) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    recipients = [to for _, to in journal]
    assert len(recipients) == 30 and len(set(recipients)) == 30
    assert Message.objects.filter(state=MessageState.SENT).count() == 30


def kill_while_sending(live_campaign, operator, *, chunk_size: int, delay: float):
    """20 due messages; a sender thread with a slow provider; a kill once its first call is made.
    Returns the journal's calls before the kill and how long the kill waited for its lock."""
    campaign, sequence = live_campaign(leads=20, cap=100)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    journal, lock, errors = [], threading.Lock(), []
    sender = in_thread(
        lambda: send_due_messages(
            campaign_id=campaign.pk,
            dry_run=False,
            chunk_size=chunk_size,
            connection=RecordingBackend(journal, lock, delay=delay),
        ),
        errors,
    )
    sender.start()
    deadline = time.monotonic() + 20
    while not journal and time.monotonic() < deadline:
        time.sleep(0.005)
    assert journal, "the sender never started"
    started = time.monotonic()
    kill_campaign(campaign=campaign, actor=operator, rationale="client pulled out")
    waited = time.monotonic() - started
    with lock:
        journal.append(("killed", ""))
    sender.join(60)
    assert errors == []
    killed_at = journal.index(("killed", ""))
    assert all(kind != "call" for kind, _ in journal[killed_at + 1 :]), journal
    calls = killed_at
    assert Message.objects.filter(state=MessageState.SENT).count() == calls
    assert Message.objects.filter(state=MessageState.CANCELLED).count() == 20 - calls
    return calls, waited


def test_no_provider_call_starts_after_the_kill_commits(live_campaign, operator):
    calls, _ = kill_while_sending(live_campaign, operator, chunk_size=4, delay=0.05)
    assert 1 <= calls < 20


def test_a_kill_waits_for_the_slice_in_flight_not_for_the_whole_chunk(live_campaign, operator, settings):
    # A slow provider: every message is its own slice, so the kill's wait is one send, and the
    # rest of the (single, large) chunk is cancelled, not sent.
    settings.OUTREACH_SEND_SLICE_SECONDS = 0
    calls, waited = kill_while_sending(live_campaign, operator, chunk_size=20, delay=0.1)
    # The chunk held all 20; the kill committed after the send in flight (and at most one more
    # that had begun), far from the 2 s the whole chunk would take.
    assert 1 <= calls <= 3
    assert waited < 1.5
