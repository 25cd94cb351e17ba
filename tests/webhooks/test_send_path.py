"""The send path with a subscribed endpoint: one outbox INSERT per slice, never a query per message."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import OutboxEvent
from outreach.services import enroll_leads, schedule_due_messages, send_due_messages
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture)
from webhooks.services import create_endpoint

pytestmark = pytest.mark.django_db


def test_queries_per_chunk_do_not_grow_with_the_chunk_size_when_subscribed(live_campaign, settings):  # noqa: F811
    settings.OUTREACH_SEND_CONCURRENCY = 1
    counts = {}
    for size in (4, 16):
        campaign, sequence = live_campaign(leads=size, cap=100)
        create_endpoint(client=campaign.client, url="http://127.0.0.1:9/h", event_types=["message.sent"])
        enroll_leads(campaign=campaign, sequence=sequence)
        schedule_due_messages(campaign=campaign)
        send_due_messages(campaign_id=campaign.pk, dry_run=False, chunk_size=1, max_chunks=1)  # warm caches
        with CaptureQueriesContext(connection) as queries:
            stats = send_due_messages(
                campaign_id=campaign.pk, dry_run=False, chunk_size=size - 1, max_chunks=2
            )
        assert stats.sent == size - 1
        counts[size] = len(queries.captured_queries)
        events = OutboxEvent.objects.filter(campaign=campaign, type="message.sent")
        assert events.count() == size
        assert {e.data["lead"]["email"] for e in events} == set(
            campaign.leads.values_list("email", flat=True)
        )
    assert counts[4] == counts[16], counts
