"""Role x action matrix over every mutating endpoint of the OpenAPI schema.

The policy is the table in docs/SECURITY.md ("Roles and what each may do"): one row per action,
one column per role. These tests hold three things to it:

1. every POST/PUT/PATCH/DELETE operation of the generated schema declares its action
   (``write_actions`` on the view, read by ``campaigns.api_permissions.ActionPermission``), so a new
   endpoint without a permission decision fails here (and answers 403 until it has one);
2. the actions registered in code are the documented ones, and each rule decides as the table says;
3. for every operation and every role (client user of the campaign's own client, operator,
   approver, admin, superuser) the real endpoint answers as the table says: allowed means anything
   but 401/403/404 (a 400 or 409 on a minimal body is fine), refused means 403.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.urls import resolve
from rest_framework.test import APIClient

from campaigns.api_permissions import declared_write_action
from campaigns.models import Campaign
from campaigns.permissions import is_allowed, registered_actions
from creative.models import CreativeState, CreativeVariant
from leads.models import Lead, LeadState
from outreach.models import OperatorTask
from strategy.models import StrategyVariant, VariantState
from tests.api_fuzz.openapi import documented_operations, generated_schema, public_operations
from tests.api_fuzz.world import ClientWorld, build_client_world
from tests.conftest import FIXED_NOW
from tests.factories import StaffUserFactory, UserFactory, token_for
from webhooks.services import create_endpoint

ROLES = ("client", "operator", "approver", "admin", "superuser")
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md"


def documented_policy() -> dict[str, set[str]]:
    """action -> roles allowed, read from the table in docs/SECURITY.md's roles section."""
    text = SECURITY_MD.read_text(encoding="utf-8")
    section = text.split("## Roles and what each may do", 1)[1].split("\n## ", 1)[0]
    policy: dict[str, set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"^\|\s*`([a-z_]+\.[a-z_<>]+)`\s*\|(.*)\|\s*$", line)
        if not match:
            continue
        cells = [cell.strip().lower() for cell in match.group(2).split("|")]
        decisions = cells[-len(ROLES) :]
        assert len(decisions) == len(ROLES), line
        policy[match.group(1)] = {
            role for role, cell in zip(ROLES, decisions, strict=True) if cell.startswith(("yes", "own"))
        }
    return policy


POLICY = documented_policy()
SCHEMA = generated_schema()
# Public operations (the token endpoint) take no authentication, so no role: they are held to
# docs/SECURITY.md "Public endpoints" instead (tests/security/test_api_onboarding.py).
MUTATING_OPERATIONS = sorted(
    (m, p) for m, p in documented_operations(SCHEMA) - public_operations(SCHEMA) if m in MUTATING
)


# --- the world the requests act on --------------------------------------------------------------


@dataclass
class MatrixWorld:
    client: ClientWorld
    users: dict[str, object]
    targets: dict[str, int]


def _staff_in(role: str):
    user = UserFactory(username=f"matrix-{role}", is_staff=True, is_superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture(scope="module")
def matrix_world(django_db_setup, django_db_blocker):
    """One client's world (tests/api_fuzz/world.py) and a user per role; every test runs in its own
    savepoint, so what one request changes never reaches the next."""
    with django_db_blocker.unblock(), time_machine.travel(FIXED_NOW, tick=True), transaction.atomic():
        superuser = StaffUserFactory(username="matrix-superuser")
        world = build_client_world("azalea", superuser)
        users = {
            "client": world.user,
            "operator": _staff_in("operator"),
            "approver": _staff_in("approver"),
            "admin": _staff_in("admin"),
            "superuser": superuser,
        }
        active = world.campaigns["active"]
        targets = {
            "active": active.pk,
            "paused": world.campaigns["paused"].pk,
            "draft": world.campaigns["draft"].pk,
            "awaiting_approval": world.campaigns["awaiting_approval"].pk,
            "creative": CreativeVariant.objects.filter(campaign=active, state=CreativeState.APPROVED)
            .order_by("pk")
            .first()
            .pk,
            "strategy": StrategyVariant.objects.filter(
                campaign=world.campaigns["awaiting_approval"], state=VariantState.PROPOSED
            )
            .order_by("pk")
            .first()
            .pk,
            "task": OperatorTask.objects.filter(campaign=active, state="pending").order_by("pk").first().pk,
            "qualified_lead": Lead.objects.filter(campaign=active, state=LeadState.QUALIFIED)
            .order_by("pk")
            .first()
            .pk,
        }
        # Saved while loopback is allowed, refused at delivery (the setting is off in the requests):
        # a ping answers at once, without the network.
        with override_settings(AICMO_WEBHOOKS_ALLOW_PRIVATE=True):
            endpoint, _ = create_endpoint(
                client=world.client, url="https://127.0.0.1:9/matrix", event_types=["lead.won"]
            )
        targets["webhook_endpoint"] = endpoint.pk
        targets["client"] = world.client.pk
        yield MatrixWorld(client=world, users=users, targets=targets)
        transaction.set_rollback(True)


# --- what each operation is sent ----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    target: str  # which campaign (or object) fills the path's id
    action: str  # the action whose row decides (the declared one, or the step a body names)
    body: dict | None = None
    multipart: bool = False

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} [{self.action}]"


