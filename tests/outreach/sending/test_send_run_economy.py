"""What a send run spends besides the provider's own time (issue 16, docs/PERFORMANCE.md): claims
wait for a quarter of the threads and answers are recorded a few at a time, not each in a
transaction of its own, and each send thread keeps its HTTP API session (anymail's) from run to run
instead of making a session and a TCP connection for every few emails."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from types import SimpleNamespace

import pytest

from leads.services import add_suppression
from outreach.models import Message, MessageState
from outreach.services.sending import delivery, enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.sending.provider import ProviderCall, send_threads
from outreach.services.sending.window import RECORD_WAIT_SECONDS, CallWindow
from tests.outreach.senders.test_tracking_opt_in import postmark  # noqa: F401  (the fixture, reused)
from tests.outreach.sending.test_overlapped_calls import OverlappingESP


class StaggeredESP(OverlappingESP):
    """The overlapping ESP, each call answering 8 ms after the one before it (by message id): calls
    claimed together end one at a time, as they do against a real API."""

    def send_messages(self, email_messages):
        (email,) = email_messages
        time.sleep(0.008 * (int(email.metadata["aicmo_message_id"]) % 16))
        return super().send_messages(email_messages)


def due(live_campaign, leads: int):
    campaign, sequence = live_campaign(leads=leads, cap=100)
    enroll_leads(campaign=campaign, sequence=sequence)
    assert schedule_due_messages(campaign=campaign) == leads
    return campaign


def overlapping_calls(settings, live_campaign, *, threads: int, delay: float, leads: int):
    """A campaign with ``leads`` due messages, sent through the overlapping ESP on ``threads``."""
    settings.EMAIL_BACKEND = f"{OverlappingESP.__module__}.OverlappingESP"
    settings.OUTREACH_SEND_CONCURRENCY = threads
    OverlappingESP.reset(delay=delay)
    return due(live_campaign, leads)


def test_when_answers_are_due_for_their_record():
    window = CallWindow(SimpleNamespace(threads=None))
    window.in_flight = {object(): None for _ in range(6)}
    window.finished = [(None, None)]
    window.finished_since = time.monotonic()
    assert not window.record_due(batch=4, ending=False)  # one answer, more calls in flight: wait
    assert window.record_due(batch=4, ending=True)  # the run is ending: record what came back
    window.finished *= 4
    assert window.record_due(batch=4, ending=False)  # a batch came back
    window.finished = [(None, None)]
    window.finished_since = time.monotonic() - RECORD_WAIT_SECONDS
    assert window.record_due(batch=4, ending=False)  # the oldest answer has waited long enough
    window.finished_since, window.in_flight = time.monotonic(), {}
    assert window.record_due(batch=4, ending=False)  # nothing else in flight
    window.finished = []
    assert not window.record_due(batch=4, ending=True)  # nothing to record


def test_a_refusal_or_a_call_never_started_is_recorded_at_once():
    # Left unrecorded, a crash would leave it `sending`, and the recovery would settle it as sent.
    window = CallWindow(SimpleNamespace(threads=None))
    refused, accepted = Future(), Future()
    refused.set_result(ProviderCall(message=None, error=ConnectionResetError("the ESP hung up")))
    accepted.set_result(ProviderCall(message=None, provider_message_id="esp-1"))
    window.in_flight = {accepted: "accepted", **{Future(): None for _ in range(6)}}  # 6 still calling
    window.collect()
    assert not window.record_due(batch=4, ending=False)  # accepted: it may wait for a few more
    window.in_flight[refused] = "refused"
    window.collect()
    assert window.record_due(batch=4, ending=False)
    assert [message for message, _ in window.take_finished()] == ["accepted", "refused"]
    never = Future()
    never.set_result(None)  # past its deadline before a thread was free: it never started
    window.in_flight[never] = "never"
    window.collect()
    assert window.record_due(batch=4, ending=False)


@pytest.mark.django_db
def test_answers_coming_back_one_at_a_time_are_recorded_a_few_at_a_time(live_campaign, settings, monkeypatch):
    settings.EMAIL_BACKEND = f"{__name__}.StaggeredESP"
    settings.OUTREACH_SEND_CONCURRENCY = 16  # records wait for a quarter of the threads: four answers
    StaggeredESP.reset()
    campaign = due(live_campaign, 48)
    records = []
    record_calls = delivery._record_calls

    def counted(campaign, finished, *args, **kwargs):
        records.append(len(finished))
        return record_calls(campaign, finished, *args, **kwargs)

    monkeypatch.setattr(delivery, "_record_calls", counted)

    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)

    assert stats.sent == 48 and sum(records) == 48
    assert not Message.objects.exclude(state=MessageState.SENT).exists()
    # Answered 8 ms apart, recorded as they come took 29-30 transactions here (an answer that came
    # while the last record was written joins the next); four at a time, 16-17.
    assert len(records) <= 22, records


@pytest.mark.django_db
def test_each_send_thread_keeps_its_esp_session_from_run_to_run(live_campaign, postmark, settings):  # noqa: F811
    settings.OUTREACH_SEND_CONCURRENCY = 2
    first, second = due(live_campaign, 4), due(live_campaign, 4)

    assert send_due_messages(campaign_id=first.pk, dry_run=False).sent == 4
    assert send_due_messages(campaign_id=second.pk, dry_run=False).sent == 4

    assert len(postmark.payloads) == 8
    # Two threads, two keep-alive connections for both runs (a session per run and thread: four).
    assert postmark.connections <= 2

    # Changed email settings (a rotated token, another API URL) are not sent through a session
    # made from the old ones: each thread makes a new one.
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "rotated-token"}
    before = postmark.connections
    third = due(live_campaign, 2)
    assert send_due_messages(campaign_id=third.pk, dry_run=False).sent == 2
    assert postmark.connections > before


@pytest.mark.django_db
def test_a_run_with_nothing_in_flight_waits_for_a_quarter_of_the_threads(
    live_campaign, settings, monkeypatch
):
    campaign = overlapping_calls(settings, live_campaign, threads=16, delay=0.005, leads=8)
    threads = send_threads(16)
    assert threads.reserve(14) == 14  # other cycles' calls hold all but two threads
    release = threading.Timer(0.3, threads.release, args=(14,))
    sizes = []
    claim_slice = delivery._claim_slice

    def spied(**kwargs):
        sizes.append(kwargs["size"])
        return claim_slice(**kwargs)

    monkeypatch.setattr(delivery, "_claim_slice", spied)
    release.start()
    try:
        stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    finally:
        release.join()

    assert stats.sent == 8
    # Not a claim of two (a transaction for two emails) while the other calls run: one claim once
    # they ended, for every thread then free.
    assert sizes and min(sizes) >= 4, sizes
    assert threads.free() == 16


@pytest.mark.django_db
def test_a_lead_suppressed_while_its_run_goes_on_is_not_mailed_by_a_later_claim(
    live_campaign, settings, monkeypatch
):
    # The run builds its locking query once (no consent regions); the suppressions in it are read
    # by the database at every claim, so one added between two claims stops the later one.
    campaign = overlapping_calls(settings, live_campaign, threads=4, delay=0.02, leads=8)
    last = Message.objects.order_by("lead__score", "-scheduled_for", "-id").first()  # ranked last
    claim_slice, claims = delivery._claim_slice, []

    def suppressing_after_the_first(**kwargs):
        claim = claim_slice(**kwargs)
        claims.append([m.pk for m in claim.messages])
        if len(claims) == 1:
            assert last.pk not in claims[0]
            add_suppression(reason="manual_dnc", email=last.to_email, client=campaign.client)
        return claim

    monkeypatch.setattr(delivery, "_claim_slice", suppressing_after_the_first)

    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)

    assert len(claims) >= 2 and stats.sent == 7 and stats.skipped == 1
    last.refresh_from_db()
    assert last.state == MessageState.CANCELLED and last.pk not in OverlappingESP.esp.journal


@pytest.mark.django_db
def test_a_record_writes_its_audit_events_in_one_insert(live_campaign, settings):
    """Each record notes the sends and the leads' first contacts: two events, one INSERT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import AuditEvent

    campaign = overlapping_calls(settings, live_campaign, threads=4, delay=0.01, leads=8)
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with CaptureQueriesContext(connection) as queries:
        assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 8
    table = f'INSERT INTO "{AuditEvent._meta.db_table}"'
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(table)]
    recorded = AuditEvent.objects.filter(pk__gt=before)
    sends = recorded.filter(verb="email.sent").count()
    assert recorded.filter(verb="lead.mark_contacted").count() == sends
    others = recorded.exclude(verb__in=("email.sent", "lead.mark_contacted")).count()  # the spend booked
    assert len(inserts) == sends + others, inserts  # one per record, not one per event


