"""A campaign with one email creative edited into a clean draft version: the start of the review
loop (edit -> submit -> decide), with outreach's preview and sender sources registered."""

from __future__ import annotations

import pytest

from campaigns.services.sender_identity import set_sender_identity
from creative import preview
from creative import services as creative_services
from creative.models import CreativeVariant
from leads.services import add_lead
from outreach.creative_sources import register_creative_sources

# Copy that passes every check: merge fields, unsubscribe link and postal address, no claims.
CLEAN = {
    "subject": "Fewer empty miles on your routes",
    "preheader": "A short note about route planning",
    "body": (
        'Hi {{ first_name|default:"there" }},\n\n'
        'Our route planning trims empty miles for teams like {{ company|default:"yours" }}.\n'
        "The details are at https://example.com/routes for a closer look.\n\n"
        "Would a short call next week help?\n\n"
        "{{ sender_name }}, {{ sender_company }}\n"
        "{{ sender_address }}\n"
        "Unsubscribe: {{ unsubscribe_url }}"
    ),
}


@pytest.fixture
def creative_sources(monkeypatch):
    """Outreach's real providers, registered as ``register_creative_sources()`` does from
    ``OutreachConfig.ready()``; the registry is restored afterwards, so the wiring test in
    test_wiring.py sees what the app itself registered."""
    monkeypatch.setattr(preview, "_provider", list(preview._provider))
    monkeypatch.setattr(preview, "_choices", list(preview._choices))
    monkeypatch.setattr(preview, "_sender", list(preview._sender))
    register_creative_sources()


@pytest.fixture
def review_campaign(approved_campaign, client_user, creative_sources):
    """An email campaign of client_user's client, with an approved strategy and two leads."""
    campaign = approved_campaign(client=client_user.client, channels=["email"])
    # The footer's address comes from the client's sender identity (no site-wide fallback).
    set_sender_identity(
        target=campaign.client, values={"sender_postal_address": "Client GmbH, Kai 3, 20457 Hamburg"}
    )
    campaign.client.refresh_from_db()
    add_lead(campaign=campaign, email="dana@fleet.example", first_name="Dana", company="Fleet Co")
    add_lead(campaign=campaign, email="eli@haulage.example", first_name="Eli", company="Haulage AG")
    return campaign


@pytest.fixture
def email_draft(review_campaign, operator) -> CreativeVariant:
    """A generated email (in review), edited: a new clean draft version of it."""
    creative_services.generate_creatives(
        campaign=review_campaign, actor=operator, platforms=["email"], variants=1
    )
    generated = CreativeVariant.objects.get(campaign=review_campaign)
    return creative_services.edit_creative(variant=generated, actor=operator, rationale="tighter", **CLEAN)
