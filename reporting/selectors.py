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
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from campaigns.models import AuditEvent, Campaign, SpendEntry
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
    StepVariant,
)
from reporting.ab_stats import ComparisonResult, VariantCounts, compare_variants
from reporting.models import Outcome

DEFAULT_WINDOW_DAYS = 7
TREND_DAYS = 30
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


def _rate(part: int, whole: int) -> float:
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
        return _rate(self.opened, self.live_sent)

    @property
    def click_rate(self) -> float:
        return _rate(self.clicked, self.live_sent)

    @property
    def reply_rate(self) -> float:
        return _rate(self.replied, self.live_sent)

    @property
    def bounce_rate(self) -> float:
        return _rate(self.bounced, self.live_sent)

    @property
    def complaint_rate(self) -> float:
        return _rate(self.complained, self.live_sent)

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
        return _rate(self.done, self.total)

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
        return _rate(self.qualified, self.leads_total)

    @property
    def goal_progress(self) -> float:
        return _rate(self.qualified, self.target_clients)

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


def campaign_spend(campaign: Campaign) -> Decimal:
    return SpendEntry.objects.filter(campaign=campaign).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def step_variants_of(campaign: Campaign) -> QuerySet[StepVariant]:
    return (
        StepVariant.objects.filter(step__sequence__campaign=campaign)
        .select_related("step", "step__sequence", "creative")
        .order_by("step__sequence_id", "step__position", "label")
    )


# --- A/B results ------------------------------------------------------------------------------


@dataclass
class VariantResult:
    step_variant_id: int
    label: str
    creative_id: int
    creative: str
    sent: int = 0
    opened: int = 0
    clicked: int = 0
    replied: int = 0

    @property
    def open_rate(self) -> float:
        return _rate(self.opened, self.sent)

    @property
    def click_rate(self) -> float:
        return _rate(self.clicked, self.sent)

    @property
    def reply_rate(self) -> float:
        return _rate(self.replied, self.sent)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
            "reply_rate": self.reply_rate,
        }


@dataclass
class StepABResult:
    sequence_id: int
    sequence: str
    step_id: int
    position: int
    variants: list[VariantResult]
    reply: ComparisonResult
    open: ComparisonResult

    def as_dict(self) -> dict[str, Any]:
        return {
            "sequence_id": self.sequence_id,
            "sequence": self.sequence,
            "step_id": self.step_id,
            "position": self.position,
            "variants": [v.as_dict() for v in self.variants],
            "reply_rate_test": asdict(self.reply),
            "open_rate_test": asdict(self.open),
        }


def ab_results(campaign: Campaign, *, alpha: float = 0.05) -> list[StepABResult]:
    """Per sequence step: each variant's live sends, opens, clicks and replies, and a pooled
    two-proportion test on reply rate and on open rate (a winner only when significant). Three
    queries whatever the number of messages."""
    variants = list(step_variants_of(campaign))
    if not variants:
        return []
    sends = dict(
        Message.objects.filter(campaign=campaign, state=MessageState.SENT, dry_run=False)
        .order_by()
        .values_list("step_variant_id")
        .annotate(n=Count("pk"))
    )
    events = {
        row["message__step_variant_id"]: row
        for row in MessageEvent.objects.filter(
            campaign=campaign, message__state=MessageState.SENT, message__dry_run=False
        )
        .order_by()
        .values("message__step_variant_id")
        .annotate(
            opened=Count("message_id", filter=ENGAGEMENT_KINDS["opened"], distinct=True),
            clicked=Count("message_id", filter=ENGAGEMENT_KINDS["clicked"], distinct=True),
            replied=Count("message_id", filter=ENGAGEMENT_KINDS["replied"], distinct=True),
        )
    }
    by_step: dict[int, list[VariantResult]] = defaultdict(list)
    steps = {}
    for variant in variants:
        counts = events.get(variant.pk, {})
        by_step[variant.step_id].append(
            VariantResult(
                step_variant_id=variant.pk,
                label=variant.label,
                creative_id=variant.creative_id,
                creative=str(variant.creative)[:120],
                sent=sends.get(variant.pk, 0),
                opened=counts.get("opened", 0),
                clicked=counts.get("clicked", 0),
                replied=counts.get("replied", 0),
            )
        )
        steps[variant.step_id] = variant.step
    results = []
    for step_id, step_variants in by_step.items():
        step = steps[step_id]
        results.append(
            StepABResult(
                sequence_id=step.sequence_id,
                sequence=step.sequence.name,
                step_id=step_id,
                position=step.position,
                variants=step_variants,
                reply=compare_variants(
                    [VariantCounts(v.label, v.sent, v.replied) for v in step_variants],
                    alpha=alpha,
                    metric="reply rate",
                ),
                open=compare_variants(
                    [VariantCounts(v.label, v.sent, v.opened) for v in step_variants],
                    alpha=alpha,
                    metric="open rate",
                ),
            )
        )
    return results


