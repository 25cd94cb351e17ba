"""Email execution: sequences, enrollment, scheduling, claiming and sending, with every safety
check re-made under lock just before a message goes out.

Flow per campaign: ``enroll_leads`` → ``schedule_due_messages`` (renders one Message per due
enrollment step; the unique (enrollment, step) key makes it idempotent) → ``send_due_messages``
(one claim at a time under the campaign's row lock: a pure gate — state, pause, quiet hours, caps,
budget — a pure router — contactability, send windows, mailbox caps — and one writer; then the
claimed slice goes to the provider in the next transaction, which holds a share lock a kill must
wait for, and records the outcome). A claim covers only what is handed over before the next commit,
so a crash leaves at most that slice `sending`; ``recover_interrupted_sends`` makes it `unknown` and
settles it as sent once a provider event confirms it or a window passes, and books what a crash
left unbooked.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from campaigns.errors import BudgetExhaustedError, DomainError
from campaigns.fsm import source_states
from campaigns.lock_objects import campaign_for_update, campaign_send_gate
from campaigns.models import Campaign, CampaignState, SpendKind, User
from campaigns.selectors import EffectivePolicy, budget_status, effective_policy
from campaigns.services import ensure_budget_allows, record_audit_event, record_spend
from creative.models import CreativeVariant
from creative.personalization import render_merge_fields
from creative.services import ensure_creative_sendable
from leads.models import Lead
from leads.selectors import contactable_leads
from leads.services import mark_leads_contacted

from ..backoff import retry_delay
from ..errors import PermanentSendError, TransientSendError, classify_send_error
from ..message_ids import new_rfc_message_id
from ..models import (
    CONFIRMING_EVENT_KINDS,
    PENDING_STATES,
    STOPPABLE_ENROLLMENT_STATES,
    Enrollment,
    EnrollmentState,
    Message,
    MessageEvent,
    MessageState,
    SendResolution,
    Sequence,
    SequenceStep,
    StepVariant,
    StopReason,
)
from ..unsubscribe import list_unsubscribe_headers, make_unsubscribe_token, unsubscribe_url
from ..windows import next_window_opening

__all__ = [
    "RecoveryReport",
    "Routing",
    "SendGate",
    "SendStats",
    "SlicePace",
    "book_sent_costs",
    "cancel_campaign_outreach",
    "create_sequence",
    "enroll_leads",
    "preview_context_for_lead",
    "recover_interrupted_sends",
    "route_messages",
    "schedule_due_messages",
    "scheduling_room",
    "send_due_messages",
    "send_gate",
    "settle_unknown_messages",
    "stop_enrollments",
    "stop_enrollments_of_lead",
]
logger = logging.getLogger(__name__)


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
    address = effective_policy(campaign).sender_postal_address or settings.AICMO_SENDER_POSTAL_ADDRESS
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
    postal_address = (
        policy or effective_policy(campaign)
    ).sender_postal_address or settings.AICMO_SENDER_POSTAL_ADDRESS
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


def _lock_next_due(
    campaign: Campaign, now: datetime, queue: list[int], size: int, *, chunk: int
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


# --- the claim: a pure gate, a pure router, one writer -------------------------------------------


@dataclass(frozen=True)
class SendGate:
    """Whether a claim may go ahead. ``reason`` says why not (empty: it may); ``room`` is how many
    messages it may take, the daily cap or the budget, whichever is tighter."""

    room: int = 0
    reason: str = ""
    cap_reached: bool = False
    budget_exhausted: bool = False


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
    mailed) or postpone it (to its send window's opening, or to tomorrow when its mailbox is full)."""

    claim: list[Message] = field(default_factory=list)
    cancel: list[Message] = field(default_factory=list)
    postpone: list[tuple[Message, datetime]] = field(default_factory=list)
    skip_reasons: Counter = field(default_factory=Counter)


