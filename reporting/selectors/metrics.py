"""Campaign metrics, read set-based: a fixed number of queries per campaign and per page of
campaigns (grouped by campaign id), never one query per lead or per message.

`metrics_for_campaigns(campaigns)` is the one place the numbers are computed; a single campaign
(`campaign_metrics`) is a page of one. Rates are over *live* sends: dry-run messages were only
rendered and recorded, so they cannot be opened, clicked or replied to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.timezones import zone_or_utc
from leads.models import Lead, LeadState
from outreach.models import (
    OPEN_TASK_STATES,
    Message,
    MessageEvent,
    MessageEventKind,
    MessageState,
    MetricEntry,
    OperatorTask,
    OperatorTaskState,
    OperatorTaskType,
)

DEFAULT_WINDOW_DAYS = 7
WINDOWS = ("today", "last_days", "lifetime")
# Engagement events counted once per message (a message opened five times is one open).
ENGAGEMENT_KINDS = {
    "opened": Q(kind=MessageEventKind.OPENED),
    "clicked": Q(kind=MessageEventKind.CLICKED),
    "replied": Q(kind=MessageEventKind.REPLIED),
    "bounced": Q(kind=MessageEventKind.BOUNCED, hard=True),
    "complained": Q(kind=MessageEventKind.COMPLAINED),
    "unsubscribed": Q(kind=MessageEventKind.UNSUBSCRIBED),
}


def rate(part: int, whole: int) -> float:
    """``part / whole`` to four places; 0.0 when there is no whole (every rate of the reports)."""
    return round(part / whole, 4) if whole else 0.0


@dataclass
class OutreachTotals:
    """Messages of one window. `sent` counts live and dry-run sends; rates use `live_sent`."""

    sent: int = 0
    live_sent: int = 0
    dry_run_recorded: int = 0
    failed: int = 0
    dead: int = 0
    skipped_or_cancelled: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0
    bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0

    @property
    def open_rate(self) -> float:
        return rate(self.opened, self.live_sent)

    @property
    def click_rate(self) -> float:
        return rate(self.clicked, self.live_sent)

    @property
    def reply_rate(self) -> float:
        return rate(self.replied, self.live_sent)

    @property
    def bounce_rate(self) -> float:
        return rate(self.bounced, self.live_sent)

    @property
    def complaint_rate(self) -> float:
        return rate(self.complained, self.live_sent)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
            "reply_rate": self.reply_rate,
            "bounce_rate": self.bounce_rate,
            "complaint_rate": self.complaint_rate,
        }


@dataclass
class TaskTotals:
    """Operator tasks (escalations are internal and not counted) and their recorded metrics."""

    total: int = 0
    done: int = 0
    failed: int = 0
    skipped: int = 0
    open: int = 0
    overdue: int = 0
    impressions: int = 0
    engagements: int = 0
    clicks: int = 0

    @property
    def completion_rate(self) -> float:
        return rate(self.done, self.total)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "completion_rate": self.completion_rate}


@dataclass
class CampaignMetrics:
    campaign_id: int
    target_clients: int
    window_days: int
    by_state: dict[str, int]
    today: OutreachTotals = field(default_factory=OutreachTotals)
    last_days: OutreachTotals = field(default_factory=OutreachTotals)
    lifetime: OutreachTotals = field(default_factory=OutreachTotals)
    tasks: TaskTotals = field(default_factory=TaskTotals)

    @property
    def leads_total(self) -> int:
        return sum(self.by_state.values())

    @property
    def qualified(self) -> int:
        """Qualified leads, counting the ones already won (a won deal was qualified first)."""
        return self.by_state.get(LeadState.QUALIFIED, 0) + self.by_state.get(LeadState.WON, 0)

    @property
    def won(self) -> int:
        return self.by_state.get(LeadState.WON, 0)

    @property
    def conversion_rate(self) -> float:
        return rate(self.qualified, self.leads_total)

    @property
    def goal_progress(self) -> float:
        return rate(self.qualified, self.target_clients)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "leads_total": self.leads_total,
            "by_state": dict(self.by_state),
            "qualified": self.qualified,
            "won": self.won,
            "conversion_rate": self.conversion_rate,
            "target_clients": self.target_clients,
            "goal_progress": self.goal_progress,
            "window_days": self.window_days,
            "today_outreach": self.today.as_dict(),
            "last_days_outreach": self.last_days.as_dict(),
            "lifetime_outreach": self.lifetime.as_dict(),
            "tasks": self.tasks.as_dict(),
        }


def start_of_local_day(tz_name: str, now: dt.datetime) -> dt.datetime:
    local = now.astimezone(zone_or_utc(tz_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _window_filters(campaigns: list[Campaign], now: dt.datetime, days: int, time_field: str) -> dict[str, Q]:
    """Q per window on `time_field`. "today" is each campaign's own local day, expressed as one
    OR over the page's time zones (so a page stays one query whatever its time zones)."""
    by_tz: dict[str, list[int]] = defaultdict(list)
    for campaign in campaigns:
        by_tz[campaign.timezone or "UTC"].append(campaign.pk)
    today = Q(pk__in=[])
    for tz_name, ids in by_tz.items():
        today |= Q(campaign_id__in=ids, **{f"{time_field}__gte": start_of_local_day(tz_name, now)})
    return {
        "today": today,
        "last_days": Q(**{f"{time_field}__gte": now - dt.timedelta(days=days)}),
        "lifetime": Q(),
    }


