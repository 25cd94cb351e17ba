from __future__ import annotations

import pytest
from django.urls import reverse

from creative import services
from creative.models import CreativeBrief, CreativeState, CreativeVariant

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, operator):
    client.force_login(operator)
    return client


def test_generate_page_creates_checked_variants(logged_in, approved_campaign):
    campaign = approved_campaign()
    url = reverse("admin:creative_generate")
    assert logged_in.get(url).status_code == 200
    response = logged_in.post(
        url, {"campaign": campaign.pk, "variants": 3, "platforms": ["email"]}, follow=True
    )
    assert b"Generated 3 variant(s) in 1 brief(s)" in response.content
    assert CreativeVariant.objects.filter(campaign=campaign, state=CreativeState.IN_REVIEW).count() == 3


def test_compare_page_shows_variants_side_by_side_and_decides(logged_in, operator, approved_campaign):
    campaign = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    brief = CreativeBrief.objects.get(campaign=campaign)
    url = reverse("admin:creative_creativebrief_compare", args=[brief.pk])
    page = logged_in.get(url).content.decode()
    ids = list(brief.variants.values_list("pk", flat=True))
    assert all(f'id="variant-{pk}"' in page for pk in ids)
    assert page.count("<b>Checks:</b>") == 3
    assert "<b>error</b>" not in page
    response = logged_in.post(
        url, {"variant": ids[0], "decision": "approve", "rationale": "clearest"}, follow=True
    )
    assert f"Creative #{ids[0]} is now approved".encode() in response.content
    refused = logged_in.post(url, {"variant": ids[1], "decision": "reject", "rationale": ""}, follow=True)
    assert b"rationale is required" in refused.content
    assert CreativeVariant.objects.get(pk=ids[1]).state == CreativeState.IN_REVIEW


def test_saving_an_approved_variant_in_admin_creates_a_new_version(logged_in, operator, approved_campaign):
    campaign = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    v1 = services.approve_creative(variant=CreativeVariant.objects.first(), actor=operator)
    url = reverse("admin:creative_creativevariant_change", args=[v1.pk])
    page = logged_in.get(url)
    assert b"Lineage" in page.content and b"Preview" in page.content
    data = {k: getattr(v1, k) for k in services.EDITABLE_CONTENT}
    data["hashtags"] = ""
    data["subject"] = "Edited in the admin"
    response = logged_in.post(url, data, follow=True)
    assert b"your edit is new draft version" in response.content
    v1.refresh_from_db()
    assert v1.state == CreativeState.APPROVED and v1.subject != "Edited in the admin"
    v2 = CreativeVariant.objects.get(variant_of=v1)
    assert v2.subject == "Edited in the admin" and v2.generation == 2
