"""anymail delivers webhook events as Django signals (its public API); these receivers only
translate them and call the tracking services.

anymail sends one ``tracking`` signal per event, even when the ESP posted hundreds in one request.
Inside ``collect_tracking_events()`` (the batched webhook views in ``outreach.webhooks`` open it
around anymail's own view) the receiver only collects them, and they are stored set-based once the
view has validated and parsed the whole POST; anywhere else each event is stored at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .services.tracking import TrackingInput, record_inbound_email, record_tracking_events

_collected: ContextVar[list[TrackingInput] | None] = ContextVar("outreach_tracking_batch", default=None)


@contextmanager
def collect_tracking_events() -> Iterator[list[TrackingInput]]:
    """Collect the tracking events signalled inside the block instead of storing each at once."""
    batch: list[TrackingInput] = []
    token = _collected.set(batch)
    try:
        yield batch
    finally:
        _collected.reset(token)


def on_tracking(sender, event, esp_name, **kwargs) -> None:
    data = TrackingInput(
        esp_name=esp_name,
        event_type=event.event_type,
        message_id=event.message_id,
        event_id=event.event_id,
        recipient=event.recipient,
        timestamp=event.timestamp,
        metadata=event.metadata or {},
        description=event.description or event.mta_response or "",
        reject_reason=event.reject_reason,
    )
    batch = _collected.get()
    if batch is not None:
        batch.append(data)
    else:
        record_tracking_events([data])


def on_inbound(sender, event, esp_name, **kwargs) -> None:
    # The whole email (anymail's AnymailInboundMessage is an EmailMessage): the reply inbox reads
    # its headers, parts and attachments as it reads an email fetched over IMAP.
    record_inbound_email(message=event.message, received_at=event.timestamp)