def _message_totals(ids: list[int], campaigns: list[Campaign], now: dt.datetime, days: int):
    """One query: message counts per campaign and window. Sends are placed by `sent_at`, the
    other outcomes (failed, dead, cancelled) by when they last changed."""
    sent_windows = _window_filters(campaigns, now, days, "sent_at")
    changed_windows = _window_filters(campaigns, now, days, "updated_at")
    sent = Q(state=MessageState.SENT)
    aggregates = {}
    for window in WINDOWS:
        at, changed = sent_windows[window], changed_windows[window]
        aggregates[f"{window}__sent"] = Count("pk", filter=sent & at)
        aggregates[f"{window}__live_sent"] = Count("pk", filter=sent & Q(dry_run=False) & at)
        aggregates[f"{window}__dry_run_recorded"] = Count("pk", filter=sent & Q(dry_run=True) & at)
        aggregates[f"{window}__failed"] = Count(
            "pk", filter=Q(state__in=[MessageState.FAILED, MessageState.RETRY_SCHEDULED]) & changed
        )
        aggregates[f"{window}__dead"] = Count("pk", filter=Q(state=MessageState.DEAD) & changed)
        aggregates[f"{window}__skipped_or_cancelled"] = Count(
            "pk", filter=Q(state=MessageState.CANCELLED) & changed
        )
    return Message.objects.filter(campaign_id__in=ids).values("campaign_id").annotate(**aggregates)


def _event_totals(ids: list[int], campaigns: list[Campaign], now: dt.datetime, days: int):
    """One query: distinct live-sent messages with each engagement, for messages sent in the
    window (a cohort, so a rate never exceeds 100 %)."""
    windows = _window_filters(campaigns, now, days, "message__sent_at")
    aggregates = {}
    for window in WINDOWS:
        for name, kind in ENGAGEMENT_KINDS.items():
            aggregates[f"{window}__{name}"] = Count(
                "message_id", filter=kind & windows[window], distinct=True
            )
    return (
        MessageEvent.objects.filter(
            campaign_id__in=ids, message__dry_run=False, message__state=MessageState.SENT
        )
        .values("campaign_id")
        .annotate(**aggregates)
    )


