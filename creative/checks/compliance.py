"""Merge fields, spam phrases, the shared governance claims rules and the CAN-SPAM footer."""

from __future__ import annotations

from collections.abc import Iterable

from campaigns.risk import assess_text_claims

from ..personalization import merge_fields_in, unrecognised_template_syntax
from .base import ERROR, WARNING, CheckSettings, CreativeContent, Finding, register_check

# --- merge fields ----------------------------------------------------------------------------


@register_check()
def check_merge_fields(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    text = content.all_text() + "\n" + content.body_html
    for use in merge_fields_in(text):
        if not use.known:
            yield Finding(
                "merge_field_unknown",
                ERROR,
                f"Unknown merge field {{{{ {use.name} }}}}: it would render empty.",
            )
    for fragment in dict.fromkeys(unrecognised_template_syntax(text)):
        yield Finding(
            "merge_field_unresolved",
            ERROR,
            f"{fragment!r} is not a merge field and would be shown literally to the reader.",
        )


# --- spam and claims -------------------------------------------------------------------------


@register_check()
def check_spam_phrases(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    text = content.all_text().lower()
    hits = [p for p in settings.spam_phrases if p in text]
    if hits:
        yield Finding(
            "spam_phrases", WARNING, "Spam-trigger phrases: " + ", ".join(repr(h) for h in hits) + "."
        )


@register_check()
def check_risky_claims(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    """The governance claims rules (absolute, medical, income, missing disclosure) shared with
    strategy review; high severity blocks approval, the rest warn."""
    for finding in assess_text_claims(content.all_text(), quoted=settings.quoted):
        severity = ERROR if finding.severity == "high" else WARNING
        yield Finding("risky_claim", severity, finding.message)


# --- email compliance (CAN-SPAM) -------------------------------------------------------------


@register_check("email")
def check_unsubscribe_and_address(content: CreativeContent, settings: CheckSettings) -> Iterable[Finding]:
    text = content.body + "\n" + content.body_html
    names = {use.name for use in merge_fields_in(text)}
    if "unsubscribe_url" not in names:
        yield Finding(
            "unsubscribe_missing",
            ERROR,
            "No unsubscribe link: add {{ unsubscribe_url }} to the body (CAN-SPAM, RFC 8058).",
        )
    if "sender_address" not in names and not (
        settings.sender_postal_address and settings.sender_postal_address in text
    ):
        yield Finding(
            "postal_address_missing",
            ERROR,
            "No sender postal address: add {{ sender_address }} to the body (CAN-SPAM).",
        )
