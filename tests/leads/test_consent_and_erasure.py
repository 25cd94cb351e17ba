"""Consent policy (EU/UK leads need a record) and the right to erasure (forget_person)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.models import AuditEvent
from leads.erasure import register_erasure_handler, unregister_erasure_handler
from leads.importers import import_leads_from_csv
from leads.models import ConsentRecord, Lead, Suppression, SuppressionKind
from leads.normalization import erased_email_digest
from leads.selectors import contactability_blockers, contactable_leads, is_contactable
from leads.services import (
    add_suppression,
    forget_person,
    record_consent,
    remove_suppression,
    set_lead_policy,
    transition_lead,
    withdraw_consent,
)
from tests.factories import CampaignFactory

from .factories import LeadFactory


def contactable_ids(*leads):
    return set(
        contactable_leads(Lead.objects.filter(pk__in=[lead.pk for lead in leads])).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.django_db
def test_eu_lead_without_consent_is_not_contactable_when_the_policy_requires_it(operator):
    campaign = CampaignFactory()
    german = LeadFactory(campaign=campaign, email="hans@example.de", country="DE")
    british = LeadFactory(campaign=campaign, email="ann@example.co.uk", country="GB")
    american = LeadFactory(campaign=campaign, email="joe@example.com", country="US")
    assert contactable_ids(german, british, american) == {german.pk, british.pk, american.pk}

    set_lead_policy(campaign=campaign, consent_regions=["eu", "UK"], actor=operator)
    assert contactable_ids(german, british, american) == {american.pk}
    assert not is_contactable(german)
    assert "consent" in " ".join(contactability_blockers(german))

    record_consent(
        client=campaign.client,
        email="HANS@example.de",
        lawful_basis="consent",
        source="webinar sign-up",
        wording="Send me the recording and related news.",
        wording_version="2026-01",
        evidence={"ip": "192.0.2.1", "form_id": "webinar-7"},
        actor=operator,
    )
    record_consent(
        client=campaign.client, email="ann@example.co.uk", lawful_basis="legitimate_interest", source="LIA-12"
    )
    assert contactable_ids(german, british, american) == {german.pk, british.pk, american.pk}
    assert is_contactable(german) and is_contactable(british)


@pytest.mark.django_db
def test_withdrawn_consent_or_another_clients_consent_does_not_count():
    campaign = CampaignFactory()
    lead = LeadFactory(campaign=campaign, email="eva@example.at", country="AT")
    set_lead_policy(campaign=campaign, consent_regions=["EU"])
    record_consent(client=CampaignFactory().client, email=lead.email, lawful_basis="consent", source="form")
    assert not is_contactable(lead)
    consent = record_consent(client=campaign.client, email=lead.email, lawful_basis="consent", source="form")
    assert is_contactable(lead)
    withdraw_consent(consent=consent)
    assert not is_contactable(lead) and contactable_ids(lead) == set()


@pytest.mark.django_db
def test_unknown_country_counts_as_regulated_unless_the_policy_says_otherwise():
    campaign = CampaignFactory()
    lead = LeadFactory(campaign=campaign, email="x@example.com", country="")
    set_lead_policy(campaign=campaign, consent_regions=["EU"])
    assert contactable_ids(lead) == set()
    set_lead_policy(campaign=campaign, unknown_country_needs_consent=False)
    assert contactable_ids(lead) == {lead.pk}


@pytest.mark.django_db
def test_consent_and_policy_input_is_checked():
    campaign = CampaignFactory()
    with pytest.raises(DomainError) as err:
        record_consent(client=campaign.client, email="a@example.com", lawful_basis="vibes", source="x")
    assert err.value.details["field"] == "lawful_basis"
    with pytest.raises(DomainError) as err:
        set_lead_policy(campaign=campaign, consent_regions=["Atlantis"])
    assert err.value.details["field"] == "consent_regions"


def _tables_holding(text: str) -> list[str]:
    """Every table and column whose stored value contains ``text`` (case-insensitive)."""
    needle = text.lower()
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is not None and needle in str(value).lower():
                        found.append(f"{table}.{column}")
    return sorted(set(found))


@pytest.mark.django_db
def test_forget_person_leaves_no_clear_text_and_reimport_is_suppressed(operator, csv_bytes):
    address = "Erin.Erased@Example.com"
    first, second = CampaignFactory(), CampaignFactory()
    import_leads_from_csv(
        campaign=first, file=csv_bytes("email,first_name,last_name", f"{address},Erin,Quixbeard")
    )
    lead = Lead.objects.get(campaign=first)
    transition_lead(lead=lead, transition="mark_enriched", actor=operator)
    LeadFactory(campaign=second, email="erin.erased@example.com", first_name="Erin", last_name="Quixbeard")
    record_consent(client=first.client, email=address, lawful_basis="consent", source="form", actor=operator)
    add_suppression(email=address, reason="manual_dnc", client=second.client, actor=operator)
    import_leads_from_csv(campaign=first, file=csv_bytes("email", "ERIN.ERASED@example.com"))  # a report row
    assert _tables_holding("erin.erased@example.com")

    erased_by_outreach = []
    register_erasure_handler("test.outreach", lambda **kw: erased_by_outreach.append(kw) or 3)
    try:
        result = forget_person(email=address, actor=operator, rationale="GDPR art. 17 request #42")
    finally:
        unregister_erasure_handler("test.outreach")

    assert _tables_holding("erin.erased@example.com") == []
    assert _tables_holding("Quixbeard") == []  # the last name is gone too (from leads and history)
    assert result.leads_anonymized == 2 and result.other_apps["test.outreach"] == 3
    assert erased_by_outreach[0]["digest"] == erased_email_digest("erin.erased@example.com")
    assert Lead.objects.filter(erased_at__isnull=False).count() == 2
    assert not any(is_contactable(lead) for lead in Lead.objects.all())
    entry = Suppression.objects.get(kind=SuppressionKind.ERASED_EMAIL)
    assert entry.client is None and entry.value == result.digest
    assert not ConsentRecord.objects.exists()
    assert AuditEvent.objects.filter(verb="person.erased", rationale__contains="#42").exists()

    third = CampaignFactory()
    report = import_leads_from_csv(campaign=third, file=csv_bytes("email", "erin.erased@EXAMPLE.com"))
    assert (report.inserted, report.suppressed) == (0, 1)
    assert "erased" in report.issues.get().reason
    with pytest.raises(DomainError):
        remove_suppression(suppression=entry, rationale="oops")


@pytest.mark.django_db
def test_consent_captured_in_the_future_does_not_count_yet():
    campaign = CampaignFactory()
    lead = LeadFactory(campaign=campaign, email="f@example.fr", country="FR")
    set_lead_policy(campaign=campaign, consent_regions=["EU"])
    record_consent(
        client=campaign.client,
        email=lead.email,
        lawful_basis="consent",
        source="form",
        captured_at=timezone.now() + dt.timedelta(days=1),
    )
    assert not is_contactable(lead)
