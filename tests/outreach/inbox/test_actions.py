"""What each category does (issue 20 point 4), through the same pipeline an IMAP poll and an ESP
inbound webhook feed (``ingest_email``), with the real classifier; each action audited with why."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.models import AuditEvent, OutboxEvent
from campaigns.permissions import ActionNotPermittedError
from leads.models import Lead, LeadState, Suppression
from leads.services import release_lead
from outreach.models import (
    Enrollment,
    EnrollmentState,
    InboundReply,
    Message,
    MessageEvent,
    MessageState,
    OperatorTask,
    OperatorTaskType,
    ReplyMatch,
    ReplyRules,
    ReplySenderMatch,
    StopReason,
)
from outreach.replies.categories import ReplyCategory
from outreach.services.inbox.actions import actions_for, add_business_days
from outreach.services.inbox.ingest import ingest_email
from outreach.services.sending import enroll_leads, schedule_due_messages
from tests.conftest import FIXED_NOW
from webhooks.services import create_endpoint

from .conftest import reply_email

pytestmark = pytest.mark.django_db


def audited(reply, verb):
    return AuditEvent.objects.filter(verb=verb, target_id=str(reply.pk)).first()


def test_interested_marks_replied_stops_makes_a_task_and_emits_the_category(sent, settings):
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = True  # the endpoint is never called here
    campaign, messages = sent
    create_endpoint(client=campaign.client, url="https://127.0.0.1:9/in", event_types=["reply.received"])
    message = messages[0]
    reply = ingest_email(reply_email(message, text="Yes, I'm interested. Tell me more about pricing."))
    assert reply.category == ReplyCategory.INTERESTED
    assert Lead.objects.get(pk=message.lead_id).state == LeadState.REPLIED
    enrollment = Enrollment.objects.get(pk=message.enrollment_id)
    assert enrollment.state == EnrollmentState.STOPPED and enrollment.stop_reason == StopReason.REPLIED
    task = OperatorTask.objects.get(task_type=OperatorTaskType.REPLY)
    assert task.campaign == campaign and "within one business day" in task.title
    assert task.due_at.date() == dt.date(2026, 3, 3)  # Monday 10:00 → Tuesday
    event = OutboxEvent.objects.get(type="reply.received")
    assert event.data["category"] == "interested" and event.data["reply_id"] == reply.pk
    assert MessageEvent.objects.filter(message=message, kind="replied").count() == 1
    for verb in ("reply.stop", "reply.mark_replied", "reply.answer_task"):
        entry = audited(reply, verb)
        assert entry is not None and entry.rationale.startswith("Interested:"), verb
    assert [a["action"] for a in InboundReply.objects.get(pk=reply.pk).actions] == [
        "stop",
        "mark_replied",
        "answer_task",
        "counted",
    ]


def test_unsubscribe_request_suppresses_and_stops(sent):
    campaign, messages = sent
    message = messages[1]
    reply = ingest_email(reply_email(message, text="Please remove me from your mailing list."))
    assert reply.category == ReplyCategory.UNSUBSCRIBE_REQUEST
    assert Suppression.objects.filter(
        value=message.to_email, client=campaign.client, reason="unsubscribed"
    ).exists()
    enrollment = Enrollment.objects.get(pk=message.enrollment_id)
    assert enrollment.stop_reason == StopReason.UNSUBSCRIBED
    assert audited(reply, "reply.unsubscribe") is not None


def test_out_of_office_with_a_date_waits_until_the_next_business_day_after_it(sent, frozen_now):
    _, messages = sent
    message = messages[0]
    frozen_now.shift(dt.timedelta(days=3))  # the follow-up step is due now
    schedule_due_messages(campaign=message.campaign)
    pending = Message.objects.get(enrollment_id=message.enrollment_id, state=MessageState.SCHEDULED)
    raw = reply_email(
        message,
        subject="Automatic reply: " + message.subject,
        text="I am out of the office until Friday 13 March 2026 with limited access to email.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    reply = ingest_email(raw)
    assert reply.category == ReplyCategory.OUT_OF_OFFICE and reply.return_date == dt.date(2026, 3, 13)
    pending.refresh_from_db()
    # back Friday 13th → resumes Monday 16th (one business day after), in the campaign's zone
    assert pending.scheduled_for == dt.datetime(2026, 3, 16, tzinfo=dt.UTC)
    enrollment = Enrollment.objects.get(pk=message.enrollment_id)
    assert enrollment.state == EnrollmentState.ACTIVE
    assert Lead.objects.get(pk=message.lead_id).state == LeadState.CONTACTED
    assert "resumes 2026-03-16" in audited(reply, "reply.wait").rationale


def test_out_of_office_without_a_date_waits_seven_days(sent, frozen_now):
    _, messages = sent
    message = messages[2]
    enrollment = Enrollment.objects.get(pk=message.enrollment_id)
    assert enrollment.next_send_at is not None  # the follow-up is not scheduled yet
    raw = reply_email(
        message,
        subject="Out of office",
        text="I'm currently away and will respond when I'm back.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    reply = ingest_email(raw)
    assert reply.category == ReplyCategory.OUT_OF_OFFICE and reply.return_date is None
    enrollment.refresh_from_db()
    assert enrollment.next_send_at == FIXED_NOW + dt.timedelta(days=7)


def test_wrong_person_stops_and_adds_the_referred_address_for_review(sent):
    campaign, messages = sent
    message = messages[0]
    text = (
        "I'm not the right person for this. Please contact our head of logistics, "
        "maria.lopez@company0.example, she handles routing."
    )
    reply = ingest_email(reply_email(message, text=text))
    assert reply.category == ReplyCategory.WRONG_PERSON
    assert reply.referred_email == "maria.lopez@company0.example"
    assert Enrollment.objects.get(pk=message.enrollment_id).state == EnrollmentState.STOPPED
    new_lead = Lead.objects.get(campaign=campaign, normalized_email="maria.lopez@company0.example")
    review = OperatorTask.objects.get(idempotency_key=f"reply:{reply.pk}:refer")
    assert f"#{new_lead.pk}" in review.title
    assert audited(reply, "reply.refer").metadata["new_lead_id"] == new_lead.pk


def test_a_referred_lead_is_held_until_an_operator_releases_it(sent, operator_role_user, client_user):
    campaign, messages = sent
    message = messages[0]
    text = "Wrong person, sorry. Please write to jonas.weber@company0.example instead."
    reply = ingest_email(reply_email(message, text=text))
    referred = Lead.objects.get(campaign=campaign, normalized_email="jonas.weber@company0.example")
    assert f"reply #{reply.pk}" in referred.hold_reason
    sequence = Enrollment.objects.get(pk=message.enrollment_id).sequence
    # Held: contactable by nothing, so the next cycle's enrollment passes it by.
    assert enroll_leads(campaign=campaign, sequence=sequence) == 0
    assert not Enrollment.objects.filter(lead=referred).exists()

    with pytest.raises(ActionNotPermittedError):  # a client user may not release it
        release_lead(lead=referred, actor=client_user)
    released = release_lead(lead=referred, actor=operator_role_user, rationale="checked on LinkedIn")
    assert released.hold_reason == ""
    assert AuditEvent.objects.filter(verb="lead.released", target_id=str(referred.pk)).exists()
    assert enroll_leads(campaign=campaign, sequence=sequence) == 1
    assert Enrollment.objects.filter(lead=referred).exists()


def test_a_hard_bounce_quoting_our_message_suppresses_through_the_bounce_path(sent):
    _, messages = sent
    message = messages[1]
    dsn = (
        f"From: Mail Delivery System <MAILER-DAEMON@mx.company1.example>\r\n"
        f"To: {message.from_email}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: <dsn-1@mx.company1.example>\r\n"
        f"Auto-Submitted: auto-replied\r\n"
        f"MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        f"--b1\r\nContent-Type: text/plain\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"<{message.to_email}>: host mx.company1.example said: 550 5.1.1 User unknown\r\n\r\n"
        f"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.company1.example\r\n\r\n"
        f"Final-Recipient: rfc822; {message.to_email}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {message.from_email}\r\nTo: {message.to_email}\r\nSubject: {message.subject}\r\n"
        f"Message-ID: {message.rfc_message_id}\r\n\r\n"
        f"--b1--\r\n"
    ).encode()
    reply = ingest_email(dsn)
    assert reply.category == ReplyCategory.BOUNCE and reply.matched_by == ReplyMatch.THREAD
    assert reply.message == message
    assert Suppression.objects.filter(value=message.to_email, reason="hard_bounce").exists()
    assert Enrollment.objects.get(pk=message.enrollment_id).stop_reason == StopReason.BOUNCED
    assert MessageEvent.objects.get(message=message, kind="bounced").hard
    assert audited(reply, "reply.bounce") is not None


def test_the_sender_among_the_leads_is_a_loose_match_that_still_acts(sent):
    _, messages = sent
    message = messages[2]
    reply = ingest_email(
        reply_email(message, thread=False, subject="Your email", text="Happy to talk, call me.")
    )
    assert reply.matched_by == ReplyMatch.SENDER and reply.message == message
    assert reply.sender_match == ReplySenderMatch.MATCHED
    assert Enrollment.objects.get(pk=message.enrollment_id).state == EnrollmentState.STOPPED


def test_a_colleague_answering_in_the_thread_changes_nothing(sent):
    _, messages = sent
    message = messages[0]
    domain = message.to_email.rpartition("@")[2]
    reply = ingest_email(reply_email(message, sender=f"boss@{domain}", text="Interested, call me."))
    assert reply.sender_match == ReplySenderMatch.LOOSE and reply.actions == []
    assert Enrollment.objects.get(pk=message.enrollment_id).state == EnrollmentState.ACTIVE


def test_a_campaign_override_replaces_the_default_actions_but_a_human_reply_still_stops(sent):
    campaign, messages = sent
    ReplyRules.objects.create(campaign=campaign, actions={"interested": ["mark_replied"]})
    assert actions_for(campaign.pk, "interested") == ["stop", "mark_replied"]
    reply = ingest_email(reply_email(messages[0], text="Yes, I'm interested. Tell me more."))
    assert reply.category == ReplyCategory.INTERESTED
    assert not OperatorTask.objects.filter(task_type=OperatorTaskType.REPLY).exists()
    assert Enrollment.objects.get(pk=messages[0].enrollment_id).state == EnrollmentState.STOPPED


def test_the_same_email_twice_is_recorded_and_acted_on_once(sent):
    _, messages = sent
    raw = reply_email(messages[0], text="Yes, I'm interested.", message_id="<once@client.example>")
    first, second = ingest_email(raw), ingest_email(raw)
    assert first.pk == second.pk and InboundReply.objects.count() == 1
    assert OperatorTask.objects.filter(task_type=OperatorTaskType.REPLY).count() == 1


def test_business_days_skip_the_weekend():
    assert add_business_days(dt.date(2026, 3, 6), 1) == dt.date(2026, 3, 9)  # Friday → Monday
    assert add_business_days(dt.date(2026, 3, 7), 1) == dt.date(2026, 3, 9)  # Saturday → Monday
    assert add_business_days(dt.date(2026, 3, 2), 1) == dt.date(2026, 3, 3)


def test_a_correction_to_interested_adds_its_task_but_counts_the_reply_once(
    sent, settings, operator_role_user
):
    from outreach.services.inbox.operations import recategorise_reply

    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = True
    campaign, messages = sent
    create_endpoint(client=campaign.client, url="https://127.0.0.1:9/in", event_types=["reply.received"])
    reply = ingest_email(reply_email(messages[0], text="How much does it cost?"))
    assert reply.category == ReplyCategory.QUESTION
    assert not OperatorTask.objects.filter(task_type=OperatorTaskType.REPLY).exists()
    recategorise_reply(
        reply=reply, category="interested", actor=operator_role_user, rationale="They want a quote."
    )
    assert OperatorTask.objects.filter(idempotency_key=f"reply:{reply.pk}:answer").exists()
    assert OutboxEvent.objects.filter(type="reply.received").count() == 1
    assert MessageEvent.objects.filter(message=messages[0], kind="replied").count() == 1