def route_messages(
    candidates: list[Message],
    *,
    now: datetime,
    contactable: set[int],
    mailbox_room: dict[int, int],
    campaign_timezone: str,
) -> Routing:
    """Pure: route the candidates (best first) by contactability, the lead's send window and the
    room left in each sending mailbox today. Reads only the messages (and their lead's time zone)."""
    routing = Routing()
    room = dict(mailbox_room)
    for message in candidates:
        if message.lead_id not in contactable:
            routing.cancel.append(message)
            routing.skip_reasons["not_contactable"] += 1
            continue
        opening = next_window_opening(now, message.lead.timezone or campaign_timezone)
        if opening > now:
            routing.postpone.append((message, opening))
            continue
        if message.mailbox_id is not None:
            if room.get(message.mailbox_id, 0) <= 0:
                routing.postpone.append((message, _day_bounds(now, campaign_timezone)[1]))
                routing.skip_reasons["mailbox_cap"] += 1
                continue
            room[message.mailbox_id] -= 1
        routing.claim.append(message)
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


def _claim_slice(
    *,
    campaign_id: int,
    now: datetime,
    dry_run: bool,
    size: int,
    chunk: int,
    queue: list[int] | None = None,
) -> Claim:
    """Under the campaign's row lock: read what the gate needs, ask it, lock up to ``size`` due
    messages, route them and write the routing — one transaction, committed before any call."""
    with transaction.atomic():
        campaign = campaign_for_update(campaign_id, with_system_pause=True)
        policy = effective_policy(campaign)  # read once per claim: quiet hours and daily volume
        effective_dry_run = dry_run or not campaign.is_live
        gate = send_gate(
            state=campaign.state,
            system_paused=campaign.system_paused_now,
            quiet_hours=_quiet_hours_reason(campaign, policy, now),
            daily_room=_daily_cap(campaign, policy) - _used_today(campaign, now, dry_run=effective_dry_run),
            affordable=None if effective_dry_run else _affordable_emails(campaign),
        )
        claim = Claim(campaign=campaign, gate=gate, dry_run=effective_dry_run)
        if gate.budget_exhausted:
            try:  # records the blocked reason on the campaign, shown in the admin and API
                ensure_budget_allows(campaign=campaign, amount=_cost_per_email())
            except BudgetExhaustedError as exc:
                claim.gate = SendGate(reason=str(exc), budget_exhausted=True)
        if gate.reason or gate.room <= 0:
            return claim
        candidates = _lock_next_due(
            campaign, now, [] if queue is None else queue, min(gate.room, size), chunk=chunk
        )
        claim.candidates = len(candidates)
        if not candidates:
            return claim
        contactable = set(
            contactable_leads(
                Lead.objects.filter(pk__in=[m.lead_id for m in candidates]),
                now=now,
                campaign=campaign,
                regions=policy.consent_regions,
            ).values_list("pk", flat=True)
        )
        claim.routing = route_messages(
            candidates,
            now=now,
            contactable=contactable,
            mailbox_room=_mailbox_room(candidates, now),
            campaign_timezone=campaign.timezone,
        )
        _write_routing(claim.routing, now=now, dry_run=effective_dry_run)
        claim.messages = claim.routing.claim
    return claim


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
    return Decimal(str(settings.AICMO_COST_PER_EMAIL))


