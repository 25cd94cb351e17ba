"""anymail delivers webhook events as Django signals (its public API); these receivers only
translate them and call the tracking services."""

from __future__ import annotations

from .services.tracking import TrackingInput, record_inbound_reply, record_tracking_event


def on_tracking(sender, event, esp_name, **kwargs) -> None:
    record_tracking_event(
        TrackingInput(
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
    )


def on_inbound(sender, event, esp_name, **kwargs) -> None:
    message = event.message
    record_inbound_reply(
        from_header=str(message.get("From", "")),
        subject=message.subject or "",
        text=message.text or "",
        headers={k: str(v) for k, v in message.items()},
        message_id_header=str(message.get("Message-ID", "")),
        received_at=event.timestamp,
    )
