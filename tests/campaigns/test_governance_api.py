from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.models import AuditEvent, CampaignState
from campaigns.services.budget import ensure_budget_allows, record_spend
from campaigns.services.editing import create_campaign
from campaigns.services.risk_flags import assess_campaign_risk
from campaigns.services.system_pause import set_system_pause
from campaigns.services.transitions import transition_campaign
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
S = CampaignState


def url(campaign_id=None, action=None):
    base = "/api/v1/campaigns/"
    if campaign_id is None:
        return base
    return f"{base}{campaign_id}/" + (f"{action}/" if action else "")


def test_detail_shows_budget_blocked_reason_risk_flags_and_policy(api_as, client_user):
    campaign = CampaignFactory(
        client=client_user.client, budget_cap=Decimal("10"), objective="Guaranteed ROI"
    )
    assess_campaign_risk(campaign=campaign)
    record_spend(campaign=campaign, kind="ai_generation", amount="8.5")
    body = api_as(client_user).get(url(campaign.pk)).json()
    assert body["budget_cap"] == "10.00" and body["currency"] == "USD"
    assert body["budget"] == {
        "cap": "10.00",
        "spent": "8.50",
        "remaining": "1.50",
        "currency": "USD",
        "ratio": 0.85,
        "percent": 85.0,
        "level": "warning",
        "blocked_reason": "",
    }
    assert body["blocked_reason"] == ""
    assert [(f["code"], f["severity"], f["target_type"]) for f in body["risk_flags"]] == [
        ("claims.absolute", "high", "campaign")
    ]
    assert body["compliance_policy"]["source"] == "default"
    assert body["compliance_policy"]["has_sender_postal_address"] is False


def test_list_stays_lean(api_as, client_user, django_assert_max_num_queries):
    CampaignFactory.create_batch(3, client=client_user.client)
    api = api_as(client_user)
    with django_assert_max_num_queries(6):
        results = api.get(url()).json()["results"]
    assert "budget" not in results[0] and "budget_cap" in results[0]


def test_staff_raise_the_cap_and_unblock_spending(api_as, operator, client_user):
    campaign = CampaignFactory(client=client_user.client, budget_cap=Decimal("1"))
    record_spend(campaign=campaign, kind="esp", amount="1")
    blocked = api_as(client_user).get(url(campaign.pk)).json()
    assert blocked["budget"]["level"] == "exhausted"
    assert blocked["blocked_reason"].startswith("Budget exhausted: spent 1.00 of the 1.00 USD cap")

    response = api_as(operator).post(
        url(campaign.pk, "budget"), {"budget_cap": "5.00", "rationale": "renewed"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["budget"]["level"] == "ok" and response.json()["blocked_reason"] == ""
    event = AuditEvent.objects.get(verb="budget.cap_changed")
    assert event.actor == operator and event.rationale == "renewed"
    ensure_budget_allows(campaign=campaign, amount="0.001")


def test_budget_endpoint_rules(api_as, operator, client_user, other_client_user):
    mine = CampaignFactory(client=client_user.client, budget_cap=Decimal("1"))
    record_spend(campaign=mine, kind="data", amount="0.25", description="enrichment")
    ledger = api_as(client_user).get(url(mine.pk, "budget")).json()
    assert ledger["status"]["spent"] == "0.25"
    assert [(e["kind"], e["description"]) for e in ledger["recent_entries"]] == [("data", "enrichment")]

    assert (
        api_as(client_user).post(url(mine.pk, "budget"), {"budget_cap": "9", "rationale": "x"}).status_code
        == 403
    )
    assert api_as(other_client_user).get(url(mine.pk, "budget")).status_code == 404
    assert (
        api_as(other_client_user)
        .post(url(mine.pk, "budget"), {"budget_cap": "9", "rationale": "x"})
        .status_code
        == 404
    )
    missing = api_as(operator).post(url(mine.pk, "budget"), {"budget_cap": "9"})
    assert missing.status_code == 400 and "rationale" in missing.json()
    negative = api_as(operator).post(url(mine.pk, "budget"), {"budget_cap": "-1", "rationale": "x"})
    assert negative.status_code == 400
    mine.refresh_from_db()
    assert (
        mine.budget_cap == Decimal("1.00")
        and not AuditEvent.objects.filter(verb="budget.cap_changed").exists()
    )


def test_create_with_a_budget(api_as, client_user, operator):
    # The budget and currency are the agency's (a client user naming them gets a 400:
    # tests/security/test_client_fields.py).
    response = api_as(operator).post(
        url(), {"name": "Capped", "budget_cap": "300.00", "currency": "eur", "client": client_user.client_id}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["budget_cap"] == "300.00" and response.json()["currency"] == "EUR"


def test_system_pause_is_the_blocked_reason(api_as, client_user, operator):
    campaign = CampaignFactory(client=client_user.client)
    set_system_pause(paused=True, actor=operator, rationale="deliverability review")
    assert api_as(client_user).get(url(campaign.pk)).json()["blocked_reason"] == (
        "System pause is on: deliverability review."
    )


def test_operator_without_approver_permission_cannot_approve_a_high_risk_campaign(
    api_as, operator_role_user, approver_role_user
):
    campaign = create_campaign(
        client=CampaignFactory().client, name="Bold", objective="Risk-free, guaranteed results"
    )
    for step in ("start_planning", "submit_for_approval"):
        transition_campaign(campaign=campaign, transition=step)
    refused = api_as(operator_role_user).post(url(campaign.pk, "transition"), {"transition": "approve"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "approval_not_permitted"
    assert "campaigns.approve_high_risk" in refused.json()["detail"]
    ok = api_as(approver_role_user).post(
        url(campaign.pk, "transition"), {"transition": "approve", "reason": "ok"}
    )
    assert ok.status_code == 200 and ok.json()["state"] == S.APPROVED
