"""Webhooks with the real payload shapes of two ESPs anymail supports, through anymail's own URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.core import mail

from leads.models import Lead, LeadState, Suppression
from outreach.models import Enrollment, EnrollmentState, Message, MessageEvent, MessageState, StopReason
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import TrackingInput, record_inbound_reply, record_tracking_event
from outreach.unsubscribe import make_unsubscribe_token

pytestmark = pytest.mark.django_db
SECRET = "hooks:s3cret-webhook-pass"


@pytest.fixture
def sent(live_campaign, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
    }
    campaign, sequence = live_campaign(leads=3, follow_up=True)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    return campaign, list(Message.objects.order_by("id"))


def auth(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


MAILGUN_KEY = "key-webhook-signing-test"


def mailgun_event(message, event, *, severity="permanent", reason="", event_id=None):
    """Mailgun's signed JSON webhook shape (anymail verifies the HMAC signature)."""
    timestamp, token = "1772445600", f"tok-{message.pk}-{event}"
    signature = hmac.new(MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "id": event_id or f"mg-{event}-{message.pk}",
        "timestamp": 1772445600.5,
        "recipient": message.to_email,
        "severity": severity,
        "reason": reason,
        "delivery-status": {
            "code": 550 if event == "failed" else 250,
            "message": "5.1.1 unknown user",
            "description": "",
            "attempt-no": 1,
        },
        "message": {
            "headers": {
                "message-id": message.provider_message_id or "20260302.mg@example.org",
                "to": message.to_email,
                "from": message.from_email,
                "subject": message.subject,
            }
        },
        "user-variables": {"aicmo_message_id": str(message.pk), "campaign_id": str(message.campaign_id)},
        "tags": [f"campaign-{message.campaign_id}"],
    }
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data}


def post_mailgun(client, payload, secret=SECRET):
    return client.post(
        "/anymail/mailgun/tracking/",
        data=json.dumps(payload),
        content_type="application/json",
        **auth(secret),
    )


def postmark(record_type, message, **fields):
    base = {
        "RecordType": record_type,
        "MessageID": f"pm-{message.pk}",
        "ServerID": 23,
        "Tag": "",
        "Metadata": {"aicmo_message_id": str(message.pk)},
        "MessageStream": "outbound",
    }
    return {**base, **fields}


def post_postmark(client, payload, secret=SECRET):
    return client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(payload),
        content_type="application/json",
        **auth(secret),
    )


def test_mailgun_bounce_suppresses_and_stops_the_sequence(client, sent):
    _, messages = sent
    bounce = mailgun_event(messages[0], "failed", severity="permanent", reason="bounce")
    delivered = mailgun_event(messages[1], "delivered")
    assert post_mailgun(client, bounce).status_code == 200
    assert post_mailgun(client, delivered).status_code == 200
    assert set(MessageEvent.objects.values_list("kind", flat=True)) == {"bounced", "delivered"}
    assert Suppression.objects.filter(value=messages[0].to_email, reason="hard_bounce", client=None).exists()
    assert Enrollment.objects.get(pk=messages[0].enrollment_id).stop_reason == StopReason.BOUNCED
    assert Lead.objects.get(pk=messages[0].lead_id).state == LeadState.BOUNCED
    post_mailgun(client, bounce)  # delivered again: recorded once
    assert MessageEvent.objects.count() == 2


def test_mailgun_temporary_failure_is_a_deferral_not_a_bounce(client, sent):
    _, messages = sent
    post_mailgun(client, mailgun_event(messages[0], "failed", severity="temporary"))
    assert list(MessageEvent.objects.values_list("kind", flat=True)) == ["deferred"]
    assert not Suppression.objects.exists()


def test_mailgun_bad_signature_is_rejected(client, sent):
    _, messages = sent
    forged = mailgun_event(messages[0], "complained")
    forged["signature"]["signature"] = "0" * 64
    assert post_mailgun(client, forged).status_code in (400, 403)
    assert not MessageEvent.objects.exists() and not Suppression.objects.exists()


