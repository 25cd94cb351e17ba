"""Preview of a campaign's next cycle: who would get which step, when (in the campaign's time zone)
and from which mailbox — or why not — without writing anything.

A dry run is not a preview: it takes the due steps. This reads the same facts the cycle reads and
asks the cycle's own decision code (``caps.scheduling_room``, ``claims.send_gate``,
``claims.route_messages``, ``windows.next_window_opening``, the sequence's A/B pick,
``leads.selectors.contactable_leads``, ``leads.scoring.score_lead``) what it would do, stage by
stage, as ``cycle._run_stages`` runs them: enrich and score → enroll (up to the day's room, best
scores first) → render the due steps → claim what is due, slice by slice, until the cap, the budget
or the queue ends. Only SELECTs are issued: no row, lease, history or audit event is written.

What it cannot know: leads a third-party source would add (none unless configured), the A/B arm of
a lead not enrolled yet (chosen from the new enrollment's id: shown as "A/B"), provider failures,
and what changes between now and the run (a reply, a new import, the clock).
"""

from __future__ import annotations

import inspect
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from campaigns.models import Campaign, CampaignState
from campaigns.selectors import budget_status, effective_policy, system_paused
from campaigns.templatetags.campaign_time import campaign_time
from leads.adapters import default_email_verifier
from leads.models import Lead, LeadState
from leads.scoring import LeadFacts, score_lead
from leads.selectors import contactable_leads, lead_policy_for
from leads.services import enrich_and_score_leads

from ..models import PENDING_STATES, Enrollment, EnrollmentState, Message, Sequence, SequenceStep
from ..senders import from_header_for
from ..windows import next_window_opening
from . import cycle_reasons as words
from .cycle_reasons import CANCEL, COMPLETE, HELD, LATER, OUTCOME_LABELS, RECORD, SEND, WAIT
from .sending import route_messages, scheduling_room, send_gate
from .sending.budget import affordable_emails
from .sending.caps import daily_cap, mailbox_room, quiet_hours_reason, used_today
from .sending.claims import NOT_CONTACTABLE
from .sending.pacing import campaign_pacing, domains_today, mailbox_pace
from .sending.pool import PoolRotation, mailbox_for, sequence_pools, threads_of
from .sending.sequences import pick_variant

__all__ = [
    "CANCEL",
    "COMPLETE",
    "HELD",
    "LATER",
    "OUTCOME_LABELS",
    "RECORD",
    "SEND",
    "WAIT",
    "CyclePreview",
    "PreviewRow",
    "preview_next_cycle",
]

ROW_LIMIT = 500  # rows loaded per kind; the counts say when there are more

# The batch a cycle enriches and scores before it enrolls (``enrich_and_score_leads``'s default,
# read from it so the two never disagree).
ENRICH_BATCH = inspect.signature(enrich_and_score_leads).parameters["limit"].default


@dataclass
class PreviewRow:
    lead_id: int
    email: str
    name: str
    sequence: str
    step: int | None
    variant: str
    outcome: str
    at: datetime | None
    at_display: str
    mailbox: str
    reason: str = ""
    message_id: int | None = None
    enrollment_id: int | None = None

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)


@dataclass
class CyclePreview:
    campaign_id: int
    campaign_name: str
    timezone: str
    now: datetime
    now_display: str
    dry_run: bool
    window: str
    runs: bool = True
    gate_reason: str = ""
    room: int = 0
    rows: list[PreviewRow] = field(default_factory=list)
    more_leads: int = 0  # contactable leads not enrolled this cycle (over the day's room)
    truncated: bool = False
    explanation: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(row.outcome for row in self.rows))

    @property
    def going(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.outcome in (SEND, RECORD)]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts
        for row, raw in zip(self.rows, data["rows"], strict=True):
            raw["outcome_label"] = row.outcome_label
        return data


