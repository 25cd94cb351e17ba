"""The audit trail: one AuditEvent per decision or side effect, written in the transaction that
made the change (every app's services call ``record_audit_event``)."""

from __future__ import annotations

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
    event.save()
    return event
