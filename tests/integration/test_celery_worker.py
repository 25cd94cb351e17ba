"""A real Celery worker against real Redis runs a task that changes a campaign; a real worker
process killed with SIGKILL in the middle of a send loses nothing and sends nothing twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError, connection
from django.db.models import Sum
from django.utils import timezone

from campaigns.models import Campaign, CampaignState, SpendEntry, SpendKind
from campaigns.tasks import campaign_daily_tick
from leads.models import Lead, LeadState
from outreach.models import CycleLease, Enrollment, EnrollmentState, Message, MessageState
from outreach.services.sending import recover_interrupted_sends
from outreach.services.tracking import TrackingInput, record_tracking_event
from tests.conftest import FIXED_NOW
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_celery():
    """A Celery app configured like ours but with the real Redis as broker (db 1, apart from the cache)."""
    broker = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/1"
    app = Celery("aicmo-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker, broker_transport_options={}, task_always_eager=False)
    app.loader.import_default_modules()
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING", shutdown_timeout=10):
        yield app


def test_worker_completes_a_campaign_past_its_end_date(redis_celery, campaign_in_state):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    campaign = campaign_in_state(
        CampaignState.ACTIVE, start_date=yesterday - dt.timedelta(days=5), end_date=yesterday
    )

    redis_celery.send_task(campaign_daily_tick.name)

    deadline = time.monotonic() + 30
    state = None
    while time.monotonic() < deadline:
        try:
            state = Campaign.objects.values_list("state", flat=True).get(pk=campaign.pk)
        except OperationalError as exc:
            # SQLite's shared in-memory test database locks a table the worker is writing (at once:
            # no busy timeout there); the next look reads it.
            if "locked" not in str(exc):
                raise
        if state == CampaignState.COMPLETED:
            break
        time.sleep(0.1)
    assert state == CampaignState.COMPLETED


# --- a worker killed with SIGKILL in the middle of a send (issue 16, point 1) --------------------

KILL_LEADS, SEND_SECONDS, COST = 24, 0.1, Decimal("0.01")
IN_FLIGHT = 4  # the worker's OUTREACH_SEND_CONCURRENCY: a slice of these slow calls is four at once


def worker_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def killable_worker(transactional_db, tmp_path, settings):
    """Starts worker subprocesses (``tests.integration.cycle_worker``: the Procfile's queues, one
    process, its clock at ``clock`` and running) on Redis db 6 with the journalling ESP backend.
    Yields (start, Celery app on that broker, journal path); every worker is stopped afterwards."""
    broker = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/6"
    redis.Redis.from_url(broker).flushdb()
    journal = tmp_path / "accepted.txt"
    settings.AICMO_COST_PER_EMAIL = COST  # the test process books what the sweep settles
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker,
        "EMAIL_BACKEND": "tests.integration.journal_email.JournalBackend",
        "AICMO_TEST_JOURNAL": str(journal),
        "AICMO_TEST_SEND_SECONDS": str(SEND_SECONDS),
        "AICMO_TEST_TRAVEL_TO": FIXED_NOW.isoformat(),
        "AICMO_COST_PER_EMAIL": str(COST),
        "OUTREACH_SEND_CONCURRENCY": str(IN_FLIGHT),
        "AICMO_VAR_DIR": str(tmp_path / "var"),
    }
    workers: list[subprocess.Popen] = []

    def start(name: str, *, clock: dt.datetime = FIXED_NOW) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.cycle_worker", name],
            cwd=ROOT,
            env={**env, "AICMO_TEST_TRAVEL_TO": clock.isoformat()},
            stdout=subprocess.DEVNULL,
            stderr=open(log, "wb"),  # noqa: SIM115  (closed with the process)
        )
        workers.append(worker)
        deadline = time.monotonic() + 30
        while " ready." not in log.read_text():
            assert time.monotonic() < deadline and worker.poll() is None, log.read_text()[-2000:]
            time.sleep(0.05)
        return worker

    app = Celery("aicmo-kill-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker, broker_transport_options={}, task_always_eager=False)
    try:
        yield start, app, journal
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        app.close()
        redis.Redis.from_url(broker).flushdb()


def accepted(journal: Path) -> list[int]:
    return [int(line) for line in journal.read_text().split()] if journal.exists() else []


def wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@pytest.mark.postgres
def test_a_worker_killed_mid_send_leaves_nothing_unsent_nothing_sent_twice_and_each_call_booked_once(
    live_campaign,  # noqa: F811
    killable_worker,
    frozen_now,
    settings,
):
    start, app, journal = killable_worker
    campaign, _ = live_campaign(leads=KILL_LEADS, cap=100)
    pending = (MessageState.SCHEDULED, MessageState.RETRY_SCHEDULED)

    # A cycle sends (0.1 s per call, like an ESP's API, four calls at once); the worker dies with
    # its second slice's four calls in flight.
    first = start("killed")
    app.send_task("outreach.tasks.run_campaign_cycle", args=[campaign.pk], kwargs={"dry_run": False})
    wait_for(lambda: len(accepted(journal)) >= 2 * IN_FLIGHT, seconds=30, what="two slices accepted")
    os.kill(first.pid, signal.SIGKILL)
    first.wait()

    # Only the calls in flight are uncertain; what the dead worker had not handed over is still due.
    in_flight = list(Message.objects.filter(state=MessageState.SENDING).values_list("pk", flat=True))
    assert len(in_flight) <= IN_FLIGHT
    assert set(in_flight) <= set(accepted(journal))
    assert Message.objects.filter(state__in=pending).count() == KILL_LEADS - len(accepted(journal))

    # Recovery: beat's sweep finds the stale claim, and a worker started five minutes later (the
    # dead one's lease has expired by then, AICMO_CYCLE_LEASE_SECONDS) runs the next cycle.
    # (The test's clock is frozen at FIXED_NOW; the dead worker's ran on from there for a few seconds.)
    frozen_now.shift(dt.timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS + 60))
    assert recover_interrupted_sends().unknown == len(in_flight)
    assert CycleLease.objects.get(campaign=campaign).expires_at < FIXED_NOW + dt.timedelta(minutes=5)
    start("restarted", clock=FIXED_NOW + dt.timedelta(minutes=5))
    app.send_task("outreach.tasks.run_campaign_cycle", args=[campaign.pk], kwargs={"dry_run": False})
    wait_for(
        lambda: not Message.objects.filter(state__in=(*pending, MessageState.SENDING)).exists(),
        seconds=30,
        what="the restarted worker to send the rest",
    )
    # The ESP's delivery webhooks for what it accepted settle the unknown ones; the sweep books them.
    for message_id in accepted(journal):
        record_tracking_event(
            TrackingInput(
                esp_name="TestESP",
                event_type="delivered",
                event_id=f"delivered-{message_id}",
                metadata={"aicmo_message_id": str(message_id)},
            )
        )
    recover_interrupted_sends()

    calls = accepted(journal)
    assert sorted(calls) == sorted(Message.objects.values_list("pk", flat=True))  # each exactly once
    assert Message.objects.filter(state=MessageState.SENT).count() == KILL_LEADS
    assert not Enrollment.objects.exclude(state=EnrollmentState.COMPLETED).exists()  # nobody frozen
    assert not Lead.objects.filter(campaign=campaign).exclude(state=LeadState.CONTACTED).exists()
    spent = SpendEntry.objects.filter(campaign=campaign, kind=SpendKind.ESP).aggregate(total=Sum("amount"))
    assert spent["total"] == COST * len(calls)  # every provider call booked exactly once
