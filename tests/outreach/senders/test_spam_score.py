"""SpamAssassin's local rules (``spamassassin -L``: no network tests) score every demo email as the
SMTP transport sends it — DKIM-signed, plain text, no product header — at most 0.5."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from tests.outreach.senders.mail_servers import (  # noqa: F401  (dkim_world: the fixture)
    auth_smtp_server,
    dkim_world,
    send_through_smtp,
)
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture, reused)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
    pytest.mark.skipif(
        not shutil.which("spamassassin") and not os.environ.get("AICMO_REQUIRE_SPAMASSASSIN"),
        reason="spamassassin is not installed (make test installs it)",
    ),
]
MAX_SCORE = 0.5


def spam_score(raw: bytes) -> tuple[float, str]:
    """(score, rules hit) from ``spamassassin -L -t``'s X-Spam-Status header."""
    result = subprocess.run(
        ["spamassassin", "-L", "-t"], input=raw, capture_output=True, timeout=120, check=True
    )
    head = result.stdout.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("ascii", "replace")
    status = re.search(r"^X-Spam-Status:.*(?:\n[ \t].*)*", head, re.MULTILINE)
    assert status, head
    score = float(re.search(r"score=(-?[0-9.]+)", status.group(0)).group(1))
    return score, " ".join(status.group(0).split())


def test_demo_emails_score_at_most_half_a_point(dkim_world, live_campaign):  # noqa: F811
    with auth_smtp_server() as (handler, controller):
        send_through_smtp(live_campaign, controller, leads=5)
    assert len(handler.received) == 5
    for received in handler.received:
        score, status = spam_score(received.raw)
        assert score <= MAX_SCORE, status
