"""Worker subprocesses for the integration tests that kill, cut off or restart what a worker
depends on: ``tests.integration.cycle_worker`` processes (the Procfile's queues, one process, its
clock at ``clock`` and running) with the journalling ESP backend (``journal_email``)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery import Celery
from django.db import connection

from tests.conftest import FIXED_NOW

ROOT = Path(__file__).resolve().parents[2]
SEND_SECONDS, COST = 0.1, Decimal("0.01")
IN_FLIGHT = 4  # the worker's OUTREACH_SEND_CONCURRENCY: a slice of these slow calls is four at once


def worker_database_url() -> str:
    """The test database, as a URL a worker subprocess's DATABASE_URL can name."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def accepted(journal: Path) -> list[int]:
    """The ids of the messages the journalling ESP accepted, one per call."""
    return [int(line) for line in journal.read_text().split()] if journal.exists() else []


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


@pytest.fixture
def killable_worker(transactional_db, tmp_path, settings):
    """Starts worker subprocesses on Redis db 6 with the journalling ESP backend. Yields (start,
    Celery app on that broker, journal path); every worker is stopped afterwards."""
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
