"""Live emails through the SMTP transport (``outreach.smtp_backend``) to a real SMTP server that
requires AUTH: DKIM-signed with the sending domain's key, and verified by dkimpy against the public
key a loopback DNS server publishes; the HELO name is ours to set; 8-bit mail declares 8BITMIME."""

from __future__ import annotations

import email
import re
import socket
from email import policy

import dkim
import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from outreach.checks import check_sending_identity
from outreach.dkim_signing import dkim_key_for
from outreach.dns import dkim_txt
from outreach.models import Message, MessageState
from tests.outreach.senders.mail_servers import (  # noqa: F401  (dkim_world: the fixture)
    DOMAIN,
    REQUIRED_SIGNED,
    SELECTOR,
    auth_smtp_server,
    dkim_world,
    send_through_smtp,
    smtp_connection,
)
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture, reused)

pytestmark = [
    pytest.mark.django_db,
    # AUTH without TLS: the server is on the loopback interface
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


def test_emails_are_dkim_signed_and_verify_against_the_key_in_dns(dkim_world, live_campaign):  # noqa: F811
    with auth_smtp_server() as (handler, controller):
        campaign = send_through_smtp(live_campaign, controller)

    assert len(handler.received) == 3 and mail.outbox == []
    stored = {m.rfc_message_id: m for m in Message.objects.filter(campaign=campaign)}
    for received in handler.received:
        assert received.authenticated  # the server refuses mail before AUTH
        # dkimpy looks the key up through outreach.dns, i.e. on the loopback server
        assert dkim.verify(received.raw, dnsfunc=dkim_txt), received.raw[:400]
        parsed = email.message_from_bytes(received.raw, policy=policy.default)
        tags = dict(
            part.strip().split("=", 1)
            for part in re.sub(r"\s+", "", str(parsed["DKIM-Signature"])).split(";")
            if part.strip()
        )
        assert tags["d"] == DOMAIN and tags["s"] == SELECTOR and tags["c"] == "relaxed/relaxed"
        assert REQUIRED_SIGNED | {"reply-to", "feedback-id"} <= set(tags["h"].lower().split(":"))
        message = stored[parsed["Message-ID"]]
        assert message.state == MessageState.SENT
        # tampering with a signed header breaks the signature: the verification above is real
        tampered = received.raw.replace(b"Subject: ", b"Subject: FREE ", 1)
        assert not dkim.verify(tampered, dnsfunc=dkim_txt)
    assert (f"{SELECTOR}._domainkey.{DOMAIN}", "TXT") in dkim_world.queries


def test_smtp_messages_are_7bit_and_introduce_the_configured_helo(dkim_world, live_campaign):  # noqa: F811
    with auth_smtp_server() as (handler, controller):
        send_through_smtp(live_campaign, controller, leads=1)
    (received,) = handler.received
    assert received.helo == "mta1.agency.example"
    # quoted-printable bodies, RFC 2047 headers: nothing 8-bit on the wire, no 8BITMIME needed
    assert received.raw.isascii() and "BODY=8BITMIME" not in received.mail_options
    parsed = email.message_from_bytes(received.raw, policy=policy.default)
    assert parsed["From"].addresses[0].display_name == "Zoë Müller, Northwind Fleet"
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"


def test_a_subdomain_without_a_key_is_signed_with_its_parent_domains(settings):
    settings.AICMO_DKIM_KEYS = {"northwind.example": {"selector": "p1", "private_key": "PEM"}}
    key = dkim_key_for(DOMAIN)
    assert key is not None and (key.domain, key.selector) == ("northwind.example", "p1")
    assert dkim_key_for("other.example") is None
    assert dkim_key_for("example") is None  # never a bare top-level domain's


def test_8bit_mail_declares_8bitmime_and_the_default_helo_is_the_hosts_fqdn(settings):
    settings.DEBUG = True  # this host's FQDN may be "localhost", refused with DEBUG off (next test)
    settings.AICMO_SMTP_HELO_NAME = ""
    settings.AICMO_DKIM_KEYS = {}
    with auth_smtp_server() as (handler, controller):
        sent = mail.EmailMessage(
            "Grüße",
            "Schöne Grüße aus Köln\n",
            "ops@agency.example",
            ["ada@example.com"],
            connection=smtp_connection(controller),
        ).send()
    assert sent == 1
    (received,) = handler.received
    assert not received.raw.isascii()  # Django's default: a UTF-8 body as 8bit
    assert "BODY=8BITMIME" in received.mail_options
    assert received.helo == socket.getfqdn()


def test_a_localhost_helo_is_refused_with_debug_off(settings):
    settings.DEBUG = False
    settings.AICMO_SMTP_HELO_NAME = "localhost"
    settings.EMAIL_BACKEND = "outreach.smtp_backend.EmailBackend"
    with auth_smtp_server() as (handler, controller):
        connection = smtp_connection(controller)
        with pytest.raises(ImproperlyConfigured, match="HELO"):
            connection.open()
    assert handler.received == []
    assert "outreach.E004" in {error.id for error in check_sending_identity()}
    settings.AICMO_SMTP_HELO_NAME = "mta1.agency.example"
    assert "outreach.E004" not in {error.id for error in check_sending_identity()}


def test_nameservers_setting_is_read_as_host_port_pairs(settings):
    from outreach.dns import configured_nameservers, resolver

    value = "127.0.0.1:5353, [::1]:54, 10.0.0.2"
    assert configured_nameservers(value) == [("127.0.0.1", 5353), ("::1", 54), ("10.0.0.2", 53)]
    settings.AICMO_DNS_NAMESERVERS = "127.0.0.1:5353"
    assert [(ns.address, ns.port) for ns in resolver().nameservers] == [("127.0.0.1", 5353)]
