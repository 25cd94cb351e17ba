"""The global system pause: one switch that stops all sending and cycles at once."""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from ..actors import acting_user
from ..errors import DomainError, SystemPausedError
from ..models import SystemSwitch, User
from ..selectors import SYSTEM_SWITCH_CACHE_KEY, system_switch
from .audit import record_audit_event


def set_system_pause(*, paused: bool, actor: User | None, rationale: str) -> SystemSwitch:
    """Turn the pause on or off (audited as system.paused / system.resumed). Setting the state it
    already has changes nothing."""
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError(
            f"Give a rationale for {'pausing' if paused else 'resuming'} the whole system.", field="rationale"
        )
    with transaction.atomic(durable=True):
        switch, _ = SystemSwitch.objects.select_for_update().get_or_create(pk=SystemSwitch.SINGLETON_PK)
        if switch.paused == paused:
            return switch
        switch.paused = paused
        switch.reason = rationale
        switch.changed_by = acting_user(actor)
        switch.changed_at = timezone.now()
        switch.save()
        record_audit_event(
            verb="system.paused" if paused else "system.resumed", actor=actor, rationale=rationale
        )
        transaction.on_commit(lambda: cache.delete(SYSTEM_SWITCH_CACHE_KEY))
    cache.delete(SYSTEM_SWITCH_CACHE_KEY)
    return switch


def ensure_system_not_paused() -> None:
    """Raise SystemPausedError while the pause is on (reads the switch fresh, not from cache)."""
    state = system_switch(fresh=True)
    if state.paused:
        raise SystemPausedError(f"System pause is on: {state.reason or 'no reason given'}.")