@dataclass
class _Due:
    """An enrollment step the cycle's scheduling stage would reach (existing or about to enroll)."""

    lead: Lead
    sequence: Sequence
    position: int
    next_send_at: datetime
    score: float
    order: tuple
    enrollment: Enrollment | None = None


def preview_next_cycle(
    *, campaign: Campaign, now: datetime | None = None, dry_run: bool = False
) -> CyclePreview:
    """What ``run_cycle(campaign_id=…, dry_run=dry_run, now=now)`` would do, read only. The default
    is beat's cycle (``dry_run=False``: a live campaign sends, a dry-run campaign records)."""
    now = now or timezone.now()
    effective_dry_run = dry_run or not campaign.is_live
    preview = CyclePreview(
        campaign_id=campaign.pk,
        campaign_name=campaign.name,
        timezone=campaign.timezone,
        now=now,
        now_display=campaign_time(now, campaign),
        dry_run=effective_dry_run,
        window=words.window_text(campaign),
    )
    if campaign.state != CampaignState.ACTIVE:
        preview.runs = False
        preview.explanation = words.skipped_cycle_reasons(f"campaign is {campaign.state}")
        _add_waiting_rows(preview, campaign, now)
        for row in preview.rows:  # scheduled, but nothing goes until the campaign is active again
            row.outcome, row.reason = HELD, preview.explanation[0].rstrip(".")
        return preview
    policy = effective_policy(campaign)
    scores = _scores_after_enrichment(campaign)
    room = scheduling_room(campaign=campaign, now=now, dry_run=dry_run, policy=policy)
    preview.room = room
    sequences = list(
        Sequence.objects.filter(campaign=campaign, is_active=True)
        .select_related("mailbox")
        .prefetch_related("steps__variants")
    )
    steps = {(s.sequence_id, s.position): s for seq in sequences for s in seq.steps.all()}
    due = _existing_due(campaign, now, room, scores) + _new_enrollments(
        preview, campaign, sequences, now, room, scores, policy
    )
    due.sort(key=lambda d: (-d.score, d.next_send_at, d.order))
    new_messages = _render(preview, campaign, due, steps, now, room)
    _send(preview, campaign, policy, now, new_messages, scores, effective_dry_run)
    _add_waiting_rows(preview, campaign, now)
    preview.explanation = words.preview_sentences(preview, campaign, now)
    return preview


def _scores_after_enrichment(campaign: Campaign) -> dict[int, float]:
    """The scores the cycle's enrichment stage gives its batch of new leads (``score_lead`` on the
    facts it reads, the address checked by the configured verifier); other leads keep theirs."""
    policy = lead_policy_for(campaign.pk)
    weights = policy.icp_weights if policy else None
    verifier = default_email_verifier()
    batch = Lead.objects.filter(campaign=campaign, state=LeadState.NEW, erased_at__isnull=True).order_by("pk")
    return {
        lead.pk: score_lead(
            LeadFacts(
                title=lead.title,
                company_size=lead.company_size,
                industry=lead.industry,
                country=lead.country,
                email_valid=verifier.verify(lead.normalized_email).is_valid,
            ),
            weights,
        )
        for lead in batch.only("pk", "title", "company_size", "industry", "country", "normalized_email")[
            :ENRICH_BATCH
        ]
    }


def _existing_due(campaign: Campaign, now: datetime, room: int, scores: dict[int, float]) -> list[_Due]:
    rows = (
        Enrollment.objects.filter(campaign=campaign, state=EnrollmentState.ACTIVE, next_send_at__lte=now)
        .select_related("lead", "sequence__mailbox")
        .order_by("-lead__score", "next_send_at", "id")[: max(room, 0) + len(scores) + ROW_LIMIT]
    )
    return [
        _Due(
            lead=e.lead,
            sequence=e.sequence,
            position=e.current_step,
            next_send_at=e.next_send_at,
            score=scores.get(e.lead_id, e.lead.score),
            order=(0, e.pk),
            enrollment=e,
        )
        for e in rows
    ]


