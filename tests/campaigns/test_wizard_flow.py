"""Issue #17's wizard and one-POST steps in the admin, as an operator-role user (not a superuser):
client → campaign → brief (prefilled) → "Save and generate strategies" → select and approve in one
submit → import leads going on to the next step → a sequence offering activation → the next-cycle
preview with its dry-run button → results linking back to the campaign."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignState, Client
from campaigns.services.transitions import activate_campaign
from creative import services as creative_services
from creative.models import CreativeVariant
from leads.models import LeadImport
from outreach.models import Message
from outreach.services.sending.sequences import create_sequence
from strategy import services as strategy_services
from strategy.models import Brief, StrategyBatch, StrategyVariant, VariantState
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_operator(client, operator_role_user):
    client.force_login(operator_role_user)
    return client


def _brief(campaign: Campaign) -> Brief:
    return strategy_services.save_brief(
        campaign=campaign,
        objective="Book calls",
        audience="Ops leads",
        offer="Route audit",
        channels=["email"],
    )


def test_saving_a_client_opens_its_campaign_form(as_operator):
    response = as_operator.post(
        reverse("admin:campaigns_client_add"),
        {"name": "Hansa", "slug": "hansa", "is_active": "on", "_save": "Save"},
    )
    client = Client.objects.get(name="Hansa")
    assert response["Location"] == f"{reverse('admin:campaigns_campaign_add')}?client={client.pk}"
    form = as_operator.get(response["Location"]).content.decode()
    assert re.search(rf'<option value="{client.pk}" selected>', form)


def test_saving_a_campaign_opens_its_brief_prefilled_from_it(as_operator):
    client = Client.objects.create(name="Hansa", slug="hansa")
    today = dt.date.today()
    response = as_operator.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "client": client.pk,
            "name": "Q4 DACH",
            "type": "lead_gen",
            "objective": "Book 10 calls",
            "icp": "Fleet managers",
            "target_niche": "Carriers",
            "target_clients": 10,
            "channels": ["email"],
            "daily_email_cap": 50,
            "timezone": "Europe/Berlin",
            "start_date": today.isoformat(),
            "end_date": (today + dt.timedelta(days=30)).isoformat(),
            "budget_cap": "8000",
            "currency": "EUR",
            "mode": "dry_run",
            "_save": "Save",
            "risk_flags-TOTAL_FORMS": 0,
            "risk_flags-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.context_data["adminform"].form.errors
    campaign = Campaign.objects.get(name="Q4 DACH")
    assert response["Location"] == f"{reverse('admin:strategy_brief_add')}?campaign={campaign.pk}"
    form = as_operator.get(response["Location"]).content.decode()
    assert 'name="objective"' in form and "Book 10 calls</textarea>" in form
    assert re.search(r'name="currency" value="EUR"', form)  # not USD for an EUR campaign
    assert re.search(r'value="email"[^>]*checked', form) or re.search(r'checked[^>]*value="email"', form)
    assert "Fleet managers" in form and 'id="brief-save-generate"' in form


def test_save_and_generate_strategies_lands_on_the_comparison(as_operator):
    campaign = CampaignFactory(currency="EUR", start_date=dt.date.today())
    response = as_operator.post(
        f"{reverse('admin:strategy_brief_add')}?campaign={campaign.pk}",
        {
            "campaign": campaign.pk,
            "objective": "Book calls",
            "audience": "Ops leads",
            "offer": "Route audit",
            "channels": ["email"],
            "tone": "professional",
            "currency": "EUR",
            "generate_variants": "3",
            "_generate": "Save and generate strategies",
        },
    )
    batch = StrategyBatch.objects.get(campaign=campaign)
    assert response["Location"] == reverse("admin:strategy_strategybatch_compare", args=[batch.pk])
    assert batch.variants.count() == 3


def test_saving_a_brief_returns_to_the_campaign(as_operator):
    campaign = CampaignFactory()
    brief = _brief(campaign)
    response = as_operator.post(
        reverse("admin:strategy_brief_change", args=[brief.pk]),
        {
            "objective": "Book more calls",
            "audience": "Ops leads",
            "offer": "Route audit",
            "channels": ["email"],
            "tone": brief.tone,
            "currency": brief.currency,
            "_save": "Save",
        },
    )
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def test_a_proposed_strategy_is_selected_and_approved_in_one_submit(as_operator, operator_role_user):
    campaign = CampaignFactory()
    _brief(campaign)
    batch = strategy_services.generate_strategies(campaign=campaign, actor=operator_role_user, variants=2)
    chosen = batch.variants.order_by("position").first()
    compare = reverse("admin:strategy_strategybatch_compare", args=[batch.pk])
    page = as_operator.get(compare).content.decode()
    assert 'data-step="select"' not in page and "Select and approve" in page
    as_operator.post(
        reverse("admin:strategy_strategybatch_decide", args=[batch.pk]),
        {"variant": chosen.pk, "step": "approve", "rationale": "fits"},
    )
    chosen = StrategyVariant.objects.get(pk=chosen.pk)
    assert chosen.state == VariantState.APPROVED and chosen.decision_rationale == "fits"
    page = as_operator.get(compare).content.decode()
    generate = f"{reverse('admin:creative_generate')}?campaign={campaign.pk}"
    assert f'id="next-generate-creative" href="{generate}"' in page and 'id="next-import-leads"' in page


def test_an_import_goes_on_to_the_next_step_with_its_summary(as_operator, tmp_path):
    campaign = CampaignFactory()
    nxt = f"{reverse('admin:creative_generate')}?campaign={campaign.pk}"
    upload = reverse("admin:leads_leadimport_upload")
    form = as_operator.get(f"{upload}?campaign={campaign.pk}&next={nxt}").content.decode()
    assert 'name="next"' in form
    csv = tmp_path / "leads.csv"
    csv.write_text("Email,First Name\na@x.example,Ann\nbad,Bob\n", encoding="utf-8")
    with csv.open("rb") as handle:
        preview = as_operator.post(upload, {"campaign": campaign.pk, "file": handle, "next": nxt})
    html = preview.content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    assert f'name="next" value="{nxt}"' in html.replace("&amp;", "&")
    done = as_operator.post(
        reverse("admin:leads_leadimport_confirm"), {"token": token, "next": nxt}, follow=True
    )
    lead_import = LeadImport.objects.get(campaign=campaign)
    assert done.redirect_chain[-1][0] == nxt
    page = done.content.decode()
    assert "1 leads inserted from 2 rows; 1 rows rejected" in page
    assert reverse("admin:leads_leadimport_change", args=[lead_import.pk]) in page  # the full report


def test_an_import_without_next_returns_to_the_campaign(as_operator, tmp_path):
    campaign = CampaignFactory()
    upload = reverse("admin:leads_leadimport_upload")
    csv = tmp_path / "leads.csv"
    csv.write_text("Email\na@x.example\n", encoding="utf-8")
    with csv.open("rb") as handle:
        html = as_operator.post(upload, {"campaign": campaign.pk, "file": handle}).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    response = as_operator.post(
        reverse("admin:leads_leadimport_confirm"), {"token": token, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("admin:campaigns_campaign_change", args=[campaign.pk])


@pytest.fixture
def sequenced_campaign(operator, frozen_now):
    """An approved (not yet active) email campaign with approved creative and one sequence."""
    campaign = CampaignFactory(
        channels=["email"], start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 5, 30)
    )
    _brief(campaign)
    strategy_services.generate_and_approve_strategy(campaign=campaign, actor=operator, rationale="fit")
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], variants=1)
    creative = CreativeVariant.objects.get(campaign=campaign)
    creative_services.approve_creative(variant=creative, actor=operator)
    sequence = create_sequence(
        campaign=campaign, name="Main", actor=operator, steps=[{"delay_days": 0, "creatives": [creative.pk]}]
    )
    campaign.refresh_from_db()
    return campaign, sequence


def test_the_sequence_page_activates_the_campaign_then_shows_the_preview(as_operator, sequenced_campaign):
    campaign, sequence = sequenced_campaign
    assert campaign.state == CampaignState.APPROVED
    page = as_operator.get(reverse("admin:outreach_sequence_change", args=[sequence.pk])).content.decode()
    assert 'id="sequence-activate-form"' in page
    preview = f"{reverse('admin:outreach_sequence_preview_cycle')}?campaign={campaign.pk}"
    response = as_operator.post(
        reverse("admin:campaigns_campaign_transition", args=[campaign.pk, "activate"]),
        {"rationale": "ready", "next": preview},
    )
    assert response["Location"] == preview
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE


def test_the_campaign_page_activates_in_one_post(as_operator, sequenced_campaign):
    campaign, _ = sequenced_campaign
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = as_operator.get(url).content.decode()
    assert 'id="lifecycle-activate-form"' in page and 'id="lifecycle-activate-rationale"' in page
    response = as_operator.post(
        reverse("admin:campaigns_campaign_transition", args=[campaign.pk, "activate"]), {"rationale": "go"}
    )
    assert response["Location"] == url
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE


def test_preview_page_runs_the_dry_cycle_and_results_link_back(as_operator, sequenced_campaign, operator):
    campaign, _ = sequenced_campaign
    activate_campaign(campaign=campaign, actor=operator)
    preview = as_operator.get(
        f"{reverse('admin:outreach_sequence_preview_cycle')}?campaign={campaign.pk}"
    ).content.decode()
    run_url = reverse("admin:outreach_sequence_run_cycle")
    assert 'id="cycle-preview-run"' in preview and f'action="{run_url}"' in preview
    results = as_operator.post(run_url, {"campaign": campaign.pk}).content.decode()
    assert f"Cycle stats — {campaign.name}" in results
    assert reverse("admin:campaigns_campaign_change", args=[campaign.pk]) in results
    assert Message.objects.filter(campaign=campaign).count() == 0  # no leads: nothing recorded
