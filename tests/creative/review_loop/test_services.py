"""The review loop in the services: an edited version and one with changes requested go back to
review and can be approved; the HTML part follows the text unless the HTML is edited, and then
approving needs an explicit acknowledgement of the difference."""

from __future__ import annotations

import pytest

from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent
from creative import services
from creative.email_html import html_from_text
from creative.models import CreativeState, CreativeVariant
from leads.models import Lead
from leads.services import add_lead

from .conftest import CLEAN

pytestmark = pytest.mark.django_db


def test_an_edited_version_goes_back_to_review_and_is_approved_and_sendable(email_draft, operator):
    assert email_draft.state == CreativeState.DRAFT and email_draft.generation == 2
    submitted = services.submit_creative_for_review(variant=email_draft, actor=operator)
    assert submitted.state == CreativeState.IN_REVIEW
    assert [f for f in submitted.check_findings if f["severity"] != "info"] == []
    approved = services.approve_creative(variant=submitted, actor=operator, rationale="clear")
    assert approved.state == CreativeState.APPROVED
    services.ensure_creative_sendable(variant=approved, campaign=approved.campaign_id)
    assert AuditEvent.objects.filter(verb="creative.submitted", target_id=str(approved.pk)).count() == 1


def test_changes_requested_is_edited_in_place_and_goes_back_to_review(email_draft, operator):
    services.submit_creative_for_review(variant=email_draft, actor=operator)
    services.request_creative_changes(variant=email_draft, actor=operator, rationale="shorter subject")
    edited = services.edit_creative(variant=email_draft, actor=operator, subject="Fewer empty miles")
    assert edited.pk == email_draft.pk and edited.state == CreativeState.CHANGES_REQUESTED
    again = services.submit_creative_for_review(variant=edited, actor=operator)
    assert again.state == CreativeState.IN_REVIEW
    assert services.approve_creative(variant=again, actor=operator).state == CreativeState.APPROVED


@pytest.mark.parametrize("state", [CreativeState.IN_REVIEW, CreativeState.APPROVED])
def test_only_drafts_and_changes_requested_are_submitted(email_draft, operator, state):
    services.submit_creative_for_review(variant=email_draft, actor=operator)
    if state == CreativeState.APPROVED:
        services.approve_creative(variant=email_draft, actor=operator)
    with pytest.raises(TransitionNotAllowedError, match="Cannot submit for review"):
        services.submit_creative_for_review(variant=email_draft, actor=operator)


def test_generated_and_edited_html_is_derived_from_the_text(email_draft, operator):
    generated = email_draft.variant_of
    assert generated.body_html == html_from_text(generated.body)
    assert email_draft.body_html == html_from_text(CLEAN["body"])  # not the generated HTML kept
    assert "trims empty miles" in email_draft.body_html
    edited = services.edit_creative(
        variant=email_draft, actor=operator, body=CLEAN["body"].replace("trims", "cuts")
    )
    assert "cuts empty miles" in edited.body_html and "trims" not in edited.body_html
    assert services.html_differences(edited) == []


def test_html_sent_back_unchanged_with_a_new_text_is_derived_too(email_draft, operator):
    """An API client or a form sending every field: an unchanged HTML is not an HTML edit."""
    new_body = CLEAN["body"].replace("trims", "cuts")
    edited = services.edit_creative(
        variant=email_draft, actor=operator, body=new_body, body_html=email_draft.body_html
    )
    assert edited.body_html == html_from_text(new_body)


def test_a_hand_edited_html_that_differs_needs_an_acknowledgement_to_approve(email_draft, operator):
    html = email_draft.body_html.replace("trims empty miles", "halves your costs")
    edited = services.edit_creative(variant=email_draft, actor=operator, body_html=html)
    assert edited.body_html == html  # the operator's HTML is kept
    assert [d.as_dict() for d in services.html_differences(edited)] == [
        {
            "text": ['Our route planning trims empty miles for teams like {{ company|default:"yours" }}.'],
            "html": ['Our route planning halves your costs for teams like {{ company|default:"yours" }}.'],
        }
    ]
    services.submit_creative_for_review(variant=edited, actor=operator)
    with pytest.raises(DomainError) as refused:
        services.approve_creative(variant=edited, actor=operator)
    assert refused.value.details["field"] == "acknowledge_html_difference"
    assert refused.value.details["differences"][0]["html"][0].startswith("Our route planning halves")
    assert CreativeVariant.objects.get(pk=edited.pk).state == CreativeState.IN_REVIEW
    approved = services.approve_creative(variant=edited, actor=operator, acknowledge_html_difference=True)
    assert approved.state == CreativeState.APPROVED
    event = AuditEvent.objects.get(verb="creative.html_difference_acknowledged")
    assert event.target_id == str(edited.pk) and event.metadata["differences"][0]["text"]


def test_formatting_the_html_or_emptying_it_needs_no_acknowledgement(email_draft, operator):
    bold = email_draft.body_html.replace("empty miles", "<strong>empty miles</strong>")
    formatted = services.edit_creative(variant=email_draft, actor=operator, body_html=bold)
    assert formatted.body_html == bold and services.html_differences(formatted) == []
    # An emptied HTML field means "derive it from the text" (what the reviewers' warning says).
    derived = services.edit_creative(variant=formatted, actor=operator, body_html="")
    assert derived.body_html == html_from_text(derived.body)
    assert services.html_differences(derived) == []
    services.submit_creative_for_review(variant=derived, actor=operator)
    assert services.approve_creative(variant=derived, actor=operator).state == CreativeState.APPROVED


def test_preview_for_a_lead_of_the_campaign_only(email_draft, review_campaign, approved_campaign):
    dana = Lead.objects.get(campaign=review_campaign, first_name="Dana")
    rendered = services.render_for_lead(variant=email_draft, lead_id=dana.pk)
    assert rendered.body.startswith("Hi Dana,") and "teams like Fleet Co." in rendered.body
    assert "Hi Dana," in rendered.body_html and "/u/" in rendered.body_html
    elsewhere = approved_campaign(channels=["email"])
    stranger = add_lead(campaign=elsewhere, email="zoe@other.example", first_name="Zoe")
    with pytest.raises(services.LeadNotInCampaignError):
        services.render_for_lead(variant=email_draft, lead_id=stranger.pk)
