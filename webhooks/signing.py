"""Standard Webhooks 1.0 signing through the ``standardwebhooks`` library.

Headers: ``webhook-id`` (the delivery's msg_… id, the same on every retry), ``webhook-timestamp``
(seconds) and ``webhook-signature`` (``v1,<base64>``; during a secret rotation's overlap one
signature per secret, space-separated, so a receiver holding either secret verifies).
"""

from __future__ import annotations

import base64
import functools
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: whsec_ and 32 random bytes in base64 (the form receivers expect)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


@functools.lru_cache(maxsize=256)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)  # decodes the secret once per process, not once per POST


def signature(secrets_in_use: list[str], msg_id: str, timestamp: datetime, body: bytes) -> str:
    return " ".join(_signer(secret).sign(msg_id, timestamp, body) for secret in secrets_in_use)


def signed_headers(
    secrets_in_use: list[str], msg_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature(secrets_in_use, msg_id, timestamp, body),
        "Content-Type": "application/json",
        "User-Agent": "AICMO-Webhooks/1",
    }
