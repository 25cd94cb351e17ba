"""Issue #17's page loads on the creative side, as an operator-role user: Save opens the version it
made, the variant page decides and sends a test itself, an emptied HTML part is derived again, the
campaign page's "Review creative" is the comparison, and a test's signature names a person."""

from __future__ import annotations

import pytest
from django.urls import reverse

from creative import services
from creative.email_html import html_from_text
from creative.models import CreativeState, CreativeVariant
from leads.models import Lead
from outreach.services.sending.sequences import preview_context_for_lead

from .conftest import CLEAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_operator(client, operator_role_user):
    client.force_login(operator_role_user)
    return client


def _change_url(variant) -> str:
    return reverse("admin:creative_creativevariant_change", args=[variant.pk])


def _form_data(variant: CreativeVariant, **changes) -> dict:
    data = {
        "subject": variant.subject,
        "preheader": variant.preheader,
        "body": variant.body,
        "body_html": variant.body_html,
        "hashtags": "",
        "media_notes": variant.media_notes,
        "_save": "Save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if k in {*services.EDITABLE_CONTENT, "hashtags", "_save"}}


def test_save_opens_the_new_draft_version_not_the_old_one(as_operator, email_draft, operator):
    in_review = services.submit_creative_for_review(variant=email_draft, actor=operator)
    response = as_operator.post(_change_url(in_review), _form_data(in_review, subject="A new subject line"))
    edited = CreativeVariant.objects.get(subject="A new subject line")
    assert edited.pk != in_review.pk and edited.state == CreativeState.DRAFT
    assert response.status_code == 302 and response["Location"] == _change_url(edited)
    page = as_operator.get(_change_url(edited)).content.decode()
    assert 'id="creative-submit"' in page and 'id="creative-compare-link"' in page


def test_variant_page_submits_then_approves_and_stays_on_the_variant(as_operator, email_draft):
    url = _change_url(email_draft)
    submitted = as_operator.post(
        reverse("admin:creative_creativevariant_submit", args=[email_draft.pk]), {"next": url}
    )
    assert submitted["Location"] == url
    page = as_operator.get(url).content.decode()
    assert 'value="approve"' in page and 'value="request_changes"' in page
    compare = reverse("admin:creative_creativebrief_compare", args=[email_draft.brief_id])
    decided = as_operator.post(
        compare, {"variant": email_draft.pk, "decision": "approve", "rationale": "ok", "next": url}
    )
    assert decided["Location"] == url
    assert CreativeVariant.objects.get(pk=email_draft.pk).state == CreativeState.APPROVED


def test_decision_next_elsewhere_is_ignored(as_operator, email_draft):
    compare = reverse("admin:creative_creativebrief_compare", args=[email_draft.brief_id])
    response = as_operator.post(
        compare, {"variant": email_draft.pk, "decision": "submit_for_review", "next": "https://evil.example/"}
    )
    assert response["Location"] == compare


def test_test_send_from_the_variant_page_lands_on_the_lead_preview(
    as_operator, email_draft, operator, mailoutbox
):
    approved = services.approve_creative(
        variant=services.submit_creative_for_review(variant=email_draft, actor=operator),
        actor=operator,
        rationale="fine",
    )
    page = as_operator.get(_change_url(approved)).content.decode()
    dana = Lead.objects.get(email="dana@fleet.example")
    assert 'id="test-send-lead"' in page and f'<option value="{dana.pk}">' in page
    assert "Use in a new sequence" in page
    response = as_operator.post(
        reverse("admin:creative_creativevariant_test_send", args=[approved.pk]), {"lead": dana.pk}
    )
    preview = reverse("admin:creative_creativevariant_preview", args=[approved.pk])
    assert response["Location"] == f"{preview}?lead={dana.pk}"
    assert len(mailoutbox) == 1 and "Hi Dana" in mailoutbox[0].body


def test_emptied_html_is_derived_from_the_text(email_draft, operator):
    diverged = services.edit_creative(variant=email_draft, actor=operator, body_html="<p>Old words</p>")
    assert diverged.body_html == "<p>Old words</p>"
    fixed = services.edit_creative(variant=diverged, actor=operator, body_html="")
    assert fixed.body_html == html_from_text(fixed.body)
    assert services.html_differences(fixed) == []


def test_review_creative_link_goes_to_the_comparison(as_operator, email_draft):
    page = as_operator.get(
        reverse("admin:campaigns_campaign_change", args=[email_draft.campaign_id])
    ).content.decode()
    compare = reverse("admin:creative_creativebrief_compare", args=[email_draft.brief_id])
    assert f'id="campaign-link-creative-review" href="{compare}"' in page


def test_preview_signature_names_a_person_and_the_public_unsubscribe_url(email_draft, settings):
    campaign = email_draft.campaign
    lead = Lead.objects.get(email="dana@fleet.example")
    context = preview_context_for_lead(campaign=campaign, lead_id=lead.pk)
    assert context["sender_company"] == campaign.client.name
    assert context["sender_name"] != campaign.client.name
    assert context["unsubscribe_url"].startswith(settings.PUBLIC_BASE_URL + "/u/")
    assert "localhost:8000" not in context["unsubscribe_url"] or settings.PUBLIC_BASE_URL.endswith(":8000")
    assert CLEAN["body"]  # the signature line under test is in the clean copy
