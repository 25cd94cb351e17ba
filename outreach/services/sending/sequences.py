"""Sequences, enrollment and scheduling: a sequence of approved email creative, the leads enrolled
in it, and one rendered Message per due enrollment step."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.models import Campaign, User
from campaigns.selectors import EffectivePolicy
from campaigns.sender_identity import sender_identity
from campaigns.services.audit import record_audit_event
from creative.models import CreativeVariant
from creative.personalization import render_merge_fields
from creative.services import ensure_creative_sendable
from leads.models import Lead
from leads.selectors import contactable_leads

from ...message_ids import new_rfc_message_id
from ...models import (
    Enrollment,
    EnrollmentState,
    Message,
    Sequence,
    SequenceStep,
    StepVariant,
)
from ...senders import from_header_for, reply_to_for, signature_names
from ...sequence_tracking import tracking_problems
from ...unsubscribe import make_unsubscribe_token, unsubscribe_url
from ...windows import next_window_opening
from .pacing import campaign_pacing
from .pool import PoolRotation, mailbox_for, sequence_pools, thread_subject, threads_of
from .row_updates import update_in_groups

# Days between a step and the one before it when a step's spec gives none (the first step goes out
# on enrollment).
FOLLOW_UP_DELAY_DAYS = 3


def _check_mailboxes(campaign: Campaign, mailboxes, field: str) -> None:
    """A sequence sends only from its campaign's client's mailboxes or shared ones."""
    for mailbox in mailboxes:
        if mailbox is not None and mailbox.client_id not in (None, campaign.client_id):
            raise DomainError(
                f"Mailbox {mailbox.email} belongs to another client; pick one of this client's or a "
                "shared one.",
                field=field,
            )


def _check_tracking(campaign: Campaign, **values) -> None:
    """Refuse tracking settings ``sequence_tracking.tracking_problems`` names (its first problem)."""
    problems = tracking_problems(campaign=campaign, **values)
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)


def create_sequence(
    *,
    campaign: Campaign,
    name: str,
    steps: list[dict],
    mailbox=None,
    mailboxes=(),
    plain_text_only: bool = True,
    track_opens: bool = False,
    track_clicks: bool = False,
    actor: User | None = None,
) -> Sequence:
    """steps: [{"delay_days": 0, "creatives": [id, …], "weights": [1, …]}, …] — approved email creative.
    ``mailboxes``: more mailboxes for the pool first emails rotate over (pool.py), beside ``mailbox``.
    Tracking stays off unless asked for and allowed (``sequence_tracking``)."""
    if not steps:
        raise DomainError("A sequence needs at least one step.", field="steps")
    mailboxes = list(mailboxes)
    _check_mailboxes(campaign, [mailbox], "mailbox")
    _check_mailboxes(campaign, mailboxes, "mailboxes")
    _check_tracking(
        campaign,
        track_opens=track_opens,
        track_clicks=track_clicks,
        plain_text_only=plain_text_only,
        mailboxes=[mailbox, *mailboxes],
    )
    with transaction.atomic():
        sequence = Sequence.objects.create(
            campaign=campaign,
            name=name.strip() or "Sequence",
            mailbox=mailbox,
            plain_text_only=plain_text_only,
            track_opens=track_opens,
            track_clicks=track_clicks,
        )
        if mailboxes:
            sequence.mailboxes.set(mailboxes)
        for position, spec in enumerate(steps, start=1):
            creatives = list(spec.get("creatives") or [])
            if not creatives:
                raise DomainError(
                    f"Step {position} needs at least one approved email creative.", field="steps"
                )
            weights = list(spec.get("weights") or [1] * len(creatives))
            if len(weights) != len(creatives) or any(int(w) < 1 for w in weights):
                raise DomainError(f"Step {position}: give one positive weight per creative.", field="steps")
            delay = int(spec.get("delay_days", 0 if position == 1 else FOLLOW_UP_DELAY_DAYS))
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


SEQUENCE_EDITABLE_FIELDS = (
    "name",
    "mailbox",
    "mailboxes",
    "is_active",
    "plain_text_only",
    "track_opens",
    "track_clicks",
)
# A change to any of these re-checks the sequence's tracking (sequence_tracking).
TRACKING_INPUTS = frozenset({"mailbox", "mailboxes", "plain_text_only", "track_opens", "track_clicks"})


def update_sequence(*, sequence: Sequence, actor: User | None = None, **changes) -> Sequence:
    """Change a sequence's name, mailbox, mailbox pool or whether it enrolls new leads (its steps
    stay: scheduled messages point at them). Audited as ``sequence.updated`` naming the changed
    fields; nothing changed, nothing written. Mailboxes are the campaign's client's or shared ones.
    A new pool applies to first emails scheduled from now on; follow-ups stay on their thread's."""
    unknown = sorted(set(changes) - set(SEQUENCE_EDITABLE_FIELDS))
    if unknown:
        raise DomainError(
            f"A sequence's {', '.join(unknown)} cannot be changed here; "
            f"editable: {', '.join(SEQUENCE_EDITABLE_FIELDS)}.",
            field=unknown[0],
        )
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip() or "Sequence"
    with transaction.atomic():
        locked = Sequence.objects.select_for_update().select_related("campaign").get(pk=sequence.pk)
        _check_mailboxes(locked.campaign, [changes.get("mailbox")], "mailbox")
        pool = changes.pop("mailboxes", None)
        changed = [name for name, value in changes.items() if getattr(locked, name) != value]
        if changed:
            for name in changed:
                setattr(locked, name, changes[name])
            locked.save(update_fields=changed)
        if pool is not None:
            pool = list(pool)
            _check_mailboxes(locked.campaign, pool, "mailboxes")
            if {box.pk for box in pool} != set(locked.mailboxes.values_list("pk", flat=True)):
                locked.mailboxes.set(pool)
                changed.append("mailboxes")
        if TRACKING_INPUTS.intersection(changed):  # refused: the atomic block undoes the writes above
            _check_tracking(
                locked.campaign,
                track_opens=locked.track_opens,
                track_clicks=locked.track_clicks,
                plain_text_only=locked.plain_text_only,
                mailboxes=[locked.mailbox, *locked.mailboxes.all()],
            )
        if changed:
            record_audit_event(
                verb="sequence.updated",
                actor=actor,
                campaign=locked.campaign,
                target=locked,
                metadata={"changed": changed},
            )
    return locked


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


