"""Row locks for this app's tables, taken in one order by every caller."""

from __future__ import annotations

from .models import Campaign


def campaign_for_update(campaign_id: int) -> Campaign:
    return Campaign.objects.select_for_update(of=("self",)).get(pk=campaign_id)
