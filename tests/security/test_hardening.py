"""Issue 15, points 7, 9 and 10: brute force, a cache outage, headers, demo accounts, bind address.

docs/SECURITY.md "Brute force, headers and demo accounts" describes what these tests hold to.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from campaigns.demo_accounts import DEMO_PASSWORDS
from campaigns.models import User
from tests.factories import ClientUserFactory, StaffUserFactory, UserFactory, token_for

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
API = "/api/v1/campaigns/"
ATTACKER, NEIGHBOUR = "203.0.113.7", "198.51.100.20"
BAD_TOKEN = "Token " + "0" * 40


def api_get(address: str, authorization: str, **extra):
    return APIClient().get(API, REMOTE_ADDR=address, HTTP_AUTHORIZATION=authorization, **extra)


@pytest.fixture
def auth_limits(settings):
    settings.AICMO_AUTH_FAILURE_LIMIT = 10
    settings.AICMO_AUTH_FAILURE_WINDOW_SECONDS = 300
    return settings


# --- point 7: failed token authentication is throttled per client address ----------------------


def test_eleventh_bad_token_from_one_address_is_refused_with_429_and_retry_after(auth_limits):
    good = f"Token {token_for(ClientUserFactory())}"

    answers = [api_get(ATTACKER, BAD_TOKEN).status_code for _ in range(10)]
    assert answers == [401] * 10
    blocked = api_get(ATTACKER, BAD_TOKEN)
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= 300
    assert "too many failed authentication attempts" in str(blocked.json()).lower()
    # While blocked even the right token is refused: a 200 among the 429s would tell a guesser it hit.
    assert api_get(ATTACKER, good).status_code == 429

    # Another address is unaffected: its bad token is a 401, its good token a 200.
    assert api_get(NEIGHBOUR, BAD_TOKEN).status_code == 401
    assert api_get(NEIGHBOUR, good).status_code == 200


def test_the_block_ends_with_its_window(auth_limits):
    good = f"Token {token_for(ClientUserFactory())}"
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC), tick=False) as clock:
        for _ in range(10):
            api_get(ATTACKER, BAD_TOKEN)
        assert api_get(ATTACKER, good).status_code == 429
        clock.shift(dt.timedelta(seconds=301))
        assert api_get(ATTACKER, good).status_code == 200


def test_a_forged_x_forwarded_for_does_not_escape_the_block(auth_limits):
    """Without trusted proxies the address is the TCP peer: rotating X-Forwarded-For changes nothing."""
    for n in range(10):
        api_get(ATTACKER, BAD_TOKEN, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert api_get(ATTACKER, BAD_TOKEN, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_appended(auth_limits):
    auth_limits.AICMO_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    for _ in range(10):  # the client forges a first hop; the proxy appends the real address
        api_get(proxy, BAD_TOKEN, HTTP_X_FORWARDED_FOR=f"1.2.3.4, {ATTACKER}")
    assert api_get(proxy, BAD_TOKEN, HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    # Another client behind the same proxy is not blocked.
    assert api_get(proxy, BAD_TOKEN, HTTP_X_FORWARDED_FOR=NEIGHBOUR).status_code == 401


# --- point 7: admin login lockout (django-axes) -------------------------------------------------


def admin_login(client, username: str, password: str, address: str = ATTACKER):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_admin_login_is_locked_after_the_failure_limit_even_with_the_right_password(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    StaffUserFactory(username="ops", password="right-pass-123")

    for _ in range(4):
        assert admin_login(client, "ops", "wrong").status_code == 200  # the form again, with an error
    assert admin_login(client, "ops", "wrong").status_code == 429  # the fifth failure locks

    locked = admin_login(client, "ops", "right-pass-123")
    assert locked.status_code == 429 and not logged_in(client)
    assert b"too many login attempts" in locked.content.lower()

    # The lock is for this username from this address (a neighbour's typos do not lock the account).
    assert admin_login(client, "ops", "right-pass-123", address=NEIGHBOUR).status_code == 302
    assert logged_in(client)


def test_axes_reset_unlocks(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    StaffUserFactory(username="ops", password="right-pass-123")
    for _ in range(3):
        admin_login(client, "ops", "wrong")
    assert admin_login(client, "ops", "right-pass-123").status_code == 429

    call_command("axes_reset", stdout=io.StringIO())

    assert admin_login(client, "ops", "right-pass-123").status_code == 302
    assert logged_in(client)


def test_the_test_clients_login_still_works_without_a_request(client):
    """axes needs the request to count by address; authenticate() without one is not refused."""
    UserFactory(username="plain", password="pass-word-123", is_staff=True)
    assert client.login(username="plain", password="pass-word-123")


# --- point 9: throttles fail open when the cache is down ----------------------------------------


@pytest.fixture
def dead_redis_cache(settings):
    """The cache points at a port nothing listens on: every cache call raises ConnectionError."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }
    return port


def test_api_answers_with_a_warning_while_the_cache_is_down(dead_redis_cache, caplog):
    user = ClientUserFactory()
    good = f"Token {token_for(user)}"
    caplog.set_level(logging.WARNING, logger="aicmo_site.throttling")

    assert api_get(NEIGHBOUR, good).status_code == 200
    assert api_get(NEIGHBOUR, BAD_TOKEN).status_code == 401  # the failure counter fails open too
    session = APIClient()
    session.force_authenticate(user)
    assert session.get(API).status_code == 200
    assert APIClient().get(API).status_code == 401  # anonymous: the anon throttle fails open
    warnings = [
        r for r in caplog.records if r.name == "aicmo_site.throttling" and r.levelno == logging.WARNING
    ]
    assert warnings and "fails open" in warnings[0].getMessage()


