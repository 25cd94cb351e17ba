"""Erasure hooks: how apps to the left of leads (outreach, reporting) join ``forget_person``.

Leads may not import those apps, so they register a handler instead, typically in their
``AppConfig.ready``::

    from leads.erasure import register_erasure_handler

    def erase_message_events(*, normalized_email: str, digest: str) -> int:
        ...  # delete or anonymize rows holding the address; return how many
    register_erasure_handler("outreach.message_events", erase_message_events)

Handlers run inside the erasure's transaction: if one fails, nothing is erased.
"""

from __future__ import annotations

from collections.abc import Callable

ErasureHandler = Callable[..., int]

_HANDLERS: dict[str, ErasureHandler] = {}


def register_erasure_handler(name: str, handler: ErasureHandler) -> None:
    _HANDLERS[name] = handler


def unregister_erasure_handler(name: str) -> None:
    _HANDLERS.pop(name, None)


def run_handlers(*, normalized_email: str, digest: str) -> dict[str, int]:
    return {
        name: int(handler(normalized_email=normalized_email, digest=digest))
        for name, handler in _HANDLERS.items()
    }
