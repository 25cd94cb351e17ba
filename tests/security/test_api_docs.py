"""Issue 17 point 8: Swagger that onboards (token first with a how-to, tags per resource,
summaries, staff-only operations marked, 401/403 documented), a VIEW SITE link that goes
somewhere, and a favicon. The schema's shape comes from one place: aicmo_site/openapi.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import resolve

from campaigns.api_permissions import declared_write_action
from campaigns.permissions import CLIENTS_NEVER, action_rule
from tests.api_fuzz.openapi import HTTP_METHODS, generated_schema, public_operations
from tests.factories import StaffUserFactory

SCHEMA = generated_schema()
SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in HTTP_METHODS
]


def _declared(method: str, path: str) -> str | None:
    match = resolve(re.sub(r"\{[a-z_]+\}", "1", path))
    view_action = (getattr(match.func, "actions", None) or {}).get(method.lower())
    return declared_write_action(match.func.cls, method, view_action)


def test_token_auth_comes_first_and_says_how_to_send_and_get_a_key():
    schemes = SCHEMA["components"]["securitySchemes"]
    assert next(iter(schemes)) == "tokenAuth"
    token = schemes["tokenAuth"]
    assert token["in"] == "header" and token["name"] == "Authorization"
    assert "`Authorization: Token <key>`" in token["description"]
    assert "/api/v1/auth/token/" in token["description"]
    assert "401" in token["description"]  # the bare key does not work, and says so
    description = SCHEMA["info"]["description"]
    assert "**401**" in description and "**403**" in description and "/api/v1/auth/token/" in description


def test_operations_are_tagged_per_resource():
    tags = {op["tags"][0] for _, _, op in OPERATIONS}
    assert {"auth", "campaigns", "strategies", "creatives", "leads", "outreach", "reports"} <= tags
    assert "v1" not in tags
    assert [t["name"] for t in SCHEMA["tags"]][:3] == ["auth", "campaigns", "strategies"]
    by_path = {(m, p): op["tags"] for m, p, op in OPERATIONS}
    assert by_path[("GET", "/api/v1/campaigns/{campaign_id}/leads/")] == ["leads"]
    assert by_path[("POST", "/api/v1/campaigns/{id}/pause/")] == ["campaigns"]
    assert by_path[("PUT", "/api/v1/campaigns/{campaign_id}/brief/")] == ["strategies"]
    # no tag holds most of the API
    assert max(sum(op["tags"] == [t] for _, _, op in OPERATIONS) for t in tags) < len(OPERATIONS) / 3


def test_every_operation_has_a_short_summary():
    missing = [f"{m} {p}" for m, p, op in OPERATIONS if not op.get("summary")]
    assert missing == []
    too_long = [op["summary"] for _, _, op in OPERATIONS if len(op["summary"]) > 90]
    assert too_long == []
    summaries = {(m, p): op["summary"] for m, p, op in OPERATIONS}
    assert summaries[("GET", "/api/v1/campaigns/")] == "List campaigns"
    assert summaries[("POST", "/api/v1/campaigns/")] == "Create a campaign"
    assert summaries[("GET", "/api/v1/campaigns/{id}/")] == "Get a campaign"
    assert summaries[("POST", "/api/v1/campaigns/{id}/pause/")] == "Pause an active campaign"
    assert summaries[("POST", "/api/v1/auth/token/")] == "Get an API token"


def test_exactly_the_operations_clients_may_never_call_are_marked_staff_only():
    for method, path, operation in OPERATIONS:
        action = (
            None
            if method == "GET" or (method, path) in public_operations(SCHEMA)
            else _declared(method, path)
        )
        staff_only = action is not None and action_rule(action).clients == CLIENTS_NEVER
        where = f"{method} {path}"
        assert operation["summary"].endswith("(staff only)") == staff_only, where
        if staff_only:
            rule = action_rule(action)
            assert "**Staff only**" in operation["description"], where
            assert f"'{rule.staff_permission}' permission (role: " in operation["description"], where
        elif action is not None:
            assert "**Who**" in operation["description"], where
    marked = [p for m, p, op in OPERATIONS if op["summary"].endswith("(staff only)")]
    assert "/api/v1/campaigns/{id}/budget/" in marked and "/api/v1/campaigns/{id}/pause/" not in marked


def test_401_is_documented_everywhere_but_the_token_endpoint_and_403_on_every_write():
    public = public_operations(SCHEMA)
    for method, path, operation in OPERATIONS:
        codes = set(operation["responses"])
        if (method, path) in public:
            assert "401" not in codes and "429" in codes
            continue
        assert "401" in codes, f"{method} {path}"
        if method != "GET":
            assert "403" in codes, f"{method} {path}"
    push = SCHEMA["paths"]["/api/v1/campaigns/{campaign_id}/leads/"]["post"]["responses"]
    assert "the role that has it" in push["403"]["description"]  # where the view documents none
    assert "Token <key>" in push["401"]["description"]


def test_public_operations_are_exactly_the_documented_ones():
    section = (
        SECURITY_MD.read_text(encoding="utf-8").split("### Public endpoints", 1)[1].split("\n### ", 1)[0]
    )
    documented = set(re.findall(r"^\|\s*`(GET|POST|PUT|PATCH|DELETE) (/[^`]+)`", section, flags=re.M))
    assert documented == public_operations(SCHEMA) == {("POST", "/api/v1/auth/token/")}


def test_the_swagger_page_serves_the_schema_with_the_how_to(client):
    assert client.get("/api/docs/").status_code == 200
    served = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert next(iter(served["components"]["securitySchemes"])) == "tokenAuth"


# --- VIEW SITE and the favicon ------------------------------------------------------------------


@pytest.mark.django_db
def test_view_site_opens_the_api_docs_and_the_root_opens_the_admin(client):
    client.force_login(StaffUserFactory())
    index = client.get("/admin/").content.decode()
    assert 'href="/api/docs/"' in index
    root = client.get("/")
    assert root.status_code == 302 and root["Location"] == "/admin/"


@pytest.mark.django_db
def test_there_is_a_favicon_every_page_can_load(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")
    login = client.get("/admin/login/")
    link = re.search(rb'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', login.content)
    assert link is not None
    assert link.group(1) == b"/static/aicmo/favicon.svg" and finders.find("aicmo/favicon.svg")
    # the policy lets the page load it (img-src 'self')
    img_src = re.search(r"img-src ([^;]+)", login["Content-Security-Policy"]).group(1)
    assert "'self'" in img_src.split()
