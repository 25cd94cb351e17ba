from __future__ import annotations

import itertools
import json

import pytest

from campaigns.campaign_types import campaign_types
from campaigns.errors import DomainError
from campaigns.models import AuditEvent, CampaignState
from strategy import services
from strategy.adapters.template import TemplateStrategyGenerator
from strategy.models import StrategyBatch, StrategyVariant
from strategy.schema import validate_strategy_payload

pytestmark = pytest.mark.django_db


def _content(variant: StrategyVariant) -> dict:
    return {
        f: getattr(variant, f)
        for f in (
            "angle",
            "title",
            "positioning",
            "pillars",
            "channel_mix",
            "cadence",
            "phases",
            "kpi_targets",
            "budget_split",
            "risks",
        )
    }


@pytest.mark.parametrize("campaign_type", [t.key for t in campaign_types()])
def test_each_campaign_type_gets_three_different_variants(make_campaign, operator, campaign_type):
    campaign = make_campaign(campaign_type)
    batch = services.generate_strategies(campaign=campaign, actor=operator)

    variants = list(StrategyVariant.objects.filter(batch=batch).order_by("position"))
    assert [v.angle for v in variants] == ["conservative", "aggressive", "creative"]
    for a, b in itertools.combinations(variants, 2):
        assert a.channel_mix != b.channel_mix
        assert a.kpi_targets != b.kpi_targets
        assert a.positioning != b.positioning
    for v in variants:
        assert 3 <= len(v.pillars) <= 5
        assert abs(sum(v.channel_mix.values()) - 1) < 0.011
        assert set(v.cadence) == set(v.channel_mix)
        assert sum(p["duration_days"] for p in v.phases) == 90
        # The campaign type shapes the plan: its phases and KPIs, not a renamed lead-gen plan.
        ctype = {t.key: t for t in campaign_types()}[campaign_type]
        assert [p["key"] for p in v.phases] == [p.key for p in ctype.phases]
        assert set(v.kpi_targets) == set(ctype.default_kpis)
    validate_strategy_payload({"variants": [_content(v) for v in variants]}, expected_variants=3)


def test_webinar_and_lead_gen_plans_differ_beyond_the_title(make_campaign):
    webinar = services.generate_strategies(campaign=make_campaign("webinar")).variants.get(position=1)
    lead_gen = services.generate_strategies(campaign=make_campaign("lead_gen")).variants.get(position=1)
    assert {p["key"] for p in webinar.phases}.isdisjoint({p["key"] for p in lead_gen.phases})
    assert "registrations" in webinar.kpi_targets and "registrations" not in lead_gen.kpi_targets
    assert "Invitation emails" in webinar.phases[0]["tactics"]


def test_changing_the_brief_changes_the_output(make_campaign, operator):
    campaign = make_campaign()
    first = services.generate_strategies(campaign=campaign, actor=operator)
    services.save_brief(
        campaign=campaign,
        actor=operator,
        audience="Founders of seed-stage fintech start-ups",
        offer="A fractional CFO service",
        budget="40000",
        channels=["email", "linkedin", "x"],
    )
    second = services.generate_strategies(campaign=campaign, actor=operator)

    before = first.variants.get(position=1)
    after = second.variants.get(position=1)
    assert "fractional CFO" in after.positioning and "fractional CFO" not in before.positioning
    assert "x" in after.channel_mix and "x" not in before.channel_mix
    assert after.kpi_targets["qualified_leads"] > before.kpi_targets["qualified_leads"]  # bigger budget
    assert after.budget_split != before.budget_split
    # The first batch is kept as it was: regenerating never overwrites.
    assert StrategyBatch.objects.filter(campaign=campaign).count() == 2
    assert "Route-planning" in StrategyVariant.objects.get(pk=before.pk).positioning


def test_template_generator_is_deterministic(make_campaign):
    campaign = make_campaign("content")
    brief = services.ensure_brief(campaign=campaign)
    request = services.build_strategy_request(campaign=campaign, brief=brief, variant_count=5)
    generator = TemplateStrategyGenerator()
    assert generator.generate(request).variants == generator.generate(request).variants
    assert len({v["angle"] for v in generator.generate(request).variants}) == 5


@pytest.mark.parametrize("count", [2, 5])
def test_two_to_five_variants_on_request(make_campaign, count):
    batch = services.generate_strategies(campaign=make_campaign(), variants=count)
    assert batch.variants.count() == count and batch.requested_variants == count


@pytest.mark.parametrize("count", [1, 6, "many"])
def test_out_of_range_variant_counts_are_refused(make_campaign, count):
    campaign = make_campaign()
    with pytest.raises(DomainError, match=r"variants|2 to 5"):
        services.generate_strategies(campaign=campaign, variants=count)
    assert not StrategyVariant.objects.filter(campaign=campaign).exists()


def test_generation_moves_a_draft_campaign_to_awaiting_approval_with_audit(make_campaign, operator):
    campaign = make_campaign()
    assert campaign.state == CampaignState.DRAFT
    batch = services.generate_strategies(campaign=campaign, actor=operator)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.AWAITING_APPROVAL
    verbs = list(AuditEvent.objects.filter(campaign=campaign).values_list("verb", flat=True))
    assert verbs[-3:] == [
        "strategy.generated",
        "campaign.planning_started",
        "campaign.submitted_for_approval",
    ]
    generated = AuditEvent.objects.get(campaign=campaign, verb="strategy.generated")
    assert generated.actor == operator and generated.metadata["batch_id"] == batch.pk


def test_generation_for_a_killed_campaign_is_refused(campaign_in_state):
    campaign = campaign_in_state(CampaignState.CANCELLED)
    with pytest.raises(DomainError, match="cancelled"):
        services.generate_strategies(campaign=campaign)


def test_a_campaign_without_brief_gets_one_drafted_from_its_fields(campaign_in_state):
    campaign = campaign_in_state(CampaignState.PLANNING, objective="Fill the spring webinar", type="webinar")
    batch = services.generate_strategies(campaign=campaign)
    assert campaign.strategy_brief.objective == "Fill the spring webinar"
    assert set(campaign.strategy_brief.channels) >= {"email", "linkedin", "x"}
    assert batch.variants.count() == 3


@pytest.mark.parametrize("count", [2, 3, 4, 5])
@pytest.mark.parametrize("campaign_type", [t.key for t in campaign_types()])
def test_template_output_always_fits_the_shared_schema(make_campaign, campaign_type, count):
    campaign = make_campaign(campaign_type, brief={"budget": "", "constraints": ""})
    brief = services.ensure_brief(campaign=campaign)
    request = services.build_strategy_request(campaign=campaign, brief=brief, variant_count=count)
    variants = TemplateStrategyGenerator().generate(request).variants
    validate_strategy_payload({"variants": variants}, expected_variants=count)
    assert len({json.dumps(v["channel_mix"], sort_keys=True) for v in variants}) >= min(count, 3)
    assert all(line["amount"] is None for v in variants for line in v["budget_split"])
