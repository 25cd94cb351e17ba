from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent, CampaignState
from strategy import services
from strategy.models import Brief, CalendarItem, CampaignPlan, StrategyBatch, VariantState
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client, operator):
    client.force_login(operator)
    return client


def compare(batch):
    return reverse("admin:strategy_strategybatch_compare", args=[batch.pk])


def decide(admin_client, batch, variant, step, rationale=""):
    return admin_client.post(
        reverse("admin:strategy_strategybatch_decide", args=[batch.pk]),
        {"variant": variant.pk, "step": step, "rationale": rationale},
        follow=True,
    )


def test_brief_is_created_in_the_admin_with_field_errors_then_normalised(admin_client_logged_in, operator):
    campaign = CampaignFactory()
    url = reverse("admin:strategy_brief_add")
    assert admin_client_logged_in.get(url).status_code == 200
    bad = admin_client_logged_in.post(
        url,
        {
            "campaign": campaign.pk,
            "objective": "short",
            "audience": "CFOs",
            "offer": "Audit",
            "channels": ["email"],
            "tone": "bold",
            "currency": "usd",
        },
    )
    assert bad.status_code == 200 and "at least 10 characters" in bad.content.decode()
    ok = admin_client_logged_in.post(
        url,
        {
            "campaign": campaign.pk,
            "objective": "  Win five   audit clients  ",
            "audience": "CFOs",
            "offer": "Audit",
            "channels": ["email", "linkedin"],
            "tone": "bold",
            "currency": "usd",
            "budget": "5000",
        },
    )
    assert ok.status_code == 302, ok.content.decode()[:2000]
    brief = Brief.objects.get(campaign=campaign)
    assert brief.objective == "Win five audit clients" and brief.currency == "USD"
    assert AuditEvent.objects.filter(
        campaign=campaign, verb="strategy.brief_created", actor=operator
    ).exists()


def test_generate_action_then_select_and_approve_from_the_comparison_page(
    admin_client_logged_in, operator, make_campaign
):
    campaign = make_campaign("product_launch")
    brief = campaign.strategy_brief
    page = admin_client_logged_in.post(
        reverse("admin:strategy_brief_changelist"),
        {"action": "generate_selected", "_selected_action": [brief.pk]},
    )
    assert page.status_code == 200 and b"Generate strategies" in page.content
    done = admin_client_logged_in.post(
        reverse("admin:strategy_brief_changelist"),
        {
            "action": "generate_selected",
            "_selected_action": [brief.pk],
            "apply": "1",
            "variants": 3,
            "generator": "template",
        },
    )
    batch = StrategyBatch.objects.get(campaign=campaign)
    assert done.status_code == 302 and done["Location"] == compare(batch)

    html = admin_client_logged_in.get(compare(batch)).content.decode()
    for label in (
        "Positioning",
        "Messaging pillars",
        "Channel mix",
        "Cadence",
        "KPI targets",
        "Budget split",
        "Risks",
    ):
        assert f">{label}</th>" in html
    variants = list(batch.variants.order_by("position"))
    for v in variants:
        assert f'data-variant="{v.pk}"' in html and v.positioning in html
    # One submit selects and approves a proposed variant (no separate Select button).
    assert 'data-step="select"' not in html and "Select and approve" in html
    assert f'data-step="approve" data-variant="{variants[1].pk}"' in html
    response = decide(admin_client_logged_in, batch, variants[1], "approve", "Launch needs momentum")
    assert "approved. The plan and content calendar were built." in response.content.decode()
    variants[1].refresh_from_db()
    campaign.refresh_from_db()
    assert variants[1].state == VariantState.APPROVED and variants[1].decided_by == operator
    assert campaign.state == CampaignState.APPROVED
    assert CampaignPlan.objects.filter(campaign=campaign).exists()


def test_approving_a_proposed_variant_in_the_admin_selects_it_first(admin_client_logged_in, generated):
    _campaign, batch, variants = generated
    decide(admin_client_logged_in, batch, variants[0], "approve", "fits")
    variants[0].refresh_from_db()
    assert variants[0].state == VariantState.APPROVED
    assert [d.action for d in variants[0].decisions.order_by("pk")] == ["selected", "approved"]


