"""Issue 18 pts 3 and 4: a mailbox pool per sequence (first emails rotate to the mailbox with the
most room), warm-up (a mailbox's allowance grows from its start volume to its cap), and follow-ups
threaded from the mailbox that sent the first email (In-Reply-To, References, "Re: ")."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from types import SimpleNamespace

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.errors import DomainError
from campaigns.models import AuditEvent
from creative.models import CreativeVariant
from outreach.models import Enrollment, Message, MessageState, SendingMailbox
from outreach.services.cycle_reasons import LATER, SEND
from outreach.services.preview import preview_next_cycle
from outreach.services.sending import create_sequence, enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.sending.pool import thread_subject
from outreach.services.sending.sequences import update_sequence
from outreach.warmup import daily_allowance, warmup_status
from tests.factories import ClientFactory
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (the fixture, reused)

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2026, 3, 2)  # FIXED_NOW's date


@pytest.fixture(autouse=True)
def no_pacing(settings):
    """These tests count caps and allowances; pacing between sends (pts 5 and 8) is tested apart."""
    settings.AICMO_MAILBOX_MIN_GAP_SECONDS = 0
    settings.AICMO_MAILBOX_GAP_JITTER_SECONDS = 0
    settings.AICMO_DOMAIN_DAILY_LIMIT = 0


def mailbox(name: str, **fields) -> SendingMailbox:
    return SendingMailbox.objects.create(
        email=f"{name.lower()}@mail.northwind.example", display_name=name, **fields
    )


def pool_of(sequence, default, *others):
    return update_sequence(sequence=sequence, mailbox=default, mailboxes=[default, *others])


def sent_by_mailbox(day: dt.date) -> Counter:
    return Counter(
        Message.objects.filter(state=MessageState.SENT, sent_at__date=day).values_list(
            "mailbox__display_name", flat=True
        )
    )


# --- warm-up: the rule ---------------------------------------------------------------------------


def test_the_allowance_grows_from_the_start_volume_to_the_cap():
    box = SimpleNamespace(
        daily_cap=50, warmup_started_on=MONDAY, warmup_start_volume=5, warmup_daily_increase=2
    )
    assert warmup_status(box, MONDAY).label == "day 1 of warm-up: 5 of 50"
    assert warmup_status(box, MONDAY + dt.timedelta(days=6)).label == "day 7 of warm-up: 17 of 50"
    assert warmup_status(box, MONDAY + dt.timedelta(days=30)).label == "warmed up (day 31): 50 a day"
    assert warmup_status(box, MONDAY - dt.timedelta(days=1)).allowance == 0  # not started yet
    box.warmup_started_on = None
    assert warmup_status(box, MONDAY).label == "no warm-up: 50 a day"
    assert warmup_status(box, MONDAY).allowance == 50


# --- rotation within caps and warm-up over several days ----------------------------------------------


def test_a_pool_of_three_rotates_within_caps_and_warm_up_over_several_days(live_campaign, frozen_now):  # noqa: F811
    campaign, sequence = live_campaign(leads=40, cap=200)
    a = mailbox("A", daily_cap=4)  # warmed up: 4 a day
    b = mailbox("B", daily_cap=10, warmup_started_on=MONDAY, warmup_start_volume=1, warmup_daily_increase=2)
    c = mailbox("C", daily_cap=2)
    pool_of(sequence, a, b, c)
    enroll_leads(campaign=campaign, sequence=sequence)
    expected = {0: {"A": 4, "B": 1, "C": 2}, 1: {"A": 4, "B": 3, "C": 2}, 2: {"A": 4, "B": 5, "C": 2}}
    for day, allowed in expected.items():
        if day:
            frozen_now.shift(dt.timedelta(days=1, hours=1))  # Tue 11:00, Wed 12:00: inside the window
        today = MONDAY + dt.timedelta(days=day)
        now = dt.datetime.now(dt.UTC)
        assert {box.display_name: daily_allowance(box, now) for box in (a, b, c)} == allowed
        scheduled = schedule_due_messages(campaign=campaign)
        assert scheduled == sum(allowed.values())  # no first email rendered beyond the pool's room
        stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
        assert stats.sent == scheduled and stats.rescheduled == 0
        assert sent_by_mailbox(today) == Counter(allowed), f"day {day + 1}"
        # the leads with no room today wait, unrendered, for tomorrow
        waiting = Enrollment.objects.filter(sequence=sequence, messages__isnull=True)
        assert waiting.count() == 40 - Message.objects.count()
        assert not waiting.filter(next_send_at__isnull=True).exists()
    assert len(mail.outbox) == Message.objects.count() == 7 + 9 + 11


def test_a_mailbox_at_its_warm_up_allowance_is_skipped(live_campaign, frozen_now):  # noqa: F811
    campaign, sequence = live_campaign(leads=7, cap=100)
    # day 3 of its warm-up: 1 + 1 * 2 = 3 of 50
    warming = mailbox(
        "Warming",
        daily_cap=50,
        warmup_started_on=MONDAY - dt.timedelta(days=2),
        warmup_start_volume=1,
        warmup_daily_increase=1,
    )
    spare = mailbox("Spare", daily_cap=50)
    pool_of(sequence, warming, spare)
    enroll_leads(campaign=campaign, sequence=sequence, limit=3)
    # the first three go to the mailbox with the most room: Spare (50) over Warming (3)
    assert schedule_due_messages(campaign=campaign) == 3
    assert set(Message.objects.values_list("mailbox__display_name", flat=True)) == {"Spare"}
    # Spare is paused (readiness): only Warming is left, and it stops at its allowance of 3
    SendingMailbox.objects.filter(pk=spare.pk).update(is_active=False, paused_reason="test")
    enroll_leads(campaign=campaign, sequence=sequence)  # four more leads
    assert schedule_due_messages(campaign=campaign) == 3
    by_box = Counter(Message.objects.values_list("mailbox__display_name", flat=True))
    assert by_box == {"Spare": 3, "Warming": 3}
    # the other three Spare messages wait (paused), Warming's three go out; nothing is over the allowance
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 3 and stats.skip_reasons["mailbox_cap"] == 3
    assert {m.from_email for m in mail.outbox} == {"Warming <warming@mail.northwind.example>"}
    # the seventh lead found no room anywhere: not rendered, its enrollment still due
    (left,) = Enrollment.objects.filter(sequence=sequence, messages__isnull=True)
    assert left.next_send_at is not None
    assert schedule_due_messages(campaign=campaign) == 0  # still no room, nothing rendered


def test_a_single_mailbox_sequence_with_warm_up_is_held_to_its_allowance_when_claimed(
    live_campaign,  # noqa: F811
    frozen_now,
):
    campaign, sequence = live_campaign(leads=5, cap=100)
    box = mailbox("Solo", daily_cap=50, warmup_started_on=MONDAY, warmup_start_volume=2)
    update_sequence(sequence=sequence, mailbox=box)
    enroll_leads(campaign=campaign, sequence=sequence)
    assert schedule_due_messages(campaign=campaign) == 5  # no pool: rendered as before
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 2 and stats.skip_reasons["mailbox_cap"] == 3  # day 1: 2 of 50


def test_an_existing_single_mailbox_sequence_behaves_as_before(live_campaign, frozen_now):  # noqa: F811
    campaign, sequence = live_campaign(leads=4, cap=100, follow_up=True)
    box = mailbox("Solo", daily_cap=2)  # no warm-up date: the flat cap, as before
    update_sequence(sequence=sequence, mailbox=box)
    enroll_leads(campaign=campaign, sequence=sequence)
    assert schedule_due_messages(campaign=campaign) == 4
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 2 and stats.skip_reasons["mailbox_cap"] == 2
    assert set(Message.objects.values_list("mailbox", flat=True)) == {box.pk}
    assert all(m.in_reply_to == "" and m.references == "" for m in Message.objects.all())


# --- threaded follow-ups ------------------------------------------------------------------------------


def test_follow_ups_go_from_the_first_mailbox_threaded_with_re_subjects(live_campaign, frozen_now):  # noqa: F811
    campaign, _ = live_campaign(leads=3, cap=100)  # its "Main" sequence enrolls nobody here
    first, other = CreativeVariant.objects.filter(campaign=campaign).order_by("pk")[:2]
    assert first.subject.strip() and first.subject != other.subject
    threaded = create_sequence(
        campaign=campaign,
        name="Threaded",
        steps=[
            {"delay_days": 0, "creatives": [first.pk]},
            {"delay_days": 3, "creatives": [first.pk]},  # the same subject: "Re: " + the first's
            {"delay_days": 3, "creatives": [other.pk]},  # a subject of its own: kept
        ],
    )
    boxes = [mailbox(name, daily_cap=50) for name in ("A", "B", "C")]
    pool_of(threaded, *boxes)
    enroll_leads(campaign=campaign, sequence=threaded)
    schedule_due_messages(campaign=campaign)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 3
    # equal room: one lead's first email from each mailbox
    assert Counter(Message.objects.values_list("mailbox__display_name", flat=True)) == {
        "A": 1,
        "B": 1,
        "C": 1,
    }
    frozen_now.shift(dt.timedelta(days=3))  # Thursday: step 2 due
    schedule_due_messages(campaign=campaign)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 3
    frozen_now.shift(dt.timedelta(days=4))  # next Monday: step 3 due
    schedule_due_messages(campaign=campaign)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 3
    built = {sent.extra_headers["Message-ID"]: sent.message() for sent in mail.outbox}
    assert len(built) == 9
    for enrollment in Enrollment.objects.filter(sequence=threaded):
        one, two, three = Message.objects.filter(enrollment=enrollment).order_by("step__position")
        assert one.mailbox_id == two.mailbox_id == three.mailbox_id  # the first step's mailbox throughout
        assert one.in_reply_to == "" and "In-Reply-To" not in built[one.rfc_message_id]
        email_two, email_three = built[two.rfc_message_id], built[three.rfc_message_id]
        assert email_two["In-Reply-To"] == one.rfc_message_id
        assert email_two["References"] == one.rfc_message_id
        assert str(email_two["Subject"]) == f"Re: {one.subject}"
        assert email_three["In-Reply-To"] == two.rfc_message_id
        assert email_three["References"].split() == [one.rfc_message_id, two.rfc_message_id]
        assert not str(email_three["Subject"]).startswith("Re:")  # the step's own subject
        assert email_two["From"] == email_three["From"] == built[one.rfc_message_id]["From"]


def test_thread_subjects():
    assert thread_subject("Routes", "Routes") == "Re: Routes"
    assert thread_subject("  ", "Routes") == "Re: Routes"
    assert thread_subject("", "Re: Routes") == "Re: Routes"  # never "Re: Re:"
    assert thread_subject("A new idea", "Routes") == "A new idea"


# --- the pool's mailboxes and the admin ---------------------------------------------------------------


def test_a_pool_takes_only_the_clients_own_or_shared_mailboxes(live_campaign, operator):  # noqa: F811
    campaign, sequence = live_campaign(leads=0)
    foreign = mailbox("Foreign", client=ClientFactory())
    with pytest.raises(DomainError, match="belongs to another client"):
        update_sequence(sequence=sequence, mailboxes=[foreign], actor=operator)
    shared, own = mailbox("Shared"), mailbox("Own", client=campaign.client)
    update_sequence(sequence=sequence, mailboxes=[shared, own], actor=operator)
    assert set(sequence.mailboxes.all()) == {shared, own}
    event = AuditEvent.objects.filter(verb="sequence.updated").latest("pk")
    assert event.metadata == {"changed": ["mailboxes"]}


def test_the_mailbox_admin_shows_where_each_mailbox_is_in_its_warm_up(client, operator, frozen_now):
    mailbox("Fresh", daily_cap=50, warmup_started_on=MONDAY - dt.timedelta(days=6))
    mailbox("Old", daily_cap=40)
    client.force_login(operator)
    page = client.get(reverse("admin:outreach_sendingmailbox_changelist")).content.decode()
    assert "day 7 of warm-up: 17 of 50" in page
    assert "no warm-up: 40 a day" in page
    add = client.get(reverse("admin:outreach_sendingmailbox_add")).content.decode()
    assert 'value="2026-03-02"' in add  # a new mailbox warms up from today unless cleared


def test_the_sequence_change_form_sets_the_pool_through_the_service(
    client,
    operator_role_user,
    live_campaign,  # noqa: F811
):
    campaign, sequence = live_campaign(leads=0)
    default, second = mailbox("Default", client=campaign.client), mailbox("Second")
    mailbox("Theirs", client=ClientFactory())
    client.force_login(operator_role_user)
    url = reverse("admin:outreach_sequence_change", args=[sequence.pk])
    page = client.get(url)
    offered = {box.display_name for box in page.context["adminform"].form.fields["mailboxes"].queryset}
    assert offered == {"Default", "Second"}  # this client's and shared ones only
    steps = page.context["inline_admin_formsets"][0].formset.management_form
    management = {steps.add_prefix(k): v for k, v in steps.initial.items()}
    form = {"name": "Main", "mailbox": default.pk, "mailboxes": [second.pk], "is_active": "on"}
    response = client.post(url, {**form, "plain_text_only": "on", **management})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(sequence.mailboxes.all()) == [second]
    event = AuditEvent.objects.filter(verb="sequence.updated").latest("pk")
    assert event.metadata == {"changed": ["mailbox", "mailboxes"]} and event.actor == operator_role_user


def test_the_cycle_preview_names_the_mailbox_rotation_will_pick(live_campaign, frozen_now):  # noqa: F811
    campaign, sequence = live_campaign(leads=9, cap=200)
    a, b, c = mailbox("A", daily_cap=4), mailbox("B", daily_cap=1), mailbox("C", daily_cap=2)
    pool_of(sequence, a, b, c)
    preview = preview_next_cycle(campaign=campaign)
    previewed = Counter(row.mailbox for row in preview.rows if row.outcome == SEND)
    waiting = [row for row in preview.rows if row.outcome == LATER]
    assert len(waiting) == 2 and all("pool has room" in row.reason for row in waiting)

    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    assert previewed == Counter(Message.objects.values_list("from_email", flat=True))
    assert len(previewed) == 3 and sum(previewed.values()) == 7  # every pool mailbox, within its cap
