from __future__ import annotations

import pytest

from campaigns.models import Campaign
from creative import services
from creative.models import CreativeState, CreativeVariant

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign_with_creative(approved_campaign, operator, client_user):
    campaign = approved_campaign(client=client_user.client)
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    return campaign


def test_generate_and_list(api_as, operator, approved_campaign):
    campaign = approved_campaign()
    response = api_as(operator).post(
        f"/api/v1/campaigns/{campaign.pk}/creatives/generate/",
        {"variants": 2, "platforms": ["email", "linkedin"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert len(response.json()) == 4
    listed = api_as(operator).get(f"/api/v1/campaigns/{campaign.pk}/creatives/", {"platform": "email"}).json()
    assert listed["count"] == 2 and {c["platform"] for c in listed["results"]} == {"email"}


def test_generate_without_approved_strategy_is_400(api_as, operator, campaign_in_state):
    campaign = campaign_in_state("draft")
    response = api_as(operator).post(
        f"/api/v1/campaigns/{campaign.pk}/creatives/generate/", {}, format="json"
    )
    assert response.status_code == 400
    assert "no approved strategy" in response.json()["detail"]


def test_detail_has_findings_and_lineage(api_as, operator, campaign_with_creative):
    variant = CreativeVariant.objects.filter(campaign=campaign_with_creative).first()
    v1 = services.approve_creative(variant=variant, actor=operator)
    v2 = services.edit_creative(variant=v1, actor=operator, subject="v2")
    body = api_as(operator).get(f"/api/v1/creatives/{v2.pk}/").json()
    # Only notes (the spam score, when spamassassin is installed): nothing blocks or warns.
    assert [f for f in body["check_findings"] if f["severity"] != "info"] == []
    assert [(e["id"], e["depth"]) for e in body["lineage"]] == [(v1.pk, 0), (v2.pk, 1)]
    assert body["variant_of"] == v1.pk and body["generation"] == 2


def test_client_decides_only_when_campaign_allows(api_as, client_user, campaign_with_creative):
    variant = CreativeVariant.objects.filter(campaign=campaign_with_creative).first()
    url = f"/api/v1/creatives/{variant.pk}/approve/"
    assert api_as(client_user).post(url, {}, format="json").status_code == 403
    Campaign.objects.filter(pk=campaign_with_creative.pk).update(allow_client_approval=True)
    response = api_as(client_user).post(url, {"rationale": "on brand"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == CreativeState.APPROVED


def test_request_changes_and_reject_need_rationale_and_illegal_is_409(
    api_as, operator, campaign_with_creative
):
    variant = CreativeVariant.objects.filter(campaign=campaign_with_creative).first()
    base = f"/api/v1/creatives/{variant.pk}"
    assert api_as(operator).post(f"{base}/reject/", {}, format="json").status_code == 400
    response = api_as(operator).post(f"{base}/request-changes/", {"rationale": "shorter"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "changes_requested"
    conflict = api_as(operator).post(f"{base}/approve/", {}, format="json")
    assert conflict.status_code == 409 and "changes requested" in conflict.json()["detail"]


def test_failing_checks_need_override(api_as, operator, campaign_with_creative):
    variant = CreativeVariant.objects.filter(campaign=campaign_with_creative).first()
    services.reject_creative(variant=variant, actor=operator, rationale="rewrite")
    response = api_as(operator).post(
        f"/api/v1/creatives/{variant.pk}/edit/",
        {"body": "Guaranteed results for {{ company }}!"},
        format="json",
    )
    assert response.status_code == 201
    new = CreativeVariant.objects.get(pk=response.json()["id"])
    services.submit_creative_for_review(variant=new, actor=operator)
    refused = api_as(operator).post(f"/api/v1/creatives/{new.pk}/approve/", {}, format="json")
    assert refused.status_code == 400
    assert "risky_claim" in {f["code"] for f in refused.json()["findings"]}
    ok = api_as(operator).post(
        f"/api/v1/creatives/{new.pk}/approve/",
        {"override_rationale": "Legal approved the claim"},
        format="json",
    )
    assert ok.status_code == 200


def test_preview(api_as, operator, campaign_with_creative):
    variant = CreativeVariant.objects.filter(campaign=campaign_with_creative).first()
    body = api_as(operator).get(f"/api/v1/creatives/{variant.pk}/preview/").json()
    assert body["body"].startswith("Hi Alex,") and body["missing"] == []


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/api/v1/creatives/{id}/", None),
        ("post", "/api/v1/creatives/{id}/approve/", {}),
        ("post", "/api/v1/creatives/{id}/reject/", {"rationale": "x"}),
        ("post", "/api/v1/creatives/{id}/request-changes/", {"rationale": "x"}),
        ("get", "/api/v1/creatives/{id}/preview/", None),
        ("get", "/api/v1/campaigns/{campaign}/creatives/", None),
    ],
)
def test_other_clients_creative_is_404(api_as, other_client_user, campaign_with_creative, method, path, data):
    variant = CreativeVariant.objects.filter(campaign=campaign_with_creative).first()
    url = path.format(id=variant.pk, campaign=campaign_with_creative.pk)
    response = getattr(api_as(other_client_user), method)(url, data, format="json")
    assert response.status_code == 404
    variant.refresh_from_db()
    assert variant.state == CreativeState.IN_REVIEW
