"""Read queries for operator tasks: scoping, today's and overdue work, completion stats."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from campaigns.models import Campaign, User
from campaigns.selectors import campaigns_visible_to
from campaigns.timezones import zone_or_utc

from ..models.operator_tasks import (
    OPEN_TASK_STATES,
    MetricEntry,
    OperatorTask,
    OperatorTaskState,
    OperatorTaskType,
)

__all__ = [
    "CampaignTaskGroup",
    "campaign_task_stats",
    "local_day_bounds",
    "my_tasks_today",
    "operator_tasks_for_campaign",
    "operator_tasks_visible_to",
    "overdue_tasks",
    "todays_tasks",
]


def operator_tasks_visible_to(user: User) -> QuerySet[OperatorTask]:
    """Staff see every task; a client user only their client's campaigns' tasks."""
    return OperatorTask.objects.filter(campaign__in=campaigns_visible_to(user)).select_related(
        "campaign", "assignee", "completed_by", "calendar_item", "parent"
    )


def operator_tasks_for_campaign(campaign: Campaign | int) -> QuerySet[OperatorTask]:
    return OperatorTask.objects.filter(campaign=campaign).select_related("assignee", "completed_by")


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zone_or_utc(name)


def local_day_bounds(tz_name: str, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start of today and of tomorrow in that time zone (aware datetimes; DST days are 23 or 25 h)."""
    tz = _zone(tz_name)
    today = (now or timezone.now()).astimezone(tz).date()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def _due_today_q(timezones: Iterable[str], now: dt.datetime) -> Q:
    condition = Q(pk__in=[])
    for tz_name in set(timezones):
        start, end = local_day_bounds(tz_name, now)
        condition |= Q(campaign__timezone=tz_name, due_at__gte=start, due_at__lt=end)
    return condition


def todays_tasks(
    *, campaign: Campaign | None = None, queryset: QuerySet[OperatorTask] | None = None, now=None
) -> QuerySet[OperatorTask]:
    """Open tasks due today, "today" being the date in each task's campaign time zone."""
    now = now or timezone.now()
    qs = queryset if queryset is not None else OperatorTask.objects.all()
    qs = qs.filter(state__in=OPEN_TASK_STATES)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
        timezones = [campaign.timezone]
    else:
        timezones = qs.order_by().values_list("campaign__timezone", flat=True).distinct()
    return qs.filter(_due_today_q(list(timezones), now)).order_by("due_at", "id")


def overdue_tasks(
    *, campaign: Campaign | None = None, queryset: QuerySet[OperatorTask] | None = None, now=None
) -> QuerySet[OperatorTask]:
    """Tasks whose due time has passed and that are not done, failed or skipped."""
    now = now or timezone.now()
    qs = queryset if queryset is not None else OperatorTask.objects.all()
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    return qs.filter(state__in=OPEN_TASK_STATES, due_at__lt=now).order_by("due_at", "id")


@dataclass
class CampaignTaskGroup:
    campaign: Campaign
    tasks: list[OperatorTask] = field(default_factory=list)

    @property
    def overdue_count(self) -> int:
        return sum(1 for t in self.tasks if t.is_overdue)


def my_tasks_today(user: User, now=None) -> list[CampaignTaskGroup]:
    """Open tasks assigned to the user or to nobody, due today or overdue, grouped by campaign."""
    now = now or timezone.now()
    mine = operator_tasks_visible_to(user).filter(Q(assignee=user) | Q(assignee__isnull=True))
    today_ids = todays_tasks(queryset=mine, now=now).values("pk")
    overdue_ids = overdue_tasks(queryset=mine, now=now).values("pk")
    tasks = (
        mine.filter(Q(pk__in=today_ids) | Q(pk__in=overdue_ids))
        .select_related("creative", "parent")
        .order_by("campaign__name", "campaign_id", "due_at", "id")
    )
    groups: dict[int, CampaignTaskGroup] = {}
    for task in tasks:
        task.is_overdue = task.due_at < now
        groups.setdefault(task.campaign_id, CampaignTaskGroup(campaign=task.campaign)).tasks.append(task)
    return list(groups.values())


def campaign_task_stats(campaign: Campaign | int, now=None) -> dict:
    """Completion figures for reporting: escalations are internal and are not counted."""
    now = now or timezone.now()
    tasks = OperatorTask.objects.filter(campaign=campaign).exclude(task_type=OperatorTaskType.ESCALATION)
    counts = tasks.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(state=OperatorTaskState.DONE)),
        failed=Count("pk", filter=Q(state=OperatorTaskState.FAILED)),
        skipped=Count("pk", filter=Q(state=OperatorTaskState.SKIPPED)),
        open=Count("pk", filter=Q(state__in=OPEN_TASK_STATES)),
        overdue=Count("pk", filter=Q(state__in=OPEN_TASK_STATES, due_at__lt=now)),
    )
    metrics = MetricEntry.objects.filter(campaign=campaign).aggregate(
        impressions=Sum("impressions"), engagements=Sum("engagements"), clicks=Sum("clicks")
    )
    total = counts["total"]
    return {
        **counts,
        "completion_rate": round(counts["done"] / total, 4) if total else 0.0,
        "impressions": metrics["impressions"] or 0,
        "engagements": metrics["engagements"] or 0,
        "clicks": metrics["clicks"] or 0,
    }
