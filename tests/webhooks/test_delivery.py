"""Issue 19: the outbox, signed delivery, retries, dead letters, batching and auto-disable, against
a real loopback receiver that verifies every signature with the standardwebhooks library."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from campaigns.events import emit_event, emit_events
from campaigns.models import AuditEvent, OutboxEvent
from tests.factories import ClientFactory
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import replay_failed, rotate_secret, send_test_ping
from webhooks.services.dispatch import dispatch, fan_out, send_due

from .conftest import free_port
from .receiver import Receiver

pytestmark = pytest.mark.django_db


def _won(client, n: int = 1) -> list[str]:
    ids = []
    for i in range(n):
        with transaction.atomic():
            event = emit_event("lead.won", client=client, data={"lead": {"id": i, "email": f"l{i}@x.org"}})
        ids.append(event.event_id)
    return ids


def _until_settled(rounds: int = 12):
    """Run the dispatcher as beat would, the clock moving past every retry's delay."""
    now = timezone.now()
    fan_out(now=now)
    for _ in range(rounds):
        send_due(now=now)
        if not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists():
            return
        now += timedelta(seconds=30)


def test_an_event_arrives_signed_with_its_versioned_envelope(receiver, make_endpoint):
    endpoint, secret = make_endpoint(receiver)
    [event_id] = _won(endpoint.client)
    result = dispatch(budget_seconds=5)
    assert result.delivered == 1
    [request] = receiver.requests
    assert request["verified"] and secret.startswith("whsec_")
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(request["headers"])
    body = json.loads(request["body"])
    assert body["type"] == "lead.won" and body["version"] == 1 and body["id"] == event_id
    assert body["client"] == endpoint.client_id and body["data"]["lead"]["email"] == "l0@x.org"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1
    assert delivery.last_status_code == 200 and delivery.message_id == request["headers"]["webhook-id"]


