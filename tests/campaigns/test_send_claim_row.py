"""The send claim's campaign row (``campaigns.lock_objects.campaign_for_send_claim``), read with one
statement written once and made a model by hand: every field as the ORM reads it (JSON, decimals,
dates), and the global switch with it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from campaigns.lock_objects import campaign_for_send_claim
from campaigns.models import Campaign
from campaigns.services.system_pause import set_system_pause
from tests.factories import CampaignFactory


@pytest.mark.django_db
def test_the_claims_campaign_row_is_the_orms_and_carries_the_switch(operator):
    campaign = CampaignFactory(
        channels=["email", "linkedin"],
        budget_cap=Decimal("1234.50"),
        start_date=dt.date(2026, 3, 2),
        end_date=dt.date(2026, 5, 30),
    )
    with transaction.atomic():
        claimed = campaign_for_send_claim(campaign.pk)
    orm = Campaign.objects.get(pk=campaign.pk)
    for field in Campaign._meta.concrete_fields:
        assert getattr(claimed, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(claimed, field.attname)) is type(getattr(orm, field.attname)), field.name
    assert claimed.channels == ["email", "linkedin"] and claimed.budget_cap == Decimal("1234.50")
    assert claimed.system_paused_now is False and not claimed._state.adding

    set_system_pause(paused=True, actor=operator, rationale="incident")
    with transaction.atomic():
        assert campaign_for_send_claim(campaign.pk).system_paused_now is True
    with pytest.raises(Campaign.DoesNotExist), transaction.atomic():
        campaign_for_send_claim(campaign.pk + 1000)
