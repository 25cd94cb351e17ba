"""Issue 18 point 5: a campaign's send window, a minimum gap between two sends of one mailbox (with
random jitter) and at most one email a day per recipient company domain, on the real send path
(enroll → schedule → claim → send through the locmem backend) with a frozen, moved clock."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from campaigns.models import AuditEvent
from leads.services import bulk_add_leads
from outreach.models import Message, MessageState, SendingMailbox, SendSchedule
from outreach.services.cycle import run_cycle
from outreach.services.preview import WAIT, preview_next_cycle
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from tests.conftest import FIXED_NOW
from tests.outreach.sending import conftest as sending_fixtures

pytestmark = pytest.mark.django_db
live_campaign = sending_fixtures.live_campaign  # the sending tests' fixture

GAP, JITTER = 60, 30


@pytest.fixture
def paced(settings):
    settings.AICMO_MAILBOX_MIN_GAP_SECONDS = GAP
    settings.AICMO_MAILBOX_GAP_JITTER_SECONDS = JITTER
    settings.AICMO_DOMAIN_DAILY_LIMIT = 1
    return settings


def _with_mailbox(sequence, email="zoe@mail.northwind.example") -> SendingMailbox:
    mailbox = SendingMailbox.objects.create(email=email, display_name="Zoë", daily_cap=100)
    type(sequence).objects.filter(pk=sequence.pk).update(mailbox=mailbox)
    return mailbox


def test_no_two_sends_of_one_mailbox_closer_than_the_gap_across_cycles(live_campaign, frozen_now, paced):
    campaign, sequence = live_campaign(leads=6, cap=50)
    mailbox = _with_mailbox(sequence)

    first = run_cycle(campaign_id=campaign.pk, dry_run=False)
    sent = Message.objects.filter(mailbox=mailbox, state=MessageState.SENT)
    assert sent.count() == 1, "a cycle with six due messages sends one per mailbox: no burst"
    waiting = Message.objects.filter(mailbox=mailbox, state=MessageState.SCHEDULED)
    assert all(m.scheduled_for > FIXED_NOW for m in waiting)
    assert first.sent == 1 and first.rescheduled == 5  # the cycle's own account agrees

    # The preview names the mailbox and when it may send next.
    rows = [r for r in preview_next_cycle(campaign=campaign).rows if r.outcome == WAIT]
    assert rows and all(
        r.reason.startswith("paced: next send from zoe@mail.northwind.example at ") for r in rows
    )

    for _ in range(60):  # a cycle every 10 seconds for ten minutes
        frozen_now.shift(dt.timedelta(seconds=10))
        run_cycle(campaign_id=campaign.pk, dry_run=False)
    times = sorted(sent.values_list("claimed_at", flat=True))
    assert len(times) == 6
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= GAP, gaps
    # spread at random: the jitter adds up to JITTER seconds (plus one cycle's tick) to the gap
    assert max(gaps) <= GAP + JITTER + 10, gaps


def test_without_a_gap_a_mailbox_sends_its_due_messages_in_one_cycle(live_campaign, frozen_now, settings):
    settings.AICMO_MAILBOX_MIN_GAP_SECONDS = settings.AICMO_MAILBOX_GAP_JITTER_SECONDS = 0
    campaign, sequence = live_campaign(leads=4, cap=50)
    _with_mailbox(sequence)
    run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert Message.objects.filter(state=MessageState.SENT).count() == 4


def test_one_email_a_day_per_recipient_company_domain(live_campaign, frozen_now, paced):
    campaign, sequence = live_campaign(leads=0, cap=50)  # no mailbox: the gap does not apply
    bulk_add_leads(
        campaign=campaign,
        records=[
            {"email": "ann@acme.example"},
            {"email": "bob@acme.example"},
            {"email": "cy@Acme.example"},
            {"email": "dee@other.example"},
            {"email": "eve@gmail.com"},  # free mail says nothing about a company: never limited
            {"email": "fay@gmail.com"},
        ],
    )
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)

    def sent_to():
        return sorted(Message.objects.filter(state=MessageState.SENT).values_list("to_email", flat=True))

    first_day = sent_to()
    assert len([e for e in first_day if e.endswith("@acme.example")]) == 1
    assert {"dee@other.example", "eve@gmail.com", "fay@gmail.com"} <= set(first_day)
    assert len(first_day) == 4
    tuesday_9 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)
    held = Message.objects.exclude(state=MessageState.SENT)
    assert held.count() == 2 and all(m.scheduled_for == tuesday_9 for m in held)

    # the same day again: nothing more for acme
    frozen_now.shift(dt.timedelta(hours=3))
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert len(sent_to()) == 4

    frozen_now.move_to(tuesday_9)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert len(sent_to()) == 5
    wednesday_9 = tuesday_9 + dt.timedelta(days=1)
    assert Message.objects.exclude(state=MessageState.SENT).get().scheduled_for == wednesday_9


def test_a_campaign_window_of_tue_to_thu_10_to_12_is_honoured_in_the_leads_zone(
    live_campaign, frozen_now, paced
):
    campaign, _ = live_campaign(leads=3, cap=50, lead_timezone="America/New_York")
    SendSchedule.objects.create(
        campaign=campaign, send_days="123", window_start=dt.time(10), window_end=dt.time(12)
    )
    new_york = zoneinfo.ZoneInfo("America/New_York")
    # Monday 10:00 UTC is 05:00 in New York; the default window (Mon-Fri 09-17) would open at 14:00 UTC.
    frozen_now.move_to(dt.datetime(2026, 3, 2, 14, 30, tzinfo=dt.UTC))
    run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert not Message.objects.filter(state=MessageState.SENT).exists()
    tuesday_10_ny = dt.datetime(2026, 3, 3, 10, 0, tzinfo=new_york)
    assert set(Message.objects.values_list("scheduled_for", flat=True)) == {tuesday_10_ny}

    frozen_now.move_to(tuesday_10_ny - dt.timedelta(minutes=1))
    run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert not Message.objects.filter(state=MessageState.SENT).exists()

    frozen_now.move_to(tuesday_10_ny)
    run_cycle(campaign_id=campaign.pk, dry_run=False)
    sent = list(Message.objects.filter(state=MessageState.SENT))
    assert len(sent) == 3
    for message in sent:
        local = message.sent_at.astimezone(new_york)
        assert local.weekday() in (1, 2, 3) and dt.time(10) <= local.time() < dt.time(12)

    # a follow-up falling due on Thursday after 12:00 waits for next Tuesday 10:00
    message = sent[0]
    Message.objects.filter(pk=message.pk).update(state=MessageState.SCHEDULED)
    thursday_1230 = dt.datetime(2026, 3, 5, 12, 30, tzinfo=new_york)
    frozen_now.move_to(thursday_1230)
    Message.objects.filter(pk=message.pk).update(scheduled_for=thursday_1230)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    message.refresh_from_db()
    assert message.scheduled_for == dt.datetime(2026, 3, 10, 10, 0, tzinfo=new_york)
    assert not AuditEvent.objects.filter(verb="mailbox.paused").exists()


def test_a_send_schedule_rejects_a_window_that_ends_before_it_starts(live_campaign):
    from django.core.exceptions import ValidationError

    campaign, _ = live_campaign(leads=0)
    schedule = SendSchedule(
        campaign=campaign, send_days="08", window_start=dt.time(12), window_end=dt.time(10)
    )
    with pytest.raises(ValidationError) as raised:
        schedule.full_clean()
    assert {"send_days", "window_end"} <= set(raised.value.message_dict)


def test_the_router_paces_from_its_inputs_alone():
    """Pure: no database, no clock; the claim reads the facts and the router decides."""
    from collections import Counter
    from types import SimpleNamespace

    from outreach.services.sending.claims import DOMAIN_LIMIT, MAILBOX_GAP, route_messages
    from outreach.services.sending.pacing import MailboxPace

    def message(pk, email, mailbox_id=None):
        return SimpleNamespace(
            pk=pk, lead_id=pk, lead=SimpleNamespace(timezone=""), mailbox_id=mailbox_id, to_email=email
        )

    gap = dt.timedelta(seconds=75)
    a, b, c, d = (
        message(1, "a@one.example", 7),
        message(2, "b@two.example", 7),
        message(3, "c@three.example", 7),
        message(4, "d@acme.example"),
    )
    routing = route_messages(
        [a, b, c, d],
        now=FIXED_NOW,
        contactable={1, 2, 3, 4},
        mailbox_room={7: 10},
        campaign_timezone="UTC",
        mailbox_pace={7: MailboxPace(free_at=FIXED_NOW, gap=gap)},
        domains_sent=Counter({"acme.example": 1}),
        domain_limit=1,
    )
    assert routing.claim == [a]
    assert routing.postpone == [
        (b, FIXED_NOW + gap),  # the mailbox's next free time
        (c, FIXED_NOW + 2 * gap),  # spread one gap further
        (d, dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)),  # acme had its email today
    ]
    assert [routing.why[id(m)] for m in (b, c, d)] == [MAILBOX_GAP, MAILBOX_GAP, DOMAIN_LIMIT]
