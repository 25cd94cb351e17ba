"""Metric entries: the platform's numbers for a task, read and typed in by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError
from campaigns.models import User

from ...models.operator_tasks import MetricEntry, OperatorTask
from .lifecycle import audit_task, lock_task

__all__ = ["METRIC_FIELDS", "record_metrics"]

METRIC_FIELDS = ("impressions", "engagements", "clicks")


def record_metrics(
    *,
    task: OperatorTask | int,
    impressions: Any = 0,
    engagements: Any = 0,
    clicks: Any = 0,
    note: str = "",
    recorded_at: dt.datetime | None = None,
    actor: User | None = None,
) -> MetricEntry:
    """One manual reading of the platform's numbers for a task (several per task are fine)."""
    values = {"impressions": impressions, "engagements": engagements, "clicks": clicks}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DomainError(f"{name} must be a whole number of 0 or more, got {value!r}.", field=name)
    now = timezone.now()
    recorded_at = recorded_at or now
    if recorded_at > now + dt.timedelta(minutes=5):
        raise DomainError("recorded_at is in the future.", field="recorded_at")
    with transaction.atomic():
        locked = lock_task(task)
        entry = MetricEntry.objects.create(
            task=locked,
            campaign=locked.campaign,
            note=(note or "").strip()[:500],
            recorded_at=recorded_at,
            recorded_by=acting_user(actor),
            **values,
        )
        audit_task("task.metrics_recorded", locked, actor, entry_id=entry.pk, **values)
    return entry