def test_a_rolled_back_transaction_delivers_nothing(receiver, make_endpoint):
    endpoint, _ = make_endpoint(receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        emit_event("lead.won", client=endpoint.client, data={"lead": {"id": 1, "email": "a@x.org"}})
        raise RuntimeError("the change failed")
    assert not OutboxEvent.objects.exists()
    dispatch(budget_seconds=5)
    assert receiver.requests == []


def test_no_subscriber_no_outbox_row(receiver, make_endpoint):
    endpoint, _ = make_endpoint(receiver, event_types=["lead.qualified"])
    assert emit_event("lead.won", client=endpoint.client, data={}) is None
    assert emit_event("lead.won", client=ClientFactory(), data={}) is None
    assert not OutboxEvent.objects.exists()


def test_500s_and_timeouts_then_recovery_deliver_each_event_once(receiver, make_endpoint):
    receiver.script = [500, "timeout", 503, 500]
    receiver.slow_seconds = 1.0  # longer than the 0.5 s timeout: the receiver did take it
    endpoint, _ = make_endpoint(receiver)
    emitted = _won(endpoint.client, 3)
    _until_settled()
    time.sleep(receiver.slow_seconds)  # the timed-out request finishes on the receiver's side
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 3
    accepted = [e["id"] for e in receiver.events()]
    assert sorted(accepted) == sorted(emitted)  # each event accepted exactly once
    assert len(receiver.requests) >= 3 + 4
    assert receiver.rejected == 0
    assert receiver.duplicates == 1  # the timed-out POST did arrive: its retry is a duplicate
    retried = WebhookDelivery.objects.filter(attempts__gt=1)
    assert retried.exists()
    for delivery in WebhookDelivery.objects.all():
        assert len(delivery.last_response_body) <= 1024


def test_connection_refused_then_recovery(make_endpoint):
    port = free_port()
    endpoint, secret = make_endpoint(f"http://127.0.0.1:{port}/hook")
    [event_id] = _won(endpoint.client)
    now = timezone.now()
    fan_out(now=now)
    send_due(now=now)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_status_code is None and "Connection" in delivery.last_error
    assert delivery.next_attempt_at > now
    with Receiver([secret], port=port) as receiver:
        send_due(now=now + timedelta(hours=1))
        assert [e["id"] for e in receiver.events()] == [event_id]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2


def test_dead_lettered_after_the_maximum_age_then_replayed(receiver, make_endpoint, settings):
    settings.AICMO_WEBHOOKS_MAX_AGE_SECONDS = 60
    receiver.script = [500] * 3
    endpoint, _ = make_endpoint(receiver)
    [event_id] = _won(endpoint.client)
    now = timezone.now()
    fan_out(now=now)
    send_due(now=now)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at <= now + timedelta(seconds=60)  # never past the maximum age
    send_due(now=now + timedelta(seconds=61))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.dead_at is not None
    assert send_due(now=now + timedelta(days=1)).delivered == 0  # dead letters stay put
    assert replay_failed(endpoint=endpoint) == 1
    receiver.script = []
    send_due(now=now + timedelta(days=1))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert [e["id"] for e in receiver.events()] == [event_id]
    assert AuditEvent.objects.filter(verb="webhook_delivery.replayed").exists()


def test_another_clients_events_never_reach_an_endpoint(make_endpoint):
    with Receiver() as first, Receiver() as second:
        endpoint_a, _ = make_endpoint(first)
        endpoint_b, _ = make_endpoint(second)
        ids_a = _won(endpoint_a.client, 2)
        ids_b = _won(endpoint_b.client, 1)
        dispatch(budget_seconds=5)
        assert sorted(e["id"] for e in first.events()) == sorted(ids_a)
        assert [e["id"] for e in second.events()] == ids_b
        assert {e["client"] for e in first.events()} == {endpoint_a.client_id}


def test_secret_rotation_signs_with_both_during_the_overlap(receiver, make_endpoint):
    endpoint, old = make_endpoint(receiver)
    new = rotate_secret(endpoint=endpoint, overlap_seconds=3600)
    assert new != old and new.startswith("whsec_")
    receiver.secrets = [old]  # a receiver not yet switched over
    _won(endpoint.client)
    dispatch(budget_seconds=5)
    request = receiver.requests[-1]
    assert request["verified"] and len(request["headers"]["webhook-signature"].split(" ")) == 2
    assert Receiver([new]).verify(request["body"], request["headers"])
    # the overlap over: only the new secret signs
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    _won(endpoint.client)
    dispatch(budget_seconds=5)
    request = receiver.requests[-1]
    assert not request["verified"] and len(request["headers"]["webhook-signature"].split(" ")) == 1
    assert Receiver([new]).verify(request["body"], request["headers"])


def test_batching_sends_up_to_100_message_sent_events_per_post(receiver, make_endpoint):
    endpoint, _ = make_endpoint(receiver, event_types=["message.sent", "lead.won"], batch_enabled=True)
    items = [{"message_id": i, "lead": {"id": i, "email": f"{i}@x.org"}, "step_id": 1} for i in range(250)]
    with transaction.atomic():
        written = emit_events("message.sent", client=endpoint.client, items=items)
    _won(endpoint.client)  # not batchable: its own POST
    assert fan_out().created == 4
    dispatch(budget_seconds=5)
    assert len(receiver.requests) == 4
    sizes = sorted(body["data"]["count"] for body in receiver.accepted.values() if body["type"] == "batch")
    assert sizes == [50, 100, 100]
    sent_ids = sorted(e["id"] for e in receiver.events() if e["type"] == "message.sent")
    assert sent_ids == sorted(e.event_id for e in written)


def test_unbatched_endpoint_gets_one_post_per_event(receiver, make_endpoint):
    endpoint, _ = make_endpoint(receiver, event_types=["message.sent"])
    with transaction.atomic():
        emit_events("message.sent", client=endpoint.client, items=[{"message_id": i} for i in range(5)])
    dispatch(budget_seconds=5)
    assert len(receiver.accepted) == 5


def test_an_endpoint_failing_too_long_is_disabled_owner_emailed_and_audited(
    receiver, make_endpoint, settings, django_capture_on_commit_callbacks
):
    settings.AICMO_WEBHOOKS_DISABLE_AFTER_SECONDS = 120
    receiver.script = [500] * 10
    endpoint, _ = make_endpoint(receiver, contact_email="ops@client.example")
    _won(endpoint.client)
    now = timezone.now()
    fan_out(now=now)
    send_due(now=now)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since == now
    with django_capture_on_commit_callbacks(execute=True):
        result = send_due(now=now + timedelta(seconds=121))
    assert result.disabled == 1
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"webhook_endpoint.disabled", "webhook_endpoint.owner_notified"} <= verbs
    [email] = mail.outbox
    assert email.to == ["ops@client.example"] and endpoint.url in email.body
    # disabled: nothing more is sent, and new events are no longer written
    assert send_due(now=now + timedelta(days=1)).delivered == 0
    assert emit_event("lead.won", client=endpoint.client, data={}) is None


def test_a_success_clears_the_failure_record(receiver, make_endpoint):
    receiver.script = [500]
    endpoint, _ = make_endpoint(receiver)
    _won(endpoint.client)
    _until_settled()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_test_ping(receiver, make_endpoint):
    endpoint, _ = make_endpoint(receiver)
    delivery = send_test_ping(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.kind == "ping"
    [body] = receiver.accepted.values()
    assert body["type"] == "webhook.ping" and body["data"]["endpoint_id"] == endpoint.pk


def test_retention_prunes_finished_rows_and_keeps_pending_ones(receiver, make_endpoint):
    from webhooks.services import prune_old_webhook_rows

    endpoint, _ = make_endpoint(receiver)
    _won(endpoint.client, 2)
    dispatch(budget_seconds=5)
    receiver.script = [500]
    _won(endpoint.client)
    dispatch(budget_seconds=5)
    assert prune_old_webhook_rows(cutoff=timezone.now() + timedelta(seconds=1)) == 3 + 2
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [DeliveryStatus.PENDING]


def test_docs_list_every_event_type():
    from pathlib import Path

    from campaigns.event_types import EVENT_TYPES

    docs = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text(encoding="utf-8")
    missing = [name for name in EVENT_TYPES if f"`{name}`" not in docs]
    assert missing == []


def test_beat_runs_the_dispatcher_task(receiver, make_endpoint, settings):
    from aicmo_site.celery import app
    from webhooks.tasks import dispatch_webhooks

    app.loader.import_default_modules()
    assert settings.CELERY_BEAT_SCHEDULE["webhooks-dispatch"]["task"] in app.tasks
    endpoint, _ = make_endpoint(receiver)
    _won(endpoint.client, 2)
    result = dispatch_webhooks.apply().get()
    assert result["delivered"] == 2 and len(receiver.accepted) == 2
