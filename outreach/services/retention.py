"""Retention for message events: old rows become daily counts, then are deleted.

Registered with the campaigns retention task (``campaigns.retention``), which runs it daily with
the same cutoff as the audit log (``AICMO_AUDIT_RETENTION_DAYS``)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncDate

from ..models import MessageEvent, MessageEventDailySummary

__all__ = ["prune_old_message_events"]


def prune_old_message_events(*, cutoff: datetime, batch: int = 50_000) -> int:
    """Summarise and delete events older than ``cutoff``; safe to run twice (counts add once)."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                MessageEvent.objects.filter(occurred_at__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                return deleted
            rows = (
                MessageEvent.objects.filter(id__in=ids)
                .annotate(day=TruncDate("occurred_at"))
                .values("campaign_id", "day", "kind")
                .annotate(n=Count("id"))
            )
            for row in rows:
                summary, _ = MessageEventDailySummary.objects.select_for_update().get_or_create(
                    campaign_id=row["campaign_id"], day=row["day"], kind=row["kind"]
                )
                summary.count += row["n"]
                summary.save(update_fields=["count"])
            deleted += MessageEvent.objects.filter(id__in=ids).delete()[0]
