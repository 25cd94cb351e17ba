"""Delivery: claimed messages handed to the provider (``provider.py``) as a sliding window — a
claim as soon as enough of the OUTREACH_SEND_CONCURRENCY calls in flight have finished — and each
batch of outcomes recorded, the enrollments moved on, in a short transaction of its own.

A claim is committed just before its calls start (they start at once: a claim takes only as many
as there are free send threads), so a crash leaves the calls in flight uncertain and nothing else.
A pause or kill commits at once; every later claim reads it and takes nothing; the service then
returns once the calls already with the provider are recorded (``wait_for_calls_in_flight``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.events import emit_events, subscriptions_held
from campaigns.fsm import source_states
from campaigns.lock_objects import campaign_send_gate
from campaigns.models import Campaign, CampaignState
from campaigns.services.audit import audit_events_batched, record_audit_event
from leads.models import Lead
from leads.services import mark_leads_contacted

from ...backoff import retry_delay
from ...errors import PermanentSendError, classify_send_error
from ...models import Enrollment, EnrollmentState, Message, MessageState, SequenceStep
from ..leases import cycle_running
from ..outage import DatabaseOutage
from .budget import book_sent_costs
from .claims import Claim, RunReads, SendStats, _claim_slice
from .provider import Provider, ProviderCall
from .row_updates import update_in_groups, update_in_groups_with_own
from .window import MACHINE_LOAD, CallWindow, SlicePace

logger = logging.getLogger(__name__)


# A run with nothing in flight waits this long at most for other runs' calls to free the threads
# it claims for before it looks again (its lease is renewed between the waits).
THREAD_WAIT_SECONDS = 0.25


def send_due_messages(
    *,
    campaign_id: int,
    now: datetime | None = None,
    dry_run: bool = True,
    chunk_size: int | None = None,
    connection=None,
    max_chunks: int = 1000,
    heartbeat: Callable[[], bool] | None = None,
) -> SendStats:
    """Send what is due for one campaign until nothing is due, a cap is hit or it is stopped.

    Each claim (see SlicePace; while calls are in flight, as many as have finished, once a quarter
    of the threads are free) is committed and handed to the provider at once; the answers are
    recorded a few at a time (RECORD_WAIT_SECONDS), right after the threads are refilled, so a crash
    leaves uncertain only the calls in flight and the answers of the last 50 ms.
    ``max_chunks`` bounds the claims of one run. The run's sends are booked to the budget once it
    ends (a crash leaves them flagged for the sweep to book). ``heartbeat``: called before each
    claim (the cycle renews its lease there); False stops the run before the claim.

    A lost database connection (a restart, a failover) is waited out for up to
    OUTREACH_DATABASE_OUTAGE_SECONDS (``DatabaseOutage``): the answers the run holds are written once
    it reconnects, and it goes on claiming."""
    provider = Provider(connection, concurrency=settings.OUTREACH_SEND_CONCURRENCY)
    pace = SlicePace(
        seconds=settings.OUTREACH_SEND_SLICE_SECONDS,
        limit=chunk_size or settings.OUTREACH_CHUNK_SIZE,
        concurrency=provider.concurrency,
    )
    window = CallWindow(provider)
    stats = SendStats()
    queue: list[int] = []  # the ranked due messages of this run, see _lock_next_due
    reads = RunReads()  # what the run's claims carry on from one to the next, see RunReads
    claims, claiming, effective_dry_run = 0, True, dry_run
    campaign: Campaign | None = None
    claim_seconds = 0.0
    steps = CampaignSteps(campaign_id)
    outage = DatabaseOutage()
    try:
        with subscriptions_held():  # read once a second, not at every record
            while True:
                # Claims and records wait for this many threads' worth (see MachineLoad).
                refill_at = MACHINE_LOAD.refill_at(provider.concurrency)
                room = pace.size(dry_run=effective_dry_run) - len(window.in_flight)
                # Refill the threads first, then record the answers; but when every thread of the run is
                # idle, the answers first (the claim then knows the provider's measured pace).
                idle = not window.in_flight
                if claiming and room > 0 and not (idle and window.finished):
                    if heartbeat is not None and not outage.call(heartbeat, what="renewing the cycle lease"):
                        stats.stopped_reason = "lost the cycle lease"
                        claiming = False
                        continue
                    # Slow calls are claimed as many as the threads reserved for them (they start at once);
                    # fast ones as the slice says, the reserved threads starting the first of them.
                    threads = 0
                    if not effective_dry_run:  # a dry run calls no provider
                        # Idle or not, a claim waits for a quarter of the threads: claims of one or two
                        # made by runs with nothing in flight were a quarter of all claims (each a
                        # transaction) and kept no thread busier.
                        least = min(refill_at, room)
                        threads = provider.reserve(min(room, provider.concurrency), least=least)
                        if not threads and idle:  # other runs of this process hold the threads
                            provider.wait_for_free(least=least, timeout=THREAD_WAIT_SECONDS)
                            continue
                    if threads or effective_dry_run:
                        claims += 1
                        claiming = claims < max_chunks
                        started = time.monotonic()
                        try:
                            claim = _claim_through_outage(
                                outage,
                                window,
                                campaign_id=campaign_id,
                                now=now or timezone.now(),
                                dry_run=dry_run,
                                size=threads if threads > 0 and room <= provider.concurrency else room,
                                chunk=pace.limit,
                                queue=queue,
                                reads=reads,
                            )
                        except BaseException:
                            provider.release(threads)
                            raise
                        claim_seconds = time.monotonic() - started  # before any call: the round trip alone
                        claim.add_to(stats)
                        campaign, effective_dry_run = claim.campaign, claim.dry_run
                        if not claim.candidates or stats.cap_reached or stats.stopped_reason:
                            claiming = False
                        calls = 0 if claim.dry_run else len(claim.messages)
                        provider.release(threads - min(threads, calls))  # reserved for calls not claimed
                        if claim.messages and claim.dry_run:
                            _record_dry_run(campaign, claim.messages, now or timezone.now(), stats, steps)
                        elif claim.messages:
                            window.hand_over(
                                claim.messages, reserved=min(threads, calls), deadline_seconds=pace.seconds
                            )
                        continue
                # answers are recorded in batches (see RECORD_WAIT_SECONDS), once the threads are refilled
                if window.record_due(batch=refill_at, ending=not claiming):
                    started = time.monotonic()
                    finished = window.take_finished()
                    if any(call is None for _, call in finished):
                        reads.forget()  # some go back to scheduled: the carried counts still hold them
                    stats.add(
                        _record_through_outage(outage, campaign, finished, now or timezone.now(), steps)
                    )
                    calls = [call for _, call in finished if call is not None]
                    pace.record(
                        calls=len(calls),
                        call_seconds=sum(call.seconds for call in calls),
                        overhead_seconds=claim_seconds + time.monotonic() - started,
                    )
                    continue
                if not window.in_flight:
                    if claiming:
                        continue
                    break
                # Woken by its own calls' ends, or by enough threads given back to claim for (when it
                # has room for that many more).
                can_claim = (
                    claiming and pace.size(dry_run=effective_dry_run) - len(window.in_flight) >= refill_at
                )
                window.collect(
                    or_when=(lambda at=refill_at: provider.threads.free() >= at) if can_claim else None
                )
    except BaseException:
        # The run is being stopped (a call raised what is not an outcome): the calls in flight end,
        # and what was claimed but never started goes back — it was never with the provider.
        provider.close()
        _release_never_started(window, campaign)
        raise
    finally:
        provider.close()
    if stats.sent:
        outage.call(lambda: book_sent_costs(campaign_id=campaign_id), what="booking the run's sends")
    return stats


def _claim_through_outage(
    outage: DatabaseOutage,
    window: CallWindow,
    *,
    campaign_id: int,
    now: datetime,
    queue: list[int],
    reads: RunReads,
    **claim: Any,
) -> Claim:
    """``_claim_slice``, tried again when the connection is lost. A claim whose COMMIT got no answer
    may have gone through: before the next try, what it took (`sending`, claimed at this claim's
    time, not with the provider) goes back. The carried reads and the ranking are read afresh."""
    lost: list[bool] = []

    def claim_slice() -> Claim:
        if lost:
            _release_stranded(campaign_id, claimed_at=now, handed_over=window.message_ids())
        return _claim_slice(campaign_id=campaign_id, now=now, queue=queue, reads=reads, **claim)

    def forget() -> None:
        lost.append(True)
        reads.forget()
        queue.clear()

    return outage.call(claim_slice, what=f"claiming campaign {campaign_id}'s messages", before_retry=forget)


def _release_stranded(campaign_id: int, *, claimed_at: datetime, handed_over: set[int]) -> None:
    """The run's claims share its cycle's time; one of them still `sending` that the run never
    handed to the provider was committed by a claim the run believes failed: it goes back."""
    stranded = list(
        Message.objects.filter(campaign_id=campaign_id, state=MessageState.SENDING, claimed_at=claimed_at)
        .exclude(pk__in=handed_over)
        .order_by("pk")
    )
    if stranded:
        logger.warning(
            "a claim of campaign %s committed unseen: %s message(s) go back", campaign_id, len(stranded)
        )
        campaign = Campaign.objects.get(pk=campaign_id)
        _record_calls(campaign, [(message, None) for message in stranded], claimed_at, SendStats())


# What ``_record_calls`` changes on the messages it is given, put back when its transaction fails.
RECORDED_FIELDS = (
    "state",
    "provider_message_id",
    "sent_at",
    "cost_unbooked",
    "last_error",
    "scheduled_for",
    "attempts",
    "skip_reason",
    "updated_at",
)


def _record_through_outage(
    outage: DatabaseOutage,
    campaign: Campaign | None,
    finished: list[tuple[Message, ProviderCall | None]],
    now: datetime,
    steps: CampaignSteps,
) -> SendStats:
    """``_record_calls``, tried again when the connection is lost: the answers held in memory are
    written once the database is back. A failed try is undone on the messages too (their states and
    outcomes as they were), so the next one applies each outcome once; rows a try whose COMMIT got no
    answer did write are no longer `sending`, and the next try leaves them alone."""
    before = [
        (message, {f: message.__dict__[f] for f in RECORDED_FIELDS if f in message.__dict__})
        for message, _ in finished
    ]

    def record() -> SendStats:
        recorded = SendStats()
        try:
            _record_calls(campaign, finished, now, recorded, steps)
        except BaseException:
            for message, fields in before:
                message.__dict__.update(fields)
            raise
        return recorded

    return outage.call(record, what=f"recording campaign {campaign.pk if campaign else '?'}'s answers")


def wait_for_calls_in_flight(campaign_id: int) -> bool:
    """After a pause or kill has committed: wait until the campaign's calls already with the
    provider are recorded, so the stop returns with nothing of it in flight (no claim after the
    commit starts another). A `sending` message claimed long ago with no cycle holding the campaign
    was left by a dead worker: the recovery sweep settles it, nobody waits for it. Gives up after
    OUTREACH_STOP_WAIT_SECONDS (a call hanging that long); returns whether nothing is left in flight."""
    deadline = time.monotonic() + settings.OUTREACH_STOP_WAIT_SECONDS
    recent = timezone.now() - timedelta(seconds=settings.OUTREACH_STOP_WAIT_SECONDS)
    sending = Message.objects.filter(campaign_id=campaign_id, state=MessageState.SENDING)
    while sending.exists():
        if not cycle_running(campaign_id) and not sending.filter(claimed_at__gte=recent).exists():
            return True
        if time.monotonic() >= deadline:
            logger.warning("campaign %s stopped with calls still in flight", campaign_id)
            return False
        time.sleep(0.02)
    return True


def _release_never_started(window: CallWindow, campaign: Campaign | None) -> None:
    """What was claimed but never started goes back, through the same writer as a run's answers
    (``_record_calls`` with no call: `scheduled` again, or cancelled if the campaign was killed)."""
    never = [message for message, call in window.finished if call is None] + [
        message
        for future, message in window.in_flight.items()
        if future.cancelled() or (future.done() and future.exception() is None and future.result() is None)
    ]
    if not never or campaign is None:
        return
    try:
        _record_calls(campaign, [(message, None) for message in never], timezone.now(), SendStats())
    except Exception:  # the database may be what failed; the recovery sweep settles them then
        logger.exception("could not release %s claimed message(s) never handed over", len(never))


def _record_dry_run(
    campaign: Campaign, messages: list[Message], now: datetime, stats: SendStats, steps: CampaignSteps
) -> None:
    """A dry-run claim calls no provider: its messages are recorded at once as if sent."""
    with transaction.atomic():
        for message in messages:
            message.mark_sent()
            message.sent_at = now
        stats.dry_run += len(messages)
        _record_slice(campaign, messages, now, steps)


def _record_calls(
    campaign: Campaign,
    finished: list[tuple[Message, ProviderCall | None]],
    now: datetime,
    stats: SendStats,
    steps: CampaignSteps | None = None,
) -> None:
    """Record finished calls in one transaction: each call's outcome, the enrollments moved on;
    messages whose call never started go back to `scheduled` (cancelled when the campaign was
    killed meanwhile). Only rows still `sending` are written (locked here, so the recovery sweep
    cannot settle one at the same time). Its audit events (the sends, the first contacts) are one INSERT."""
    with transaction.atomic(), audit_events_batched():
        ours = set(
            Message.objects.select_for_update(of=("self",))
            .filter(pk__in=[m.pk for m, _ in finished], state=MessageState.SENDING)
            .values_list("pk", flat=True)
        )
        calls = [call for message, call in finished if call is not None and message.pk in ours]
        never = [message for message, call in finished if call is None and message.pk in ours]
        if never:
            state, _ = campaign_send_gate(campaign.pk)
            _unclaim(never, killed=state == CampaignState.CANCELLED, now=now)
        _apply_outcomes(calls, now, stats)
        _record_slice(campaign, [call.message for call in calls], now, steps)


def _unclaim(messages: list[Message], *, killed: bool, now: datetime) -> None:
    """Claimed but never handed to the provider: cancelled when the campaign was killed, else back
    to `scheduled` without using up an attempt."""
    for message in messages:
        if killed:
            message.cancel()
            message.skip_reason = "campaign killed"
        else:
            message.release()
            message.attempts -= 1
        message.updated_at = now
    update_in_groups(Message, messages, ["state", "skip_reason", "attempts", "updated_at"])


def _apply_outcomes(calls: list[ProviderCall], now: datetime, stats: SendStats) -> None:
    """Each call's outcome on its message: sent (its spend to book), or an error classified —
    retried later with backoff, or dead when permanent or out of attempts; never swallowed."""
    max_attempts = settings.OUTREACH_MAX_ATTEMPTS
    for call in calls:
        message = call.message
        if call.error is None:
            message.provider_message_id = call.provider_message_id
            message.mark_sent()
            message.sent_at = now
            message.cost_unbooked = True
            stats.sent += 1
            continue
        exc = call.error
        kind = classify_send_error(exc)
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        stats.failed += 1
        if kind is PermanentSendError or message.attempts >= max_attempts:
            message.mark_dead()
            stats.dead += 1
            logger.warning(
                "message %s dead after %s attempt(s): %s",
                message.pk,
                message.attempts,
                message.last_error,
            )
        else:
            message.schedule_retry()
            message.scheduled_for = now + retry_delay(
                message.attempts,
                base=settings.OUTREACH_RETRY_BASE_SECONDS,
                cap=settings.OUTREACH_RETRY_CAP_SECONDS,
            )
            stats.retried += 1


def _record_slice(
    campaign: Campaign, done: list[Message], now: datetime, steps: CampaignSteps | None = None
) -> None:
    """Write what a slice did: message states, enrollments moved on, first contacts, one audit event."""
    for message in done:
        message.updated_at = now
    sent = [m for m in done if m.state == MessageState.SENT]
    # Sent ones share every value but the provider's id: one statement whatever the slice size.
    update_in_groups_with_own(
        Message, sent, ["state", "sent_at", "updated_at", "cost_unbooked"], own="provider_message_id"
    )
    update_in_groups(
        Message,
        [m for m in done if m.state != MessageState.SENT],
        ["state", "last_error", "scheduled_for", "updated_at"],
    )
    _advance_enrollments(sent, now, campaign, steps)
    if sent:
        record_audit_event(
            verb="email.dry_run_recorded" if sent[0].dry_run else "email.sent",
            campaign=campaign,
            metadata={"count": len(sent), "message_ids": [m.pk for m in sent][:200]},
        )
        if not sent[0].dry_run:  # one INSERT for the slice, and none without a subscribed endpoint
            emit_events(
                "message.sent", client=campaign.client_id, campaign=campaign, items=_sent_events(sent)
            )


def _sent_events(sent: list[Message]) -> Iterator[dict]:
    """Lazy: nothing is built when no endpoint of the client subscribes."""
    return (
        {
            "message_id": m.pk,
            "lead": {"id": m.lead_id, "email": m.to_email},  # no per-message query for the lead
            "step_id": m.step_id,
            "sent_at": m.sent_at,
            "provider_message_id": m.provider_message_id,
        }
        for m in sent
    )


FIRST_CONTACT_STATES = source_states(Lead, "mark_contacted")


class CampaignSteps:
    """A campaign's sequence steps by id and by position, read once per send run (and again when a
    message names a step added since)."""

    def __init__(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        self.by_pk: dict[int, SequenceStep] = {}
        self.by_position: dict[tuple[int, int], SequenceStep] = {}

    def step(self, step_id: int) -> SequenceStep:
        if step_id not in self.by_pk:
            self.by_pk = {
                step.pk: step
                for step in SequenceStep.objects.filter(sequence__campaign_id=self.campaign_id).only(
                    "id", "sequence_id", "position", "delay_days"
                )
            }
            self.by_position = {(step.sequence_id, step.position): step for step in self.by_pk.values()}
        return self.by_pk[step_id]

    def following(self, step: SequenceStep) -> SequenceStep | None:
        return self.by_position.get((step.sequence_id, step.position + 1))


def _advance_enrollments(
    sent: list[Message], now: datetime, campaign: Campaign, steps: CampaignSteps | None = None
) -> None:
    """Move each sent message's enrollment past the message's step: on to the next step after its
    delay, or completed after the last. One UPDATE per step in the slice (mostly one), guarded by
    the enrollment still being active at that step, so a stopped one stays stopped and a step is
    never passed twice."""
    if not sent:
        return
    steps = steps or CampaignSteps(campaign.pk)
    by_step: dict[int, list[int]] = {}
    for message in sent:
        by_step.setdefault(message.step_id, []).append(message.enrollment_id)
    for step_id, enrollment_ids in by_step.items():
        step = steps.step(step_id)
        following = steps.following(step)
        at_step = Enrollment.objects.filter(
            pk__in=enrollment_ids, state=EnrollmentState.ACTIVE, current_step=step.position
        )
        if following is None:
            at_step.update(
                current_step=step.position + 1,
                state=EnrollmentState.COMPLETED,
                ended_at=now,
                next_send_at=None,
            )
        else:
            at_step.update(
                current_step=step.position + 1, next_send_at=now + timedelta(days=following.delay_days)
            )
    first_contacts = {m.lead_id for m in sent if m.lead.state in FIRST_CONTACT_STATES}
    if first_contacts:
        mark_leads_contacted(lead_ids=first_contacts, campaign=campaign)
