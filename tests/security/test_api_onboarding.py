"""Issue 17 point 8: getting an API token without the admin's Tokens page.

The token endpoint (throttled, counted by the admin login's lockout), token management on the
admin's user page, malformed Authorization headers that say how to send a key, and `make run`
printing a working token of the demo client whose campaign has data, on the URLs AICMO_PORT and
AICMO_BIND say. docs/SECURITY.md "Public endpoints" and "Brute force" describe what this holds to.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from aicmo_site.throttling import FailOpenAddressScopedRateThrottle
from campaigns.demo_accounts import DEMO_PASSWORDS, local_base_url
from campaigns.models import AuditEvent
from tests.factories import CampaignFactory, ClientUserFactory, StaffUserFactory, token_for

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "/api/v1/auth/token/"
CAMPAIGNS = "/api/v1/campaigns/"
ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.20"
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's


def get_token(username: str, password: str, address: str = NEIGHBOUR, fmt: str = "json", **extra):
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format=fmt, REMOTE_ADDR=address, **extra
    )


def campaigns_with(key: str, address: str = NEIGHBOUR):
    return APIClient().get(CAMPAIGNS, HTTP_AUTHORIZATION=f"Token {key}", REMOTE_ADDR=address)


# --- the token endpoint ---------------------------------------------------------------------------


def test_a_client_user_gets_a_working_token_with_username_and_password():
    user = ClientUserFactory(username="acme-ops")
    campaign = CampaignFactory(client=user.client)

    answer = get_token("acme-ops", PASSWORD)

    assert answer.status_code == 200
    body = answer.json()
    assert body["authorization"] == f"Token {body['token']}"
    assert body == {**body, "username": "acme-ops", "client": user.client_id}
    listed = campaigns_with(body["token"])
    assert listed.status_code == 200
    assert [c["id"] for c in listed.json()["results"]] == [campaign.pk]
    # The same key again (a form post too), created once and audited once, never with the key.
    assert get_token("acme-ops", PASSWORD, fmt="multipart").json()["token"] == body["token"]
    events = AuditEvent.objects.filter(verb="api_token.created")
    assert events.count() == 1 and body["token"] not in str(events.get().metadata)
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [({"username": "acme-ops", "password": "wrong"}, "detail"), ({"username": "acme-ops"}, "password")],
)
def test_wrong_or_missing_credentials_are_a_400_without_a_token(data, field):
    ClientUserFactory(username="acme-ops")
    answer = APIClient().post(TOKEN_URL, data, format="json")
    assert answer.status_code == 400 and field in answer.json()
    assert not Token.objects.exists()


def test_an_inactive_user_gets_no_token():
    ClientUserFactory(username="gone", is_active=False)
    assert get_token("gone", PASSWORD).status_code == 400


def test_a_wrong_token_header_does_not_stand_in_the_way():
    ClientUserFactory(username="acme-ops")
    answer = get_token("acme-ops", PASSWORD, HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert answer.status_code == 200


def test_failures_count_in_the_login_lockout_and_a_locked_pair_is_a_json_429(settings):
    """The admin login's lockout (django-axes, per username + address) covers the endpoint."""
    settings.AXES_FAILURE_LIMIT = 5
    ClientUserFactory(username="acme-ops")

    answers = [get_token("acme-ops", "wrong", ATTACKER).status_code for _ in range(5)]
    assert answers == [400, 400, 400, 400, 429]  # the fifth failure locks, as in the admin
    locked = get_token("acme-ops", PASSWORD, ATTACKER)
    assert locked.status_code == 429 and locked["Content-Type"] == "application/json"
    assert locked.json()["detail"].startswith("Too many failed logins for this username")
    assert 0 < int(locked["Retry-After"]) <= settings.AXES_COOLOFF_TIME.total_seconds()
    # The admin login is locked for the same pair: it is one lockout.
    from django.test import Client

    admin = Client().post(
        "/admin/login/?next=/admin/", {"username": "acme-ops", "password": PASSWORD}, REMOTE_ADDR=ATTACKER
    )
    assert admin.status_code == 429
    # Another address is not locked out.
    assert get_token("acme-ops", PASSWORD, NEIGHBOUR).status_code == 200
    call_command("axes_reset", stdout=io.StringIO())
    assert get_token("acme-ops", PASSWORD, ATTACKER).status_code == 200


def test_a_success_resets_the_failures_of_its_username_and_address(settings):
    settings.AXES_FAILURE_LIMIT = 3
    ClientUserFactory(username="acme-ops")
    for _ in range(2):
        get_token("acme-ops", "wrong", ATTACKER)
    assert get_token("acme-ops", PASSWORD, ATTACKER).status_code == 200
    assert [get_token("acme-ops", "wrong", ATTACKER).status_code for _ in range(2)] == [400, 400]


