"""Real servers the sender tests talk to: an SMTP server that requires AUTH (aiosmtpd), and DKIM keys
whose public half a loopback DNS server (``tests.dns_server``) publishes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail

from outreach.models import SendingMailbox, Sequence
from outreach.services.cycle import run_cycle
from tests.dns_server import LoopbackDNS
from tests.smtp_sink import free_port

USERNAME, PASSWORD = "relay-user", "relay-pass"


@dataclass
class Received:
    helo: str
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    authenticated: bool
    raw: bytes


@dataclass
class AuthSmtpHandler:
    """Keeps every accepted transaction; ``rcpt_replies`` answer RCPT TO in turn (then 250)."""

    received: list[Received] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(
            Received(
                helo=session.host_name,
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                mail_options=list(envelope.mail_options),
                authenticated=bool(session.authenticated),
                raw=bytes(envelope.original_content or envelope.content),
            )
        )
        return "250 Message accepted for delivery"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@contextmanager
def auth_smtp_server() -> Iterator[tuple[AuthSmtpHandler, Controller]]:
    """An SMTP server on 127.0.0.1 that refuses mail before AUTH (PLAIN/LOGIN, without TLS: loopback)."""
    handler = AuthSmtpHandler()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield handler, controller
    finally:
        controller.stop()


def smtp_connection(controller: Controller, backend: str = "outreach.smtp_backend.EmailBackend"):
    return mail.get_connection(
        backend,
        host=controller.hostname,
        port=controller.port,
        username=USERNAME,
        password=PASSWORD,
        use_tls=False,
        use_ssl=False,
        timeout=10,
        fail_silently=False,
    )


@dataclass(frozen=True)
class DkimKeyPair:
    private_pem: str  # PKCS#1, as dkimpy reads it
    dns_txt: str  # the record a domain publishes at <selector>._domainkey.<domain>


def new_dkim_key() -> DkimKeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return DkimKeyPair(private_pem, f"v=DKIM1; k=rsa; p={base64.b64encode(public_der).decode()}")


DOMAIN = "mail.northwind.example"
SELECTOR = "s2026"
REQUIRED_SIGNED = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
}


@pytest.fixture
def dkim_world(settings):
    """A DKIM key for DOMAIN, its public half on a loopback DNS server the app is pointed at."""
    key = new_dkim_key()
    with LoopbackDNS({f"{SELECTOR}._domainkey.{DOMAIN}": {"TXT": [key.dns_txt]}}) as dns_server:
        settings.AICMO_DNS_NAMESERVERS = dns_server.nameservers
        settings.AICMO_DKIM_KEYS = {DOMAIN: {"selector": SELECTOR, "private_key": key.private_pem}}
        settings.AICMO_SMTP_HELO_NAME = "mta1.agency.example"
        settings.PUBLIC_BASE_URL = "https://aicmo.agency.example"
        settings.AICMO_REQUIRE_HTTPS_UNSUBSCRIBE = True
        settings.AICMO_UNSUBSCRIBE_MAILTO = "unsubscribe@agency.example"
        yield dns_server


def send_through_smtp(live_campaign, controller, *, leads=3):
    """Live emails from a mailbox on DOMAIN (a display name with a comma), through the SMTP transport."""
    campaign, sequence = live_campaign(leads=leads)
    mailbox = SendingMailbox.objects.create(
        email=f"zoe@{DOMAIN}",
        display_name="Zoë Müller, Northwind Fleet",  # a comma: must be quoted
        reply_to="replies@northwind.example",
        client=campaign.client,
    )
    Sequence.objects.filter(pk=sequence.pk).update(mailbox=mailbox)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False, connection=smtp_connection(controller))
    assert stats.errors == [] and stats.sent == leads, stats
    return campaign
