from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from campaigns import roles
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent, CampaignMode, CampaignState, CompliancePolicy
from campaigns.selectors import effective_policy
from campaigns.services.editing import set_campaign_mode
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import activate_campaign

pytestmark = pytest.mark.django_db
S = CampaignState


def test_effective_policy_prefers_campaign_then_client_then_defaults(campaign_in_state, operator):
    campaign = campaign_in_state(S.DRAFT)
    default = effective_policy(campaign)
    assert default.source == "default"
    assert default.required_approvals == ("strategy", "creative")
    assert default.consent_regions == () and default.sender_postal_address == ""

    set_compliance_policy(
        client=campaign.client, actor=operator, consent_regions="eu, uk", sender_postal_address="1 Main St"
    )
    from_client = effective_policy(campaign)
    assert from_client.source == "client" and from_client.consent_regions == ("EU", "UK")
    assert from_client.requires_consent("eu") and not from_client.requires_consent("US")

    set_compliance_policy(
        campaign=campaign, actor=operator, require_client_approval=True, max_daily_volume=5, rationale="pilot"
    )
    own = effective_policy(campaign)
    assert own.source == "campaign" and own.required_approvals == ("strategy", "creative", "client")
    assert own.daily_volume_limit(campaign.daily_email_cap) == 5
    assert own.sender_postal_address == ""  # a campaign policy replaces the client default as a whole
    event = AuditEvent.objects.filter(verb="policy.created", campaign=campaign).get()
    assert event.rationale == "pilot" and event.actor == operator


def test_quiet_hours_wrap_midnight(campaign_in_state, operator):
    campaign = campaign_in_state(S.DRAFT)
    set_compliance_policy(
        campaign=campaign, actor=operator, quiet_hours_start=dt.time(20), quiet_hours_end=dt.time(8)
    )
    policy = effective_policy(campaign)
    assert policy.in_quiet_hours(dt.time(22, 30)) and policy.in_quiet_hours(dt.time(7, 59))
    assert not policy.in_quiet_hours(dt.time(8)) and not policy.in_quiet_hours(dt.time(12))
    assert policy.daily_volume_limit(20) == 20


def test_policy_input_is_validated(campaign_in_state, operator):
    campaign = campaign_in_state(S.DRAFT)
    with pytest.raises(ValidationError, match="both ends of the quiet hours"):
        set_compliance_policy(campaign=campaign, actor=operator, quiet_hours_start=dt.time(20))
    with pytest.raises(DomainError, match="Unknown policy field"):
        set_compliance_policy(campaign=campaign, actor=operator, colour="red")
    with pytest.raises(DomainError, match="either a campaign or a client"):
        set_compliance_policy(actor=operator)
    assert not CompliancePolicy.objects.exists()


def test_live_email_campaign_needs_a_postal_address_to_activate(campaign_in_state, operator):
    campaign = campaign_in_state(S.APPROVED)
    set_campaign_mode(campaign=campaign, mode=CampaignMode.LIVE, actor=operator, rationale="go")
    with pytest.raises(TransitionNotAllowedError, match="sender postal address"):
        activate_campaign(campaign=campaign, actor=operator)
    set_compliance_policy(client=campaign.client, actor=operator, sender_postal_address="1 Main St")
    assert activate_campaign(campaign=campaign, actor=operator).state == S.ACTIVE


def test_dry_run_campaigns_activate_without_an_address(campaign_in_state):
    assert campaign_in_state(S.ACTIVE).state == S.ACTIVE


def test_a_running_campaign_cannot_go_live_without_an_address(campaign_in_state, operator):
    campaign = campaign_in_state(S.ACTIVE)
    with pytest.raises(DomainError, match=r"Cannot switch campaign .* to live: .*postal address"):
        set_campaign_mode(campaign=campaign, mode=CampaignMode.LIVE, actor=operator, rationale="go")
    campaign.refresh_from_db()
    assert campaign.mode == CampaignMode.DRY_RUN


def test_role_groups_carry_their_permissions():
    def perms(name):
        group = Group.objects.get(name=name)
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }

    operator, approver, admin = perms("operator"), perms("approver"), perms("admin")
    assert "campaigns.change_campaign" in operator
    assert "campaigns.approve_high_risk" not in operator and "campaigns.override_checks" not in operator
    assert {"campaigns.approve_high_risk", "campaigns.override_checks"} <= approver
    assert operator <= approver <= admin
    assert {"campaigns.change_systemswitch", "campaigns.manage_budget"} <= admin
    assert "campaigns.change_systemswitch" not in approver


def test_other_apps_register_role_permissions(monkeypatch):
    monkeypatch.setattr(roles, "_registered", {k: list(v) for k, v in roles._registered.items()})
    roles.register_role_permissions("approver", ["auth.view_group"])
    roles.sync_role_groups()
    assert Group.objects.get(name="approver").permissions.filter(codename="view_group").exists()
    assert Group.objects.get(name="admin").permissions.filter(codename="view_group").exists()
    assert not Group.objects.get(name="operator").permissions.filter(codename="view_group").exists()
    with pytest.raises(ValueError, match="Unknown role"):
        roles.register_role_permissions("intern", ["auth.view_group"])
    with pytest.raises(ValueError, match=r"app_label\.codename"):
        roles.register_role_permissions("admin", ["view_group"])
