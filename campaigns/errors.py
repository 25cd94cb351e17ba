"""Domain errors raised by services; the API maps them to 400 / 409 with their message."""

from __future__ import annotations

from typing import Any


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
