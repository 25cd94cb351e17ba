"""The reply classifier: what a reply to our outreach means, from its headers and its new text.

Order (the first that applies decides):

1. a delivery report (``multipart/report; report-type=delivery-status``) → bounce, hard or soft,
   with the failed recipient; a report that says "delivered" is another automatic reply;
2. a delivery failure sent as plain mail (from MAILER-DAEMON/postmaster, or a "Undelivered Mail
   Returned to Sender" / "Delivery Status Notification (Failure)" subject with a failure in the
   text) → bounce;
3. an automatic reply (``Auto-Submitted``, ``X-Autoreply``, ``X-Autorespond``, ``Precedence``, an
   auto-reply subject): "has left the company" → wrong person; out of office (with the return
   date) when the subject or text says so; else another automatic reply;
4. text rules on the new text only (see ``rules/phrases.py`` for the order between categories).

``classify`` is the offline classifier (no network, no cost). ``get_reply_classifier`` picks the
one configured by ``AICMO_REPLY_CLASSIFIER`` ("offline", the default, or "llm")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import Protocol

from .categories import ReplyCategory
from .rules.body import body_text
from .rules.bounces import Bounce, parse_delivery_report, parse_plain_bounce
from .rules.dates import parse_return_date
from .rules.headers import OOO_SUBJECT, auto_reply_signal, is_bounce_envelope
from .rules.phrases import LEFT_COMPANY, OUT_OF_OFFICE, PRIORITY, RULES, first_match, normalize
from .rules.quoted import strip_quoted
from .rules.referral import extract_referred_email


@dataclass(frozen=True)
class Classification:
    category: str  # a ReplyCategory value
    confidence: float  # 0..1: how sure the rule (or model) is
    reason: str  # for people: which rule fired, on which words
    return_date: dt.date | None = None  # out of office, when the reply states it
    referred_email: str = ""  # wrong person, when the reply names the right one
    bounce_kind: str = ""  # "hard" / "soft" (BounceKind) for bounces
    bounce_recipient: str = ""  # the address that failed
    bounce_status: str = ""  # the enhanced status code, e.g. 5.1.1
    original_message_id: str = ""  # the Message-ID a bounce returns, to match it to our message
    automatic: bool = False  # written by a machine (headers or a delivery report say so)
    language: str = ""  # en, de, fr, es: the language of the rule that fired
    classifier: str = "offline"
    cost: Decimal = Decimal("0")  # what classifying cost, for the caller to book to the budget
    tokens: int = 0


class ReplyClassifier(Protocol):
    name: str

    def classify(self, message: EmailMessage) -> Classification: ...


def raw_headers(message: EmailMessage) -> dict[str, str]:
    """Header values as received, by lower-case name (the first of each), unfolded.

    The ``default`` policy parses a header into an object on every access, which costs more than
    the rest of classifying; the rules need the plain values only (Subject is decoded apart)."""
    values: dict[str, str] = {}
    for name, value in message.raw_items():
        values.setdefault(name.lower(), " ".join(str(value).split()))
    return values


def _addresses(message: EmailMessage, *names: str) -> list[str]:
    values = [str(value) for name in names for value in (message.get_all(name) or [])]
    return [address.lower() for _, address in getaddresses(values) if address]


def written_on(message: EmailMessage) -> dt.date:
    """The day the reply was written (its Date header), for dates stated without a year."""
    try:
        return parsedate_to_datetime(raw_headers(message).get("date", "")).date()
    except (TypeError, ValueError, IndexError):
        return dt.date.today()


def _bounce(bounce: Bounce, confidence: float) -> Classification:
    return Classification(
        category=ReplyCategory.BOUNCE,
        confidence=confidence,
        reason=bounce.reason,
        bounce_kind=bounce.kind,
        bounce_recipient=bounce.recipient,
        bounce_status=bounce.status,
        original_message_id=bounce.original_message_id,
        automatic=True,
    )


def _delivery_report(message: EmailMessage) -> Classification | None:
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != "delivery-status":
        return None
    bounce = parse_delivery_report(message)
    if bounce is not None:
        return _bounce(bounce, 0.99)
    return Classification(
        category=ReplyCategory.AUTO_REPLY_OTHER,
        confidence=0.9,
        reason="delivery report without a failed or delayed recipient (a success notice)",
        automatic=True,
    )


def _out_of_office(text: str, subject: str, written: dt.date, reason: str, confidence: float):
    stated = parse_return_date(f"{subject}\n{text}", written)
    if stated:
        reason += f"; return date {stated.isoformat()}"
    return Classification(
        category=ReplyCategory.OUT_OF_OFFICE,
        confidence=confidence,
        reason=reason,
        return_date=stated,
        automatic=confidence >= 0.9,
    )


def _wrong_person(message, text, reason, language, confidence, automatic, own: tuple[str, ...]):
    sender = parseaddr(str(message.get("From") or ""))[1].lower()
    domain = sender.split("@")[-1]
    referred = extract_referred_email(
        text,
        # Our own mailbox is on the To line of a plain reply: never refer us to ourselves.
        exclude=[*own, *(a for a in _addresses(message, "To") if a.split("@")[-1] != domain)],
        cc=_addresses(message, "Cc"),
        to=_addresses(message, "To"),
        sender=sender,
    )
    if referred:
        reason += f"; refers to {referred}"
    return Classification(
        category=ReplyCategory.WRONG_PERSON,
        confidence=confidence,
        reason=reason,
        referred_email=referred,
        automatic=automatic,
        language=language,
    )


def _automatic(message: EmailMessage, text: str, subject: str, signal: str, own) -> Classification:
    confidence = 0.85 if signal.startswith("subject") else 0.95
    left = first_match(LEFT_COMPANY, text)
    if left:
        reason = f"automatic reply ({signal}); says the person left: {left[1]!r} ({left[0]})"
        return _wrong_person(message, text, reason, left[0], confidence, True, own)
    ooo = first_match(OUT_OF_OFFICE, text)
    if OOO_SUBJECT.search(subject) or ooo:
        why = f"text {ooo[1]!r} ({ooo[0]})" if ooo else f"subject {subject.strip()[:60]!r}"
        result = _out_of_office(
            text, subject, written_on(message), f"automatic reply ({signal}); {why}", 0.95
        )
        return replace(result, automatic=True, confidence=confidence, language=ooo[0] if ooo else "")
    return Classification(
        category=ReplyCategory.AUTO_REPLY_OTHER,
        confidence=confidence,
        reason=f"automatic reply ({signal}) that is not an out-of-office notice",
        automatic=True,
    )


def _text_rules(message: EmailMessage, text: str, subject: str, own) -> Classification:
    matches = {category: first_match(RULES[category], text) for category in PRIORITY}
    unsubscribe = matches[ReplyCategory.UNSUBSCRIBE_REQUEST]
    if unsubscribe:
        return Classification(
            category=ReplyCategory.UNSUBSCRIBE_REQUEST,
            confidence=0.85,
            reason=f"text {unsubscribe[1]!r} ({unsubscribe[0]})",
            language=unsubscribe[0],
        )
    left = first_match(LEFT_COMPANY, text)
    if left:
        return _wrong_person(message, text, f"text {left[1]!r} ({left[0]})", left[0], 0.8, False, own)
    ooo = first_match(OUT_OF_OFFICE, text)
    engaged = matches[ReplyCategory.MEETING_REQUEST] or matches[ReplyCategory.INTERESTED]
    # A person saying "I'm away until Friday" without asking for anything is an out-of-office
    # notice; "I'm travelling, but let's talk next week" is not.
    if ooo and not engaged:
        result = _out_of_office(text, subject, written_on(message), f"text {ooo[1]!r} ({ooo[0]})", 0.75)
        return replace(result, language=ooo[0])
    for category in PRIORITY[1:]:
        found = matches[category]
        if not found:
            continue
        reason = f"text {found[1]!r} ({found[0]})"
        if category == ReplyCategory.WRONG_PERSON:
            return _wrong_person(message, text, reason, found[0], 0.75, False, own)
        return Classification(category=category, confidence=0.75, reason=reason, language=found[0])
    return Classification(
        category=ReplyCategory.OTHER,
        confidence=0.4,
        reason="no rule matched the new text" if text else "the reply has no new text",
    )


def classify(message: EmailMessage, *, own_addresses: Iterable[str] = ()) -> Classification:
    """The offline classification of one inbound mail. Never raises on odd mail: unknown → other.

    ``own_addresses``: the mailbox the reply came to (and any of ours), so a referral is never to us.
    """
    own = tuple(address.lower() for address in own_addresses if address)
    report = _delivery_report(message)
    if report is not None:
        return report
    raw = raw_headers(message)
    subject = str(message.get("Subject") or "") if "subject" in raw else ""  # RFC 2047 decoded
    sender = parseaddr(raw.get("from", ""))[1].lower()
    raw_text, _ = body_text(message)
    envelope = is_bounce_envelope(sender, subject)
    if envelope:
        ignore = {sender, *_addresses(message, "To", "Reply-To")}
        bounce = parse_plain_bounce(message, raw_text, ignore=ignore, evidence=envelope)
        if bounce is not None:
            return _bounce(bounce, 0.9)
    text = normalize(strip_quoted(raw_text))
    signal = auto_reply_signal(raw, subject)
    if signal:
        return _automatic(message, text, subject, signal, own)
    if OOO_SUBJECT.search(subject) and not subject.lower().lstrip().startswith(("re:", "aw:", "fw", "wg:")):
        return _out_of_office(text, subject, written_on(message), f"subject {subject.strip()[:60]!r}", 0.8)
    return _text_rules(message, text, subject, own)


class OfflineReplyClassifier:
    name = "offline"

    def classify(self, message: EmailMessage) -> Classification:
        return classify(message)


def get_reply_classifier(name: str | None = None) -> ReplyClassifier:
    """The classifier named (default: ``settings.AICMO_REPLY_CLASSIFIER``). "llm" without a provider
    key falls back to the offline one with a warning: replies keep being sorted either way."""
    import logging

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    chosen = (name or getattr(settings, "AICMO_REPLY_CLASSIFIER", "offline") or "offline").strip().lower()
    if chosen == OfflineReplyClassifier.name:
        return OfflineReplyClassifier()
    if chosen == "llm":
        from .llm import LLMReplyClassifier, llm_reply_config

        config = llm_reply_config()
        if config is not None:
            return LLMReplyClassifier(config)
        logging.getLogger(__name__).warning(
            "AICMO_REPLY_CLASSIFIER=llm but no OPENAI_API_KEY / ANTHROPIC_API_KEY is set; "
            "classifying replies offline"
        )
        return OfflineReplyClassifier()
    raise ImproperlyConfigured(f"AICMO_REPLY_CLASSIFIER={chosen!r} is unknown; use offline or llm")
