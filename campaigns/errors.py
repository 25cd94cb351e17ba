"""Domain errors raised by services; the API maps them to 400 / 409 with their message."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied


class DomainError(Exception):
    """A business rule refused the request. ``str(err)`` is written for the person who asked."""

    code = "invalid"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.details}


class TransitionNotAllowedError(DomainError):
    """A state change that the object's current state (or a rule) does not permit."""

    code = "transition_not_allowed"


class BudgetExhaustedError(DomainError):
    """The next spend would take the campaign past its budget cap; raise the cap to continue."""

    code = "budget_exhausted"


class SystemPausedError(DomainError):
    """The global system pause is on: nothing is sent and no cycle runs until it is lifted."""

    code = "system_paused"


class ApprovalNotPermittedError(DomainError):
    """The user lacks the permission an approval needs (e.g. a high-severity risk flag is open)."""

    code = "approval_not_permitted"


class ActionNotPermittedError(ApprovalNotPermittedError, PermissionDenied):
    """The user's role does not allow the action (``campaigns.permissions.require_action``).

    A domain error (the API answers 403 with ``detail`` and ``code``; admin pages that show domain
    errors as messages show it) and Django's ``PermissionDenied`` (anything else answers 403)."""

    code = "action_not_permitted"
