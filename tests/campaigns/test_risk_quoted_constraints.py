"""Issue 17 point 7: the risk rules ignore the brief's own constraints quoted back, and negated
claims; refusals name the permission, the role that has it and the role the user has."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from campaigns.errors import ApprovalNotPermittedError
from campaigns.models import CampaignState, RiskFlag
from campaigns.permissions import require_action
from campaigns.risk import assess_text_claims, strip_quoted
from campaigns.services.risk_flags import assess_campaign_risk, assess_risk, ensure_can_approve
from strategy import services as strategy_services
from strategy.models import StrategyVariant
from tests.factories import CampaignFactory, ClientUserFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

CONSTRAINT = "No guarantees of savings"


def absolute(text: str, **kwargs) -> bool:
    return any(f.code == "claims.absolute" for f in assess_text_claims(text, **kwargs))


def campaign_with_brief(constraints: str):
    campaign = CampaignFactory(
        type="lead_gen",
        channels=["email", "linkedin"],
        start_date=dt.date(2026, 3, 2),
        end_date=dt.date(2026, 5, 30),
    )
    strategy_services.save_brief(
        campaign=campaign,
        objective="Book discovery calls with fleet managers at mid-size carriers",
        audience="Fleet managers and heads of logistics at carriers",
        offer="A free route audit",
        channels=["email", "linkedin"],
        tone="professional",
        constraints=constraints,
    )
    return campaign


# --- the text rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        CONSTRAINT,
        "Lead gen campaign, professional voice, within these limits: No guarantees of savings.",
        "We make no guarantees.",
        "We cannot guarantee results.",
        "Do not promise guaranteed savings.",
        "This is not a cure.",
    ],
)
def test_a_negated_claim_is_not_a_claim(text):
    assert assess_text_claims(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Guaranteed savings in 30 days!",
        "No fees and guaranteed savings.",  # the conjunction starts a new, asserted claim
        "No waiting, guaranteed.",  # the comma ends the negated clause
        "There is no risk.",
    ],
)
def test_an_asserted_claim_is_still_flagged(text):
    assert absolute(text)


def test_a_quoted_constraint_is_left_out_even_when_it_names_a_claim():
    constraint = "Say risk-free only about the 30-day trial. Never promise 100% delivery or instant results."
    # the template generator quotes the constraints back, cut after 20 words with an ellipsis
    quoted = "Within these limits: Say risk-free only about the 30-day trial. Never promise 100% delivery or…"
    assert absolute(quoted)  # read alone, "risk-free" is a claim
    assert not absolute(quoted, quoted=[constraint])
    assert strip_quoted(quoted, [constraint]).split() == ["Within", "these", "limits:", "."]
    # the same words asserted elsewhere in the text are still a claim
    assert absolute(quoted + " Our audit is risk-free.", quoted=[constraint])


def test_strategies_quoting_the_brief_constraint_raise_no_absolute_claim_flag(operator):
    """The exact report: the brief says "No guarantees of savings"; each generated strategy quotes
    it; none of the three may carry a high-severity absolute-claim flag for it."""
    campaign = campaign_with_brief(CONSTRAINT)
    batch = strategy_services.generate_strategies(campaign=campaign, actor=operator)
    variants = list(batch.variants.all())
    assert len(variants) == 3
    assert all(CONSTRAINT in v.positioning for v in variants)  # quoted back, as reported
    flagged = RiskFlag.objects.filter(campaign=campaign, code="claims.absolute")
    assert list(flagged.values_list("target_repr", flat=True)) == []


def test_a_constraint_quoted_back_is_ignored_but_a_real_claim_is_not(operator):
    campaign = campaign_with_brief("Mention risk-free trials only with legal sign-off")
    variant = StrategyVariant.objects.filter(campaign=campaign).first()
    assert variant is None
    batch = strategy_services.generate_strategies(campaign=campaign, actor=operator)
    variant = batch.variants.first()
    assert "risk-free" in variant.positioning.lower()
    flags = assess_risk(campaign=campaign, target=variant, texts=[variant.positioning])
    assert [f.code for f in flags] == []
    flags = assess_risk(campaign=campaign, target=variant, texts=[variant.positioning, "Guaranteed savings."])
    assert [f.code for f in flags] == ["claims.absolute"]


# --- what a refusal says --------------------------------------------------------------------------


def test_a_refusal_names_the_permission_its_role_and_the_users_role(operator_role_user):
    campaign = CampaignFactory()
    with pytest.raises(Exception) as refused:
        require_action(operator_role_user, "campaign.change_budget", campaign)
    assert str(refused.value) == (
        "role-operator may not change a campaign's budget cap: that needs the "
        "'campaigns.manage_budget' permission (role: Admin); you have the role Operator."
    )


def test_a_client_refusal_names_the_agency_role(db):
    client_user = ClientUserFactory()
    campaign = CampaignFactory(client=client_user.client)
    with pytest.raises(Exception, match=r"'campaigns\.change_campaign' permission \(role: Operator\)"):
        require_action(client_user, "campaign.activate", campaign)


def test_approving_flagged_work_names_the_role_and_the_users_role(operator_role_user):
    campaign = CampaignFactory(daily_email_cap=100_000)  # a high-severity flag of its own
    assess_campaign_risk(campaign=campaign)
    with pytest.raises(ApprovalNotPermittedError) as refused:
        ensure_can_approve(user=operator_role_user, campaign=campaign, target=campaign)
    assert (
        "needs the 'campaigns.approve_high_risk' permission (role: Approver); you have the role Operator"
        in str(refused.value)
    )


@pytest.fixture
def flagged_campaign(db):
    """An approved campaign (ready to activate) with an open high-severity risk flag."""
    campaign = CampaignFactory(state=CampaignState.APPROVED, daily_email_cap=100_000)
    assess_campaign_risk(campaign=campaign)
    assert campaign.risk_flags.filter(severity="high", status="open").exists()
    return campaign


def warnings_on_page(client, campaign) -> str:
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    return " ".join(str(m) for m in page.context["messages"])


def test_a_superuser_is_not_told_they_lack_the_approver_permission(client, flagged_campaign):
    """The reported message: activating as a superuser said "approval needs the approver permission".
    The real reason is the open flag; a superuser may approve it."""
    client.force_login(StaffUserFactory())
    text = warnings_on_page(client, flagged_campaign)
    assert "1 open high-severity risk flag(s): campaign.daily_cap on " in text
    assert "you may also approve the flagged work" in text
    assert "needs" not in text and "approver permission" not in text


def test_an_operator_is_told_which_permission_and_role_approving_flagged_work_needs(
    client, operator_role_user, flagged_campaign
):
    client.force_login(operator_role_user)
    text = warnings_on_page(client, flagged_campaign)
    assert (
        "needs the 'campaigns.approve_high_risk' permission (role: Approver); you have the role Operator"
        in text
    )


def test_creative_checks_leave_out_the_brief_constraint_quoted_back(operator):
    """The creative checks read the same quoted constraints: copy that repeats the brief's rule is
    not flagged for the claim it forbids, a claim made next to it still is."""
    from creative.checks import CheckSettings, CreativeContent, run_checks
    from creative.models import CreativeVariant
    from creative.services.common import apply_checks

    constraint = "Mention risk-free trials only with legal sign-off"
    campaign = campaign_with_brief(constraint)
    body = f"Hi,\n\nA note from our legal team: {constraint}.\n\nBest"
    variant = CreativeVariant(campaign=campaign, platform="email", body=body)  # checks need no row
    apply_checks(variant)
    assert "risky_claim" not in {f["code"] for f in variant.check_findings}

    alone = run_checks(CreativeContent(platform="email", body=body), CheckSettings())
    assert "risky_claim" in {f.code for f in alone}  # without the brief, it reads as a claim
    variant.body = body + "\n\nOur audit is risk-free."
    apply_checks(variant)
    assert "risky_claim" in {f["code"] for f in variant.check_findings}
