"""The campaign API carries live metrics: the list for a whole page in one query, the detail in full."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CampaignFactory
from tests.reporting.conftest import add_leads

pytestmark = pytest.mark.django_db


def test_list_carries_live_metrics_with_the_legacy_field_names(api_as, client_user):
    campaign = CampaignFactory(client=client_user.client, target_clients=4)
    add_leads(campaign, {"new": 5, "contacted": 3, "qualified": 1, "won": 1})
    row = api_as(client_user).get("/api/v1/campaigns/").json()["results"][0]
    assert row["current_leads"] == 10 and row["qualified_leads"] == 2
    assert row["conversion_rate"] == pytest.approx(0.2) and row["goal_progress"] == pytest.approx(0.5)


def test_list_query_count_does_not_grow_with_the_page_size(api_as, operator):
    for n in range(12):
        add_leads(CampaignFactory(), {"new": n % 3 + 1, "qualified": n % 2})
    client = api_as(operator)
    client.get("/api/v1/campaigns/", {"page_size": 2})  # warm per-process caches
    counts = {}
    for size in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/api/v1/campaigns/", {"page_size": size}).json()
        assert len(body["results"]) == size
        counts[size] = len(queries.captured_queries)
    assert counts[2] == counts[12], counts


def test_detail_carries_the_metrics_block_and_todays_outreach(api_as, client_user):
    campaign = CampaignFactory(client=client_user.client, target_clients=2)
    add_leads(campaign, {"qualified": 1, "new": 1})
    body = api_as(client_user).get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert body["metrics"]["leads_total"] == 2 and body["metrics"]["qualified"] == 1
    assert set(body["today_outreach"]) >= {"sent", "reply_rate"}
    assert body["today_outreach"] == body["metrics"]["today_outreach"]
