"""Generating strategy batches: the generator runs outside any transaction (an LLM may take a
minute), its output is validated against the shared schema, then batch, variants and audit are
written in one transaction, and a draft / planning campaign moves on to awaiting approval."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.campaign_types import get_campaign_type
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign, CampaignState, SpendKind, User
from campaigns.services.audit import record_audit_event
from campaigns.services.budget import ensure_budget_allows, record_spend
from campaigns.services.risk_flags import assess_risk
from campaigns.services.transitions import transition_campaign

from ..adapters import get_generator
from ..models import (
    DEFAULT_DURATION_DAYS,
    DEFAULT_VARIANTS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    Brief,
    StrategyBatch,
    StrategyVariant,
)
from ..ports import CampaignTypeProfile, GeneratedStrategies, StrategyGenerationError, StrategyRequest
from ..schema import StrategySchemaError, validate_strategy_payload
from .briefs import brief_snapshot, ensure_brief
from .lookups import resolve_campaign

# Refuse a paid LLM generation up front unless the budget has at least this much left.
LLM_COST_ESTIMATE = Decimal("0.05")


class StrategyError(DomainError):
    code = "strategy_generation_failed"


def campaign_duration_days(campaign: Campaign) -> int:
    if campaign.start_date and campaign.end_date:
        return (campaign.end_date - campaign.start_date).days + 1
    return DEFAULT_DURATION_DAYS


def build_strategy_request(*, campaign: Campaign, brief: Brief, variant_count: int) -> StrategyRequest:
    ctype = get_campaign_type(campaign.type)
    return StrategyRequest(
        campaign_name=campaign.name,
        campaign_type=CampaignTypeProfile(
            key=ctype.key,
            label=ctype.label,
            description=ctype.description,
            phases=tuple(
                {"key": p.key, "name": p.name, "share": p.share, "tactics": list(p.tactics)}
                for p in ctype.phases
            ),
            default_kpis=dict(ctype.default_kpis),
            channel_mix=dict(ctype.channel_mix),
        ),
        brief=brief_snapshot(brief),
        variant_count=variant_count,
        duration_days=campaign_duration_days(campaign),
        target_clients=campaign.target_clients,
    )


def _check_variant_count(variants: Any) -> int:
    try:
        count = int(variants)
    except (TypeError, ValueError):
        raise DomainError(
            f"variants must be a whole number from {MIN_VARIANTS} to {MAX_VARIANTS}.", field="variants"
        ) from None
    if not MIN_VARIANTS <= count <= MAX_VARIANTS:
        raise DomainError(
            f"Ask for {MIN_VARIANTS} to {MAX_VARIANTS} variants (got {count}).", field="variants"
        )
    return count


def run_generator(*, campaign: Campaign, actor: User | None, variants: Any, generator: str | None):
    count = _check_variant_count(variants)
    if campaign.is_final:
        raise TransitionNotAllowedError(
            f"Campaign {campaign.pk} is {campaign.state}; no new strategies can be generated for it.",
            state=campaign.state,
        )
    brief = ensure_brief(campaign=campaign, actor=actor)
    request = build_strategy_request(campaign=campaign, brief=brief, variant_count=count)
    try:
        engine = get_generator(generator)
        if engine.name != "template":
            # A paid call: refuse before spending when the budget cannot take the estimated cost.
            ensure_budget_allows(campaign=campaign, amount=LLM_COST_ESTIMATE)
        output = engine.generate(request)
        # Whatever the adapter, nothing is stored that does not fit the shared schema.
        validate_strategy_payload({"variants": output.variants}, expected_variants=count)
    except (StrategyGenerationError, StrategySchemaError) as exc:
        raise StrategyError(f"Strategy generation failed for campaign {campaign.pk}: {exc}") from exc
    return request, output


def generate_strategies(
    *,
    campaign: Campaign | int,
    actor: User | None = None,
    variants: int = DEFAULT_VARIANTS,
    generator: str | None = None,
) -> StrategyBatch:
    """Generate a new batch of variants for the campaign (earlier batches are kept untouched).

    A campaign still in draft or planning moves on to awaiting approval, through the campaign
    services (so each step is audited), in the same transaction as the variants.
    """
    campaign = resolve_campaign(campaign)
    request, output = run_generator(campaign=campaign, actor=actor, variants=variants, generator=generator)
    with transaction.atomic():
        return store_batch(campaign=campaign, actor=actor, request=request, output=output)


def store_batch(
    *, campaign: Campaign, actor: User | None, request: StrategyRequest, output: GeneratedStrategies
) -> StrategyBatch:
    locked = campaign_for_update(campaign.pk)
    if locked.is_final:
        raise TransitionNotAllowedError(
            f"Campaign {locked.pk} is {locked.state}; no new strategies can be generated for it.",
            state=locked.state,
        )
    now = timezone.now()
    last = StrategyBatch.objects.filter(campaign=locked).order_by("-number").first()
    batch = StrategyBatch.objects.create(
        campaign=locked,
        number=(last.number + 1) if last else 1,
        generator=output.generator,
        model_name=output.model_name,
        brief_snapshot=request.brief,
        requested_variants=request.variant_count,
        duration_days=request.duration_days,
        prompt_tokens=output.prompt_tokens,
        completion_tokens=output.completion_tokens,
        generation_cost=output.cost,
        cost_currency=output.cost_currency,
        created_by=acting_user(actor),
        created_at=now,
    )
    variants = StrategyVariant.objects.bulk_create(
        [
            StrategyVariant(
                campaign=locked,
                batch=batch,
                position=position,
                angle=data["angle"],
                title=data["title"],
                positioning=data["positioning"],
                pillars=data["pillars"],
                channel_mix=data["channel_mix"],
                cadence=data["cadence"],
                phases=data["phases"],
                kpi_targets=data["kpi_targets"],
                budget_split=data["budget_split"],
                risks=data["risks"],
                created_at=now,
            )
            for position, data in enumerate(output.variants, start=1)
        ]
    )
    if batch.generation_cost and batch.generation_cost > 0:
        # Already paid to the provider: booked even past the cap (which then stops further spending).
        record_spend(
            campaign=locked,
            kind=SpendKind.AI_GENERATION,
            amount=batch.generation_cost,
            source=batch,
            actor=actor,
            description=f"strategy batch {batch.number} ({batch.model_name})",
            enforce_cap=False,
        )
    for variant in variants:
        assess_risk(
            campaign=locked,
            target=variant,
            actor=actor,
            texts=[variant.title, variant.positioning, *variant.pillars],
            campaign_locked=True,
            new_target=True,
        )
    record_audit_event(
        verb="strategy.generated",
        actor=actor,
        campaign=locked,
        target=batch,
        metadata={
            "batch_id": batch.pk,
            "batch_number": batch.number,
            "generator": batch.generator,
            "model": batch.model_name,
            "variants": request.variant_count,
            "angles": [v["angle"] for v in output.variants],
            "prompt_tokens": batch.prompt_tokens,
            "completion_tokens": batch.completion_tokens,
            "cost": str(batch.generation_cost),
            "cost_currency": batch.cost_currency,
        },
    )
    submit_locked_campaign(locked, actor=actor, rationale=f"strategy batch {batch.number} generated")
    return batch


def submit_locked_campaign(campaign: Campaign, *, actor: User | None, rationale: str) -> None:
    """Move a campaign this transaction has locked on to awaiting approval (draft → planning →
    awaiting approval, whichever steps are left), each step an audited transition on that row."""
    for state, transition in (
        (CampaignState.DRAFT, "start_planning"),
        (CampaignState.PLANNING, "submit_for_approval"),
    ):
        if campaign.state == state:
            transition_campaign(
                campaign=campaign,
                transition=transition,
                actor=actor,
                rationale=rationale,
                campaign_locked=True,
            )
