"""Choosing among variants: select, approve (which also builds the plan and calendar and moves the
campaign to approved, in one transaction) and reject. Each writes a StrategyDecision and an
AuditEvent."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.events import actor_name, emit_event
from campaigns.ids import campaign_id_of
from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign, CampaignState, User
from campaigns.services.audit import SYSTEM_ACTOR_LABEL, record_audit_event
from campaigns.services.risk_flags import ensure_can_approve
from campaigns.services.transitions import transition_campaign

from ..lock_objects import variant_for_update, variants_of_campaign_for_update
from ..models import (
    DecisionAction,
    StrategyDecision,
    StrategyVariant,
    VariantState,
)
from ..selectors import approved_variant_for
from .generation import submit_locked_campaign
from .planning import build_plan_and_calendar

logger = logging.getLogger(__name__)


def _variant_id(variant: StrategyVariant | int) -> int:
    return variant.pk if isinstance(variant, StrategyVariant) else int(variant)


def _lock_variant(variant: StrategyVariant | int, expected_campaign: Campaign | int | None):
    variant_id = _variant_id(variant)
    campaign_id = StrategyVariant.objects.filter(pk=variant_id).values_list("campaign_id", flat=True).first()
    if campaign_id is None:
        raise DomainError(f"Strategy variant {variant_id} does not exist.")
    if expected_campaign is not None:
        expected_id = campaign_id_of(expected_campaign)
        if expected_id != campaign_id:
            raise DomainError(
                f"Strategy variant {variant_id} belongs to campaign {campaign_id}, not to campaign "
                f"{expected_id}; a campaign can only use its own strategies.",
                field="variant",
            )
    campaign = campaign_for_update(campaign_id)
    return campaign, variant_for_update(variant_id)


def _actor_label(actor: User | None) -> str:
    return actor.get_username() if acting_user(actor) else SYSTEM_ACTOR_LABEL


def _record_decision(*, variant: StrategyVariant, action: str, actor: User | None, rationale: str) -> None:
    StrategyDecision.objects.create(
        campaign_id=variant.campaign_id,
        variant=variant,
        action=action,
        actor=acting_user(actor),
        actor_label=_actor_label(actor),
        rationale=rationale,
        created_at=timezone.now(),
    )


def _variant_metadata(variant: StrategyVariant, **extra: Any) -> dict[str, Any]:
    return {
        "variant_id": variant.pk,
        "batch_id": variant.batch_id,
        "angle": variant.angle,
        "title": variant.title,
        **extra,
    }


def select_strategy_variant(
    *,
    variant: StrategyVariant | int,
    actor: User | None = None,
    rationale: str = "",
    campaign: Campaign | int | None = None,
) -> StrategyVariant:
    """Mark the campaign's chosen option. Any other selected variant of the campaign (its batch or
    an older one) goes back to proposed, so there is at most one selection to approve."""
    rationale = (rationale or "").strip()
    with transaction.atomic():
        locked_campaign, locked = _lock_variant(variant, campaign)
        if locked_campaign.is_final:
            raise TransitionNotAllowedError(
                f"Campaign {locked_campaign.pk} is {locked_campaign.state}; "
                "its strategy can no longer change.",
                state=locked.state,
            )
        if locked.state == VariantState.SELECTED:
            return locked
        approved = approved_variant_for(locked_campaign)
        if approved is not None:
            raise TransitionNotAllowedError(
                f"Campaign {locked_campaign.pk} already has an approved strategy (variant {approved.pk}); "
                "nothing else can be selected.",
                state=locked.state,
            )
        if locked.state != VariantState.PROPOSED:
            raise TransitionNotAllowedError(
                f"Strategy variant {locked.pk} is {locked.state}; only a proposed variant can be selected.",
                state=locked.state,
            )
        deselected = []
        for other in variants_of_campaign_for_update(locked_campaign.pk):
            if other.pk != locked.pk and other.state == VariantState.SELECTED:
                other.deselect()
                other.save(update_fields=["state"])
                deselected.append(other.pk)
        locked.select()
        locked.save(update_fields=["state"])
        _record_decision(variant=locked, action=DecisionAction.SELECTED, actor=actor, rationale=rationale)
        record_audit_event(
            verb="strategy.selected",
            actor=actor,
            campaign=locked_campaign,
            target=locked,
            rationale=rationale,
            metadata=_variant_metadata(locked, deselected=deselected),
        )
    return locked


def approve_strategy_variant(
    *,
    variant: StrategyVariant | int,
    actor: User | None = None,
    rationale: str = "",
    campaign: Campaign | int | None = None,
) -> StrategyVariant:
    """Approve the selected variant: records the decision, builds the plan and calendar and moves
    the campaign to approved, all in one transaction. Refuses (changing nothing) when the variant
    is not selected, when the campaign already has an approved strategy, or when ``campaign`` is
    given and the variant belongs to another campaign."""
    rationale = (rationale or "").strip()
    with transaction.atomic():
        locked_campaign, locked = _lock_variant(variant, campaign)
        if locked_campaign.is_final:
            raise TransitionNotAllowedError(
                f"Campaign {locked_campaign.pk} is {locked_campaign.state}; "
                "its strategy can no longer be approved.",
                state=locked.state,
            )
        approved = approved_variant_for(locked_campaign)
        if approved is not None:
            who = approved.decided_by.get_username() if approved.decided_by else SYSTEM_ACTOR_LABEL
            when = f"{approved.decided_at:%Y-%m-%d %H:%M} UTC" if approved.decided_at else "earlier"
            if approved.pk == locked.pk:
                message = f"Strategy variant {locked.pk} is already approved (by {who}, {when})."
            else:
                message = (
                    f"Campaign {locked_campaign.pk} already has an approved strategy: variant {approved.pk} "
                    f"(by {who}, {when}). Only one strategy per campaign can be approved."
                )
            raise TransitionNotAllowedError(message, state=locked.state)
        if locked.state != VariantState.SELECTED:
            hint = "select it first" if locked.state == VariantState.PROPOSED else "it was rejected"
            raise TransitionNotAllowedError(
                f"Strategy variant {locked.pk} is {locked.state}, not selected: {hint}. "
                "Only the selected variant can be approved.",
                state=locked.state,
            )
        ensure_can_approve(user=actor, campaign=locked_campaign, target=locked)
        locked.approve()
        locked.decided_by = acting_user(actor)
        locked.decided_at = timezone.now()
        locked.decision_rationale = rationale
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_rationale"])
        _record_decision(variant=locked, action=DecisionAction.APPROVED, actor=actor, rationale=rationale)
        record_audit_event(
            verb="strategy.approved",
            actor=actor,
            campaign=locked_campaign,
            target=locked,
            rationale=rationale,
            metadata=_variant_metadata(locked),
        )
        emit_event(
            "strategy.approved",
            client=locked_campaign.client_id,
            campaign=locked_campaign,
            data={
                "strategy_id": locked.pk,
                "title": locked.title,
                "actor": actor_name(actor),
                "rationale": rationale,
            },
        )
        build_plan_and_calendar(campaign=locked_campaign, actor=actor, campaign_locked=True, variant=locked)
        _advance_campaign_to_approved(
            campaign=locked_campaign, actor=actor, variant=locked, rationale=rationale
        )
    return locked


def _advance_campaign_to_approved(
    *, campaign: Campaign, actor: User | None, variant: StrategyVariant, rationale: str
) -> None:
    """``campaign`` is the row this transaction locked (approve_strategy_variant): the transitions
    use it as it is, without locking and reading it again."""
    reason = rationale or f"strategy variant {variant.pk} approved"
    submit_locked_campaign(campaign, actor=actor, rationale=reason)
    if campaign.state == CampaignState.AWAITING_APPROVAL:
        try:
            transition_campaign(
                campaign=campaign, transition="approve", actor=actor, rationale=reason, campaign_locked=True
            )
        except TransitionNotAllowedError as exc:
            # Another app's rule still blocks campaign approval; the strategy decision stands and
            # the campaign waits in awaiting_approval with the reason logged.
            logger.info("campaign %s stays awaiting approval: %s", campaign.pk, exc)


def reject_strategy_variant(
    *,
    variant: StrategyVariant | int,
    actor: User | None = None,
    rationale: str,
    campaign: Campaign | int | None = None,
) -> StrategyVariant:
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError("A rationale is required to reject a strategy variant.", field="rationale")
    with transaction.atomic():
        locked_campaign, locked = _lock_variant(variant, campaign)
        if locked.state not in (VariantState.PROPOSED, VariantState.SELECTED):
            raise TransitionNotAllowedError(
                f"Strategy variant {locked.pk} is {locked.state}; only a proposed or selected variant "
                "can be rejected.",
                state=locked.state,
            )
        locked.reject()
        locked.decided_by = acting_user(actor)
        locked.decided_at = timezone.now()
        locked.decision_rationale = rationale
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_rationale"])
        _record_decision(variant=locked, action=DecisionAction.REJECTED, actor=actor, rationale=rationale)
        record_audit_event(
            verb="strategy.rejected",
            actor=actor,
            campaign=locked_campaign,
            target=locked,
            rationale=rationale,
            metadata=_variant_metadata(locked),
        )
    return locked
