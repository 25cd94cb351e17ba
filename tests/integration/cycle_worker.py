"""A Celery worker process for integration tests (``python -m tests.integration.cycle_worker NAME``).

Like the Procfile's ``cycles`` worker (the threads pool, several campaign cycles at once in one
process sharing its send threads), also consuming the ``celery`` queue, so that one of these is a
whole worker machine and two of them are two. Its clock travels to ``AICMO_TEST_TRAVEL_TO`` and runs
on from there, so the test's campaigns are inside their send window whatever the real day is.
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import time_machine


def main(name: str) -> None:
    time_machine.travel(dt.datetime.fromisoformat(os.environ["AICMO_TEST_TRAVEL_TO"]), tick=True).start()
    from aicmo_site.celery import app

    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={os.environ.get('OUTREACH_CYCLES_PER_WORKER', '4')}",
            "--queues=celery,cycles",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
            f"--hostname={name}@%h",
        ]
    )


if __name__ == "__main__":
    main(sys.argv[1])