def test_reject_in_the_admin_needs_a_rationale(admin_client_logged_in, generated):
    _campaign, batch, variants = generated
    response = decide(admin_client_logged_in, batch, variants[2], "reject", "")
    assert "rationale is required" in response.content.decode()
    variants[2].refresh_from_db()
    assert variants[2].state == VariantState.PROPOSED
    decide(admin_client_logged_in, batch, variants[2], "reject", "Off-brand")
    variants[2].refresh_from_db()
    assert variants[2].state == VariantState.REJECTED and variants[2].decision_rationale == "Off-brand"


def test_a_variant_of_another_batch_cannot_be_decided_through_this_page(
    admin_client_logged_in, generated, make_campaign
):
    _campaign, _batch, variants = generated
    other_batch = services.generate_strategies(campaign=make_campaign())
    response = decide(admin_client_logged_in, other_batch, variants[0], "select")
    assert "not part of this batch" in response.content.decode()


def test_plan_month_view_and_calendar_list_and_edit(admin_client_logged_in, operator, generated):
    campaign, _batch, variants = generated
    services.select_strategy_variant(variant=variants[0], actor=operator)
    services.approve_strategy_variant(variant=variants[0], actor=operator)
    plan = CampaignPlan.objects.get(campaign=campaign)

    assert (
        admin_client_logged_in.get(reverse("admin:strategy_campaignplan_change", args=[plan.pk])).status_code
        == 200
    )
    month = admin_client_logged_in.get(
        reverse("admin:strategy_campaignplan_month", args=[plan.pk]), {"month": "2026-03"}
    ).content.decode()
    assert "March 2026" in month
    march_items = CalendarItem.objects.filter(campaign=campaign, scheduled_at__month=3)
    first = march_items.order_by("scheduled_at").first()
    assert reverse("admin:strategy_calendaritem_change", args=[first.pk]) in month
    assert '<script src="http' not in month  # no CDN

    listing = admin_client_logged_in.get(
        reverse("admin:strategy_calendaritem_changelist"), {"campaign__id__exact": campaign.pk}
    )
    assert listing.status_code == 200 and first.content_type in listing.content.decode()

    edit_url = reverse("admin:strategy_calendaritem_change", args=[first.pk])
    form = admin_client_logged_in.get(edit_url)
    assert form.status_code == 200
    saved = admin_client_logged_in.post(
        edit_url,
        {
            "scheduled_at_0": "2026-03-02",
            "scheduled_at_1": "10:30:00",
            "platform": first.platform,
            "content_type": first.content_type,
            "theme": "Customer spotlight",
            "notes": "Use the Acme quote",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    first.refresh_from_db()
    assert first.theme == "Customer spotlight" and first.edited_by_operator
    assert AuditEvent.objects.filter(
        campaign=campaign, verb="strategy.calendar_item_edited", actor=operator
    ).exists()

    count = CalendarItem.objects.filter(campaign=campaign).count()
    rebuilt = admin_client_logged_in.post(reverse("admin:strategy_campaignplan_rebuild", args=[plan.pk]))
    assert rebuilt.status_code == 302
    assert CalendarItem.objects.filter(campaign=campaign).count() == count
    first.refresh_from_db()
    assert first.theme == "Customer spotlight"


def test_admin_lists_render(admin_client_logged_in, generated):
    for name in ("brief", "strategybatch", "strategyvariant", "campaignplan", "calendaritem"):
        assert admin_client_logged_in.get(reverse(f"admin:strategy_{name}_changelist")).status_code == 200
    campaign, _batch, variants = generated
    assert (
        admin_client_logged_in.get(
            reverse("admin:strategy_strategyvariant_change", args=[variants[0].pk])
        ).status_code
        == 200
    )
    brief_page = admin_client_logged_in.get(
        reverse("admin:strategy_brief_change", args=[campaign.strategy_brief.pk])
    )
    assert brief_page.status_code == 200 and b"Generate strategies" in brief_page.content
    generate_page = reverse("admin:strategy_brief_generate", args=[campaign.strategy_brief.pk])
    assert admin_client_logged_in.get(generate_page).status_code == 200
    response = admin_client_logged_in.post(generate_page, {"variants": 2, "generator": "template"})
    assert response.status_code == 302
    assert StrategyBatch.objects.filter(campaign=campaign).count() == 2
