"""Signed one-click unsubscribe links and the RFC 8058 headers that point at them.

A token is ``<enrollment id>:<signature>``: opaque (it names no address; the address is looked up
from the enrollment when the link is used), short, and signed with Django's ``Signer``, which also
accepts signatures made with a key in ``SECRET_KEY_FALLBACKS`` (so rotating ``SECRET_KEY`` keeps
sent links working; docs/SECURITY.md). Tokens of the first format carry the address in a signed,
readable payload (``signing.dumps({"n": …, "e": …})``); they are read, never written, because
links of that format already sit in recipients' mailboxes and must keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import getaddresses
from urllib.parse import quote

from django.conf import settings
from django.core import signing

SALT = "aicmo.outreach.unsubscribe.enrollment"
# The first format (address in the payload): read, never written.
FIRST_FORMAT_SALT = "aicmo.outreach.unsubscribe"
# The subject of the email a List-Unsubscribe mailto makes a mail client write.
MAILTO_SUBJECT = "unsubscribe"


@dataclass(frozen=True)
class UnsubscribeLink:
    """What a verified token stands for. ``email`` is set only by a first-format token, which
    carries the address; a current token carries the enrollment id alone."""

    enrollment_id: int
    email: str | None = None


def _signer() -> signing.Signer:
    # Built per call: it reads SECRET_KEY and SECRET_KEY_FALLBACKS as they are now.
    return signing.Signer(salt=SALT)


def make_unsubscribe_token(*, enrollment_id: int) -> str:
    return _signer().sign(str(int(enrollment_id)))


def read_unsubscribe_token(token: str) -> UnsubscribeLink:
    """Verify a token of either format. Raises signing.BadSignature for a forged or damaged one."""
    value, separator, _ = token.rpartition(":")
    if separator and value.isascii() and value.isdigit():
        return UnsubscribeLink(enrollment_id=int(_signer().unsign(token)))
    try:
        data = signing.loads(token, salt=FIRST_FORMAT_SALT)
        return UnsubscribeLink(enrollment_id=int(data["n"]), email=str(data["e"]))
    except (KeyError, TypeError, ValueError) as exc:  # signed, but not the shape we wrote
        raise signing.BadSignature("Not an unsubscribe token.") from exc


def unsubscribe_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/u/{token}/"


def masked_address(email: str) -> str:
    """``ada@example.com`` → ``a…@example.com``: enough for its owner to recognise, on a page that
    anyone holding the link (a forward, a link scanner) can open."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return ""
    return f"{local[0]}…@{domain}"


def list_unsubscribe_headers(*, url: str, mailto: str | None = None, token: str = "") -> dict[str, str]:
    """``List-Unsubscribe`` with the HTTPS one-click URL (and a mailto), plus RFC 8058's POST marker.
    The mailto's subject carries the token (``unsubscribe <token>``): a mail client writes a new
    email, with no In-Reply-To, so the token is what names the enrollment it unsubscribes."""
    targets = [f"<{url}>"]
    if mailto:
        subject = quote(f"{MAILTO_SUBJECT} {token}".strip(), safe="")
        targets.append(f"<mailto:{mailto}?subject={subject}>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@dataclass(frozen=True)
class MailtoUnsubscribe:
    """An inbound email that is an unsubscribe request, not a reply; ``link`` is the enrollment its
    subject's token names (None: no valid token, the sender's latest message decides)."""

    link: UnsubscribeLink | None


# Headers that name where an inbound email was delivered (the mailto target among them).
_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to")


def mailto_unsubscribe_request(
    *, headers: dict[str, str], subject: str, mailto: str | None = None
) -> MailtoUnsubscribe | None:
    """Whether an inbound email is a ``mailto:`` unsubscribe: its subject is the one our
    List-Unsubscribe mailto sets (``unsubscribe``, with or without the token), or it was delivered
    to the AICMO_UNSUBSCRIBE_MAILTO address. None for anything else (a reply)."""
    mailto = (settings.AICMO_UNSUBSCRIBE_MAILTO if mailto is None else mailto) or ""
    words = (subject or "").strip().split()
    by_subject = bool(words) and words[0].lower() == MAILTO_SUBJECT
    lower = {k.lower(): v for k, v in headers.items()}
    delivered_to = {
        address.lower() for _, address in getaddresses([lower.get(h, "") for h in _RECIPIENT_HEADERS])
    }
    if not by_subject and not (mailto and mailto.lower() in delivered_to):
        return None
    link = None
    for word in words[1:2] if by_subject else []:
        try:
            link = read_unsubscribe_token(word)
        except signing.BadSignature:
            link = None
    return MailtoUnsubscribe(link=link)
