"""Where preview and test-send data for a campaign's real leads and sender come from.

`creative` may not import `leads` or `outreach` (independent and higher layers), so the app that
knows them (outreach) registers providers from its ``AppConfig.ready()``:

- ``register_lead_context_provider(fn)``, ``fn(*, campaign, lead_id) -> dict | None``: the same merge
  context a real send to that lead would use (None when the lead is not in that campaign);
- ``register_lead_choices_provider(fn)``, ``fn(*, campaign, limit) -> list[(id, label)]``: the
  campaign's leads a reviewer may pick for a preview;
- ``register_sender_provider(fn)``, ``fn(*, campaign) -> str``: the From header the campaign's
  sends use (its sequence's mailbox).

Without a provider: no lead context, no lead choices, and ``DEFAULT_FROM_EMAIL``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

LeadContextProvider = Callable[..., dict[str, Any] | None]
LeadChoicesProvider = Callable[..., list[tuple[int, str]]]
SenderProvider = Callable[..., str]
_provider: list[LeadContextProvider] = []
_choices: list[LeadChoicesProvider] = []
_sender: list[SenderProvider] = []


def register_lead_context_provider(fn: LeadContextProvider) -> None:
    _provider[:] = [fn]


def register_lead_choices_provider(fn: LeadChoicesProvider) -> None:
    _choices[:] = [fn]


def register_sender_provider(fn: SenderProvider) -> None:
    _sender[:] = [fn]


def lead_context(*, campaign, lead_id: int) -> dict[str, Any] | None:
    if not _provider:
        return None
    return _provider[0](campaign=campaign, lead_id=lead_id)


def lead_choices(*, campaign, limit: int = 200) -> list[tuple[int, str]]:
    if not _choices:
        return []
    return list(_choices[0](campaign=campaign, limit=limit))


def sender_for(*, campaign) -> str:
    from_header = _sender[0](campaign=campaign) if _sender else ""
    return from_header or settings.DEFAULT_FROM_EMAIL
