"""Message-ID headers for the emails we send: random, on the sending domain.

Replies quote the Message-ID (In-Reply-To / References), so it must not be guessable: a sequential
id let anyone who saw one email name every other. 128 random bits from ``secrets`` (not
``email.utils.make_msgid``, whose random part comes from the ``random`` module), lower-case hex so
a mail system that folds case still quotes it back unchanged, and no product prefix (a fixed
``aicmo.`` named the software behind every tenant of every install). Ids already stored keep matching: a
reply is matched by comparing the stored string, whatever its form.
"""

from __future__ import annotations

import secrets

from django.conf import settings

from .addresses import address_domain

__all__ = ["new_rfc_message_id"]


def new_rfc_message_id(from_email: str) -> str:
    """``"Acme <hi@mail.acme.example>"`` → ``"<3f9c…(32 hex)@mail.acme.example>"``; the domain
    falls back to AICMO_MESSAGE_ID_DOMAIN when the From address has none. Read with
    ``address_domain``: an unquoted display name with a comma (which ``parseaddr`` gives up on) still
    yields the sending domain, not the install-wide fallback."""
    domain = address_domain(from_email or "")
    if domain and not domain.isascii():
        try:  # a header carries ASCII only
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            domain = ""
    if not domain:
        domain = getattr(settings, "AICMO_MESSAGE_ID_DOMAIN", "") or "aicmo.local"
    return f"<{secrets.token_hex(16)}@{domain}>"