def _affordable_emails(campaign: Campaign) -> int | None:
    """How many more live emails the budget pays for (None: no cap). Sends not booked yet count:
    in flight, unknown (likely sent) and sent but not yet in the ledger."""
    cost = _cost_per_email()
    if cost <= 0:
        return None
    status = budget_status(campaign)
    if status.cap is None:
        return None
    in_flight = (
        Message.objects.filter(campaign=campaign, dry_run=False)
        .filter(Q(state__in=(MessageState.SENDING, MessageState.UNKNOWN)) | Q(cost_unbooked=True))
        .count()
    )
    left = status.cap - status.spent - cost * in_flight
    return max(0, int(left // cost))


def _build_email(message: Message, connection) -> EmailMultiAlternatives:
    headers = {"X-AICMO-Message": str(message.pk)}
    headers.update(
        list_unsubscribe_headers(url=message.unsubscribe_url, mailto=settings.AICMO_UNSUBSCRIBE_MAILTO)
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


class SlicePace:
    """How many messages the next claim takes, from the pace measured in this run.

    Slow calls — each at least as long as a claim's own database round trip: an ESP's API, a remote
    SMTP relay — are claimed one at a time: the extra commit costs less than the call, and a crash
    leaves exactly the call in flight uncertain. Fast ones (a local relay, files, memory) are claimed
    as many as fit in OUTREACH_SEND_SLICE_SECONDS, up to the chunk size: a commit per message would
    cost more than the sends. A run's first claim takes one message (nothing is measured yet); a dry
    run calls no provider and takes a whole chunk."""

    def __init__(self, *, seconds: float, limit: int) -> None:
        self.seconds, self.limit = seconds, max(1, limit)
        self.per_call: float | None = None
        self.overhead: float | None = None  # the fastest claim and record seen: the usual round trip

    def size(self, *, dry_run: bool) -> int:
        if dry_run:
            return self.limit
        if self.per_call is None or self.overhead is None or self.per_call >= self.overhead:
            return 1
        return max(1, min(self.limit, int(self.seconds / max(self.per_call, 1e-6))))

    def record(self, *, calls: int, call_seconds: float, overhead_seconds: float) -> None:
        """One slice: its provider calls and the time its claim and record took besides them (the
        fastest seen counts, so a slow claim — the ranking's refill — does not make calls look fast)."""
        if calls:
            self.per_call = call_seconds / calls
            self.overhead = (
                overhead_seconds if self.overhead is None else min(self.overhead, overhead_seconds)
            )


class _Provider:
    """The email backend of one run: the one given, or the configured one opened at the first
    live call and closed at the end of the run."""

    def __init__(self, connection) -> None:
        self.given, self.opened = connection, None

    def get(self):
        if self.given is not None:
            return self.given
        if self.opened is None:
            self.opened = get_connection(fail_silently=False)
            self.opened.open()
        return self.opened

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()
            self.opened = None


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
    pace = SlicePace(
        seconds=settings.OUTREACH_SEND_SLICE_SECONDS, limit=chunk_size or settings.OUTREACH_CHUNK_SIZE
    )
    stats = SendStats()
    queue: list[int] = []  # the ranked due messages of this run, see _lock_next_due
    provider = _Provider(connection)
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
                calls, call_seconds = _send_slice(
                    campaign=claim.campaign,
                    claimed=claim.messages,
                    now=current,
                    stats=stats,
                    provider=provider,
                    deadline_seconds=pace.seconds,
                )
                elapsed = time.monotonic() - started
                pace.record(calls=calls, call_seconds=call_seconds, overhead_seconds=elapsed - call_seconds)
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
    provider: _Provider,
    deadline_seconds: float,
) -> tuple[int, float]:
    """Hand a claimed slice to the provider and record what happened, in one transaction holding
    the campaign's share lock (a kill, which takes the row exclusively, waits for the slice in
    flight, and the next claim reads it) and the slice's rows (the recovery sweep cannot settle a
    message while it is with the provider). Claimed messages not handed over go back to
    `scheduled` in the same commit. Returns the provider calls made and the seconds they took."""
    with transaction.atomic():
        # Once a kill has committed, the state read here says so and nothing more goes out.
        state, paused = campaign_send_gate(campaign.pk)
        if state != CampaignState.ACTIVE or paused:
            stats.stopped_reason = SYSTEM_PAUSED if paused else f"campaign is {state}"
            _unclaim(claimed, killed=state == CampaignState.CANCELLED, now=now)
            return 0, 0.0
        ours = set(
            Message.objects.select_for_update(of=("self",))
            .filter(pk__in=[m.pk for m in claimed], state=MessageState.SENDING)
            .values_list("pk", flat=True)
        )
        mine = [m for m in claimed if m.pk in ours]
        started = time.monotonic()
        handed = _hand_over(mine, provider, now, stats, deadline=started + deadline_seconds)
        call_seconds = time.monotonic() - started
        _unclaim(mine[len(handed) :], killed=False, now=now)
        _record_slice(campaign, handed, now)
    return sum(not m.dry_run for m in handed), call_seconds


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
    pending: list[Message], provider: _Provider, now: datetime, stats: SendStats, *, deadline: float
) -> list[Message]:
    """Hand messages to the backend until the deadline passes (at least one); returns those handled."""
    max_attempts = settings.OUTREACH_MAX_ATTEMPTS
    done: list[Message] = []
    for message in pending:
        done.append(message)
        if message.dry_run:
            message.mark_sent()
            message.sent_at = now
            stats.dry_run += 1
        else:
            try:
                message.provider_message_id = _deliver(message, provider.get())[:200]
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
                        base=settings.OUTREACH_RETRY_BASE_SECONDS,
                        cap=settings.OUTREACH_RETRY_CAP_SECONDS,
                    )
                    stats.retried += 1
            else:
                message.mark_sent()
                message.sent_at = now
                message.cost_unbooked = True
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


