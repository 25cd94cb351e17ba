"""Email execution: sequences, enrollment, scheduling, claiming and sending, with every safety
check re-made under lock just before a message goes out.

Flow per campaign: ``enroll_leads`` → ``schedule_due_messages`` (renders one Message per due
enrollment step; the unique (enrollment, step) key makes it idempotent) → ``send_due_messages``
(claims a chunk under the campaign's row lock, re-checks state, caps, windows and contactability,
then sends outside the claim while holding a share lock that a kill must wait for).
"""

from __future__ import annotations

import hashlib
import logging
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from campaigns.errors import BudgetExhaustedError, DomainError
from campaigns.lock_objects import campaign_for_update, campaign_send_gate
from campaigns.models import Campaign, CampaignState, SpendKind, User
from campaigns.selectors import EffectivePolicy, budget_status, effective_policy
from campaigns.services import ensure_budget_allows, record_audit_event, record_spend
from creative.models import CreativeVariant
from creative.personalization import render_merge_fields
from creative.services import ensure_creative_sendable
from leads.models import Lead, LeadState
from leads.selectors import contactable_leads
from leads.services import mark_leads_contacted

from ..backoff import retry_delay
from ..errors import PermanentSendError, TransientSendError, classify_send_error
from ..message_ids import new_rfc_message_id
from ..models import (
    PENDING_STATES,
    Enrollment,
    EnrollmentState,
    Message,
    MessageState,
    Sequence,
    SequenceStep,
    StepVariant,
    StopReason,
)
from ..unsubscribe import list_unsubscribe_headers, make_unsubscribe_token, unsubscribe_url
from ..windows import next_window_opening

__all__ = [
    "SendStats",
    "cancel_campaign_outreach",
    "create_sequence",
    "enroll_leads",
    "mark_stale_sending_unknown",
    "preview_context_for_lead",
    "schedule_due_messages",
    "scheduling_room",
    "send_due_messages",
    "stop_enrollments",
    "stop_enrollments_of_lead",
]
logger = logging.getLogger(__name__)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# --- sequences ---------------------------------------------------------------------------------


def create_sequence(
    *, campaign: Campaign, name: str, steps: list[dict], mailbox=None, actor: User | None = None
) -> Sequence:
    """steps: [{"delay_days": 0, "creatives": [id, …], "weights": [1, …]}, …] — approved email creative."""
    if not steps:
        raise DomainError("A sequence needs at least one step.", field="steps")
    with transaction.atomic():
        sequence = Sequence.objects.create(
            campaign=campaign, name=name.strip() or "Sequence", mailbox=mailbox
        )
        for position, spec in enumerate(steps, start=1):
            creatives = list(spec.get("creatives") or [])
            if not creatives:
                raise DomainError(
                    f"Step {position} needs at least one approved email creative.", field="steps"
                )
            weights = list(spec.get("weights") or [1] * len(creatives))
            if len(weights) != len(creatives) or any(int(w) < 1 for w in weights):
                raise DomainError(f"Step {position}: give one positive weight per creative.", field="steps")
            delay = int(spec.get("delay_days", 0 if position == 1 else 3))
            step = SequenceStep.objects.create(sequence=sequence, position=position, delay_days=delay)
            for index, (creative, weight) in enumerate(zip(creatives, weights, strict=True)):
                variant = ensure_creative_sendable(variant=creative, campaign=campaign)
                if variant.platform != "email":
                    raise DomainError(
                        f"Creative {variant.pk} is a {variant.platform} post, not an email.", field="steps"
                    )
                StepVariant.objects.create(
                    step=step, creative=variant, weight=int(weight), label=chr(65 + index)
                )
        record_audit_event(
            verb="sequence.created",
            actor=actor,
            campaign=campaign,
            target=sequence,
            metadata={"steps": len(steps)},
        )
    return sequence


# --- enrollment ----------------------------------------------------------------------------------


