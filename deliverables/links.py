"""Short-lived signed download links for package files.

A link names one file of one package (``pdf`` or ``zip``) and is signed with Django's
``TimestampSigner`` (the project's ``SECRET_KEY``, its fallbacks honoured), so it cannot be forged
or pointed at another package. It is no bearer token: the download still needs the caller's
authentication, and a package of another client is a 404 whether the link is fresh or not. An
intact link older than ``AICMO_DELIVERABLES_LINK_SECONDS`` is refused as expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone

SALT = "deliverables.package-download"
KINDS = ("pdf", "zip")


@dataclass(frozen=True)
class LinkTarget:
    package_id: int
    kind: str
    expired: bool


def link_lifetime() -> int:
    return int(getattr(settings, "AICMO_DELIVERABLES_LINK_SECONDS", 900))


def download_token(package_id: int, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return signing.TimestampSigner(salt=SALT).sign_object({"p": package_id, "k": kind})


def link_expires_at(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(seconds=link_lifetime())


def read_token(token: str) -> LinkTarget | None:
    """What a token names, or None when it was not signed by us (tampered, truncated, made up).
    Its age is checked separately, so the caller can answer "not yours" before "expired"."""
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(token)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        return None
    if (
        not isinstance(payload, dict)
        or payload.get("k") not in KINDS
        or not isinstance(payload.get("p"), int)
    ):
        return None
    try:
        signer.unsign_object(token, max_age=link_lifetime())
        expired = False
    except signing.SignatureExpired:
        expired = True
    return LinkTarget(package_id=payload["p"], kind=payload["k"], expired=expired)