def test_late_delivered_never_undoes_a_bounce(client, sent):
    _, messages = sent
    post_postmark(
        client,
        postmark(
            "Bounce",
            messages[0],
            ID=1,
            Type="HardBounce",
            TypeCode=1,
            Email=messages[0].to_email,
            BouncedAt="2026-03-02T10:05:00Z",
            Description="Unknown user",
            Details="550 5.1.1",
        ),
    )
    post_postmark(
        client,
        postmark(
            "Delivery",
            messages[0],
            Recipient=messages[0].to_email,
            DeliveredAt="2026-03-02T10:06:00Z",
            Details="250 OK",
        ),
    )
    assert Lead.objects.get(pk=messages[0].lead_id).state == LeadState.BOUNCED
    assert Suppression.objects.filter(value=messages[0].to_email).exists()


def test_postmark_spam_complaint_suppresses_for_the_client(client, sent):
    campaign, messages = sent
    post_postmark(
        client,
        postmark(
            "SpamComplaint",
            messages[2],
            ID=7,
            Type="SpamComplaint",
            TypeCode=512,
            Email=messages[2].to_email,
            BouncedAt="2026-03-02T10:07:00Z",
        ),
    )
    entry = Suppression.objects.get(value=messages[2].to_email)
    assert entry.reason == "complaint" and entry.client_id == campaign.client_id


def test_postmark_bounce_payload(client, sent):
    _, messages = sent
    payload = {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": "",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"aicmo_message_id": str(messages[1].pk)},
        "ServerID": 23,
        "Description": "Unknown user",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": messages[1].to_email,
        "From": messages[1].from_email,
        "BouncedAt": "2026-03-02T10:05:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": messages[1].subject,
        "MessageStream": "outbound",
    }
    response = client.post(
        "/anymail/postmark/tracking/", data=json.dumps(payload), content_type="application/json", **auth()
    )
    assert response.status_code == 200
    assert Suppression.objects.filter(value=messages[1].to_email, reason="hard_bounce").exists()


def test_forged_webhook_is_rejected_and_records_nothing(client, sent):
    _, messages = sent
    payload = postmark(
        "SpamComplaint",
        messages[0],
        ID=9,
        Type="SpamComplaint",
        TypeCode=512,
        Email=messages[0].to_email,
        BouncedAt="2026-03-02T10:07:00Z",
    )
    response = post_postmark(client, payload, secret="hooks:guess")
    assert response.status_code in (400, 403)
    assert not MessageEvent.objects.exists() and not Suppression.objects.exists()


def test_soft_bounce_does_not_suppress(sent):
    _, messages = sent
    record_tracking_event(
        TrackingInput(
            esp_name="test",
            event_type="bounced",
            event_id="b1",
            metadata={"aicmo_message_id": str(messages[0].pk)},
            reject_reason="blocked",
        )
    )
    assert not Suppression.objects.exists()


def test_complaint_rate_circuit_breaker_pauses_with_its_numbers(sent):
    campaign, messages = sent
    record_tracking_event(
        TrackingInput(
            esp_name="test",
            event_type="complained",
            event_id="c1",
            metadata={"aicmo_message_id": str(messages[0].pk)},
        )
    )
    campaign.refresh_from_db()
    assert campaign.state == "paused"
    event = campaign.audit_events.filter(verb="campaign.paused").latest("id")
    assert event.metadata["rule"] == "circuit_breaker" and event.metadata["numbers"]["complaints_7d"] == 1


def test_one_click_unsubscribe_post_suppresses_and_the_next_cycle_sends_nothing(client, live_campaign):
    campaign, sequence = live_campaign(leads=1, steps=None)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    message = Message.objects.get()
    token_url = message.unsubscribe_url
    path = token_url.split("localhost:8000", 1)[-1]
    page = client.get(path)
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    response = client.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200 and b"You are unsubscribed" in response.content
    assert Suppression.objects.filter(value=message.to_email, reason="unsubscribed").exists()
    assert Enrollment.objects.get().state == EnrollmentState.STOPPED
    assert Message.objects.get().state == MessageState.CANCELLED
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 0
    assert mail.outbox == []


