"""Delivery: claimed slices handed to the provider (``provider.py``, the calls overlapped) and
recorded — each call's outcome written and the enrollments moved on — in the transaction that holds
the campaign's share lock a kill waits for."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.fsm import source_states
from campaigns.lock_objects import campaign_send_gate
from campaigns.models import Campaign, CampaignState
from campaigns.services import record_audit_event
from leads.models import Lead
from leads.services import mark_leads_contacted

from ...backoff import retry_delay
from ...errors import PermanentSendError, classify_send_error
from ...models import Enrollment, EnrollmentState, Message, MessageState, SequenceStep
from .budget import book_sent_costs
from .claims import SYSTEM_PAUSED, SendStats, _claim_slice
from .provider import Provider
from .row_updates import update_in_groups, update_provider_ids

logger = logging.getLogger(__name__)


class SlicePace:
    """How many messages the next claim takes, from the pace measured in this run.

    Slow calls — each at least as long as a claim's own database round trip: an ESP's API, a remote
    SMTP relay — are claimed as many as the provider has calls in flight at once (one per send
    thread, OUTREACH_SEND_CONCURRENCY; one when the caller gives its own connection): the extra
    commit costs less than the calls, and a crash leaves exactly the calls in flight uncertain. Fast
    ones (a local relay, files, memory) are claimed as many as fit in OUTREACH_SEND_SLICE_SECONDS at
    that many in flight, up to the chunk size: a commit per message would cost more than the sends.
    A run's first claim takes one call per thread (nothing is measured yet); a dry run calls no
    provider and takes a whole chunk."""

    def __init__(self, *, seconds: float, limit: int, concurrency: int = 1) -> None:
        self.seconds, self.limit = seconds, max(1, limit)
        self.concurrency = max(1, concurrency)
        self.per_call: float | None = None  # one call's own duration, not the slice's over its calls
        self.overhead: float | None = None  # the fastest claim and record seen: the usual round trip

    def size(self, *, dry_run: bool) -> int:
        if dry_run:
            return self.limit
        in_flight = min(self.limit, self.concurrency)
        if self.per_call is None or self.overhead is None or self.per_call >= self.overhead:
            return in_flight
        fit = int(self.seconds * self.concurrency / max(self.per_call, 1e-6))
        return max(in_flight, min(self.limit, fit))

    def record(self, *, calls: int, call_seconds: float, overhead_seconds: float) -> None:
        """One slice: its provider calls, the sum of their durations, and the time its claim and
        record took besides the calls (the fastest seen counts, so a slow claim — the ranking's
        refill — does not make calls look fast)."""
        if calls:
            self.per_call = call_seconds / calls
            self.overhead = (
                overhead_seconds if self.overhead is None else min(self.overhead, overhead_seconds)
            )


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
    """Send what is due for one campaign, one claim at a time, until nothing is due or a cap is hit.

    Each claim (at most ``chunk_size`` messages, see SlicePace) is committed, then handed to the
    provider and recorded in the next commit: a crash leaves at most that slice `sending` (the
    recovery sweep makes it `unknown`), and nothing it had not claimed. ``max_chunks`` bounds the
    claims of one run. The run's sends are booked to the budget once it ends (a crash leaves them
    flagged for the sweep to book). ``heartbeat``: called before each claim (the cycle renews its
    lease there); False stops the run before the claim."""
    provider = Provider(connection, concurrency=settings.OUTREACH_SEND_CONCURRENCY)
    pace = SlicePace(
        seconds=settings.OUTREACH_SEND_SLICE_SECONDS,
        limit=chunk_size or settings.OUTREACH_CHUNK_SIZE,
        concurrency=provider.concurrency,
    )
    stats = SendStats()
    queue: list[int] = []  # the ranked due messages of this run, see _lock_next_due
    effective_dry_run = dry_run
    try:
        for _ in range(max_chunks):
            if heartbeat is not None and not heartbeat():
                stats.stopped_reason = "lost the cycle lease"
                break
            current = now or timezone.now()
            started = time.monotonic()
            claim = _claim_slice(
                campaign_id=campaign_id,
                now=current,
                dry_run=dry_run,
                size=pace.size(dry_run=effective_dry_run),
                chunk=pace.limit,
                queue=queue,
            )
            claim.add_to(stats)
            effective_dry_run = claim.dry_run
            if claim.messages:
                calls, call_seconds, wall_seconds = _send_slice(
                    campaign=claim.campaign,
                    claimed=claim.messages,
                    now=current,
                    stats=stats,
                    provider=provider,
                    deadline_seconds=pace.seconds,
                )
                elapsed = time.monotonic() - started
                pace.record(calls=calls, call_seconds=call_seconds, overhead_seconds=elapsed - wall_seconds)
            if not claim.candidates or stats.cap_reached or stats.stopped_reason:
                break
    finally:
        provider.close()
    if stats.sent:
        book_sent_costs(campaign_id=campaign_id)
    return stats


def _send_slice(
    *,
    campaign: Campaign,
    claimed: list[Message],
    now: datetime,
    stats: SendStats,
    provider: Provider,
    deadline_seconds: float,
) -> tuple[int, float, float]:
    """Hand a claimed slice to the provider and record what happened, in one transaction holding
    the campaign's share lock (a kill, which takes the row exclusively, waits for the slice in
    flight — all its overlapping calls — and the next claim reads it) and the slice's rows (the
    recovery sweep cannot settle a message while it is with the provider). Claimed messages not
    handed over go back to `scheduled` in the same commit. Returns the provider calls made, the sum
    of their durations and the seconds the slice spent calling (less than the sum when they overlap)."""
    with transaction.atomic():
        # Once a kill has committed, the state read here says so and nothing more goes out.
        state, paused = campaign_send_gate(campaign.pk)
        if state != CampaignState.ACTIVE or paused:
            stats.stopped_reason = SYSTEM_PAUSED if paused else f"campaign is {state}"
            _unclaim(claimed, killed=state == CampaignState.CANCELLED, now=now)
            return 0, 0.0, 0.0
        ours = set(
            Message.objects.select_for_update(of=("self",))
            .filter(pk__in=[m.pk for m in claimed], state=MessageState.SENDING)
            .values_list("pk", flat=True)
        )
        mine = [m for m in claimed if m.pk in ours]
        started = time.monotonic()
        handed, call_seconds = _hand_over(mine, provider, now, stats, deadline=started + deadline_seconds)
        wall_seconds = time.monotonic() - started
        handed_ids = {m.pk for m in handed}
        _unclaim([m for m in mine if m.pk not in handed_ids], killed=False, now=now)
        _record_slice(campaign, handed, now)
    return sum(not m.dry_run for m in handed), call_seconds, wall_seconds


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


def _hand_over(
    pending: list[Message], provider: Provider, now: datetime, stats: SendStats, *, deadline: float
) -> tuple[list[Message], float]:
    """Hand messages to the backend until the deadline passes (at least one call per send thread);
    returns those handled, in order, and the sum of the provider calls' durations. The calls may
    overlap (``Provider.call``); their outcomes are applied here, on the caller's thread."""
    if pending and pending[0].dry_run:  # a claim is all dry run or all live: no provider
        done: list[Message] = []
        for message in pending:
            done.append(message)
            message.mark_sent()
            message.sent_at = now
            stats.dry_run += 1
            if time.monotonic() >= deadline:
                break
        return done, 0.0
    max_attempts = settings.OUTREACH_MAX_ATTEMPTS
    calls = [call for call in provider.call(pending, deadline=deadline) if call is not None]
    for call in calls:
        message = call.message
        if call.error is None:
            message.provider_message_id = call.provider_message_id
            message.mark_sent()
            message.sent_at = now
            message.cost_unbooked = True
            stats.sent += 1
            continue
        exc = call.error  # classified here; never swallowed silently
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
    return [call.message for call in calls], sum(call.seconds for call in calls)


