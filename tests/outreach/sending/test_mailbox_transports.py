"""Issue 18 point 2 on the send path: a message from an SMTP mailbox goes through that mailbox's own
server and credentials, on the worker's send threads; every other message through the site's
backend. Each send thread opens one connection per transport it uses in a run."""

from __future__ import annotations

import email
from email import policy

import pytest
from cryptography.fernet import Fernet
from django.core import mail

from outreach.models import MailboxTransport, Message, MessageState, SendingMailbox, SmtpSecurity
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from tests.outreach.senders.mail_servers import PASSWORD, USERNAME, auth_smtp_server

pytestmark = pytest.mark.django_db


def smtp_mailbox(controller) -> SendingMailbox:
    mailbox = SendingMailbox(
        email="ops@mail.northwind.example",
        display_name="Northwind Ops",
        transport=MailboxTransport.SMTP,
        smtp_host=controller.hostname,
        smtp_port=controller.port,
        smtp_security=SmtpSecurity.NONE,
        smtp_username=USERNAME,
    )
    mailbox.set_secret("smtp_password", PASSWORD)
    mailbox.save()
    return mailbox


def due(live_campaign, leads: int, mailbox: SendingMailbox | None = None):
    campaign, sequence = live_campaign(leads=leads, cap=100)
    if mailbox is not None:
        type(sequence).objects.filter(pk=sequence.pk).update(mailbox=mailbox)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    return campaign


def test_an_smtp_mailboxs_messages_go_through_its_own_server_on_the_send_threads(live_campaign, settings):
    settings.OUTREACH_SEND_CONCURRENCY = 4  # the send threads, not a caller's connection
    settings.AICMO_SECRET_KEYS = Fernet.generate_key().decode()  # the password is stored encrypted
    settings.AICMO_SMTP_HELO_NAME = "relay.northwind.example"
    with auth_smtp_server() as (handler, controller):
        through_mailbox = due(live_campaign, 6, smtp_mailbox(controller))
        through_site = due(live_campaign, 3)
        stats = send_due_messages(campaign_id=through_mailbox.pk, dry_run=False)
        assert stats.sent == 6, list(Message.objects.values_list("last_error", flat=True))
        assert send_due_messages(campaign_id=through_site.pk, dry_run=False).sent == 3

    # The mailbox's server got exactly its six, after AUTH with the decrypted password.
    assert len(handler.received) == 6 and all(received.authenticated for received in handler.received)
    received_ids = {
        email.message_from_bytes(received.raw, policy=policy.default)["Message-ID"]
        for received in handler.received
    }
    assert received_ids == set(
        Message.objects.filter(campaign=through_mailbox).values_list("rfc_message_id", flat=True)
    )
    # The site's backend (locmem in tests) got the other campaign's three, and none of the six.
    assert sorted(sent.to[0] for sent in mail.outbox) == sorted(
        Message.objects.filter(campaign=through_site).values_list("to_email", flat=True)
    )
    assert Message.objects.exclude(state=MessageState.SENT).count() == 0