def _case_for(method: str, path: str) -> Case:
    """The request a role sends to an operation: a body that passes validation where cheap, on an
    object of the client's own campaign (one that allows client approval)."""
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    if path.startswith("/api/v1/creatives/"):
        target = "creative"
    elif path.startswith("/api/v1/strategies/"):
        target = "strategy"
    elif path.startswith("/api/v1/tasks/"):
        target = "task"
    elif path.startswith("/api/v1/webhooks/endpoints/{id}"):
        target = "webhook_endpoint"
    elif path.startswith("/api/v1/clients/{id}"):
        target = "client"
    elif tail == "resume":
        target = "paused"
    elif tail == "brief" or path.endswith("/strategies/generate/"):
        target = "draft"  # its strategy is still open
    else:
        target = "active"
    bodies = {
        "campaigns": {"name": "Matrix campaign"},
        "brief": {"objective": "x", "audience": "x", "offer": "x", "channels": ["email"]},
        "budget": {"budget_cap": "900.00", "rationale": "matrix"},
        "transition": {"transition": "pause", "reason": "matrix"},
        "kill": {"reason": "matrix"},
        "pause": {"reason": "matrix"},
        "resume": {"reason": "matrix"},
        "generate": {"variants": 2},
        "leads": {"leads": [{"email": "matrix-new@example.org"}]},
        "complete": {"proof_text": "done"},
        "skip": {"reason": "matrix"},
        "fail": {"reason": "matrix"},
        "metrics": {"impressions": 1},
        "reject": {"rationale": "matrix"},
        "request-changes": {"rationale": "matrix"},
        "edit": {"subject": "matrix"},
        "suppressions": {"email": "matrix@suppressed.example", "reason": "manual_dnc"},
        "select": {"rationale": "matrix"},
        "sender-identity": {"sender_from_name": "Matrix Sender"},
    }
    action = "campaign.pause" if tail == "transition" else ""
    return Case(
        method=method,
        path=path,
        target=target,
        action=action,
        body=bodies.get(tail),
        multipart=tail == "import",
    )


# Lifecycle steps through `transition`, each checked as its own action; and the one a client may
# take only where client approval is allowed.
EXTRA_CASES = [
    Case("POST", "/api/v1/campaigns/{id}/transition/", "draft", "campaign.start_planning",
         {"transition": "start_planning"}),
    Case("POST", "/api/v1/campaigns/{id}/transition/", "awaiting_approval", "campaign.return_to_planning",
         {"transition": "return_to_planning", "reason": "matrix"}),
    Case("POST", "/api/v1/campaigns/{id}/transition/", "awaiting_approval", "campaign.approve",
         {"transition": "approve"}),
    Case("POST", "/api/v1/campaigns/{id}/transition/", "active", "campaign.complete",
         {"transition": "complete"}),
    Case("POST", "/api/v1/campaigns/{id}/transition/", "paused", "campaign.resume",
         {"transition": "resume", "reason": "matrix"}),
]  # fmt: skip


def _view_and_action(method: str, url: str) -> tuple[type, str | None]:
    match = resolve(url)
    actions = getattr(match.func, "actions", None) or {}
    return match.func.cls, actions.get(method.lower())


