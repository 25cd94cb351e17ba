"""System check: with DEBUG off, mailbox secrets need ``AICMO_SECRET_KEYS`` (``outreach.secrets``).

Registered as a security check that runs with every command (not only ``check --deploy``), so
``migrate`` and ``runserver`` refuse to go on; the secrets module also refuses at its first use."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register

from .secrets import configured_keys

__all__ = ["check_secret_keys"]


@register(Tags.security)
def check_secret_keys(app_configs=None, **kwargs) -> list[Error]:
    keys = configured_keys()
    if not keys:
        if settings.DEBUG:
            return []
        return [
            Error(
                "AICMO_SECRET_KEYS is not set: with DEBUG off mailbox passwords can be neither "
                "encrypted nor read.",
                hint='Set it to a Fernet key: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())". See docs/senders.md.',
                id="outreach.E010",
            )
        ]
    bad = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            bad.append(str(position))
    if bad:
        return [
            Error(
                f"AICMO_SECRET_KEYS: key number {', '.join(bad)} is not a Fernet key (32 url-safe "
                "base64-encoded bytes).",
                hint="Generate keys with cryptography's Fernet.generate_key(). See docs/senders.md.",
                id="outreach.E011",
            )
        ]
    return []
