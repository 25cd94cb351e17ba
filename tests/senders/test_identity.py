"""Sender identity (docs/senders.md): per client, overridable per campaign; set by operators at
onboarding and by staff through the API; the postal address required for live email, no fallback."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from campaigns.errors import TransitionNotAllowedError
from campaigns.models import AuditEvent, CampaignMode, CampaignState, Client
from campaigns.sender_identity import sender_identity
from campaigns.services.editing import set_campaign_mode
from campaigns.services.sender_identity import set_sender_identity
from campaigns.services.transitions import activate_campaign
from outreach.models import SendingMailbox
from outreach.senders import from_header_for, reply_to_for, signature_names


def test_there_is_no_fallback_postal_address():
    assert not hasattr(django_settings, "AICMO_SENDER_POSTAL_ADDRESS")


def test_a_missing_postal_address_blocks_live_email(campaign_in_state, operator):
    campaign = campaign_in_state(CampaignState.APPROVED)
    set_campaign_mode(campaign=campaign, mode=CampaignMode.LIVE, actor=operator, rationale="go")
    assert sender_identity(campaign).postal_address == ""
    with pytest.raises(TransitionNotAllowedError, match="sender postal address"):
        activate_campaign(campaign=campaign, actor=operator)
    # the campaign's own address is enough
    set_sender_identity(target=campaign, actor=operator, values={"sender_postal_address": "1 Quay, Hamburg"})
    campaign.refresh_from_db()
    assert sender_identity(campaign).sources["postal_address"] == "campaign"
    assert activate_campaign(campaign=campaign, actor=operator).state == CampaignState.ACTIVE


def test_a_campaign_overrides_its_client_field_by_field(live_campaign, operator):
    set_sender_identity(
        target=live_campaign,
        actor=operator,
        values={"sender_from_name": "Ops Team", "sender_reply_to": "replies@northwind.example"},
    )
    live_campaign.refresh_from_db()
    identity = sender_identity(live_campaign)
    assert (identity.from_name, identity.from_email) == ("Ops Team", "zoe@mail.northwind.example")
    assert identity.sources["from_name"] == "campaign" and identity.sources["from_email"] == "client"
    assert identity.domain == "mail.northwind.example"
    assert from_header_for(live_campaign, None) == "Ops Team <zoe@mail.northwind.example>"
    assert reply_to_for(live_campaign, None) == "replies@northwind.example"
    # a sequence's mailbox comes first
    box = SendingMailbox(email="sales@northwind.example", display_name="Zoë Müller, Northwind Fleet")
    assert from_header_for(live_campaign, box) == '"Zoë Müller, Northwind Fleet" <sales@northwind.example>'
    event = AuditEvent.objects.filter(verb="sender_identity.changed", campaign=live_campaign).get()
    assert event.metadata["fields"] == ["sender_from_name", "sender_reply_to"]


def test_the_from_is_never_the_shared_default_once_an_identity_exists(live_campaign):
    assert django_settings.DEFAULT_FROM_EMAIL not in from_header_for(live_campaign, None)


def test_the_signature_never_names_the_company_twice(live_campaign, operator):
    client = live_campaign.client
    client.name = "Northwind Fleet Services"
    client.save()
    set_sender_identity(
        target=client, actor=operator, values={"sender_from_name": "Northwind Fleet Services"}
    )
    live_campaign.refresh_from_db()
    live_campaign.owner = None
    assert signature_names(live_campaign, None) == ("Northwind Fleet Services", "")
    named = SendingMailbox(email="z@x.example", display_name="Zoë Müller")
    assert signature_names(live_campaign, named) == ("Zoë Müller", "Northwind Fleet Services")
    with_company = SendingMailbox(email="z@x.example", display_name="Zoë Müller, Northwind Fleet Services")
    assert signature_names(live_campaign, with_company) == ("Zoë Müller, Northwind Fleet Services", "")


def test_invalid_identity_values_are_refused(live_campaign, operator):
    from campaigns.errors import DomainError

    with pytest.raises(DomainError, match="sending_domain"):
        set_sender_identity(
            target=live_campaign.client, actor=operator, values={"sending_domain": "https://x"}
        )
    with pytest.raises(DomainError, match="sender_from_email"):
        set_sender_identity(target=live_campaign.client, actor=operator, values={"sender_from_email": "nope"})


# --- onboarding in the admin, as the operator role ---------------------------------------------------


def test_an_operator_onboards_a_clients_sender_identity_in_the_admin(client, operator_role):
    client.force_login(operator_role)
    response = client.post(
        reverse("admin:campaigns_client_add"),
        {
            "name": "Hansa Cargo GmbH",
            "slug": "hansa-cargo",
            "is_active": "on",
            "sender_from_name": "Jan Hansen",
            "sender_from_email": "jan@mail.hansa-cargo.example",
            "sender_reply_to": "",
            "sending_domain": "",
            "sender_postal_address": "Hansa Cargo GmbH, Kai 3, 20457 Hamburg",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    onboarded = Client.objects.get(slug="hansa-cargo")
    assert onboarded.sender_from_email == "jan@mail.hansa-cargo.example"
    assert onboarded.sender_postal_address.startswith("Hansa Cargo GmbH")
    event = AuditEvent.objects.get(verb="sender_identity.changed")
    assert event.actor == operator_role and "sender_postal_address" in event.metadata["fields"]

    # later the operator may change the identity, not the client itself
    url = reverse("admin:campaigns_client_change", args=[onboarded.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="sender_from_name"' in page.content.decode() and 'name="name"' not in page.content.decode()
    response = client.post(
        url,
        {
            "sender_from_name": "Jan Hansen",
            "sender_from_email": "jan@mail.hansa-cargo.example",
            "sender_reply_to": "sales@hansa-cargo.example",
            "sending_domain": "Mail.Hansa-Cargo.example.",
            "sender_postal_address": "Hansa Cargo GmbH, Kai 3, 20457 Hamburg",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    onboarded.refresh_from_db()
    assert onboarded.sending_domain == "mail.hansa-cargo.example" and onboarded.name == "Hansa Cargo GmbH"
    assert onboarded.sender_reply_to == "sales@hansa-cargo.example"


def test_the_admin_refuses_a_bad_sending_domain(client, operator_role):
    client.force_login(operator_role)
    response = client.post(
        reverse("admin:campaigns_client_add"),
        {"name": "Bad Domain", "slug": "bad-domain", "is_active": "on", "sending_domain": "not a domain"},
    )
    assert response.status_code == 200 and "Enter a bare domain" in response.content.decode()
    assert not Client.objects.filter(slug="bad-domain").exists()


# --- the API, by staff ------------------------------------------------------------------------------


def test_staff_set_the_identity_through_the_api_and_clients_may_only_read(
    api_as, operator_role, live_campaign
):
    url = f"/api/v1/clients/{live_campaign.client_id}/sender-identity/"
    response = api_as(operator_role).patch(
        url, {"sender_reply_to": "replies@northwind.example"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["sender_reply_to"] == "replies@northwind.example"
    assert response.json()["effective"]["sending_domain"] == "mail.northwind.example"

    campaign_url = f"/api/v1/campaigns/{live_campaign.pk}/sender-identity/"
    response = api_as(operator_role).put(campaign_url, {"sender_from_name": "Ops Team"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["sender_from_name"] == "Ops Team" and body["sender_from_email"] == ""
    assert body["effective"]["from_email"] == "zoe@mail.northwind.example"
    assert body["effective"]["sources"]["from_name"] == "campaign"

    bad = api_as(operator_role).patch(url, {"sender_from_email": "not-an-address"}, format="json")
    assert bad.status_code == 400


def test_a_client_user_reads_their_identity_but_may_not_write_it(api_as, live_campaign):
    from tests.factories import ClientUserFactory

    own = ClientUserFactory(client=live_campaign.client)
    url = f"/api/v1/clients/{live_campaign.client_id}/sender-identity/"
    assert api_as(own).get(url).status_code == 200
    assert api_as(own).patch(url, {"sender_from_name": "x"}, format="json").status_code == 403
    stranger = ClientUserFactory()
    assert api_as(stranger).get(url).status_code == 404
    assert api_as(stranger).patch(url, {"sender_from_name": "x"}, format="json").status_code == 404
