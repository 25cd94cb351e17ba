"""The review loop in the admin as an operator-role user (not a superuser): submit again from the
comparison page and the variant page, the text/HTML warning and its acknowledgement, the HTML
following an edited text, and the preview for a lead the reviewer picks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from creative import services
from creative.email_html import html_from_text
from creative.models import CreativeState, CreativeVariant
from leads.models import Lead
from leads.services import add_lead

from .conftest import CLEAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_operator(client, operator_role_user):
    assert not operator_role_user.is_superuser
    client.force_login(operator_role_user)
    return client


def _compare_url(variant: CreativeVariant) -> str:
    return reverse("admin:creative_creativebrief_compare", args=[variant.brief_id])


def _column(page: str, variant: CreativeVariant) -> str:
    start = page.index(f'id="variant-{variant.pk}"')
    end = page.find('<div class="col"', start)
    return page[start : end if end > 0 else len(page)]


def test_compare_page_submits_a_draft_then_approves_it(as_operator, email_draft):
    url = _compare_url(email_draft)
    column = _column(as_operator.get(url).content.decode(), email_draft)
    assert 'value="submit_for_review"' in column and 'value="approve"' not in column
    response = as_operator.post(
        url, {"variant": email_draft.pk, "decision": "submit_for_review"}, follow=True
    )
    assert f"Creative #{email_draft.pk} is now in review".encode() in response.content
    column = _column(response.content.decode(), email_draft)
    assert 'value="approve"' in column and 'value="submit_for_review"' not in column
    approved = as_operator.post(url, {"variant": email_draft.pk, "decision": "approve"}, follow=True)
    assert f"Creative #{email_draft.pk} is now approved".encode() in approved.content
    assert CreativeVariant.objects.get(pk=email_draft.pk).state == CreativeState.APPROVED


def test_changes_requested_shows_submit_on_the_compare_page(as_operator, operator, email_draft):
    services.submit_creative_for_review(variant=email_draft, actor=operator)
    services.request_creative_changes(variant=email_draft, actor=operator, rationale="shorter please")
    column = _column(as_operator.get(_compare_url(email_draft)).content.decode(), email_draft)
    assert "Changes requested: shorter please" in column and 'value="submit_for_review"' in column
    as_operator.post(_compare_url(email_draft), {"variant": email_draft.pk, "decision": "submit_for_review"})
    assert CreativeVariant.objects.get(pk=email_draft.pk).state == CreativeState.IN_REVIEW


def test_variant_page_edit_derives_the_html_and_submits(as_operator, email_draft):
    url = reverse("admin:creative_creativevariant_change", args=[email_draft.pk])
    page = as_operator.get(url).content.decode()
    assert 'id="creative-submit-form"' in page and "Preview for a lead" in page
    data = {k: getattr(email_draft, k) for k in services.EDITABLE_CONTENT}
    data["hashtags"] = ""
    data["body"] = CLEAN["body"].replace("Would a short call", "Would a quick call")
    response = as_operator.post(url, {**data, "_continue": "1"}, follow=True)
    assert b"submit it for review when it is ready" in response.content
    edited = CreativeVariant.objects.get(pk=email_draft.pk)
    assert edited.body_html == html_from_text(data["body"]) and "quick call" in edited.body_html
    submit = reverse("admin:creative_creativevariant_submit", args=[email_draft.pk])
    done = as_operator.post(submit, {"next": url}, follow=True)
    assert b"is in review again" in done.content
    assert CreativeVariant.objects.get(pk=email_draft.pk).state == CreativeState.IN_REVIEW
    assert b'id="creative-submit-form"' not in done.content  # nothing left to submit


def test_submitting_what_is_in_review_is_a_message_not_an_error_page(as_operator, operator, email_draft):
    services.submit_creative_for_review(variant=email_draft, actor=operator)
    submit = reverse("admin:creative_creativevariant_submit", args=[email_draft.pk])
    response = as_operator.post(submit, follow=True)
    assert response.status_code == 200 and b"Cannot submit for review" in response.content


def test_differing_html_is_shown_and_approval_needs_the_checkbox(as_operator, operator, email_draft):
    html = email_draft.body_html.replace("Would a short call", "Would a free audit")
    edited = services.edit_creative(variant=email_draft, actor=operator, body_html=html)
    services.submit_creative_for_review(variant=edited, actor=operator)
    url = _compare_url(edited)
    column = _column(as_operator.get(url).content.decode(), edited)
    assert "The HTML part says something else than the text" in column
    assert "Would a short call next week help?" in column and "Would a free audit next week help?" in column
    assert 'name="acknowledge_html_difference"' in column
    variant_page = as_operator.get(reverse("admin:creative_creativevariant_change", args=[edited.pk]))
    assert b"The HTML part says something else than the text" in variant_page.content
    refused = as_operator.post(url, {"variant": edited.pk, "decision": "approve"}, follow=True)
    assert b"says something other than its text body" in refused.content
    assert CreativeVariant.objects.get(pk=edited.pk).state == CreativeState.IN_REVIEW
    as_operator.post(url, {"variant": edited.pk, "decision": "approve", "acknowledge_html_difference": "1"})
    assert CreativeVariant.objects.get(pk=edited.pk).state == CreativeState.APPROVED


def test_preview_page_renders_for_the_lead_picked_from_the_campaigns_leads(
    as_operator, email_draft, approved_campaign
):
    other = approved_campaign(channels=["email"])
    stranger = add_lead(campaign=other, email="zoe@other.example", first_name="Zoe")
    dana = Lead.objects.get(campaign=email_draft.campaign, first_name="Dana")
    url = reverse("admin:creative_creativevariant_preview", args=[email_draft.pk])
    page = as_operator.get(url).content.decode()
    assert f'<option value="{dana.pk}">' in page and "dana@fleet.example" in page
    assert "zoe@other.example" not in page
    assert "Hi Alex," in page  # the sample lead until one is picked
    picked = as_operator.get(url, {"lead": dana.pk}).content.decode()
    assert f'<option value="{dana.pk}" selected>' in picked
    assert "Hi Dana," in picked and "teams like Fleet Co." in picked
    assert 'sandbox title="HTML part"' in picked and "Hi Dana," in picked.split('id="preview-html"')[1]
    refused = as_operator.get(url, {"lead": stranger.pk}, follow=True).content.decode()
    assert f"Lead {stranger.pk} is not in campaign" in refused and "Hi Alex," in refused
