"""Sends and replies per local day of a campaign, and how many days running sends reached the cap."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.timezones import zone_or_utc
from outreach.models import Message, MessageEvent, MessageEventKind, MessageState

TREND_DAYS = 30


@dataclass(frozen=True)
class TrendDay:
    day: dt.date
    sent: int
    replied: int


def daily_trend(
    campaign: Campaign, *, now: dt.datetime | None = None, days: int = TREND_DAYS
) -> list[TrendDay]:
    """Sends and replies per local day for the last `days` days (today included), two queries."""
    now = now or timezone.now()
    tz = zone_or_utc(campaign.timezone)
    first_day = now.astimezone(tz).date() - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first_day, dt.time.min, tzinfo=tz)
    sends = dict(
        Message.objects.filter(campaign=campaign, state=MessageState.SENT, sent_at__gte=since)
        .annotate(day=TruncDate("sent_at", tzinfo=tz))
        .order_by()
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    replies = dict(
        MessageEvent.objects.filter(campaign=campaign, kind=MessageEventKind.REPLIED, occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .order_by()
        .values_list("day")
        .annotate(n=Count("message_id", distinct=True))
    )
    out = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        out.append(TrendDay(day, sends.get(day, 0), replies.get(day, 0)))
    return out


def cap_reached_days_running(campaign: Campaign, trend: list[TrendDay]) -> int:
    """Consecutive local days, ending with the latest full day, on which sends reached the cap."""
    cap = campaign.daily_email_cap or 0
    if not cap:
        return 0
    running = 0
    for day in reversed(trend[:-1]):  # today is not over yet
        if day.sent >= cap:
            running += 1
        else:
            break
    return running
