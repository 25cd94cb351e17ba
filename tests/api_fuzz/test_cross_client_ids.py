"""The other client's real ids, in every path of the schema and in the id filters and id fields
of bodies: always a 404 (or a refusal), never the object. The fuzzer draws random ids too; these
cases name every endpoint and every one of client B's objects explicitly."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from leads.models import Suppression

from .leaks import foreign_references
from .openapi import documented_operations, generated_schema
from .world import ClientWorld

SCHEMA = generated_schema()
WITH_PATH_IDS = sorted((method, path) for method, path in documented_operations(SCHEMA) if "{" in path)

# A body each write endpoint would accept for the caller's own object, so that a 404 is the
# scoping at work and not a validation error in disguise.
PLAUSIBLE_BODIES = {
    "brief": {"objective": "x", "audience": "x", "offer": "x", "channels": ["email"]},
    "budget": {"budget_cap": "100.00", "rationale": "x"},
    "transition": {"transition": "pause", "reason": "x"},
    "kill": {"reason": "x"},
    "generate": {"variants": 1},
    "leads": {"leads": [{"email": "new@example.org"}]},
    "outcomes": {"lead": 1, "deal_value": "10.00"},
    "complete": {"proof_text": "done"},
    "skip": {"reason": "x"},
    "fail": {"reason": "x"},
    "metrics": {"impressions": 1},
    "reject": {"rationale": "x"},
    "request-changes": {"rationale": "x"},
    "edit": {"subject": "x"},
}


def _last_segment(path: str) -> str:
    return [s for s in path.strip("/").split("/") if not s.startswith("{")][-1]


def _other_clients_path_ids(path: str, other: ClientWorld) -> list[dict[str, int]]:
    """Path parameters naming `other`'s objects: every campaign (one per state) for campaign
    paths, every object of the table for the others."""
    if path.startswith("/api/v1/campaigns/{campaign_id}/leads/{id}/"):
        return [
            {"campaign_id": other.campaigns["active"].pk, "id": lead} for lead in sorted(other.ids["lead"])
        ]
    if "{campaign_id}" in path:
        return [{"campaign_id": c.pk} for c in other.campaigns.values()]
    table = {
        "campaigns": "campaign",
        "clients": "client",
        "creatives": "creative",
        "strategies": "strategy_variant",
        "tasks": "operator_task",
        "webhooks": "webhook_endpoint",
    }[path.split("/")[3]]
    return [{"id": ident} for ident in sorted(other.ids[table])]


def _request(api, method: str, url: str, body: dict | None):
    if method == "GET":
        return api.get(url)
    return getattr(api, method.lower())(url, body or {}, format="json")


@pytest.mark.parametrize(("method", "path"), WITH_PATH_IDS, ids=[f"{m} {p}" for m, p in WITH_PATH_IDS])
@pytest.mark.parametrize("direction", ["a_asks_for_b", "b_asks_for_a"])
def test_other_clients_ids_in_the_path_are_404(fuzz_worlds, api_as, db, method, path, direction):
    caller, other = (
        (fuzz_worlds.client_a, fuzz_worlds.client_b)
        if direction == "a_asks_for_b"
        else (fuzz_worlds.client_b, fuzz_worlds.client_a)
    )
    api = api_as(caller.user)
    body = PLAUSIBLE_BODIES.get(_last_segment(path))
    for params in _other_clients_path_ids(path, other):
        url = path.format(**params)
        response = _request(api, method, url, body)
        assert response.status_code == 404, f"{method} {url} as {caller.marker}: {response.status_code}"
        assert not foreign_references(text=response.content.decode(), method=method, path=path, other=other)


def test_own_campaign_with_the_other_clients_lead_is_404(fuzz_worlds, api_as, db):
    a, b = fuzz_worlds.client_a, fuzz_worlds.client_b
    api = api_as(a.user)
    for lead in sorted(b.ids["lead"]):
        url = f"/api/v1/campaigns/{a.campaigns['active'].pk}/leads/{lead}/"
        assert api.get(url).status_code == 404, url


def test_other_clients_ids_in_filters_and_bodies_are_refused(fuzz_worlds, api_as, db):
    a, b = fuzz_worlds.client_a, fuzz_worlds.client_b
    api = api_as(a.user)
    b_campaign = b.campaigns["active"].pk

    # Filters: nothing of B's comes back.
    listed = api.get("/api/v1/strategies/", {"campaign": b_campaign})
    assert listed.status_code == 200 and listed.json()["results"] == []
    creative = a.first("creative")
    for lead in sorted(b.ids["lead"]):
        assert api.get(f"/api/v1/creatives/{creative}/preview/", {"lead": lead}).status_code == 404

    # Bodies naming B's objects: refused, and nothing is written for B.
    variant = sorted(a.ids["strategy_variant"])[0]
    guarded = api.post(f"/api/v1/strategies/{variant}/select/", {"campaign": b_campaign}, format="json")
    assert guarded.status_code == 404
    created = api.post(
        "/api/v1/campaigns/", {"name": "x", "objective": "x", "client": b.client.pk}, format="json"
    )
    assert created.status_code == 403
    suppressed = api.post(
        "/api/v1/suppressions/",
        {"email": "x@example.org", "reason": "manual_dnc", "client": b.client.pk},
        format="json",
    )
    assert suppressed.status_code == 400
    assert Campaign.objects.filter(client=b.client).count() == len(b.ids["campaign"])
    assert Suppression.objects.filter(client=b.client).count() == len(b.ids["suppression"])


@pytest.mark.parametrize("path", sorted(SCHEMA["paths"]))
def test_options_on_every_path_is_not_a_server_error(fuzz_worlds, api_as, db, path):
    """Regression: OPTIONS on /campaigns/{id}/brief/ answered 500 (DRF's metadata called
    get_object() on a view without a queryset). Every path, with the caller's own ids."""
    a = fuzz_worlds.client_a
    params = {"campaign_id": a.campaigns["active"].pk}
    if "{id}" in path:
        params["id"] = {
            "campaigns": a.campaigns["active"].pk,
            "clients": a.client.pk,
            "creatives": a.first("creative"),
            "strategies": a.first("strategy_variant"),
            "tasks": a.first("operator_task"),
            "leads": a.first("lead"),
            "endpoints": a.first("webhook_endpoint"),
        }[path.split("/")[-3] if path.endswith("{id}/") else path.split("/")[-4]]
    response = api_as(a.user).options(path.format(**params))
    assert response.status_code == 200, (path, response.status_code)
