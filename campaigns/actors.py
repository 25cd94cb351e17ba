"""Who did it: the user an action is recorded against, or None for the system."""

from __future__ import annotations

from typing import Any


def acting_user(actor: Any) -> Any:
    """The signed-in user behind an action, or None when the system (a task, a command, an anonymous
    request) acts: what ``created_by``, ``decided_by``, audit rows and history rows store."""
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None
