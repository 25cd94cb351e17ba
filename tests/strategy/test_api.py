from __future__ import annotations

import pytest

from campaigns.models import AuditEvent, CampaignState
from strategy import services
from strategy.models import CalendarItem, StrategyVariant, VariantState
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def generate_url(campaign):
    return f"/api/v1/campaigns/{campaign.pk}/strategies/generate/"


def variant_url(variant, step):
    return f"/api/v1/strategies/{variant.pk}/{step}/"


def test_operator_generates_lists_selects_and_approves(api_as, operator, make_campaign):
    campaign = make_campaign("webinar")
    api = api_as(operator)

    created = api.post(generate_url(campaign), {"variants": 3})
    assert created.status_code == 201, created.content
    batch = created.json()
    assert [v["angle"] for v in batch["variants"]] == ["conservative", "aggressive", "creative"]
    assert batch["number"] == 1 and batch["generator"] == "template"
    first = batch["variants"][0]
    assert {
        "positioning",
        "pillars",
        "channel_mix",
        "cadence",
        "phases",
        "kpi_targets",
        "budget_split",
        "risks",
    } <= (set(first))

    listed = api.get(f"/api/v1/campaigns/{campaign.pk}/strategies/").json()
    assert listed["count"] == 1 and len(listed["results"][0]["variants"]) == 3

    variant = StrategyVariant.objects.get(pk=batch["variants"][2]["id"])
    assert api.post(variant_url(variant, "select"), {}).json()["state"] == "selected"
    approved = api.post(variant_url(variant, "approve"), {"rationale": "Stands out in a crowded market"})
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["state"] == "approved" and body["decided_by"] == operator.username
    assert body["decision_rationale"] == "Stands out in a crowded market"
    assert [d["action"] for d in body["decisions"]] == ["selected", "approved"]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.APPROVED

    plan = api.get(f"/api/v1/campaigns/{campaign.pk}/plan/").json()
    assert plan["variant"] == variant.pk and [p["key"] for p in plan["phases"]] == [
        "promote",
        "event",
        "follow_up",
    ]
    assert (
        plan["duration_days"] == 90
        and plan["calendar_items"] == CalendarItem.objects.filter(campaign=campaign).count()
    )

    calendar = api.get(
        f"/api/v1/campaigns/{campaign.pk}/calendar/", {"month": "2026-03", "platform": "email"}
    )
    assert calendar.status_code == 200
    items = calendar.json()["results"]
    assert items and all(i["platform"] == "email" and i["scheduled_at"][:7] == "2026-03" for i in items)
    assert "+01:00" in items[0]["local_time"]  # Europe/Berlin in March


def test_approving_without_selection_is_409_with_a_message(api_as, operator, generated):
    _campaign, _batch, variants = generated
    response = api_as(operator).post(variant_url(variants[0], "approve"), {})
    assert response.status_code == 409
    assert "select it first" in response.json()["detail"]


def test_approving_twice_is_409(api_as, operator, generated):
    _campaign, _batch, variants = generated
    api = api_as(operator)
    api.post(variant_url(variants[0], "select"), {})
    assert api.post(variant_url(variants[0], "approve"), {}).status_code == 200
    again = api.post(variant_url(variants[0], "approve"), {})
    assert again.status_code == 409 and "already approved" in again.json()["detail"]


def test_approving_with_another_campaign_id_is_refused(api_as, operator, generated, make_campaign):
    _campaign, _batch, variants = generated
    other = make_campaign()
    api = api_as(operator)
    api.post(variant_url(variants[0], "select"), {})
    response = api.post(variant_url(variants[0], "approve"), {"campaign": other.pk})
    assert response.status_code == 400
    assert f"not to campaign {other.pk}" in response.json()["detail"]


def test_reject_requires_a_rationale(api_as, operator, generated):
    _campaign, _batch, variants = generated
    api = api_as(operator)
    missing = api.post(variant_url(variants[1], "reject"), {})
    assert missing.status_code == 400 and "rationale" in missing.json()
    done = api.post(variant_url(variants[1], "reject"), {"rationale": "Too pushy for this brand"})
    assert done.status_code == 200 and done.json()["state"] == "rejected"


