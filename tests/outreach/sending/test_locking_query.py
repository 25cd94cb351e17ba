"""The claim's locking query compiled once per run (``sending/locking.py``) returns what the ORM
returns for the same query — the same messages, fields, lead columns, mailbox and contactability —
and leaves out what is no longer due or is locked by another worker."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from leads.models import Lead
from leads.selectors import contactable_leads
from leads.services import add_suppression
from outreach.models import Message
from outreach.services.sending.locking import LockingQuery, due_to_lock
from tests.outreach.sending.test_send_run_economy import due

COMPARED = (
    "id",
    "state",
    "scheduled_for",
    "attempts",
    "to_email",
    "subject",
    "body_text",
    "mailbox_id",
    "lead_id",
)


def locking_queryset(campaign, now):
    contactable = Exists(
        contactable_leads(Lead.objects.filter(pk=OuterRef("lead_id")), now=now, campaign=campaign)
    )
    return due_to_lock(campaign, contactable)


def described(message: Message) -> dict:
    lead = message.lead
    return {
        **{name: getattr(message, name) for name in COMPARED},
        "contactable": message.contactable,
        "lead": (lead.pk, lead.timezone, lead.state, sorted(lead.get_deferred_fields())),
        "mailbox": None if message.mailbox is None else (message.mailbox.pk, message.mailbox.from_email),
    }


@pytest.mark.django_db(transaction=True)
def test_the_compiled_query_returns_what_the_orm_returns(live_campaign, frozen_now):
    campaign = due(live_campaign, 6)
    now = timezone.now()
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    add_suppression(
        reason="manual_dnc", email=Message.objects.get(pk=ids[1]).to_email, client=campaign.client
    )
    Message.objects.filter(pk=ids[2]).update(scheduled_for=now + dt.timedelta(hours=1))  # not due yet
    queryset = locking_queryset(campaign, now)
    compiled = LockingQuery(queryset)

    for take in (ids, ids[:4], ids[3:], [ids[5], ids[0]], ids[:4]):  # sizes compiled and reused
        with transaction.atomic():
            expected = queryset.filter(pk__in=take, scheduled_for__lte=now).in_bulk()
        with transaction.atomic():
            got = compiled.lock(take, now)
        assert sorted(got) == sorted(expected) and ids[2] not in got
        assert {pk: described(m) for pk, m in got.items()} == {pk: described(m) for pk, m in expected.items()}
    with transaction.atomic():
        locked = compiled.lock(ids, now)
        assert (locked[ids[0]].contactable, locked[ids[1]].contactable) == (True, False)
        assert set(compiled._compiled) == {6, 4, 3, 2}
        # of the lead only what the checks read
        loaded = {"id", "campaign_id", "timezone", "state"}
        assert {f.attname for f in Lead._meta.concrete_fields} - locked[
            ids[0]
        ].lead.get_deferred_fields() == loaded
    if connection.features.has_select_for_update:  # like the ORM: a lock outside a transaction is a bug
        with pytest.raises(TransactionManagementError):
            compiled.lock(ids, now)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_messages_another_worker_has_locked_are_skipped(live_campaign, frozen_now):
    campaign = due(live_campaign, 3)
    now = timezone.now()
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            list(Message.objects.select_for_update().filter(pk=ids[0]))
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        with transaction.atomic():
            assert sorted(LockingQuery(locking_queryset(campaign, now)).lock(ids, now)) == ids[1:]
    finally:
        release.set()
        thread.join()
