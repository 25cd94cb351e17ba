"""One pipeline for every email that comes back, whichever way it comes (a mailbox's IMAP inbox, an
ESP's inbound webhook): parse (size limits), recognise a List-Unsubscribe ``mailto:``, classify,
match, store once, act.

Stored once: by (mailbox, UIDVALIDITY, UID) for IMAP, and by Message-ID for everything (so a folder
re-read after a UIDVALIDITY change, or the same email through two paths, is recorded once)."""

from __future__ import annotations

import hashlib
import inspect
import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import SpendKind
from campaigns.services.budget import record_spend

from ...models import InboundReply, SendingMailbox
from ...replies.categories import AUTOMATIC_CATEGORIES, ReplyCategory
from ...unsubscribe import mailto_unsubscribe_request
from ..unsubscribes import record_mailto_unsubscribe
from .actions import apply_actions
from .matching import match_reply
from .parsing import ParsedEmail, embedded_message_ids, parse_email

__all__ = ["classify_parsed", "ingest_email", "ingest_parsed"]
logger = logging.getLogger(__name__)


def classify_parsed(parsed: ParsedEmail, *, mailbox: SendingMailbox | None = None):
    """The configured classifier's verdict (``AICMO_REPLY_CLASSIFIER``: offline, or an LLM); a
    failure of it never loses an email: it is stored as ``other`` with the error as its reason.
    The mailbox it came to is ours: never the address a "wrong person" reply refers to."""
    from ...replies.classifier import Classification, get_reply_classifier

    try:
        classifier = get_reply_classifier()
        if mailbox is not None and "own_addresses" in inspect.signature(classifier.classify).parameters:
            return classifier.classify(parsed.message, own_addresses=[mailbox.email])
        return classifier.classify(parsed.message)
    except Exception as exc:  # any classifier bug: keep the email, say why
        logger.exception("reply classifier failed on %r", parsed.message_id)
        return Classification(
            category=ReplyCategory.OTHER,
            confidence=0.0,
            reason=f"classifier failed: {exc.__class__.__name__}",
        )


def _book_cost(reply: InboundReply, verdict) -> None:
    """An LLM classifier's cost goes to the campaign's budget (incurred already: past the cap too)."""
    cost = getattr(verdict, "cost", 0) or 0
    if cost and reply.campaign_id is not None:
        record_spend(
            campaign=reply.campaign_id,
            kind=SpendKind.AI_GENERATION,
            amount=cost,
            source=reply,
            description=f"reply #{reply.pk} classified ({getattr(verdict, 'classifier', '')})",
            enforce_cap=False,
        )


def ingest_email(
    raw: bytes,
    *,
    mailbox: SendingMailbox | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
    full_size: int | None = None,
    received_at: datetime | None = None,
) -> InboundReply | None:
    """``raw``: the email's bytes, or only its first ones (``full_size`` then says how many it had)."""
    if uid is not None and mailbox is not None:
        known = InboundReply.objects.filter(
            mailbox=mailbox, imap_uidvalidity=uidvalidity, imap_uid=uid
        ).first()
        if known is not None:
            return known
    return ingest_parsed(
        parse_email(raw, full_size=full_size),
        raw=raw,
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        received_at=received_at,
    )


def _dedupe_key(parsed: ParsedEmail, raw: bytes) -> str:
    if parsed.message_id:
        return parsed.message_id[:500]
    # No Message-ID (rare, and some ESPs strip it): the same bytes are the same email.
    return f"no-id:{hashlib.sha256(raw).hexdigest()}"


def ingest_parsed(
    parsed: ParsedEmail,
    *,
    raw: bytes = b"",
    mailbox: SendingMailbox | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
    received_at: datetime | None = None,
) -> InboundReply | None:
    """Store and act on one parsed email. None for an unsubscribe ``mailto:`` (no reply: it
    unsubscribes); the stored reply otherwise, matched or not."""
    unsubscribe = mailto_unsubscribe_request(headers=parsed.headers, subject=parsed.subject)
    if unsubscribe is not None:
        record_mailto_unsubscribe(request=unsubscribe, from_header=parsed.from_header)
        return None
    key = _dedupe_key(parsed, raw or parsed.message.as_bytes())
    known = InboundReply.objects.filter(message_id_header=key).first()
    if known is not None:
        return known
    verdict = classify_parsed(parsed, mailbox=mailbox)
    category = str(verdict.category)
    thread_ids = parsed.thread_ids
    if category == ReplyCategory.BOUNCE:
        # A bounce quotes the email it returns: its Message-ID names our message.
        quoted = [
            getattr(verdict, "original_message_id", ""),
            *embedded_message_ids(parsed.message, parsed.text),
        ]
        thread_ids = thread_ids + [i for i in dict.fromkeys(quoted) if i and i not in thread_ids]
    target = match_reply(from_email=parsed.from_email, thread_ids=thread_ids, mailbox=mailbox)
    if target.message is None:
        logger.info(
            "inbound mail %s from %s matches no message of ours: kept unmatched", key, parsed.from_email
        )
    try:
        with transaction.atomic():
            reply = InboundReply.objects.create(
                campaign_id=target.campaign_id,
                message=target.message,
                mailbox=mailbox,
                from_email=parsed.from_email[:320],
                subject=parsed.subject[:500],
                text=parsed.text,
                is_auto_reply=category in AUTOMATIC_CATEGORIES,
                sender_match=target.sender_match,
                matched_by=target.matched_by,
                message_id_header=key,
                in_reply_to=parsed.in_reply_to[:500],
                received_at=received_at or parsed.date or timezone.now(),
                imap_uidvalidity=uidvalidity,
                imap_uid=uid,
                raw_size=min(parsed.raw_size, 2_147_483_647),
                truncated=parsed.truncated,
                size_note=parsed.size_note,
                category=category,
                classifier_category=category,
                category_reason=(verdict.reason or "")[:500],
                confidence=verdict.confidence,
                return_date=verdict.return_date,
                referred_email=(verdict.referred_email or "")[:320],
                bounce_kind=str(verdict.bounce_kind or ""),
            )
            if target.message is not None:
                reply.message = target.message  # the loaded lead and campaign, for the actions
                _book_cost(reply, verdict)
                apply_actions(reply=reply)
    except IntegrityError:
        # The same email stored meanwhile (two workers, or the webhook and the poll): that one stands.
        return InboundReply.objects.filter(message_id_header=key).first()
    reply.just_recorded = True  # for the poll's count: stored now, not found from before
    return reply
