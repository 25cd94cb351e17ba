from __future__ import annotations

import pytest
from django.test import override_settings

from campaigns.errors import ApprovalNotPermittedError, DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent, CampaignState, RiskFlag, RiskFlagStatus
from campaigns.risk import (
    Finding,
    assess_text_claims,
    list_quality_findings,
    merge_findings,
    register_risk_rule,
    unregister_risk_rule,
)
from campaigns.services.editing import create_campaign, update_campaign
from campaigns.services.risk_flags import (
    assess_campaign_risk,
    assess_risk,
    ensure_can_approve,
    override_risk_flag,
    resolve_risk_flag,
)
from campaigns.services.transitions import approve_campaign, transition_campaign
from tests.factories import CampaignFactory, ClientFactory

pytestmark = pytest.mark.django_db


def codes(findings):
    return {(f.code, f.severity) for f in findings}


def test_guaranteed_results_is_a_high_severity_absolute_claim():
    findings = assess_text_claims("Guaranteed results in 30 days!")
    assert codes(findings) == {("claims.absolute", "high")}
    assert "“guaranteed”" in findings[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Risk-free trial, 100% satisfaction", {("claims.absolute", "high")}),
        (
            "Our supplement cures anxiety",
            {("claims.medical", "high"), ("claims.missing_disclosure", "medium")},
        ),
        (
            "Earn $5,000 a month from home",
            {("claims.income", "medium"), ("claims.missing_disclosure", "medium")},
        ),
        ("Double your revenue. Results may vary.", {("claims.income", "medium")}),
        ("Book a 20 minute call to see the dashboard.", set()),
        ("", set()),
    ],
)
def test_text_claims(text, expected):
    assert codes(assess_text_claims(text)) == expected


def test_merge_keeps_one_finding_per_code_at_the_highest_severity():
    merged = merge_findings(
        [Finding("x", "low", "a"), Finding("x", "high", "b"), Finding("y", "medium", "c")]
    )
    assert [(f.code, f.severity, f.message) for f in merged] == [("x", "high", "a; b"), ("y", "medium", "c")]
    with pytest.raises(ValueError, match="Unknown severity"):
        Finding("x", "severe", "nope")


def test_campaign_rules_flag_regulated_verticals_and_very_high_caps():
    campaign = CampaignFactory(
        objective="Sell crypto trading courses", target_niche="online casino", daily_email_cap=5000
    )
    flags = {f.code: f for f in assess_campaign_risk(campaign=campaign)}
    assert flags["campaign.regulated_vertical"].severity == "medium"
    assert "crypto" in flags["campaign.regulated_vertical"].message
    assert "gambling" in flags["campaign.regulated_vertical"].message
    assert flags["campaign.daily_cap"].severity == "high"


@override_settings(AICMO_RISK_HIGH_DAILY_CAP=50)
def test_daily_cap_threshold_is_a_setting():
    flags = assess_campaign_risk(campaign=CampaignFactory(daily_email_cap=60))
    assert [(f.code, f.severity) for f in flags] == [("campaign.daily_cap", "medium")]


def test_list_quality_hook_for_leads():
    assert list_quality_findings(total=0, unverified=0) == []
    assert list_quality_findings(total=100, unverified=10) == []
    assert list_quality_findings(total=100, unverified=30)[0].severity == "medium"
    high = list_quality_findings(total=10, unverified=6)[0]
    assert high.severity == "high" and "6 of 10 leads (60%)" in high.message


def test_rules_registered_by_other_apps_run_for_their_kind_and_for_campaigns():
    calls = []

    def unverified_share(campaign):
        calls.append(campaign.pk)
        return list_quality_findings(total=10, unverified=9)

    def per_target(target):
        return [Finding("stand_in.rule", "low", f"looked at {target}")]

    register_risk_rule("campaign", unverified_share)
    register_risk_rule("campaigns.client", per_target)
    try:
        campaign = CampaignFactory()
        flags = assess_campaign_risk(campaign=campaign)
        assert calls == [campaign.pk] and {f.code for f in flags} == {"leads.unverified_share"}
        stand_in = ClientFactory()  # any model stands in for a strategy or creative here
        target_flags = assess_risk(campaign=campaign, target=stand_in, texts=["hello"])
        assert [f.code for f in target_flags] == ["stand_in.rule"]
    finally:
        unregister_risk_rule("campaign", unverified_share)
        unregister_risk_rule("campaigns.client", per_target)