def test_client_may_decide_only_when_the_campaign_allows_it(api_as, make_campaign, client_user):
    campaign = make_campaign(client=client_user.client)
    variant = services.generate_strategies(campaign=campaign).variants.first()
    api = api_as(client_user)
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/strategies/").status_code == 200
    refused = api.post(variant_url(variant, "select"), {})
    assert refused.status_code == 403 and "does not allow client approval" in refused.json()["detail"]

    campaign.allow_client_approval = True
    campaign.save(update_fields=["allow_client_approval"])
    assert api.post(variant_url(variant, "select"), {}).status_code == 200
    approved = api.post(variant_url(variant, "approve"), {"rationale": "Our board likes it"})
    assert approved.status_code == 200
    event = AuditEvent.objects.get(campaign=campaign, verb="strategy.approved")
    assert event.actor == client_user and event.rationale == "Our board likes it"


def test_clients_cannot_generate(api_as, client_user):
    campaign = CampaignFactory(client=client_user.client)
    assert api_as(client_user).post(generate_url(campaign), {"variants": 3}).status_code == 403


def test_another_clients_campaign_and_variant_are_404(api_as, make_campaign, client_user, other_client_user):
    campaign = make_campaign(client=other_client_user.client, allow_client_approval=True)
    variant = services.generate_strategies(campaign=campaign).variants.first()
    api = api_as(client_user)
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/strategies/").status_code == 404
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/plan/").status_code == 404
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/calendar/").status_code == 404
    assert api.get(f"/api/v1/strategies/{variant.pk}/").status_code == 404
    for step in ("select", "approve", "reject"):
        assert api.post(variant_url(variant, step), {"rationale": "x"}).status_code == 404
    assert api.get("/api/v1/strategies/").json()["count"] == 0
    variant.refresh_from_db()
    assert variant.state == VariantState.PROPOSED


def test_invalid_variant_count_is_400(api_as, operator, make_campaign):
    response = api_as(operator).post(generate_url(make_campaign()), {"variants": 9})
    assert response.status_code == 400 and "variants" in response.json()


def test_llm_generator_is_not_offered_without_a_key(api_as, operator, make_campaign, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    response = api_as(operator).post(generate_url(make_campaign()), {"generator": "llm"})
    assert response.status_code == 400 and "available: template" in str(response.json()["generator"])


def test_plan_before_approval_is_404_with_a_hint(api_as, operator, generated):
    campaign, *_ = generated
    response = api_as(operator).get(f"/api/v1/campaigns/{campaign.pk}/plan/")
    assert response.status_code == 404 and "approve a strategy variant first" in response.json()["detail"]


def test_brief_can_be_read_and_edited_with_field_errors(api_as, operator, make_campaign):
    campaign = make_campaign()
    api = api_as(operator)
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/brief/").json()["currency"] == "EUR"
    bad = api.put(
        f"/api/v1/campaigns/{campaign.pk}/brief/", {"objective": "short", "channels": ["email", "fax"]}
    )
    assert bad.status_code == 400 and {"channels"} <= set(bad.json())
    bad = api.put(f"/api/v1/campaigns/{campaign.pk}/brief/", {"objective": "short"})
    assert bad.status_code == 400 and "objective" in bad.json()
    ok = api.put(
        f"/api/v1/campaigns/{campaign.pk}/brief/", {"offer": "  Fleet analytics  ", "channels": ["email"]}
    )
    assert ok.status_code == 200 and ok.json()["offer"] == "Fleet analytics"


def test_schema_documents_the_strategy_endpoints(api_as, operator):
    schema = api_as(operator).get("/api/schema/", {"format": "json"}).json()
    generate = schema["paths"]["/api/v1/campaigns/{campaign_id}/strategies/generate/"]["post"]
    assert "201" in generate["responses"] and "requestBody" in generate
    reject = schema["paths"]["/api/v1/strategies/{id}/reject/"]["post"]
    assert "409" in reject["responses"]


def test_generating_for_a_cancelled_campaign_is_409(api_as, operator, campaign_in_state):
    campaign = campaign_in_state(CampaignState.CANCELLED)
    response = api_as(operator).post(generate_url(campaign), {"variants": 3})
    assert response.status_code == 409 and "cancelled" in response.json()["detail"]


def test_listing_strategies_does_not_query_per_variant(
    api_as, operator, make_campaign, django_assert_max_num_queries
):
    campaign = make_campaign()
    for _ in range(3):
        services.generate_strategies(campaign=campaign, variants=5)
    api = api_as(operator)
    with django_assert_max_num_queries(10):
        response = api.get(f"/api/v1/campaigns/{campaign.pk}/strategies/")
    assert response.json()["count"] == 3 and len(response.json()["results"][0]["variants"]) == 5
    with django_assert_max_num_queries(10):
        assert api.get("/api/v1/strategies/", {"campaign": campaign.pk}).json()["count"] == 15
