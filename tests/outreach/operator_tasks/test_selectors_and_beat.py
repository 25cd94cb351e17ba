from __future__ import annotations

import datetime as dt

import pytest

from campaigns.models import AuditEvent
from campaigns.services.transitions import pause_campaign
from outreach import tasks as outreach_tasks
from outreach.models import OperatorTask, OperatorTaskState, OperatorTaskType
from outreach.selectors.operator_tasks import my_tasks_today, overdue_tasks, todays_tasks
from tests.factories import CampaignFactory, StaffUserFactory

from .factories import OperatorTaskFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _at(*args):
    return dt.datetime(*args, tzinfo=UTC)


def test_today_and_overdue_follow_the_campaign_time_zone(frozen_now):
    # Now is Monday 2026-03-02 10:00 UTC = 02:00 in Los Angeles (UTC-8).
    la = CampaignFactory(timezone="America/Los_Angeles")
    yesterday_la = OperatorTaskFactory(campaign=la, due_at=_at(2026, 3, 2, 7, 0))  # Sun 23:00 local
    early_today_la = OperatorTaskFactory(campaign=la, due_at=_at(2026, 3, 2, 9, 0))  # Mon 01:00 local
    late_today_la = OperatorTaskFactory(campaign=la, due_at=_at(2026, 3, 3, 7, 0))  # Mon 23:00 local
    tomorrow_la = OperatorTaskFactory(campaign=la, due_at=_at(2026, 3, 3, 9, 0))  # Tue 01:00 local
    OperatorTaskFactory(campaign=la, due_at=_at(2026, 3, 2, 9, 30), state="done", proof_text="ok")
    OperatorTaskFactory(campaign=la, due_at=_at(2026, 3, 2, 9, 30), state="skipped")

    assert list(todays_tasks(campaign=la)) == [early_today_la, late_today_la]
    assert list(overdue_tasks(campaign=la)) == [yesterday_la, early_today_la]
    assert tomorrow_la not in todays_tasks()

    # The same instants for a UTC campaign fall on other days.
    utc = CampaignFactory(timezone="UTC")
    utc_today = OperatorTaskFactory(campaign=utc, due_at=_at(2026, 3, 2, 7, 0))
    OperatorTaskFactory(campaign=utc, due_at=_at(2026, 3, 3, 7, 0))
    assert set(todays_tasks()) == {early_today_la, late_today_la, utc_today}


def test_my_tasks_today_shows_mine_and_unassigned_grouped_by_campaign(frozen_now):
    me, colleague = StaffUserFactory(), StaffUserFactory()
    first, second = CampaignFactory(name="A campaign"), CampaignFactory(name="B campaign")
    mine = OperatorTaskFactory(campaign=first, assignee=me, due_at=_at(2026, 3, 2, 15, 0))
    unassigned_overdue = OperatorTaskFactory(campaign=second, due_at=_at(2026, 2, 20, 9, 0))
    OperatorTaskFactory(campaign=first, assignee=colleague, due_at=_at(2026, 3, 2, 15, 0))
    OperatorTaskFactory(campaign=first, assignee=me, due_at=_at(2026, 3, 5, 15, 0))  # later this week

    groups = my_tasks_today(me)

    assert [(g.campaign, g.tasks) for g in groups] == [(first, [mine]), (second, [unassigned_overdue])]
    assert groups[1].overdue_count == 1 and groups[0].overdue_count == 0


def test_daily_tick_marks_overdue_tasks_once(frozen_now):
    campaign = CampaignFactory()
    late = OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 3, 1, 9, 0))
    OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 3, 2, 16, 0))  # not yet due

    first = outreach_tasks.operator_daily_tick()
    second = outreach_tasks.operator_daily_tick()

    assert first == {"newly_overdue": 1, "overdue": 1, "campaigns_with_overdue": 1}
    assert second == {"newly_overdue": 0, "overdue": 1, "campaigns_with_overdue": 1}
    late.refresh_from_db()
    assert late.overdue_since == _at(2026, 3, 2, 10, 0)
    assert AuditEvent.objects.filter(verb="task.overdue", campaign=campaign).count() == 1


@pytest.fixture
def running_campaign(campaign_in_state):
    def make(**fields):
        owner = StaffUserFactory(email="owner@agency.example")
        return campaign_in_state("active", owner=owner, **fields)

    return make


def test_weekly_escalation_is_once_per_iso_week_and_emails_the_owner(
    running_campaign, frozen_now, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = running_campaign(name="Spring push")
    late = OperatorTaskFactory(campaign=campaign, title="Publish the launch post", due_at=_at(2026, 2, 27, 9))
    OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 3, 9, 9))  # not overdue

    with django_capture_on_commit_callbacks(execute=True):
        result = outreach_tasks.escalate_overdue_tasks()
    assert result["escalated"] == [campaign.pk] and result["emails_queued"] == 1
    escalation = OperatorTask.objects.get(task_type=OperatorTaskType.ESCALATION)
    assert escalation.assignee == campaign.owner and escalation.idempotency_key.endswith("2026-W10")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["owner@agency.example"] and "Spring push" in mail.subject
    assert f"#{late.pk} Publish the launch post" in mail.body

    # The same week again: nothing new, no second email.
    frozen_now.shift(dt.timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        again = outreach_tasks.escalate_overdue_tasks()
    assert again["escalated"] == [] and again["already_escalated"] == [campaign.pk]
    assert OperatorTask.objects.filter(task_type=OperatorTaskType.ESCALATION).count() == 1
    assert len(mailoutbox) == 1

    # Next ISO week, still overdue: a new escalation (the escalation task itself is not escalated).
    frozen_now.shift(dt.timedelta(days=5))
    with django_capture_on_commit_callbacks(execute=True):
        outreach_tasks.escalate_overdue_tasks()
    assert OperatorTask.objects.filter(task_type=OperatorTaskType.ESCALATION).count() == 2
    assert len(mailoutbox) == 2
    assert f"#{escalation.pk}" not in mailoutbox[1].body


def test_escalation_email_is_not_sent_when_the_transaction_rolls_back(
    running_campaign, frozen_now, mailoutbox
):
    campaign = running_campaign()
    OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 2, 27, 9))
    # Without running on-commit callbacks (the test transaction never commits) nothing is mailed.
    outreach_tasks.escalate_overdue_tasks()
    assert OperatorTask.objects.filter(task_type=OperatorTaskType.ESCALATION).count() == 1
    assert mailoutbox == []


def test_paused_campaigns_are_not_escalated(running_campaign, frozen_now, mailoutbox):
    campaign = running_campaign()
    OperatorTaskFactory(campaign=campaign, due_at=_at(2026, 2, 27, 9))
    pause_campaign(campaign=campaign, rationale="client holiday")
    assert outreach_tasks.escalate_overdue_tasks()["escalated"] == []
    assert not OperatorTask.objects.filter(task_type=OperatorTaskType.ESCALATION).exists()
    assert OperatorTask.objects.get().state == OperatorTaskState.PENDING
