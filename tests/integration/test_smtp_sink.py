"""Every email the engine sends, captured by a real SMTP server (aiosmtpd on 127.0.0.1) through
Django's SMTP backend: one recipient, RFC 8058 one-click unsubscribe headers that lead to our
``/u/<token>/`` view, and the Message-ID we stored for reply matching."""

from __future__ import annotations

import datetime as dt
import email
import re
from email import policy
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.urls import resolve

from outreach import views
from outreach.models import Message, MessageState
from outreach.services.cycle import run_cycle
from outreach.unsubscribe import make_unsubscribe_token
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture, reused)
from tests.smtp_sink import smtp_server  # noqa: F401  (the fixture: the bare server, no settings)

pytestmark = pytest.mark.django_db

ANGLE_TARGETS = re.compile(r"<([^<>]+)>")


def _smtp_connection(controller: Controller):
    return mail.get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=controller.hostname,
        port=controller.port,
        username="",
        password="",
        use_tls=False,
        use_ssl=False,
        timeout=10,
        fail_silently=False,
    )


@pytest.mark.parametrize("mailto", [None, "unsubscribe@agency.example"])
def test_every_sent_email_has_one_recipient_and_one_click_unsubscribe(
    smtp_server,  # noqa: F811  (the imported fixture)
    live_campaign,  # noqa: F811  (the imported fixture)
    client,
    settings,
    mailto,
):
    settings.AICMO_UNSUBSCRIBE_MAILTO = mailto
    handler, controller = smtp_server
    campaign, _ = live_campaign(leads=3)

    stats = run_cycle(campaign_id=campaign.pk, dry_run=False, connection=_smtp_connection(controller))

    assert stats.errors == [] and stats.sent == 3
    sent = {m.rfc_message_id: m for m in Message.objects.filter(campaign=campaign)}
    assert all(m.state == MessageState.SENT and not m.dry_run for m in sent.values())
    assert len(handler.envelopes) == len(sent) == 3
    assert mail.outbox == []  # they went through SMTP, not the test backend

    seen = set()
    for mail_from, rcpt_tos, raw in handler.envelopes:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        stored = sent[parsed["Message-ID"]]  # no header of ours names the message
        seen.add(stored.pk)

        # exactly one recipient, in the envelope and in the headers
        assert rcpt_tos == [stored.to_email]
        assert [a.addr_spec for a in parsed["To"].addresses] == [stored.to_email]
        assert parsed["Cc"] is None and parsed["Bcc"] is None
        assert mail_from == parseaddr(stored.from_email)[1]

        # RFC 2369 / RFC 8058 one-click unsubscribe
        targets = ANGLE_TARGETS.findall(str(parsed["List-Unsubscribe"]))
        web = [t for t in targets if urlsplit(t).scheme in ("https", "http")]
        assert web == [stored.unsubscribe_url]
        mailtos = [t for t in targets if t.startswith("mailto:")]
        # the mailto's subject carries the enrollment's token: "unsubscribe <token>"
        token = make_unsubscribe_token(enrollment_id=stored.enrollment_id)
        subject = quote(f"unsubscribe {token}", safe="")
        assert mailtos == ([f"mailto:{mailto}?subject={subject}"] if mailto else [])
        assert len(targets) == len(web) + len(mailtos)
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

        # the Message-ID replies will quote is the one stored on the message
        assert stored.rfc_message_id and parsed["Message-ID"] == stored.rfc_message_id
        assert parsed["Subject"] == stored.subject
        text_body = parsed.get_body(preferencelist=("plain",)).get_content()
        assert stored.unsubscribe_url in text_body  # the visible link too, not only the header

        # the unsubscribe URL resolves to our view and answers
        path = urlsplit(web[0]).path
        assert re.fullmatch(r"/u/[^/]+/", path)
        assert resolve(path).func is views.unsubscribe
        page = client.get(path)
        # for this recipient, the address masked (anyone holding the link may open the page)
        local, _, domain = stored.to_email.partition("@")
        assert page.status_code == 200 and f"{local[0]}…@{domain}" in page.content.decode()
        assert stored.to_email not in page.content.decode()
    assert seen == {m.pk for m in sent.values()}


def test_one_click_post_from_a_captured_email_stops_the_sequence(
    smtp_server,  # noqa: F811  (the imported fixture)
    live_campaign,  # noqa: F811  (the imported fixture)
    client,
    frozen_now,
):
    handler, controller = smtp_server
    campaign, _ = live_campaign(leads=2, follow_up=True)
    run_cycle(campaign_id=campaign.pk, dry_run=False, connection=_smtp_connection(controller))
    assert len(handler.envelopes) == 2
    parsed = email.message_from_bytes(handler.envelopes[0][2], policy=policy.default)
    url = ANGLE_TARGETS.findall(str(parsed["List-Unsubscribe"]))[0]
    unsubscribed = parsed["To"].addresses[0].addr_spec

    response = client.post(urlsplit(url).path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200

    frozen_now.shift(dt.timedelta(days=3))  # the follow-up step is due
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False, connection=_smtp_connection(controller))

    assert stats.errors == [] and stats.sent == 1
    follow_up_recipients = [rcpt_tos for _, rcpt_tos, _ in handler.envelopes[2:]]
    assert len(follow_up_recipients) == 1 and follow_up_recipients[0] != [unsubscribed]


def test_sent_emails_carry_the_clients_postal_address(
    smtp_server,  # noqa: F811  (the imported fixture)
    live_campaign,  # noqa: F811  (the imported fixture)
):
    handler, controller = smtp_server
    campaign, _ = live_campaign(leads=1)  # its compliance policy says "1 Test Street, Testville"

    run_cycle(campaign_id=campaign.pk, dry_run=False, connection=_smtp_connection(controller))

    parsed = email.message_from_bytes(handler.envelopes[0][2], policy=policy.default)
    assert "1 Test Street, Testville" in parsed.get_body(preferencelist=("plain",)).get_content()
