"""A mailbox's own transport: the connection its sends go through, and a "test connection" probe.

``connection_for(mailbox)``: for an SMTP mailbox, an ``outreach.smtp_backend.EmailBackend`` (DKIM
signing, a real HELO name) on the mailbox's server and credentials; for an ESP mailbox or none, the
site's ``EMAIL_BACKEND`` (anymail). The send loop opens one per mailbox and passes it as
``connection=`` when it sends that mailbox's messages (docs/senders.md).

``probe_connection(mailbox)``: SMTP connect + EHLO (+ STARTTLS) + AUTH, and IMAP login + folder
select; a short sentence for the operator. Error texts never carry the password (a server's reply
to AUTH echoes only its own words, and our messages name the host and user only).
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import socket
import ssl
from dataclasses import dataclass

from django.core.mail import get_connection

from .models import MailboxTransport, SendingMailbox, SmtpSecurity

__all__ = ["SMTP_BACKEND", "ConnectionTest", "connection_for", "probe_connection"]

SMTP_BACKEND = "outreach.smtp_backend.EmailBackend"
TIMEOUT_SECONDS = 15


def connection_for(mailbox: SendingMailbox | None, **kwargs):
    """A Django email backend connection for the mailbox's sends (not yet opened)."""
    if mailbox is None or mailbox.transport != MailboxTransport.SMTP:
        return get_connection(**kwargs)
    return get_connection(
        SMTP_BACKEND,
        host=mailbox.smtp_host,
        port=mailbox.smtp_port,
        username=mailbox.smtp_username or None,
        password=mailbox.secret("smtp_password") or None,
        use_tls=mailbox.smtp_security == SmtpSecurity.STARTTLS,
        use_ssl=mailbox.smtp_security == SmtpSecurity.TLS,
        timeout=kwargs.pop("timeout", TIMEOUT_SECONDS),
        **kwargs,
    )


@dataclass(frozen=True)
class ConnectionTest:
    ok: bool
    message: str


def _login(server: smtplib.SMTP, username: str, password: str) -> None:
    """AUTH with one mechanism the server offers. Unlike ``SMTP.login`` it does not try the next
    mechanism after a 535: the answer to wrong credentials is the answer."""
    if not server.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH")
    offered = server.esmtp_features["auth"].upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN", "CRAM-MD5") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPNotSupportedError(f"no AUTH mechanism we speak ({' '.join(offered)})")
    server.user, server.password = username, password
    server.auth(mechanism, getattr(server, "auth_" + mechanism.lower().replace("-", "_")))


def _smtp(mailbox: SendingMailbox) -> str:
    """Connect, EHLO, STARTTLS where set, AUTH where a username is set. Raises on failure."""
    from .smtp_backend import helo_name

    context = ssl.create_default_context()
    if mailbox.smtp_security == SmtpSecurity.TLS:
        server = smtplib.SMTP_SSL(
            mailbox.smtp_host,
            mailbox.smtp_port,
            local_hostname=helo_name(),
            timeout=TIMEOUT_SECONDS,
            context=context,
        )
    else:
        server = smtplib.SMTP(
            mailbox.smtp_host, mailbox.smtp_port, local_hostname=helo_name(), timeout=TIMEOUT_SECONDS
        )
    try:
        server.ehlo()
        if mailbox.smtp_security == SmtpSecurity.STARTTLS:
            server.starttls(context=context)
            server.ehlo()
        if mailbox.smtp_username:
            _login(server, mailbox.smtp_username, mailbox.secret("smtp_password"))
            where = f"SMTP {mailbox.smtp_host}:{mailbox.smtp_port}"
            return f"{where}: connected and logged in as {mailbox.smtp_username}"
        return f"SMTP {mailbox.smtp_host}:{mailbox.smtp_port}: connected (no username: no login tried)"
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


def _imap(mailbox: SendingMailbox) -> str:
    if mailbox.imap_ssl:
        client = imaplib.IMAP4_SSL(
            mailbox.imap_host,
            mailbox.imap_port,
            ssl_context=ssl.create_default_context(),
            timeout=TIMEOUT_SECONDS,
        )
    else:
        client = imaplib.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=TIMEOUT_SECONDS)
        client.starttls(ssl_context=ssl.create_default_context())
    try:
        client.login(mailbox.imap_username, mailbox.secret("imap_password"))
        status, _ = client.select(mailbox.imap_folder or "INBOX", readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(f"folder {mailbox.imap_folder!r} not found")
        return f"IMAP {mailbox.imap_host}:{mailbox.imap_port}: logged in, folder {mailbox.imap_folder} opened"
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _failure(kind: str, host: str, port: int, exc: Exception) -> str:
    if isinstance(exc, UnicodeError):  # never its text: it quotes the character
        why = "the username or password holds characters the login cannot send (ASCII only)"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        why = f"the server refused the username or password ({exc.smtp_code})"
    elif isinstance(exc, imaplib.IMAP4.error):
        why = f"the server refused: {str(exc)[:200]}"
    elif isinstance(exc, ssl.SSLError):
        why = f"TLS failed ({exc.reason or exc.__class__.__name__}); check the security setting and port"
    elif isinstance(exc, socket.timeout | TimeoutError):
        why = f"no answer within {TIMEOUT_SECONDS} s"
    elif isinstance(exc, ConnectionRefusedError):
        why = "connection refused (wrong host or port?)"
    elif isinstance(exc, socket.gaierror):
        why = "the host name does not resolve"
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        why = f"the server does not offer it: {str(exc)[:200]}"
    else:
        why = f"{exc.__class__.__name__}: {str(exc)[:200]}"
    return f"{kind} {host}:{port}: {why}"


def probe_connection(mailbox: SendingMailbox) -> ConnectionTest:
    """Probe what the mailbox has: its SMTP server (SMTP transport) and its IMAP inbox (if set)."""
    results: list[str] = []
    ok = True
    if mailbox.transport == MailboxTransport.SMTP:
        if not mailbox.smtp_host:
            return ConnectionTest(False, "SMTP transport without an SMTP host: set one first.")
        try:
            results.append(_smtp(mailbox))
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            ok = False
            results.append(_failure("SMTP", mailbox.smtp_host, mailbox.smtp_port, exc))
    else:
        results.append("ESP transport: sends go through the site's EMAIL_BACKEND (nothing to probe here)")
    if mailbox.imap_host:
        try:
            results.append(_imap(mailbox))
        except (imaplib.IMAP4.error, OSError, UnicodeError) as exc:
            ok = False
            results.append(_failure("IMAP", mailbox.imap_host, mailbox.imap_port, exc))
    return ConnectionTest(ok, "; ".join(results) + ".")