def test_forged_unsubscribe_token_changes_nothing(client, live_campaign):
    live_campaign(leads=1)
    token = make_unsubscribe_token(enrollment_id=1)
    response = client.post(f"/u/{token[:-3]}abc/")
    assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_reply_matched_by_in_reply_to_stops_the_sequence_and_marks_replied(sent):
    _, messages = sent
    message = messages[0]
    reply = record_inbound_reply(
        from_header=f"Lead <{message.to_email}>",
        subject=f"Re: {message.subject}",
        text="Sounds interesting, call me Tuesday.",
        headers={"In-Reply-To": message.rfc_message_id},
        message_id_header="<r1@x>",
    )
    assert reply.message == message and not reply.is_auto_reply
    assert Lead.objects.get(pk=message.lead_id).state == LeadState.REPLIED
    assert Enrollment.objects.get(pk=message.enrollment_id).stop_reason == StopReason.REPLIED


def test_out_of_office_is_stored_but_not_counted(sent):
    _, messages = sent
    message = messages[1]
    reply = record_inbound_reply(
        from_header=message.to_email,
        subject="Out of Office: back Monday",
        text="Away",
        headers={"In-Reply-To": message.rfc_message_id, "Auto-Submitted": "auto-replied"},
        message_id_header="<ooo@x>",
    )
    assert reply.is_auto_reply
    assert Lead.objects.get(pk=message.lead_id).state == LeadState.CONTACTED
    assert Enrollment.objects.get(pk=message.enrollment_id).state != EnrollmentState.STOPPED


def test_inbound_webhook_through_anymail(client, sent):
    _, messages = sent
    message = messages[2]
    payload = {
        "FromFull": {"Email": message.to_email, "Name": "Lead"},
        "From": message.to_email,
        "ToFull": [{"Email": "campaigns@localhost", "Name": ""}],
        "Subject": f"Re: {message.subject}",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "TextBody": "Yes, let's talk.",
        "HtmlBody": "",
        "Date": "Mon, 2 Mar 2026 11:00:00 +0000",
        "Headers": [
            {"Name": "In-Reply-To", "Value": message.rfc_message_id},
            {"Name": "Message-ID", "Value": "<reply-22c7@mail.example>"},
        ],
        "Attachments": [],
    }
    response = client.post(
        "/anymail/postmark/inbound/", data=json.dumps(payload), content_type="application/json", **auth()
    )
    assert response.status_code == 200
    assert Lead.objects.get(pk=message.lead_id).state == LeadState.REPLIED


def test_old_message_events_are_summarised_then_pruned(sent, settings):
    import datetime as dt

    from campaigns.tasks import prune_old_audit_events
    from outreach.models import MessageEventDailySummary

    campaign, messages = sent
    old = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
    for i, message in enumerate(messages):
        record_tracking_event(
            TrackingInput(
                esp_name="test",
                event_type="opened",
                event_id=f"old-{i}",
                timestamp=old,
                metadata={"aicmo_message_id": str(message.pk)},
            )
        )
    record_tracking_event(
        TrackingInput(
            esp_name="test",
            event_type="opened",
            event_id="recent",
            metadata={"aicmo_message_id": str(messages[0].pk)},
        )
    )
    report = prune_old_audit_events()
    assert report["outreach.message_events"] == 3
    assert MessageEvent.objects.count() == 1
    summary = MessageEventDailySummary.objects.get(campaign=campaign, kind="opened")
    assert summary.day == old.date() and summary.count == 3
    assert prune_old_audit_events()["outreach.message_events"] == 0
    assert MessageEventDailySummary.objects.get(campaign=campaign, kind="opened").count == 3


def test_forget_person_scrubs_outreach_rows(sent):
    from leads.services import forget_person
    from outreach.models import InboundReply

    _, messages = sent
    message = messages[0]
    address = message.to_email
    record_inbound_reply(
        from_header=address,
        subject="Re: hi",
        text=f"Call me, {address}",
        headers={"In-Reply-To": message.rfc_message_id},
        message_id_header="<er@x>",
    )
    forget_person(email=address, rationale="GDPR request")
    message.refresh_from_db()
    assert message.to_email == "" and message.body_text == "" and address not in message.subject
    assert not InboundReply.objects.filter(text__icontains=address).exists()
    assert not Message.objects.filter(to_email__iexact=address).exists()
    assert Message.objects.filter(pk=messages[1].pk).exclude(to_email="").exists()  # others untouched
