"""Senders (docs/senders.md): a loopback DNS server publishing a ready sending domain, and a live
email campaign about to be activated from it."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import Group

from campaigns.models import CampaignMode, CampaignState
from campaigns.services.editing import set_campaign_mode
from campaigns.services.sender_identity import set_sender_identity
from outreach.models import SendingMailbox, Sequence
from tests.dns_server import LoopbackDNS
from tests.factories import UserFactory

DOMAIN = "mail.northwind.example"
SELECTOR = "aicmo"
ESP_INCLUDE = "spf.esp.example"
DKIM_KEY = (
    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu5Zcr0w0hT3x0lGWkP8pJ1P0q5o9m0bYbU"
    "1F4mZ3rN6yT9vQ2kXW8cL0aE7sD4fG1hJ2kL3mN4oP5qR6sT7uV8wX9yZ0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2y"
    "Z3aB4cD5eF6gH7iJ8kL9mN0oP1qR2sT3uV4wX5yZ6aB7cD8eF9gH0iJ1kL2mN3oP4qR5sT6uV7wX8yZ9aB0cD1eF2gH3iJ4"
    "kL5mN6oP7qR8sT9uV0wX1yZ2aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3wX4yZ5aB6cD7eF8gH9iJ0kLQIDAQAB"
)


def ready_records() -> dict[str, dict[str, list[str]]]:
    return {
        DOMAIN: {
            "TXT": [f"v=spf1 include:{ESP_INCLUDE} ~all", "google-site-verification=x"],
            "MX": ["10 mx.northwind.example."],
        },
        f"{SELECTOR}._domainkey.{DOMAIN}": {"TXT": [DKIM_KEY]},
        f"_dmarc.{DOMAIN}": {"TXT": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@northwind.example"]},
    }


@pytest.fixture
def dns_server(settings):
    """A loopback DNS server every readiness look-up goes to (AICMO_DNS_NAMESERVERS)."""
    with LoopbackDNS(ready_records()) as server:
        settings.AICMO_DNS_NAMESERVERS = server.nameservers
        settings.AICMO_SENDER_READINESS_REQUIRED = True
        settings.AICMO_SENDER_READINESS_MAX_AGE_SECONDS = 0  # every check asks the server again
        settings.AICMO_SPF_INCLUDE = ESP_INCLUDE
        settings.AICMO_DKIM_SELECTOR = SELECTOR
        settings.AICMO_CHECK_UNSUBSCRIBE_POST = False  # its own test below
        yield server


@pytest.fixture
def secret_keys(settings):
    keys = [Fernet.generate_key().decode() for _ in range(2)]
    settings.AICMO_SECRET_KEYS = keys[0]
    return keys


@pytest.fixture
def live_campaign(campaign_in_state, operator):
    """Approved, live, email; its client's identity sends from DOMAIN with a postal address."""
    campaign = campaign_in_state(CampaignState.APPROVED)
    set_sender_identity(
        target=campaign.client,
        actor=operator,
        values={
            "sender_from_name": "Zoë Müller",
            "sender_from_email": f"zoe@{DOMAIN}",
            "sender_postal_address": "Northwind Fleet Services GmbH, Hafenstraße 12, 20457 Hamburg",
        },
    )
    set_campaign_mode(campaign=campaign, mode=CampaignMode.LIVE, actor=operator, rationale="go")
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def mailbox(live_campaign):
    box = SendingMailbox.objects.create(
        client=live_campaign.client, email=f"zoe@{DOMAIN}", display_name="Zoë Müller, Northwind Fleet"
    )
    Sequence.objects.create(campaign=live_campaign, name="Main", mailbox=box)
    return box


def role_user(role: str, **fields):
    user = UserFactory(is_staff=True, is_superuser=False, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def operator_role(db):
    return role_user("operator")


@pytest.fixture
def approver_role(db):
    return role_user("approver")
