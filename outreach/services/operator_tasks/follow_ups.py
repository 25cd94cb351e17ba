"""The engagement follow-ups of a completed post: answer the responses at +2 h and +24 h, once."""

from __future__ import annotations

import datetime as dt
import logging

from campaigns.actors import acting_user
from campaigns.models import User

from ...models.operator_tasks import OperatorTask, OperatorTaskType
from ...sop_library import get_sop
from .rules import RUNNABLE_CAMPAIGN_STATES

__all__ = ["FOLLOW_UP_OFFSETS", "create_follow_ups"]

logger = logging.getLogger(__name__)

FOLLOW_UP_OFFSETS = (("+2h", dt.timedelta(hours=2)), ("+24h", dt.timedelta(hours=24)))


def create_follow_ups(
    parent: OperatorTask, actor: User | None, completed_at: dt.datetime
) -> list[OperatorTask]:
    if parent.campaign.state not in RUNNABLE_CAMPAIGN_STATES:
        logger.info(
            "task %s: no follow-ups, campaign %s is %s", parent.pk, parent.campaign_id, parent.campaign.state
        )
        return []
    sop = get_sop("engagement", "follow_up")
    keys = {label: f"task:{parent.pk}:engagement:{label}" for label, _ in FOLLOW_UP_OFFSETS}
    existing = set(
        OperatorTask.objects.filter(idempotency_key__in=keys.values()).values_list(
            "idempotency_key", flat=True
        )
    )
    created = []
    for label, offset in FOLLOW_UP_OFFSETS:
        if keys[label] in existing:
            continue
        task = OperatorTask(
            campaign=parent.campaign,
            task_type=OperatorTaskType.ENGAGEMENT,
            platform=parent.platform,
            content_type=parent.content_type,
            title=f"Engage with responses ({label.replace('h', ' h')}): {parent.title}"[:300],
            idempotency_key=keys[label],
            sop_key=sop.key,
            sop_version=sop.version,
            instructions=sop.as_dict(),
            creative_snapshot=parent.creative_snapshot,
            creative=parent.creative,
            parent=parent,
            due_at=completed_at + offset,
            assignee=acting_user(actor) or parent.assignee,
            created_by=acting_user(actor),
            created_at=completed_at,
            updated_at=completed_at,
        )
        task.save()
        created.append(task)
    return created
