"""The spam score as a creative check: SpamAssassin's local rules score the email as it would go
out; the score and the rules show in the findings, and a score above AICMO_SPAM_SCORE_MAX blocks."""

from __future__ import annotations

import os
import shutil
from email import message_from_bytes, policy

import pytest

from creative import services
from creative.admin import findings_html
from creative.checks import ERROR, INFO, CheckSettings, CreativeContent, blocking, run_checks
from creative.checks.spam import NOT_INSTALLED, outgoing_message
from creative.models import CreativeVariant

needs_spamassassin = pytest.mark.skipif(
    not shutil.which("spamassassin") and not os.environ.get("AICMO_REQUIRE_SPAMASSASSIN"),
    reason="spamassassin is not installed (make test installs it)",
)
FOOTER = "\n\n{{ sender_address }}\nUnsubscribe: {{ unsubscribe_url }}"
CLEAN = CreativeContent(
    platform="email",
    subject="A question about your delivery routes",
    body=(
        "Hi {{ first_name }},\n\nI noticed {{ company }} runs regional deliveries. We help fleets "
        "plan routes with fewer empty miles. Would a short call next week be useful?\n\n"
        "Best regards,\n{{ sender_name }}" + FOOTER
    ),
    # The HTML part says what the text says (a differing part scores MPART_ALT_DIFF_COUNT).
    body_html="<p>Hi {{ first_name }},</p><p>I noticed {{ company }} runs regional deliveries. We help "
    "fleets plan routes with fewer empty miles. Would a short call next week be useful?</p>"
    "<p>Best regards,<br>{{ sender_name }}</p><p>{{ sender_address }}<br>"
    'Unsubscribe: <a href="{{ unsubscribe_url }}">{{ unsubscribe_url }}</a></p>',
)
SPAMMY_BODY = (
    "DEAR FRIEND,\n\nFREE!!! 100% FREE CASH!!! EARN $$$ FROM HOME, NO CREDIT CHECK, RISK FREE!!! "
    "ACT NOW, CLICK HERE, YOU ARE A WINNER!!! EXTRA INCOME GUARANTEED: $1,000,000 $$$ "
    "ELIMINATE BAD CREDIT TODAY!!!" + FOOTER
)


def spam_findings(findings):
    return [f for f in findings if f.code == "spam_score"]


def test_the_scored_message_looks_like_an_outgoing_email():
    parsed = message_from_bytes(outgoing_message(CLEAN), policy=policy.strict)
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe"):
        assert len(parsed.get_all(header)) == 1, header
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",)).get_content()
    assert "Hi Alex," in text and "{{" not in text
    assert "https://" in parsed.get_body(("html",)).get_content()


@needs_spamassassin
def test_a_clean_email_passes_with_its_score_shown():
    [finding] = spam_findings(run_checks(CLEAN, CheckSettings(spam_score_max=5.0)))
    assert finding.severity == INFO
    assert finding.message.startswith("SpamAssassin score ") and "Rules:" in finding.message
    assert not blocking(run_checks(CLEAN, CheckSettings(spam_score_max=5.0)))


@needs_spamassassin
@pytest.mark.django_db
def test_a_spammy_email_scores_above_the_threshold_and_blocks(settings, approved_campaign, operator):
    settings.AICMO_SPAM_SCORE_MAX = 2.0
    campaign = approved_campaign()
    services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], variants=1)
    variant = CreativeVariant.objects.get(campaign=campaign)
    edited = services.edit_creative(
        variant=variant,
        actor=operator,
        subject="FREE!!! MAKE MONEY NOW $$$",
        body=SPAMMY_BODY,
        body_html="",
    )
    [finding] = [f for f in edited.check_findings if f["code"] == "spam_score"]
    assert finding["severity"] == ERROR, finding
    assert "above 2.0" in finding["message"]
    # The rules that fired are named, with their points.
    assert "DEAR_FRIEND +" in finding["message"], finding
    assert finding in edited.blocking_findings
    assert "SpamAssassin score" in findings_html(edited)


@needs_spamassassin
def test_a_low_threshold_fails_spammy_copy_and_passes_clean_copy():
    spammy = CreativeContent(platform="email", subject="FREE!!! MAKE MONEY NOW $$$", body=SPAMMY_BODY)
    [strict] = spam_findings(run_checks(spammy, CheckSettings(spam_score_max=2.0)))
    assert strict.severity == ERROR
    [clean] = spam_findings(run_checks(CLEAN, CheckSettings(spam_score_max=2.0)))
    assert clean.severity == INFO


def test_without_spamassassin_the_check_passes_with_a_note(monkeypatch):
    # Only what shutil.which sees changes: PATH without the directory spamassassin is in.
    monkeypatch.setenv("PATH", "/nonexistent")
    [finding] = spam_findings(run_checks(CLEAN, CheckSettings(spam_score_max=5.0)))
    assert (finding.severity, finding.message) == (INFO, NOT_INSTALLED)
