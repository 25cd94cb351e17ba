"""Factories for the leads app's tests."""

from __future__ import annotations

import factory
from django.utils import timezone

from leads.models import ConsentRecord, Lead, LeadPolicy
from leads.normalization import email_domain, normalize_email
from tests.factories import CampaignFactory, ClientFactory


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    campaign = factory.SubFactory(CampaignFactory)
    email = factory.Sequence(lambda n: f"Person{n}@Example-Corp.com")
    normalized_email = factory.LazyAttribute(lambda lead: normalize_email(lead.email))
    email_domain = factory.LazyAttribute(lambda lead: email_domain(lead.normalized_email))
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Example"
    country = "US"


class ConsentRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentRecord

    client = factory.SubFactory(ClientFactory)
    email = factory.Sequence(lambda n: f"consenting{n}@example.org")
    normalized_email = factory.LazyAttribute(lambda record: normalize_email(record.email))
    lawful_basis = "consent"
    source = "signup form"
    wording = "Yes, send me news."
    wording_version = "v1"
    captured_at = factory.LazyFunction(timezone.now)


class LeadPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadPolicy

    campaign = factory.SubFactory(CampaignFactory)
