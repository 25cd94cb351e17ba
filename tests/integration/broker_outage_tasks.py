"""A task that keeps a worker busy, for the broker outage test (loaded with ``--include``).

It marks when it starts and when it ends in files next to each other, so the test knows the worker
holds a running task (an unacknowledged message: tasks are ``acks_late``) when it stops Redis, and
that the task ran to its end although the connection dropped under it.
"""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.integration.broker_outage_tasks.keep_busy")
def keep_busy(seconds: float, marker: str) -> None:
    Path(f"{marker}.started").touch()
    time.sleep(seconds)
    Path(f"{marker}.done").touch()
