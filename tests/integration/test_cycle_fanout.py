"""Issue 16 point 4: two real Celery worker processes run the cycles of two campaigns at the same time.

Beat's dispatcher task is sent to a real Redis broker; it enqueues one cycle task per due campaign on
the "cycles" queue, and two worker subprocesses (each one process, consuming ``celery,cycles`` like
the Procfile's worker) each take one. Every send takes 0.7 s (``slow_email.SlowRecordingBackend``),
so one worker would run the two cycles one after the other; the log of sends shows them overlap.

PostgreSQL only: the worker processes must open the test database, which on SQLite lives in the
test process's memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings

from outreach.models import Message, MessageState
from tests.conftest import FIXED_NOW
from tests.integration.workers import worker_database_url
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LEADS, SEND_SECONDS = 3, 0.7
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def broker_url():
    """Redis db 5, apart from the cache (0) and the other worker test (1); emptied first."""
    url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/5"
    redis.Redis.from_url(url).flushdb()
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def two_workers(transactional_db, broker_url, tmp_path):
    """Two worker subprocesses; yields (Celery app on the same broker, path of the send log)."""
    send_log = tmp_path / "sends.jsonl"
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_BACKEND": "tests.integration.slow_email.SlowRecordingBackend",
        "AICMO_TEST_SEND_LOG": str(send_log),
        "AICMO_TEST_SEND_SECONDS": str(SEND_SECONDS),
        "AICMO_TEST_TRAVEL_TO": FIXED_NOW.isoformat(),
        "AICMO_VAR_DIR": str(tmp_path / "var"),
    }
    logs = [tmp_path / f"{name}.log" for name in ("fanout-a", "fanout-b")]
    log_files = [log.open("wb") for log in logs]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.cycle_worker", log.stem],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
        for log, log_file in zip(logs, log_files, strict=True)
    ]
    app = Celery("aicmo-fanout-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=broker_url, broker_transport_options={}, task_always_eager=False)
    try:
        # Both consume before anything is sent (time.monotonic is real: time-machine leaves it alone).
        deadline = time.monotonic() + 30
        while not all(" ready." in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in logs]
            assert all(w.poll() is None for w in workers), [log.read_text()[-2000:] for log in logs]
            time.sleep(0.1)
        yield app, send_log
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for log_file in log_files:
            log_file.close()
        app.close()


def test_two_workers_run_the_cycles_of_two_campaigns_at_the_same_time(live_campaign, two_workers):  # noqa: F811
    first, _ = live_campaign(leads=LEADS)
    second, _ = live_campaign(leads=LEADS)
    app, send_log = two_workers

    app.send_task("outreach.tasks.dispatch_campaign_cycles")

    deadline = time.monotonic() + 40
    sends: list[dict] = []
    while len(sends) < 2 * LEADS and time.monotonic() < deadline:
        time.sleep(0.2)
        sends = [json.loads(line) for line in send_log.read_text().splitlines()] if send_log.exists() else []
    assert len(sends) == 2 * LEADS, sends

    spans = {}
    for campaign in (first.pk, second.pk):
        own = [s for s in sends if s["campaign"] == campaign]
        assert len(own) == LEADS and len({s["to"] for s in own}) == LEADS  # each lead once
        assert len({s["pid"] for s in own}) == 1  # one cycle, in one worker process
        spans[campaign] = (min(s["start"] for s in own), max(s["end"] for s in own), own[0]["pid"])
    (start_a, end_a, pid_a), (start_b, end_b, pid_b) = spans.values()
    assert pid_a != pid_b  # two processes ...
    assert max(start_a, start_b) < min(end_a, end_b)  # ... whose cycles overlapped in time
    # The last slices commit just after their provider calls return.
    while Message.objects.filter(state=MessageState.SENT).count() < 2 * LEADS and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Message.objects.filter(state=MessageState.SENT).count() == 2 * LEADS
    assert settings.CELERY_TASK_ROUTES["outreach.tasks.run_campaign_cycle"]["queue"] == "cycles"
