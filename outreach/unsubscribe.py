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

from django.conf import settings
from django.core import signing

SALT = "aicmo.outreach.unsubscribe.enrollment"
# The first format (address in the payload): read, never written.
FIRST_FORMAT_SALT = "aicmo.outreach.unsubscribe"


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


def list_unsubscribe_headers(*, url: str, mailto: str | None = None) -> dict[str, str]:
    """``List-Unsubscribe`` with the HTTPS one-click URL (and a mailto), plus RFC 8058's POST marker."""
    targets = [f"<{url}>"]
    if mailto:
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
