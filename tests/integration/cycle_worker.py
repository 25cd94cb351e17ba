"""A Celery worker process for integration tests (``python -m tests.integration.cycle_worker NAME``).

Like the Procfile's worker (queues ``celery`` and ``cycles``), with one process (solo pool) so that
two of them are two workers on two machines. Its clock travels to ``AICMO_TEST_TRAVEL_TO`` and runs
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
            "--pool=solo",
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
