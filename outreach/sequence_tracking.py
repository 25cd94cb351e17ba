"""Open and click tracking for a sequence: when it may be on, and what the ESP is told (docs/senders.md).

Off by default (cold email is judged partly on tracking pixels and rewritten links). An operator
may turn it on for a sequence when:

- the client has a tracking domain of its own (its sender identity's ``tracking_domain``, CNAME'd
  to the ESP's tracking host): tracked links then carry the client's domain, not one the ESP shares
  with every other sender — readiness checks the CNAME before a live campaign activates;
- the sequence sends an HTML part (the pixel and rewritten links live there);
- every mailbox of the sequence sends through the ESP (an SMTP mailbox has no tracking service);
- for clicks, the site's ESP can leave the unsubscribe link alone (``CLICK_TRACKING_ESPS``): a
  rewritten unsubscribe link sends a person's "stop" through a third party's redirect, and
  mailbox providers distrust it.

``tracking_problems`` is the one rule: the sequence services refuse what it names, the admin form
shows it on the fields, and scheduling re-applies the tracking-domain part (an identity may lose its
tracking domain after a sequence turned tracking on).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from html import escape

from django.conf import settings

from campaigns.models import Campaign
from campaigns.sender_identity import sender_identity

from .models import MailboxTransport, SendingMailbox

__all__ = [
    "CLICK_TRACKING_ESPS",
    "click_tracking_extra",
    "mark_unsubscribe_untracked",
    "tracking_problems",
]

# The ESP backends (anymail module) whose click tracking can spare the unsubscribe link, with the
# per-message settings that keep plain-text links (the unsubscribe URL among them) unrewritten.
# Postmark: ``TrackLinks: HtmlOnly`` (anymail's default for track_clicks is HtmlAndText) and the
# ``data-pm-no-track`` attribute; SendGrid: text click tracking off and ``clicktracking="off"``.
CLICK_TRACKING_ESPS: dict[str, dict] = {
    "anymail.backends.postmark": {"TrackLinks": "HtmlOnly"},
    "anymail.backends.sendgrid": {
        "tracking_settings": {"click_tracking": {"enable": True, "enable_text": False}}
    },
}
# Each ESP above reads its own attribute and ignores the other's.
NO_TRACK_ATTRIBUTES = 'data-pm-no-track clicktracking="off"'


def _esp_module() -> str:
    return settings.EMAIL_BACKEND.rpartition(".")[0]


def click_tracking_extra() -> dict | None:
    """The site ESP's per-message settings for click tracking; None: it cannot spare the
    unsubscribe link, so clicks are not tracked."""
    extra = CLICK_TRACKING_ESPS.get(_esp_module())
    return copy.deepcopy(extra)  # anymail merges it into its payload: never hand out the table's


def tracking_problems(
    *,
    campaign: Campaign,
    track_opens: bool,
    track_clicks: bool,
    plain_text_only: bool,
    mailboxes: Iterable[SendingMailbox | None],
) -> dict[str, str]:
    """Why these tracking settings may not be used, by form field; empty: they may."""
    if not (track_opens or track_clicks):
        return {}
    field = "track_clicks" if track_clicks and not track_opens else "track_opens"
    problems: dict[str, str] = {}
    if not sender_identity(campaign).tracking_domain:
        problems[field] = (
            "Tracking needs a tracking domain of the client's own (e.g. track.example.com, CNAME'd to "
            "the ESP's tracking host): set it in the client's sender identity first."
        )
    if plain_text_only:
        problems.setdefault(
            "plain_text_only",
            "Opens and clicks are tracked in the HTML part: untick “plain text only” to track them.",
        )
    smtp = [box.email for box in mailboxes if box is not None and box.transport == MailboxTransport.SMTP]
    if smtp:
        problems.setdefault(
            field,
            f"{', '.join(sorted(smtp))} sends over SMTP, which has no tracking service: "
            "use ESP mailboxes or leave tracking off.",
        )
    if track_clicks and click_tracking_extra() is None:
        problems.setdefault(
            "track_clicks",
            f"Click tracking needs an ESP that leaves the unsubscribe link untracked "
            f"(Postmark or SendGrid); this site sends through {settings.EMAIL_BACKEND}.",
        )
    return problems


def mark_unsubscribe_untracked(body_html: str, unsubscribe_url: str) -> str:
    """Every link to the unsubscribe URL in ``body_html`` gets the ESPs' no-tracking attributes."""
    if not unsubscribe_url or not body_html:
        return body_html
    href = re.escape(escape(unsubscribe_url, quote=True))
    pattern = re.compile(rf"<a\b(?P<attrs>[^>]*?\bhref=(?P<q>[\"']){href}(?P=q))", re.IGNORECASE)
    return pattern.sub(lambda m: f"<a {NO_TRACK_ATTRIBUTES}{m.group('attrs')}", body_html)
