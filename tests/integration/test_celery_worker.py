"""A real Celery worker against real Redis runs a task that changes a campaign."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from campaigns.models import Campaign, CampaignState
from campaigns.tasks import campaign_daily_tick

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
    while time.monotonic() < deadline:
        state = Campaign.objects.values_list("state", flat=True).get(pk=campaign.pk)
        if state == CampaignState.COMPLETED:
            break
        time.sleep(0.1)
    assert state == CampaignState.COMPLETED
