"""The claim: under the campaign's row lock, a pure gate (may sending go ahead, and how many), the
next due messages locked, a pure router (claim, cancel or postpone each) and one writer, committed
before any provider call."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, F, OuterRef

from campaigns.errors import BudgetExhaustedError
from campaigns.lock_objects import campaign_for_send_claim
from campaigns.models import Campaign, CampaignState
from campaigns.selectors import EffectivePolicy, effective_policy
from campaigns.services.budget import ensure_budget_allows
from leads.models import Lead
from leads.selectors import contactable_leads

from ...message_ids import new_rfc_message_id
from ...models import PENDING_STATES, Message, MessageState, StopReason
from ...windows import SendWindow, next_window_opening
from .budget import affordable_emails, cost_per_email
from .caps import daily_cap, day_bounds, mailbox_room, quiet_hours_reason, used_today
from .locking import LockingQuery, due_to_lock
from .pacing import (
    CampaignPacing,
    MailboxPace,
    campaign_pacing,
    company_domain,
    domains_today,
    mailbox_pace,
)
from .row_updates import update_in_groups
from .stops import stop_enrollments


@dataclass
class SendStats:
    sent: int = 0
    dry_run: int = 0
    failed: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    rescheduled: int = 0
    cap_reached: bool = False
    stopped_reason: str = ""
    skip_reasons: Counter = field(default_factory=Counter)

    def add(self, other: SendStats) -> None:
        for name in ("sent", "dry_run", "failed", "retried", "dead", "skipped", "rescheduled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cap_reached = self.cap_reached or other.cap_reached
        self.stopped_reason = self.stopped_reason or other.stopped_reason
        self.skip_reasons.update(other.skip_reasons)


QUEUE_CHUNKS_AHEAD = 20


def _lock_next_due(
    campaign: Campaign, now: datetime, queue: list[int], size: int, *, chunk: int, to_lock: LockingQuery
) -> list[Message]:
    """Lock and load the next ``size`` due messages, best leads first. The ranking sorts every due
    message of the campaign (thousands, joined to their leads), so it is made once for the next 20
    chunks and kept in ``queue`` (claims of one message take them one by one); each claim then locks
    its share by id, re-checking that they are
    still due and skipping those another worker holds, and reads them (with the little of their
    lead the checks need) in the same query. Messages that fall due later join at the next refill."""
    chosen: list[Message] = []
    refilled = False
    while len(chosen) < size:
        if not queue:
            if refilled:
                break
            refilled = True
            queue.extend(
                Message.objects.filter(
                    campaign=campaign,
                    lead__campaign_id=campaign.pk,  # lets the join read only this campaign's leads
                    state__in=PENDING_STATES,
                    scheduled_for__lte=now,
                )
                .exclude(pk__in=[m.pk for m in chosen])  # locked by this chunk, not claimed yet
                .order_by("-lead__score", "scheduled_for", "id")
                .values_list("pk", flat=True)[: max(size, chunk) * QUEUE_CHUNKS_AHEAD]
            )
            if not queue:
                break
        take = queue[: size - len(chosen)]
        del queue[: len(take)]
        locked = to_lock.lock(take, now)
        for message in locked.values():  # the email's Feedback-ID names its client: read on send threads
            message.campaign = campaign
        chosen.extend(locked[pk] for pk in take if pk in locked)
    return chosen


@dataclass(frozen=True)
class SendGate:
    """Whether a claim may go ahead. ``reason`` says why not (empty: it may); ``room`` is how many
    messages it may take, the daily cap or the budget, whichever is tighter."""

    room: int = 0
    reason: str = ""
    cap_reached: bool = False
    budget_exhausted: bool = False


SYSTEM_PAUSED = "system pause is on"


def send_gate(
    *, state: str, system_paused: bool, quiet_hours: str, daily_room: int, affordable: int | None
) -> SendGate:
    """Pure: the campaign's state, the system switch, the quiet-hours reason ("" outside them), the
    daily cap left and the emails the budget still pays for (None: no budget cap, or a dry run)."""
    if state != CampaignState.ACTIVE:
        return SendGate(reason=f"campaign is {state}")
    if system_paused:
        return SendGate(reason=SYSTEM_PAUSED)
    if quiet_hours:
        return SendGate(reason=quiet_hours)
    if daily_room <= 0:
        return SendGate(cap_reached=True)
    if affordable is not None and affordable <= 0:
        return SendGate(reason="budget cap reached", budget_exhausted=True)
    return SendGate(room=daily_room if affordable is None else min(daily_room, affordable))


NOT_CONTACTABLE = "lead is not contactable (suppressed, unsubscribed, bounced or no consent)"


@dataclass
class Routing:
    """What a claim does with each locked candidate: take it, cancel it (its lead may no longer be
    mailed) or postpone it (to its send window's opening, to tomorrow when its mailbox is full or
    its company domain had its email today, or to its mailbox's next free time). ``why`` says why
    each postponed message waits (keyed by ``id(message)``: previews route unsaved messages)."""

    claim: list[Message] = field(default_factory=list)
    cancel: list[Message] = field(default_factory=list)
    postpone: list[tuple[Message, datetime]] = field(default_factory=list)
    skip_reasons: Counter = field(default_factory=Counter)
    why: dict[int, str] = field(default_factory=dict)
    # the pacing state after these claims: what a next slice of the same cycle starts from (preview)
    pace_after: dict[int, MailboxPace] = field(default_factory=dict)
    domains_after: Counter = field(default_factory=Counter)

    def wait(self, message: Message, until: datetime, why: str) -> None:
        self.postpone.append((message, until))
        self.why[id(message)] = why


DEFAULT_WINDOW = SendWindow()  # Monday to Friday, 09:00-17:00 (a campaign without a send schedule)
# ``Routing.why`` values (cycle_reasons and the preview turn them into sentences)
WINDOW, MAILBOX_CAP, MAILBOX_GAP, DOMAIN_LIMIT = "window", "mailbox_cap", "mailbox_gap", "domain_limit"


def route_messages(
    candidates: list[Message],
    *,
    now: datetime,
    contactable: set[int],
    mailbox_room: dict[int, int],
    campaign_timezone: str,
    window: SendWindow = DEFAULT_WINDOW,
    mailbox_pace: dict[int, MailboxPace] | None = None,
    domains_sent: Counter | None = None,
    domain_limit: int = 0,
) -> Routing:
    """Pure: route the candidates (best first) by contactability, the lead's send window (the
    campaign's ``window``), the room left in each sending mailbox today, each mailbox's next free
    time (``mailbox_pace``: at most one send per gap, so a mailbox never bursts) and the emails
    its company domain had from this campaign today (``domain_limit``; 0: none). Reads only the
    messages (their lead's time zone, their recipient)."""
    routing = Routing()
    room = dict(mailbox_room)
    pace = dict(mailbox_pace or {})
    slots: dict[int, datetime] = {}  # the next free time handed to a postponed message, per mailbox
    domains = Counter(domains_sent or {})
    tomorrow = day_bounds(now, campaign_timezone)[1]
    for message in candidates:
        if message.lead_id not in contactable:
            routing.cancel.append(message)
            routing.skip_reasons["not_contactable"] += 1
            continue
        zone = message.lead.timezone or campaign_timezone
        opening = next_window_opening(now, zone, window)
        if opening > now:
            routing.wait(message, opening, WINDOW)
            continue
        box = message.mailbox_id
        if box is not None and room.get(box, 0) <= 0:
            routing.wait(message, tomorrow, MAILBOX_CAP)
            routing.skip_reasons["mailbox_cap"] += 1
            continue
        mailbox = pace.get(box) if box is not None else None
        if mailbox is not None and mailbox.free_at > now:
            # spread the waiting ones one gap apart (each is checked again when it falls due)
            until = next_window_opening(slots.get(box, mailbox.free_at), zone, window)
            slots[box] = until + mailbox.gap
            routing.wait(message, until, MAILBOX_GAP)
            routing.skip_reasons["mailbox_gap"] += 1
            continue
        domain = company_domain(message.to_email) if domain_limit > 0 else ""
        if domain and domains[domain] >= domain_limit:
            routing.wait(message, next_window_opening(tomorrow, zone, window), DOMAIN_LIMIT)
            routing.skip_reasons["domain_limit"] += 1
            continue
        if box is not None:
            room[box] -= 1
            if mailbox is not None:
                pace[box] = MailboxPace(free_at=now + mailbox.gap, gap=mailbox.gap)
        if domain:
            domains[domain] += 1
        routing.claim.append(message)
    routing.pace_after, routing.domains_after = pace, domains
    return routing


def _write_routing(routing: Routing, *, now: datetime, dry_run: bool) -> None:
    """The claim's one writer: the claimed become `sending` (one UPDATE), the cancelled stop their
    enrollment, the postponed wait. It commits with the claim, before any provider call."""
    claimed = routing.claim
    if claimed:
        Message.objects.filter(pk__in=[m.pk for m in claimed]).update(
            state=MessageState.SENDING,
            claimed_at=now,
            dry_run=dry_run,
            updated_at=now,
            attempts=F("attempts") + 1,
        )
        for message in claimed:
            message.claim()
            message.claimed_at, message.dry_run, message.updated_at = now, dry_run, now
            message.attempts += 1
        # Scheduling gives each message its random Message-ID; only rows scheduled before that
        # (or written elsewhere) lack one. Ids already stored are kept: replies quote them.
        unnamed = [m for m in claimed if not m.rfc_message_id]
        for message in unnamed:
            message.rfc_message_id = new_rfc_message_id(message.from_email)
        if unnamed:
            Message.objects.bulk_update(unnamed, ["rfc_message_id"], batch_size=500)
    for message in routing.cancel:
        message.cancel()
        message.skip_reason = NOT_CONTACTABLE
    update_in_groups(Message, routing.cancel, ["state", "skip_reason"])
    for message, until in routing.postpone:
        message.scheduled_for = until
    update_in_groups(Message, [m for m, _ in routing.postpone], ["scheduled_for"])
    if routing.cancel:
        stop_enrollments(
            enrollment_ids=[m.enrollment_id for m in routing.cancel], reason=StopReason.SUPPRESSED, now=now
        )


@dataclass
class Claim:
    """One claim's outcome: the messages it took (all to be handed over before the next commit)."""

    campaign: Campaign | None = None
    messages: list[Message] = field(default_factory=list)
    gate: SendGate = field(default_factory=SendGate)
    routing: Routing = field(default_factory=Routing)
    candidates: int = 0
    dry_run: bool = True

    def add_to(self, stats: SendStats) -> None:
        stats.skipped += len(self.routing.cancel)
        stats.rescheduled += len(self.routing.postpone)
        stats.skip_reasons.update(self.routing.skip_reasons)
        stats.stopped_reason = stats.stopped_reason or self.gate.reason
        if self.gate.cap_reached or (self.gate.room and len(self.messages) >= self.gate.room):
            stats.cap_reached = True


# A run's claims read again at most this often what an operator may change without a pause or kill
# (the compliance policy, the send schedule) and what only the run itself adds to (the campaign's
# claims today, the company domains it emailed today: the cycle lease keeps every other run off the
# campaign). The campaign's state and the system switch are read under the lock at every claim, so a
# pause or kill still stops the very next one.
REREAD_SECONDS = 2.0


@dataclass
class RunReads:
    """What one send run's claims read once and carry on from (see REREAD_SECONDS): the policy, the
    pacing, and — for one day and kind (live or dry run) — the claims counted against the daily cap
    and the domains emailed, each claim adding its own. Claims given back (``forget``) make the next
    claim read afresh; where the daily cap may bind a claim the count is read again, so a run stops
    at the cap exactly as with fresh reads."""

    read_at: float | None = None
    day: tuple[datetime, bool] | None = None
    policy: EffectivePolicy | None = None
    pacing: CampaignPacing | None = None
    used: int = 0
    domains: Counter | None = None
    to_lock: LockingQuery | None = None  # see _claim_slice

    def forget(self) -> None:
        """Claims went back to ``scheduled`` (their calls never started): the carried counts still
        hold them, and a domain counted for a message that was never sent would postpone that very
        message to tomorrow when it is claimed again. The next claim reads afresh."""
        self.read_at = None

    def current(self, day: tuple[datetime, bool]) -> bool:
        return (
            self.read_at is not None and self.day == day and time.monotonic() - self.read_at < REREAD_SECONDS
        )

    def read(self, campaign: Campaign, now: datetime, day: tuple[datetime, bool]) -> None:
        self.read_at, self.day = time.monotonic(), day
        self.policy = effective_policy(campaign)
        self.pacing = campaign_pacing(campaign)
        self.used = used_today(campaign, now, dry_run=day[1])
        self.domains = None  # read when the schedule limits domains
        self.to_lock = None  # built again from the policy just read


def _claim_slice(
    *,
    campaign_id: int,
    now: datetime,
    dry_run: bool,
    size: int,
    chunk: int,
    queue: list[int] | None = None,
    reads: RunReads | None = None,
) -> Claim:
    """Under the campaign's row lock: read what the gate needs, ask it, lock up to ``size`` due
    messages (with whether their lead may be contacted, in the same query), route them and write the
    routing — one transaction, committed before any call. ``reads``: the run's (a claim without
    one reads everything afresh)."""
    reads = reads if reads is not None else RunReads()
    with transaction.atomic():
        campaign = campaign_for_send_claim(campaign_id)
        effective_dry_run = dry_run or not campaign.is_live
        day = (day_bounds(now, campaign.timezone)[0], effective_dry_run)
        carried = reads.current(day)
        if not carried:
            reads.read(campaign, now, day)
        if carried and daily_cap(campaign, reads.policy) - reads.used <= size:
            reads.read(campaign, now, day)  # the cap may bind this claim: counted afresh, not carried
        policy, pacing = reads.policy, reads.pacing
        gate = send_gate(
            state=campaign.state,
            system_paused=campaign.system_paused_now,
            quiet_hours=quiet_hours_reason(campaign, policy, now),
            daily_room=daily_cap(campaign, policy) - reads.used,
            affordable=None if effective_dry_run else affordable_emails(campaign),
        )
        claim = Claim(campaign=campaign, gate=gate, dry_run=effective_dry_run)
        if gate.budget_exhausted:
            try:  # records the blocked reason on the campaign, shown in the admin and API
                ensure_budget_allows(campaign=campaign, amount=cost_per_email())
            except BudgetExhaustedError as exc:
                claim.gate = SendGate(reason=str(exc), budget_exhausted=True)
        if gate.reason or gate.room <= 0:
            return claim
        to_lock = reads.to_lock
        if to_lock is None:
            contactable = Exists(
                contactable_leads(
                    Lead.objects.filter(pk=OuterRef("lead_id")),
                    now=now,
                    campaign=campaign,
                    regions=policy.consent_regions,
                )
            )
            to_lock = LockingQuery(due_to_lock(campaign, contactable))
            # Without consent regions contactability does not depend on the time (suppressions are
            # read by the database at each claim): the run carries the built query until its next
            # read. With them, consent captured before ``now`` counts: built for each claim.
            if not policy.consent_regions:
                reads.to_lock = to_lock
        candidates = _lock_next_due(
            campaign, now, [] if queue is None else queue, min(gate.room, size), chunk=chunk, to_lock=to_lock
        )
        claim.candidates = len(candidates)
        if not candidates:
            return claim
        if pacing.domain_daily_limit and reads.domains is None:
            reads.domains = domains_today(campaign, now, dry_run=effective_dry_run)
        claim.routing = route_messages(
            candidates,
            now=now,
            contactable={m.lead_id for m in candidates if m.contactable},
            mailbox_room=mailbox_room(candidates, now),
            campaign_timezone=campaign.timezone,
            window=pacing.window,
            mailbox_pace=mailbox_pace(candidates, now, dry_run=effective_dry_run),
            domains_sent=reads.domains if pacing.domain_daily_limit else None,
            domain_limit=pacing.domain_daily_limit,
        )
        _write_routing(claim.routing, now=now, dry_run=effective_dry_run)
        claim.messages = claim.routing.claim
        reads.used += len(claim.messages)
        if pacing.domain_daily_limit:
            reads.domains = claim.routing.domains_after
    return claim
