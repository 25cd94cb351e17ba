from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent, CampaignState
from campaigns.services.transitions import activate_campaign, approve_campaign
from strategy import services
from strategy.models import CalendarItem, CampaignPlan, StrategyDecision, VariantState
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.django_db


def test_selecting_one_deselects_the_others(generated, operator):
    campaign, _batch, (first, second, third) = generated
    services.select_strategy_variant(variant=first, actor=operator)
    services.select_strategy_variant(variant=second, actor=operator)
    for v in (first, second, third):
        v.refresh_from_db()
    assert [first.state, second.state, third.state] == ["proposed", "selected", "proposed"]
    event = AuditEvent.objects.filter(campaign=campaign, verb="strategy.selected").latest("id")
    assert event.metadata["deselected"] == [first.pk]


def test_select_then_approve_records_decision_plan_and_moves_campaign(generated, operator, frozen_now):
    campaign, _batch, (_first, second, _third) = generated
    services.select_strategy_variant(variant=second, actor=operator)
    approved = services.approve_strategy_variant(
        variant=second, actor=operator, rationale="Fastest path to the Q2 target"
    )
    assert approved.state == VariantState.APPROVED
    assert approved.decided_by == operator and approved.decision_rationale == "Fastest path to the Q2 target"
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.APPROVED
    decision = StrategyDecision.objects.filter(variant=second).latest("id")
    assert (decision.action, decision.actor, decision.rationale) == (
        "approved",
        operator,
        "Fastest path to the Q2 target",
    )
    assert CampaignPlan.objects.get(campaign=campaign).variant == approved
    assert CalendarItem.objects.filter(campaign=campaign).exists()
    # The campaign's timeline says who approved which variant, when and why.
    event = AuditEvent.objects.get(campaign=campaign, verb="strategy.approved")
    assert event.actor == operator and event.created_at == FIXED_NOW == approved.decided_at
    assert event.target == approved and event.rationale == "Fastest path to the Q2 target"
    assert event.metadata["variant_id"] == second.pk and event.metadata["angle"] == "aggressive"


def test_approval_is_visible_in_the_admin_timeline(generated, operator, client):
    campaign, _batch, variants = generated
    services.select_strategy_variant(variant=variants[0], actor=operator)
    services.approve_strategy_variant(
        variant=variants[0], actor=operator, rationale="Lowest risk for the pilot"
    )
    client.force_login(operator)
    page = client.get(reverse("admin:campaigns_campaign_timeline", args=[campaign.pk])).content.decode()
    assert "strategy.approved" in page
    assert operator.username in page
    assert "Lowest risk for the pilot" in page
    assert variants[0].title.split(":")[0] in page


def test_approving_without_a_selection_is_refused(generated):
    campaign, _batch, (first, *_rest) = generated
    with pytest.raises(TransitionNotAllowedError, match="not selected: select it first"):
        services.approve_strategy_variant(variant=first)
    first.refresh_from_db()
    assert first.state == VariantState.PROPOSED
    assert not CampaignPlan.objects.filter(campaign=campaign).exists()


def test_approving_twice_is_refused(generated, operator):
    campaign, _batch, (first, second, _third) = generated
    services.select_strategy_variant(variant=first, actor=operator)
    services.approve_strategy_variant(variant=first, actor=operator)
    with pytest.raises(TransitionNotAllowedError, match=f"variant {first.pk} is already approved"):
        services.approve_strategy_variant(variant=first, actor=operator)
    with pytest.raises(TransitionNotAllowedError, match="already has an approved strategy"):
        services.select_strategy_variant(variant=second, actor=operator)
    assert AuditEvent.objects.filter(campaign=campaign, verb="strategy.approved").count() == 1


def test_only_one_approved_strategy_per_campaign_even_across_batches(generated, operator):
    campaign, _batch, (first, *_rest) = generated
    services.select_strategy_variant(variant=first, actor=operator)
    services.approve_strategy_variant(variant=first, actor=operator)
    newer = services.generate_strategies(campaign=campaign, actor=operator).variants.first()
    with pytest.raises(TransitionNotAllowedError, match="Only one strategy per campaign"):
        services.approve_strategy_variant(variant=newer, actor=operator)


def test_approving_a_variant_of_another_campaign_is_refused(generated, make_campaign, operator):
    campaign, _batch, (first, *_rest) = generated
    other_campaign = make_campaign()
    services.select_strategy_variant(variant=first, actor=operator)
    with pytest.raises(
        DomainError, match=f"belongs to campaign {campaign.pk}, not to campaign {other_campaign.pk}"
    ):
        services.approve_strategy_variant(variant=first, actor=operator, campaign=other_campaign)
    first.refresh_from_db()
    assert first.state == VariantState.SELECTED


