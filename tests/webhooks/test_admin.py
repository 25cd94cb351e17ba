"""Issue 19 point 6 in the admin: endpoints with the secret shown once, the delivery log, replay
of failed deliveries and the test ping; only the admin role manages and replays."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from campaigns.events import emit_event
from tests.factories import ClientFactory
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services.dispatch import fan_out, send_due

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:webhooks_webhookendpoint_changelist"


@pytest.fixture
def staff(client, operator):
    client.force_login(operator)
    return client


def test_adding_an_endpoint_shows_its_secret_once(staff, receiver):
    customer = ClientFactory()
    answer = staff.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"client": customer.pk, "url": receiver.url, "event_types": ["lead.won", "lead.qualified"],
         "description": "CRM", "is_active": "on"},
        follow=True,
    )  # fmt: skip
    assert answer.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    shown = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    assert endpoint.secret in shown and endpoint.event_types == ["lead.won", "lead.qualified"]
    page = staff.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()


def test_an_unsafe_url_is_a_form_error(staff, settings):
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = False
    answer = staff.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"client": ClientFactory().pk, "url": "http://localhost/x", "event_types": ["lead.won"]},
    )
    assert answer.status_code == 200 and "loopback" in answer.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_delivery_log_replay_and_ping(staff, receiver, make_endpoint):
    endpoint, _ = make_endpoint(receiver)
    receiver.script = [500] * 2
    with transaction.atomic():
        emit_event("lead.won", client=endpoint.client, data={"lead": {"id": 1, "email": "a@x.org"}})
    fan_out()
    send_due()
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED, dead_at=timezone.now())
    log = staff.get(
        reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
    )
    assert log.status_code == 200 and "500" in log.content.decode()
    delivery = WebhookDelivery.objects.get()
    detail = staff.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert "xxxxxxxx" in detail  # the first 1 KB of the answer
    staff.post(reverse(CHANGELIST), {"action": "replay_all_failed", "_selected_action": [endpoint.pk]})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    receiver.script = []
    send_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and len(receiver.accepted) == 1
    staff.post(reverse(CHANGELIST), {"action": "send_ping", "_selected_action": [endpoint.pk]})
    assert WebhookDelivery.objects.filter(kind="ping", status=DeliveryStatus.DELIVERED).count() == 1


def test_an_operator_reads_the_log_but_does_not_replay(client, operator_role_user, receiver, make_endpoint):
    endpoint, _ = make_endpoint(receiver)
    client.force_login(operator_role_user)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    page = client.get(reverse("admin:webhooks_webhookdelivery_changelist")).content.decode()
    assert "replay_selected" not in page
    answer = client.post(reverse(CHANGELIST), {"action": "send_ping", "_selected_action": [endpoint.pk]})
    assert not WebhookDelivery.objects.exists() and answer.status_code in (200, 302, 403)
