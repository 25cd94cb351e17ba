"""Fixtures of the reply inbox tests: a sent campaign (the sending tests' ``live_campaign``), a real
Dovecot IMAP server (``dovecot``, once per session), mailboxes whose inbox is on it, and emails built
as a lead's mail client would write them."""

from __future__ import annotations

import email.policy
import itertools
import os
import ssl
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone
from imapclient import IMAPClient

from outreach.models import Message, SendingMailbox
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from tests.outreach.sending.conftest import live_campaign, scripted_backend  # noqa: F401  (fixtures)
from tests.role_fixtures import operator_role_user  # noqa: F401  (fixture)

from .dovecot import HOST, PASSWORD, dovecot_binary, start_dovecot

CORPUS = Path(__file__).resolve().parents[1] / "replies" / "corpus"
_serial = itertools.count(1)


@pytest.fixture
def sent(live_campaign):  # noqa: F811
    """A live campaign whose first step went out to 3 leads (a follow-up step waits)."""
    campaign, sequence = live_campaign(leads=3, follow_up=True)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    return campaign, list(Message.objects.filter(campaign=campaign).order_by("id"))


def reply_email(
    message: Message | None,
    *,
    text: str = "Sounds good, tell me more.",
    sender: str | None = None,
    subject: str | None = None,
    thread: bool = True,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    """A reply as a mail client writes it: quoting our Message-ID unless ``thread`` is False."""
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = sender or (message.to_email if message else "someone@nowhere.example")
    mail["To"] = message.from_email if message else "inbox@agency.example"
    mail["Subject"] = subject if subject is not None else f"Re: {message.subject if message else 'hello'}"
    mail["Date"] = format_datetime(timezone.now())
    mail["Message-ID"] = message_id or f"<reply-{next(_serial)}-{os.getpid()}@client.example>"
    if thread and message is not None:
        mail["In-Reply-To"] = message.rfc_message_id
        mail["References"] = message.rfc_message_id
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    return mail.as_bytes()


def corpus_email(path: str, message: Message) -> bytes:
    """A corpus email (the classifier's test set) re-addressed: from the lead, answering ``message``."""
    mail = BytesParser(policy=email.policy.default).parsebytes((CORPUS / path).read_bytes())
    for name, value in (("From", message.to_email), ("In-Reply-To", message.rfc_message_id)):
        del mail[name]
        mail[name] = value
    del mail["References"]
    mail["References"] = message.rfc_message_id
    return mail.as_bytes(policy=email.policy.SMTP)


@pytest.fixture(scope="session")
def dovecot():
    if dovecot_binary() is None:
        if os.environ.get("AICMO_REQUIRE_DOVECOT"):
            pytest.fail(
                "AICMO_REQUIRE_DOVECOT is set but dovecot is not installed (apt-get install dovecot-imapd)"
            )
        pytest.skip(
            "dovecot is not installed (apt-get install dovecot-imapd); "
            "set AICMO_REQUIRE_DOVECOT to fail instead"
        )
    server = start_dovecot()
    yield server
    server.stop()


class ImapInbox:
    """One user's inbox on the test Dovecot: what a lead's reply lands in."""

    def __init__(self, server, username: str, password: str, folder: str = "INBOX"):
        self.server, self.username, self.password, self.folder = server, username, password, folder

    def client(self) -> IMAPClient:
        imap = IMAPClient(HOST, port=self.server.ssl_port, ssl=True, ssl_context=self.context(), timeout=10)
        imap.login(self.username, self.password)
        return imap

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.server.ca_file)

    def deliver(self, *emails: bytes) -> None:
        with self.client() as imap:
            if not imap.folder_exists(self.folder):
                imap.create_folder(self.folder)
            for raw in emails:
                imap.append(self.folder, raw)

    def recreate_folder(self) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        with self.client() as imap:
            imap.delete_folder(self.folder)
            imap.create_folder(self.folder)


@pytest.fixture
def imap_inbox(dovecot, settings, db):
    """``make(email, …)``: a SendingMailbox whose inbox is a fresh user on the test Dovecot."""
    settings.AICMO_IMAP_CA_FILE = dovecot.ca_file
    settings.AICMO_SECRET_KEYS = Fernet.generate_key().decode()  # mailbox passwords are encrypted

    def make(address: str | None = None, *, folder: str = "Replies", starttls=False):
        n = next(_serial)
        address = address or f"sender{n}-{os.getpid()}@agency.example"
        username = f"{address}.{n}"  # a fresh Maildir per test, whatever the address
        password = PASSWORD
        mailbox = SendingMailbox(
            email=address,
            imap_host=HOST,
            imap_port=dovecot.port if starttls else dovecot.ssl_port,
            imap_ssl=not starttls,
            imap_username=username,
            imap_folder=folder,
        )
        mailbox.set_secret("imap_password", password)
        mailbox.save()
        inbox = ImapInbox(dovecot, username, password, folder)
        inbox.deliver()  # the folder exists before the first poll
        return mailbox, inbox

    return make
