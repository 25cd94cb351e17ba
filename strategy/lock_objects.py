"""Row locks for this app's tables. Callers lock the campaign first (campaigns.lock_objects), then
the variant, so two decisions on one campaign serialize instead of deadlocking."""

from __future__ import annotations

from .models import StrategyVariant


def variant_for_update(variant_id: int) -> StrategyVariant:
    return StrategyVariant.objects.select_for_update(of=("self",)).get(pk=variant_id)


def variants_of_campaign_for_update(campaign_id: int) -> list[StrategyVariant]:
    return list(
        StrategyVariant.objects.select_for_update(of=("self",)).filter(campaign_id=campaign_id).order_by("pk")
    )
