"""The API gives a client user its own campaigns' replies, read-only; another client's are a 404."""

from __future__ import annotations

import pytest

from outreach.services.inbox.ingest import ingest_email
from tests.factories import ClientUserFactory

from .conftest import reply_email

pytestmark = pytest.mark.django_db


def test_a_client_user_reads_its_campaigns_replies_and_only_those(sent, api_as):
    campaign, messages = sent
    reply = ingest_email(reply_email(messages[0], text="Yes, I'm interested. Tell me more."))
    ingest_email(reply_email(None, sender="stranger@elsewhere.example"))  # unmatched: no campaign, not shown
    own = ClientUserFactory(client=campaign.client)
    url = f"/api/v1/campaigns/{campaign.pk}/replies/"
    response = api_as(own).get(url)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [reply.pk]
    assert rows[0]["category"] == "interested" and rows[0]["from_email"] == messages[0].to_email
    assert api_as(own).get(url, {"category": "bounce"}).json()["results"] == []
    assert api_as(own).get(url, {"handled": "false"}).json()["results"][0]["id"] == reply.pk
    assert api_as(own).get(url, {"category": "nonsense"}).status_code == 400
    # read-only
    assert api_as(own).post(url, {"category": "other"}, format="json").status_code in (403, 405)

    stranger = ClientUserFactory()
    assert api_as(stranger).get(url).status_code == 404
