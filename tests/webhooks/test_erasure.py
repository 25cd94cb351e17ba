"""Right to erasure reaches webhook payloads: events and delivery bodies naming the address are
scrubbed (batches too), the others are left alone."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from campaigns.events import emit_event, emit_events
from campaigns.models import OutboxEvent
from leads.services import forget_person
from webhooks.models import WebhookDelivery
from webhooks.services.dispatch import fan_out

pytestmark = pytest.mark.django_db


def _lead(email: str) -> dict:
    return {"id": 1, "email": email, "company": "Ana's Bakery"}


def test_forget_person_scrubs_events_and_delivery_bodies(make_endpoint):
    endpoint, _ = make_endpoint(
        "http://127.0.0.1:9/hook", event_types=["message.sent", "reply.received"], batch_enabled=True
    )
    client = endpoint.client
    with transaction.atomic():
        emit_events(
            "message.sent",
            client=client,
            items=[
                {"message_id": 1, "lead": _lead("Ana@Example.org")},
                {"message_id": 2, "lead": _lead("bo@x.org")},
            ],
        )
        emit_event(
            "reply.received", client=client, data={"lead": _lead("ana@example.org"), "subject": "Re: Ana"}
        )
    fan_out()
    # one still to fan out, too
    with transaction.atomic():
        emit_event("reply.received", client=client, data={"lead": _lead("ana@example.org"), "subject": "Hi"})

    forget_person(email="ana@example.org", rationale="request")

    everything = json.dumps(list(OutboxEvent.objects.values_list("data", flat=True)))
    everything += " ".join(WebhookDelivery.objects.values_list("payload", flat=True))
    assert "ana@example.org" not in everything.lower() and "Re: Ana" not in everything
    assert "bo@x.org" in everything  # the other lead of the batch is untouched
    batch = json.loads(WebhookDelivery.objects.get(event_type="message.sent").payload)
    emails = [e["data"]["lead"]["email"] for e in batch["data"]["events"]]
    assert emails == ["[erased]", "bo@x.org"]
