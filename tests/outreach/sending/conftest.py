from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
import requests
from anymail.exceptions import AnymailAPIError
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from campaigns.services.editing import set_campaign_mode
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import activate_campaign
from creative import services as creative_services
from creative.models import CreativeVariant
from leads.services import bulk_add_leads
from outreach.services.sending import create_sequence
from strategy import services as strategy_services
from tests.factories import CampaignFactory


class ScriptedBackend(LocmemBackend):
    """An email backend that fails as scripted (e.g. [503, 503, 503]) before delivering to mail.outbox.

    It stands in for the ESP's HTTP API (outside the machine); everything else is real."""

    def __init__(self, *args, script=None, calls=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.script = list(script or [])
        self.calls = calls if calls is not None else []

    def send_messages(self, messages):
        self.calls.extend(m.to[0] for m in messages)
        if self.script:
            status = self.script.pop(0)
            response = requests.Response()
            response.status_code = status
            response.reason = HTTPStatus(status).phrase
            response._content = b'{"message": "scripted failure"}'
            raise AnymailAPIError(
                "ESP API response", status_code=status, response=response, esp_name="TestESP"
            )
        return super().send_messages(messages)


@pytest.fixture
def live_campaign(db, operator, frozen_now):
    """An active, live email campaign with one approved email creative and a one-step sequence."""

    def make(
        *,
        leads: int = 5,
        cap: int = 20,
        timezone: str = "UTC",
        lead_timezone: str = "",
        steps=None,
        mode: str = "live",
        follow_up: bool = False,
    ):
        campaign = CampaignFactory(
            channels=["email"],
            daily_email_cap=cap,
            timezone=timezone,
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 5, 30),
        )
        strategy_services.save_brief(
            campaign=campaign,
            objective="Book calls",
            audience="Ops leads",
            offer="Route planning",
            channels=["email"],
        )
        strategy_services.generate_and_approve_strategy(campaign=campaign, actor=operator, rationale="fit")
        creative_services.generate_creatives(
            campaign=campaign, actor=operator, platforms=["email"], variants=2
        )
        creatives = list(CreativeVariant.objects.filter(campaign=campaign))
        for creative in creatives:
            creative_services.approve_creative(variant=creative, actor=operator)
        activate_campaign(campaign=campaign, actor=operator)
        set_compliance_policy(
            client=campaign.client, actor=operator, sender_postal_address="1 Test Street, Testville"
        )
        if mode == "live":
            campaign = set_campaign_mode(
                campaign=campaign, mode="live", actor=operator, rationale="client signed off"
            )
        sequence = create_sequence(
            campaign=campaign,
            name="Main",
            actor=operator,
            steps=steps
            or [{"delay_days": 0, "creatives": [c.pk for c in creatives]}]
            + ([{"delay_days": 3, "creatives": [creatives[0].pk]}] if follow_up else []),
        )
        bulk_add_leads(
            campaign=campaign,
            records=[
                {
                    "email": f"lead{i}@company{i}.example",
                    "first_name": f"Lead{i}",
                    "company": f"Company {i}",
                    "title": "COO" if i % 2 else "",
                    "timezone": lead_timezone,
                }
                for i in range(leads)
            ],
        )
        campaign.refresh_from_db()
        return campaign, sequence

    return make


@pytest.fixture
def scripted_backend():
    def make(script=None, calls=None):
        return ScriptedBackend(script=script, calls=calls)

    return make
