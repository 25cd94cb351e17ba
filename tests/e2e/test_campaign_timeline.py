"""A whole campaign through the services, then its audit timeline answers who did what, when, why."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.selectors import campaign_timeline_entries
from campaigns.services.editing import create_campaign, set_campaign_mode
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import activate_campaign, complete_campaign, pause_campaign
from creative import services as creative_services
from creative.models import CreativeVariant
from leads.services import bulk_add_leads
from outreach.models import Message
from outreach.services.cycle import run_cycle
from outreach.services.sending import create_sequence
from outreach.services.tracking import record_inbound_reply
from strategy import services as strategy_services
from strategy.models import StrategyVariant
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_timeline_of_a_finished_campaign_lists_every_decision_in_order(operator, frozen_now):
    campaign = create_campaign(
        client=CampaignFactory().client,
        name="Timeline demo",
        actor=operator,
        channels=["email"],
        start_date=dt.date(2026, 3, 2),
        end_date=dt.date(2026, 5, 30),
    )
    set_compliance_policy(
        campaign=campaign, actor=operator, sender_postal_address="1 Demo Street, Springfield"
    )
    strategy_services.save_brief(
        campaign=campaign,
        actor=operator,
        objective="Book calls",
        audience="Ops directors",
        offer="Route planning",
        channels=["email"],
    )
    batch = strategy_services.generate_strategies(campaign=campaign, actor=operator)
    chosen = StrategyVariant.objects.filter(batch=batch).order_by("position")[1]
    strategy_services.select_strategy_variant(variant=chosen, actor=operator, rationale="aggressive fits Q1")
    strategy_services.approve_strategy_variant(
        variant=chosen, actor=operator, rationale="client wants growth this quarter"
    )
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"])
    email = CreativeVariant.objects.filter(campaign=campaign).first()
    creative_services.approve_creative(variant=email, actor=operator, rationale="clear and on brand")
    activate_campaign(campaign=campaign, actor=operator, rationale="go")
    set_campaign_mode(campaign=campaign, mode="live", actor=operator, rationale="signed off")
    create_sequence(campaign=campaign, name="Main", actor=operator, steps=[{"creatives": [email.pk]}])
    bulk_add_leads(campaign=campaign, records=[{"email": f"p{i}@firm{i}.example"} for i in range(3)])
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).sent == 3
    message = Message.objects.filter(campaign=campaign).first()
    record_inbound_reply(
        from_header=message.to_email,
        subject="Re: hi",
        text="Interested",
        headers={"In-Reply-To": message.rfc_message_id},
        message_id_header="<r@x>",
    )
    pause_campaign(campaign=campaign, actor=operator, rationale="holiday week")
    complete_campaign(campaign=campaign, actor=operator, rationale="quarter over")

    entries = [e for e in campaign_timeline_entries(campaign) if e.source == "audit"]
    verbs = [e.action for e in entries]
    expected = [
        "campaign.created",
        "strategy.generated",
        "strategy.selected",
        "strategy.approved",
        "creative.approved",
        "campaign.activated",
        "email.sent",
        "email.replied",
        "campaign.paused",
        "campaign.completed",
    ]
    positions = [verbs.index(v) for v in expected]
    assert positions == sorted(positions), verbs
    approved = entries[verbs.index("strategy.approved")]
    assert approved.actor == operator.username and approved.rationale == "client wants growth this quarter"
