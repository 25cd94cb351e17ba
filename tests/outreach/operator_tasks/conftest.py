from __future__ import annotations

import datetime as dt

import pytest

from campaigns.models import CampaignState
from campaigns.services.transitions import activate_campaign
from creative import services as creative_services
from creative.models import CreativeVariant
from strategy import services as strategy_services
from tests.factories import CampaignFactory


@pytest.fixture
def approved_campaign(db, operator, frozen_now):
    """A campaign with an approved strategy, plan and calendar (starting on the frozen Monday)."""

    def make(**fields):
        fields.setdefault("channels", ["email", "linkedin"])
        fields.setdefault("start_date", dt.date(2026, 3, 2))
        fields.setdefault("end_date", dt.date(2026, 5, 30))
        fields.setdefault("owner", operator)
        campaign = CampaignFactory(**fields)
        strategy_services.save_brief(
            campaign=campaign,
            objective="Book 20 discovery calls",
            audience="Operations directors",
            offer="Route-planning software that cuts fuel costs",
            channels=fields["channels"],
        )
        strategy_services.generate_and_approve_strategy(campaign=campaign, actor=operator, rationale="fit")
        campaign.refresh_from_db()
        assert campaign.state == CampaignState.APPROVED
        return campaign

    return make


@pytest.fixture
def campaign_with_approved_post(approved_campaign, operator):
    """An active campaign whose next LinkedIn calendar slot has approved creative."""

    def make(**fields):
        campaign = approved_campaign(**fields)
        creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["linkedin"])
        variant = CreativeVariant.objects.filter(campaign=campaign, platform="linkedin").first()
        creative_services.approve_creative(variant=variant, actor=operator, rationale="good")
        campaign = activate_campaign(campaign=campaign, actor=operator, rationale="go")
        return campaign

    return make
