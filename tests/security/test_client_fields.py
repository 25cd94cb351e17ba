"""Mass assignment and overrides: client users write only the client fields of a campaign; approval
rights, budget, caps and currency are the agency's; currency codes are ISO 4217; and approving
work that fails its checks is an override that only the approver role has (never a client user,
whatever allow_client_approval says). docs/SECURITY.md, "Campaign fields a client user may write"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory

from campaigns.errors import ActionNotPermittedError
from campaigns.models import AuditEvent, Campaign
from campaigns.services.editing import create_campaign, update_campaign
from campaigns.services.policy import set_compliance_policy
from creative import services as creative_services
from creative.models import CreativeState, CreativeVariant
from strategy import services as strategy_services
from strategy.models import StrategyVariant, VariantState
from tests.factories import CampaignFactory, ClientUserFactory

AGENCY_BODY = {
    "allow_client_approval": True,
    "budget_cap": "99999999.99",
    "currency": "XXX",
    "daily_email_cap": 1000000,
}


def test_client_naming_agency_fields_gets_a_400_naming_each(api_as, client_user):
    response = api_as(client_user).post("/api/v1/campaigns/", {"name": "Mine", **AGENCY_BODY}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(AGENCY_BODY) <= set(body)
    assert "Set by your agency" in body["allow_client_approval"][0]
    assert not Campaign.objects.filter(name="Mine").exists()


@pytest.mark.parametrize(("field", "value"), list(AGENCY_BODY.items()))
def test_each_agency_field_alone_is_refused_to_a_client(api_as, client_user, field, value):
    response = api_as(client_user).post("/api/v1/campaigns/", {"name": "Mine", field: value}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not Campaign.objects.filter(name="Mine").exists()


def test_client_creates_with_the_client_fields_and_agency_defaults(api_as, client_user):
    body = {
        "name": "Spring push",
        "objective": "Book calls",
        "target_niche": "Logistics",
        "target_clients": 5,
        "channels": ["email"],
        "timezone": "Europe/Berlin",
        "start_date": "2026-03-02",
        "end_date": "2026-04-30",
        "mode": "live",  # read-only for everyone: ignored
    }
    response = api_as(client_user).post("/api/v1/campaigns/", body, format="json")
    assert response.status_code == 201, response.content
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert campaign.client_id == client_user.client_id
    assert campaign.allow_client_approval is False
    assert campaign.budget_cap is None and campaign.currency == "USD"
    assert campaign.daily_email_cap == 20 and campaign.mode == "dry_run"
    assert campaign.start_date == dt.date(2026, 3, 2)


def test_staff_set_agency_fields_and_currency_must_be_iso_4217(api_as, operator, client_user):
    api = api_as(operator)
    base = {"name": "Agency made", "client": client_user.client_id}
    for bad in ("XXX", "ABC", "XTS", "XAU", "12"):
        refused = api.post("/api/v1/campaigns/", {**base, "currency": bad}, format="json")
        assert refused.status_code == 400 and "currency" in refused.json(), (bad, refused.content)
    ok = api.post(
        "/api/v1/campaigns/",
        {**base, "currency": "eur", "budget_cap": "500.00", "allow_client_approval": True},
        format="json",
    )
    assert ok.status_code == 201, ok.content
    campaign = Campaign.objects.get(pk=ok.json()["id"])
    assert campaign.currency == "EUR" and campaign.budget_cap == Decimal("500.00")
    assert campaign.allow_client_approval is True


def test_currency_is_checked_in_one_place_for_services_and_admin_forms(client_user, operator):
    with pytest.raises(ValidationError) as refused:
        create_campaign(client=client_user.client, name="X", actor=operator, currency="XXX")
    assert "currency" in refused.value.message_dict
    # The admin's campaign form is a ModelForm: the model field's validator answers there too.
    form = modelform_factory(Campaign, fields=["currency"])(data={"currency": "XXX"})
    assert not form.is_valid() and "currency" in form.errors
    assert modelform_factory(Campaign, fields=["currency"])(data={"currency": "CHF"}).is_valid()


def test_services_refuse_agency_fields_from_a_client_actor(client_user):
    with pytest.raises(ActionNotPermittedError):
        create_campaign(
            client=client_user.client, name="Sneaky", actor=client_user, allow_client_approval=True
        )
    campaign = CampaignFactory(client=client_user.client)
    with pytest.raises(ActionNotPermittedError):
        update_campaign(campaign=campaign, actor=client_user, daily_email_cap=1000000)
    campaign.refresh_from_db()
    assert campaign.daily_email_cap == 20


def test_client_cannot_decide_strategy_where_the_agency_did_not_allow_it(api_as, client_user, operator):
    campaign = CampaignFactory(client=client_user.client, allow_client_approval=False)
    strategy_services.save_brief(
        campaign=campaign,
        objective="Book twenty discovery calls",
        audience="Operations directors",
        offer="Route planning",
        channels=["email"],
    )
    strategy_services.generate_strategies(campaign=campaign, actor=operator)
    variant = StrategyVariant.objects.filter(campaign=campaign).order_by("pk").first()
    response = api_as(client_user).post(f"/api/v1/strategies/{variant.pk}/select/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "action_not_permitted"
    variant.refresh_from_db()
    assert variant.state == VariantState.PROPOSED


@pytest.fixture
def failing_creative(operator):
    """A creative in review on a campaign that allows client approval, missing its unsubscribe link
    and postal address (two failing checks)."""

    def make(client):
        campaign = CampaignFactory(
            client=client,
            allow_client_approval=True,
            channels=["email"],
            start_date=dt.date(2026, 3, 2),
            end_date=dt.date(2026, 5, 30),
        )
        set_compliance_policy(client=client, actor=operator, sender_postal_address="1 Test Street")
        strategy_services.save_brief(
            campaign=campaign,
            objective="Book twenty discovery calls",
            audience="Operations directors",
            offer="Route planning",
            channels=["email"],
        )
        strategy_services.generate_and_approve_strategy(campaign=campaign, actor=operator, rationale="fit")
        creative_services.generate_creatives(
            campaign=campaign, actor=operator, platforms=["email"], variants=2
        )
        original = CreativeVariant.objects.filter(campaign=campaign).order_by("pk").first()
        bare = creative_services.edit_creative(
            variant=original, actor=operator, body="Hi {{ first_name }}, shall we talk routes?", body_html=""
        )
        creative_services.submit_creative_for_review(variant=bare, actor=operator)
        bare.refresh_from_db()
        codes = {finding["code"] for finding in bare.blocking_findings}
        assert {"unsubscribe_missing", "postal_address_missing"} <= codes, codes
        return bare

    return make


def test_client_never_approves_creative_that_fails_its_checks(
    api_as, client_user, failing_creative, frozen_now
):
    bare = failing_creative(client_user.client)
    url = f"/api/v1/creatives/{bare.pk}/approve/"
    api = api_as(client_user)
    with_override = api.post(url, {"override_rationale": "we accept it"}, format="json")
    assert with_override.status_code == 403, with_override.content
    assert (
        "creative.override_checks" in str(with_override.json())
        or "override" in with_override.json()["detail"]
    )
    without = api.post(url, {}, format="json")
    assert without.status_code == 403
    bare.refresh_from_db()
    assert bare.state == CreativeState.IN_REVIEW and not bare.override_rationale
    assert not AuditEvent.objects.filter(verb="creative.checks_overridden").exists()


def test_override_of_failing_checks_is_the_approver_roles(
    api_as, operator_role_user, approver_role_user, failing_creative, frozen_now
):
    bare = failing_creative(ClientUserFactory().client)
    url = f"/api/v1/creatives/{bare.pk}/approve/"
    refused = api_as(operator_role_user).post(url, {"override_rationale": "legal said ok"}, format="json")
    assert refused.status_code == 403, refused.content
    assert refused.json()["code"] == "action_not_permitted"
    bare.refresh_from_db()
    assert bare.state == CreativeState.IN_REVIEW
    ok = api_as(approver_role_user).post(url, {"override_rationale": "legal said ok"}, format="json")
    assert ok.status_code == 200, ok.content
    bare.refresh_from_db()
    assert bare.state == CreativeState.APPROVED and bare.overridden_by == approver_role_user


def test_operator_cannot_change_a_budget_cap_through_the_api(api_as, operator_role_user, admin_role_user):
    campaign = CampaignFactory(budget_cap=Decimal("100.00"))
    url = f"/api/v1/campaigns/{campaign.pk}/budget/"
    body = {"budget_cap": "99999.00", "rationale": "more"}
    refused = api_as(operator_role_user).post(url, body, format="json")
    assert refused.status_code == 403 and "campaigns.manage_budget" in refused.json()["detail"]
    campaign.refresh_from_db()
    assert campaign.budget_cap == Decimal("100.00")
    assert api_as(admin_role_user).post(url, body, format="json").status_code == 200
    campaign.refresh_from_db()
    assert campaign.budget_cap == Decimal("99999.00")
