"""Issue 15, point 10 (unsubscribe links): tokens are opaque (an enrollment id and a signature, no
address), links already sent in the old format keep working, and ``SECRET_KEY`` can be rotated
without breaking sent links (``SECRET_KEY_FALLBACKS``, read from the environment)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.core import mail, signing

from leads.models import Suppression
from leads.services import forget_person
from outreach.models import Enrollment, EnrollmentState, Message
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from tests.outreach.sending.conftest import live_campaign  # noqa: F401 (a fixture used below)

ROOT = Path(__file__).resolve().parents[2]
OLD_KEY = "retired-signing-key-0f3c9e8a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e"
NEW_KEY = "current-signing-key-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"


def legacy_token(*, enrollment_id: int, email: str) -> str:
    """A link as sent before this change: the address in a signed, readable payload."""
    return signing.dumps({"n": enrollment_id, "e": email}, salt="aicmo.outreach.unsubscribe", compress=True)


def readable_payloads(token: str) -> list[bytes]:
    """Everything a reader of the link gets by decoding its parts (base64, then zlib if compressed)."""
    found = [token.encode()]
    for part in token.split(":"):
        compressed = part.startswith(".")
        try:
            raw = base64.urlsafe_b64decode(part.lstrip(".") + "=" * (-len(part.lstrip(".")) % 4))
        except (binascii.Error, ValueError):
            continue
        found.append(raw)
        if compressed:
            with contextlib.suppress(zlib.error):
                found.append(zlib.decompress(raw))
    return found


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[1]


@pytest.fixture
def sent_email(live_campaign):  # noqa: F811 (the imported fixture)
    campaign, sequence = live_campaign(leads=1, follow_up=True)  # the sequence goes on after the send
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    message = Message.objects.select_related("lead", "campaign").get()
    assert len(mail.outbox) == 1
    return message


def test_a_sent_link_names_no_address_in_any_readable_form(sent_email):
    address = sent_email.to_email.encode()
    sent = mail.outbox[0]
    header = sent.extra_headers["List-Unsubscribe"]
    url = sent_email.unsubscribe_url
    assert f"<{url}>" in header and url in sent.body
    token = path_of(url).removeprefix("/u/").rstrip("/")
    assert len(token) <= 64  # an id and a signature: short enough for any URL
    assert token.split(":")[0] == str(sent_email.enrollment_id)
    for payload in readable_payloads(token):
        assert address not in payload.lower() and b"company0" not in payload.lower(), payload


def test_the_link_unsubscribes_the_address_it_was_sent_to(client, sent_email):
    path = path_of(sent_email.unsubscribe_url)
    page = client.get(path)
    assert page.status_code == 200 and b"Stop all emails" in page.content
    # The page shows the address masked: anyone holding the link (a forward, a scanner) may open it.
    assert sent_email.to_email.encode() not in page.content and "l…@company0.example" in page.content.decode()
    done = client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    entry = Suppression.objects.get(reason="unsubscribed")
    assert (entry.value, entry.client_id) == (sent_email.lead.normalized_email, sent_email.campaign.client_id)
    assert Enrollment.objects.get().state == EnrollmentState.STOPPED


def test_a_token_whose_id_was_changed_is_refused(client, sent_email):
    token = path_of(sent_email.unsubscribe_url).removeprefix("/u/").rstrip("/")
    _, signature = token.split(":")
    assert client.post(f"/u/{sent_email.enrollment_id + 1}:{signature}/").status_code == 400
    other_purpose = signing.Signer(salt="another.purpose").sign(str(sent_email.enrollment_id))
    assert client.post(f"/u/{other_purpose}/").status_code == 400
    assert not Suppression.objects.exists()


def test_links_sent_in_the_old_format_still_work(client, sent_email):
    path = f"/u/{legacy_token(enrollment_id=sent_email.enrollment_id, email=sent_email.to_email)}/"
    assert client.get(path).status_code == 200
    done = client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert done.status_code == 200 and b"You are unsubscribed" in done.content
    assert Suppression.objects.filter(
        value=sent_email.lead.normalized_email, client=sent_email.campaign.client, reason="unsubscribed"
    ).exists()
    assert Enrollment.objects.get().state == EnrollmentState.STOPPED
    damaged = legacy_token(enrollment_id=sent_email.enrollment_id, email=sent_email.to_email)[:-2] + "xx"
    assert client.post(f"/u/{damaged}/").status_code == 400


def test_an_old_link_of_an_erased_person_does_not_bring_the_address_back(client, sent_email, operator):
    token = legacy_token(enrollment_id=sent_email.enrollment_id, email=sent_email.to_email)
    forget_person(email=sent_email.to_email, actor=operator, rationale="erasure request")
    response = client.post(f"/u/{token}/")
    assert response.status_code == 200 and sent_email.to_email.encode() not in response.content
    assert not Suppression.objects.filter(value=sent_email.lead.normalized_email).exists()


@pytest.mark.parametrize("fmt", ["current", "legacy"])
def test_a_link_signed_with_a_retired_key_works_while_the_key_is_a_fallback(
    client,
    live_campaign,  # noqa: F811 (the imported fixture)
    settings,
    fmt,
):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    campaign, sequence = live_campaign(leads=1)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)  # the link is signed now, with the old key
    message = Message.objects.get()
    path = (
        path_of(message.unsubscribe_url)
        if fmt == "current"
        else f"/u/{legacy_token(enrollment_id=message.enrollment_id, email=message.to_email)}/"
    )
    assert client.get(path).status_code == 200

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]  # rotated, old key kept
    assert client.get(path).status_code == 200

    settings.SECRET_KEY_FALLBACKS = []  # the old key dropped: its links stop working
    refused = client.post(path)
    assert refused.status_code == 400 and b"not valid" in refused.content
    assert not Suppression.objects.exists()

    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    assert client.post(path).status_code == 200
    assert Suppression.objects.filter(value=message.lead.normalized_email, reason="unsubscribed").exists()


def test_secret_key_fallbacks_are_read_from_the_environment(tmp_path):
    env = {
        **os.environ,
        "SECRET_KEY": NEW_KEY,
        "SECRET_KEY_FALLBACKS": f" {OLD_KEY} , second-retired-key ,",
        "AICMO_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str([OLD_KEY, "second-retired-key"])
