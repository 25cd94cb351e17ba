"""Reading replies from each mailbox's IMAP inbox (imapclient), for the reply inbox.

A poll opens the folder read-only and fetches with ``BODY.PEEK`` (nothing is marked read: people may
use the same mailbox), only the UIDs above the last one read, and at most
``AICMO_REPLY_FETCH_BYTES`` of each email (a 5 MB reply with attachments is read in part: its text
is kept, its attachments never are). Every email goes through ``ingest_email``: recorded once per
(mailbox, UIDVALIDITY, UID), and once per Message-ID, so a folder whose UIDVALIDITY changed is read
again from its start without duplicating anything.

A mailbox's failure (login refused, timeout, TLS) is written on it (``imap_last_error``,
``imap_polled_at``) and never stops the others."""

from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from ...models import SendingMailbox
from .ingest import ingest_email

__all__ = ["PollResult", "imap_mailboxes", "open_imap", "poll_all_mailboxes", "poll_mailbox"]
logger = logging.getLogger(__name__)

FETCH_BATCH = 100
POLL_ERRORS = (IMAPClientError, OSError, ssl.SSLError, UnicodeError)


@dataclass
class PollResult:
    mailbox_id: int
    fetched: int = 0  # emails read from the server
    recorded: int = 0  # new replies stored
    error: str = ""
    uidvalidity_changed: bool = False
    uids: list[int] = field(default_factory=list)


def imap_mailboxes():
    """Mailboxes with IMAP settings, whether or not they still send: replies keep coming."""
    return SendingMailbox.objects.exclude(Q(imap_host="") | Q(imap_username="")).order_by("id")


def _tls_context() -> ssl.SSLContext:
    # A private CA (a self-hosted server, the test Dovecot) is added by AICMO_IMAP_CA_FILE.
    return ssl.create_default_context(cafile=settings.AICMO_IMAP_CA_FILE or None)


def open_imap(mailbox: SendingMailbox) -> IMAPClient:
    """Connected (TLS from the start, or STARTTLS on a plain port) and logged in."""
    timeout = settings.AICMO_IMAP_TIMEOUT_SECONDS
    if mailbox.imap_ssl:
        client = IMAPClient(
            mailbox.imap_host, port=mailbox.imap_port, ssl=True, ssl_context=_tls_context(), timeout=timeout
        )
    else:
        client = IMAPClient(mailbox.imap_host, port=mailbox.imap_port, ssl=False, timeout=timeout)
        client.starttls(_tls_context())
    client.normalise_times = False  # aware INTERNALDATEs
    try:
        client.login(mailbox.imap_username, mailbox.secret("imap_password"))
    except Exception:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (*POLL_ERRORS, AttributeError):
        try:
            client.shutdown()
        except (*POLL_ERRORS, AttributeError):
            pass


def _error_text(mailbox: SendingMailbox, exc: Exception) -> str:
    where = f"IMAP {mailbox.imap_host}:{mailbox.imap_port}"
    if isinstance(exc, LoginError):
        why = f"login refused for {mailbox.imap_username} ({str(exc)[:200]})"
    elif isinstance(exc, ssl.SSLError):
        why = f"TLS failed ({exc.reason or exc.__class__.__name__}); check the port and TLS setting"
    elif isinstance(exc, socket.timeout | TimeoutError):
        why = f"no answer within {settings.AICMO_IMAP_TIMEOUT_SECONDS} s"
    elif isinstance(exc, ConnectionRefusedError):
        why = "connection refused (wrong host or port?)"
    elif isinstance(exc, socket.gaierror):
        why = "the host name does not resolve"
    elif isinstance(exc, UnicodeError):  # never its text: it quotes the character
        why = "the username or password holds characters the login cannot send"
    else:
        why = f"{exc.__class__.__name__}: {str(exc)[:200]}"
    return f"{where}: {why}"[:500]


def poll_mailbox(mailbox: SendingMailbox | int) -> PollResult:
    """Read the mailbox's new emails into the inbox. Never raises for the server's failures: they
    are recorded on the mailbox and returned."""
    if not isinstance(mailbox, SendingMailbox):
        mailbox = SendingMailbox.objects.get(pk=mailbox)
    result = PollResult(mailbox_id=mailbox.pk)
    try:
        _poll(mailbox, result)
    except POLL_ERRORS as exc:
        result.error = _error_text(mailbox, exc)
        logger.warning("reply inbox: mailbox %s: %s", mailbox.pk, result.error)
    SendingMailbox.objects.filter(pk=mailbox.pk).update(
        imap_polled_at=timezone.now(), imap_last_error=result.error
    )
    return result


def _poll(mailbox: SendingMailbox, result: PollResult) -> None:
    client = open_imap(mailbox)
    try:
        selected = client.select_folder(mailbox.imap_folder or "INBOX", readonly=True)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last_uid = mailbox.imap_last_uid
        if mailbox.imap_uidvalidity is not None and mailbox.imap_uidvalidity != uidvalidity:
            # The server renumbered the folder: every UID we knew is void. Read it all again;
            # Message-IDs keep what we have from being stored twice.
            logger.info("reply inbox: mailbox %s UIDVALIDITY changed; re-reading the folder", mailbox.pk)
            result.uidvalidity_changed = True
            last_uid = 0
        if mailbox.imap_uidvalidity != uidvalidity or last_uid != mailbox.imap_last_uid:
            SendingMailbox.objects.filter(pk=mailbox.pk).update(
                imap_uidvalidity=uidvalidity, imap_last_uid=last_uid
            )
            mailbox.imap_uidvalidity, mailbox.imap_last_uid = uidvalidity, last_uid
        # "N:*" answers the highest UID even when it is below N: keep only the new ones.
        uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
        limit = settings.AICMO_REPLY_FETCH_BYTES
        part = f"BODY.PEEK[]<0.{limit}>"
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched = client.fetch(batch, ["RFC822.SIZE", "INTERNALDATE", part])
            for uid in batch:
                data = fetched.get(uid)
                if data is None:  # expunged meanwhile
                    continue
                raw = data.get(b"BODY[]<0>") or data.get(b"BODY[]") or b""
                size = int(data.get(b"RFC822.SIZE") or len(raw))
                reply = ingest_email(
                    raw,
                    mailbox=mailbox,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    full_size=size,
                    received_at=data.get(b"INTERNALDATE"),
                )
                result.fetched += 1
                if getattr(reply, "just_recorded", False):  # not an email we had by its Message-ID
                    result.recorded += 1
                result.uids.append(uid)
            # Progress kept per batch: a poll cut short resumes after what it stored.
            SendingMailbox.objects.filter(pk=mailbox.pk).update(imap_last_uid=batch[-1])
            mailbox.imap_last_uid = batch[-1]
    finally:
        _close(client)


def poll_all_mailboxes() -> list[PollResult]:
    """Every mailbox with IMAP settings, one after the other; one's failure never stops the rest."""
    results = []
    for mailbox in imap_mailboxes():
        try:
            results.append(poll_mailbox(mailbox))
        except Exception as exc:
            logger.exception("reply inbox: polling mailbox %s failed", mailbox.pk)
            error = f"{exc.__class__.__name__}: {str(exc)[:300]}"
            SendingMailbox.objects.filter(pk=mailbox.pk).update(
                imap_polled_at=timezone.now(), imap_last_error=error
            )
            results.append(PollResult(mailbox_id=mailbox.pk, error=error))
    return results
