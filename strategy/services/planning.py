"""The plan and content calendar built from the approved variant; rebuilt in place, never duplicated."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.lock_objects import campaign_for_update
from campaigns.models import CHANNEL_KEYS, Campaign, User
from campaigns.services.audit import record_audit_event

from ..models import (
    DEFAULT_DURATION_DAYS,
    CalendarItem,
    CampaignPlan,
    PlanPhase,
    StrategyVariant,
)
from ..selectors import approved_variant_for
from .lookups import jsonable, resolve_campaign

# Posting windows per platform, in minutes after midnight in the campaign's time zone. All lie
# inside business hours (09:00-17:00): email early for open rates, LinkedIn in the working
# morning, X around midday, Instagram over lunch and the afternoon.
POSTING_WINDOWS = {
    "email": (9 * 60, 11 * 60),
    "linkedin": (9 * 60, 12 * 60),
    "x": (11 * 60, 15 * 60),
    "instagram": (12 * 60, 17 * 60),
}
BUSINESS_HOURS = (9 * 60, 17 * 60)


def _plan_dates(campaign: Campaign) -> tuple[dt.date, dt.date]:
    start = campaign.start_date or timezone.now().astimezone(zoneinfo.ZoneInfo(campaign.timezone)).date()
    end = campaign.end_date or start + dt.timedelta(days=DEFAULT_DURATION_DAYS - 1)
    return start, max(start, end)


def _phase_ranges(phases: list[dict], start: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    total_share = sum(p["share"] for p in phases) or 1.0
    ranges, cumulative = [], 0.0
    for index, phase in enumerate(phases):
        first = start + dt.timedelta(days=min(days - 1, round(days * cumulative / total_share)))
        cumulative += phase["share"]
        if index == len(phases) - 1:
            last = start + dt.timedelta(days=days - 1)
        else:
            last = start + dt.timedelta(days=max(0, round(days * cumulative / total_share) - 1))
        ranges.append((first, max(first, last)))
    return ranges


def _phase_metrics(kpis: dict[str, float], cumulative_share: float) -> dict[str, float]:
    """Volume KPIs as the cumulative target due by the end of the phase; rates hold throughout."""
    return {
        name: (round(value * cumulative_share) if value >= 1 and not name.endswith("_max") else value)
        for name, value in kpis.items()
    }


def build_plan_and_calendar(
    *,
    campaign: Campaign | int,
    actor: User | None = None,
    campaign_locked: bool = False,
    variant: StrategyVariant | None = None,
) -> CampaignPlan:
    """Lay the approved variant over the campaign's dates (default 90 days from today) and fill
    the content calendar from its cadence. Re-running updates in place: no duplicate items, and
    items an operator edited are left as they are.

    ``campaign_locked`` (as in ``transition_campaign``): ``campaign`` is the row the caller's
    transaction holds locked, so it is not locked again and no savepoint is taken. ``variant``: the
    campaign's approved variant, when the caller has it already."""
    if campaign_locked:
        if not isinstance(campaign, Campaign):
            raise TypeError("campaign_locked=True needs the locked Campaign")
        with transaction.atomic(savepoint=False):
            return _build_plan(campaign, variant or approved_variant_for(campaign), actor)
    campaign = resolve_campaign(campaign)
    with transaction.atomic():
        locked = campaign_for_update(campaign.pk)
        return _build_plan(locked, variant or approved_variant_for(locked), actor)


def _build_plan(locked: Campaign, variant: StrategyVariant | None, actor: User | None) -> CampaignPlan:
    if variant is None:
        raise TransitionNotAllowedError(
            f"Campaign {locked.pk} has no approved strategy variant; approve one before building a plan."
        )
    start, end = _plan_dates(locked)
    days = (end - start).days + 1
    now = timezone.now()
    values = {
        "variant": variant,
        "start_date": start,
        "end_date": end,
        "timezone": locked.timezone,
        "kpi_targets": variant.kpi_targets,
        "updated_at": now,
    }
    # The campaign's lock serialises plan building: a plain read, then an insert or an update
    # (update_or_create adds a row lock and two savepoints for races that cannot happen here).
    plan = CampaignPlan.objects.filter(campaign=locked).first()
    created = plan is None
    if created:
        plan = CampaignPlan.objects.create(campaign=locked, created_at=now, **values)
    else:
        for name, value in values.items():
            setattr(plan, name, value)
        plan.save()
    phases = _sync_phases(plan=plan, variant=variant, start=start, days=days)
    calendar_rows = calendar_slots(
        variant=variant, phases=phases, start=start, end=end, tz_name=locked.timezone
    )
    counts = _sync_calendar_items(plan=plan, rows=calendar_rows, now=now)
    record_audit_event(
        verb="strategy.plan_built" if created else "strategy.plan_rebuilt",
        actor=actor,
        campaign=locked,
        target=plan,
        metadata={
            "variant_id": variant.pk,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "phases": len(phases),
            **counts,
        },
    )
    return plan


