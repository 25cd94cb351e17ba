"""The send path with a subscribed endpoint: one outbox INSERT per slice, never a query per message."""

from __future__ import annotations

import pytest

from campaigns.models import OutboxEvent
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture)
from tests.outreach.sending.test_sending import queries_of_a_run
from webhooks.services import create_endpoint

pytestmark = pytest.mark.django_db


def test_queries_per_chunk_do_not_grow_with_the_chunk_size_when_subscribed(live_campaign, settings):  # noqa: F811
    settings.OUTREACH_SEND_CONCURRENCY = 1
    counts = {}
    for size in (4, 16):
        campaign, sequence = live_campaign(leads=size, cap=100)
        create_endpoint(client=campaign.client, url="http://127.0.0.1:9/h", event_types=["message.sent"])
        counts[size] = queries_of_a_run(campaign, sequence, size)
        events = OutboxEvent.objects.filter(campaign=campaign, type="message.sent")
        assert events.count() == size
        assert {e.data["lead"]["email"] for e in events} == set(
            campaign.leads.values_list("email", flat=True)
        )
    assert counts[4] == counts[16], counts
