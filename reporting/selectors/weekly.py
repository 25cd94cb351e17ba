"""The numbers a weekly summary stores, for one week in the campaign's time zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from campaigns.models import AuditEvent, Campaign, SpendEntry
from campaigns.timezones import zone_or_utc
from outreach.models import (
    Message,
    MessageEvent,
    MessageEventKind,
    MessageState,
    MetricEntry,
    OperatorTask,
    OperatorTaskState,
    OperatorTaskType,
)

from .metrics import rate


def campaign_tz(campaign: Campaign):
    return zone_or_utc(campaign.timezone)


def week_numbers(campaign: Campaign, monday: dt.date) -> dict[str, Any]:
    """What a weekly summary stores, for Monday 00:00 to the next Monday in the campaign's time
    zone. New qualified leads are counted from the `lead.qualify` audit events of the week."""
    tz = campaign_tz(campaign)
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=7)
    tasks = (
        OperatorTask.objects.filter(campaign=campaign, due_at__gte=start, due_at__lt=end)
        .exclude(task_type=OperatorTaskType.ESCALATION)
        .aggregate(total=Count("pk"), done=Count("pk", filter=Q(state=OperatorTaskState.DONE)))
    )
    engagement = MetricEntry.objects.filter(
        campaign=campaign, recorded_at__gte=start, recorded_at__lt=end
    ).aggregate(impressions=Sum("impressions"), engagements=Sum("engagements"), clicks=Sum("clicks"))
    sends = Message.objects.filter(
        campaign=campaign, state=MessageState.SENT, sent_at__gte=start, sent_at__lt=end
    ).aggregate(live=Count("pk", filter=Q(dry_run=False)), dry=Count("pk", filter=Q(dry_run=True)))
    replies = (
        MessageEvent.objects.filter(
            campaign=campaign, kind=MessageEventKind.REPLIED, occurred_at__gte=start, occurred_at__lt=end
        )
        .values("message_id")
        .distinct()
        .count()
    )
    qualified = AuditEvent.objects.filter(
        campaign=campaign, verb="lead.qualify", created_at__gte=start, created_at__lt=end
    ).count()
    spend = SpendEntry.objects.filter(campaign=campaign, created_at__gte=start, created_at__lt=end).aggregate(
        total=Sum("amount")
    )["total"] or Decimal(0)
    return {
        "tasks_total": tasks["total"],
        "tasks_done": tasks["done"],
        "completion_rate": rate(tasks["done"], tasks["total"]),
        "impressions": engagement["impressions"] or 0,
        "engagements": engagement["engagements"] or 0,
        "clicks": engagement["clicks"] or 0,
        "sent": sends["live"],
        "dry_run_recorded": sends["dry"],
        "replies": replies,
        "new_qualified_leads": qualified,
        "spend": spend,
        "currency": campaign.currency or "",
    }
