"""Issue 15, point 8: the suppression list does not leak across clients.

A client user lists only their own client's entries. A global entry (a hard bounce found on another
client's lead, with the ESP's bounce text) reaches a client only as ``suppressed: true``: for an
address it asks about (``GET /api/v1/suppressions/check/?email=``) or for its own leads (the lead
list's ``suppressed`` filter). Staff keep seeing everything.
"""

from __future__ import annotations

import pytest

from campaigns.models import Client
from leads.models import Suppression
from leads.services import add_suppression
from tests.api_fuzz.leaks import foreign_references
from tests.api_fuzz.openapi import generated_schema
from tests.api_fuzz.world import ClientWorld
from tests.factories import CampaignFactory, ClientUserFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/suppressions/"
CHECK = "/api/v1/suppressions/check/"
# What an ESP says about a hard bounce: it quotes the address (another client's lead).
BOUNCE_TEXT = "550 5.1.1 <ops@begonia-freight.example>: Recipient address rejected: User unknown"


@pytest.fixture
def platform():
    """Client A (azalea) and client B (begonia). B's lead hard-bounced: a global entry with the
    ESP's text. Each client also has an entry of its own, and there is a global domain entry."""
    user_a = ClientUserFactory(client__name="Azalea Ltd")
    user_b = ClientUserFactory(client__name="Begonia Freight")
    campaign_b = CampaignFactory(client=user_b.client, name="Begonia outbound")
    LeadFactory(campaign=campaign_b, email="ops@begonia-freight.example", first_name="Begonia")
    bounce = add_suppression(
        reason="hard_bounce", email="ops@begonia-freight.example", source="mailgun bounce", note=BOUNCE_TEXT
    )
    blocked_domain = add_suppression(
        reason="complaint", domain="begonia-spamtrap.example", source="mailgun complaint", note=BOUNCE_TEXT
    )
    own_a = add_suppression(reason="manual_dnc", email="no@azalea-own.example", client=user_a.client)
    own_b = add_suppression(reason="manual_dnc", email="stop@begonia-own.example", client=user_b.client)
    world_b = ClientWorld(
        marker="begonia",
        client=user_b.client,
        user=user_b,
        token="",
        ids={"client": {user_b.client.pk}, "suppression": {own_b.pk}},
    )
    return {
        "a": user_a,
        "b": user_b,
        "world_b": world_b,
        "bounce": bounce,
        "domain": blocked_domain,
        "own_a": own_a,
        "own_b": own_b,
    }


def test_a_client_lists_only_its_own_entries(api_as, platform):
    response = api_as(platform["a"]).get(LIST)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [platform["own_a"].pk]
    assert (
        foreign_references(text=response.content.decode(), method="GET", path=LIST, other=platform["world_b"])
        == []
    )
    assert "550 5.1.1" not in response.content.decode()
    # B does not see the global entry its own bounce caused either: its text is the ESP's.
    listed_b = api_as(platform["b"]).get(LIST).json()["results"]
    assert [row["id"] for row in listed_b] == [platform["own_b"].pk]


def test_staff_list_every_entry(api_as, operator, platform):
    listed = {row["id"] for row in api_as(operator).get(LIST, {"page_size": 100}).json()["results"]}
    assert listed == {p.pk for p in Suppression.objects.all()} and len(listed) == 4


def test_a_global_entry_reaches_a_client_only_as_suppressed_for_the_address_it_asks_about(api_as, platform):
    api = api_as(platform["a"])
    response = api.get(CHECK, {"email": "Ops@Begonia-Freight.example"})
    assert response.status_code == 200
    assert response.json() == {"email": "ops@begonia-freight.example", "suppressed": True, "entries": []}
    text = response.content.decode()
    assert "550" not in text and "mailgun" not in text and "hard_bounce" not in text
    # A global domain entry counts too, still without its reason or text.
    by_domain = api.get(CHECK, {"email": "anyone@begonia-spamtrap.example"}).json()
    assert by_domain["suppressed"] is True and by_domain["entries"] == []
    # Another client's own entry does not apply to A, and A learns nothing of it.
    assert api.get(CHECK, {"email": "stop@begonia-own.example"}).json() == {
        "email": "stop@begonia-own.example",
        "suppressed": False,
        "entries": [],
    }
    assert api.get(CHECK, {"email": "fresh@azalea-new.example"}).json()["suppressed"] is False


