"""Message-IDs are random and on the sending domain; ids already stored keep matching replies."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from leads.models import Lead, LeadState
from outreach.models import Message, SendingMailbox, Sequence
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import record_inbound_reply

pytestmark = pytest.mark.django_db
RANDOM_ID = re.compile(r"<([0-9a-f]{32})@([a-z0-9.-]+)>")  # no product prefix


def schedule(live_campaign, *, leads=2, mailbox=None):
    campaign, sequence = live_campaign(leads=leads)
    if mailbox is not None:
        Sequence.objects.filter(pk=sequence.pk).update(mailbox=mailbox)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    return campaign


def test_message_ids_are_random_and_on_the_mailbox_domain(live_campaign):
    mailbox = SendingMailbox.objects.create(email="Sales@Mail.Agency.example", display_name="Sales")
    campaign = schedule(live_campaign, mailbox=mailbox)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    messages = list(Message.objects.order_by("pk"))
    assert len(messages) == 2 and len(mail.outbox) == 2
    parts = [RANDOM_ID.fullmatch(m.rfc_message_id) for m in messages]
    assert all(parts), [m.rfc_message_id for m in messages]
    assert {p.group(2) for p in parts} == {"mail.agency.example"}
    tokens = [p.group(1) for p in parts]
    assert tokens[0] != tokens[1]
    # nothing in one id leads to another: 128 random bits each, no shared prefix to count up from
    assert tokens[0][:8] != tokens[1][:8]
    # the id stored is the header sent, so replies quoting it find their message
    sent_ids = {email.extra_headers["Message-ID"] for email in mail.outbox}
    assert sent_ids == {m.rfc_message_id for m in messages}


def test_without_a_mailbox_the_default_from_domain_is_used(live_campaign, settings):
    settings.DEFAULT_FROM_EMAIL = "AICMO <campaigns@outreach.agency.example>"
    campaign = schedule(live_campaign, leads=1)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    found = RANDOM_ID.fullmatch(Message.objects.get().rfc_message_id)
    assert found and found.group(2) == "outreach.agency.example"


def test_a_from_address_without_a_domain_falls_back_to_the_setting(live_campaign, settings):
    settings.DEFAULT_FROM_EMAIL = "campaigns"
    settings.AICMO_MESSAGE_ID_DOMAIN = "ids.agency.example"
    schedule(live_campaign, leads=1)
    found = RANDOM_ID.fullmatch(Message.objects.get().rfc_message_id)
    assert found and found.group(2) == "ids.agency.example"


def test_stored_ids_are_kept_and_unnamed_rows_get_a_random_one_when_sent(live_campaign):
    """Rows scheduled before random ids (empty id, or an old sequential one) keep working."""
    campaign = schedule(live_campaign)
    first, second = Message.objects.order_by("pk")
    legacy = f"<aicmo.{first.pk}@aicmo.local>"
    Message.objects.filter(pk=first.pk).update(rfc_message_id=legacy)
    Message.objects.filter(pk=second.pk).update(rfc_message_id="")
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.rfc_message_id == legacy
    assert RANDOM_ID.fullmatch(second.rfc_message_id)
    assert {e.extra_headers["Message-ID"] for e in mail.outbox} == {legacy, second.rfc_message_id}
    # a reply quoting the old sequential id of a message already sent still finds it
    record_inbound_reply(
        from_header=first.to_email,
        subject="Re: hello",
        text="Interested.",
        headers={"In-Reply-To": legacy},
        message_id_header="<legacy-reply@x>",
    )
    assert Lead.objects.get(pk=first.lead_id).state == LeadState.REPLIED