def _new_enrollments(
    preview: CyclePreview,
    campaign: Campaign,
    sequences: list[Sequence],
    now: datetime,
    room: int,
    scores: dict[int, float],
    policy,
) -> list[_Due]:
    """``enroll_leads`` per active sequence: contactable leads not in it, best (new) scores first,
    at most ``room``; each due after its first step's delay, less a minute per score point."""
    planned: list[_Due] = []
    for sequence in sequences:
        first = min(sequence.steps.all(), key=lambda s: s.position, default=None)
        if first is None:
            continue
        waiting = (
            contactable_leads(
                Lead.objects.filter(campaign=campaign),
                now=now,
                campaign=campaign,
                regions=policy.consent_regions,
            )
            .exclude(pk__in=Enrollment.objects.filter(sequence=sequence).values("lead_id"))
            .order_by("-score", "id")
        )
        if room <= 0:
            preview.more_leads = max(preview.more_leads, waiting.count())
            continue
        # Rescoring moves at most the batch's leads: the best ``room`` are among these rows.
        candidates = list(waiting[: room + len(scores)])
        candidates.sort(key=lambda lead: (-scores.get(lead.pk, lead.score), lead.pk))
        chosen = candidates[:room]
        preview.more_leads = max(preview.more_leads, waiting.count() - len(chosen))
        for lead in chosen:
            score = scores.get(lead.pk, lead.score)
            next_send_at = now + timedelta(days=first.delay_days) - timedelta(seconds=int(score * 60))
            planned.append(_Due(lead, sequence, first.position, next_send_at, score, (1, len(planned))))
    for d in planned:  # a first step with a delay: enrolled now, rendered once it is due
        if d.next_send_at > now:
            why = "enrolled now; its first step is due then"
            preview.rows.append(_row(d, campaign, WAIT, d.next_send_at, why))
    return [d for d in planned if d.next_send_at <= now]


def _render(
    preview: CyclePreview,
    campaign: Campaign,
    due: list[_Due],
    steps: dict[tuple[int, int], SequenceStep],
    now: datetime,
    room: int,
) -> list[tuple[Message, _Due]]:
    """``schedule_due_messages``: the best ``room`` due steps become messages, due at their lead's
    next window opening; steps already rendered are skipped, finished sequences complete."""
    scheduled = due[: max(room, 0)]
    for d in due[max(room, 0) :]:
        preview.rows.append(
            _row(
                d,
                campaign,
                LATER,
                None,
                f"over today's room under the daily cap ({campaign.daily_email_cap} a day)",
            )
        )
    existing_ids = [d.enrollment.pk for d in scheduled if d.enrollment is not None]
    rendered = set(
        Message.objects.filter(enrollment__in=existing_ids).values_list("enrollment_id", "step_id")
        if existing_ids
        else ()
    )
    messages: list[tuple[Message, _Due]] = []
    window = campaign_pacing(campaign).window
    # The mailbox each step goes from, as scheduling picks it (pool rotation, the lead's thread).
    pools = sequence_pools(campaign)
    rotation = PoolRotation(pools, now, dry_run=not campaign.is_live)
    threads = threads_of([d.enrollment.pk for d in scheduled if d.enrollment is not None and d.position > 1])
    for d in scheduled:
        step = steps.get((d.sequence.pk, d.position))
        if step is None:
            preview.rows.append(_row(d, campaign, COMPLETE, None, "no step left in the sequence"))
            continue
        if d.enrollment is not None and (d.enrollment.pk, step.pk) in rendered:
            continue  # its message is pending already and is previewed with the others
        variants = list(step.variants.all())
        label = (
            pick_variant(variants, d.enrollment.pk).label
            if d.enrollment is not None
            else "/".join(v.label for v in variants)
        )
        thread = threads.get(d.enrollment.pk) if d.enrollment is not None else None
        mailbox, wait = mailbox_for(thread, pools.get(d.sequence.pk, []), rotation)
        if wait:
            why = "no mailbox of the sequence's pool has room today"
            preview.rows.append(_row(d, campaign, LATER, None, why))
            continue
        message = Message(
            campaign=campaign,
            lead=d.lead,
            mailbox=mailbox,
            step=step,
            from_email=from_header_for(campaign, mailbox),
            to_email=d.lead.email,
            scheduled_for=next_window_opening(now, d.lead.timezone or campaign.timezone, window),
        )
        message.preview_variant = label
        message.preview_order = len(messages)  # bulk_create's order: the ids it will get
        messages.append((message, d))
    return messages


