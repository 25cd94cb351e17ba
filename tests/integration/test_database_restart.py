"""Issue 16: PostgreSQL restarted (``pg_ctl restart -m fast``) under a worker in the middle of a
send. The worker goes on, what its calls returned is recorded once the database is back, and in
the end every due message is sent exactly once, nobody is left waiting and spend equals sends.

The server restarted is the test database's own (``make test`` exports where it lives:
TEST_PG_DATA, TEST_PG_CTL, TEST_PG_RUN_AS), so the suite runs nothing else meanwhile.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum

from campaigns.models import SpendEntry, SpendKind
from leads.models import Lead, LeadState
from outreach.models import CycleLease, Enrollment, EnrollmentState, Message, MessageState
from tests.conftest import FIXED_NOW
from tests.integration.workers import COST, IN_FLIGHT, accepted, wait_for
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
LEADS = 40


def restartable_server() -> list[str]:
    """The command that restarts the test database's server, when this run says where it is."""
    data = os.environ.get("TEST_PG_DATA", "")
    if not data or not Path(data, "postmaster.pid").exists():
        if os.environ.get("AICMO_REQUIRE_PG_RESTART"):
            pytest.fail("TEST_PG_DATA does not name the running test server (scripts/test-services.sh)")
        pytest.skip("needs the test PostgreSQL's data directory (TEST_PG_DATA, set by make test)")
    port = Path(data, "postmaster.pid").read_text().splitlines()[3]
    if str(connection.settings_dict["PORT"]) != port:
        pytest.skip(f"the test database is not on the server in TEST_PG_DATA (port {port})")
    run_as = os.environ.get("TEST_PG_RUN_AS", "")
    prefix = ["runuser", "-u", run_as, "--"] if run_as else []
    log = str(Path(data).parent / "server.log")  # or the new server would write to our stdout
    return [
        *prefix,
        os.environ["TEST_PG_CTL"],
        "-D",
        data,
        "-l",
        log,
        "-w",
        "-t",
        "60",
        "-m",
        "fast",
        "restart",
    ]


def test_a_database_restart_mid_send_loses_no_answer_and_the_worker_sends_the_rest(
    live_campaign,  # noqa: F811
    killable_worker,
):
    restart = restartable_server()
    start, app, journal = killable_worker
    campaign, _ = live_campaign(leads=LEADS, cap=100)
    worker = start("survivor")

    # The cycle sends (0.1 s per call, four at once); the server restarts under it while the ESP
    # has its third slice.
    app.send_task("outreach.tasks.run_campaign_cycle", args=[campaign.pk], kwargs={"dry_run": False})
    wait_for(lambda: len(accepted(journal)) >= 2 * IN_FLIGHT, seconds=30, what="two slices accepted")
    connection.close()
    subprocess.run(restart, check=True, stdout=subprocess.DEVNULL, timeout=90)
    during_the_restart = len(accepted(journal))

    # The same cycle, in the same worker, writes what the ESP answered meanwhile and sends the rest.
    wait_for(
        lambda: Message.objects.filter(state=MessageState.SENT).count() == LEADS,
        seconds=60,
        what="the cycle to send every message",
    )
    # Given back (a held lease runs AICMO_CYCLE_LEASE_SECONDS = 120 s past the worker's clock, which
    # started at FIXED_NOW a few seconds ago), not left to expire.
    wait_for(
        lambda: CycleLease.objects.get(campaign=campaign).expires_at < FIXED_NOW + dt.timedelta(seconds=60),
        seconds=30,
        what="the cycle to give its lease back",
    )
    assert worker.poll() is None
    log = (journal.parent / "survivor.log").read_text()
    assert "lost the database connection" in log and "the database is back" in log
    assert during_the_restart < LEADS  # the restart did fall mid-cycle

    calls = accepted(journal)
    assert sorted(calls) == sorted(Message.objects.values_list("pk", flat=True))  # each exactly once
    assert not Message.objects.exclude(send_resolution="").exists()  # nothing left for the sweep
    assert not Enrollment.objects.exclude(state=EnrollmentState.COMPLETED).exists()  # nobody frozen
    assert not Lead.objects.filter(campaign=campaign).exclude(state=LeadState.CONTACTED).exists()
    spent = SpendEntry.objects.filter(campaign=campaign, kind=SpendKind.ESP).aggregate(total=Sum("amount"))
    assert spent["total"] == COST * len(calls)  # booked once each, by the cycle itself
