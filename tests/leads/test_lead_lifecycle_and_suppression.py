"""Lead model guarantees, lifecycle transitions, suppression services and the contactability selectors."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django_fsm import TransitionNotAllowed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent
from leads.models import Lead, LeadState, Suppression, SuppressionKind
from leads.selectors import contactability_blockers, contactable_leads, is_contactable
from leads.services import add_suppression, remove_suppression, transition_lead
from tests.factories import CampaignFactory, ClientFactory

from .factories import LeadFactory


def contactable_ids(*leads):
    return set(
        contactable_leads(Lead.objects.filter(pk__in=[lead.pk for lead in leads])).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.django_db
def test_one_lead_per_normalized_email_per_campaign():
    lead = LeadFactory(email="Jane@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(campaign=lead.campaign, email="jane@example.com ")
    LeadFactory(email="jane@example.com")  # another campaign may hold the same person


@pytest.mark.django_db
def test_lifecycle_goes_through_services_and_is_audited(operator):
    lead = LeadFactory()
    with pytest.raises(AttributeError):
        lead.state = LeadState.WON  # protected FSM field
    for step in ["mark_enriched", "mark_contacted", "mark_replied", "qualify", "win"]:
        lead = transition_lead(lead=lead, transition=step, actor=operator)
    assert lead.state == LeadState.WON
    assert AuditEvent.objects.filter(verb="lead.win", campaign=lead.campaign).exists()
    assert lead.history.count() >= 5


@pytest.mark.django_db
def test_illegal_lead_transition_is_refused_with_the_state():
    lead = LeadFactory()
    with pytest.raises(TransitionNotAllowedError) as err:
        transition_lead(lead=lead, transition="win")
    assert err.value.details["state"] == "new"
    with pytest.raises(TransitionNotAllowed):
        Lead.objects.get(pk=lead.pk).qualify()


@pytest.mark.django_db
def test_exit_states_end_contactability():
    lead = LeadFactory()
    assert is_contactable(lead)
    lead = transition_lead(lead=lead, transition="bounce")
    assert not is_contactable(lead)
    assert contactable_ids(lead) == set()


@pytest.mark.django_db
def test_email_suppression_matches_normalized_variants_and_moves_leads_to_exit(operator):
    lead = LeadFactory(email="J.Doe+promo@gmail.com")
    entry = add_suppression(email="jdoe@GOOGLEMAIL.com", reason="unsubscribed", actor=operator)
    assert entry.kind == SuppressionKind.EMAIL and entry.value == "jdoe@gmail.com"
    lead.refresh_from_db()
    assert lead.state == LeadState.UNSUBSCRIBED
    assert not is_contactable(lead)
    assert AuditEvent.objects.filter(verb="suppression.added", actor=operator).exists()


@pytest.mark.django_db
def test_domain_suppression_is_scoped_to_its_client():
    client = ClientFactory()
    own = LeadFactory(campaign=CampaignFactory(client=client), email="a@acme.example")
    foreign = LeadFactory(email="b@acme.example")
    add_suppression(domain="ACME.example", reason="legal", client=client)
    assert contactable_ids(own, foreign) == {foreign.pk}
    assert not is_contactable(own) and is_contactable(foreign)
    assert "suppressed" in " ".join(contactability_blockers(own))


@pytest.mark.django_db
def test_a_known_campaign_applies_its_own_clients_suppressions_and_global_ones_only():
    """The send path passes the campaign (its client is then a constant in the query)."""
    client, other = ClientFactory(), ClientFactory()
    campaign = CampaignFactory(client=client)
    own_blocked, foreign_blocked, global_blocked, fine = (
        LeadFactory(campaign=campaign, email=address)
        for address in ("a@own.example", "b@foreign.example", "c@everyone.example", "d@ok.example")
    )
    add_suppression(domain="own.example", reason="legal", client=client)
    add_suppression(domain="foreign.example", reason="legal", client=other)
    add_suppression(email="c@everyone.example", reason="complaint")
    found = set(
        contactable_leads(Lead.objects.all(), campaign=campaign, regions=()).values_list("pk", flat=True)
    )
    assert found == {foreign_blocked.pk, fine.pk}
    assert own_blocked.pk not in found and global_blocked.pk not in found


@pytest.mark.django_db
def test_global_suppression_applies_to_every_client():
    leads = [LeadFactory(email="x@spam.example"), LeadFactory(email="y@ok.example")]
    add_suppression(domain="spam.example", reason="complaint")
    assert contactable_ids(*leads) == {leads[1].pk}


@pytest.mark.django_db
def test_adding_the_same_suppression_twice_keeps_one_entry():
    first = add_suppression(email="a@example.com", reason="manual_dnc")
    second = add_suppression(email=" A@example.com", reason="legal")
    assert first.pk == second.pk and Suppression.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "a@example.com", "reason": "because"}, "reason"),
        ({"email": "a@example.com", "domain": "example.com", "reason": "legal"}, "email"),
        ({"domain": "localhost", "reason": "legal"}, "domain"),
        ({"email": "not-an-address", "reason": "legal"}, "email"),
    ],
)
def test_bad_suppression_input_names_the_field(kwargs, field):
    with pytest.raises(DomainError) as err:
        add_suppression(**kwargs)
    assert err.value.details["field"] == field


@pytest.mark.django_db
def test_removing_a_suppression_needs_a_rationale_and_is_audited(operator):
    lead = LeadFactory(email="a@example.net")
    entry = add_suppression(domain="example.net", reason="manual_dnc")
    with pytest.raises(DomainError):
        remove_suppression(suppression=entry, rationale=" ", actor=operator)
    remove_suppression(suppression=entry, rationale="Added by mistake", actor=operator)
    assert not Suppression.objects.exists()
    assert is_contactable(lead)
    event = AuditEvent.objects.get(verb="suppression.removed")
    assert event.rationale == "Added by mistake" and event.actor == operator


def _variants(local: str, domain: str):
    return st.tuples(
        st.sampled_from([str.lower, str.upper, str.title]),
        st.sampled_from(["", " ", "\t"]),
    ).map(lambda t: f"{t[1]}{t[0](local)}@{t[0](domain)}{t[1]}")


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.data(),
    local=st.from_regex(r"[a-z][a-z0-9]{0,6}(\.[a-z0-9]{1,4})?", fullmatch=True),
    domain=st.sampled_from(["gmail.com", "googlemail.com", "example.com", "bücher.example"]),
    scope=st.sampled_from(["client", "global"]),
)
def test_no_normalized_variant_of_a_suppressed_address_is_contactable(data, local, domain, scope):
    campaign = CampaignFactory()
    suppressed_as = data.draw(_variants(local, domain))
    if domain in ("gmail.com", "googlemail.com"):
        dotted = ".".join(local.replace(".", ""))
        lead_as = data.draw(st.sampled_from([f"{dotted}+tag@{domain}", f"{local.upper()}@gmail.com"]))
    else:
        lead_as = data.draw(_variants(local, domain))
    add_suppression(
        email=suppressed_as, reason="unsubscribed", client=campaign.client if scope == "client" else None
    )
    lead = LeadFactory(campaign=campaign, email=lead_as.strip())
    assert not is_contactable(lead)
    assert contactable_ids(lead) == set()


@pytest.mark.django_db
def test_deleting_a_campaign_still_deletes_its_leads_without_a_database_foreign_key(csv_bytes):
    """Lead.campaign has no database-level constraint (bulk imports); Django's CASCADE remains."""
    from leads.importers import import_leads_from_csv

    doomed, kept = CampaignFactory(), CampaignFactory()
    for campaign in (doomed, kept):
        import_leads_from_csv(campaign=campaign, file=csv_bytes("email", "a@example.com", "b@example.com"))
    doomed.delete()
    assert not Lead.objects.filter(campaign_id=doomed.pk).exists()
    assert Lead.objects.filter(campaign=kept).count() == 2
