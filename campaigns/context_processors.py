"""Template context for the admin: the system-pause banner."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import system_switch


def system_pause(request: HttpRequest) -> dict:
    # Lazy: evaluated (one cached primary-key query) only when a template reads it.
    return {"system_pause": SimpleLazyObject(system_switch)}