def pick_variant(variants: list[StepVariant], enrollment_id: int) -> StepVariant:
    """Weighted, deterministic per enrollment: re-running picks the same arm (no flapping A/B)."""
    total = sum(v.weight for v in variants)
    point = int(hashlib.sha256(str(enrollment_id).encode()).hexdigest()[:8], 16) % total
    for variant in variants:
        point -= variant.weight
        if point < 0:
            return variant
    return variants[-1]


def _merge_context(
    lead: Lead, campaign: Campaign, token_url: str, signature: tuple[str, str], postal_address: str
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
        "sender_name": signature[0],
        "sender_company": signature[1],
        "sender_address": postal_address,
        "unsubscribe_url": token_url,
    }


def preview_context_for_lead(*, campaign: Campaign, lead_id: int) -> dict[str, str] | None:
    """The merge context a send to this lead would use (creative previews ask for it)."""
    lead = Lead.objects.filter(pk=lead_id, campaign=campaign).first()
    if lead is None:
        return None
    identity = sender_identity(campaign)
    sequence = campaign.sequences.filter(mailbox__isnull=False).select_related("mailbox").first()
    signature = signature_names(campaign, sequence.mailbox if sequence is not None else None, identity)
    return _merge_context(lead, campaign, unsubscribe_url("preview"), signature, identity.postal_address)


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
    # No fallback address: a live campaign without one never got past activation.
    identity = sender_identity(campaign)
    postal_address = identity.postal_address
    window = campaign_pacing(campaign).window  # the campaign's send window (docs/senders.md §4)
    existing = set(
        Message.objects.filter(enrollment__in=[e.pk for e in due]).values_list("enrollment_id", "step_id")
    )
    # Mailbox pools and threads (pool.py): first emails rotate, follow-ups stay in their thread.
    pools = sequence_pools(campaign)
    rotation = PoolRotation(pools, now, dry_run=not campaign.is_live)
    threads = threads_of([e.pk for e in due if e.current_step > 1])
    messages: list[Message] = []
    finished: list[Enrollment] = []
    waiting: set[int] = set()  # first emails of a pool with no room today: rendered in a later cycle
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
        thread = threads.get(enrollment.pk)
        mailbox, wait = mailbox_for(thread, pools.get(enrollment.sequence_id, []), rotation)
        if wait:
            waiting.add(enrollment.pk)
            continue
        arm = pick_variant(list(step.variants.all()), enrollment.pk)
        creative: CreativeVariant = arm.creative
        lead = enrollment.lead
        from_email = from_header_for(campaign, mailbox, identity)
        token_url = unsubscribe_url(make_unsubscribe_token(enrollment_id=enrollment.pk))
        signature = signature_names(campaign, mailbox, identity)
        context = _merge_context(lead, campaign, token_url, signature, postal_address)
        window_tz = lead.timezone or campaign.timezone
        subject = render_merge_fields(creative.subject, context).text
        if thread is not None:
            subject = thread_subject(subject, thread.first.subject)
        sequence = enrollment.sequence
        body_html = (
            ""  # a plain-text-only sequence sends no HTML part (compose.py)
            if sequence.plain_text_only
            else render_merge_fields(creative.body_html, context, escape_html=True).text
        )
        # Tracking lives in the HTML part, and only under the client's own tracking domain.
        may_track = bool(body_html) and bool(identity.tracking_domain)
        messages.append(
            Message(
                campaign=campaign,
                enrollment=enrollment,
                step=step,
                step_variant=arm,
                lead=lead,
                mailbox=mailbox,
                from_email=from_email,
                reply_to=reply_to_for(campaign, mailbox, identity),
                to_email=lead.email,
                subject=subject[:300],
                body_text=render_merge_fields(creative.body, context).text,
                body_html=body_html,
                track_opens=may_track and sequence.track_opens,
                track_clicks=may_track and sequence.track_clicks,
                unsubscribe_url=token_url,
                rfc_message_id=new_rfc_message_id(from_email),  # random: replies quote it
                in_reply_to=thread.previous.rfc_message_id if thread is not None else "",
                references=thread.references if thread is not None else "",
                scheduled_for=next_window_opening(now, window_tz, window),
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
        Enrollment.objects.filter(
            pk__in=[e.pk for e in due if e.pk not in finished_ids and e.pk not in waiting]
        ).update(next_send_at=None)
        update_in_groups(Enrollment, finished, ["state", "ended_at", "next_send_at"])
    return len(messages)
