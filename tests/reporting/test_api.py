"""Reporting API: numbers, scoping (another client's campaign is a 404), staff-only outcomes."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from leads.models import LeadState
from reporting.models import Outcome
from reporting.services import build_weekly_summary
from tests.reporting.conftest import add_leads, add_messages

REPORTS = ("metrics", "weekly", "executive", "ab")


@pytest.fixture
def client_campaign(ab_campaign, client_user):
    """The A/B campaign, owned by client_user's client, with some sends and replies."""
    campaign, (a, b) = ab_campaign
    campaign.client = client_user.client
    campaign.save(update_fields=["client"])
    add_leads(campaign, {"qualified": 2, "new": 3})
    add_messages(campaign, a, n=200, events={"replied": 10})
    add_messages(campaign, b, n=200, events={"replied": 40})
    build_weekly_summary(campaign=campaign, week_start=dt.date(2026, 3, 2))
    return campaign


def test_client_user_reads_the_reports_of_their_own_campaign(client_campaign, client_user, api_as):
    api = api_as(client_user)
    base = f"/api/v1/campaigns/{client_campaign.pk}/reports"
    metrics = api.get(f"{base}/metrics/?days=30")
    assert metrics.status_code == 200, metrics.content
    body = metrics.json()
    assert body["leads_total"] == 405 and body["qualified"] == 2 and body["window_days"] == 30
    assert body["lifetime_outreach"]["live_sent"] == 400
    assert body["lifetime_outreach"]["replied"] == 50
    ab = api.get(f"{base}/ab/").json()
    assert ab[0]["reply_rate_test"]["winner"] == "B"
    assert [v["replied"] for v in ab[0]["variants"]] == [10, 40]
    weekly = api.get(f"{base}/weekly/").json()
    assert weekly["results"][0]["week_start"] == "2026-03-02" and weekly["results"][0]["sent"] == 400
    executive = api.get(f"{base}/executive/").json()
    assert executive["kpis"]["live_sent"] == 400 and executive["kpis"]["roi"] is None
    assert any("wins on reply rate" in line for line in executive["insights"])


@pytest.mark.parametrize("report", REPORTS)
def test_another_clients_campaign_is_a_404(client_campaign, other_client_user, api_as, report):
    response = api_as(other_client_user).get(f"/api/v1/campaigns/{client_campaign.pk}/reports/{report}/")
    assert response.status_code == 404


def test_bad_window_is_a_400_naming_the_field(client_campaign, operator, api_as):
    response = api_as(operator).get(f"/api/v1/campaigns/{client_campaign.pk}/reports/metrics/?days=abc")
    assert response.status_code == 400 and "days" in response.json()


def test_staff_record_an_outcome_and_clients_may_not(client_campaign, operator, client_user, api_as):
    lead = client_campaign.leads.filter(state=LeadState.QUALIFIED).first()
    url = f"/api/v1/campaigns/{client_campaign.pk}/outcomes/"
    payload = {"lead": lead.pk, "deal_value": "2500.00", "note": "annual plan"}
    assert api_as(client_user).post(url, payload, format="json").status_code == 403
    response = api_as(operator).post(url, payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["deal_value"] == "2500.00" and response.json()["currency"] == "USD"
    lead.refresh_from_db()
    assert lead.state == LeadState.WON
    again = api_as(operator).post(url, payload, format="json")
    assert again.status_code == 400 and "lead" in again.json()  # one outcome per lead
    assert Outcome.objects.count() == 1


def test_outcome_for_an_unqualified_lead_is_a_409_and_another_campaigns_lead_a_400(
    client_campaign, operator, api_as, campaign_in_state
):
    url = f"/api/v1/campaigns/{client_campaign.pk}/outcomes/"
    new_lead = client_campaign.leads.filter(state=LeadState.NEW).first()
    response = api_as(operator).post(url, {"lead": new_lead.pk, "deal_value": "10"}, format="json")
    assert response.status_code == 409
    stranger = add_leads(campaign_in_state("active"), {"qualified": 1})[0]
    response = api_as(operator).post(url, {"lead": stranger.pk, "deal_value": "10"}, format="json")
    assert response.status_code == 400 and "lead" in response.json()


def test_openapi_schema_has_no_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
