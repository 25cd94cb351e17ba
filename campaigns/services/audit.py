"""The audit trail: one AuditEvent per decision or side effect, written in the transaction that
made the change (every app's services call ``record_audit_event``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models
from django.utils import timezone

from ..actors import acting_user
from ..models import AuditEvent, Campaign, User

SYSTEM_ACTOR_LABEL = "system"


def record_audit_event(
    *,
    verb: str,
    actor: User | None = None,
    campaign: Campaign | None = None,
    target: models.Model | None = None,
    rationale: str = "",
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one audit event. Call it inside the transaction that made the change."""
    from django.contrib.contenttypes.models import ContentType

    actor = acting_user(actor)
    event = AuditEvent(
        campaign=campaign,
        actor=actor,
        actor_label=actor.get_username() if actor else SYSTEM_ACTOR_LABEL,
        verb=verb,
        rationale=rationale or "",
        metadata=metadata or {},
        created_at=timezone.now(),
    )
    if target is not None:
        event.target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        event.target_id = str(target.pk)
        event.target_repr = str(target)[:300]
    batch = getattr(_batch, "events", None)
    if batch is not None:
        batch.append(event)  # written as the batch ends (see audit_events_batched)
        return event
    event.save()
    return event


_batch = threading.local()


@contextmanager
def audit_events_batched() -> Iterator[None]:
    """Within the block (inside the caller's transaction), this thread's audit events are collected
    and written in one INSERT as it ends; none if it raises. For paths that record several events
    per transaction many times a second (the send record: a Model.save each was 8 % of its CPU).
    An event recorded inside has no primary key until the block ends."""
    if getattr(_batch, "events", None) is not None:  # nested: the outer block writes them
        yield
        return
    _batch.events = events = []
    try:
        yield
    finally:
        _batch.events = None
    if events:
        AuditEvent.objects.bulk_create(events)
