from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from campaigns.models import AuditEvent, Campaign, CampaignState, Client, User

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_campaign_pause_resume_kill(campaign_in_state):
    campaign = campaign_in_state(CampaignState.ACTIVE)
    assert "is now paused" in run("campaign", "pause", str(campaign.pk), "--reason", "ops check")
    assert "is now active" in run("campaign", "resume", str(campaign.pk))
    assert "is now cancelled" in run("campaign", "kill", str(campaign.pk), "--reason", "client churned")
    verbs = list(
        AuditEvent.objects.filter(campaign=campaign).values_list("verb", "actor_label").order_by("id")
    )
    assert verbs[-3:] == [
        ("campaign.paused", "system"),
        ("campaign.resumed", "system"),
        ("campaign.killed", "system"),
    ]


def test_campaign_command_errors_are_clear(campaign_in_state):
    campaign = campaign_in_state(CampaignState.COMPLETED)
    with pytest.raises(CommandError, match="it is completed"):
        run("campaign", "resume", str(campaign.pk))
    with pytest.raises(CommandError, match="Campaign 999999 does not exist"):
        run("campaign", "pause", "999999")
    with pytest.raises(CommandError, match="rationale is required"):
        run("campaign", "kill", str(campaign_in_state(CampaignState.ACTIVE).pk))


def test_create_client_prints_id():
    output = run("create_client", "Globex")
    assert Client.objects.get(pk=int(output)).name == "Globex"
    with pytest.raises(CommandError, match="already exists"):
        run("create_client", "globex")


def test_create_api_user_prints_the_same_token_twice():
    client = Client.objects.create(name="Initech", slug="initech")
    token = run("create_api_user", "--client", "Initech", "--username", "initech-api")
    assert run("create_api_user", "--client", str(client.pk), "--username", "initech-api") == token
    user = User.objects.get(username="initech-api")
    assert user.client == client and not user.is_staff
    assert Token.objects.get(user=user).key == token
    with pytest.raises(CommandError, match="No client with id or name"):
        run("create_api_user", "--client", "Nobody", "--username", "x")


def test_seed_demo_is_idempotent(settings):
    settings.DEBUG = True  # demo accounts exist only on a developer's machine (tests/security)
    run("seed_demo")
    counts = (Client.objects.count(), User.objects.count(), Campaign.objects.count())
    output = run("seed_demo")
    assert (Client.objects.count(), User.objects.count(), Campaign.objects.count()) == counts
    assert counts[2] >= 2
    assert "operator" in output and "demo_access" in output  # which prints the token (test_api_onboarding)


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "-production-secret-with-enough-entropy-4f9a8b7c6d5e",
        "ALLOWED_HOSTS": "campaigns.example.com",
        "AICMO_VAR_DIR": str(tmp_path),
        # without it: outreach.E001 (tests/outreach/sending/test_webhook_auth.py)
        "ANYMAIL_WEBHOOK_SECRET": "hooks:production-webhook-secret-7c1e",
        # without it: outreach.E010 (mailbox secrets; tests/senders/test_mailbox_secrets.py)
        "AICMO_SECRET_KEYS": "ln76ovoHMY1fXOmaI7xZxVpOLROtyjwr1qHX6Ul4DSQ=",
        # without it: outreach.E003 (unsubscribe links must be https; tests/outreach/senders/)
        "PUBLIC_BASE_URL": "https://campaigns.example.com",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_missing_secret(tmp_path):
    env = {**os.environ, "DEBUG": "0", "AICMO_VAR_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