def test_the_endpoint_is_throttled_per_address_and_a_forged_forwarded_for_does_not_escape(monkeypatch):
    monkeypatch.setattr(FailOpenAddressScopedRateThrottle, "THROTTLE_RATES", {"auth_token": "3/min"})
    ClientUserFactory(username="acme-ops")
    answers = [
        get_token("acme-ops", PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
        for n in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    assert get_token("acme-ops", PASSWORD, NEIGHBOUR).status_code == 200


def test_the_throttle_rate_is_a_setting(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_token"] == "10/min"


def test_published_demo_passwords_get_no_token_with_debug_off(settings):
    settings.DEBUG = False
    ClientUserFactory(username="acme-api", password=DEMO_PASSWORDS["acme-api"])
    assert get_token("acme-api", DEMO_PASSWORDS["acme-api"]).status_code == 400


# --- a key sent in another form says how to send it -----------------------------------------------


@pytest.mark.parametrize("header", ["{key}", "Bearer {key}"])
def test_a_key_without_its_keyword_is_a_401_that_says_how_to_send_it(header):
    key = token_for(ClientUserFactory())
    answer = APIClient().get(CAMPAIGNS, HTTP_AUTHORIZATION=header.format(key=key))
    assert answer.status_code == 401
    assert "Authorization: Token <key>" in answer.json()["detail"]
    assert answer["WWW-Authenticate"] == "Token"
    assert campaigns_with(key).status_code == 200


def test_other_schemes_are_left_alone():
    """A proxy's Basic login is not ours to refuse: no key, so the usual 401 (not authenticated)."""
    answer = APIClient().get(CAMPAIGNS, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert answer.status_code == 401
    assert "Token <key>" not in answer.json()["detail"]


# --- token management on the admin's user page ----------------------------------------------------


def user_page(user) -> str:
    return reverse("admin:campaigns_user_change", args=[user.pk])


def test_the_user_page_creates_rotates_and_revokes_a_token_showing_the_key_once(client):
    admin = StaffUserFactory()  # a superuser: may change users
    api_user = ClientUserFactory(username="acme-ops")
    client.force_login(admin)
    rotate = reverse("admin:campaigns_user_api_token_rotate", args=[api_user.pk])
    revoke = reverse("admin:campaigns_user_api_token_revoke", args=[api_user.pk])

    page = client.get(user_page(api_user)).content.decode()
    assert "No token" in page and f'formaction="{rotate}"' in page and "Create token" in page

    created = client.post(rotate)
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    first = Token.objects.get(user=api_user).key
    assert first in created.content.decode()
    assert campaigns_with(first).status_code == 200
    page = client.get(user_page(api_user)).content.decode()
    assert "Rotate token" in page and "Revoke token" in page and first not in page

    client.post(rotate)
    second = Token.objects.get(user=api_user).key
    assert second != first
    assert campaigns_with(first).status_code == 401 and campaigns_with(second).status_code == 200

    done = client.post(revoke, follow=True)
    assert "revoked" in done.content.decode()
    assert campaigns_with(second).status_code == 401
    verbs = list(AuditEvent.objects.filter(verb__startswith="api_token.").values_list("verb", flat=True))
    assert verbs == ["api_token.created", "api_token.rotated", "api_token.revoked"]
    assert client.get(rotate).status_code == 405  # never by a link


def test_staff_who_may_not_change_users_cannot_manage_tokens(client, admin_role_user):
    api_user = ClientUserFactory()
    client.force_login(admin_role_user)
    refused = client.post(reverse("admin:campaigns_user_api_token_rotate", args=[api_user.pk]))
    assert refused.status_code == 403
    assert not Token.objects.filter(user=api_user).exists()


# --- make run: a working token of the demo client with data, on the right URLs --------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"AICMO_PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"AICMO_BIND": "0.0.0.0", "AICMO_PORT": "9000"}, "http://localhost:9000"),
        ({"AICMO_BIND": "192.0.2.5"}, "http://192.0.2.5:8000"),
        ({"AICMO_BIND": "::1", "AICMO_PORT": "8001"}, "http://[::1]:8001"),
    ],
)
def test_printed_urls_follow_aicmo_port_and_bind(env, expected):
    assert local_base_url(env) == expected


def test_demo_access_prints_a_working_token_of_the_demo_client_with_the_campaign(settings, monkeypatch):
    from demo.scenario import ensure_people_and_client

    settings.DEBUG = True
    monkeypatch.setenv("AICMO_PORT", "8123")
    call_command("seed_demo", stdout=io.StringIO())  # Acme and its API user, campaigns still empty
    run = ensure_people_and_client()  # what `manage.py demo` makes first: Northwind and its API user
    demo_campaign = CampaignFactory(client=run.client, name="Demo: fleet managers #1")

    out = io.StringIO()
    call_command("demo_access", stdout=out)
    text = out.getvalue()

    assert "http://127.0.0.1:8123/admin/" in text and "localhost:8000" not in text
    first = re.search(r"API token: (\S+) .*\n.*Authorization: Token ([0-9a-f]{40})' (\S+)", text)
    assert first is not None, text
    username, key, url = first.groups()
    assert username == "northwind-api" and url == "http://127.0.0.1:8123/api/v1/campaigns/"
    listed = campaigns_with(key)
    assert listed.status_code == 200
    assert demo_campaign.pk in [c["id"] for c in listed.json()["results"]]


def test_make_run_prints_the_access_lines_last():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    run_recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "manage.py demo_access" in run_recipe
    assert "localhost:8000" not in makefile


def test_a_non_ascii_password_for_a_demo_username_is_a_400_not_a_500(settings):
    """Found by the API fuzzer: the demo-login check compared str with hmac.compare_digest, which
    raises on non-ASCII text (the admin login form had the same 500)."""
    settings.DEBUG = False
    ClientUserFactory(username="acme-api")
    assert get_token("acme-api", "pässwörd").status_code == 400
