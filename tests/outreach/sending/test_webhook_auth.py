"""Webhooks are closed by default: with DEBUG off a tracking or inbound post is refused (and stores
nothing) until anymail's shared secret and, for ESPs that sign, their signing key are configured —
on both URL forms, anymail's ``/anymail/<esp>/…`` and our batched ``/api/v1/webhooks/<esp>/tracking/``.
Starting like that is a ``check --deploy`` error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from anymail import urls as anymail_urls
from anymail.exceptions import AnymailInsecureWebhookWarning
from anymail.webhooks.base import AnymailBasicAuthMixin
from django.core.checks import Tags
from django.core.checks.registry import registry
from django.test import Client

from leads.models import Lead, LeadState, Suppression
from outreach.checks import check_webhook_authentication
from outreach.models import Enrollment, EnrollmentState, InboundReply, Message, MessageEvent
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.webhook_auth import BASIC_AUTH_ONLY, SIGNING_KEYS, missing_webhook_settings
from tests.outreach.sending.test_tracking import MAILGUN_KEY, mailgun_event, postmark
from tests.outreach.sending.test_tracking_batch import hard_bounce

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]
SECRET = "hooks:0a7d3c2b9e-webhook-pass"


@pytest.fixture
def sent(live_campaign, settings):
    """Three live emails sent; production-like settings: DEBUG off, no webhook secret, no keys."""
    settings.DEBUG = False
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}
    campaign, sequence = live_campaign(leads=3, follow_up=True)  # enrollments stay active
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    return campaign, list(Message.objects.order_by("id"))


def basic_auth(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def postmark_bounce(message) -> dict:
    return postmark(
        "Bounce",
        message,
        ID=11,
        Type="HardBounce",
        TypeCode=1,
        Email=message.to_email,
        BouncedAt="2026-03-02T10:05:00Z",
        Description="Unknown user",
        Details="550 5.1.1",
    )


def postmark_reply(message) -> dict:
    return {
        "FromFull": {"Email": message.to_email, "Name": "Lead"},
        "From": message.to_email,
        "ToFull": [{"Email": "campaigns@localhost", "Name": ""}],
        "Subject": f"Re: {message.subject}",
        "MessageID": "5f0c2e1a-auth-test",
        "TextBody": "Yes, let's talk.",
        "HtmlBody": "",
        "Date": "Mon, 2 Mar 2026 11:00:00 +0000",
        "Headers": [
            {"Name": "In-Reply-To", "Value": message.rfc_message_id},
            {"Name": "Message-ID", "Value": "<reply-auth-test@mail.example>"},
        ],
        "Attachments": [],
    }


# (URL, payload builder): every form an attacker found open — tracking on anymail's URL, tracking on
# our batched URL, inbound on anymail's URL.
FORMS = {
    "anymail tracking": ("/anymail/postmark/tracking/", postmark_bounce),
    "batched tracking": ("/api/v1/webhooks/sparkpost/tracking/", lambda m: [hard_bounce(m, "auth-1")]),
    "anymail inbound": ("/anymail/postmark/inbound/", postmark_reply),
}


def post(client, url, payload, **extra):
    return client.post(url, data=json.dumps(payload), content_type="application/json", **extra)


def assert_nothing_changed(messages):
    assert not MessageEvent.objects.exists()
    assert not Suppression.objects.exists()
    assert not InboundReply.objects.exists()
    assert set(Lead.objects.values_list("state", flat=True)) == {LeadState.CONTACTED}
    assert set(Enrollment.objects.values_list("state", flat=True)) == {EnrollmentState.ACTIVE}


@pytest.mark.parametrize("form", FORMS)
def test_without_a_secret_an_unauthenticated_post_is_refused_and_stores_nothing(client, sent, form):
    _, messages = sent
    url, payload = FORMS[form]
    response = post(client, url, payload(messages[0]))
    assert response.status_code == 403
    # even a post that brings credentials: there is nothing to check them against
    assert post(client, url, payload(messages[0]), **basic_auth("hooks:guess")).status_code == 403
    assert_nothing_changed(messages)


@pytest.mark.parametrize("form", FORMS)
def test_with_the_secret_only_an_authenticated_post_is_accepted(sent, settings, form):
    _, messages = sent
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    client = Client(enforce_csrf_checks=True)  # an ESP has no CSRF token: the guarded views stay exempt
    url, payload = FORMS[form]
    assert post(client, url, payload(messages[0])).status_code == 400  # no credentials
    assert post(client, url, payload(messages[0]), **basic_auth("hooks:guess")).status_code == 400
    assert_nothing_changed(messages)

    assert post(client, url, payload(messages[0]), **basic_auth(SECRET)).status_code == 200
    lead = Lead.objects.get(pk=messages[0].lead_id)
    if form == "anymail inbound":
        assert lead.state == LeadState.REPLIED and InboundReply.objects.count() == 1
    else:
        assert lead.state == LeadState.BOUNCED
        assert Suppression.objects.filter(value=messages[0].to_email, reason="hard_bounce").exists()


def test_a_rotated_secret_list_accepts_each_of_its_secrets(client, sent, settings):
    _, messages = sent
    settings.ANYMAIL = {"WEBHOOK_SECRET": ["hooks:old-pass", SECRET]}
    url, payload = FORMS["anymail tracking"]
    assert post(client, url, payload(messages[0]), **basic_auth("hooks:old-pass")).status_code == 200


MAILGUN_URLS = ["/anymail/mailgun/tracking/", "/api/v1/webhooks/mailgun/tracking/"]


@pytest.mark.parametrize("url", MAILGUN_URLS)
def test_a_signing_esp_needs_its_signing_key_and_a_forged_signature_is_refused(client, sent, settings, url):
    _, messages = sent
    bounce = mailgun_event(messages[0], "failed", severity="permanent", reason="bounce")
    # Secret set, no signing key: anymail alone would check the signature with the API key (or, for
    # some ESPs, not at all); we refuse until the webhook signing key itself is configured.
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_API_KEY": MAILGUN_KEY}
    assert post(client, url, bounce, **basic_auth(SECRET)).status_code == 403
    assert_nothing_changed(messages)

    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    forged = mailgun_event(messages[0], "complained")
    forged["signature"]["signature"] = hmac.new(b"guessed-key", b"x", hashlib.sha256).hexdigest()
    assert post(client, url, forged, **basic_auth(SECRET)).status_code == 400
    assert post(client, url, bounce).status_code == 400  # signed, but without the shared secret
    assert_nothing_changed(messages)

    assert post(client, url, bounce, **basic_auth(SECRET)).status_code == 200
    assert Lead.objects.get(pk=messages[0].lead_id).state == LeadState.BOUNCED


def test_with_debug_on_anymail_behaves_as_before_for_local_work(client, sent, settings):
    _, messages = sent
    settings.DEBUG = True
    url, payload = FORMS["anymail tracking"]
    with pytest.warns(AnymailInsecureWebhookWarning):
        assert post(client, url, payload(messages[0])).status_code == 200
    assert Lead.objects.get(pk=messages[0].lead_id).state == LeadState.BOUNCED


def test_url_validation_by_head_still_answers_before_keys_exist(client, sent):
    # Mandrill checks the URL with a HEAD before it shows the webhook key to copy into settings.
    assert client.head("/anymail/mandrill/").status_code == 200
    assert client.head("/api/v1/webhooks/mandrill/tracking/").status_code == 200


def test_every_anymail_webhook_has_an_authentication_rule():
    names = {p.name for p in anymail_urls.urlpatterns}
    assert names == set(SIGNING_KEYS) | BASIC_AUTH_ONLY, "a new anymail URL needs a rule in webhook_auth"
    for pattern in anymail_urls.urlpatterns:
        # anymail checks the shared secret itself once it is set
        assert issubclass(pattern.callback.view_class, AnymailBasicAuthMixin), pattern.name
    # a webhook without a rule is never treated as configured
    assert missing_webhook_settings("newesp_tracking_webhook")


# --- the deploy check -------------------------------------------------------------------------


def error_ids() -> list[str]:
    return [e.id for e in check_webhook_authentication()]


def test_deploy_check_is_registered_as_a_security_deploy_check():
    assert check_webhook_authentication in registry.get_checks(include_deployment_checks=True)
    assert check_webhook_authentication not in registry.get_checks(include_deployment_checks=False)
    assert Tags.security in check_webhook_authentication.tags


def test_deploy_check_errors_without_the_secret_or_the_signing_key(settings):
    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": ""}
    assert error_ids() == ["outreach.E001"]
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    assert error_ids() == []
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"  # basic auth only
    assert error_ids() == []
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"  # signs its webhooks
    assert error_ids() == ["outreach.E002"]
    assert "ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY" in check_webhook_authentication()[0].msg
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    assert error_ids() == []
    settings.DEBUG = True
    settings.ANYMAIL = {}
    assert error_ids() == []


def check_deploy(tmp_path, **env_vars) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "-production-secret-with-enough-entropy-4f9a8b7c6d5e",
        "ALLOWED_HOSTS": "campaigns.example.com",
        "AICMO_VAR_DIR": str(tmp_path),
        **env_vars,
    }
    for name in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "ANYMAIL_WEBHOOK_SECRET", "EMAIL_BACKEND"):
        if name not in env_vars:
            env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_fails_with_an_error_without_webhook_authentication(tmp_path):
    result = check_deploy(tmp_path)
    assert result.returncode != 0
    assert "ERROR" in result.stderr and "outreach.E001" in result.stderr
    # the ESP's signing key comes from the environment like its other keys
    result = check_deploy(
        tmp_path, ANYMAIL_WEBHOOK_SECRET=SECRET, EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend"
    )
    assert result.returncode != 0
    assert "outreach.E002" in result.stderr and "outreach.E001" not in result.stderr
    result = check_deploy(
        tmp_path,
        ANYMAIL_WEBHOOK_SECRET=SECRET,
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
        ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY=MAILGUN_KEY,
    )
    # the webhook checks pass (other outreach checks — https unsubscribe, secrets — are not this test's)
    reported = set(re.findall(r"outreach\.E\d+", result.stdout + result.stderr))
    assert not {"outreach.E001", "outreach.E002"} & reported
