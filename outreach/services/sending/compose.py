"""The email a Message becomes when it is handed to the provider: headers, parts and the metadata an
ESP's tracking webhooks name our message by.

Runs on the provider's send threads, which never touch the database: it reads only the Message and
what the claim loaded with it (its mailbox, its campaign).

What it leaves out on purpose: no header of our own naming the product or our ids (our message id
travels as ESP metadata and tags only — a fixed header fingerprinted every tenant of every
install), and no open or click tracking unless the message's sequence turned it on under the
client's own tracking domain (``outreach.sequence_tracking``) — and then never on the unsubscribe
link.
"""

from __future__ import annotations

from email import charset as email_charset

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from ...addresses import address_domain, format_address, split_address
from ...errors import PermanentSendError
from ...models import MailboxTransport, Message
from ...sequence_tracking import click_tracking_extra, mark_unsubscribe_untracked
from ...unsubscribe import list_unsubscribe_headers, make_unsubscribe_token

__all__ = ["build_email", "feedback_id", "require_https_unsubscribe"]

# UTF-8 with quoted-printable bodies: every line 7-bit, so no relay has to downgrade an 8-bit body
# (which breaks a DKIM signature) and no server has to announce 8BITMIME. Django's default sends
# UTF-8 bodies as raw 8bit.
QP_UTF8 = email_charset.Charset("utf-8")
QP_UTF8.body_encoding = email_charset.QP


def require_https_unsubscribe(url: str) -> None:
    """A live email's one-click unsubscribe must be https (RFC 8058 §3.1: mailbox providers ignore
    plain http) unless AICMO_REQUIRE_HTTPS_UNSUBSCRIBE is off (its default only with DEBUG on).
    Refused, not sent, and not retried: the URL is in the stored body as well, so a retry after
    fixing PUBLIC_BASE_URL would carry the same link (outreach.E003 reports it at deploy)."""
    if settings.AICMO_REQUIRE_HTTPS_UNSUBSCRIBE and not url.lower().startswith("https://"):
        raise PermanentSendError(
            f"refused: the unsubscribe URL {url.split('/u/')[0]}/… is not https "
            "(set PUBLIC_BASE_URL to the https address of this install)"
        )


def feedback_id(message: Message) -> str:
    """Gmail's Feedback-ID (``campaign:client:type:sender``): its feedback loop reports complaint
    rates per value of each field, so per client and per campaign, under the sending domain."""
    client_id = message.campaign.client_id  # the claim set the campaign: no query on this thread
    return f"{message.campaign_id}:{client_id}:outreach:{address_domain(message.from_email)}"


def build_email(message: Message, connection) -> EmailMultiAlternatives:
    require_https_unsubscribe(message.unsubscribe_url)
    headers = list_unsubscribe_headers(
        url=message.unsubscribe_url,
        mailto=settings.AICMO_UNSUBSCRIBE_MAILTO,
        token=make_unsubscribe_token(enrollment_id=message.enrollment_id),
    )
    headers["Message-ID"] = message.rfc_message_id
    headers["Feedback-ID"] = feedback_id(message)
    if message.in_reply_to:  # a follow-up: threaded under the lead's previous email (pool.py)
        headers["In-Reply-To"] = message.in_reply_to
        headers["References"] = message.references or message.in_reply_to
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        # Re-quoted: a From stored before display names were quoted ("Zoë, Northwind <…>") still sends.
        from_email=format_address(*split_address(message.from_email)),
        to=[message.to_email],
        reply_to=[message.reply_to] if message.reply_to else None,  # decided when it was scheduled
        headers=headers,
        connection=connection,
    )
    email.encoding = QP_UTF8
    # An SMTP mailbox has no tracking service; the ESP tracks what the sequence asked for.
    via_esp = message.mailbox_id is None or message.mailbox.transport != MailboxTransport.SMTP
    track_opens = via_esp and message.track_opens
    extra = click_tracking_extra() if via_esp and message.track_clicks else None
    body_html = message.body_html
    if extra is not None:
        body_html = mark_unsubscribe_untracked(body_html, message.unsubscribe_url)
        email.esp_extra = extra
    if body_html:
        email.attach_alternative(body_html, "text/html")
    # Read by anymail ESP backends (ignored by others): lets tracking webhooks name our message.
    email.metadata = {"aicmo_message_id": str(message.pk), "campaign_id": str(message.campaign_id)}
    email.tags = [f"campaign-{message.campaign_id}"]
    # Explicitly set, off unless asked for: an ESP account's default may be on.
    email.track_opens = track_opens
    email.track_clicks = extra is not None
    return email
