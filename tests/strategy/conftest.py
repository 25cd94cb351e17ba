from __future__ import annotations

import datetime as dt

import pytest

from campaigns.campaign_types import get_campaign_type
from strategy import services
from tests.factories import CampaignFactory

BRIEF_DEFAULTS = {
    "objective": "Book 20 discovery calls with mid-size logistics companies this quarter",
    "audience": "Operations directors at logistics firms with 50-500 staff",
    "offer": "Route-planning software that cuts fuel costs",
    "tone": "professional",
    "constraints": "No pricing claims; no mention of competitors by name",
    "budget": "12000",
    "currency": "EUR",
}


@pytest.fixture
def make_campaign(db):
    """A campaign of a type with a brief on that type's channels, 90 days from 2026-03-02."""

    def make(campaign_type: str = "lead_gen", *, brief: dict | None = None, **fields):
        fields.setdefault("start_date", dt.date(2026, 3, 2))
        fields.setdefault("end_date", dt.date(2026, 3, 2) + dt.timedelta(days=89))
        fields.setdefault("timezone", "Europe/Berlin")
        channels = list(get_campaign_type(campaign_type).channel_mix)
        campaign = CampaignFactory(type=campaign_type, channels=channels, **fields)
        services.save_brief(campaign=campaign, **{**BRIEF_DEFAULTS, "channels": channels, **(brief or {})})
        return campaign

    return make


@pytest.fixture
def generated(make_campaign, operator):
    """A lead-gen campaign with one generated batch of 3 variants (campaign now awaiting approval)."""
    campaign = make_campaign()
    batch = services.generate_strategies(campaign=campaign, actor=operator)
    campaign.refresh_from_db()
    return campaign, batch, list(batch.variants.order_by("position"))
