"""The whole path in one transaction: generate, select, approve, plan and calendar."""

from __future__ import annotations

from django.db import transaction

from campaigns.errors import DomainError
from campaigns.models import Campaign, User

from ..models import (
    DEFAULT_VARIANTS,
    StrategyVariant,
)
from .decisions import approve_strategy_variant, select_strategy_variant
from .generation import run_generator, store_batch
from .lookups import resolve_campaign


def generate_and_approve_strategy(
    *,
    campaign: Campaign | int,
    actor: User | None = None,
    variants: int = DEFAULT_VARIANTS,
    choose: int = 1,
    rationale: str = "",
    generator: str | None = None,
) -> StrategyVariant:
    """Generate a batch, select and approve the variant at position ``choose``, build the plan and
    the calendar: one transaction, so a failure at any step leaves no variant, plan or calendar
    row (used by `generate_strategies --approve` and demos, where nobody compares by hand)."""
    campaign = resolve_campaign(campaign)
    request, output = run_generator(campaign=campaign, actor=actor, variants=variants, generator=generator)
    if not 1 <= int(choose) <= request.variant_count:
        raise DomainError(f"choose must be between 1 and {request.variant_count}.", field="choose")
    with transaction.atomic():
        batch = store_batch(campaign=campaign, actor=actor, request=request, output=output)
        chosen = batch.variants.get(position=int(choose))
        select_strategy_variant(variant=chosen, actor=actor, rationale=rationale)
        return approve_strategy_variant(variant=chosen, actor=actor, rationale=rationale)
