"""The campaign page leads an operator to every step (checked with Django's test client, fast; the
browser journey in test_operator_journey.py walks the same links in Chromium)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as DjangoClient
from django.urls import reverse

from campaigns.models import CampaignState
from campaigns.services.transitions import transition_campaign
from creative.models import CreativeBrief
from strategy import services as strategy_services
from tests.factories import CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db

BRIEF = {
    "objective": "Book 20 discovery calls with mid-size logistics companies",
    "audience": "Operations directors at logistics firms",
    "offer": "Route-planning software",
    "channels": ["email"],
    "tone": "professional",
}


@pytest.fixture
def browser_as(operator_role_user):
    browser = DjangoClient()
    browser.force_login(operator_role_user)
    return browser


def campaign_page(browser, campaign) -> str:
    response = browser.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert response.status_code == 200
    return response.content.decode()


def link(html: str, key: str) -> str | None:
    found = re.search(rf'id="campaign-link-{key}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def generated_campaign(**fields):
    campaign = CampaignFactory(**fields)
    strategy_services.save_brief(campaign=campaign, **BRIEF)
    batch = strategy_services.generate_strategies(campaign=campaign, variants=3)
    return campaign, batch


def test_a_new_campaign_page_links_to_brief_creative_import_and_dashboard(browser_as):
    campaign = CampaignFactory()
    html = campaign_page(browser_as, campaign)
    only_this = f"?campaign__id__exact={campaign.pk}"
    expected = {
        "strategy-brief": f"{reverse('admin:strategy_brief_add')}?campaign={campaign.pk}",
        "creative-generate": f"{reverse('admin:creative_generate')}?campaign={campaign.pk}",
        "leads-import": f"{reverse('admin:leads_leadimport_upload')}?campaign={campaign.pk}",
        "leads-list": reverse("admin:leads_lead_changelist") + only_this,
        "outreach-new-sequence": f"{reverse('admin:outreach_sequence_new')}?campaign={campaign.pk}",
        "outreach-generate-tasks": reverse("admin:outreach_operatortask_generate")
        + f"?campaign={campaign.pk}",
        "outreach-tasks": reverse("admin:outreach_operatortask_changelist") + only_this,
        "report-dashboard": reverse("admin:reporting_campaigndashboard_change", args=[campaign.pk]),
        "report-csv": reverse("admin:reporting_campaigndashboard_csv", args=[campaign.pk]),
    }
    for key, url in expected.items():
        assert link(html, key) == url, key
        assert browser_as.get(url).status_code == 200, key  # the operator role may follow each
    assert link(html, "strategy-compare") is None and link(html, "creative-review") is None
    # The brief form and the import form start on this campaign.
    brief_form = browser_as.get(expected["strategy-brief"]).content.decode()
    assert re.search(rf'<option value="{campaign.pk}" selected>', brief_form)
    import_form = browser_as.get(expected["leads-import"]).content.decode()
    assert re.search(rf'<option value="{campaign.pk}" selected>', import_form)


def test_after_generation_the_page_links_to_the_comparison_and_says_why_approve_waits(browser_as):
    campaign, batch = generated_campaign()
    html = campaign_page(browser_as, campaign)
    assert link(html, "strategy-compare") == reverse("admin:strategy_strategybatch_compare", args=[batch.pk])
    assert "no strategy approved yet" in html
    assert 'data-transition="approve"' not in html
    waiting = re.search(r'id="lifecycle-waiting-approve">([^<]+)<', html)
    assert waiting and "none is approved yet" in waiting.group(1)
    assert link(html, "strategy-generate") == reverse(
        "admin:strategy_brief_generate", args=[campaign.strategy_brief.pk]
    )


def test_after_approval_the_comparison_offers_no_dead_end_select_and_the_page_shows_plan(
    browser_as, operator_role_user
):
    campaign, batch = generated_campaign()
    variant = batch.variants.order_by("position").first()
    strategy_services.select_strategy_variant(variant=variant, actor=operator_role_user)
    strategy_services.approve_strategy_variant(variant=variant, actor=operator_role_user, rationale="fits")
    compare = browser_as.get(
        reverse("admin:strategy_strategybatch_compare", args=[batch.pk])
    ).content.decode()
    assert 'data-step="select"' not in compare and 'id="approved-strategy"' in compare
    html = campaign_page(browser_as, campaign)
    assert f"approved: {variant.title}" in html
    assert link(html, "strategy-plan") and link(html, "strategy-calendar")
    assert 'data-transition="activate"' in html and "lifecycle-waiting" not in html


def test_generating_one_brief_of_creative_lands_on_its_comparison(browser_as, operator_role_user):
    campaign, batch = generated_campaign()
    variant = batch.variants.order_by("position").first()
    strategy_services.select_strategy_variant(variant=variant, actor=operator_role_user)
    strategy_services.approve_strategy_variant(variant=variant, actor=operator_role_user)
    response = browser_as.post(
        reverse("admin:creative_generate"), {"campaign": campaign.pk, "variants": 2, "platforms": ["email"]}
    )
    brief = CreativeBrief.objects.get(campaign=campaign)
    assert response.status_code == 302
    assert response.url == reverse("admin:creative_creativebrief_compare", args=[brief.pk])
    html = campaign_page(browser_as, campaign)
    assert "2 in review" in html
    # "Review creative" is the comparison, where the decisions are made (not the brief list).
    assert link(html, "creative-review") == reverse("admin:creative_creativebrief_compare", args=[brief.pk])
    assert browser_as.get(link(html, "creative-review")).status_code == 200


def test_a_cancelled_campaign_offers_no_new_work(browser_as):
    campaign, _ = generated_campaign()
    transition_campaign(campaign=campaign, transition="kill", rationale="ended")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CANCELLED
    html = campaign_page(browser_as, campaign)
    for key in ("strategy-generate", "creative-generate", "leads-import", "outreach-new-sequence"):
        assert link(html, key) is None, key
    assert link(html, "strategy-compare") and link(html, "report-dashboard")
    compare = browser_as.get(link(html, "strategy-compare")).content.decode()
    assert 'data-step="select"' not in compare and 'data-step="reject"' not in compare


def test_links_follow_permissions_and_the_import_page_refuses_without_one():
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_campaign"), Permission.objects.get(codename="change_campaign")
    )
    browser = DjangoClient()
    browser.force_login(staff)
    html = campaign_page(browser, CampaignFactory())
    for key in ("strategy-brief", "creative-generate", "leads-import", "leads-list", "outreach-tasks"):
        assert link(html, key) is None, key
    assert link(html, "report-dashboard")  # every staff user sees dashboards
    assert browser.get(reverse("admin:leads_leadimport_upload")).status_code == 403
