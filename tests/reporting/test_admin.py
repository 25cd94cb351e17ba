"""Admin dashboards: the overview and the campaign page render with and without data, in a
bounded number of queries; the metrics CSV export carries the numbers."""

from __future__ import annotations

import csv
import io
import re

from django.urls import reverse

from reporting.models import Outcome
from tests.reporting.conftest import add_leads, add_messages


def test_dashboard_renders_for_a_campaign_with_no_data(client, operator, campaign_in_state):
    campaign = campaign_in_state("draft")
    client.force_login(operator)
    response = client.get(reverse("admin:reporting_campaigndashboard_change", args=[campaign.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "No sequence yet." in body and "Show history" in body
    assert not re.search(r'(src|href)="(https?:)?//', body)  # nothing from a CDN or any other host


def test_dashboard_with_data_and_bounded_queries(
    client, operator, ab_campaign, django_assert_max_num_queries
):
    campaign, (a, b) = ab_campaign
    add_leads(campaign, {"qualified": 2, "won": 1})
    add_messages(campaign, a, n=60, events={"replied": 3, "opened": 20})
    add_messages(campaign, b, n=60, events={"replied": 15})
    client.force_login(operator)
    url = reverse("admin:reporting_campaigndashboard_change", args=[campaign.pk])
    client.get(url)  # warm caches (content types, sessions)
    with django_assert_max_num_queries(25):
        response = client.get(url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Winner: B." in body
    assert "Sends and replies, last 30 days" in body and "<polyline" in body
    add_messages(campaign, a, n=200, events={"replied": 5})
    with django_assert_max_num_queries(25):
        assert client.get(url).status_code == 200


def test_overview_lists_campaigns_in_constant_queries(
    client, operator, ab_campaign, campaign_in_state, django_assert_max_num_queries
):
    campaign, (a, _) = ab_campaign
    add_messages(campaign, a, n=4, events={"replied": 1})
    for _ in range(3):
        campaign_in_state("active")
    client.force_login(operator)
    url = reverse("admin:reporting_campaigndashboard_changelist")
    client.get(url)
    with django_assert_max_num_queries(14) as captured:
        response = client.get(url)
    few = len(captured)
    assert response.status_code == 200 and campaign.name in response.content.decode()
    for _ in range(5):
        campaign_in_state("active")
    with django_assert_max_num_queries(few):
        client.get(url)


def test_metrics_csv_export(client, operator, ab_campaign):
    campaign, (a, _) = ab_campaign
    add_messages(campaign, a, n=10, events={"replied": 2})
    client.force_login(operator)
    response = client.get(reverse("admin:reporting_campaigndashboard_csv", args=[campaign.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["section", "metric", "value"]
    assert ["lifetime_outreach", "replied", "2"] in rows
    assert ["lifetime_outreach", "reply_rate", "0.2"] in rows


def test_client_users_cannot_open_dashboards(client, client_user, campaign_in_state):
    campaign = campaign_in_state("active", client=client_user.client)
    client.force_login(client_user)
    response = client.get(reverse("admin:reporting_campaigndashboard_change", args=[campaign.pk]))
    assert response.status_code in (302, 403)


def test_outcome_recorded_from_the_admin_wins_the_lead(client, operator, campaign_in_state):
    campaign = campaign_in_state("active")
    lead = add_leads(campaign, {"qualified": 1})[0]
    client.force_login(operator)
    response = client.post(
        reverse("admin:reporting_outcome_add"),
        {
            "lead": lead.pk,
            "deal_value": "900",
            "currency": "",
            "won_at_0": "",
            "won_at_1": "",
            "note": "signed",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    outcome = Outcome.objects.get()
    lead.refresh_from_db()
    assert lead.state == "won" and outcome.created_by == operator and outcome.campaign == campaign


def test_dashboard_renders_for_a_campaign_with_100k_leads_in_bounded_queries(
    client, operator, campaign_in_state, django_assert_max_num_queries
):
    from leads.models import Lead

    campaign = campaign_in_state("active", target_clients=50)
    states = ["new", "enriched", "contacted", "replied", "qualified", "lost"]
    for start in range(0, 100_000, 25_000):
        Lead.objects.bulk_create(
            Lead(
                campaign=campaign,
                email=f"big{i}@x{i % 997}.example",
                normalized_email=f"big{i}@x{i % 997}.example",
                email_domain=f"x{i % 997}.example",
                state=states[i % len(states)],
            )
            for i in range(start, start + 25_000)
        )
    client.force_login(operator)
    url = reverse("admin:reporting_campaigndashboard_change", args=[campaign.pk])
    client.get(url)  # warm caches
    with django_assert_max_num_queries(25):
        response = client.get(url)
    assert response.status_code == 200
    assert "100000" in response.content.decode().replace(",", "").replace("\u202f", "")
