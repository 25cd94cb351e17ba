"""SpamAssassin's local score of an email creative, as the outgoing message would look.

When ``spamassassin`` is installed, the variant is rendered for a sample reader into a MIME message
shaped like the one the send path builds (text part, HTML part if any, From/To/Subject/Date/
Message-ID, List-Unsubscribe) and scored with ``spamassassin -L`` (local rules only: no network
look-ups, so the score is the copy's, not the sending domain's reputation). The finding shows the
score and the rules that fired; above ``CheckSettings.spam_score_max`` (``AICMO_SPAM_SCORE_MAX``)
it blocks approval like the other errors. Without spamassassin the check passes with a note.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache

from django.utils import timezone

from ..personalization import render_merge_fields
from .base import ERROR, INFO, CheckSettings, CreativeContent, Finding, register_check

# Bounds on the subprocess: a creative is at most a few kilobytes, so 256 KiB is generous; the
# first run of spamassassin compiles its rules and can take a few seconds on a busy host.
MAX_MESSAGE_BYTES = 256 * 1024
TIMEOUT_SECONDS = 60
SAMPLE_CONTEXT = {
    "first_name": "Alex",
    "last_name": "Sample",
    "full_name": "Alex Sample",
    "email": "alex.sample@example.org",
    "company": "Example Co",
    "title": "Head of Growth",
    "industry": "Software",
    "city": "Springfield",
    "country": "US",
    "sender_name": "Jordan Lee",
    "sender_company": "Example Agency",
    "sender_address": "100 Main Street, Springfield, IL 62701, USA",
    "unsubscribe_url": "https://mail.example.com/u/sample-token/",
}
SENDER = ("Jordan Lee", "jordan@mail.example.com")
STATUS_SCORE = re.compile(r"^X-Spam-Status:.*?score=(-?[0-9.]+)", re.MULTILINE)
RULE_ROW = re.compile(r"^\s*(-?[0-9]+\.[0-9]+)\s+([A-Z0-9_]+)\s", re.MULTILINE)
NOT_INSTALLED = "spamassassin not installed: not scored."


def outgoing_message(content: CreativeContent) -> bytes:
    """The creative as the send path would put it on the wire, for a sample reader."""
    subject = render_merge_fields(content.subject, SAMPLE_CONTEXT).text
    body = render_merge_fields(content.body, SAMPLE_CONTEXT).text
    message = EmailMessage()
    message["From"] = f'"{SENDER[0]}" <{SENDER[1]}>'
    message["To"] = f'"{SAMPLE_CONTEXT["full_name"]}" <{SAMPLE_CONTEXT["email"]}>'
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=SENDER[1].split("@", 1)[1])
    message["List-Unsubscribe"] = f"<{SAMPLE_CONTEXT['unsubscribe_url']}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    if content.body_html.strip():
        html = render_merge_fields(content.body_html, SAMPLE_CONTEXT, escape_html=True).text
        message.add_alternative(html, subtype="html")
    return bytes(message)


@lru_cache(maxsize=128)
def spamassassin_report(raw: bytes) -> tuple[float, tuple[tuple[str, float], ...]]:
    """(score, ((rule, points), …)) from ``spamassassin -L -t``; cached, since the same copy is
    checked again at every edit and review step."""
    result = subprocess.run(
        ["spamassassin", "-L", "-t"],
        input=raw[:MAX_MESSAGE_BYTES],
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
    )
    output = result.stdout.decode("utf-8", "replace")
    head = re.split(r"\r?\n\r?\n", output, maxsplit=1)[0]
    score = STATUS_SCORE.search(head)
    if score is None:
        raise ValueError("spamassassin gave no X-Spam-Status header")
    report = output.split("Content analysis details:", 1)[1] if "Content analysis details:" in output else ""
    table = report.split("\n\n\n", 1)[0]
    rules = tuple((name, float(points)) for points, name in RULE_ROW.findall(table))
    return float(score.group(1)), rules


@register_check("email")
def check_spam_score(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    if settings.spam_score_max is None:  # scoring switched off (AICMO_SPAM_SCORE_MAX=off)
        return
    if not shutil.which("spamassassin"):
        yield Finding("spam_score", INFO, NOT_INSTALLED)
        return
    try:
        score, rules = spamassassin_report(outgoing_message(content))
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        # The scorer failing is not the copy failing: say so, do not block.
        yield Finding("spam_score", INFO, f"spamassassin could not score this email: {error}.")
        return
    fired = ", ".join(f"{name} {points:+.1f}" for name, points in rules if points) or "none with points"
    limit = settings.spam_score_max
    if score > limit:
        yield Finding(
            "spam_score",
            ERROR,
            f"SpamAssassin score {score:.1f} is above {limit:.1f} (local rules). Rules: {fired}.",
        )
    else:
        yield Finding(
            "spam_score",
            INFO,
            f"SpamAssassin score {score:.1f} (at most {limit:.1f}; local rules). Rules: {fired}.",
        )
