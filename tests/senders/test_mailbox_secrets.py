"""Mailbox passwords: encrypted at rest (MultiFernet, AICMO_SECRET_KEYS), rotated by a command,
never shown in the admin or the API, and a "test connection" against a real SMTP server."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography.fernet import Fernet, InvalidToken
from django.core.checks import Error
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from campaigns.models import AuditEvent
from outreach.models import MailboxTransport, SendingMailbox, SmtpSecurity
from outreach.secrets_checks import check_secret_keys
from outreach.services.mailboxes import set_mailbox_secrets
from outreach.transports import connection_for, probe_connection
from tests.smtp_sink import free_port

SMTP_PASSWORD = "smtp-password-7f3c9e"
IMAP_PASSWORD = "imap-password-41ad0b"


def raw_tokens(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT smtp_password_token, imap_password_token FROM outreach_sendingmailbox WHERE id = %s", [pk]
        )
        return cursor.fetchone()


@pytest.fixture
def smtp_mailbox(db, secret_keys, operator):
    box = SendingMailbox.objects.create(
        email="zoe@mail.northwind.example",
        transport=MailboxTransport.SMTP,
        smtp_host="127.0.0.1",
        smtp_port=2525,
        smtp_security=SmtpSecurity.NONE,
        smtp_username="zoe",
        imap_host="",
    )
    set_mailbox_secrets(mailbox=box, actor=operator, smtp_password=SMTP_PASSWORD, imap_password=IMAP_PASSWORD)
    return box


def test_secrets_are_encrypted_in_the_database(smtp_mailbox, secret_keys):
    smtp_token, imap_token = raw_tokens(smtp_mailbox.pk)
    assert SMTP_PASSWORD not in smtp_token and IMAP_PASSWORD not in imap_token
    assert Fernet(secret_keys[0].encode()).decrypt(smtp_token.encode()).decode() == SMTP_PASSWORD
    fresh = SendingMailbox.objects.get(pk=smtp_mailbox.pk)
    assert fresh.secret("smtp_password") == SMTP_PASSWORD and fresh.secret("imap_password") == IMAP_PASSWORD
    assert SMTP_PASSWORD not in repr(fresh) + str(fresh)
    event = AuditEvent.objects.get(verb="mailbox.secrets_changed")
    assert event.metadata["secrets"] == ["smtp_password", "imap_password"]
    assert SMTP_PASSWORD not in str(event.metadata)


def test_rotation_reencrypts_with_the_first_key(smtp_mailbox, secret_keys, settings):
    old, new = secret_keys
    settings.AICMO_SECRET_KEYS = f"{new},{old}"  # the new key first; the old one still decrypts
    before = raw_tokens(smtp_mailbox.pk)
    call_command("rotate_mailbox_secrets")
    after = raw_tokens(smtp_mailbox.pk)
    assert after != before
    assert Fernet(new.encode()).decrypt(after[0].encode()).decode() == SMTP_PASSWORD
    settings.AICMO_SECRET_KEYS = new  # the old key dropped: everything still opens
    assert SendingMailbox.objects.get(pk=smtp_mailbox.pk).secret("imap_password") == IMAP_PASSWORD
    settings.AICMO_SECRET_KEYS = old  # and the old key alone no longer does
    with pytest.raises(InvalidToken):
        SendingMailbox.objects.get(pk=smtp_mailbox.pk).secret("smtp_password")


def test_production_refuses_to_start_without_a_key(settings):
    settings.DEBUG = False
    settings.AICMO_SECRET_KEYS = ""
    errors = check_secret_keys()
    assert [e.id for e in errors] == ["outreach.E010"] and isinstance(errors[0], Error)
    settings.AICMO_SECRET_KEYS = "not-a-key"
    assert [e.id for e in check_secret_keys()] == ["outreach.E011"]
    settings.AICMO_SECRET_KEYS = Fernet.generate_key().decode()
    assert check_secret_keys() == []


def test_the_admin_never_shows_a_secret(smtp_mailbox, client, operator):
    client.force_login(operator)
    token = raw_tokens(smtp_mailbox.pk)[0]
    page = client.get(
        reverse("admin:outreach_sendingmailbox_change", args=[smtp_mailbox.pk])
    ).content.decode()
    listing = client.get(reverse("admin:outreach_sendingmailbox_changelist")).content.decode()
    for html in (page, listing):
        assert SMTP_PASSWORD not in html and IMAP_PASSWORD not in html and token not in html
    assert "SMTP: set · IMAP: set" in page
    assert 'name="smtp_password"' in page and 'type="password"' in page


def test_the_admin_keeps_a_password_left_empty_and_replaces_a_new_one(smtp_mailbox, client, operator):
    client.force_login(operator)
    url = reverse("admin:outreach_sendingmailbox_change", args=[smtp_mailbox.pk])
    form = {
        "email": smtp_mailbox.email,
        "display_name": "Zoë Müller",
        "daily_cap": 40,
        "is_active": "on",
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
        "smtp_security": "none",
        "smtp_username": "zoe",
        "smtp_password": "",
        "imap_host": "",
        "imap_port": 993,
        "imap_folder": "INBOX",
        "imap_password": "a-new-imap-password",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    fresh = SendingMailbox.objects.get(pk=smtp_mailbox.pk)
    assert fresh.secret("smtp_password") == SMTP_PASSWORD  # kept
    assert fresh.secret("imap_password") == "a-new-imap-password"


def test_the_api_never_shows_a_secret(smtp_mailbox, live_campaign, api_as, operator):
    from outreach.models import Sequence

    Sequence.objects.create(campaign=live_campaign, name="Main", mailbox=smtp_mailbox)
    token = raw_tokens(smtp_mailbox.pk)[0]
    api = api_as(operator)
    for url in (
        f"/api/v1/campaigns/{live_campaign.pk}/cycle-preview/",
        f"/api/v1/campaigns/{live_campaign.pk}/",
        f"/api/v1/campaigns/{live_campaign.pk}/sender-identity/",
    ):
        body = api.get(url).content.decode()
        assert SMTP_PASSWORD not in body and token not in body and "password" not in body.lower(), url


class _Authenticator:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"zoe" and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server():
    controller = Controller(
        _Handler(),
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_Authenticator(),
        auth_require_tls=False,
    )
    controller.start()
    yield controller
    controller.stop()


class _Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def test_test_connection_logs_in_to_the_mailboxs_smtp_server(smtp_mailbox, smtp_server):
    smtp_mailbox.smtp_port = smtp_server.port
    smtp_mailbox.save()
    result = probe_connection(smtp_mailbox)
    assert result.ok, result.message
    assert "connected and logged in as zoe" in result.message

    set_mailbox_secrets(mailbox=smtp_mailbox, smtp_password="wrong")
    result = probe_connection(smtp_mailbox)
    assert not result.ok and "refused the username or password (535)" in result.message
    assert "wrong" not in result.message


def test_connection_for_uses_the_mailboxs_smtp_settings(smtp_mailbox, settings):
    conn = connection_for(smtp_mailbox)
    assert type(conn).__module__ == "outreach.smtp_backend"
    assert (conn.host, conn.port, conn.username, conn.password) == ("127.0.0.1", 2525, "zoe", SMTP_PASSWORD)
    assert not conn.use_tls and not conn.use_ssl
    smtp_mailbox.transport = MailboxTransport.ESP
    assert type(connection_for(smtp_mailbox)).__module__ != "outreach.smtp_backend"
    assert type(connection_for(None)).__module__ != "outreach.smtp_backend"