def _sync_phases(
    *, plan: CampaignPlan, variant: StrategyVariant, start: dt.date, days: int
) -> list[PlanPhase]:
    ranges = _phase_ranges(variant.phases, start, days)
    existing = {p.position: p for p in PlanPhase.objects.filter(plan=plan)}
    total_share = sum(p["share"] for p in variant.phases) or 1.0
    phases, new, cumulative = [], [], 0.0
    for position, (data, (first, last)) in enumerate(zip(variant.phases, ranges, strict=True), start=1):
        cumulative += data["share"]
        values = {
            "campaign_id": plan.campaign_id,
            "key": data["key"],
            "name": data["name"],
            "start_date": first,
            "end_date": last,
            "tactics": data["tactics"],
            "metrics": data.get("metrics") or _phase_metrics(variant.kpi_targets, cumulative / total_share),
        }
        phase = existing.pop(position, None)
        if phase is None:
            new.append(PlanPhase(plan=plan, position=position, **values))
            phase = new[-1]
        else:
            for name, value in values.items():
                setattr(phase, name, value)
            phase.save()
        phases.append(phase)
    PlanPhase.objects.bulk_create(new)  # a first build: every phase in one INSERT
    if existing:
        PlanPhase.objects.filter(pk__in=[p.pk for p in existing.values()]).delete()
    return phases


def calendar_slots(
    *, variant: StrategyVariant, phases: list[PlanPhase], start: dt.date, end: dt.date, tz_name: str
) -> list[dict[str, Any]]:
    """Calendar rows from the cadence: posts per week spread over business days, at times inside
    09:00-17:00 in the campaign's time zone. Deterministic, so a rebuild finds the same slots."""
    tz = zoneinfo.ZoneInfo(tz_name)
    pillars = variant.pillars or [variant.title]
    rows: list[dict[str, Any]] = []
    theme_counter = 0
    window_start = start
    while window_start <= end:
        window = [window_start + dt.timedelta(days=i) for i in range(7)]
        business_days = [d for d in window if d <= end and d.weekday() < 5]
        for channel_index, (channel, cadence) in enumerate(sorted(variant.cadence.items())):
            if not business_days:
                break
            per_week = int(cadence["per_week"])
            # A partial last week gets its share of the weekly cadence.
            posts = per_week if len(business_days) == 5 else round(per_week * len(business_days) / 5)
            n_days = len(business_days)
            for k in range(posts):
                if posts <= n_days:
                    day, slot_round = business_days[k * n_days // posts], 0
                else:
                    day, slot_round = business_days[k % n_days], k // n_days
                opens, closes = POSTING_WINDOWS.get(channel, BUSINESS_HOURS)
                offset = (channel_index * 97 + slot_round * 47 + day.toordinal() % 4 * 15) % (closes - opens)
                minutes = opens + offset - offset % 15
                local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=tz)
                phase = next(
                    (p for p in phases if p.start_date <= day <= p.end_date), phases[-1] if phases else None
                )
                pillar = pillars[theme_counter % len(pillars)]
                theme_counter += 1
                rows.append(
                    {
                        "slot_key": f"{channel}:{day.isoformat()}:{slot_round}",
                        "scheduled_at": local,
                        "platform": channel,
                        "content_type": str(cadence["content_type"])[:80],
                        "theme": (f"{phase.name}: {pillar}" if phase else pillar)[:300],
                        "phase": phase,
                    }
                )
        window_start += dt.timedelta(days=7)
    return rows


def _sync_calendar_items(
    *, plan: CampaignPlan, rows: list[dict[str, Any]], now: dt.datetime
) -> dict[str, int]:
    existing = {item.slot_key: item for item in CalendarItem.objects.filter(campaign_id=plan.campaign_id)}
    to_create, to_update = [], []
    for row in rows:
        item = existing.pop(row["slot_key"], None)
        if item is None:
            to_create.append(
                CalendarItem(campaign_id=plan.campaign_id, plan=plan, created_at=now, updated_at=now, **row)
            )
        elif not item.edited_by_operator:
            for name, value in row.items():
                setattr(item, name, value)
            item.plan = plan
            item.updated_at = now
            to_update.append(item)
    CalendarItem.objects.bulk_create(to_create)
    if to_update:
        CalendarItem.objects.bulk_update(
            to_update, ["scheduled_at", "platform", "content_type", "theme", "phase", "plan", "updated_at"]
        )
    # Generated slots that no longer exist go; operators' edited items stay.
    stale = [item.pk for item in existing.values() if not item.edited_by_operator]
    if stale:
        CalendarItem.objects.filter(pk__in=stale).delete()
    return {
        "calendar_created": len(to_create),
        "calendar_updated": len(to_update),
        "calendar_removed": len(stale),
    }


CALENDAR_EDITABLE_FIELDS = ("scheduled_at", "platform", "content_type", "theme", "notes")


def update_calendar_item(*, item: CalendarItem, actor: User | None = None, **fields: Any) -> CalendarItem:
    """An operator's edit; the item is marked so regenerating the calendar leaves it alone."""
    unknown = set(fields) - set(CALENDAR_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These calendar fields cannot be edited: {', '.join(sorted(unknown))}.")
    if "platform" in fields and fields["platform"] not in CHANNEL_KEYS:
        raise ValidationError({"platform": f"Unknown platform; known: {', '.join(sorted(CHANNEL_KEYS))}."})
    with transaction.atomic():
        locked = CalendarItem.objects.select_for_update().get(pk=item.pk)
        changes = {}
        for name, value in fields.items():
            if getattr(locked, name) != value:
                changes[name] = [jsonable(getattr(locked, name)), jsonable(value)]
                setattr(locked, name, value)
        if not changes:
            return locked
        locked.edited_by_operator = True
        locked.updated_at = timezone.now()
        locked._change_reason = "edited by operator"
        locked.save()
        record_audit_event(
            verb="strategy.calendar_item_edited",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            metadata={"changes": changes},
        )
    return locked
