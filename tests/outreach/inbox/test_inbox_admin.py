"""The inbox in the admin, as an operator-role user (not a superuser): filters across clients, the
thread, re-categorise with a rationale (audited, counted as a correction), mark handled, and an
answer sent through the same mailbox, in the thread."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.models import AuditEvent
from leads.models import Suppression
from outreach.models import InboundReply, ReplyAnswer, SendingMailbox
from outreach.replies.categories import ReplyCategory
from outreach.services.inbox.ingest import ingest_email

from .conftest import reply_email

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:outreach_inboundreply_changelist"


@pytest.fixture
def replies(sent):
    campaign, messages = sent
    mailbox = SendingMailbox.objects.create(email="sam@agency.example", display_name="Sam Carter")
    interested = ingest_email(
        reply_email(messages[0], text="Yes, I'm interested. Send details."), mailbox=mailbox
    )
    question = ingest_email(reply_email(messages[1], text="How much does it cost?"))
    stranger = ingest_email(reply_email(None, sender="who@else.example", text="Who is this?"))
    return campaign, messages, mailbox, interested, question, stranger


def test_an_operator_filters_the_inbox_by_category_mailbox_client_and_unhandled(
    client,
    operator_role_user,
    replies,
):
    campaign, _, mailbox, interested, question, stranger = replies
    client.force_login(operator_role_user)
    url = reverse(CHANGELIST)
    everything = client.get(url).content.decode()
    assert all(r.from_email in everything for r in (interested, question, stranger))
    by_category = client.get(url, {"category__exact": "interested"}).content.decode()
    assert interested.from_email in by_category and question.from_email not in by_category
    by_mailbox = client.get(url, {"mailbox": mailbox.pk}).content.decode()
    assert interested.from_email in by_mailbox and stranger.from_email not in by_mailbox
    by_client = client.get(url, {"client": campaign.client_id}).content.decode()
    assert question.from_email in by_client and stranger.from_email not in by_client
    InboundReply.objects.filter(pk=question.pk).update(handled_at=question.received_at)
    unhandled = client.get(url, {"handled": "no"}).content.decode()
    assert interested.from_email in unhandled and question.from_email not in unhandled


def test_the_thread_shows_our_email_and_the_reply_in_order(client, operator_role_user, replies):
    _, messages, _, interested, _, _ = replies
    client.force_login(operator_role_user)
    page = client.get(reverse("admin:outreach_inboundreply_change", args=[interested.pk])).content.decode()
    ours, theirs = page.index(messages[0].subject), page.index("Send details.")
    assert ours < theirs and "We wrote" in page and "They wrote" in page


def test_recategorise_with_a_rationale_is_audited_runs_the_new_actions_and_counts(
    client,
    operator_role_user,
    replies,
):
    campaign, messages, _, _, question, _ = replies
    client.force_login(operator_role_user)
    url = reverse("admin:outreach_inboundreply_change", args=[question.pk])
    refused = client.post(url, {"do": "recategorise", "category": "unsubscribe_request", "rationale": ""})
    assert (
        refused.status_code == 200 and InboundReply.objects.get(pk=question.pk).category == question.category
    )
    response = client.post(
        url,
        {
            "do": "recategorise",
            "category": "unsubscribe_request",
            "rationale": "They asked to stop on the phone.",
        },
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.category == ReplyCategory.UNSUBSCRIBE_REQUEST and question.corrected
    assert question.classifier_category == ReplyCategory.QUESTION
    event = AuditEvent.objects.get(verb="reply.recategorised", target_id=str(question.pk))
    assert event.rationale == "They asked to stop on the phone." and event.actor == operator_role_user
    assert Suppression.objects.filter(value=messages[1].to_email, reason="unsubscribed").exists()
    listing = client.get(reverse(CHANGELIST), {"campaign__id__exact": campaign.pk}).content.decode()
    assert "Classifier corrected on 1 of 2 replies shown (50%)" in " ".join(listing.split())
    # The campaign page says it too, and links to the campaign's inbox.
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "Replies (inbox)" in page and "classifier corrected 1 of" in " ".join(page.split())


def test_mark_handled_from_the_thread(client, operator_role_user, replies):
    *_, interested, _, _ = replies
    client.force_login(operator_role_user)
    url = reverse("admin:outreach_inboundreply_change", args=[interested.pk])
    assert client.post(url, {"do": "handle", "rationale": "called back"}).status_code == 302
    interested.refresh_from_db()
    assert interested.handled_by == operator_role_user and interested.handled_at is not None
    assert AuditEvent.objects.filter(verb="reply.handled", target_id=str(interested.pk)).exists()


def test_an_answer_goes_through_the_same_mailbox_in_the_thread(client, operator_role_user, replies):
    _, messages, mailbox, interested, _, _ = replies
    client.force_login(operator_role_user)
    url = reverse("admin:outreach_inboundreply_change", args=[interested.pk])
    response = client.post(url, {"do": "answer", "subject": "", "body": "Great, here are the details."})
    assert response.status_code == 302
    sent = mail.outbox[-1]
    assert sent.from_email == mailbox.from_header and sent.to == [interested.from_email]
    assert sent.subject == f"Re: {messages[0].subject}"  # their "Re:" subject, not "Re: Re:"
    assert sent.extra_headers["In-Reply-To"] == interested.message_id_header
    assert messages[0].rfc_message_id in sent.extra_headers["References"]
    answer = ReplyAnswer.objects.get()
    assert answer.rfc_message_id == sent.extra_headers["Message-ID"] and answer.sent_by == operator_role_user
    interested.refresh_from_db()
    assert interested.handled_at is not None
    assert AuditEvent.objects.filter(verb="reply.answered", target_id=str(interested.pk)).exists()
    thread = client.get(url).content.decode()
    assert "We answered" in thread and "Great, here are the details." in thread
    # the lead's answer to our answer joins the same thread
    follow_up = ingest_email(
        reply_email(
            None, sender=interested.from_email, text="Thanks!", headers={"In-Reply-To": answer.rfc_message_id}
        )
    )
    assert follow_up.message_id == messages[0].pk


def test_a_client_user_has_no_admin_inbox(client, client_user, replies):
    client.force_login(client_user)
    assert client.get(reverse(CHANGELIST)).status_code in (302, 403)


def test_erasing_the_person_erases_their_replies_and_our_answers(operator_role_user, replies):
    from leads.services import forget_person
    from outreach.services.inbox.operations import answer_reply

    *_, interested, _, _ = replies
    answer_reply(reply=interested, body="Here are the details you asked for.", actor=operator_role_user)
    forget_person(email=interested.from_email, rationale="erasure request")
    interested.refresh_from_db()
    answer = ReplyAnswer.objects.get()
    assert (interested.from_email, interested.text) == ("", "")
    assert (answer.to_email, answer.body_text) == ("", "")


def test_reply_rules_are_edited_in_the_admin_and_unknown_actions_refused(client, operator_role_user, sent):
    from outreach.models import ReplyRules

    campaign, _ = sent
    client.force_login(operator_role_user)
    url = reverse("admin:outreach_replyrules_add")
    page = client.get(url).content.decode()
    assert "answer_task" in page  # the help lists the defaults and the actions
    refused = client.post(url, {"campaign": campaign.pk, "actions": '{"interested": ["send_flowers"]}'})
    assert refused.status_code == 200 and not ReplyRules.objects.exists()
    saved = client.post(
        url, {"campaign": campaign.pk, "actions": '{"question": ["mark_replied", "answer_task"]}'}
    )
    assert saved.status_code == 302
    assert ReplyRules.objects.get(campaign=campaign).actions == {"question": ["mark_replied", "answer_task"]}
