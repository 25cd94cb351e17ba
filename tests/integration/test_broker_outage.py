"""Issue 16 point 3: a Celery worker goes on after Redis stops and comes back, busy or idle.

Two real worker subprocesses, started with the Procfile's worker command (each on a queue of its
own), consume from a redis-server of the test's own (never the shared one): one runs a task, the
other has nothing to do. Redis is stopped for 20 s and started again (empty, as after a restart
without persistence). Both worker processes stay alive throughout, the running task goes on to its
end, and each worker then runs the heartbeat task sent to it, which reads the test database.

Before the fix (aicmo_site/celery.py, settings.py "Broker outages") the busy worker exited as soon as
Redis stopped, with "Unrecoverable error: AttributeError(\"'NoneType' object has no attribute 'hostname'\")".
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection

from tests.integration.test_redis_outage import OwnRedis, free_port

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary"),
]
ROOT = Path(__file__).resolve().parents[2]
OUTAGE_SECONDS = 20
HEARTBEAT = "campaigns.tasks.system_heartbeat"
BUSY = "tests.integration.broker_outage_tasks.keep_busy"


def procfile_worker_command() -> list[str]:
    """The Procfile's worker command, run with this interpreter: the test proves what is deployed."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("worker:"))
    words = shlex.split(line.removeprefix("worker:"))
    assert Path(words[0]).name == "celery", words
    return [sys.executable, "-m", "celery", *words[1:]]


def worker_database_url(tmp_path: Path) -> str:
    """The test database as the worker process can open it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        # The SQLite test database lives in this process's memory: the worker gets a copy in a file,
        # in WAL mode as `make run`'s is (its migrate switched it). A copy left in rollback-journal
        # mode was switched by the workers' first connections: two heartbeats opening it in the same
        # millisecond, one failed at once with "database is locked".
        copy = tmp_path / "worker.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(copy) as target:
            connection.connection.backup(target)
            assert target.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
        return f"sqlite:///{copy}"
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A worker subprocess writing its log to a file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = log.stem, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        return self.text()[-4000:]

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for(self, what: str, seconds: float, condition) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert self.alive(), (
                f"{self.name} exited ({self.process.returncode}) waiting for {what}:\n{self.tail()}"
            )
            assert time.monotonic() < deadline, f"{self.name}: no {what} in {seconds} s:\n{self.tail()}"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def broker(tmp_path):
    server = OwnRedis(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def start_worker(transactional_db, broker, tmp_path):
    """Starts worker subprocesses (the Procfile's command, consuming one queue of their own)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")
    }
    env.update(
        DATABASE_URL=worker_database_url(tmp_path),
        CELERY_BROKER_URL=f"redis://127.0.0.1:{broker.port}/0",
        AICMO_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    started: list[Worker] = []

    def start(queue: str) -> Worker:
        command = [
            *procfile_worker_command(),
            f"--queues={queue}",  # the last --queues wins over the Procfile's
            f"--hostname={queue}@%h",
            "--include=tests.integration.broker_outage_tasks",
        ]
        started.append(Worker(command, env, tmp_path / f"{queue}.log"))
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture
def producer(broker):
    app = Celery("aicmo-outage-test", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=f"redis://127.0.0.1:{broker.port}/0",
        broker_transport=None,
        broker_transport_options={},
        task_always_eager=False,
    )
    yield app
    app.close()


def heartbeats(worker: Worker) -> int:
    return worker.text().count("heartbeat ok")


def test_workers_outlive_redis_stopping_while_one_is_busy_and_one_is_idle(
    broker, start_worker, producer, tmp_path
):
    busy, idle = start_worker("outage-busy"), start_worker("outage-idle")
    for worker in (busy, idle):
        worker.wait_for("start-up", 60, lambda worker=worker: " ready." in worker.text())
    pids = busy.process.pid, idle.process.pid
    marker = tmp_path / "busy"
    # Busy: a running task (its message unacknowledged) and a process free, waiting on Redis.
    producer.send_task(BUSY, args=[OUTAGE_SECONDS / 2, str(marker)], queue="outage-busy")
    busy.wait_for("the task to start", 20, Path(f"{marker}.started").exists)

    broker.stop()
    for worker in (busy, idle):
        worker.wait_for(
            "the connection loss", 10, lambda worker=worker: "Connection to broker lost" in worker.text()
        )
    end = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < end:
        for worker in (busy, idle):
            assert worker.alive(), f"{worker.name} died while Redis was down:\n{worker.tail()}"
        time.sleep(0.5)
    broker.start()  # empty, as after a restart without persistence

    for queue in ("outage-busy", "outage-idle"):
        producer.send_task(HEARTBEAT, queue=queue)
    for worker in (busy, idle):
        # Celery retries the connection after 2, 4, … 30 s: a worker is back within 30 s of Redis.
        worker.wait_for("a heartbeat after the outage", 45, lambda worker=worker: heartbeats(worker) == 1)
    assert (busy.process.pid, idle.process.pid) == pids  # the same processes, never restarted
    assert Path(f"{marker}.done").exists()  # the running task went on to its end through the outage
    for worker in (busy, idle):
        assert "Unrecoverable error" not in worker.text()