def enroll_leads(
    *,
    campaign: Campaign,
    sequence: Sequence,
    now: datetime | None = None,
    limit: int | None = None,
    policy: EffectivePolicy | None = None,
) -> int:
    """Enroll contactable leads not yet in the sequence, highest score first (idempotent).
    ``policy``: the campaign's effective policy when the caller has read it already."""
    now = now or timezone.now()
    first = sequence.steps.order_by("position").first()
    if first is None:
        return 0
    already = Enrollment.objects.filter(sequence=sequence).values("lead_id")
    leads = (
        contactable_leads(
            Lead.objects.filter(campaign=campaign),
            now=now,
            campaign=campaign,
            regions=None if policy is None else policy.consent_regions,
        )
        .exclude(pk__in=already)
        .order_by("-score", "id")
    )
    if limit is not None and limit <= 0:
        return 0
    lead_rows = list(
        leads.values_list("pk", "score")[:limit] if limit is not None else leads.values_list("pk", "score")
    )
    rows = [
        Enrollment(
            campaign=campaign,
            sequence=sequence,
            lead_id=lead_id,
            current_step=1,
            enrolled_at=now,
            next_send_at=now + timedelta(days=first.delay_days) - timedelta(seconds=int(score * 60)),
        )
        for lead_id, score in lead_rows
    ]
    created = Enrollment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(created)


# --- scheduling ----------------------------------------------------------------------------------


def _pick_variant(variants: list[StepVariant], enrollment_id: int) -> StepVariant:
    """Weighted, deterministic per enrollment: re-running picks the same arm (no flapping A/B)."""
    total = sum(v.weight for v in variants)
    point = int(hashlib.sha256(str(enrollment_id).encode()).hexdigest()[:8], 16) % total
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    return variants[-1]


def _merge_context(
    lead: Lead, campaign: Campaign, token_url: str, mailbox_name: str, postal_address: str
) -> dict[str, str]:
    full = f"{lead.first_name} {lead.last_name}".strip()
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "full_name": full,
        "email": lead.email,
        "company": lead.company,
        "title": lead.title,
        "industry": lead.industry,
        "country": lead.country,
        "city": "",
        "sender_name": mailbox_name,
        "sender_company": campaign.client.name,
        "sender_address": postal_address,
        "unsubscribe_url": token_url,
    }


def preview_context_for_lead(*, campaign: Campaign, lead_id: int) -> dict[str, str] | None:
    """The merge context a send to this lead would use (creative previews ask for it)."""
    lead = Lead.objects.filter(pk=lead_id, campaign=campaign).first()
    if lead is None:
        return None
    address = effective_policy(campaign).sender_postal_address or _setting("AICMO_SENDER_POSTAL_ADDRESS", "")
    return _merge_context(lead, campaign, unsubscribe_url("preview"), campaign.client.name, address)