def test_reject_needs_a_rationale_and_is_recorded(generated, operator):
    campaign, _batch, (first, *_rest) = generated
    with pytest.raises(DomainError, match="rationale is required"):
        services.reject_strategy_variant(variant=first, actor=operator, rationale="  ")
    services.reject_strategy_variant(variant=first, actor=operator, rationale="Too timid for this client")
    first.refresh_from_db()
    assert first.state == VariantState.REJECTED
    assert (
        AuditEvent.objects.get(campaign=campaign, verb="strategy.rejected").rationale
        == "Too timid for this client"
    )
    with pytest.raises(TransitionNotAllowedError, match="rejected"):
        services.select_strategy_variant(variant=first, actor=operator)


def test_campaign_cannot_be_approved_or_activated_around_its_strategy(generated, operator):
    campaign, _batch, variants = generated
    with pytest.raises(TransitionNotAllowedError, match="none is approved"):
        approve_campaign(campaign=campaign, actor=operator)
    services.select_strategy_variant(variant=variants[2], actor=operator)
    services.approve_strategy_variant(variant=variants[2], actor=operator)
    campaign = activate_campaign(campaign=campaign, actor=operator)
    assert campaign.state == CampaignState.ACTIVE


def test_activation_needs_an_approved_strategy_once_strategy_exists(campaign_in_state, operator):
    campaign = campaign_in_state(CampaignState.APPROVED)
    services.generate_strategies(campaign=campaign, actor=operator)
    with pytest.raises(TransitionNotAllowedError, match="no approved strategy variant"):
        activate_campaign(campaign=campaign, actor=operator)


def test_campaigns_without_strategy_work_keep_their_lifecycle(campaign_in_state):
    assert campaign_in_state(CampaignState.ACTIVE).state == CampaignState.ACTIVE


def test_generate_and_approve_in_one_call(make_campaign, operator):
    campaign = make_campaign("webinar")
    approved = services.generate_and_approve_strategy(
        campaign=campaign, actor=operator, choose=3, rationale="demo"
    )
    campaign.refresh_from_db()
    assert approved.angle == "creative" and approved.state == VariantState.APPROVED
    assert campaign.state == CampaignState.APPROVED
    assert CampaignPlan.objects.get(campaign=campaign).phases.count() == 3


def test_another_apps_approval_rule_keeps_the_campaign_waiting_but_the_decision_stands(
    generated, operator, monkeypatch
):
    from campaigns import lifecycle

    campaign, _batch, variants = generated
    blocker = lambda c: ["creative brief missing"]  # noqa: E731 (a rule another app might register)
    monkeypatch.setattr(lifecycle, "_approval_checks", [*lifecycle._approval_checks, blocker])
    services.select_strategy_variant(variant=variants[0], actor=operator)
    approved = services.approve_strategy_variant(variant=variants[0], actor=operator, rationale="ok")
    campaign.refresh_from_db()
    assert approved.state == VariantState.APPROVED
    assert campaign.state == CampaignState.AWAITING_APPROVAL
    assert CampaignPlan.objects.filter(campaign=campaign).exists()


def test_policy_requires_an_approved_strategy_and_client_approval_before_activation(
    make_campaign, operator, client_user
):
    from campaigns.errors import TransitionNotAllowedError
    from campaigns.models import Campaign
    from campaigns.services.policy import set_compliance_policy
    from campaigns.services.transitions import activate_campaign, transition_campaign

    bare = make_campaign()
    for step in ("start_planning", "submit_for_approval", "approve"):
        transition_campaign(campaign=bare, transition=step, actor=operator)
    with pytest.raises(TransitionNotAllowedError, match="no approved strategy variant"):
        activate_campaign(campaign=bare, actor=operator)

    campaign = make_campaign(client=client_user.client, allow_client_approval=True)
    set_compliance_policy(campaign=campaign, require_client_approval=True, sender_postal_address="1 Main St")
    batch = services.generate_strategies(campaign=campaign, actor=operator)
    variant = batch.variants.order_by("position").first()
    services.select_strategy_variant(variant=variant, actor=operator)
    services.approve_strategy_variant(variant=variant, actor=operator, rationale="agency says yes")
    with pytest.raises(TransitionNotAllowedError, match="requires the client's approval"):
        activate_campaign(campaign=campaign, actor=operator)

    other = make_campaign(client=client_user.client, allow_client_approval=True)
    set_compliance_policy(campaign=other, require_client_approval=True, sender_postal_address="1 Main St")
    batch = services.generate_strategies(campaign=other, actor=operator)
    variant = batch.variants.order_by("position").first()
    services.select_strategy_variant(variant=variant, actor=client_user)
    services.approve_strategy_variant(variant=variant, actor=client_user, rationale="client signs off")
    assert activate_campaign(campaign=other, actor=operator).state == "active"
    assert Campaign.objects.get(pk=other.pk).state == "active"
