from __future__ import annotations

import datetime as dt

import pytest

from strategy import services as strategy_services
from tests.factories import CampaignFactory


@pytest.fixture
def approved_campaign(db, operator, frozen_now):
    """A lead-gen campaign on email + LinkedIn with an approved strategy, plan and calendar."""

    def make(**fields):
        fields.setdefault("channels", ["email", "linkedin"])
        fields.setdefault("start_date", dt.date(2026, 3, 2))
        fields.setdefault("end_date", dt.date(2026, 5, 30))
        campaign = CampaignFactory(**fields)
        strategy_services.save_brief(
            campaign=campaign,
            objective="Book 20 discovery calls",
            audience="Operations directors",
            offer="Route-planning software that cuts fuel costs",
            channels=fields["channels"],
        )
        strategy_services.generate_and_approve_strategy(
            campaign=campaign, actor=operator, rationale="best fit"
        )
        campaign.refresh_from_db()
        return campaign

    return make