def test_assessment_is_idempotent_and_resolves_what_is_gone(operator):
    campaign = CampaignFactory()
    creative = ClientFactory(name="Creative stand-in")
    first = assess_risk(campaign=campaign, target=creative, texts=["Guaranteed results"], actor=operator)
    second = assess_risk(campaign=campaign, target=creative, texts=["Guaranteed results"], actor=operator)
    assert [f.pk for f in first] == [f.pk for f in second]
    assert RiskFlag.objects.count() == 1
    flag = RiskFlag.objects.get()
    assert flag.target == creative and flag.campaign == campaign and flag.severity == "high"
    assert AuditEvent.objects.filter(verb="risk.assessed").count() == 1  # the repeat changed nothing

    assert assess_risk(campaign=campaign, target=creative, texts=["Results you can measure"]) == []
    flag.refresh_from_db()
    assert flag.status == RiskFlagStatus.RESOLVED and "No longer found" in flag.resolution_rationale
    assert AuditEvent.objects.filter(verb="risk.assessed").last().metadata == {
        "raised": [],
        "resolved": ["claims.absolute"],
    }
    assess_risk(campaign=campaign, target=creative, texts=["guaranteed again"])
    flag.refresh_from_db()
    assert flag.status == RiskFlagStatus.OPEN


def test_overridden_flags_stay_overridden_until_severity_rises(approver_role_user):
    campaign = CampaignFactory()
    target = ClientFactory()
    assess_risk(campaign=campaign, target=target, texts=["Double your income"])
    flag = RiskFlag.objects.get(code="claims.income")
    override_risk_flag(flag=flag, actor=approver_role_user, rationale="client's verified case study")
    assess_risk(campaign=campaign, target=target, texts=["Double your income"])
    flag.refresh_from_db()
    assert flag.status == RiskFlagStatus.OVERRIDDEN
    event = AuditEvent.objects.get(verb="risk.overridden")
    assert event.actor == approver_role_user and event.rationale == "client's verified case study"


def test_overriding_needs_the_permission_and_a_rationale(operator_role_user, approver_role_user):
    campaign = CampaignFactory()
    assess_risk(campaign=campaign, target=campaign, texts=["risk-free"])
    flag = RiskFlag.objects.get()
    with pytest.raises(ApprovalNotPermittedError, match=r"campaigns\.override_checks"):
        override_risk_flag(flag=flag, actor=operator_role_user, rationale="fine")
    with pytest.raises(DomainError, match="rationale"):
        override_risk_flag(flag=flag, actor=approver_role_user, rationale="")
    resolve_risk_flag(flag=flag, actor=operator_role_user, rationale="reworded")
    with pytest.raises(DomainError, match="already resolved"):
        resolve_risk_flag(flag=flag, actor=operator_role_user, rationale="again")


def test_high_severity_flag_needs_an_approver(operator_role_user, approver_role_user, client_user):
    campaign = CampaignFactory()
    creative = ClientFactory(name="Creative: guaranteed results")
    assess_risk(campaign=campaign, target=creative, texts=["Guaranteed results for your team"])

    with pytest.raises(ApprovalNotPermittedError) as refused:
        ensure_can_approve(user=operator_role_user, campaign=campaign, target=creative)
    assert "campaigns.approve_high_risk" in str(refused.value)
    assert "claims.absolute" in str(refused.value)
    assert refused.value.details["flags"] == ["claims.absolute"]
    with pytest.raises(ApprovalNotPermittedError):
        ensure_can_approve(user=client_user, campaign=campaign, target=creative)
    with pytest.raises(ApprovalNotPermittedError, match="the system"):
        ensure_can_approve(user=None, campaign=campaign, target=creative)

    ensure_can_approve(user=approver_role_user, campaign=campaign, target=creative)
    # Nothing high open: anyone may approve.
    ensure_can_approve(user=operator_role_user, campaign=campaign, target=ClientFactory())


def test_campaign_approval_with_a_high_flag_needs_an_approver(operator_role_user, approver_role_user):
    campaign = create_campaign(
        client=ClientFactory(), name="Bold", objective="Guaranteed results or your money back"
    )
    assert campaign.risk_flags.filter(severity="high", status="open").exists()
    for step in ("start_planning", "submit_for_approval"):
        transition_campaign(campaign=campaign, transition=step, actor=operator_role_user)
    with pytest.raises(ApprovalNotPermittedError):
        approve_campaign(campaign=campaign, actor=operator_role_user)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.AWAITING_APPROVAL
    approve_campaign(campaign=campaign, actor=approver_role_user, rationale="claims checked")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.APPROVED


def test_editing_risky_fields_reassesses_the_campaign(operator):
    campaign = create_campaign(client=ClientFactory(), name="Calm", objective="Book calls")
    assert not campaign.risk_flags.exists()
    update_campaign(campaign=campaign, actor=operator, objective="Risk-free pilots for hospitals")
    assert {f.code for f in campaign.risk_flags.all()} == {"claims.absolute", "campaign.regulated_vertical"}
    update_campaign(campaign=campaign, actor=operator, objective="Book calls")
    assert not campaign.risk_flags.filter(status="open").exists()


def test_transition_refusal_is_not_a_transition_error():
    # The API maps TransitionNotAllowedError to 409; a permission refusal must not look like one.
    assert not issubclass(ApprovalNotPermittedError, TransitionNotAllowedError)
