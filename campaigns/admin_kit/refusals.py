"""A service's refusal, turned into what the admin shows: errors for a form's fields, or messages.

A validation problem is never an error page: ``refusal_errors`` gives the field errors a form
shows (``base.RefusalsOnFormMixin``), ``refusals_as_messages`` turns a refusal in a custom page or
action into an error message on the page the user returns to. A refusal of the role
(``ActionNotPermittedError``) says which permission it needs and which role has it; where a page
must answer 403 for it, ``raise`` it unchanged (it is a ``PermissionDenied``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest

from campaigns.errors import DomainError

REFUSALS = (DomainError, ValidationError)


def refusal_errors(exc: Exception) -> dict[str | None, list[str]]:
    """Field -> messages (``None``: the form as a whole). A ValidationError keeps its fields; a
    DomainError names its field in ``details["field"]`` when it is about one."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {
                (None if field == NON_FIELD_ERRORS else field): list(errors)
                for field, errors in exc.message_dict.items()
            }
        return {None: list(exc.messages)}
    field = exc.details.get("field") if isinstance(exc, DomainError) else None
    return {field if isinstance(field, str) else None: [str(exc)]}


def refusal_text(exc: Exception) -> str:
    """One line for a message: a DomainError's own sentence; a ValidationError's as
    "field: problem; other: problem"."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    for field, errors in refusal_errors(exc).items():
        text = " ".join(errors)
        parts.append(f"{field.replace('_', ' ')}: {text}" if field else text)
    return "; ".join(parts)


class Attempt:
    """What ``refusals_as_messages`` yields: ``ok`` turns False when the call was refused."""

    ok = True


@contextmanager
def refusals_as_messages(request: HttpRequest, prefix: str = "") -> Iterator[Attempt]:
    """Run a service call; a refusal becomes an error message (prefixed, e.g. with the object)::

    with refusals_as_messages(request, f"{task}: ") as attempt:
        start_task(task=task, actor=request.user)
    if attempt.ok:
        messages.success(request, "Started.")
    """
    attempt = Attempt()
    try:
        yield attempt
    except REFUSALS as exc:
        attempt.ok = False
        messages.error(request, f"{prefix}{refusal_text(exc)}")
