"""The poll against a real Dovecot: each email recorded once however often it runs, a UIDVALIDITY
change re-reads the folder without duplicates, a refused login is written on the mailbox and the
other mailboxes are still read, a 5 MB reply with attachments keeps its text and nothing else."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

from leads.models import Lead, LeadState
from outreach.models import Enrollment, EnrollmentState, InboundReply, ReplyMatch, SendingMailbox
from outreach.replies.categories import ReplyCategory
from outreach.services.inbox.fetch import poll_all_mailboxes, poll_mailbox

from .conftest import corpus_email, reply_email


def test_polling_twice_records_each_email_once_and_acts_on_it(sent, imap_inbox):
    _, messages = sent
    mailbox, inbox = imap_inbox()
    inbox.deliver(
        reply_email(messages[0], text="Yes, I'm interested - tell me more about the pricing."),
        reply_email(None, sender="stranger@elsewhere.example", text="Who are you?"),
    )
    first = poll_mailbox(mailbox)
    assert (first.fetched, first.recorded, first.error) == (2, 2, "")
    second = poll_mailbox(mailbox)
    assert (second.fetched, second.recorded) == (0, 0)
    assert InboundReply.objects.count() == 2

    matched = InboundReply.objects.get(message=messages[0])
    assert matched.mailbox == mailbox and matched.matched_by == ReplyMatch.THREAD
    assert matched.imap_uid and matched.imap_uidvalidity
    assert Lead.objects.get(pk=messages[0].lead_id).state == LeadState.REPLIED
    assert Enrollment.objects.get(pk=messages[0].enrollment_id).state == EnrollmentState.STOPPED
    # kept, never dropped: the stranger's email waits for an operator, tied to nothing
    unmatched = InboundReply.objects.get(from_email="stranger@elsewhere.example")
    assert unmatched.campaign is None and unmatched.matched_by == ReplyMatch.NONE

    mailbox.refresh_from_db()
    assert mailbox.imap_polled_at is not None and mailbox.imap_last_error == ""
    # a later email is read by the next poll, and only it
    inbox.deliver(reply_email(messages[1], text="Not for us, thanks."))
    third = poll_mailbox(mailbox)
    assert (third.fetched, third.recorded) == (1, 1)
    assert InboundReply.objects.count() == 3


def test_a_uidvalidity_change_rereads_the_folder_without_duplicates(sent, imap_inbox):
    _, messages = sent
    mailbox, inbox = imap_inbox()
    earlier = [reply_email(messages[0]), reply_email(messages[1], text="Call me next week.")]
    inbox.deliver(*earlier)
    assert poll_mailbox(mailbox).recorded == 2
    mailbox.refresh_from_db()
    old_validity = mailbox.imap_uidvalidity

    # The server renumbers the folder (here: deleted and made again, the same emails back in it)
    inbox.recreate_folder()
    inbox.deliver(*earlier, reply_email(messages[2], text="Send me the deck."))
    result = poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert result.uidvalidity_changed and mailbox.imap_uidvalidity != old_validity
    assert result.fetched == 3 and result.recorded == 1  # the two known ones by their Message-ID
    assert InboundReply.objects.count() == 3
    assert poll_mailbox(mailbox).fetched == 0


def test_a_wrong_password_is_recorded_on_the_mailbox_and_the_others_are_still_read(sent, imap_inbox):
    _, messages = sent
    broken, _ = imap_inbox()
    broken.set_secret("imap_password", "not-the-password")
    broken.save()
    good, inbox = imap_inbox()
    inbox.deliver(reply_email(messages[0]))

    results = {r.mailbox_id: r for r in poll_all_mailboxes()}
    assert "login refused" in results[broken.pk].error
    assert results[good.pk].recorded == 1 and not results[good.pk].error
    broken.refresh_from_db()
    assert "login refused" in broken.imap_last_error and broken.imap_polled_at is not None
    assert "not-the-password" not in broken.imap_last_error
    assert SendingMailbox.objects.get(pk=good.pk).imap_last_error == ""


def test_an_unreachable_server_is_recorded_too(imap_inbox, settings):
    mailbox, _ = imap_inbox()
    mailbox.imap_port = 1  # nothing listens there
    mailbox.save()
    result = poll_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert result.error and mailbox.imap_last_error == result.error


def test_starttls_on_the_plain_port_works(sent, imap_inbox):
    _, messages = sent
    mailbox, inbox = imap_inbox(starttls=True)
    inbox.deliver(reply_email(messages[0]))
    assert poll_mailbox(mailbox).recorded == 1


def test_a_5_mb_reply_keeps_its_text_and_stores_no_attachment(sent, imap_inbox, settings):
    _, messages = sent
    mailbox, inbox = imap_inbox()
    big = EmailMessage(policy=email.policy.SMTP)
    big["From"] = messages[0].to_email
    big["To"] = messages[0].from_email
    big["Subject"] = f"Re: {messages[0].subject}"
    big["Message-ID"] = "<big-reply@client.example>"
    big["In-Reply-To"] = messages[0].rfc_message_id
    big.set_content("Interested! Our fleet list and last year's routes are attached.")
    big.add_attachment(
        b"\x89PNG" + bytes(range(256)) * 10_000, maintype="image", subtype="png", filename="routes.png"
    )
    big.add_attachment(
        b"%PDF-1.4 " + b"x" * 2_400_000, maintype="application", subtype="pdf", filename="fleet.pdf"
    )
    raw = big.as_bytes()
    assert len(raw) > 5_000_000
    inbox.deliver(raw)

    assert poll_mailbox(mailbox).recorded == 1
    reply = InboundReply.objects.get()
    assert reply.raw_size >= 5_000_000 and reply.truncated
    assert "Interested! Our fleet list" in reply.text
    assert len(reply.text.encode()) <= settings.AICMO_REPLY_MAX_TEXT_BYTES
    assert "Attachments not stored" in reply.size_note and "routes.png" in reply.size_note
    assert "PNG" not in reply.text and "%PDF" not in reply.text


def test_corpus_replies_polled_for_real_get_their_categories(sent, imap_inbox):
    _, messages = sent
    mailbox, inbox = imap_inbox()
    inbox.deliver(
        corpus_email("interested/01-gmail-en-tell-me-more.eml", messages[0]),
        corpus_email("out_of_office/01-exchange-en-auto-submitted.eml", messages[1]),
        corpus_email("not_interested/03-gmail-de-kein-interesse.eml", messages[2]),
    )
    assert poll_mailbox(mailbox).recorded == 3
    categories = {r.message_id: r.category for r in InboundReply.objects.all()}
    assert categories == {
        messages[0].pk: ReplyCategory.INTERESTED,
        messages[1].pk: ReplyCategory.OUT_OF_OFFICE,
        messages[2].pk: ReplyCategory.NOT_INTERESTED,
    }
