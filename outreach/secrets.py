"""Mailbox secrets (SMTP and IMAP passwords) encrypted at rest: ``cryptography``'s MultiFernet.

``AICMO_SECRET_KEYS`` holds comma-separated Fernet keys (``manage.py generate_secret_key`` style:
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``). The
first key encrypts; every key decrypts, so a new key goes first, ``manage.py rotate_mailbox_secrets``
re-encrypts every stored secret with it, and the old key can then be dropped (docs/senders.md).

With DEBUG on and no key set, a key derived from SECRET_KEY is used (development only); with DEBUG
off there is none: the system check ``outreach.E010`` stops the site, and any encryption or
decryption raises. Plaintext never reaches a log, the admin or the API: callers ask for it only
where a connection is opened (``outreach.transports``).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "configured_keys", "decrypt", "encrypt", "keys_configured", "rotate"]


def configured_keys() -> list[str]:
    raw = getattr(settings, "AICMO_SECRET_KEYS", "") or ""
    return [key.strip() for key in raw.split(",") if key.strip()]


def keys_configured() -> bool:
    return bool(configured_keys())


def _development_key() -> bytes:
    # Only with DEBUG on: derived from SECRET_KEY, so a developer's database stays readable.
    digest = hashlib.sha256(b"aicmo-mailbox-secrets:" + settings.SECRET_KEY.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _fernet() -> MultiFernet:
    keys = configured_keys()
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "AICMO_SECRET_KEYS is not set: mailbox secrets cannot be encrypted or read with DEBUG off."
            )
        return MultiFernet([Fernet(_development_key())])
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:  # not 32 url-safe base64 bytes; the message never holds the key
        raise ImproperlyConfigured("AICMO_SECRET_KEYS holds a key that is not a Fernet key.") from exc


def encrypt(plaintext: str) -> str:
    """A Fernet token for ``plaintext`` ("" stays "": no secret)."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plaintext of a stored token; raises ``InvalidToken`` when no configured key opens it."""
    if not token:
        return ""
    return _fernet().decrypt(token.encode("ascii")).decode()


def rotate(token: str) -> str:
    """The same secret encrypted with the first key (MultiFernet.rotate keeps its timestamp)."""
    if not token:
        return ""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")