# --- weekly numbers, ROI ----------------------------------------------------------------------


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
        "completion_rate": _rate(tasks["done"], tasks["total"]),
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


MONEY = Decimal("0.01")


def _per(amount: Decimal, count: int) -> Decimal | None:
    return (amount / count).quantize(MONEY) if count else None


@dataclass
class CampaignROI:
    currency: str
    revenue: Decimal
    spend: Decimal
    leads: int
    qualified: int
    won_deals: int
    cost_per_lead: Decimal | None
    cost_per_qualified_lead: Decimal | None
    cost_per_won_deal: Decimal | None
    roi: float | None  # (revenue - spend) / spend; None when nothing was spent

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def campaign_roi(campaign: Campaign, *, metrics: CampaignMetrics | None = None) -> CampaignROI:
    """Revenue from recorded outcomes against the spend ledger. Outcomes in another currency
    than the campaign's are not converted; they are left out of revenue (and say so in docs)."""
    metrics = metrics or campaign_metrics(campaign)
    currency = campaign.currency or ""
    outcomes = Outcome.objects.filter(campaign=campaign).aggregate(
        revenue=Sum("deal_value", filter=Q(currency=currency)), deals=Count("pk")
    )
    revenue = (outcomes["revenue"] or Decimal(0)).quantize(MONEY)
    spend = campaign_spend(campaign).quantize(MONEY)
    return CampaignROI(
        currency=currency,
        revenue=revenue,
        spend=spend,
        leads=metrics.leads_total,
        qualified=metrics.qualified,
        won_deals=outcomes["deals"],
        cost_per_lead=_per(spend, metrics.leads_total),
        cost_per_qualified_lead=_per(spend, metrics.qualified),
        cost_per_won_deal=_per(spend, outcomes["deals"]),
        roi=round(float((revenue - spend) / spend), 4) if spend > 0 else None,
    )


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
            "conversion_rate": _rate(counts[c.pk][1], counts[c.pk][0]),
            "goal_progress": _rate(counts[c.pk][1], c.target_clients or 0),
        }
        for c in page
    }


# --- the funnel as the dashboard and client reports draw it ---------------------------------------

FUNNEL_STAGES = [
    ("Leads", None),
    (
        "Contacted+",
        (LeadState.CONTACTED, LeadState.REPLIED, LeadState.QUALIFIED, LeadState.WON, LeadState.LOST),
    ),
    ("Replied+", (LeadState.REPLIED, LeadState.QUALIFIED, LeadState.WON)),
    ("Qualified", (LeadState.QUALIFIED, LeadState.WON)),
    ("Won", (LeadState.WON,)),
]


def funnel_stages(by_state: dict[str, int]) -> list[tuple[str, int]]:
    """Each funnel stage with the leads at it or past it (the dashboard's chart, the client report)."""
    total = sum(by_state.values())
    return [
        (label, total if states is None else sum(by_state.get(s, 0) for s in states))
        for label, states in FUNNEL_STAGES
    ]