# --- the budget ------------------------------------------------------------------------------------


def book_sent_costs(*, campaign_id: int) -> int:
    """Book the campaign's sends not yet in its spend ledger, each exactly once: the flags are
    cleared in the transaction that writes the entry, under the campaign's lock. Returns how many."""
    if not Message.objects.filter(campaign_id=campaign_id, cost_unbooked=True).exists():
        return 0
    with transaction.atomic():
        campaign_for_update(campaign_id)
        count = Message.objects.filter(campaign_id=campaign_id, cost_unbooked=True).update(
            cost_unbooked=False
        )
        cost = _cost_per_email()
        if count and cost > 0:
            # enforce_cap=False: the cost is incurred; the claims already kept within the cap.
            record_spend(
                campaign=campaign_id,
                kind=SpendKind.ESP,
                amount=cost * count,
                description=f"{count} email(s)",
                enforce_cap=False,
            )
    return count


# --- stopping ------------------------------------------------------------------------------------


def stop_enrollments(*, enrollment_ids: list[int], reason: str, now: datetime | None = None) -> int:
    """Stop enrollments and cancel their pending messages (two statements)."""
    now = now or timezone.now()
    stopped = Enrollment.objects.filter(pk__in=enrollment_ids, state__in=STOPPABLE_ENROLLMENT_STATES).update(
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
    Enrollment.objects.filter(campaign=campaign, state__in=STOPPABLE_ENROLLMENT_STATES).update(
        state=EnrollmentState.STOPPED, stop_reason=StopReason.KILLED, ended_at=now, next_send_at=None
    )


# --- interrupted sends ---------------------------------------------------------------------------


def settle_unknown_messages(*, message_ids: list[int], resolution: str, now: datetime | None = None) -> int:
    """Count `unknown` messages as sent — a provider event confirmed them (``SendResolution.CONFIRMED``)
    or none came within the window (``ASSUMED``) — and move their enrollments on. Each is settled at
    most once (locked, and only from `unknown`); its cost is flagged for booking like any send's.
    Returns how many it settled."""
    now = now or timezone.now()
    with transaction.atomic():
        messages = list(
            Message.objects.select_for_update(of=("self",))
            .filter(pk__in=message_ids, state=MessageState.UNKNOWN)
            .select_related("lead")
            .order_by("pk")
        )
        for message in messages:
            message.reconcile_sent()
            message.sent_at = message.sent_at or message.claimed_at or now  # the call was made then
            message.send_resolution = resolution
            message.cost_unbooked = not message.dry_run
            message.updated_at = now
        update_in_groups(
            Message, messages, ["state", "sent_at", "send_resolution", "cost_unbooked", "updated_at"]
        )
        by_campaign: dict[int, list[Message]] = {}
        for message in messages:
            by_campaign.setdefault(message.campaign_id, []).append(message)
        campaigns = Campaign.objects.select_related("client").in_bulk(list(by_campaign))
        for campaign_id, settled in by_campaign.items():
            _advance_enrollments(settled, now, campaigns[campaign_id])
            record_audit_event(
                verb="email.send_settled",
                campaign=campaigns[campaign_id],
                rationale=SendResolution(resolution).label,
                metadata={
                    "resolution": resolution,
                    "count": len(settled),
                    "message_ids": [m.pk for m in settled][:200],
                },
            )
    return len(messages)


@dataclass
class RecoveryReport:
    released: int = 0  # dry-run claims a dead worker left: back to `scheduled` (nothing went out)
    unknown: int = 0  # live claims a dead worker left: outcome unknown until settled
    confirmed: int = 0  # unknown ones a provider event confirmed
    assumed: int = 0  # unknown ones with no event within the window, counted as sent
    booked: int = 0  # sends booked to the budget that a crash had left unbooked


def recover_interrupted_sends(*, now: datetime | None = None) -> RecoveryReport:
    """The sweep after dead workers (beat runs it before dispatching cycles): stale `sending`
    claims become `unknown` (a dry run's go back to `scheduled`), `unknown` messages are settled as
    sent when a provider event confirms them or none came within OUTREACH_UNKNOWN_RESOLVE_SECONDS,
    and sends left unbooked are booked. Safe to run at any time and twice: every step starts from a
    state the previous one leaves behind."""
    now = now or timezone.now()
    report = RecoveryReport()
    stale_before = now - timedelta(seconds=settings.OUTREACH_SENDING_STALE_SECONDS)
    stale = Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=stale_before)
    # The usual case, nothing to recover, is this one query (small partial indexes).
    if not Message.objects.filter(
        Q(state=MessageState.SENDING, claimed_at__lt=stale_before)
        | Q(state=MessageState.UNKNOWN)
        | Q(cost_unbooked=True)
    ).exists():
        return report
    report.released = stale.filter(dry_run=True).update(
        state=MessageState.SCHEDULED,
        attempts=F("attempts") - 1,
        last_error="interrupted before it was recorded (a dry run: nothing went out)",
        updated_at=now,
    )
    report.unknown = stale.filter(dry_run=False).update(
        state=MessageState.UNKNOWN,
        last_error="interrupted after it was handed to the provider; outcome unknown until a "
        "provider event says or the window passes",
        updated_at=now,
    )
    unknown = Message.objects.filter(state=MessageState.UNKNOWN)
    confirmed = list(
        unknown.filter(
            Exists(MessageEvent.objects.filter(message_id=OuterRef("pk"), kind__in=CONFIRMING_EVENT_KINDS))
        ).values_list("pk", flat=True)
    )
    if confirmed:
        report.confirmed = settle_unknown_messages(
            message_ids=confirmed, resolution=SendResolution.CONFIRMED, now=now
        )
    window = now - timedelta(seconds=settings.OUTREACH_UNKNOWN_RESOLVE_SECONDS)
    assumed = list(unknown.filter(claimed_at__lt=window).values_list("pk", flat=True))
    if assumed:
        report.assumed = settle_unknown_messages(
            message_ids=assumed, resolution=SendResolution.ASSUMED, now=now
        )
    unbooked = Message.objects.filter(cost_unbooked=True).values_list("campaign_id", flat=True).distinct()
    for campaign_id in sorted(set(unbooked)):
        report.booked += book_sent_costs(campaign_id=campaign_id)
    if report.unknown or report.confirmed or report.assumed or report.released:
        logger.warning("recovered interrupted sends: %s", report)
    return report
