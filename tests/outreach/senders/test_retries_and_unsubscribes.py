"""A 4xx answer is retried with backoff and a 5xx is not, from an SMTP server or an ESP; an email
our List-Unsubscribe ``mailto:`` made a mail client write unsubscribes, it is not a reply."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from anymail.exceptions import AnymailAPIError
from django.core import mail
from django.utils import timezone

from leads.models import LeadState, Suppression
from outreach.errors import PermanentSendError, TransientSendError, classify_send_error
from outreach.models import (
    Enrollment,
    EnrollmentState,
    InboundReply,
    Message,
    MessageEvent,
    MessageEventKind,
    MessageState,
    StopReason,
)
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import record_inbound_reply
from tests.outreach.senders.mail_servers import auth_smtp_server, smtp_connection
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture, reused)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


def schedule(live_campaign, leads=1, follow_up=False):  # noqa: F811
    campaign, sequence = live_campaign(leads=leads, follow_up=follow_up)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    return campaign


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ("450 4.2.0 Greylisted, please try again later", MessageState.RETRY_SCHEDULED),
        ("452 4.2.2 Mailbox full", MessageState.RETRY_SCHEDULED),
        ("550 5.1.1 No such user", MessageState.DEAD),
    ],
)
def test_smtp_4xx_is_retried_with_backoff_and_5xx_is_not(live_campaign, settings, answer, state):  # noqa: F811
    settings.AICMO_SMTP_HELO_NAME = "mta1.agency.example"
    campaign = schedule(live_campaign)
    with auth_smtp_server() as (handler, controller):
        handler.rcpt_replies = [answer]  # the first RCPT TO gets it, any later one 250
        stats = send_due_messages(
            campaign_id=campaign.pk, dry_run=False, connection=smtp_connection(controller)
        )
        message = Message.objects.get()
        assert stats.sent == 0 and message.state == state and answer.split()[0] in message.last_error
        if state == MessageState.DEAD:
            return
        assert message.scheduled_for > timezone.now()  # backoff (full jitter): later, not at once
        # once the greylisting delay is over the same message goes through
        Message.objects.filter(pk=message.pk).update(scheduled_for=timezone.now())
        stats = send_due_messages(
            campaign_id=campaign.pk, dry_run=False, connection=smtp_connection(controller)
        )
    message.refresh_from_db()
    assert stats.sent == 1 and message.state == MessageState.SENT and message.attempts == 2
    assert len(handler.received) == 1


def _esp_error(status: int, text: str) -> AnymailAPIError:
    response = requests.Response()
    response.status_code = status
    response.reason = HTTPStatus(status).phrase
    response._content = text.encode()
    return AnymailAPIError(f"ESP API response {status}: {text}", status_code=status, response=response)


@pytest.mark.parametrize(
    ("status", "text", "kind"),
    [
        (429, "rate limited", TransientSendError),
        (408, "timeout", TransientSendError),
        (503, "unavailable", TransientSendError),
        (400, "recipient server answered: 450 4.2.0 greylisted", TransientSendError),
        (400, "recipient server answered: 550 5.1.1 no such user", PermanentSendError),
        (400, "invalid From address", PermanentSendError),
        (401, "bad API key", PermanentSendError),
    ],
)
def test_esp_answers_are_classified_by_their_smtp_reply_when_they_quote_one(status, text, kind):
    assert classify_send_error(_esp_error(status, text)) is kind


def _unsubscribe_mailto(sent) -> tuple[str, str]:
    """(address, subject) of the mailto in a sent email's List-Unsubscribe."""
    target = next(t.strip("<> ") for t in sent.extra_headers["List-Unsubscribe"].split(",") if "mailto:" in t)
    parts = urlsplit(target)
    return unquote(parts.path), parse_qs(parts.query)["subject"][0]


def test_a_mailto_unsubscribe_suppresses_and_stops_the_sequence(live_campaign, settings):  # noqa: F811
    settings.AICMO_UNSUBSCRIBE_MAILTO = "unsubscribe@agency.example"
    campaign = schedule(live_campaign, leads=2, follow_up=True)  # a step still to come
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    sent = next(m for m in mail.outbox if m.to == ["lead0@company0.example"])
    address, subject = _unsubscribe_mailto(sent)
    assert address == "unsubscribe@agency.example" and subject.startswith("unsubscribe ")

    # what a mail client (or Gmail's unsubscribe button) writes: a new email, no In-Reply-To
    result = record_inbound_reply(
        from_header="Lead Zero <lead0@company0.example>",
        subject=subject,
        text="",
        headers={"To": address, "Subject": subject},
        message_id_header="<unsub-1@company0.example>",
    )

    assert result is None and not InboundReply.objects.exists()  # not a reply
    enrollment = Enrollment.objects.get(lead__email="lead0@company0.example")
    assert enrollment.state == EnrollmentState.STOPPED and enrollment.stop_reason == StopReason.UNSUBSCRIBED
    assert Suppression.objects.filter(value="lead0@company0.example", reason="unsubscribed").exists()
    assert enrollment.lead.state != LeadState.REPLIED
    assert MessageEvent.objects.filter(kind=MessageEventKind.UNSUBSCRIBED).count() == 1
    assert not MessageEvent.objects.filter(kind=MessageEventKind.REPLIED).exists()
    other = Enrollment.objects.get(lead__email="lead1@company1.example")
    assert other.state == EnrollmentState.ACTIVE  # the token named this enrollment only


def test_a_mailto_unsubscribe_without_its_token_unsubscribes_the_senders_enrollment(live_campaign, settings):  # noqa: F811
    settings.AICMO_UNSUBSCRIBE_MAILTO = "unsubscribe@agency.example"
    campaign = schedule(live_campaign, leads=2, follow_up=True)  # a step still to come
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    record_inbound_reply(
        from_header="lead1@company1.example",
        subject="Re: your email",  # a subject of its own: the address it went to tells
        text="please remove me",
        headers={"To": "Unsubscribe Desk <unsubscribe@agency.example>"},
        message_id_header="<unsub-2@company1.example>",
    )
    enrollment = Enrollment.objects.get(lead__email="lead1@company1.example")
    assert enrollment.stop_reason == StopReason.UNSUBSCRIBED and not InboundReply.objects.exists()
    assert Enrollment.objects.get(lead__email="lead0@company0.example").state == EnrollmentState.ACTIVE