def _declared_action(method: str, path: str) -> str | None:
    url = re.sub(r"\{[a-z_]+\}", "1", path)
    view_class, view_action = _view_and_action(method, url)
    return declared_write_action(view_class, method, view_action)


ALL_CASES = [_case_for(m, p) for m, p in MUTATING_OPERATIONS] + EXTRA_CASES


# --- 1 and 2: declarations and documentation ----------------------------------------------------


def test_the_schema_has_the_mutating_endpoints():
    assert len(MUTATING_OPERATIONS) >= 25  # the schema was read, not an empty one
    assert ("POST", "/api/v1/campaigns/{id}/budget/") in MUTATING_OPERATIONS


@pytest.mark.parametrize(
    ("method", "path"), MUTATING_OPERATIONS, ids=[f"{m} {p}" for m, p in MUTATING_OPERATIONS]
)
def test_every_mutating_operation_declares_a_documented_action(method, path):
    action = _declared_action(method, path)
    assert action is not None, (
        f"{method} {path} declares no permission decision: add it to the view's write_actions "
        "(an action of campaigns.permissions) and to the table in docs/SECURITY.md"
    )
    assert action in registered_actions(), f"{method} {path} declares unknown action {action!r}"
    assert action in POLICY, f"{action!r} ({method} {path}) has no row in docs/SECURITY.md"


@pytest.mark.django_db
def test_a_write_endpoint_without_a_decision_is_closed_to_everyone(operator):
    """A view that forgets write_actions answers 403 even to a superuser; reads stay open."""
    from rest_framework.response import Response
    from rest_framework.test import APIRequestFactory, force_authenticate
    from rest_framework.views import APIView

    class Undecided(APIView):
        def get(self, request):
            return Response({"ok": True})

        def post(self, request):
            return Response({"ok": True})

    factory = APIRequestFactory()
    write = factory.post("/undecided/", {}, format="json")
    force_authenticate(write, user=operator)
    assert operator.is_superuser and Undecided.as_view()(write).status_code == 403
    read = factory.get("/undecided/")
    force_authenticate(read, user=operator)
    assert Undecided.as_view()(read).status_code == 200


def test_documented_actions_are_the_registered_ones():
    assert len(POLICY) >= 25
    assert sorted(POLICY) == sorted(registered_actions())


@pytest.mark.django_db
def test_each_rule_decides_as_the_documentation_says(matrix_world):
    campaign = Campaign.objects.get(pk=matrix_world.targets["active"])
    assert campaign.allow_client_approval  # the client column's "if client approval" applies
    wrong = [
        f"{action}: {role} is {'allowed' if allowed else 'refused'}"
        for action, roles in POLICY.items()
        for role, user in matrix_world.users.items()
        if (allowed := is_allowed(user, action, campaign)) != (role in roles)
    ]
    assert wrong == []


# --- 3: the real endpoints ----------------------------------------------------------------------


def _url(case: Case, world: MatrixWorld) -> str:
    ident = world.targets[case.target]
    return case.path.replace("{id}", str(ident)).replace("{campaign_id}", str(ident))


def _send(case: Case, world: MatrixWorld, user) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    url = _url(case, world)
    if case.multipart:
        upload = SimpleUploadedFile("leads.csv", b"email\r\nmatrix-csv@example.org\r\n", "text/csv")
        return api.post(url, {"file": upload}, format="multipart").status_code
    body = dict(case.body or {})
    if case.path.endswith("/outcomes/"):
        body = {"lead": world.targets["qualified_lead"], "deal_value": "10.00"}
    if case.path == "/api/v1/campaigns/":
        body["client"] = world.client.client.pk  # staff must name it; a client user may name its own
    return getattr(api, case.method.lower())(url, body, format="json").status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_endpoint_answers_each_role_as_documented(matrix_world, db, case, role):
    action = case.action or _declared_action(case.method, case.path)
    allowed = role in POLICY[action]
    with time_machine.travel(FIXED_NOW, tick=True):
        status = _send(case, matrix_world, matrix_world.users[role])
    if allowed:
        assert status not in (401, 403, 404) and status < 500, f"{role} on {case.id}: {status}"
    else:
        assert status == 403, f"{role} on {case.id} should be refused (403), got {status}"
