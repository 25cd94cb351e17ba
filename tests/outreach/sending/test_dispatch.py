"""Issue 16 point 4: beat's dispatcher enqueues one cycle task per due campaign, on the "cycles" queue.

Enqueueing is captured at the Celery boundary (``apply_async`` of the cycle task); each captured task
is then run the way a worker would, through the task function.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.services.transitions import kill_campaign, pause_campaign
from outreach import tasks
from outreach.models import CycleLease
from outreach.services.cycle import due_campaign_ids
from outreach.services.leases import acquire_lease

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued(monkeypatch):
    """The kwargs of every run_campaign_cycle task the dispatcher enqueues."""
    calls: list[dict] = []
    monkeypatch.setattr(
        tasks.run_campaign_cycle,
        "apply_async",
        lambda args=None, kwargs=None, **options: calls.append(kwargs),
    )
    return calls


def run_enqueued(calls: list[dict]) -> dict[int, dict]:
    results = {kw["campaign_id"]: tasks.run_campaign_cycle(**kw) for kw in calls}
    calls.clear()
    return results


def test_cycle_tasks_go_to_their_own_queue_and_beat_runs_the_dispatcher():
    assert settings.CELERY_TASK_ROUTES[tasks.run_campaign_cycle.name] == {"queue": "cycles"}
    assert settings.CELERY_BEAT_SCHEDULE["outreach-run-all"]["task"] == tasks.dispatch_campaign_cycles.name


def test_dispatcher_enqueues_one_task_per_due_campaign_and_none_for_paused_killed_or_leased(
    live_campaign, enqueued, operator
):
    due, _ = live_campaign(leads=2)
    paused, _ = live_campaign(leads=2)
    pause_campaign(campaign=paused, actor=operator, rationale="client asked")
    killed, _ = live_campaign(leads=2)
    kill_campaign(campaign=killed, actor=operator, rationale="stop")
    leased, _ = live_campaign(leads=2)
    assert acquire_lease(campaign_id=leased.pk) is not None  # its cycle is running on another worker

    assert tasks.dispatch_campaign_cycles() == {"enqueued": 1}
    assert [kw["campaign_id"] for kw in enqueued] == [due.pk]
    assert enqueued[0]["dry_run"] is False and enqueued[0]["reservation"]

    # While the task waits in the queue its lease is reserved: the next tick does not enqueue it again.
    assert tasks.dispatch_campaign_cycles() == {"enqueued": 0}
    first = list(enqueued)
    # The queued task takes its reserved lease and sends; its campaign then has nothing due.
    assert run_enqueued(enqueued)[due.pk]["sent"] == 2
    assert tasks.dispatch_campaign_cycles() == {"enqueued": 0}
    # A second copy of an already-run task (a redelivery) finds nothing to send twice.
    assert run_enqueued(first)[due.pk]["sent"] == 0


def test_a_copy_queued_by_an_earlier_tick_skips_once_a_later_tick_reserved_the_campaign(
    live_campaign, enqueued, frozen_now
):
    campaign, _ = live_campaign(leads=2)
    tasks.dispatch_campaign_cycles()
    stale = list(enqueued)
    enqueued.clear()
    # Workers were busy: the reservation lapsed and the next tick enqueued the campaign again.
    frozen_now.shift(dt.timedelta(seconds=settings.AICMO_CYCLE_LEASE_SECONDS + 1))
    tasks.dispatch_campaign_cycles()
    assert len(enqueued) == 1 and enqueued[0]["reservation"] != stale[0]["reservation"]
    assert run_enqueued(stale)[campaign.pk]["skipped_cycle"] == "another cycle of this campaign is running"
    assert run_enqueued(enqueued)[campaign.pk]["sent"] == 2


def test_a_campaign_with_nothing_due_is_dispatched_when_a_message_falls_due_or_after_the_idle_time(
    live_campaign, enqueued, frozen_now
):
    campaign, _ = live_campaign(leads=2, follow_up=True)  # step 2 three days after step 1
    tasks.dispatch_campaign_cycles()
    assert run_enqueued(enqueued)[campaign.pk]["sent"] == 2

    frozen_now.shift(dt.timedelta(seconds=settings.AICMO_CYCLE_IDLE_SECONDS - 60))
    assert due_campaign_ids() == []
    frozen_now.shift(dt.timedelta(seconds=120))  # no cycle for the idle time: swept once
    assert due_campaign_ids() == [campaign.pk]
    tasks.dispatch_campaign_cycles()
    assert run_enqueued(enqueued)[campaign.pk]["sent"] == 0

    frozen_now.move_to(timezone.now() + dt.timedelta(days=3))  # the follow-ups fall due
    tasks.dispatch_campaign_cycles()
    assert run_enqueued(enqueued)[campaign.pk]["sent"] == 2


def test_dispatching_many_campaigns_with_nothing_due_takes_two_queries(
    live_campaign, enqueued, django_assert_max_num_queries
):
    campaigns = [live_campaign(leads=1)[0] for _ in range(4)]
    tasks.dispatch_campaign_cycles()
    run_enqueued(enqueued)  # every campaign has had its cycle: nothing is due now
    assert CycleLease.objects.count() == len(campaigns)
    with django_assert_max_num_queries(2):  # the stale-claim sweep and one SELECT, whatever the number
        assert tasks.dispatch_campaign_cycles() == {"enqueued": 0}
