from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent
from outreach.models import MetricEntry, OperatorTask, OperatorTaskState, OperatorTaskType
from outreach.sop_library import get_sop
from tests.factories import CampaignFactory, StaffUserFactory

from .factories import OperatorTaskFactory

pytestmark = pytest.mark.django_db

MY_TASKS = "admin:outreach_operatortask_my_tasks"


def _at(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def admin_client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _act(task, step):
    return reverse("admin:outreach_operatortask_act", args=[task.pk, step])


def test_my_tasks_today_shows_the_sop_and_the_creative(
    admin_client_as, operator, campaign_in_state, frozen_now
):
    campaign = campaign_in_state("active", name="Spring push")
    task = OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 3, 2, 15, 0))
    OperatorTaskFactory(campaign=campaign, assignee=StaffUserFactory(), title="Colleague's task")

    page = admin_client_as(operator).get(reverse(MY_TASKS))

    assert page.status_code == 200
    html = page.content.decode()
    sop = get_sop("linkedin", "post")
    assert "Spring push" in html and task.title in html
    assert sop.where.replace("'", "&#x27;") in html
    assert '<ol class="sop-how">' in html and html.count("<li>") >= len(sop.how)
    assert "TIPS" in html and "COMMON MISTAKES" in html
    assert "Approved post text" in html and "Complete with proof" in html
    assert "Colleague&#x27;s task" not in html


def test_completing_from_the_page_needs_proof_then_schedules_follow_ups(
    admin_client_as, operator, campaign_in_state, frozen_now
):
    campaign = campaign_in_state("active")
    task = OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 3, 2, 15, 0))
    client = admin_client_as(operator)
    next_url = reverse(MY_TASKS)
    prefix = f"t{task.pk}"

    refused = client.post(_act(task, "complete"), {"next": next_url, f"{prefix}-proof_url": ""}, follow=True)
    assert "needs proof" in refused.content.decode()
    task.refresh_from_db()
    assert task.state == OperatorTaskState.PENDING

    done = client.post(
        _act(task, "complete"),
        {"next": next_url, f"{prefix}-proof_url": "https://www.linkedin.com/feed/update/urn:li:activity:1/"},
    )
    assert done.status_code == 302 and done["Location"] == next_url
    task.refresh_from_db()
    assert task.state == OperatorTaskState.DONE and task.completed_by == operator
    assert task.proof_url == "https://www.linkedin.com/feed/update/urn:li:activity:1/"
    assert task.follow_ups.filter(task_type=OperatorTaskType.ENGAGEMENT).count() == 2


def test_start_skip_and_metrics_from_the_page(admin_client_as, operator, campaign_in_state, frozen_now):
    campaign = campaign_in_state("active")
    first, second = OperatorTaskFactory(campaign=campaign), OperatorTaskFactory(campaign=campaign)
    client = admin_client_as(operator)

    client.post(_act(first, "start"), {})
    first.refresh_from_db()
    assert first.state == OperatorTaskState.IN_PROGRESS and first.assignee == operator

    client.post(_act(second, "skip"), {f"t{second.pk}-reason": "Duplicate of last week's post"})
    second.refresh_from_db()
    assert second.state == OperatorTaskState.SKIPPED and second.outcome_reason.startswith("Duplicate")

    client.post(
        _act(first, "metrics"),
        {f"t{first.pk}-impressions": "250", f"t{first.pk}-engagements": "7", f"t{first.pk}-clicks": "2"},
    )
    entry = MetricEntry.objects.get(task=first)
    assert (entry.impressions, entry.engagements, entry.clicks, entry.recorded_by) == (250, 7, 2, operator)

    work = client.get(reverse("admin:outreach_operatortask_work", args=[first.pk]))
    assert work.status_code == 200 and "Record metrics" in work.content.decode()


def test_generate_page_creates_tasks_for_the_campaign(admin_client_as, operator, campaign_with_approved_post):
    campaign = campaign_with_approved_post()
    client = admin_client_as(operator)
    url = reverse("admin:outreach_operatortask_generate")
    assert client.get(url, {"campaign": campaign.pk}).status_code == 200

    response = client.post(url, {"campaign": campaign.pk}, follow=True)

    assert "1 task(s) created" in response.content.decode()
    assert OperatorTask.objects.filter(campaign=campaign, task_type=OperatorTaskType.POST).count() == 1


def test_changelist_filters_overdue_tasks(admin_client_as, operator, frozen_now):
    campaign = CampaignFactory()
    late = OperatorTaskFactory(campaign=campaign, title="Late post", due_at=_at(2026, 3, 1, 9, 0))
    OperatorTaskFactory(campaign=campaign, title="Future post", due_at=_at(2026, 3, 3, 9, 0))
    client = admin_client_as(operator)
    changelist = reverse("admin:outreach_operatortask_changelist")

    page = client.get(changelist, {"overdue": "yes"}).content.decode()

    assert late.title in page and "Future post" not in page
    assert "My tasks today" in client.get(changelist).content.decode()
    change = client.get(reverse("admin:outreach_operatortask_change", args=[late.pk]))
    assert change.status_code == 200 and "SOP and actions" in change.content.decode()


def test_reassigning_in_the_change_form_goes_through_the_service(admin_client_as, operator, frozen_now):
    task = OperatorTaskFactory(campaign=CampaignFactory())
    colleague = StaffUserFactory()
    response = admin_client_as(operator).post(
        reverse("admin:outreach_operatortask_change", args=[task.pk]),
        {
            "assignee": colleague.pk,
            "metric_entries-TOTAL_FORMS": "0",
            "metric_entries-INITIAL_FORMS": "0",
            "metric_entries-MIN_NUM_FORMS": "0",
            "metric_entries-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == colleague
    assert AuditEvent.objects.filter(verb="task.assigned", target_id=str(task.pk), actor=operator).exists()


def test_my_tasks_page_queries_do_not_grow_with_the_number_of_tasks(
    admin_client_as, operator, campaign_in_state, frozen_now, django_assert_max_num_queries
):
    campaign = campaign_in_state("active")
    client = admin_client_as(operator)
    OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 3, 2, 15, 0))
    client.get(reverse(MY_TASKS))  # warm per-process caches (the system-pause banner) first
    with django_assert_max_num_queries(20) as few:
        client.get(reverse(MY_TASKS))
    OperatorTaskFactory.create_batch(8, campaign=campaign, due_at=_at(2026, 3, 2, 16, 0))
    OperatorTaskFactory.create_batch(4, campaign=CampaignFactory(), due_at=_at(2026, 3, 1, 16, 0))
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        page = client.get(reverse(MY_TASKS))
    assert page.content.decode().count('class="module operator-task"') == 13
    assert len(many.captured_queries) == len(few.captured_queries)
