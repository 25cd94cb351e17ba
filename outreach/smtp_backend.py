"""The SMTP transport: Django's SMTP backend, plus what a receiving server judges a sender by.

``EMAIL_BACKEND=outreach.smtp_backend.EmailBackend`` (same settings as Django's: EMAIL_HOST, …):

- every email is DKIM-signed with its From domain's key (``outreach.dkim_signing``);
- the client names itself with ``AICMO_SMTP_HELO_NAME`` (default: this host's FQDN), and with DEBUG
  off refuses to connect as ``localhost`` or another name without a dot: receiving servers score
  such a HELO as spam (SpamAssassin's HELO_LOCALHOST and friends);
- an 8-bit message is sent with ``BODY=8BITMIME`` when the server offers it (RFC 6152). Outreach
  emails are 7-bit already (quoted-printable bodies, ``compose.py``); others — password resets,
  test sends — may not be.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME

from .dkim_signing import dkim_sign

__all__ = ["EmailBackend", "helo_name", "is_local_helo_name"]


def helo_name() -> str:
    """The name our SMTP client gives in EHLO/HELO: AICMO_SMTP_HELO_NAME, else the host's FQDN."""
    return (getattr(settings, "AICMO_SMTP_HELO_NAME", "") or "").strip() or str(DNS_NAME)


def is_local_helo_name(name: str) -> bool:
    """``localhost``, ``localhost.localdomain``, ``x.localhost`` or any name without a dot: not a
    name the world can resolve back to us (RFC 5321 §4.1.1.1 asks for the client's FQDN)."""
    name = name.strip().lower().rstrip(".")
    return (
        not name
        or "." not in name
        or name in ("localhost.localdomain",)
        or name.endswith((".localhost", ".localdomain"))
    )


class EmailBackend(DjangoSmtpBackend):
    @property
    def connection_class(self):
        base = super().connection_class
        name = helo_name()
        if not settings.DEBUG and is_local_helo_name(name):
            raise ImproperlyConfigured(
                f"the SMTP HELO name would be {name!r}: set AICMO_SMTP_HELO_NAME to this host's "
                "public name (one that resolves back to its address)"
            )

        def connect(host, port, **params):
            params["local_hostname"] = name  # Django passes its cached FQDN here
            return base(host, port, **params)

        return connect

    def _send(self, email_message) -> bool:
        """Django's ``_send`` with the signature added and 8BITMIME declared when needed."""
        if not email_message.recipients():
            return False
        encoding = email_message.encoding or settings.DEFAULT_CHARSET
        from_email = sanitize_address(email_message.from_email, encoding)
        recipients = [sanitize_address(address, encoding) for address in email_message.recipients()]
        raw = dkim_sign(email_message.message().as_bytes(linesep="\r\n"))
        try:
            options = []
            if not raw.isascii():
                self.connection.ehlo_or_helo_if_needed()  # the server's extensions are known after EHLO
                if self.connection.has_extn("8bitmime"):
                    options.append("BODY=8BITMIME")
            self.connection.sendmail(from_email, recipients, raw, mail_options=options)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