def _send(
    preview: CyclePreview,
    campaign: Campaign,
    policy,
    now: datetime,
    new_messages: list[tuple[Message, _Due]],
    scores: dict[int, float],
    dry_run: bool,
) -> None:
    """``send_due_messages``: the gate, then the due messages best-first through the router, one
    claim's slice at a time, until the day's room is used."""
    pending = list(
        Message.objects.filter(campaign=campaign, state__in=PENDING_STATES, scheduled_for__lte=now)
        .select_related("lead", "mailbox", "step__sequence", "step_variant")
        .order_by("-lead__score", "scheduled_for", "id")[:ROW_LIMIT]
    )
    due = [(m, None) for m in pending] + [(m, d) for m, d in new_messages if m.scheduled_for <= now]
    for message, d in new_messages:
        if message.scheduled_for > now:
            why = "next send window"  # rendered now, as the cycle renders it
            preview.rows.append(_row(d, campaign, WAIT, message.scheduled_for, why, message=message))
    due.sort(key=lambda pair: _rank(pair, scores))
    used = used_today(campaign, now, dry_run=dry_run)
    cap = daily_cap(campaign, policy)
    affordable = None if dry_run else affordable_emails(campaign)
    gate = send_gate(
        state=campaign.state,
        system_paused=system_paused(fresh=True),
        quiet_hours=quiet_hours_reason(campaign, policy, now),
        daily_room=cap - used,
        affordable=affordable,
    )
    if gate.cap_reached:
        preview.gate_reason = words.cap_sentence(used, cap)
    elif gate.budget_exhausted:
        preview.gate_reason = words.gate_sentence(
            budget_status(campaign).blocked_reason or gate.reason, budget_exhausted=True
        )
    else:
        preview.gate_reason = words.gate_sentence(gate.reason)
    if not due:
        return
    room = 0 if gate.reason else gate.room
    contactable = set(
        contactable_leads(
            Lead.objects.filter(pk__in={m.lead_id for m, _ in due}),
            now=now,
            campaign=campaign,
            regions=policy.consent_regions,
        ).values_list("pk", flat=True)
    )
    fresh_room = mailbox_room([m for m, _ in due], now)
    room_left = dict(fresh_room)
    pacing = campaign_pacing(campaign)
    pace = mailbox_pace([m for m, _ in due], now, dry_run=dry_run)
    domains = domains_today(campaign, now, dry_run=dry_run) if pacing.domain_daily_limit else Counter()
    queue = list(due)
    while queue and room > 0:
        size = min(room, settings.OUTREACH_CHUNK_SIZE)
        chunk, queue = queue[:size], queue[size:]
        by_message = {id(m): d for m, d in chunk}
        routing = route_messages(
            [m for m, _ in chunk],
            now=now,
            contactable=contactable,
            mailbox_room=room_left,
            campaign_timezone=campaign.timezone,
            window=pacing.window,
            mailbox_pace=pace,
            domains_sent=domains,
            domain_limit=pacing.domain_daily_limit,
        )
        pace, domains = routing.pace_after, routing.domains_after
        for m in routing.claim:
            why = "dry run: recorded, not sent" if dry_run else ""
            preview.rows.append(
                _row(by_message[id(m)], campaign, RECORD if dry_run else SEND, now, why, message=m)
            )
            if m.mailbox_id is not None and not dry_run:  # live claims count against the mailbox today
                room_left[m.mailbox_id] -= 1
        for m in routing.cancel:
            preview.rows.append(_row(by_message[id(m)], campaign, CANCEL, None, NOT_CONTACTABLE, message=m))
        for m, until in routing.postpone:
            why = words.postponed_reason(routing.why.get(id(m), ""), m, until, campaign, now)
            preview.rows.append(_row(by_message[id(m)], campaign, WAIT, until, why, message=m))
        room -= len(routing.claim)
        if dry_run:  # dry-run claims do not count against a mailbox: each claim reads it afresh
            room_left = dict(fresh_room)
    if queue:
        if gate.reason or gate.cap_reached:
            held_why = preview.gate_reason
        elif affordable is not None and affordable < cap - used:  # the budget, not the cap, ran out
            held_why = words.gate_sentence(budget_status(campaign).blocked_reason, budget_exhausted=True)
            held_why = f"Budget pays for {affordable} more email(s) only." if affordable else held_why
        else:
            held_why = words.cap_sentence(cap, cap)
        preview.gate_reason = preview.gate_reason or held_why
        for m, d in queue:
            preview.rows.append(_row(d, campaign, HELD, None, held_why.rstrip("."), message=m))


