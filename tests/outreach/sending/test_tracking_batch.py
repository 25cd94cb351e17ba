"""Batched tracking webhooks: SparkPost's real payload (a JSON array of many events per POST)
through anymail's own view at /api/v1/webhooks/sparkpost/tracking/, stored set-based."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Lead, LeadState, Suppression
from outreach.models import Enrollment, Message, MessageEvent, MessageState, StopReason
from outreach.services.sending import (
    enroll_leads,
    recover_interrupted_sends,
    schedule_due_messages,
    send_due_messages,
)

pytestmark = pytest.mark.django_db
SECRET = "hooks:s3cret-webhook-pass"
BATCH_URL = "/api/v1/webhooks/sparkpost/tracking/"


@pytest.fixture
def sent(live_campaign, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    campaign, sequence = live_campaign(leads=6, follow_up=True)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    return campaign, list(Message.objects.order_by("id"))


def auth(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def sparkpost(message, event_type, event_id, *, event_class="message_event", timestamp=1772445900, **extra):
    """SparkPost's webhook event shape: {"msys": {<event class>: {...}}} (see SparkPost's samples)."""
    body = {
        "type": event_type,
        "event_id": event_id,
        "timestamp": str(timestamp),
        "transmission_id": f"7{message.pk:016d}",
        "message_id": f"0004{message.pk:016x}",
        "customer_id": "1",
        "rcpt_to": message.to_email.lower(),
        "raw_rcpt_to": message.to_email,
        "rcpt_meta": {"aicmo_message_id": str(message.pk), "campaign_id": str(message.campaign_id)},
        "campaign_id": f"campaign-{message.campaign_id}",
        **extra,
    }
    return {"msys": {event_class: body}}


def hard_bounce(message, event_id, **kw):
    return sparkpost(
        message,
        "bounce",
        event_id,
        bounce_class="10",
        error_code="550",
        raw_reason=f"550 5.1.1 <{message.to_email}>: Recipient address rejected: User unknown",
        reason="550 5.1.1 ...@... Recipient address rejected: ...",
        **kw,
    )


def post(client, events, secret=SECRET, url=BATCH_URL):
    return client.post(url, data=json.dumps(events), content_type="application/json", **auth(secret))


def test_one_post_with_many_events_a_duplicate_and_a_bounce(client, sent):
    campaign, messages = sent
    first, second, third = messages[:3]
    batch = [
        sparkpost(first, "delivery", "e-1"),
        sparkpost(first, "open", "e-2", event_class="track_event", user_agent="Mozilla/5.0"),
        sparkpost(first, "click", "e-3", event_class="track_event", target_link_url="https://x.example/"),
        sparkpost(first, "delivery", "e-1"),  # the ESP repeats an event inside the same POST
        hard_bounce(second, "e-4"),
        sparkpost(second, "delivery", "e-5", timestamp=1772446000),  # late delivered after the bounce
        sparkpost(third, "spam_complaint", "e-6", fbtype="abuse"),
        sparkpost(third, "injection", "e-7"),  # queued: not an event we keep
        {"msys": {}},  # SparkPost's ping
    ]
    response = post(client, batch)
    assert response.status_code == 200
    stored = dict(MessageEvent.objects.values_list("event_key", "kind"))
    assert stored == {
        "SparkPost:e-1": "delivered",
        "SparkPost:e-2": "opened",
        "SparkPost:e-3": "clicked",
        "SparkPost:e-4": "bounced",
        "SparkPost:e-5": "delivered",
        "SparkPost:e-6": "complained",
    }
    assert MessageEvent.objects.get(event_key="SparkPost:e-4").hard
    # the hard bounce: suppressed for everyone, sequence stopped, lead bounced — and stays so
    assert Suppression.objects.filter(value=second.to_email, reason="hard_bounce", client=None).exists()
    assert Enrollment.objects.get(pk=second.enrollment_id).stop_reason == StopReason.BOUNCED
    assert Lead.objects.get(pk=second.lead_id).state == LeadState.BOUNCED
    assert Message.objects.get(pk=second.pk).state == MessageState.SENT
    # the complaint: suppressed for this client, sequence stopped
    entry = Suppression.objects.get(value=third.to_email)
    assert entry.reason == "complaint" and entry.client_id == campaign.client_id
    assert Enrollment.objects.get(pk=third.enrollment_id).stop_reason == StopReason.COMPLAINED
    # the follow-ups of stopped enrollments are cancelled; the delivered one's is still due
    assert not Enrollment.objects.get(pk=first.enrollment_id).stop_reason

    # the ESP posts the whole batch again (it got no answer in time): nothing is added or re-acted
    audit_before = campaign.audit_events.count()
    assert post(client, batch).status_code == 200
    assert MessageEvent.objects.count() == 6
    assert Suppression.objects.count() == 2
    assert campaign.audit_events.count() == audit_before


def test_forged_batch_is_rejected_and_records_nothing(client, sent):
    _, messages = sent
    batch = [hard_bounce(messages[0], "f-1"), sparkpost(messages[1], "delivery", "f-2")]
    response = post(client, batch, secret="hooks:guess")
    assert response.status_code in (400, 403)
    assert not MessageEvent.objects.exists() and not Suppression.objects.exists()
    assert post(client, batch, secret="").status_code in (400, 403)
    assert not MessageEvent.objects.exists()


def test_unknown_esp_is_404_and_anymail_own_url_stores_the_same_events(client, sent):
    _, messages = sent
    batch = [sparkpost(messages[0], "delivery", "a-1"), hard_bounce(messages[1], "a-2")]
    assert post(client, batch, url="/api/v1/webhooks/nosuchesp/tracking/").status_code == 404
    assert post(client, batch, url="/anymail/sparkpost/tracking/").status_code == 200
    assert MessageEvent.objects.count() == 2
    assert Suppression.objects.filter(value=messages[1].to_email, reason="hard_bounce").exists()
    assert post(client, batch).status_code == 200  # same events through the batch URL: duplicates
    assert MessageEvent.objects.count() == 2


def test_queries_per_post_do_not_grow_with_the_number_of_passive_events(client, sent):
    _, messages = sent
    post(client, [sparkpost(messages[0], "delivery", "warm")])  # first request imports the views
    counts = {}
    for size in (2, 6):
        batch = [sparkpost(m, "delivery", f"q{size}-{m.pk}") for m in messages[:size]]
        batch += [
            sparkpost(m, "open", f"q{size}-o-{m.pk}", event_class="track_event") for m in messages[:size]
        ]
        with CaptureQueriesContext(connection) as queries:
            assert post(client, batch).status_code == 200
        counts[size] = len(queries.captured_queries)
    assert MessageEvent.objects.count() == 1 + 2 * 2 + 2 * 6
    assert counts[2] == counts[6], counts


def test_unknown_message_is_reconciled_by_delivery_in_a_batch(client, sent, frozen_now):
    _, messages = sent
    message = messages[0]
    Message.objects.filter(pk=message.pk).update(state=MessageState.SENDING)  # a worker died mid-send
    frozen_now.shift(3600)
    assert recover_interrupted_sends().unknown == 1
    batch = [
        sparkpost(message, "delivery", "u-1"),
        sparkpost(message, "open", "u-2", event_class="track_event"),
    ]
    assert post(client, batch).status_code == 200
    assert Message.objects.get(pk=message.pk).state == MessageState.SENT
    assert MessageEvent.objects.filter(message=message).count() == 2