def test_claims_wait_for_half_the_threads_while_the_machine_is_out_of_cpu(settings, monkeypatch):
    from outreach.services.sending import window

    settings.OUTREACH_BUSY_MACHINE_CPU = 0.8
    readings = iter([0.97, 0.2, 0.85, 0.9, 0.7, 0.55, 0.3])  # the first is psutil's since-boot mean
    load = window.MachineLoad(read=lambda: next(readings))
    monkeypatch.setattr(window.MachineLoad, "SAMPLE_SECONDS", 0.0)
    seen = [(load.refill_at(16), round(load.busy, 2)) for _ in range(7)]
    # a quarter of 16 threads until 80 % busy, then half until below 60 % (no flapping at the edge)
    assert seen == [(4, 0.0), (4, 0.2), (8, 0.85), (8, 0.9), (8, 0.7), (4, 0.55), (4, 0.3)]
    settings.OUTREACH_BUSY_MACHINE_CPU = 0  # off
    assert load.refill_at(16) == 4
    assert window.MachineLoad(read=lambda: 1.0).refill_at(1) == 1


class QuickStaggeredESP(OverlappingESP):
    """Calls claimed together answering 3 ms apart: a quarter of 16 threads in 12 ms, half in 24."""

    def send_messages(self, email_messages):
        (email,) = email_messages
        time.sleep(0.003 * (int(email.metadata["aicmo_message_id"]) % 16))
        return super().send_messages(email_messages)


@pytest.mark.parametrize("busy", [False, True])
@pytest.mark.django_db
def test_a_run_on_a_machine_out_of_cpu_records_for_half_its_threads(
    busy, live_campaign, settings, monkeypatch
):
    from outreach.services.sending.window import MACHINE_LOAD

    campaign = overlapping_calls(settings, live_campaign, threads=16, delay=0.0, leads=64)
    settings.EMAIL_BACKEND = f"{__name__}.QuickStaggeredESP"
    QuickStaggeredESP.reset()
    settings.OUTREACH_BUSY_MACHINE_CPU = 0.8
    monkeypatch.setattr(MACHINE_LOAD, "is_loaded", lambda: True)  # the machine's CPUs, all busy
    records, record_calls = [], delivery._record_calls

    def counted(campaign, finished, *args, **kwargs):
        records.append(len(finished))
        return record_calls(campaign, finished, *args, **kwargs)

    monkeypatch.setattr(delivery, "_record_calls", counted)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 64
    # Answers 3 ms apart: recorded as eight came back (with CPU to spare, as four did: 4-6 each).
    assert sum(records) == 64 and min(records[:4]) >= 8, records
