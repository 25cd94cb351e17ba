"""The review loop through the API: submit again, approve with the text/HTML acknowledgement,
preview for one of the client's own leads; as the client, as staff, and as the wrong role."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from creative.email_html import html_from_text
from creative.models import CreativeState, CreativeVariant
from leads.models import Lead
from leads.services import add_lead

from .conftest import CLEAN

pytestmark = pytest.mark.django_db


def test_staff_submit_an_edited_version_again_and_the_client_may_not(
    api_as, operator_role_user, client_user, other_client_user, email_draft
):
    url = f"/api/v1/creatives/{email_draft.pk}/submit/"
    refused = api_as(client_user).post(url, {}, format="json")
    assert refused.status_code == 403 and "submit creative for review" in refused.json()["detail"]
    assert api_as(other_client_user).post(url, {}, format="json").status_code == 404
    assert CreativeVariant.objects.get(pk=email_draft.pk).state == CreativeState.DRAFT
    ok = api_as(operator_role_user).post(url, {}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == CreativeState.IN_REVIEW
    again = api_as(operator_role_user).post(url, {}, format="json")
    assert again.status_code == 409 and "in review" in again.json()["detail"]


def test_request_changes_edit_submit_approve_round_trip(api_as, operator_role_user, client_user, email_draft):
    Campaign.objects.filter(pk=email_draft.campaign_id).update(allow_client_approval=True)
    staff, client = api_as(operator_role_user), api_as(client_user)
    base = f"/api/v1/creatives/{email_draft.pk}"
    assert staff.post(f"{base}/submit/", {}, format="json").status_code == 200
    changes = client.post(f"{base}/request-changes/", {"rationale": "say Fleet"}, format="json")
    assert changes.json()["state"] == CreativeState.CHANGES_REQUESTED
    # The client asked; the agency edits (text only: the HTML follows) and submits again.
    new_body = CLEAN["body"].replace("route planning", "fleet route planning")
    edited = staff.post(
        f"{base}/edit/", {"body": new_body, "body_html": email_draft.body_html}, format="json"
    )
    assert edited.status_code == 200 and edited.json()["body_html"] == html_from_text(new_body)
    assert edited.json()["html_differences"] == []
    assert staff.post(f"{base}/submit/", {}, format="json").json()["state"] == CreativeState.IN_REVIEW
    approved = client.post(f"{base}/approve/", {"rationale": "good"}, format="json")
    assert approved.status_code == 200 and approved.json()["state"] == CreativeState.APPROVED


def test_approving_differing_html_needs_the_acknowledgement(api_as, operator_role_user, email_draft):
    staff = api_as(operator_role_user)
    base = f"/api/v1/creatives/{email_draft.pk}"
    html = email_draft.body_html.replace("Would a short call", "Would a free audit")
    staff.post(f"{base}/edit/", {"body_html": html}, format="json")
    detail = staff.get(f"{base}/").json()
    assert detail["html_differences"] == [
        {"text": ["Would a short call next week help?"], "html": ["Would a free audit next week help?"]}
    ]
    staff.post(f"{base}/submit/", {}, format="json")
    refused = staff.post(f"{base}/approve/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["field"] == "acknowledge_html_difference"
    assert refused.json()["differences"] == detail["html_differences"]
    ok = staff.post(f"{base}/approve/", {"acknowledge_html_difference": True}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == CreativeState.APPROVED


def test_preview_for_the_clients_own_lead(
    api_as, client_user, operator_role_user, email_draft, approved_campaign
):
    dana = Lead.objects.get(campaign=email_draft.campaign, first_name="Dana")
    url = f"/api/v1/creatives/{email_draft.pk}/preview/"
    for user in (client_user, operator_role_user):
        body = api_as(user).get(url, {"lead": dana.pk}).json()
        assert body["subject"] == CLEAN["subject"]
        assert body["body"].startswith("Hi Dana,") and "teams like Fleet Co." in body["body"]
        assert "Hi Dana," in body["body_html"] and body["missing"] == [] and body["html_differences"] == []
    # A lead of another campaign — here another client's — is not previewed with, even by id.
    other = approved_campaign(channels=["email"])
    stranger = add_lead(campaign=other, email="zoe@other.example", first_name="Zoe")
    missing = api_as(client_user).get(url, {"lead": stranger.pk})
    assert missing.status_code == 404 and "Zoe" not in missing.content.decode()
    assert api_as(client_user).get(url, {"lead": "dana"}).status_code == 400
    assert api_as(client_user).get(url).json()["body"].startswith("Hi Alex,")  # the sample lead