def _rank(pair: tuple[Message, _Due | None], scores: dict[int, float]) -> tuple:
    """``_lock_next_due``'s order: best lead score, earliest due, oldest message (new ones last)."""
    message, _ = pair
    score = scores.get(message.lead_id, message.lead.score)
    return (-score, message.scheduled_for, (0, message.pk) if message.pk else (1, message.preview_order))


def _row(
    d: _Due | None,
    campaign: Campaign,
    outcome: str,
    at: datetime | None,
    reason: str,
    *,
    message: Message | None = None,
) -> PreviewRow:
    """A row for a planned step (``d``) or an existing pending message (``d`` None)."""
    if d is not None:
        lead, sequence, position = d.lead, d.sequence.name, d.position
        variant = getattr(message, "preview_variant", "") if message is not None else ""
        mailbox = message.from_email if message is not None else from_header_for(campaign, d.sequence.mailbox)
        enrollment_id = d.enrollment.pk if d.enrollment is not None else None
    else:
        lead, sequence, position = message.lead, message.step.sequence.name, message.step.position
        variant, mailbox, enrollment_id = (
            message.step_variant.label,
            message.from_email,
            message.enrollment_id,
        )
    return PreviewRow(
        lead_id=lead.pk,
        email=lead.email,
        name=f"{lead.first_name} {lead.last_name}".strip(),
        sequence=sequence,
        step=position,
        variant=variant,
        outcome=outcome,
        at=at,
        at_display=campaign_time(at, campaign) if at is not None else "—",
        mailbox=mailbox,
        reason=reason,
        message_id=message.pk if message is not None else None,
        enrollment_id=enrollment_id,
    )


def _add_waiting_rows(preview: CyclePreview, campaign: Campaign, now: datetime) -> None:
    """Messages already scheduled for later: they do not go in this cycle."""
    later = (
        Message.objects.filter(campaign=campaign, state__in=PENDING_STATES, scheduled_for__gt=now)
        .select_related("lead", "mailbox", "step__sequence", "step_variant")
        .order_by("scheduled_for", "id")
    )
    rows = list(later[: ROW_LIMIT + 1])
    preview.truncated = preview.truncated or len(rows) > ROW_LIMIT
    for m in rows[:ROW_LIMIT]:
        preview.rows.append(
            _row(
                None,
                campaign,
                WAIT,
                m.scheduled_for,
                words.why_waiting(m.scheduled_for, m.state, campaign, message=m, now=now),
                message=m,
            )
        )
