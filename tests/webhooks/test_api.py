"""Issue 19 point 1 and 6 through the API: client users manage their own client's endpoints and
read their deliveries; another client's endpoint is a 404; the secret is shown once."""

from __future__ import annotations

import pytest

from campaigns.models import AuditEvent
from tests.factories import ClientUserFactory
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
BASE = "/api/v1/webhooks/endpoints/"


def _create(api, url, **body):
    return api.post(BASE, {"url": url, "event_types": ["lead.won"], **body}, format="json")


def test_a_client_user_creates_sees_and_changes_its_own_endpoint(api_as, client_user, receiver):
    api = api_as(client_user)
    created = _create(api, receiver.url, description="CRM")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["client"] == client_user.client_id
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.secret == body["secret"]
    # shown once: never again in a list or detail
    detail = api.get(f"{BASE}{endpoint.pk}/").json()
    assert "secret" not in detail and "secret" not in api.get(BASE).json()["results"][0]
    changed = api.patch(
        f"{BASE}{endpoint.pk}/", {"event_types": ["lead.won", "lead.qualified"]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["event_types"] == ["lead.won", "lead.qualified"]
    rotated = api.post(f"{BASE}{endpoint.pk}/rotate-secret/", {"overlap_seconds": 60}, format="json")
    assert rotated.status_code == 200 and rotated.json()["secret"] != body["secret"]
    assert rotated.json()["previous_secret_expires_at"]
    receiver.secrets.append(rotated.json()["secret"])
    ping = api.post(f"{BASE}{endpoint.pk}/ping/", format="json")
    assert ping.status_code == 200 and ping.json()["status"] == DeliveryStatus.DELIVERED
    log = api.get(f"{BASE}{endpoint.pk}/deliveries/").json()
    assert [d["kind"] for d in log["results"]] == ["ping"]
    assert api.get(f"{BASE}{endpoint.pk}/deliveries/?status=failed").json()["results"] == []
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {
        "webhook_endpoint.created",
        "webhook_endpoint.updated",
        "webhook_endpoint.secret_rotated",
    } <= verbs
    assert api.delete(f"{BASE}{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_another_clients_endpoint_and_deliveries_are_404(api_as, client_user, receiver):
    other = ClientUserFactory()
    endpoint_id = _create(api_as(other), receiver.url).json()["id"]
    WebhookDelivery.objects.create(
        endpoint_id=endpoint_id,
        message_id="msg_x",
        event_type="lead.won",
        payload="{}",
        window_started_at="2026-03-02T10:00:00Z",
        created_at="2026-03-02T10:00:00Z",
    )
    api = api_as(client_user)
    assert api.get(BASE).json()["results"] == []
    for method, path in [
        ("get", f"{BASE}{endpoint_id}/"),
        ("get", f"{BASE}{endpoint_id}/deliveries/"),
        ("patch", f"{BASE}{endpoint_id}/"),
        ("delete", f"{BASE}{endpoint_id}/"),
        ("post", f"{BASE}{endpoint_id}/rotate-secret/"),
        ("post", f"{BASE}{endpoint_id}/ping/"),
    ]:
        assert getattr(api, method)(path, {}, format="json").status_code == 404, (method, path)
    assert WebhookEndpoint.objects.filter(pk=endpoint_id).exists()
    refused = _create(api, receiver.url, client=other.client_id)
    assert refused.status_code == 403


def test_unsafe_urls_are_400_naming_the_reason(api_as, client_user, settings):
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = False
    answer = _create(api_as(client_user), "http://localhost:8000/hook")
    assert answer.status_code == 400 and answer.json()["code"] == "unsafe_url"
    assert "loopback" in answer.json()["detail"]
    unknown = api_as(client_user).post(
        BASE, {"url": "https://93.184.216.34/", "event_types": ["x.y"]}, format="json"
    )
    assert unknown.status_code == 400


def test_endpoints_per_client_are_limited(api_as, client_user, receiver, settings):
    settings.AICMO_WEBHOOKS_MAX_ENDPOINTS_PER_CLIENT = 1
    api = api_as(client_user)
    assert _create(api, receiver.url).status_code == 201
    second = _create(api, receiver.url)
    assert second.status_code == 400 and second.json()["limit"] == "AICMO_WEBHOOKS_MAX_ENDPOINTS_PER_CLIENT"


def test_staff_roles(api_as, operator_role_user, admin_role_user, client_user, receiver):
    assert _create(api_as(operator_role_user), receiver.url, client=client_user.client_id).status_code == 403
    assert _create(api_as(admin_role_user), receiver.url).status_code == 400  # must name the client
    created = _create(api_as(admin_role_user), receiver.url, client=client_user.client_id)
    assert created.status_code == 201
    # operators read every client's endpoints and logs
    assert api_as(operator_role_user).get(BASE).json()["count"] == 1


def test_event_types_are_listed_with_their_schemas(api_as, client_user):
    answer = api_as(client_user).get("/api/v1/webhooks/event-types/")
    assert answer.status_code == 200
    types = {t["type"]: t for t in answer.json()["event_types"]}
    assert {"lead.won", "message.sent", "campaign.state_changed", "mailbox.paused"} <= set(types)
    assert types["message.sent"]["batchable"] and types["mailbox.paused"]["emitted"]
    assert types["lead.won"]["schema"]["properties"]["deal_value"]
    assert answer.json()["envelope"]["required"]


def test_the_openapi_schema_documents_the_webhook_routes(api_as, operator):
    schema = api_as(operator).get("/api/schema/?format=json").json()
    assert "/api/v1/webhooks/event-types/" in schema["paths"]
    assert "post" in schema["paths"]["/api/v1/webhooks/endpoints/{id}/rotate-secret/"]