def metrics_for_campaigns(
    campaigns: Iterable[Campaign] | QuerySet[Campaign],
    *,
    now: dt.datetime | None = None,
    days: int = DEFAULT_WINDOW_DAYS,
) -> dict[int, CampaignMetrics]:
    """Metrics for a page of campaigns in six queries (the page itself, leads, messages, events,
    tasks, task metrics), whatever the number of campaigns, leads or messages."""
    now = now or timezone.now()
    page = list(campaigns)
    ids = [c.pk for c in page]
    result = {
        c.pk: CampaignMetrics(
            campaign_id=c.pk,
            target_clients=c.target_clients or 0,
            window_days=days,
            by_state={state: 0 for state in LeadState.values},
        )
        for c in page
    }
    if not ids:
        return result
    lead_rows = (
        Lead.objects.filter(campaign_id__in=ids)
        .order_by()
        .values_list("campaign_id", "state")
        .annotate(n=Count("pk"))
    )
    for campaign_id, state, n in lead_rows:
        result[campaign_id].by_state[state] = n
    for row in _message_totals(ids, page, now, days).order_by():
        metrics = result[row["campaign_id"]]
        for key, value in row.items():
            if "__" in key:
                window, name = key.split("__", 1)
                setattr(getattr(metrics, window), name, value)
    for row in _event_totals(ids, page, now, days).order_by():
        metrics = result[row["campaign_id"]]
        for key, value in row.items():
            if "__" in key:
                window, name = key.split("__", 1)
                setattr(getattr(metrics, window), name, value)
    task_rows = (
        OperatorTask.objects.filter(campaign_id__in=ids)
        .exclude(task_type=OperatorTaskType.ESCALATION)
        .order_by()
        .values("campaign_id")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(state=OperatorTaskState.DONE)),
            failed=Count("pk", filter=Q(state=OperatorTaskState.FAILED)),
            skipped=Count("pk", filter=Q(state=OperatorTaskState.SKIPPED)),
            open=Count("pk", filter=Q(state__in=OPEN_TASK_STATES)),
            overdue=Count("pk", filter=Q(state__in=OPEN_TASK_STATES, due_at__lt=now)),
        )
    )
    for row in task_rows:
        tasks = result[row.pop("campaign_id")].tasks
        for key, value in row.items():
            setattr(tasks, key, value)
    metric_rows = (
        MetricEntry.objects.filter(campaign_id__in=ids)
        .order_by()
        .values("campaign_id")
        .annotate(impressions=Sum("impressions"), engagements=Sum("engagements"), clicks=Sum("clicks"))
    )
    for row in metric_rows:
        tasks = result[row.pop("campaign_id")].tasks
        for key, value in row.items():
            setattr(tasks, key, value or 0)
    return result


def campaign_metrics(
    campaign: Campaign, *, now: dt.datetime | None = None, days: int = DEFAULT_WINDOW_DAYS
) -> CampaignMetrics:
    """Metrics of one campaign in five queries."""
    return metrics_for_campaigns([campaign], now=now, days=days)[campaign.pk]


# --- the campaign list API's live numbers (four fields per campaign) --------------------------


def list_metrics_for_campaigns(campaigns: Iterable[Campaign]) -> dict[int, dict[str, Any]]:
    """`current_leads`, `qualified_leads`, `conversion_rate`, `goal_progress` for a page of
    campaigns already loaded, in one grouped query (the campaign list API's live metrics)."""
    page = list(campaigns)
    counts: dict[int, list[int]] = {c.pk: [0, 0] for c in page}
    if counts:
        rows = (
            Lead.objects.filter(campaign_id__in=list(counts))
            .order_by()
            .values("campaign_id")
            .annotate(
                total=Count("pk"),
                qualified=Count("pk", filter=Q(state__in=[LeadState.QUALIFIED, LeadState.WON])),
            )
        )
        for row in rows:
            counts[row["campaign_id"]] = [row["total"], row["qualified"]]
    return {
        c.pk: {
            "current_leads": counts[c.pk][0],
            "qualified_leads": counts[c.pk][1],
            "conversion_rate": rate(counts[c.pk][1], counts[c.pk][0]),
            "goal_progress": rate(counts[c.pk][1], c.target_clients or 0),
        }
        for c in page
    }
