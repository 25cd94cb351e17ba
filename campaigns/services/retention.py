"""Audit retention: old, non-decision audit events become daily counts, then are deleted."""

from __future__ import annotations

import datetime as dt
import logging
from fnmatch import fnmatch

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from ..models import AuditDailySummary, AuditEvent

logger = logging.getLogger(__name__)


def keep_verbs_q(patterns: list[str]) -> Q:
    """fnmatch-style verb patterns ("*.approved", "campaign.*", "*.override*") as a filter."""
    q = Q(pk__in=[])
    for pattern in patterns:
        parts = pattern.split("*")
        if len(parts) == 1:
            q |= Q(verb=pattern)
        elif len(parts) == 2:
            head, tail = parts
            cond = Q()
            if head:
                cond &= Q(verb__startswith=head)
            if tail:
                cond &= Q(verb__endswith=tail)
            q |= cond
        elif len(parts) == 3 and not parts[0] and not parts[2]:
            q |= Q(verb__contains=parts[1])
        else:
            raise ValueError(f"Unsupported verb pattern {pattern!r}: use at most '*x*', 'x*', '*x' or 'x*y'.")
    return q


def is_decision_verb(verb: str, patterns: list[str] | None = None) -> bool:
    patterns = settings.AICMO_AUDIT_KEEP_VERBS if patterns is None else patterns
    return any(fnmatch(verb, p) for p in patterns)


def prune_audit_events(*, older_than_days: int | None = None, now: dt.datetime | None = None) -> dict:
    """Count audit events older than the retention age into AuditDailySummary (campaign, date,
    verb) and delete them, one day per transaction; decision verbs are never touched. Safe to run
    twice: what was summarised is gone, so nothing is counted again."""
    days = settings.AICMO_AUDIT_RETENTION_DAYS if older_than_days is None else older_than_days
    if days < 1:
        raise ValueError("Audit retention must be at least one day.")
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    prunable = AuditEvent.objects.filter(created_at__lt=cutoff).exclude(
        keep_verbs_q(settings.AICMO_AUDIT_KEEP_VERBS)
    )
    pruned = days_done = 0
    while True:
        oldest = prunable.order_by("created_at").values_list("created_at", flat=True).first()
        if oldest is None:
            break
        day = oldest.astimezone(dt.UTC).date()
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
        end = min(start + dt.timedelta(days=1), cutoff)
        with transaction.atomic():
            batch = prunable.filter(created_at__gte=start, created_at__lt=end)
            for group in batch.values("campaign_id", "verb").annotate(n=Count("id")).order_by():
                updated = AuditDailySummary.objects.filter(
                    campaign_id=group["campaign_id"], date=day, verb=group["verb"]
                ).update(count=F("count") + group["n"])
                if not updated:
                    AuditDailySummary.objects.create(
                        campaign_id=group["campaign_id"], date=day, verb=group["verb"], count=group["n"]
                    )
            deleted, _ = batch.delete()
        pruned += deleted
        days_done += 1
    logger.info("audit retention: pruned %d event(s) over %d day(s) older than %s", pruned, days_done, cutoff)
    return {"cutoff": cutoff.isoformat(), "pruned": pruned, "days": days_done}
