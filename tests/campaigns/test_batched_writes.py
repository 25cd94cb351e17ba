"""The send record's economies (issue 16, docs/PERFORMANCE.md): its audit events written in one
INSERT (``audit_events_batched``), and who subscribes to its events read once a second rather
than at every record (``subscriptions_held``)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from campaigns import events
from campaigns.models import AuditEvent
from campaigns.services.audit import audit_events_batched, record_audit_event
from tests.factories import CampaignFactory


def audit_inserts(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith(f'INSERT INTO "{AuditEvent._meta.db_table}"'))


@pytest.mark.django_db
def test_the_events_of_a_batch_are_written_in_one_insert_as_it_ends():
    campaign = CampaignFactory()
    with CaptureQueriesContext(connection) as queries, transaction.atomic(), audit_events_batched():
        record_audit_event(verb="email.sent", campaign=campaign, metadata={"count": 2})
        with audit_events_batched():  # nested: the outer block writes
            record_audit_event(verb="lead.mark_contacted", campaign=campaign)
        assert not AuditEvent.objects.filter(campaign=campaign).exists()
    assert audit_inserts(queries.captured_queries) == 1
    assert list(
        AuditEvent.objects.filter(campaign=campaign).order_by("pk").values_list("verb", flat=True)
    ) == [
        "email.sent",
        "lead.mark_contacted",
    ]
    record_audit_event(verb="after", campaign=campaign)  # outside a batch: written at once
    assert AuditEvent.objects.filter(campaign=campaign, verb="after").exists()


@pytest.mark.django_db
def test_a_batch_that_raises_writes_nothing():
    campaign = CampaignFactory()
    with pytest.raises(RuntimeError), audit_events_batched():
        record_audit_event(verb="email.sent", campaign=campaign)
        raise RuntimeError("the record failed")
    assert not AuditEvent.objects.filter(campaign=campaign).exists()
    record_audit_event(verb="later", campaign=campaign)  # the batch is over
    assert AuditEvent.objects.filter(campaign=campaign, verb="later").exists()


def test_subscriptions_are_read_once_a_second_inside_a_held_block(monkeypatch):
    reads: list[int] = []

    def lookup(client_id: int) -> frozenset[str]:
        reads.append(client_id)
        return frozenset({"message.sent"})

    monkeypatch.setitem(events._lookup, "subscriptions", lookup)
    assert events.is_subscribed(1, "message.sent") and events.is_subscribed(1, "message.sent")
    assert reads == [1, 1]  # outside a block: every time
    with events.subscriptions_held():
        for _ in range(5):
            assert events.is_subscribed(1, "message.sent")
            assert not events.is_subscribed(2, "lead.created")
        assert reads == [1, 1, 1, 2]
        monkeypatch.setattr(events, "SUBSCRIPTIONS_HELD_SECONDS", 0.0)  # the second is up
        events._held.types.clear()
        events.is_subscribed(1, "message.sent")
        events.is_subscribed(1, "message.sent")
        assert reads == [1, 1, 1, 2, 1, 1]
    events.is_subscribed(1, "message.sent")
    assert reads[-1] == 1 and len(reads) == 7  # the block is over
