"""Where preview data for a real lead comes from.

`creative` may not import `leads` (they are independent layers), so the app that knows both
(outreach) registers a provider from its ``AppConfig.ready()``:
``register_lead_context_provider(fn)`` with ``fn(*, campaign, lead_id) -> dict | None`` giving the
same merge context a real send would use (None when the lead is not in that campaign)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LeadContextProvider = Callable[..., dict[str, Any] | None]
_provider: list[LeadContextProvider] = []


def register_lead_context_provider(fn: LeadContextProvider) -> None:
    _provider[:] = [fn]


def lead_context(*, campaign, lead_id: int) -> dict[str, Any] | None:
    if not _provider:
        return None
    return _provider[0](campaign=campaign, lead_id=lead_id)
