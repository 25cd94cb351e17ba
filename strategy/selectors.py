"""Read queries for the API, the admin and other apps. Client scoping goes through campaigns."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections import defaultdict

from django.db.models import Prefetch, QuerySet

from campaigns.ids import campaign_id_of
from campaigns.models import Campaign, User
from campaigns.selectors import campaigns_visible_to, effective_policy

from .models import (
    Brief,
    CalendarItem,
    CampaignPlan,
    StrategyBatch,
    StrategyDecision,
    StrategyVariant,
    VariantState,
)


def variants_visible_to(user: User) -> QuerySet[StrategyVariant]:
    return StrategyVariant.objects.filter(campaign__in=campaigns_visible_to(user)).select_related(
        "campaign", "batch", "decided_by"
    )


def batches_for_campaign(campaign: Campaign) -> QuerySet[StrategyBatch]:
    """Newest batch first, each with its variants in position order."""
    return (
        StrategyBatch.objects.filter(campaign=campaign)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "variants", queryset=StrategyVariant.objects.select_related("decided_by").order_by("position")
            )
        )
        .order_by("-number")
    )


def brief_for_campaign(campaign: Campaign) -> Brief | None:
    return Brief.objects.filter(campaign=campaign).first()


def approved_variant_for(campaign: Campaign | int) -> StrategyVariant | None:
    campaign_id = campaign_id_of(campaign)
    return (
        StrategyVariant.objects.filter(campaign_id=campaign_id, state=VariantState.APPROVED)
        .select_related("decided_by", "batch")
        .first()
    )


def decisions_for_variant(variant: StrategyVariant) -> QuerySet[StrategyDecision]:
    return StrategyDecision.objects.filter(variant=variant).select_related("actor")


def plan_for(campaign: Campaign) -> CampaignPlan | None:
    return (
        CampaignPlan.objects.filter(campaign=campaign)
        .select_related("variant")
        .prefetch_related("phases")
        .first()
    )


def calendar_items_for(
    campaign: Campaign, *, month: dt.date | None = None, platform: str | None = None
) -> QuerySet[CalendarItem]:
    items = CalendarItem.objects.filter(campaign=campaign).select_related("phase")
    if month is not None:
        tz = zoneinfo.ZoneInfo(campaign.timezone)
        first = dt.datetime(month.year, month.month, 1, tzinfo=tz)
        last_day = calendar.monthrange(month.year, month.month)[1]
        after_last = first + dt.timedelta(days=last_day)
        items = items.filter(scheduled_at__gte=first, scheduled_at__lt=after_last)
    if platform:
        items = items.filter(platform=platform)
    return items.order_by("scheduled_at", "platform", "id")


def calendar_month_grid(campaign: Campaign, month: dt.date) -> list[list[dict]]:
    """Weeks (Monday first) of day cells {date, in_month, items} for a server-side month view."""
    tz = zoneinfo.ZoneInfo(campaign.timezone)
    by_day: dict[dt.date, list[CalendarItem]] = defaultdict(list)
    for item in calendar_items_for(campaign, month=month):
        by_day[item.scheduled_at.astimezone(tz).date()].append(item)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append(
            [
                {
                    "date": day,
                    "in_month": day.month == month.month,
                    "items": [
                        {"item": item, "local_time": f"{item.scheduled_at.astimezone(tz):%H:%M}"}
                        for item in by_day[day]
                    ],
                }
                for day in week
            ]
        )
    return weeks


# --- lifecycle checks registered with campaigns.lifecycle (see StrategyConfig.ready) ---------


def strategy_approval_blockers(campaign: Campaign) -> list[str]:
    """A campaign with strategy variants is approved only once one of them is approved."""
    states = set(
        StrategyVariant.objects.filter(campaign_id=campaign.pk).values_list("state", flat=True).distinct()
    )
    if not states or VariantState.APPROVED in states:
        return []
    return ["it has strategy variants but none is approved yet; select and approve one first"]


def strategy_activation_blockers(campaign: Campaign) -> list[str]:
    """A campaign goes live only with an approved strategy variant when its compliance policy
    requires strategy approval (the default) or once strategy work exists for it; when the policy
    requires client approval, a user of the client must have approved it."""
    policy = effective_policy(campaign)
    approved = (
        StrategyVariant.objects.filter(campaign_id=campaign.pk, state=VariantState.APPROVED)
        .select_related("decided_by")
        .first()
    )
    required = (
        policy.require_strategy_approval or StrategyBatch.objects.filter(campaign_id=campaign.pk).exists()
    )
    if approved is None:
        if required:
            return ["it has no approved strategy variant; approve one before activating"]
        return []
    if policy.require_client_approval:
        by = approved.decided_by
        if by is None or by.client_id != campaign.client_id:
            return [
                "its compliance policy requires the client's approval of the strategy; a user of the "
                "client must approve it (the campaign must allow client approval)"
            ]
    return []