def schedule_due_messages(
    *,
    campaign: Campaign,
    now: datetime | None = None,
    limit: int | None = None,
    policy: EffectivePolicy | None = None,
) -> int:
    """Render one Message for every active enrollment whose next step is due (at most ``limit``,
    highest scores first). Idempotent. ``policy``: as for ``enroll_leads``."""
    now = now or timezone.now()
    if limit is not None and limit <= 0:
        return 0
    due_enrollments = (
        Enrollment.objects.filter(campaign=campaign, state=EnrollmentState.ACTIVE, next_send_at__lte=now)
        .select_related("lead", "sequence__mailbox")
        .order_by("-lead__score", "next_send_at", "id")
    )
    due = list(due_enrollments[:limit] if limit is not None else due_enrollments)
    if not due:
        return 0
    steps = {
        (s.sequence_id, s.position): s
        for s in SequenceStep.objects.filter(sequence__campaign=campaign).prefetch_related(
            "variants__creative"
        )
    }
    postal_address = (policy or effective_policy(campaign)).sender_postal_address or _setting(
        "AICMO_SENDER_POSTAL_ADDRESS", ""
    )
    existing = set(
        Message.objects.filter(enrollment__in=[e.pk for e in due]).values_list("enrollment_id", "step_id")
    )
    messages: list[Message] = []
    finished: list[Enrollment] = []
    for enrollment in due:
        step = steps.get((enrollment.sequence_id, enrollment.current_step))
        if step is not None and (enrollment.pk, step.pk) in existing:
            enrollment.next_send_at = None  # already scheduled; the unique key would refuse it anyway
            continue
        if step is None:
            enrollment.complete()
            enrollment.ended_at = now
            enrollment.next_send_at = None
            finished.append(enrollment)
            continue
        arm = _pick_variant(list(step.variants.all()), enrollment.pk)
        creative: CreativeVariant = arm.creative
        lead = enrollment.lead
        mailbox = enrollment.sequence.mailbox
        from_email = mailbox.from_header if mailbox else settings.DEFAULT_FROM_EMAIL
        token_url = unsubscribe_url(make_unsubscribe_token(enrollment_id=enrollment.pk))
        sender_name = (mailbox.display_name if mailbox else "") or campaign.client.name
        context = _merge_context(lead, campaign, token_url, sender_name, postal_address)
        window_tz = lead.timezone or campaign.timezone
        messages.append(
            Message(
                campaign=campaign,
                enrollment=enrollment,
                step=step,
                step_variant=arm,
                lead=lead,
                mailbox=mailbox,
                from_email=from_email,
                to_email=lead.email,
                subject=render_merge_fields(creative.subject, context).text[:300],
                body_text=render_merge_fields(creative.body, context).text,
                body_html=render_merge_fields(creative.body_html, context, escape_html=True).text,
                unsubscribe_url=token_url,
                rfc_message_id=new_rfc_message_id(from_email),  # random: replies quote it
                scheduled_for=next_window_opening(now, window_tz),
                created_at=now,
                updated_at=now,
            )
        )
        enrollment.next_send_at = None  # the step is now a Message; its send moves the enrollment on
    finished_ids = {e.pk for e in finished}
    with transaction.atomic():
        # ignore_conflicts: a concurrent scheduler may have inserted the same (enrollment, step).
        Message.objects.bulk_create(messages, ignore_conflicts=True, batch_size=500)
        # Every other due enrollment now waits on its Message: one UPDATE, not a CASE per row.
        Enrollment.objects.filter(pk__in=[e.pk for e in due if e.pk not in finished_ids]).update(
            next_send_at=None
        )
        update_in_groups(Enrollment, finished, ["state", "ended_at", "next_send_at"])
    return len(messages)


def _used_today(campaign: Campaign, now: datetime, *, dry_run: bool) -> int:
    """Messages of this kind (live or dry-run) claimed today, by the campaign's local date: what
    its daily cap has used up."""
    start, end = _day_bounds(now, campaign.timezone)
    return Message.objects.filter(
        campaign=campaign,
        dry_run=dry_run,
        state__in=COUNTED_STATES,
        claimed_at__gte=start,
        claimed_at__lt=end,
    ).count()


def scheduling_room(
    *, campaign: Campaign, now: datetime, dry_run: bool, policy: EffectivePolicy | None = None
) -> int:
    """How many more messages the campaign could still send today: its daily cap, less what it has
    sent (or claimed) today and what is already scheduled and due. The cycle renders no more than
    this, so a list of 10,000 leads under a cap of 20 is not rendered 10,000 times on day one (and
    each message is rendered close to when it goes out)."""
    policy = policy or effective_policy(campaign)
    used = _used_today(campaign, now, dry_run=dry_run or not campaign.is_live)
    waiting = Message.objects.filter(
        campaign=campaign, state__in=PENDING_STATES, scheduled_for__lte=now
    ).count()
    return max(0, _daily_cap(campaign, policy) - used - waiting)


# --- sending -------------------------------------------------------------------------------------


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


