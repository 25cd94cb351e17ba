from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from campaigns.campaign_types import campaign_types, get_campaign_type
from campaigns.errors import DomainError
from campaigns.models import AuditEvent, Campaign, CampaignMode, CampaignState
from campaigns.services.clients import create_client_user
from campaigns.services.editing import create_campaign, set_campaign_mode, update_campaign
from campaigns.services.transitions import complete_campaigns_past_end_date
from tests.factories import ClientFactory


def test_create_campaign_defaults_and_audit(db, operator):
    client = ClientFactory()
    campaign = create_campaign(client=client, name="  Spring push ", actor=operator)
    assert campaign.name == "Spring push"
    assert campaign.daily_email_cap == 20
    assert campaign.mode == CampaignMode.DRY_RUN
    assert campaign.state == CampaignState.DRAFT
    assert campaign.owner == operator
    assert campaign.channels == ["email"]
    event = AuditEvent.objects.get(verb="campaign.created")
    assert event.campaign == campaign and event.actor == operator


def test_create_campaign_refuses_live_mode_and_unknown_values(db):
    client = ClientFactory()
    with pytest.raises(DomainError, match="dry-run"):
        create_campaign(client=client, name="x", mode="live")
    with pytest.raises(ValidationError, match="Unknown channel 'fax'"):
        create_campaign(client=client, name="x", channels=["email", "fax"])
    with pytest.raises(ValidationError, match="unknown campaign type 'podcast'"):
        create_campaign(client=client, name="x", type="podcast")
    with pytest.raises(ValidationError, match="Unknown time zone"):
        create_campaign(client=client, name="x", timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="end date is before the start date"):
        create_campaign(client=client, name="x", start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 4, 1))
    assert not Campaign.objects.exists()


def test_channels_are_normalized(db):
    campaign = create_campaign(client=ClientFactory(), name="x", channels="Email, twitter ,LinkedIn")
    assert campaign.channels == ["email", "x", "linkedin"]


def test_every_registered_type_has_phases_kpis_and_channels():
    keys = {t.key for t in campaign_types()}
    assert {"lead_gen", "product_launch", "webinar", "content"} <= keys
    for t in campaign_types():
        assert t.phases and t.default_kpis and t.channel_mix
        assert abs(sum(p.share for p in t.phases) - 1) < 1e-9
    with pytest.raises(KeyError, match="known types"):
        get_campaign_type("nope")


def test_update_campaign_audits_changed_fields_only(db, operator, campaign_in_state):
    campaign = campaign_in_state(CampaignState.PLANNING)
    update_campaign(campaign=campaign, actor=operator, daily_email_cap=35, name=campaign.name)
    event = AuditEvent.objects.get(verb="campaign.updated")
    assert event.metadata == {"changes": {"daily_email_cap": [20, 35]}}
    update_campaign(campaign=campaign, actor=operator, daily_email_cap=35)
    assert AuditEvent.objects.filter(verb="campaign.updated").count() == 1


def test_final_campaigns_cannot_be_edited(campaign_in_state):
    campaign = campaign_in_state(CampaignState.CANCELLED)
    with pytest.raises(DomainError, match="can no longer be edited"):
        update_campaign(campaign=campaign, daily_email_cap=1)


def test_going_live_is_explicit_and_audited(campaign_in_state, operator):
    campaign = campaign_in_state(CampaignState.APPROVED)
    with pytest.raises(DomainError, match="give a rationale"):
        set_campaign_mode(campaign=campaign, mode="live", actor=operator)
    campaign = set_campaign_mode(campaign=campaign, mode="live", actor=operator, rationale="client signed")
    assert campaign.is_live
    assert AuditEvent.objects.get(verb="campaign.mode_changed").metadata == {"from": "dry_run", "to": "live"}


def test_daily_tick_completes_campaigns_past_end_date(campaign_in_state, frozen_now):
    today = dt.date(2026, 3, 2)
    ended = campaign_in_state(
        CampaignState.ACTIVE, start_date=today - dt.timedelta(days=30), end_date=today - dt.timedelta(days=1)
    )
    running = campaign_in_state(CampaignState.ACTIVE, start_date=today, end_date=today + dt.timedelta(days=1))
    paused = campaign_in_state(CampaignState.PAUSED, end_date=today - dt.timedelta(days=2))
    assert sorted(complete_campaigns_past_end_date()) == sorted([ended.pk, paused.pk])
    ended.refresh_from_db()
    running.refresh_from_db()
    assert ended.state == CampaignState.COMPLETED
    assert running.state == CampaignState.ACTIVE
    assert complete_campaigns_past_end_date() == []  # idempotent


def test_create_client_user_is_idempotent_and_refuses_other_clients_user(db):
    a, b = ClientFactory(), ClientFactory()
    user, created = create_client_user(client=a, username="api")
    again, created_again = create_client_user(client=a, username="api")
    assert created and not created_again and user == again
    with pytest.raises(DomainError, match="does not belong to client"):
        create_client_user(client=b, username="api")
