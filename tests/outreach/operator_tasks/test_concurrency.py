"""Two operators pressing "complete" at once: one wins, the other gets a 409, follow-ups exist once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from campaigns.errors import TransitionNotAllowedError
from outreach.models import OperatorTask, OperatorTaskState, OperatorTaskType
from outreach.services.operator_tasks.generation import generate_operator_tasks
from outreach.services.operator_tasks.lifecycle import complete_task
from tests.factories import StaffUserFactory

from .factories import OperatorTaskFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n, work):
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            result = work(i)
        except TransitionNotAllowedError:
            result = "refused"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_concurrent_completion_completes_once_with_two_follow_ups(campaign_in_state):
    campaign = campaign_in_state("active")
    task = OperatorTaskFactory(campaign=campaign)
    operators = [StaffUserFactory(), StaffUserFactory(), StaffUserFactory()]

    outcomes = _race(
        3, lambda i: complete_task(task=task.pk, proof_text=f"by {i}", actor=operators[i]) and "done"
    )

    assert sorted(outcomes) == ["done", "refused", "refused"]
    task.refresh_from_db()
    assert task.state == OperatorTaskState.DONE
    assert OperatorTask.objects.filter(parent=task, task_type=OperatorTaskType.ENGAGEMENT).count() == 2


def test_concurrent_generation_creates_each_task_once(campaign_with_approved_post):
    campaign = campaign_with_approved_post()
    outcomes = _race(3, lambda i: len(generate_operator_tasks(campaign=campaign.pk).created))
    assert sorted(outcomes) == [0, 0, 1]
    assert OperatorTask.objects.filter(campaign=campaign).count() == 1
