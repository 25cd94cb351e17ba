from __future__ import annotations

import io
import re

import pytest

from campaigns.models import AuditEvent, Campaign, CampaignState
from tests.factories import CampaignFactory, ClientFactory

pytestmark = pytest.mark.django_db
S = CampaignState


def url(campaign_id=None, action=None):
    base = "/api/v1/campaigns/"
    if campaign_id is None:
        return base
    return f"{base}{campaign_id}/" + (f"{action}/" if action else "")


def test_requires_authentication(api_as):
    response = api_as(None).get(url())
    assert response.status_code == 401


def test_list_is_paginated_and_scoped(api_as, client_user, other_client_user):
    mine = [CampaignFactory(client=client_user.client) for _ in range(3)]
    CampaignFactory(client=other_client_user.client)
    response = api_as(client_user).get(url(), {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2 and body["next"]
    second = api_as(client_user).get(body["next"]).json()
    assert {c["id"] for c in body["results"] + second["results"]} == {c.pk for c in mine}


def test_page_size_is_capped(api_as, operator):
    CampaignFactory.create_batch(3)
    response = api_as(operator).get(url(), {"page_size": 10_000})
    assert response.status_code == 200  # capped at the max page size, not refused


def test_staff_see_every_client(api_as, operator, client_user, other_client_user):
    a = CampaignFactory(client=client_user.client)
    b = CampaignFactory(client=other_client_user.client)
    ids = {c["id"] for c in api_as(operator).get(url()).json()["results"]}
    assert {a.pk, b.pk} <= ids


def test_client_creates_for_own_client_in_dry_run(api_as, client_user):
    response = api_as(client_user).post(
        url(), {"name": "Launch", "type": "product_launch", "channels": ["email", "x"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.client == client_user.client
    assert body["mode"] == "dry_run" and body["state"] == "draft" and body["daily_email_cap"] == 20
    assert AuditEvent.objects.filter(campaign=campaign, verb="campaign.created", actor=client_user).exists()


def test_client_cannot_create_for_another_client(api_as, client_user, other_client_user):
    response = api_as(client_user).post(
        url(), {"name": "x", "client": other_client_user.client_id}, format="json"
    )
    assert response.status_code == 403
    assert not Campaign.objects.exists()


def test_staff_must_name_the_client(api_as, operator):
    response = api_as(operator).post(url(), {"name": "x"}, format="json")
    assert response.status_code == 400
    assert "client" in response.json()
    client = ClientFactory()
    response = api_as(operator).post(url(), {"name": "x", "client": client.pk}, format="json")
    assert response.status_code == 201


def test_invalid_input_names_the_field(api_as, client_user):
    response = api_as(client_user).post(
        url(), {"name": "x", "type": "podcast", "daily_email_cap": -1}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"type", "daily_email_cap"}


def test_detail(api_as, client_user):
    campaign = CampaignFactory(client=client_user.client)
    body = api_as(client_user).get(url(campaign.pk)).json()
    assert body["id"] == campaign.pk
    assert body["available_transitions"] == ["start_planning", "kill"]


@pytest.mark.parametrize(
    ("action", "source", "target"),
    [
        ("pause", S.ACTIVE, S.PAUSED),
        ("resume", S.PAUSED, S.ACTIVE),
        ("kill", S.ACTIVE, S.CANCELLED),
        ("kill", S.DRAFT, S.CANCELLED),
    ],
)
def test_pause_resume_kill(api_as, client_user, campaign_in_state, action, source, target):
    campaign = campaign_in_state(source, client=client_user.client)
    response = api_as(client_user).post(
        url(campaign.pk, action), {"reason": "client decision"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == target
    event = AuditEvent.objects.filter(campaign=campaign).latest("id")
    assert event.actor == client_user and event.rationale == "client decision"


def test_illegal_transition_is_409_with_message(api_as, client_user, campaign_in_state):
    campaign = campaign_in_state(S.COMPLETED, client=client_user.client)
    response = api_as(client_user).post(url(campaign.pk, "resume"), {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert body["state"] == "completed"
    assert "it is completed" in body["detail"]
    campaign.refresh_from_db()
    assert campaign.state == S.COMPLETED


def test_kill_without_reason_is_400(api_as, client_user, campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE, client=client_user.client)
    response = api_as(client_user).post(url(campaign.pk, "kill"), {}, format="json")
    assert response.status_code == 400
    assert "rationale is required" in response.json()["detail"]
    campaign.refresh_from_db()
    assert campaign.state == S.ACTIVE


@pytest.mark.parametrize(
    ("transition", "source", "target"),
    [
        ("start_planning", S.DRAFT, S.PLANNING),
        ("submit_for_approval", S.PLANNING, S.AWAITING_APPROVAL),
        ("return_to_planning", S.AWAITING_APPROVAL, S.PLANNING),
        ("approve", S.AWAITING_APPROVAL, S.APPROVED),
        ("activate", S.APPROVED, S.ACTIVE),
        ("pause", S.ACTIVE, S.PAUSED),
        ("resume", S.PAUSED, S.ACTIVE),
        ("complete", S.ACTIVE, S.COMPLETED),
        ("complete", S.PAUSED, S.COMPLETED),
        ("kill", S.PLANNING, S.CANCELLED),
    ],
)
def test_generic_transition_endpoint_covers_the_lifecycle(
    api_as, operator, campaign_in_state, transition, source, target
):
    campaign = campaign_in_state(source)
    response = api_as(operator).post(
        url(campaign.pk, "transition"),
        {"transition": transition, "reason": "operator decision"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == target


def test_client_may_not_approve_unless_allowed(api_as, client_user, campaign_in_state):
    campaign = campaign_in_state(S.AWAITING_APPROVAL, client=client_user.client)
    response = api_as(client_user).post(
        url(campaign.pk, "transition"), {"transition": "approve"}, format="json"
    )
    assert response.status_code == 403
    Campaign.objects.filter(pk=campaign.pk).update(allow_client_approval=True)
    response = api_as(client_user).post(
        url(campaign.pk, "transition"), {"transition": "approve"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == S.APPROVED


def test_unknown_transition_name_is_400(api_as, operator, campaign_in_state):
    campaign = campaign_in_state(S.DRAFT)
    response = api_as(operator).post(url(campaign.pk, "transition"), {"transition": "launch"}, format="json")
    assert response.status_code == 400
    assert "transition" in response.json()


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [
        ("get", None, None),
        ("post", "pause", {"reason": "x"}),
        ("post", "resume", {"reason": "x"}),
        ("post", "kill", {"reason": "x"}),
        ("post", "transition", {"transition": "complete"}),
    ],
)
def test_another_clients_campaign_is_404_for_every_endpoint(
    api_as, client_user, other_client_user, campaign_in_state, method, action, body
):
    theirs = campaign_in_state(S.ACTIVE, client=other_client_user.client)
    client = api_as(client_user)
    response = getattr(client, method)(url(theirs.pk, action), body, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == S.ACTIVE
    assert not AuditEvent.objects.filter(campaign=theirs, actor=client_user).exists()


def test_other_clients_campaign_never_listed(api_as, client_user, other_client_user):
    theirs = CampaignFactory(client=other_client_user.client)
    ids = [c["id"] for c in api_as(client_user).get(url(), {"page_size": 100}).json()["results"]]
    assert theirs.pk not in ids


def test_user_without_client_sees_nothing(api_as, db):
    from tests.factories import UserFactory

    lonely = UserFactory()
    CampaignFactory()
    assert api_as(lonely).get(url()).json()["count"] == 0


def test_schema_and_docs_are_served(api_as, client_user):
    schema = api_as(client_user).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in [
        "/api/v1/campaigns/",
        "/api/v1/campaigns/{id}/",
        "/api/v1/campaigns/{id}/pause/",
        "/api/v1/campaigns/{id}/resume/",
        "/api/v1/campaigns/{id}/kill/",
    ]:
        assert path in paths
    assert "409" in paths["/api/v1/campaigns/{id}/pause/"]["post"]["responses"]
    docs = api_as(client_user).get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert not re.search(rb'(src|href)="(https?:)?//', docs.content)  # assets ship in the sidecar package


def test_throttling_is_configured(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["user"] and rates["anon"]


def test_throttle_answers_429(api_as, client_user, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import UserRateThrottle

    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"}
    try:
        client = api_as(client_user)
        codes = [client.get(url()).status_code for _ in range(4)]
    finally:
        UserRateThrottle.THROTTLE_RATES = original
    assert codes == [200, 200, 200, 429]


def test_openapi_schema_is_valid_and_warning_free():
    """Every endpoint is documented without guesses (drf-spectacular warns when it has to guess)."""
    from django.core.management import call_command

    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/campaigns/" in out.getvalue()
