from __future__ import annotations

import datetime as dt

import pytest

from outreach.models import MetricEntry, OperatorTask, OperatorTaskState, OperatorTaskType

from .factories import OperatorTaskFactory

pytestmark = pytest.mark.django_db


def _at(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def client_campaign(campaign_in_state, client_user):
    return campaign_in_state("active", client=client_user.client, timezone="Europe/Berlin")


def test_client_user_reads_own_campaign_tasks_with_due_filters(
    api_as, client_user, client_campaign, frozen_now
):
    overdue = OperatorTaskFactory(campaign=client_campaign, due_at=_at(2026, 3, 1, 9, 0))
    today = OperatorTaskFactory(campaign=client_campaign, due_at=_at(2026, 3, 2, 22, 30))  # 23:30 Berlin
    tomorrow = OperatorTaskFactory(campaign=client_campaign, due_at=_at(2026, 3, 2, 23, 30))  # 00:30 Berlin
    api = api_as(client_user)
    url = f"/api/v1/campaigns/{client_campaign.pk}/tasks/"

    everything = api.get(url)
    assert everything.status_code == 200
    assert [t["id"] for t in everything.json()["results"]] == [overdue.pk, today.pk, tomorrow.pk]
    assert [t["id"] for t in api.get(url, {"due": "today"}).json()["results"]] == [today.pk]
    assert [t["id"] for t in api.get(url, {"due": "overdue"}).json()["results"]] == [overdue.pk]
    assert api.get(url, {"state": "done"}).json()["results"] == []
    assert api.get(url, {"due": "someday"}).status_code == 400

    detail = api.get(f"/api/v1/tasks/{today.pk}/").json()
    assert detail["instructions"]["where"] and detail["instructions"]["how"]
    assert detail["creative_snapshot"]["body"] == "Approved post text"


def test_another_clients_tasks_are_404(api_as, other_client_user, client_campaign, operator):
    task = OperatorTaskFactory(campaign=client_campaign)
    api = api_as(other_client_user)
    assert api.get(f"/api/v1/campaigns/{client_campaign.pk}/tasks/").status_code == 404
    assert api.get(f"/api/v1/tasks/{task.pk}/").status_code == 404
    assert api.post(f"/api/v1/tasks/{task.pk}/complete/", {"proof_text": "x"}).status_code == 404


def test_client_users_cannot_write(api_as, client_user, client_campaign):
    task = OperatorTaskFactory(campaign=client_campaign)
    api = api_as(client_user)
    assert api.post(f"/api/v1/tasks/{task.pk}/start/").status_code == 403
    assert api.post(f"/api/v1/tasks/{task.pk}/metrics/", {"impressions": 5}).status_code == 403
    task.refresh_from_db()
    assert task.state == OperatorTaskState.PENDING and not MetricEntry.objects.exists()


def test_staff_work_a_task_through_the_api(api_as, operator, client_campaign, frozen_now):
    task = OperatorTaskFactory(campaign=client_campaign)
    api = api_as(operator)

    started = api.post(f"/api/v1/tasks/{task.pk}/start/")
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    assert api.post(f"/api/v1/tasks/{task.pk}/start/").status_code == 409

    no_proof = api.post(f"/api/v1/tasks/{task.pk}/complete/", {})
    assert no_proof.status_code == 400 and "proof" in no_proof.json()["detail"]
    bad_url = api.post(f"/api/v1/tasks/{task.pk}/complete/", {"proof_url": "not a url"})
    assert bad_url.status_code == 400 and bad_url.json()["field"] == "proof_url"

    done = api.post(
        f"/api/v1/tasks/{task.pk}/complete/", {"proof_url": "https://www.linkedin.com/feed/update/1"}
    )
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert OperatorTask.objects.filter(parent=task, task_type=OperatorTaskType.ENGAGEMENT).count() == 2
    assert api.post(f"/api/v1/tasks/{task.pk}/skip/", {"reason": "late"}).status_code == 409

    metrics = api.post(
        f"/api/v1/tasks/{task.pk}/metrics/", {"impressions": 300, "engagements": 12, "clicks": 4}
    )
    assert metrics.status_code == 201 and metrics.json()["impressions"] == 300
    assert api.post(f"/api/v1/tasks/{task.pk}/metrics/", {"clicks": -1}).status_code == 400
    assert len(api.get(f"/api/v1/tasks/{task.pk}/").json()["metric_entries"]) == 1


def test_fail_needs_a_reason(api_as, operator, client_campaign):
    task = OperatorTaskFactory(campaign=client_campaign)
    api = api_as(operator)
    missing = api.post(f"/api/v1/tasks/{task.pk}/fail/", {"reason": ""})
    assert missing.status_code == 400
    failed = api.post(f"/api/v1/tasks/{task.pk}/fail/", {"reason": "Page access revoked"})
    assert failed.status_code == 200 and failed.json()["outcome_reason"] == "Page access revoked"
