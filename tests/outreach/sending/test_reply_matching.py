"""A reply acts (lead replied, sequence stopped) only when it comes from the lead's own address; a
quoted Message-ID alone proves nothing. Other senders are kept for review, visible in the admin."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from leads.models import Lead, LeadState
from outreach.models import (
    Enrollment,
    EnrollmentState,
    InboundReply,
    Message,
    MessageEvent,
    MessageEventKind,
    ReplySenderMatch,
)
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import record_inbound_reply

pytestmark = pytest.mark.django_db
SECRET = "hooks:reply-matching-pass"


@pytest.fixture
def sent(live_campaign):
    campaign, sequence = live_campaign(leads=2, follow_up=True)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    return campaign, list(Message.objects.order_by("id"))


def reply_to(message, from_header, message_id="<reply-1@mail.example>"):
    return record_inbound_reply(
        from_header=from_header,
        subject=f"Re: {message.subject}",
        text="Let's talk.",
        headers={"In-Reply-To": message.rfc_message_id},
        message_id_header=message_id,
    )


def acted_on(message) -> bool:
    return (
        Lead.objects.get(pk=message.lead_id).state == LeadState.REPLIED
        or Enrollment.objects.get(pk=message.enrollment_id).state != EnrollmentState.ACTIVE
        or MessageEvent.objects.filter(message=message, kind=MessageEventKind.REPLIED).exists()
    )


def test_a_reply_from_the_lead_counts_whatever_the_case_and_display_name(sent):
    _, messages = sent
    message = messages[0]
    reply = reply_to(message, f'"Lead Zero" <{message.to_email.upper()}>')
    assert reply.sender_match == ReplySenderMatch.MATCHED
    assert Lead.objects.get(pk=message.lead_id).state == LeadState.REPLIED
    assert Enrollment.objects.get(pk=message.enrollment_id).stop_reason == "replied"


def test_a_colleague_on_the_lead_domain_is_a_loose_match_and_changes_nothing(sent):
    _, messages = sent
    message = messages[0]
    domain = message.to_email.rpartition("@")[2]
    reply = reply_to(message, f"Boss <boss@{domain}>")
    assert reply.sender_match == ReplySenderMatch.LOOSE
    assert reply.message == message and reply.from_email == f"boss@{domain}"
    assert not acted_on(message)


def test_another_domain_quoting_a_message_id_is_unmatched_and_changes_nothing(sent):
    _, messages = sent
    message = messages[1]
    reply = reply_to(message, "attacker@evil.example", message_id="<guess@evil.example>")
    assert reply.sender_match == ReplySenderMatch.UNMATCHED
    assert not acted_on(message)
    # the other lead is untouched too
    assert not acted_on(messages[0])


def test_the_inbound_webhook_applies_the_same_rule(client, sent, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    _, messages = sent
    message = messages[0]
    domain = message.to_email.rpartition("@")[2]
    payload = {
        "FromFull": {"Email": f"assistant@{domain}", "Name": "Assistant"},
        "From": f"assistant@{domain}",
        "ToFull": [{"Email": "campaigns@localhost", "Name": ""}],
        "Subject": f"Re: {message.subject}",
        "MessageID": "0b1d-loose",
        "TextBody": "Forwarding to my boss.",
        "HtmlBody": "",
        "Date": "Mon, 2 Mar 2026 11:00:00 +0000",
        "Headers": [
            {"Name": "In-Reply-To", "Value": message.rfc_message_id},
            {"Name": "Message-ID", "Value": "<loose-1@mail.example>"},
        ],
        "Attachments": [],
    }
    response = client.post(
        "/anymail/postmark/inbound/",
        data=json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode(),
    )
    assert response.status_code == 200
    assert InboundReply.objects.get().sender_match == ReplySenderMatch.LOOSE
    assert not acted_on(message)


def test_operators_see_and_filter_replies_kept_for_review(client, operator, sent):
    _, messages = sent
    domain = messages[0].to_email.rpartition("@")[2]
    loose = reply_to(messages[0], f"boss@{domain}", message_id="<loose@x>")
    matched = reply_to(messages[1], messages[1].to_email, message_id="<matched@x>")
    client.force_login(operator)
    changelist = reverse("admin:outreach_inboundreply_changelist")
    page = client.get(changelist, {"sender_match__exact": "loose"}).content.decode()
    assert f"boss@{domain}" in page and "Loose: same domain, other sender (review)" in page
    assert messages[1].to_email not in page
    everything = client.get(changelist).content.decode()
    assert f"boss@{domain}" in everything and messages[1].to_email in everything
    detail = client.get(reverse("admin:outreach_inboundreply_change", args=[loose.pk])).content.decode()
    assert "Loose: same domain, other sender (review)" in detail
    assert matched.sender_match == ReplySenderMatch.MATCHED
