"""The leak check the fuzzer relies on finds planted leaks, and only those (ids of different
tables overlap, so the caller's own ids must not trip it)."""

from __future__ import annotations

import json

from .leaks import foreign_references


def test_finds_the_other_clients_ids_urls_and_strings_and_ignores_own_ones(fuzz_worlds, db):
    a, b = fuzz_worlds.client_a, fuzz_worlds.client_b
    b_lead, b_campaign, b_task = b.first("lead"), b.first("campaign"), b.first("operator_task")

    def leaks(body: dict, path: str = "/api/v1/campaigns/{campaign_id}/leads/", method: str = "GET"):
        return foreign_references(text=json.dumps(body), method=method, path=path, other=b)

    own_lead = {"id": a.first("lead"), "campaign": a.first("campaign"), "email": "x@azalea.example"}
    assert leaks({"count": 1, "next": None, "previous": None, "results": [own_lead]}) == []

    assert leaks({"count": 1, "results": [{**own_lead, "id": b_lead}]})  # B's lead as a row
    assert leaks(
        {"results": [], "count": 0, "next": f"http://localhost/api/v1/campaigns/{b_campaign}/leads/"}
    )
    assert leaks({"id": a.first("operator_task"), "follow_ups": [b_task]}, path="/api/v1/tasks/{id}/")
    assert leaks({"note": "Begonia Logistics"})
    metrics = "/api/v1/campaigns/{campaign_id}/reports/metrics/"
    assert leaks({"campaign_id": b_campaign}, path=metrics)
    # The id of one of B's calendar items under a campaign key is not B's campaign.
    stray = next(i for i in sorted(b.ids["calendar_item"]) if i not in b.ids["campaign"])
    assert leaks({"campaign_id": stray}, path=metrics) == []
