from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import AuditEvent
from strategy import services
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_brief_is_normalised(operator):
    campaign = CampaignFactory()
    brief = services.save_brief(
        campaign=campaign,
        actor=operator,
        objective="  Book   30 demos with   retail chains  ",
        audience=" Heads of e-commerce ",
        offer="Inventory forecasting",
        channels="Email, twitter;LinkedIn, email",
        tone=" Bold ",
        budget="15,000",
        currency="eur",
    )
    assert brief.objective == "Book 30 demos with retail chains"
    assert brief.audience == "Heads of e-commerce"
    assert brief.channels == ["email", "x", "linkedin"]
    assert brief.tone == "bold"
    assert brief.budget == Decimal("15000.00")
    assert brief.currency == "EUR"
    assert AuditEvent.objects.filter(
        campaign=campaign, verb="strategy.brief_created", actor=operator
    ).exists()


def test_brief_errors_are_reported_per_field_and_nothing_is_saved():
    campaign = CampaignFactory()
    with pytest.raises(ValidationError) as caught:
        services.save_brief(
            campaign=campaign,
            objective="short",
            audience="",
            offer="Forecasting",
            channels=["email", "fax"],
            tone="sarcastic",
            budget="-5",
            currency="euros",
        )
    errors = caught.value.message_dict
    assert set(errors) == {"objective", "audience", "channels", "tone", "budget", "currency"}
    assert "fax" in errors["channels"][0] and "known channels" in errors["channels"][0]
    assert "sarcastic" in errors["tone"][0]
    assert not hasattr(campaign, "strategy_brief") or campaign.strategy_brief is None


def test_editing_a_brief_keeps_untouched_fields_and_records_history(operator):
    campaign = CampaignFactory()
    services.save_brief(
        campaign=campaign,
        objective="Grow the newsletter to 5k",
        audience="Marketers",
        offer="Weekly tips",
        channels=["email"],
    )
    brief = services.save_brief(campaign=campaign, actor=operator, tone="friendly")
    assert brief.tone == "friendly" and brief.offer == "Weekly tips"
    assert brief.history.count() == 2
    event = AuditEvent.objects.get(campaign=campaign, verb="strategy.brief_updated")
    assert event.metadata == {"fields": ["tone"]}
