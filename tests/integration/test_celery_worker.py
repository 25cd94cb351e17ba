"""A real Celery worker against real Redis runs a task that changes a campaign; a real worker
process killed with SIGKILL in the middle of a send loses nothing and sends nothing twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError
from django.db.models import Sum
from django.utils import timezone

from campaigns.models import Campaign, CampaignState, SpendEntry, SpendKind
from campaigns.tasks import campaign_daily_tick
from leads.models import Lead, LeadState
from outreach.models import CycleLease, Enrollment, EnrollmentState, Message, MessageState
from outreach.services.sending import recover_interrupted_sends
from outreach.services.tracking import TrackingInput, record_tracking_event
from tests.conftest import FIXED_NOW
from tests.integration.workers import COST, IN_FLIGHT, accepted, wait_for
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


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

KILL_LEADS = 24


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
