"""A send run that loses its database connection (issue 16: a PostgreSQL restart mid-cycle) waits
it out and writes what it holds once it reconnects (``outreach/services/outage.py``). The
connections here are really closed by the server (``pg_terminate_backend``) or really refused;
the whole-worker version is tests/integration/test_database_restart.py."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections
from django.db.models import Sum

from campaigns.models import SpendEntry, SpendKind
from outreach.models import Enrollment, EnrollmentState, Message, MessageState
from outreach.services import outage as outage_module
from outreach.services.outage import DatabaseOutage
from outreach.services.sending import delivery, send_due_messages
from tests.outreach.sending.test_overlapped_calls import OverlappingESP
from tests.outreach.sending.test_send_run_economy import due

COST_SETTING = "0.01"


def terminate(pid: int) -> None:
    """Close a backend the way a server restart does, from another connection."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_an_error_the_database_answered_is_raised_at_once():
    outage = DatabaseOutage(seconds=30)

    def bad_query():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # a statement timeout: OperationalError, connection fine
                cursor.execute("SET LOCAL statement_timeout = 1")
                cursor.execute("SELECT pg_sleep(0.2)")
            else:
                cursor.execute("SELECT * FROM no_such_table")

    with pytest.raises(OperationalError):
        outage.call(bad_query, what="testing")
    assert outage.outages == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_closed_is_opened_again_and_the_operation_repeated():
    pid, runs = backend_pid(), []

    def query():
        runs.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    terminate(pid)
    outage = DatabaseOutage(seconds=30)
    assert outage.call(query, what="testing") != pid  # a new backend answered
    assert (len(runs), outage.outages) == (2, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_gone_for_longer_than_the_budget_raises(monkeypatch):
    from tests.integration.test_redis_outage import free_port

    port = connection.settings_dict["PORT"]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))  # nothing listens there
    outage = DatabaseOutage(seconds=0.3)
    try:
        with pytest.raises(OperationalError):
            outage.call(lambda: connection.ensure_connection(), what="testing")
        assert outage.outages == 1
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_nothing_is_repeated_inside_an_outer_transaction():
    """Its earlier writes went with the connection: only its owner can start it again."""
    from django.db import transaction

    runs = []

    def query():
        runs.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    with pytest.raises(OperationalError), transaction.atomic():
        terminate(backend_pid())
        DatabaseOutage(seconds=30).call(query, what="testing")
    assert runs == [1]
    connection.close()


class ESPKillingTheRunsConnection(OverlappingESP):
    """The overlapping ESP; as its first answer is ready it closes the send run's database
    connection (the run's backend, ``victim``), as a restart would while calls are with the provider."""

    victim: int | None = None
    killed = threading.Event()
    lock = threading.Lock()

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        with self.lock:
            first = not self.killed.is_set()
            self.killed.set()
        if first:
            terminate(self.victim)
        return sent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_connection_is_closed_mid_send_records_every_answer_once_and_goes_on(
    live_campaign, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.ESPKillingTheRunsConnection"
    settings.OUTREACH_SEND_CONCURRENCY = 4
    settings.AICMO_COST_PER_EMAIL = COST_SETTING
    OverlappingESP.reset(delay=0.05)
    ESPKillingTheRunsConnection.killed.clear()
    campaign = due(live_campaign, 12)
    ESPKillingTheRunsConnection.victim = backend_pid()

    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)

    assert ESPKillingTheRunsConnection.killed.is_set()
    journal = OverlappingESP.esp.journal
    assert sorted(journal) == sorted(Message.objects.values_list("pk", flat=True))  # once each
    assert stats.sent == 12 and stats.failed == 0
    assert Message.objects.filter(state=MessageState.SENT).count() == 12
    assert not Message.objects.exclude(provider_message_id__startswith="esp-").exists()
    assert not Enrollment.objects.exclude(state=EnrollmentState.COMPLETED).exists()
    spent = SpendEntry.objects.filter(campaign=campaign, kind=SpendKind.ESP).aggregate(total=Sum("amount"))
    assert spent["total"] == Decimal(COST_SETTING) * 12  # booked once each


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_commit_went_through_unseen_gives_its_messages_back(
    live_campaign, settings, monkeypatch
):
    """The server commits a claim and goes away before it answers: the run cannot tell it from a
    claim that failed. What that claim took must not wait as `sending` (the sweep would count it
    as sent, though it never left): the next try gives it back and claims again."""
    settings.EMAIL_BACKEND = f"{OverlappingESP.__module__}.OverlappingESP"
    settings.OUTREACH_SEND_CONCURRENCY = 4
    OverlappingESP.reset(delay=0.01)
    campaign = due(live_campaign, 8)
    real_claim, lost = delivery._claim_slice, []

    def claim_then_lose_the_answer(**kwargs):
        claim = real_claim(**kwargs)  # committed
        if not lost and claim.messages:
            lost.append([m.pk for m in claim.messages])
            terminate(backend_pid())
            with connection.cursor() as cursor:  # the answer that never comes
                cursor.execute("SELECT 1")
        return claim

    monkeypatch.setattr(delivery, "_claim_slice", claim_then_lose_the_answer)
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)

    assert lost and stats.sent == 8
    journal = OverlappingESP.esp.journal
    assert sorted(journal) == sorted(Message.objects.values_list("pk", flat=True))  # once each
    # The stranded ones were given back without using up an attempt, then claimed and sent.
    assert set(Message.objects.filter(pk__in=lost[0]).values_list("state", "attempts")) == {
        (MessageState.SENT, 1)
    }


