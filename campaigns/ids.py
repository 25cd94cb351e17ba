"""Services and selectors take a campaign as the row or as its id; this reads the id from either."""

from __future__ import annotations

from .models import Campaign


def campaign_id_of(campaign: Campaign | int) -> int:
    return campaign.pk if isinstance(campaign, Campaign) else int(campaign)