# --- point 10: Content-Security-Policy ----------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_admin_pages_carry_a_policy_without_inline_scripts(client):
    login_page = client.get("/admin/login/")
    policy = csp_directives(login_page)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no nonce where none is used
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]

    client.force_login(StaffUserFactory())
    changelist = client.get("/admin/campaigns/campaign/")
    assert changelist.status_code == 200
    assert csp_directives(changelist)["script-src"] == ["'self'"]
    # Every script on the page loads from our origin: nothing inline would be allowed to run.
    assert not re.search(rb"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", changelist.content)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_inline_scripts_carry_the_policys_nonce(client, path):
    response = client.get(path)
    assert response.status_code == 200
    script_src = csp_directives(response)["script-src"]
    assert "'unsafe-inline'" not in script_src
    inline = re.findall(rb"<script(?![^>]*\bsrc=)([^>]*)>", response.content)
    if path == "/api/docs/":
        assert inline  # Swagger UI's settings and start-up script
    nonces = [src[len("'nonce-") : -1] for src in script_src if src.startswith("'nonce-")]
    assert len(nonces) == (1 if inline else 0)
    assert all(f'nonce="{nonces[0]}"'.encode() in attrs for attrs in inline)
    assert b"fonts.googleapis.com" not in response.content  # no third-party requests from the docs


# --- point 10: HSTS -----------------------------------------------------------------------------


def production_env(tmp_path, **extra) -> dict[str, str]:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "-production-secret-with-enough-entropy-4f9a8b7c6d5e",
        "ALLOWED_HOSTS": "campaigns.example.com",
        "AICMO_VAR_DIR": str(tmp_path),
        **extra,
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_hsts_is_a_year_without_preload_unless_asked(tmp_path):
    code = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_PRELOAD)"
    assert manage(production_env(tmp_path), "shell", "-v", "0", "-c", code).stdout.split() == [
        "31536000",
        "False",
    ]
    opted_in = production_env(tmp_path, SECURE_HSTS_PRELOAD="1")
    assert manage(opted_in, "shell", "-v", "0", "-c", code).stdout.split() == ["31536000", "True"]


def test_check_deploy_refuses_preload_with_less_than_a_year(tmp_path):
    env = production_env(tmp_path, SECURE_HSTS_PRELOAD="1", SECURE_HSTS_SECONDS="2592000")
    result = manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "aicmo_site.E002" in result.stdout + result.stderr


# --- point 10: demo accounts --------------------------------------------------------------------


def test_demo_commands_refuse_to_run_with_debug_off(settings):
    settings.DEBUG = False
    for command in ("seed_demo", "demo"):
        with pytest.raises(CommandError, match="DEBUG is off"):
            call_command(command, stdout=io.StringIO())
    assert not User.objects.filter(username__in=DEMO_PASSWORDS).exists()


def test_seeded_demo_operator_is_an_operator_role_user_not_a_superuser(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    operator = User.objects.get(username="operator")
    assert operator.is_staff and not operator.is_superuser
    assert list(operator.groups.values_list("name", flat=True)) == ["operator"]


def demo_operator_with_published_password() -> User:
    return UserFactory(username="operator", password=DEMO_PASSWORDS["operator"], is_staff=True)


def test_demo_login_with_the_published_password_is_refused_with_debug_off(client, settings):
    demo_operator_with_published_password()

    settings.DEBUG = False
    assert admin_login(client, "operator", DEMO_PASSWORDS["operator"]).status_code == 200
    assert not logged_in(client)
    assert authenticate(username="operator", password=DEMO_PASSWORDS["operator"]) is None

    settings.DEBUG = True  # a developer's machine: the demo login works
    assert admin_login(client, "operator", DEMO_PASSWORDS["operator"]).status_code == 302
    assert logged_in(client)


def test_a_demo_username_with_a_real_password_still_logs_in_with_debug_off(client, settings):
    UserFactory(username="approver", password="a-private-password-123", is_staff=True)
    settings.DEBUG = False
    assert admin_login(client, "approver", "a-private-password-123").status_code == 302


def hardening_errors():
    return [m for m in run_checks(include_deployment_checks=True) if m.id and m.id.startswith("aicmo_site.")]


def test_check_deploy_lists_demo_accounts_whose_published_password_works(settings):
    operator = demo_operator_with_published_password()
    UserFactory(username="northwind-api", password=DEMO_PASSWORDS["northwind-api"])
    settings.DEBUG = False

    errors = hardening_errors()
    assert [e.id for e in errors] == ["aicmo_site.E001"]
    assert "northwind-api, operator" in errors[0].msg

    operator.set_password("a-private-password-123")
    operator.save()
    assert "operator" not in hardening_errors()[0].msg
    User.objects.filter(username="northwind-api").delete()
    assert hardening_errors() == []

    operator.set_password(DEMO_PASSWORDS["operator"])
    operator.save()
    assert [e.id for e in hardening_errors()] == ["aicmo_site.E001"]
    settings.DEBUG = True  # a developer's machine: demo accounts are expected
    assert hardening_errors() == []


# --- point 10: bind address ---------------------------------------------------------------------


def web_command(**env) -> str:
    procfile = (ROOT / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:")).removeprefix("web:")
    clean = {k: v for k, v in os.environ.items() if k not in ("AICMO_BIND", "AICMO_PORT")}
    result = subprocess.run(["sh", "-c", f"echo {web}"], env={**clean, **env}, capture_output=True, text=True)
    return result.stdout.strip()


def test_make_run_serves_on_localhost_unless_told_otherwise():
    assert web_command().endswith("runserver 127.0.0.1:8000")
    assert web_command(AICMO_BIND="0.0.0.0", AICMO_PORT="9000").endswith("runserver 0.0.0.0:9000")