def _day_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    try:
        tz = zoneinfo.ZoneInfo(tz_name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


COUNTED_STATES = (MessageState.SENDING, MessageState.SENT, MessageState.UNKNOWN)


QUEUE_CHUNKS_AHEAD = 20


def _lock_next_due(campaign: Campaign, now: datetime, queue: list[int], size: int) -> list[Message]:
    """Lock and load the next ``size`` due messages, best leads first. The ranking sorts every due
    message of the campaign (thousands, joined to their leads), so it is made once for the next 20
    chunks and kept in ``queue``; each chunk then locks its share by id, re-checking that they are
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
                .values_list("pk", flat=True)[: max(size, size * QUEUE_CHUNKS_AHEAD)]
            )
            if not queue:
                break
        take = queue[: size - len(chosen)]
        del queue[: len(take)]
        locked = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=take, campaign=campaign, state__in=PENDING_STATES, scheduled_for__lte=now)
            .select_related("lead", "mailbox")
            # of the lead only what the checks read (its time zone, its state for first contact)
            .defer(*_LEAD_COLUMNS_NOT_READ)
            .in_bulk()
        )
        chosen.extend(locked[pk] for pk in take if pk in locked)
    return chosen


def _claim_chunk(
    *,
    campaign_id: int,
    now: datetime,
    dry_run: bool,
    chunk_size: int,
    stats: SendStats,
    queue: list[int] | None = None,
) -> tuple[Campaign | None, list[Message]]:
    """Under the campaign's row lock: re-check everything, then mark a chunk `sending`."""
    with transaction.atomic():
        campaign = campaign_for_update(campaign_id, with_system_pause=True)
        if campaign.state != CampaignState.ACTIVE:
            stats.stopped_reason = f"campaign is {campaign.state}"
            return None, []
        if campaign.system_paused_now:
            stats.stopped_reason = SYSTEM_PAUSED
            return None, []
        policy = effective_policy(campaign)  # read once per chunk: quiet hours and daily volume
        quiet = _quiet_hours_reason(campaign, policy, now)
        if quiet:
            stats.stopped_reason = quiet
            return None, []
        effective_dry_run = dry_run or not campaign.is_live
        used = _used_today(campaign, now, dry_run=effective_dry_run)
        remaining = _daily_cap(campaign, policy) - used
        if remaining <= 0:
            stats.cap_reached = True
            return campaign, []
        if not effective_dry_run:
            affordable = _affordable_emails(campaign)
            if affordable is not None and affordable < remaining:
                if affordable <= 0:
                    try:  # records the blocked reason on the campaign, shown in the admin and API
                        ensure_budget_allows(campaign=campaign, amount=_cost_per_email())
                    except BudgetExhaustedError as exc:
                        stats.stopped_reason = str(exc)
                    else:
                        stats.stopped_reason = "budget cap reached"
                    return None, []
                remaining = affordable
        candidates = _lock_next_due(campaign, now, [] if queue is None else queue, min(remaining, chunk_size))
        if not candidates:
            return campaign, []
        contactable = set(
            contactable_leads(
                Lead.objects.filter(pk__in=[m.lead_id for m in candidates]),
                now=now,
                campaign=campaign,
                regions=policy.consent_regions,
            ).values_list("pk", flat=True)
        )
        mailbox_room = _mailbox_room(candidates, now)
        claimed: list[Message] = []
        cancelled: list[Message] = []
        waiting: list[Message] = []
        for message in candidates:
            if message.lead_id not in contactable:
                message.cancel()
                message.skip_reason = (
                    "lead is not contactable (suppressed, unsubscribed, bounced or no consent)"
                )
                cancelled.append(message)
                stats.skipped += 1
                stats.skip_reasons["not_contactable"] += 1
                continue
            opening = next_window_opening(now, message.lead.timezone or campaign.timezone)
            if opening > now:
                message.scheduled_for = opening
                waiting.append(message)
                stats.rescheduled += 1
                continue
            if message.mailbox_id is not None:
                if mailbox_room.get(message.mailbox_id, 0) <= 0:
                    message.scheduled_for = _day_bounds(now, campaign.timezone)[1]
                    waiting.append(message)
                    stats.rescheduled += 1
                    stats.skip_reasons["mailbox_cap"] += 1
                    continue
                mailbox_room[message.mailbox_id] -= 1
            message.claim()
            message.claimed_at = now
            message.attempts += 1
            message.dry_run = effective_dry_run
            message.updated_at = now
            claimed.append(message)
        if claimed:
            # One UPDATE for the whole chunk (bulk_update's CASE per row costs more than the sends).
            Message.objects.filter(pk__in=[m.pk for m in claimed]).update(
                state=MessageState.SENDING,
                claimed_at=now,
                dry_run=effective_dry_run,
                updated_at=now,
                attempts=F("attempts") + 1,
            )
            # Scheduling gives each message its random Message-ID; only rows scheduled before that
            # (or written elsewhere) lack one. Ids already stored are kept: replies quote them.
            unnamed = [m for m in claimed if not m.rfc_message_id]
            for message in unnamed:
                message.rfc_message_id = new_rfc_message_id(message.from_email)
            if unnamed:
                Message.objects.bulk_update(unnamed, ["rfc_message_id"], batch_size=500)
        update_in_groups(Message, cancelled, ["state", "skip_reason"])
        update_in_groups(Message, waiting, ["scheduled_for"])
        if cancelled:
            stop_enrollments(
                enrollment_ids=[m.enrollment_id for m in cancelled], reason=StopReason.SUPPRESSED, now=now
            )
        if len(claimed) >= remaining:
            stats.cap_reached = True
    return campaign, claimed


_LEAD_COLUMNS_NOT_READ = tuple(
    f"lead__{f.name}"
    for f in Lead._meta.concrete_fields
    if f.name not in ("id", "campaign", "timezone", "state")
)


def update_in_groups(model, objects: list, fields: list[str]) -> None:
    """Write ``fields`` of ``objects`` with one UPDATE per distinct combination of values: a chunk's
    rows mostly share them, so this is a handful of statements where bulk_update builds a CASE per
    row and field."""
    groups: dict[tuple, list[int]] = {}
    for obj in objects:
        groups.setdefault(tuple(getattr(obj, f) for f in fields), []).append(obj.pk)
    for values, pks in groups.items():
        model.objects.filter(pk__in=pks).update(**dict(zip(fields, values, strict=True)))


def update_provider_ids(messages: list[Message]) -> None:
    """Each ESP message id differs: one bulk statement for all of them."""
    if messages:
        Message.objects.bulk_update(messages, ["provider_message_id"], batch_size=500)


def _mailbox_room(messages: list[Message], now: datetime) -> dict[int, int]:
    mailboxes = {m.mailbox_id: m.mailbox for m in messages if m.mailbox_id}
    if not mailboxes:
        return {}
    start = now - timedelta(hours=24)
    used = dict(
        Message.objects.filter(
            mailbox_id__in=mailboxes, dry_run=False, state__in=COUNTED_STATES, claimed_at__gte=start
        )
        .values_list("mailbox_id")
        .annotate(n=Count("id"))
        .values_list("mailbox_id", "n")
    )
    return {pk: box.daily_cap - used.get(pk, 0) for pk, box in mailboxes.items()}


SYSTEM_PAUSED = "system pause is on"


def _quiet_hours_reason(campaign: Campaign, policy, now: datetime) -> str:
    """The compliance policy's quiet hours, in the campaign's time zone (may run past midnight)."""
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if start is None or end is None:
        return ""
    try:
        local = now.astimezone(zoneinfo.ZoneInfo(campaign.timezone or "UTC")).time()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        local = now.time()
    inside = start <= local < end if start < end else (local >= start or local < end)
    return f"quiet hours {start:%H:%M}-{end:%H:%M} ({campaign.timezone})" if inside else ""


def _daily_cap(campaign: Campaign, policy) -> int:
    volume = policy.max_daily_volume
    return campaign.daily_email_cap if volume is None else min(campaign.daily_email_cap, volume)


def _cost_per_email() -> Decimal:
    return Decimal(str(_setting("AICMO_COST_PER_EMAIL", "0")))


def _affordable_emails(campaign: Campaign) -> int | None:
    """How many more live emails the budget pays for (None: no cap). Claimed-but-unbilled count."""
    cost = _cost_per_email()
    if cost <= 0:
        return None
    status = budget_status(campaign)
    if status.cap is None:
        return None
    in_flight = Message.objects.filter(campaign=campaign, dry_run=False, state=MessageState.SENDING).count()
    left = status.cap - status.spent - cost * in_flight
    return max(0, int(left // cost))


def _build_email(message: Message, connection) -> EmailMultiAlternatives:
    headers = {"X-AICMO-Message": str(message.pk)}
    headers.update(
        list_unsubscribe_headers(
            url=message.unsubscribe_url, mailto=_setting("AICMO_UNSUBSCRIBE_MAILTO", None)
        )
    )
    headers["Message-ID"] = message.rfc_message_id
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_email,
        to=[message.to_email],
        headers=headers,
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    # Read by anymail ESP backends (ignored by others): lets tracking webhooks name our message.
    email.metadata = {"aicmo_message_id": str(message.pk), "campaign_id": str(message.campaign_id)}
    email.tags = [f"campaign-{message.campaign_id}"]
    return email


def _deliver(message: Message, connection) -> str:
    email = _build_email(message, connection)
    sent = connection.send_messages([email])
    if not sent:
        raise TransientSendError("the email backend accepted nothing (0 messages sent)")
    status = getattr(email, "anymail_status", None)
    return (getattr(status, "message_id", None) or "") if status is not None else ""


def send_due_messages(
    *,
    campaign_id: int,
    now: datetime | None = None,
    dry_run: bool = True,
    chunk_size: int | None = None,
    connection=None,
    max_chunks: int = 1000,
) -> SendStats:
    """Send what is due for one campaign, chunk by chunk, until nothing is due or a cap is hit."""
    chunk_size = chunk_size or _setting("OUTREACH_CHUNK_SIZE", 250)
    stats = SendStats()
    queue: list[int] = []  # the ranked due messages of this run, see _lock_next_due
    for _ in range(max_chunks):
        current = now or timezone.now()
        campaign, claimed = _claim_chunk(
            campaign_id=campaign_id,
            now=current,
            dry_run=dry_run,
            chunk_size=chunk_size,
            stats=stats,
            queue=queue,
        )
        if claimed:
            _send_chunk(campaign=campaign, claimed=claimed, now=current, stats=stats, connection=connection)
        if not claimed or stats.cap_reached or stats.stopped_reason:
            break
    return stats


def _send_chunk(
    *, campaign: Campaign, claimed: list[Message], now: datetime, stats: SendStats, connection=None
) -> None:
    """Send a claimed chunk in slices of at most OUTREACH_SEND_SLICE_SECONDS (default 1 s).

    Each slice holds a share lock on the campaign row while it sends and records its messages, so a
    kill (which takes the row exclusively) waits for the slice in flight, never for the whole chunk;
    the next slice then reads the kill and cancels what is left. A fast backend sends a whole chunk
    in one slice (one set of writes per chunk); a slow one (SMTP, an ESP's API) gets short slices,
    so pausing or killing stays quick whatever the chunk size."""
    needs_provider = any(not m.dry_run for m in claimed)
    opened_connection = None
    if needs_provider and connection is None:
        opened_connection = connection = get_connection(fail_silently=False)
    slice_seconds = float(_setting("OUTREACH_SEND_SLICE_SECONDS", 1.0))
    live_sent = 0
    connection_open = False
    pending = claimed
    try:
        while pending:
            with transaction.atomic():
                # Once a kill has committed, the state read here says so and nothing more goes out.
                state, paused = campaign_send_gate(campaign.pk)
                blocker = SYSTEM_PAUSED if paused else ""
                if state != CampaignState.ACTIVE or blocker:
                    stats.stopped_reason = blocker or f"campaign is {state}"
                    for message in pending:
                        if state == CampaignState.CANCELLED:
                            message.cancel()
                            message.skip_reason = "campaign killed"
                        else:
                            message.release()
                            message.attempts -= 1
                    update_in_groups(Message, pending, ["state", "skip_reason", "attempts"])
                    break
                if opened_connection is not None and not connection_open:
                    opened_connection.open()
                    connection_open = True
                done = _send_slice(pending, connection, now, stats, deadline=time.monotonic() + slice_seconds)
                _record_slice(campaign, done, now)
            live_sent += sum(1 for m in done if m.state == MessageState.SENT and not m.dry_run)
            pending = pending[len(done) :]
    finally:
        if opened_connection is not None:
            opened_connection.close()
    if live_sent and _cost_per_email() > 0:
        # Booked after the send committed: the cost is incurred; the claim already kept within the cap.
        record_spend(
            campaign=campaign.pk,
            kind=SpendKind.ESP,
            amount=_cost_per_email() * live_sent,
            description=f"{live_sent} email(s)",
            enforce_cap=False,
        )


def _send_slice(
    pending: list[Message], connection, now: datetime, stats: SendStats, *, deadline: float
) -> list[Message]:
    """Hand messages to the backend until the deadline passes (at least one); returns those handled."""
    max_attempts = _setting("OUTREACH_MAX_ATTEMPTS", 5)
    done: list[Message] = []
    for message in pending:
        done.append(message)
        if message.dry_run:
            message.mark_sent()
            message.sent_at = now
            stats.dry_run += 1
        else:
            try:
                message.provider_message_id = _deliver(message, connection)[:200]
            except Exception as exc:  # classified below; never swallowed silently
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
                        base=_setting("OUTREACH_RETRY_BASE_SECONDS", 60),
                        cap=_setting("OUTREACH_RETRY_CAP_SECONDS", 6 * 3600),
                    )
                    stats.retried += 1
            else:
                message.mark_sent()
                message.sent_at = now
                stats.sent += 1
        if time.monotonic() >= deadline:
            break
    return done


def _record_slice(campaign: Campaign, done: list[Message], now: datetime) -> None:
    """Write what a slice did: message states, enrollments moved on, first contacts, one audit event."""
    for message in done:
        message.updated_at = now
    sent = [m for m in done if m.state == MessageState.SENT]
    # Sent ones share every value but the provider's id: one UPDATE per distinct id, so a backend
    # without ids (SMTP, local) costs one statement whatever the chunk size.
    update_in_groups(Message, sent, ["state", "sent_at", "updated_at"])
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


def _advance_enrollments(sent: list[Message], now: datetime, campaign: Campaign) -> None:
    """Move each sent message's enrollment past the message's step: on to the next step after its
    delay, or completed after the last. One UPDATE per step in the chunk (mostly one), guarded by
    the enrollment still being active at that step, so a stopped one stays stopped."""
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
    first_contacts = {m.lead_id for m in sent if m.lead.state in (LeadState.NEW, LeadState.ENRICHED)}
    if first_contacts:
        mark_leads_contacted(lead_ids=first_contacts, campaign=campaign)


# --- stopping ------------------------------------------------------------------------------------


def stop_enrollments(*, enrollment_ids: list[int], reason: str, now: datetime | None = None) -> int:
    """Stop enrollments and cancel their pending messages (two statements)."""
    now = now or timezone.now()
    open_states = (EnrollmentState.ACTIVE, EnrollmentState.PAUSED)
    stopped = Enrollment.objects.filter(pk__in=enrollment_ids, state__in=open_states).update(
        state=EnrollmentState.STOPPED, stop_reason=reason, ended_at=now, next_send_at=None
    )
    Message.objects.filter(enrollment_id__in=enrollment_ids, state__in=PENDING_STATES).update(
        state=MessageState.CANCELLED, skip_reason=f"enrollment stopped: {reason}", updated_at=now
    )
    return stopped


def stop_enrollments_of_lead(*, lead_id: int, reason: str) -> int:
    ids = list(Enrollment.objects.filter(lead_id=lead_id).values_list("pk", flat=True))
    return stop_enrollments(enrollment_ids=ids, reason=reason)


def cancel_campaign_outreach(*, campaign: Campaign, actor=None, rationale: str = "") -> None:
    """Kill handler: cancel everything scheduled and stop every enrollment, in the kill's transaction."""
    now = timezone.now()
    Message.objects.filter(campaign=campaign, state__in=PENDING_STATES).update(
        state=MessageState.CANCELLED, skip_reason="campaign killed", updated_at=now
    )
    Enrollment.objects.filter(campaign=campaign).filter(
        Q(state=EnrollmentState.ACTIVE) | Q(state=EnrollmentState.PAUSED)
    ).update(state=EnrollmentState.STOPPED, stop_reason=StopReason.KILLED, ended_at=now, next_send_at=None)


def mark_stale_sending_unknown(
    *, older_than: timedelta = timedelta(minutes=30), now: datetime | None = None
) -> int:
    """A worker that died after the provider call leaves `sending` rows: never resend them blindly."""
    now = now or timezone.now()
    return Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=now - older_than).update(
        state=MessageState.UNKNOWN,
        last_error="interrupted after claim; outcome unknown until a webhook says",
        updated_at=now,
    )