def test_the_outage_budget_is_a_setting(settings):
    settings.OUTREACH_DATABASE_OUTAGE_SECONDS = 7
    assert DatabaseOutage().seconds == 7
    assert outage_module.LONGEST_PAUSE <= 1.0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_record_whose_connection_is_lost_halfway_applies_each_outcome_once(
    live_campaign, settings, monkeypatch
):
    """The outcomes are applied to the messages in memory before the rows are written: the try
    that lost its connection is undone on them too, so the next one writes each outcome once."""
    settings.EMAIL_BACKEND = f"{OverlappingESP.__module__}.OverlappingESP"
    settings.OUTREACH_SEND_CONCURRENCY = 4
    settings.AICMO_COST_PER_EMAIL = COST_SETTING
    OverlappingESP.reset(delay=0.01)
    campaign = due(live_campaign, 8)
    real_advance, lost = delivery._advance_enrollments, []

    def lose_the_connection_then_advance(sent, *args, **kwargs):
        if not lost and sent:  # the outcomes are applied, the rows written: then the server goes
            lost.append(len(sent))
            terminate(backend_pid())
        return real_advance(sent, *args, **kwargs)

    monkeypatch.setattr(delivery, "_advance_enrollments", lose_the_connection_then_advance)
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)

    assert lost and (stats.sent, stats.failed) == (8, 0)
    assert sorted(OverlappingESP.esp.journal) == sorted(Message.objects.values_list("pk", flat=True))
    assert Message.objects.filter(state=MessageState.SENT).count() == 8
    assert not Enrollment.objects.exclude(state=EnrollmentState.COMPLETED).exists()
    spent = SpendEntry.objects.filter(campaign=campaign, kind=SpendKind.ESP).aggregate(total=Sum("amount"))
    assert spent["total"] == Decimal(COST_SETTING) * 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cycle_that_lost_its_connection_still_gives_its_lease_back(live_campaign, monkeypatch):
    """Else the campaign would wait for the lease to expire (AICMO_CYCLE_LEASE_SECONDS)."""
    from django.utils import timezone

    from outreach.models import CycleLease
    from outreach.services import cycle

    campaign, _ = live_campaign(leads=1)

    def stages_cut_off(*args, **kwargs):
        terminate(backend_pid())
        raise RuntimeError("the enrichment stage failed")

    monkeypatch.setattr(cycle, "_run_stages", stages_cut_off)
    stats = cycle.run_cycle(campaign_id=campaign.pk, dry_run=False)

    assert stats.errors == ["RuntimeError: the enrichment stage failed"]
    assert CycleLease.objects.get(campaign=campaign).expires_at <= timezone.now()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tasks_keep_their_connection_and_replace_one_the_server_closed():
    """A worker keeps its connection from task to task (a new backend per cycle was a tenth of a
    send cycle's CPU, docs/PERFORMANCE.md), and one the server closed meanwhile (a restart) is found
    dead by its health check before the next task uses it, not by the task's first query. The
    signals are sent as a worker sends them around a task (Celery's own fix-up included)."""
    from celery.fixups.django import DjangoWorkerFixup
    from celery.signals import task_postrun, task_prerun

    from aicmo_site.celery import app
    from outreach.tasks import run_campaign_cycle as task

    fixup = DjangoWorkerFixup(app)  # what a worker connects besides ours (celery.fixups.django)
    task_prerun.connect(fixup.on_task_prerun)
    task_postrun.connect(fixup.on_task_postrun)

    def run_task(body):
        task_prerun.send(sender=task, task=task, task_id="t", args=(), kwargs={})
        try:
            return body()
        finally:
            task_postrun.send(
                sender=task, task=task, task_id="t", args=(), kwargs={}, retval=None, state="SUCCESS"
            )

    try:
        first = run_task(backend_pid)
        assert run_task(backend_pid) == first  # the same connection, not a new backend

        terminate(first)
        replaced = run_task(backend_pid)  # no error: the health check found it dead and reconnected
        assert replaced != first
        assert run_task(backend_pid) == replaced
    finally:
        task_prerun.disconnect(fixup.on_task_prerun)
        task_postrun.disconnect(fixup.on_task_postrun)