def test_a_client_reads_its_own_matching_entries_in_full(api_as, platform):
    body = api_as(platform["a"]).get(CHECK, {"email": "no@azalea-own.example"}).json()
    assert body["suppressed"] is True
    assert [(e["id"], e["reason"], e["client"]) for e in body["entries"]] == [
        (platform["own_a"].pk, "manual_dnc", platform["a"].client_id)
    ]


def test_a_client_sees_its_own_lead_suppressed_by_a_global_entry(api_as, platform):
    campaign_a = CampaignFactory(client=platform["a"].client)
    lead = LeadFactory(campaign=campaign_a, email="shared@common-host.example")
    other = LeadFactory(campaign=campaign_a, email="fine@common-host.example")
    add_suppression(reason="hard_bounce", email="shared@common-host.example", note="550 mailbox full")
    api = api_as(platform["a"])
    leads = api.get(f"/api/v1/campaigns/{campaign_a.pk}/leads/", {"suppressed": "true"}).json()["results"]
    assert [row["id"] for row in leads] == [lead.pk] and other.pk not in {row["id"] for row in leads}
    assert api.get(CHECK, {"email": "shared@common-host.example"}).json()["suppressed"] is True
    assert "550" not in api.get(LIST).content.decode()


def test_staff_check_shows_the_global_entry_with_its_details(api_as, operator, platform):
    body = api_as(operator).get(CHECK, {"email": "ops@begonia-freight.example"}).json()
    assert body["suppressed"] is True
    assert [(e["id"], e["reason"], e["note"]) for e in body["entries"]] == [
        (platform["bounce"].pk, "hard_bounce", BOUNCE_TEXT)
    ]
    for_b = (
        api_as(operator)
        .get(CHECK, {"email": "stop@begonia-own.example", "client": platform["b"].client_id})
        .json()
    )
    assert for_b["suppressed"] is True and [e["id"] for e in for_b["entries"]] == [platform["own_b"].pk]
    for_a = (
        api_as(operator)
        .get(CHECK, {"email": "stop@begonia-own.example", "client": platform["a"].client_id})
        .json()
    )
    assert for_a == {"email": "stop@begonia-own.example", "suppressed": False, "entries": []}


def test_check_refuses_bad_input_with_a_named_field(api_as, operator, platform):
    api = api_as(platform["a"])
    assert "email" in api.get(CHECK).json()
    assert "email" in api.get(CHECK, {"email": "not-an-address"}).json()
    foreign = api.get(CHECK, {"email": "x@y.example", "client": platform["b"].client_id})
    assert foreign.status_code == 400 and "client" in foreign.json()
    missing = api_as(operator).get(CHECK, {"email": "x@y.example", "client": Client.objects.count() + 99})
    assert missing.status_code == 400 and "client" in missing.json()
    assert api_as(None).get(CHECK, {"email": "x@y.example"}).status_code in (401, 403)


def test_the_schema_documents_the_check_as_it_answers(api_as, platform):
    schema = generated_schema()
    operation = schema["paths"][CHECK]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["email"]["required"] is True and parameters["email"]["in"] == "query"
    assert parameters["client"].get("required", False) is False
    reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    body = api_as(platform["a"]).get(CHECK, {"email": "no@azalea-own.example"}).json()
    assert set(component["properties"]) == set(body) and set(component["required"]) == set(body)


def test_an_erased_entry_reads_as_the_schema_says_and_cannot_be_added_by_hand(api_as, operator, platform):
    # What the erasure service leaves behind: a global entry for the erased address's digest.
    erased = Suppression.objects.create(kind="erased_email", value="0" * 64, reason="erased")
    schema = generated_schema()
    response_schema = schema["paths"][LIST]["get"]["responses"]["200"]["content"]["application/json"]
    page = schema["components"]["schemas"][response_schema["schema"]["$ref"].rsplit("/", 1)[-1]]
    item = page["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[-1]
    reason = schema["components"]["schemas"][item]["properties"]["reason"]
    reason_enum = schema["components"]["schemas"][reason["$ref"].rsplit("/", 1)[-1]]["enum"]

    listed = api_as(operator).get(LIST, {"page_size": 100}).json()["results"]
    assert {"id": erased.pk, "reason": "erased"} in [{"id": e["id"], "reason": e["reason"]} for e in listed]
    assert "erased" in reason_enum

    refused = api_as(operator).post(LIST, {"email": "x@example.com", "reason": "erased"}, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    assert not Suppression.objects.filter(value="x@example.com").exists()
