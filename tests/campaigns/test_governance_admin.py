from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent, CampaignState, CompliancePolicy, RiskFlag, RiskFlagStatus, SpendEntry
from campaigns.services.budget import record_spend
from campaigns.services.editing import create_campaign
from campaigns.services.risk_flags import assess_campaign_risk, assess_risk
from campaigns.services.transitions import transition_campaign
from tests.factories import CampaignFactory, ClientFactory

pytestmark = pytest.mark.django_db
S = CampaignState


def change_url(campaign):
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def test_change_page_shows_budget_warning_and_flags(client, operator):
    client.force_login(operator)
    campaign = CampaignFactory(budget_cap=Decimal("100"), objective="Guaranteed leads")
    assess_campaign_risk(campaign=campaign)
    record_spend(campaign=campaign, kind="ad_spend", amount="85")
    page = client.get(change_url(campaign)).content.decode()
    assert 'data-level="warning"' in page and "Spent 85.00 of 100.00 USD (85.0%)" in page
    assert "Budget warning: this campaign has spent 85.0% of its 100.00 USD cap." in page
    assert "1 open high-severity risk flag(s)" in page
    assert "claims.absolute" in page  # the risk flag inline
    assert "No: generation and sending may spend." in page


def test_change_page_shows_the_blocked_reason(client, operator):
    client.force_login(operator)
    campaign = CampaignFactory(budget_cap=Decimal("1"))
    record_spend(campaign=campaign, kind="esp", amount="1")
    page = client.get(change_url(campaign)).content.decode()
    assert 'id="blocked-reason"' in page
    assert "Spending work is stopped. Budget exhausted: spent 1.00 of the 1.00 USD cap" in page


def test_budget_cap_page_raises_the_cap_with_a_rationale(client, admin_role_user):
    client.force_login(admin_role_user)
    campaign = CampaignFactory(budget_cap=Decimal("1"))
    record_spend(campaign=campaign, kind="esp", amount="1")
    budget_url = reverse("admin:campaigns_campaign_budget", args=[campaign.pk])
    assert 'id="change-budget-cap"' in client.get(change_url(campaign)).content.decode()
    form = client.get(budget_url)
    assert form.status_code == 200 and "Budget exhausted" in form.content.decode()
    assert client.post(budget_url, {"budget_cap": "3", "rationale": ""}).status_code == 200  # form error
    response = client.post(budget_url, {"budget_cap": "3", "rationale": "approved by client"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.budget_cap == Decimal("3.00") and campaign.spending_blocked_reason == ""
    assert AuditEvent.objects.get(verb="budget.cap_changed").actor == admin_role_user


def test_operators_may_not_change_the_cap(client, operator_role_user):
    client.force_login(operator_role_user)
    campaign = CampaignFactory(budget_cap=Decimal("1"))
    assert 'id="change-budget-cap"' not in client.get(change_url(campaign)).content.decode()
    budget_url = reverse("admin:campaigns_campaign_budget", args=[campaign.pk])
    assert client.post(budget_url, {"budget_cap": "3", "rationale": "x"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.budget_cap == Decimal("1.00")


def test_manual_spend_goes_through_the_ledger_service(client, operator_role_user):
    client.force_login(operator_role_user)
    campaign = CampaignFactory(budget_cap=Decimal("10"))
    response = client.post(
        reverse("admin:campaigns_spendentry_add"),
        {"campaign": campaign.pk, "kind": "ad_spend", "amount": "12", "description": "LinkedIn ads invoice"},
        follow=True,
    )
    assert response.status_code == 200
    entry = SpendEntry.objects.get()
    assert entry.created_by == operator_role_user and entry.currency == "USD"
    assert AuditEvent.objects.filter(verb="spend.recorded", actor=operator_role_user).exists()
    assert "Budget exhausted" in response.content.decode()  # the operator is told at once


def test_risk_flag_override_action_needs_the_approver_role(client, operator_role_user, approver_role_user):
    campaign = CampaignFactory()
    assess_risk(campaign=campaign, target=campaign, texts=["guaranteed results"])
    flag = RiskFlag.objects.get()
    changelist = reverse("admin:campaigns_riskflag_changelist")
    data = {
        "action": "override_selected",
        "_selected_action": [flag.pk],
        "apply": "1",
        "rationale": "legal ok",
    }

    client.force_login(operator_role_user)
    refused = client.post(changelist, data, follow=True)
    assert "campaigns.override_checks" in refused.content.decode()
    flag.refresh_from_db()
    assert flag.status == RiskFlagStatus.OPEN

    client.force_login(approver_role_user)
    client.post(changelist, data, follow=True)
    flag.refresh_from_db()
    assert flag.status == RiskFlagStatus.OVERRIDDEN and flag.resolved_by == approver_role_user


def test_admin_approve_button_refuses_an_operator_on_a_high_risk_campaign(
    client, operator_role_user, approver_role_user
):
    campaign = create_campaign(client=ClientFactory(), name="Bold", objective="100% guaranteed")
    for step in ("start_planning", "submit_for_approval"):
        transition_campaign(campaign=campaign, transition=step)
    approve = reverse("admin:campaigns_campaign_transition", args=[campaign.pk, "approve"])
    client.force_login(operator_role_user)
    page = client.post(approve, {"rationale": "looks fine"}, follow=True).content.decode()
    assert "campaigns.approve_high_risk" in page
    campaign.refresh_from_db()
    assert campaign.state == S.AWAITING_APPROVAL
    client.force_login(approver_role_user)
    client.post(approve, {"rationale": "claims reviewed with legal"})
    campaign.refresh_from_db()
    assert campaign.state == S.APPROVED


def test_reassess_risk_button(client, operator):
    client.force_login(operator)
    campaign = CampaignFactory(objective="Online casino sign-ups")
    response = client.post(reverse("admin:campaigns_campaign_assess_risk", args=[campaign.pk]), follow=True)
    assert "Risk re-assessed: 1 open flag(s)." in response.content.decode()
    assert campaign.risk_flags.get().code == "campaign.regulated_vertical"


def test_compliance_policy_admin_saves_through_the_service(client, operator):
    client.force_login(operator)
    target = ClientFactory()
    response = client.post(
        reverse("admin:campaigns_compliancepolicy_add"),
        {
            "client": target.pk,
            "require_strategy_approval": "on",
            "consent_regions": '["eu"]',
            "sender_postal_address": "1 Main St, Springfield",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = CompliancePolicy.objects.get()
    assert policy.consent_regions == ["EU"] and policy.client == target
    assert AuditEvent.objects.filter(verb="policy.created", actor=operator).exists()
    both = client.post(
        reverse("admin:campaigns_compliancepolicy_add"),
        {"client": target.pk, "campaign": CampaignFactory().pk, "consent_regions": "[]"},
    )
    assert both.status_code == 200 and CompliancePolicy.objects.count() == 1


def test_add_campaign_with_a_budget(client, operator):
    client.force_login(operator)
    target = ClientFactory()
    response = client.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "client": target.pk,
            "name": "Budgeted",
            "type": "lead_gen",
            "channels": ["email"],  # checkboxes
            "daily_email_cap": 20,
            "target_clients": 5,
            "timezone": "UTC",
            "budget_cap": "500",
            "currency": "GBP",
        },
    )
    assert response.status_code == 302
    campaign = target.campaigns.get()
    assert campaign.budget_cap == Decimal("500.00") and campaign.currency == "GBP"
