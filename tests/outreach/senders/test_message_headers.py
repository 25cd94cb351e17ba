"""What every outreach email carries, and what it no longer does (issue 18's message-level bugs):
the display name quoted, Reply-To from the mailbox, no product header, random Message-IDs on the
sending domain, a per-client Feedback-ID, plain text by default, tracking off, https unsubscribe."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from campaigns.services.sender_identity import set_sender_identity
from creative.checks.base import CheckSettings, CreativeContent
from creative.checks.compliance import check_merge_fields
from outreach.checks import check_sending_identity
from outreach.models import Message, MessageEvent, MessageEventKind, MessageState, SendingMailbox, Sequence
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import TrackingInput, record_tracking_events
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture, reused)

pytestmark = pytest.mark.django_db
RANDOM_ID = re.compile(r"<([0-9a-f]{32})@([a-z0-9.-]+)>")


def send(campaign, sequence, *, mailbox=None, **sequence_fields):
    if mailbox is not None or sequence_fields:
        Sequence.objects.filter(pk=sequence.pk).update(
            **({"mailbox": mailbox} if mailbox is not None else {}), **sequence_fields
        )
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    return send_due_messages(campaign_id=campaign.pk, dry_run=False)


def test_a_display_name_with_a_comma_sends_quoted_with_the_mailboxs_reply_to(live_campaign):  # noqa: F811
    campaign, sequence = live_campaign(leads=2)
    mailbox = SendingMailbox.objects.create(
        email="zoe@mail.northwind.example",
        display_name="Zoë Müller, Northwind Fleet",
        reply_to="replies@northwind.example",
    )
    stats = send(campaign, sequence, mailbox=mailbox)
    assert stats.sent == 2 and stats.failed == 0 and len(mail.outbox) == 2
    for sent in mail.outbox:
        built = sent.message()  # what the backend sends; "Invalid address" before the quoting
        assert built["Reply-To"] == "replies@northwind.example"
        assert sent.from_email == '"Zoë Müller, Northwind Fleet" <zoe@mail.northwind.example>'
    # the Message-ID is on the mailbox's domain (not the fallback) and names no product
    for message in Message.objects.all():
        found = RANDOM_ID.fullmatch(message.rfc_message_id)
        assert found and found.group(2) == "mail.northwind.example", message.rfc_message_id


def test_without_a_mailbox_the_sender_identitys_reply_to_is_on_every_message(live_campaign):  # noqa: F811
    campaign, sequence = live_campaign(leads=2)
    set_sender_identity(target=campaign.client, values={"sender_reply_to": "team@northwind.example"})
    stats = send(campaign, sequence)
    assert stats.sent == 2 and len(mail.outbox) == 2
    assert {sent.message()["Reply-To"] for sent in mail.outbox} == {"team@northwind.example"}
    assert set(Message.objects.values_list("reply_to", flat=True)) == {"team@northwind.example"}


def test_a_from_stored_before_the_quoting_still_sends(live_campaign):  # noqa: F811
    campaign, sequence = live_campaign(leads=1)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    Message.objects.update(from_email="Zoë Müller, Northwind Fleet <zoe@mail.northwind.example>")
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 1
    assert mail.outbox[0].message()["From"].endswith("<zoe@mail.northwind.example>")


def test_no_product_header_and_our_id_travels_as_esp_metadata_that_webhooks_match(live_campaign):  # noqa: F811
    campaign, sequence = live_campaign(leads=1)
    send(campaign, sequence)
    (sent,) = mail.outbox
    message = Message.objects.get()
    headers = sent.message()
    assert not [name for name in headers if "aicmo" in name.lower()]
    assert "aicmo" not in headers["Message-ID"].lower()
    assert sent.metadata == {"aicmo_message_id": str(message.pk), "campaign_id": str(campaign.pk)}
    # the ESP posts the metadata back with its events: that is how they find the message
    record_tracking_events(
        [TrackingInput(esp_name="test", event_type="delivered", event_id="d1", metadata=sent.metadata)]
    )
    assert MessageEvent.objects.get().message == message
    assert MessageEvent.objects.get().kind == MessageEventKind.DELIVERED


def test_feedback_id_per_client_tracking_off_and_plain_text_by_default(live_campaign):  # noqa: F811
    campaign, sequence = live_campaign(leads=1)
    send(campaign, sequence)
    (sent,) = mail.outbox
    assert sent.extra_headers["Feedback-ID"] == f"{campaign.pk}:{campaign.client_id}:outreach:localhost"
    assert sent.track_opens is False and sent.track_clicks is False  # anymail passes these to the ESP
    assert sent.alternatives == []  # plain text only: no HTML part
    assert Message.objects.get().body_html == ""


def test_a_sequence_may_send_html_too(live_campaign):  # noqa: F811
    campaign, sequence = live_campaign(leads=1)
    send(campaign, sequence, plain_text_only=False)
    (sent,) = mail.outbox
    assert [mimetype for _, mimetype in sent.alternatives] == ["text/html"]


def test_live_sending_refuses_an_http_unsubscribe_url(live_campaign, settings):  # noqa: F811
    settings.PUBLIC_BASE_URL = "http://aicmo.agency.example"
    settings.AICMO_REQUIRE_HTTPS_UNSUBSCRIBE = True
    campaign, sequence = live_campaign(leads=1)
    stats = send(campaign, sequence)
    assert stats.sent == 0 and mail.outbox == []
    message = Message.objects.get()
    assert message.state == MessageState.DEAD and "not https" in message.last_error
    settings.DEBUG = False
    assert "outreach.E003" in {error.id for error in check_sending_identity()}
    settings.PUBLIC_BASE_URL = "https://aicmo.agency.example"
    assert "outreach.E003" not in {error.id for error in check_sending_identity()}


def test_the_one_click_post_is_not_redirected_to_https(live_campaign, client, settings):  # noqa: F811
    settings.SECURE_SSL_REDIRECT = True  # as with DEBUG off
    campaign, sequence = live_campaign(leads=1)
    send(campaign, sequence)
    path = "/" + Message.objects.get().unsubscribe_url.split("/", 3)[3]
    assert client.get("/admin/login/").status_code == 301  # the redirect is on for other pages
    response = client.post(path, {"List-Unsubscribe": "One-Click"})  # plain http, as a provider might
    assert response.status_code == 200


def test_city_is_not_a_merge_field_it_always_rendered_blank():
    content = CreativeContent(platform="email", body="Hi {{ first_name }}, greetings to {{ city }}!")
    findings = list(check_merge_fields(content, CheckSettings()))
    assert [f.code for f in findings] == ["merge_field_unknown"]
    assert "city" in findings[0].message
