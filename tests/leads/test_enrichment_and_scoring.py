"""Offline enrichment, MX verification through an injected resolver (cached), scoring and next action."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.errors import DomainError
from leads.adapters.offline import CachedMXResolver, MXEmailVerifier, OfflineEnricher
from leads.adapters.sources import get_lead_source, records_from_source
from leads.importers import import_lead_records
from leads.models import Lead, LeadState
from leads.ports import MXLookupError
from leads.scoring import (
    LeadFacts,
    default_score,
    icp_score,
    next_action_delay,
    parse_company_size,
)
from leads.services import enrich_and_score_leads, set_lead_policy

from .factories import LeadFactory


class FakeResolver:
    """Stands in for DNS: a dict of domain → MX hosts; counts look-ups to prove the cache."""

    def __init__(self, answers: dict[str, list[str]], failing: set[str] = frozenset()):
        self.answers = answers
        self.failing = failing
        self.calls: list[str] = []

    def mx_hosts(self, domain: str) -> list[str]:
        self.calls.append(domain)
        if domain in self.failing:
            raise MXLookupError("timeout")
        return self.answers.get(domain, [])


class LeadLike:
    def __init__(self, normalized_email):
        self.normalized_email = normalized_email


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("jane@acme.example", {"company_domain": "acme.example", "free_mail": False, "role_address": False}),
        ("jane@gmail.com", {"company_domain": "", "free_mail": True, "role_address": False}),
        ("sales@acme.example", {"company_domain": "acme.example", "free_mail": False, "role_address": True}),
    ],
)
def test_offline_enricher(address, expected):
    facts = OfflineEnricher().enrich(LeadLike(address))
    assert {k: facts[k] for k in expected} == expected
    assert facts["disposable"] is False


def test_disposable_domains_come_from_the_maintained_list():
    assert OfflineEnricher().enrich(LeadLike("x@mailinator.com"))["disposable"] is True


@pytest.mark.django_db
def test_mx_verification_uses_the_injected_resolver_with_a_cache():
    fake = FakeResolver({"acme.example": ["mx1.acme.example"]}, failing={"flaky.example"})
    verifier = MXEmailVerifier(CachedMXResolver(fake))
    assert verifier.verify("a@acme.example").is_valid
    assert verifier.verify("b@acme.example").has_mx is True
    assert fake.calls == ["acme.example"]  # second look-up came from the cache
    nomail = verifier.verify("a@nomail.example")
    assert nomail.has_mx is False and not nomail.is_valid and "no MX" in nomail.reason
    flaky = verifier.verify("a@flaky.example")
    assert flaky.has_mx is None and flaky.is_valid  # unknown, not invalid
    verifier.verify("a@flaky.example")
    assert fake.calls.count("flaky.example") == 2  # failures are not cached
    assert not verifier.verify("not-an-address").syntax_valid


def test_default_formula():
    assert default_score(LeadFacts()) == 0.3
    assert default_score(LeadFacts(title="CTO")) == 0.45
    assert default_score(LeadFacts(title="CTO", company_size="50", industry="SaaS", email_valid=True)) == 0.95
    assert default_score(LeadFacts(email_valid=True)) == 0.5


ICP = {
    "base": 0.1,
    "valid_email": 0.2,
    "titles": {"cto": 0.3, "head of": 0.2},
    "industries": {"saas": 0.2},
    "company_sizes": [{"min": 50, "max": 500, "weight": 0.2}],
    "countries": {"DE": 0.1},
}


def test_icp_weights_score_fit_not_just_presence():
    fit = LeadFacts(
        title="Co-founder & CTO", company_size="51-200", industry="B2B SaaS", country="de", email_valid=True
    )
    misfit = LeadFacts(
        title="Intern", company_size="10000+", industry="Mining", country="US", email_valid=True
    )
    assert icp_score(fit, ICP) == 1.0  # 0.1+0.2+0.3+0.2+0.2+0.1 capped
    assert icp_score(misfit, ICP) == pytest.approx(0.3)
    assert default_score(misfit) > default_score(LeadFacts(email_valid=True))  # it rewards presence only


@pytest.mark.parametrize(
    ("text", "expected"),
    [("51-200", (51, 200)), ("1000+", (1000, None)), ("1,200", (1200, 1200)), ("", None), ("lots", None)],
)
def test_parse_company_size(text, expected):
    assert parse_company_size(text) == expected


@given(st.floats(0, 1), st.floats(0, 1))
def test_higher_score_means_sooner_next_action(a, b):
    if a > b:
        assert next_action_delay(a) <= next_action_delay(b)
    assert dt.timedelta(hours=1) <= next_action_delay(a) <= dt.timedelta(hours=72)


@pytest.mark.django_db
def test_enrich_and_score_leads_marks_new_leads_enriched(campaign, frozen_now):
    strong = LeadFactory(
        campaign=campaign, email="cto@acme.example", title="CTO", industry="SaaS", company_size="80"
    )
    weak = LeadFactory(
        campaign=campaign, email="someone@nomail.example", title="", company_size="", industry=""
    )
    fake = FakeResolver({"acme.example": ["mx.acme.example"]})
    done = enrich_and_score_leads(campaign=campaign, verifier=MXEmailVerifier(fake))
    assert done == 2
    strong.refresh_from_db()
    weak.refresh_from_db()
    assert strong.state == weak.state == LeadState.ENRICHED
    assert strong.score == 0.95 and weak.score == 0.3
    assert strong.next_action_at < weak.next_action_at
    assert strong.enrichment["company_domain"] == "acme.example"
    assert strong.enrichment["email_verification"]["has_mx"] is True
    assert weak.enrichment["email_verification"]["has_mx"] is False
    assert enrich_and_score_leads(campaign=campaign, verifier=MXEmailVerifier(fake)) == 0  # idempotent


class LinkedInEnricher:
    """A third-party enricher that reads a field the default one does not, and declares nothing."""

    def enrich(self, lead):
        return {"profile_seen": bool(lead.linkedin_url), "name": f"{lead.first_name} {lead.last_name}"}


@pytest.mark.django_db
def test_an_enricher_reading_any_field_gets_it_without_a_query_per_lead(
    campaign, django_assert_max_num_queries
):
    leads = [
        LeadFactory(campaign=campaign, linkedin_url="https://www.linkedin.com/in/x" if n % 2 else "")
        for n in range(6)
    ]
    # policy, lock-and-load, one UPDATE, audit (and a savepoint pair inside the test transaction)
    with django_assert_max_num_queries(6):
        assert enrich_and_score_leads(campaign=campaign, enricher=LinkedInEnricher()) == 6
    for lead in leads:
        lead.refresh_from_db()
        assert lead.enrichment["profile_seen"] is bool(lead.linkedin_url)
        assert lead.enrichment["name"] == f"{lead.first_name} {lead.last_name}"
        assert lead.state == LeadState.ENRICHED


@pytest.mark.django_db
def test_the_default_enricher_loads_only_what_it_declares_and_keeps_the_rest(campaign):
    lead = LeadFactory(campaign=campaign, email="ada@acme.example", first_name="Ada", title="CTO")
    assert OfflineEnricher.reads == ("normalized_email",)
    enrich_and_score_leads(campaign=campaign)
    lead.refresh_from_db()
    assert (lead.first_name, lead.title, lead.state) == ("Ada", "CTO", LeadState.ENRICHED)
    assert lead.enrichment["company_domain"] == "acme.example"


@pytest.mark.django_db
def test_campaign_icp_weights_replace_the_default_formula(campaign):
    set_lead_policy(campaign=campaign, icp_weights=ICP)
    lead = LeadFactory(campaign=campaign, email="x@acme.example", title="Head of Growth", country="DE")
    enrich_and_score_leads(campaign=campaign)  # offline default verifier: syntax only
    lead.refresh_from_db()
    assert lead.score == pytest.approx(0.1 + 0.2 + 0.2 + 0.1)


class StaticFinder:
    name = "static"

    def fetch(self, *, query, limit):
        yield {"email": "found@finder.example", "title": query.get("title", "")}
        yield {"email": "found@finder.example"}
        yield {"email": "other@finder.example"}


@pytest.mark.django_db
def test_third_party_sources_are_configured_by_environment_and_use_the_importer(campaign):
    environ = {"LEAD_SOURCE_ADAPTERS": "static=tests.leads.test_enrichment_and_scoring:StaticFinder"}
    source = get_lead_source("static", environ)
    report = import_lead_records(
        campaign=campaign,
        records=records_from_source(source, query={"title": "CTO"}, limit=2),
        source="finder",
    )
    assert (report.inserted, report.duplicates_in_file) == (1, 1)
    assert Lead.objects.get(campaign=campaign).source == "finder"
    with pytest.raises(DomainError, match="No lead source 'apollo'"):
        get_lead_source("apollo", environ)


@pytest.mark.django_db
def test_enrichment_task_is_idempotent(campaign):
    from leads.tasks import enrich_and_score_campaign_leads

    LeadFactory(campaign=campaign, email="a@acme.example")
    assert enrich_and_score_campaign_leads(campaign.pk) == {"campaign": campaign.pk, "enriched": 1}
    assert enrich_and_score_campaign_leads(campaign.pk) == {"campaign": campaign.pk, "enriched": 0}
    assert enrich_and_score_campaign_leads(999_999)["enriched"] == 0
