from __future__ import annotations

from .models import CreativeVariant


def creative_variant_for_update(variant_id: int) -> CreativeVariant:
    return CreativeVariant.objects.select_for_update(of=("self",)).get(pk=variant_id)
