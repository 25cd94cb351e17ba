"""Operator tasks from the campaign calendar: one POST task per hand-posted calendar item that has
approved creative, with the SOP and the creative frozen into the task."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError
from campaigns.ids import campaign_id_of
from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign, User
from campaigns.services.audit import record_audit_event
from creative.models import CreativeVariant
from creative.selectors import approved_creatives
from creative.services import ensure_creative_sendable
from strategy.models import CalendarItem
from strategy.selectors import calendar_items_for

from ...models.operator_tasks import OperatorTask, OperatorTaskType
from ...selectors.operator_tasks import local_day_bounds
from ...sop_library import get_sop
from .rules import ensure_campaign_runnable, is_manual_calendar_item, sop_content_kind

__all__ = ["OperatorTaskGenerationReport", "generate_operator_tasks"]

logger = logging.getLogger(__name__)


def _creative_snapshot(variant: CreativeVariant) -> dict[str, Any]:
    return {
        "id": variant.pk,
        "generation": variant.generation,
        "subject": variant.subject,
        "preheader": variant.preheader,
        "body": variant.body,
        "cta": variant.cta,
        "hashtags": list(variant.hashtags or []),
        "media_notes": variant.media_notes,
    }


@dataclass
class OperatorTaskGenerationReport:
    created: list[OperatorTask] = field(default_factory=list)
    already_existing: int = 0
    without_approved_creative: int = 0
    manual_items: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": len(self.created),
            "already_existing": self.already_existing,
            "without_approved_creative": self.without_approved_creative,
            "manual_items": self.manual_items,
        }


def _approved_creative_picker(campaign: Campaign):
    """For each platform: approved creative tied to a calendar item (newest decision first), and a
    pool of approved creative tied to no item, handed out in turn to items with none of their own."""
    linked: dict[int, CreativeVariant] = {}
    pools: dict[str, list[CreativeVariant]] = {}
    turns: dict[str, int] = {}
    variants = approved_creatives(campaign).select_related("brief").order_by("-decided_at", "-id")
    for variant in variants:
        item_id = variant.brief.calendar_item_id
        if item_id is not None:
            linked.setdefault(item_id, variant)
        else:
            pools.setdefault(variant.platform, []).append(variant)
    for pool in pools.values():
        pool.sort(key=lambda v: v.pk)

    def pick(item: CalendarItem) -> CreativeVariant | None:
        if item.pk in linked and linked[item.pk].platform == item.platform:
            return linked[item.pk]
        pool = pools.get(item.platform)
        if not pool:
            return None
        turn = turns.get(item.platform, 0)
        turns[item.platform] = turn + 1
        return pool[turn % len(pool)]

    return pick


def generate_operator_tasks(
    *, campaign: Campaign | int, actor: User | None = None
) -> OperatorTaskGenerationReport:
    """One POST task per calendar item (from today on) on a platform we post to by hand (LinkedIn,
    Instagram, X, email newsletters) that has approved creative. Idempotent: a calendar item that
    already has its task is left alone, so running it again creates nothing new."""
    campaign_id = campaign_id_of(campaign)
    report = OperatorTaskGenerationReport()
    now = timezone.now()
    with transaction.atomic():
        try:
            locked = campaign_for_update(campaign_id)
        except Campaign.DoesNotExist:
            raise DomainError(f"Campaign {campaign_id} does not exist.") from None
        ensure_campaign_runnable(locked, "generate operator tasks")
        start_of_today, _ = local_day_bounds(locked.timezone, now)
        items = [
            item
            for item in calendar_items_for(locked).filter(scheduled_at__gte=start_of_today)
            if is_manual_calendar_item(item)
        ]
        report.manual_items = len(items)
        existing = set(
            OperatorTask.objects.filter(calendar_item__in=items, task_type=OperatorTaskType.POST).values_list(
                "calendar_item_id", flat=True
            )
        )
        pick = _approved_creative_picker(locked)
        for item in items:
            if item.pk in existing:
                report.already_existing += 1
                continue
            variant = pick(item)
            if variant is None:
                report.without_approved_creative += 1
                continue
            variant = ensure_creative_sendable(variant=variant, campaign=locked)  # only approved creative
            sop = get_sop(item.platform, sop_content_kind(item.platform, item.content_type))
            task = OperatorTask(
                campaign=locked,
                task_type=OperatorTaskType.POST,
                platform=item.platform,
                content_type=item.content_type,
                title=f"{sop.title}: {item.theme}"[:300],
                idempotency_key=f"calendar-item:{item.pk}:post",
                sop_key=sop.key,
                sop_version=sop.version,
                instructions=sop.as_dict(),
                creative_snapshot=_creative_snapshot(variant),
                calendar_item=item,
                creative=variant,
                due_at=item.scheduled_at,
                created_by=acting_user(actor),
                created_at=now,
                updated_at=now,
            )
            task.save()
            report.created.append(task)
        record_audit_event(
            verb="task.generated",
            actor=actor,
            campaign=locked,
            target=locked,
            metadata={**report.as_dict(), "task_ids": [t.pk for t in report.created]},
        )
    logger.info("campaign %s: operator tasks %s", campaign_id, report.as_dict())
    return report
