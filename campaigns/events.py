"""Outbound events: the writer of the transactional outbox (``OutboxEvent``).

The service that causes an event calls :func:`emit_event` (or :func:`emit_events` for many of one
type) inside its own transaction: the row commits with the change or not at all, so a rolled-back
change is never announced. The webhooks app (above every other app, so it may read them all)
delivers the rows; it registers :func:`register_subscription_lookup` from ``AppConfig.ready()``,
and an event nobody subscribes to is not written at all, so the send path pays for events only
when a client wants them. Without the webhooks app installed nothing is written.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from .actors import acting_user
from .event_types import event_type
from .ids import campaign_id_of
from .models import Campaign, Client, OutboxEvent

logger = logging.getLogger(__name__)

# client id -> the event types its active endpoints subscribe to (cached by the provider).
SubscriptionLookup = Callable[[int], frozenset[str]]
_lookup: dict[str, SubscriptionLookup] = {}


def register_subscription_lookup(lookup: SubscriptionLookup) -> None:
    _lookup["subscriptions"] = lookup


# A send run emits with every record, a few times a second: inside ``subscriptions_held`` it asks
# the (shared, cached) lookup once a second rather than each time — a cache round trip per record
# was 3 % of the run's CPU. An endpoint added meanwhile gets the run's events from the next second.
SUBSCRIPTIONS_HELD_SECONDS = 1.0


_held = threading.local()  # the subscriptions a ``subscriptions_held`` block read, per thread


def is_subscribed(client_id: int, type_name: str) -> bool:
    lookup = _lookup.get("subscriptions")
    if lookup is None:
        return False
    held: dict[int, tuple[float, frozenset[str]]] | None = getattr(_held, "types", None)
    if held is None:
        return type_name in lookup(client_id)
    now = time.monotonic()
    known = held.get(client_id)
    if known is None or known[0] <= now:
        known = held[client_id] = (now + SUBSCRIPTIONS_HELD_SECONDS, lookup(client_id))
    return type_name in known[1]


@contextmanager
def subscriptions_held() -> Iterator[None]:
    """Within the block, this thread reads who subscribes at most once a second per client."""
    if getattr(_held, "types", None) is not None:  # nested: the outer block holds them
        yield
        return
    _held.types = {}
    try:
        yield
    finally:
        _held.types = None


def new_event_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy (Decimals, dates, lazy strings become strings), as the receiver will read it."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _ids(client: Client | int, campaign: Campaign | int | None) -> tuple[int, int | None]:
    client_id = client.pk if isinstance(client, Client) else int(client)
    campaign_id = None if campaign is None else campaign_id_of(campaign)
    return client_id, campaign_id


def emit_event(
    type_name: str,
    *,
    client: Client | int,
    campaign: Campaign | int | None = None,
    data: dict[str, Any],
    occurred_at: datetime | None = None,
) -> OutboxEvent | None:
    """Write one event in the caller's transaction; None when no endpoint of the client wants it."""
    written = emit_events(type_name, client=client, campaign=campaign, items=[data], occurred_at=occurred_at)
    return written[0] if written else None


def emit_events(
    type_name: str,
    *,
    client: Client | int,
    campaign: Campaign | int | None = None,
    items: Iterable[dict[str, Any]],
    occurred_at: datetime | None = None,
) -> list[OutboxEvent]:
    """Write one event per item of ``items`` (all of one type) with one INSERT."""
    kind = event_type(type_name)  # an unknown type is a programming error: raise
    client_id, campaign_id = _ids(client, campaign)
    if not is_subscribed(client_id, type_name):
        return []
    when = occurred_at or timezone.now()
    rows = [
        OutboxEvent(
            event_id=new_event_id(),
            type=type_name,
            version=kind.version,
            client_id=client_id,
            campaign_id=campaign_id,
            data=_plain(item),
            occurred_at=when,
        )
        for item in items
    ]
    if rows:
        OutboxEvent.objects.bulk_create(rows, batch_size=500)
    return rows


def actor_name(actor: Any) -> str:
    """What events say for who did it: the username, or "system" for automation."""
    user = acting_user(actor)
    return user.get_username() if user is not None else "system"


def lead_data(lead: Any) -> dict[str, Any]:
    """The lead as events show it (leads sits above campaigns: duck-typed, no import)."""
    return {
        "id": lead.pk,
        "email": lead.email,
        "company": getattr(lead, "company", "") or "",
        "state": getattr(lead, "state", ""),
    }