def _record_slice(campaign: Campaign, done: list[Message], now: datetime) -> None:
    """Write what a slice did: message states, enrollments moved on, first contacts, one audit event."""
    for message in done:
        message.updated_at = now
    sent = [m for m in done if m.state == MessageState.SENT]
    # Sent ones share every value but the provider's id: one UPDATE per distinct id, so a backend
    # without ids (SMTP, local) costs one statement whatever the slice size.
    update_in_groups(Message, sent, ["state", "sent_at", "updated_at", "cost_unbooked"])
    update_provider_ids([m for m in sent if m.provider_message_id])
    update_in_groups(
        Message,
        [m for m in done if m.state != MessageState.SENT],
        ["state", "last_error", "scheduled_for", "updated_at"],
    )
    _advance_enrollments(sent, now, campaign)
    if sent:
        record_audit_event(
            verb="email.dry_run_recorded" if sent[0].dry_run else "email.sent",
            campaign=campaign,
            metadata={"count": len(sent), "message_ids": [m.pk for m in sent][:200]},
        )


FIRST_CONTACT_STATES = source_states(Lead, "mark_contacted")


def _advance_enrollments(sent: list[Message], now: datetime, campaign: Campaign) -> None:
    """Move each sent message's enrollment past the message's step: on to the next step after its
    delay, or completed after the last. One UPDATE per step in the slice (mostly one), guarded by
    the enrollment still being active at that step, so a stopped one stays stopped and a step is
    never passed twice."""
    if not sent:
        return
    steps = {
        step.pk: step
        for step in SequenceStep.objects.filter(sequence__campaign_id=campaign.pk).only(
            "id", "sequence_id", "position", "delay_days"
        )
    }
    by_position = {(step.sequence_id, step.position): step for step in steps.values()}
    by_step: dict[int, list[int]] = {}
    for message in sent:
        by_step.setdefault(message.step_id, []).append(message.enrollment_id)
    for step_id, enrollment_ids in by_step.items():
        step = steps[step_id]
        following = by_position.get((step.sequence_id, step.position + 1))
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
