"""Webhooks' part of the right to erasure (``leads.services.forget_person``): events and delivery
bodies that name the erased address lose the lead's email and company and a reply's subject. A
delivery still to be sent goes out scrubbed (same webhook-id); delivered ones stay in the log,
scrubbed. What receivers already got is theirs to erase."""

from __future__ import annotations

import json
from typing import Any

from campaigns.models import OutboxEvent

from ..models import WebhookDelivery

ERASED = "[erased]"


def _scrub_event(event: dict[str, Any], normalized_email: str) -> bool:
    data = event.get("data") or {}
    lead = data.get("lead")
    if not isinstance(lead, dict) or str(lead.get("email", "")).lower() != normalized_email:
        return False
    lead.update(email=ERASED, company="")
    if "subject" in data:
        data["subject"] = ERASED
    return True


def erase_webhook_personal_data(*, normalized_email: str, digest: str) -> int:
    """Runs inside forget_person's transaction; returns the rows scrubbed."""
    scrubbed = 0
    for event in OutboxEvent.objects.filter(data__lead__email__iexact=normalized_email):
        body = {"data": event.data}
        if _scrub_event(body, normalized_email):
            OutboxEvent.objects.filter(pk=event.pk).update(data=body["data"])
            scrubbed += 1
    for delivery in WebhookDelivery.objects.filter(payload__icontains=normalized_email).only("pk", "payload"):
        payload = json.loads(delivery.payload)
        events = payload["data"]["events"] if payload.get("type") == "batch" else [payload]
        if any([_scrub_event(event, normalized_email) for event in events]):
            text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(payload=text)
            scrubbed += 1
    return scrubbed
