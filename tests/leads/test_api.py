"""API: list with filters and pagination, CSV import (multipart or text/csv), suppressions; client scoping."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.models import Lead, Suppression
from leads.services import add_suppression, set_lead_policy, transition_lead
from tests.factories import CampaignFactory

from .factories import LeadFactory


@pytest.fixture
def own_campaign(client_user):
    return CampaignFactory(client=client_user.client)


def leads_url(campaign):
    return f"/api/v1/campaigns/{campaign.pk}/leads/"


@pytest.mark.django_db
def test_list_is_paginated_filtered_and_client_scoped(api_as, client_user, other_client_user, own_campaign):
    high = LeadFactory(campaign=own_campaign, email="high@example.com", score=0.9)
    low = LeadFactory(campaign=own_campaign, email="low@blocked.example", score=0.2)
    transition_lead(lead=low, transition="mark_enriched")
    api = api_as(client_user)

    body = api.get(leads_url(own_campaign)).json()
    assert body["count"] == 2 and [row["email"] for row in body["results"]] == [
        "high@example.com",
        "low@blocked.example",
    ]
    assert api.get(leads_url(own_campaign), {"page_size": 1}).json()["next"]
    assert [r["id"] for r in api.get(leads_url(own_campaign), {"state": "enriched"}).json()["results"]] == [
        low.pk
    ]
    assert [r["id"] for r in api.get(leads_url(own_campaign), {"score_band": "high"}).json()["results"]] == [
        high.pk
    ]
    assert [r["id"] for r in api.get(leads_url(own_campaign), {"min_score": "0.5"}).json()["results"]] == [
        high.pk
    ]
    add_suppression(domain="blocked.example", reason="manual_dnc", client=own_campaign.client)
    assert [r["id"] for r in api.get(leads_url(own_campaign), {"suppressed": "true"}).json()["results"]] == [
        low.pk
    ]
    assert [r["id"] for r in api.get(leads_url(own_campaign), {"contactable": "true"}).json()["results"]] == [
        high.pk
    ]
    assert api.get(leads_url(own_campaign), {"state": "sleepy"}).status_code == 400

    assert api_as(other_client_user).get(leads_url(own_campaign)).status_code == 404
    assert api_as(None).get(leads_url(own_campaign)).status_code in (401, 403)


@pytest.mark.django_db
def test_import_by_multipart_file_answers_with_the_report(api_as, client_user, own_campaign):
    upload = SimpleUploadedFile(
        "leads.csv",
        b"\xef\xbb\xbfE-mail;Vorname\nA@example.com;Anna\na@example.com;Anna\nnope;X\n",
        "text/csv",
    )
    response = api_as(client_user).post(
        f"{leads_url(own_campaign)}import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["rows_read"], report["inserted"], report["duplicates_in_file"], report["invalid"]) == (
        3,
        1,
        1,
        1,
    )
    assert report["issues"][1] == {
        "row_number": 4,
        "kind": "invalid",
        "field": "email",
        "reason": report["issues"][1]["reason"],
        "value": "nope",
    }
    assert Lead.objects.get(campaign=own_campaign).first_name == "Anna"


@pytest.mark.django_db
def test_import_by_text_csv_body_with_mapping(api_as, client_user, own_campaign):
    response = api_as(client_user).post(
        f"{leads_url(own_campaign)}import/?mapping=email%3DContact",
        data=b"Contact,Company\nbea@example.com,Acme\n",
        content_type="text/csv",
    )
    assert response.status_code == 201, response.content
    assert response.json()["inserted"] == 1
    assert Lead.objects.get(campaign=own_campaign).company == "Acme"


@pytest.mark.django_db
def test_import_errors(api_as, client_user, other_client_user, own_campaign):
    api = api_as(client_user)
    assert api.post(f"{leads_url(own_campaign)}import/", {}, format="multipart").status_code == 400
    no_email = api.post(f"{leads_url(own_campaign)}import/", data=b"name\nx\n", content_type="text/csv")
    assert no_email.status_code == 400 and "no email column" in no_email.json()["detail"]
    foreign = api_as(other_client_user).post(
        f"{leads_url(own_campaign)}import/", data=b"email\na@example.com\n", content_type="text/csv"
    )
    assert foreign.status_code == 404
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_client_user_suppressions_are_scoped_to_their_client(api_as, client_user, other_client_user):
    response = api_as(client_user).post(
        "/api/v1/suppressions/", {"email": "Stop@Example.com", "reason": "unsubscribed"}, format="json"
    )
    assert response.status_code == 201, response.content
    entry = Suppression.objects.get()
    assert entry.client == client_user.client and entry.value == "stop@example.com" and entry.kind == "email"
    assert response.json()["value"] == "stop@example.com"
    assert api_as(other_client_user).get("/api/v1/suppressions/").json()["count"] == 0
    bad = api_as(client_user).post(
        "/api/v1/suppressions/", {"domain": "x.example", "reason": "meh"}, format="json"
    )
    assert bad.status_code == 400 and "reason" in bad.json()
    both = api_as(client_user).post(
        "/api/v1/suppressions/",
        {"email": "a@x.example", "domain": "x.example", "reason": "legal"},
        format="json",
    )
    assert both.status_code == 400


@pytest.mark.django_db
def test_staff_can_add_global_domain_suppression(api_as, operator):
    response = api_as(operator).post(
        "/api/v1/suppressions/", {"domain": "@Spam.Example", "reason": "complaint"}, format="json"
    )
    assert response.status_code == 201
    entry = Suppression.objects.get()
    assert entry.client is None and entry.value == "spam.example" and entry.kind == "domain"


@pytest.mark.django_db
def test_api_contactable_filter_respects_consent_policy(api_as, client_user, own_campaign):
    eu = LeadFactory(campaign=own_campaign, email="e@example.de", country="DE")
    us = LeadFactory(campaign=own_campaign, email="u@example.com", country="US")
    set_lead_policy(campaign=own_campaign, consent_regions=["EU"])
    ids = [
        r["id"]
        for r in api_as(client_user).get(leads_url(own_campaign), {"contactable": "1"}).json()["results"]
    ]
    assert ids == [us.pk] and eu.pk not in ids


@pytest.mark.django_db
def test_api_push_of_json_leads_answers_with_the_report(api_as, client_user, other_client_user, own_campaign):
    body = {
        "leads": [
            {"email": "Push@Example.com", "first_name": "Pia", "country": "de"},
            {"email": "push@example.com"},
            {"email": "nope"},
        ]
    }
    response = api_as(client_user).post(leads_url(own_campaign), body, format="json")
    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["inserted"], report["duplicates_in_file"], report["invalid"]) == (1, 1, 1)
    assert report["issues"][1]["row_number"] == 3
    lead = Lead.objects.get(campaign=own_campaign)
    assert (lead.source, lead.country, lead.first_name) == ("api", "DE", "Pia")
    assert api_as(client_user).post(leads_url(own_campaign), {"leads": "x"}, format="json").status_code == 400
    assert api_as(other_client_user).post(leads_url(own_campaign), body, format="json").status_code == 404
