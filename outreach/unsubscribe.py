"""Signed one-click unsubscribe links and the RFC 8058 headers that point at them."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

SALT = "aicmo.outreach.unsubscribe"


def make_unsubscribe_token(*, enrollment_id: int, email: str) -> str:
    return signing.dumps({"n": enrollment_id, "e": email}, salt=SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """Return (enrollment_id, email). Raises signing.BadSignature for a forged or damaged token."""
    data = signing.loads(token, salt=SALT)
    return int(data["n"]), str(data["e"])


def unsubscribe_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/u/{token}/"


def list_unsubscribe_headers(*, url: str, mailto: str | None = None) -> dict[str, str]:
    """``List-Unsubscribe`` with the HTTPS one-click URL (and a mailto), plus RFC 8058's POST marker."""
    targets = [f"<{url}>"]
    if mailto:
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
