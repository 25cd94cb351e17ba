"""What a reply's category does, per campaign (``ReplyRules`` overrides, defaults below), each
action audited with its reason and listed on the reply.

Only a reply from the lead's own address acts (``ReplySenderMatch.MATCHED``); a bounce acts when it
quotes one of our Message-IDs (it comes from a postmaster, never from the lead). Every human reply
stops the sequence whatever the rules say: nobody gets a follow-up after writing back."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.events import emit_event, lead_data
from campaigns.services.audit import record_audit_event
from campaigns.timezones import zone_or_utc
from leads.models import LeadState
from leads.services import add_lead, hold_lead, transition_lead

from ...models import (
    PENDING_STATES,
    Enrollment,
    EnrollmentState,
    InboundReply,
    Message,
    MessageEvent,
    MessageEventKind,
    ReplyMatch,
    ReplyRules,
    ReplySenderMatch,
    StopReason,
)
from ...replies.categories import AUTOMATIC_CATEGORIES, BounceKind, ReplyCategory
from ..operator_tasks.replies import create_reply_task
from ..sending import stop_enrollments
from ..unsubscribes import unsubscribe_enrollment

__all__ = [
    "ACTIONS",
    "DEFAULT_ACTIONS",
    "actions_for",
    "add_business_days",
    "apply_actions",
    "validate_rules",
]
logger = logging.getLogger(__name__)

ACTIONS = {
    "stop": "stop the sequence",
    "mark_replied": "mark the lead replied",
    "answer_task": "an operator task: answer within one business day",
    "unsubscribe": "suppress the address for the client and stop the sequence",
    "wait": "hold the sequence until the return date plus one business day (7 days without one)",
    "refer": "add the referred address as a new lead, held until an operator reviews and releases it",
    "bounce": "bounce handling: a hard bounce suppresses the address and stops the sequence",
}
C = ReplyCategory
DEFAULT_ACTIONS: dict[str, list[str]] = {
    C.INTERESTED: ["stop", "mark_replied", "answer_task"],
    C.MEETING_REQUEST: ["stop", "mark_replied", "answer_task"],
    C.QUESTION: ["stop", "mark_replied"],
    C.NOT_INTERESTED: ["stop", "mark_replied"],
    C.UNSUBSCRIBE_REQUEST: ["unsubscribe"],
    C.OUT_OF_OFFICE: ["wait"],
    C.WRONG_PERSON: ["stop", "refer"],
    C.BOUNCE: ["bounce"],
    C.AUTO_REPLY_OTHER: [],
    C.OTHER: ["stop", "mark_replied"],
}
NO_DATE_WAIT = dt.timedelta(days=7)


def validate_rules(actions: Any) -> dict[str, list[str]]:
    """A campaign's overrides: ``{category: [action, …]}`` with known names only."""
    if not isinstance(actions, dict):
        raise ValidationError("Give an object: category → list of actions.")
    for category, names in actions.items():
        if category not in ReplyCategory.values:
            raise ValidationError(f"Unknown category {category!r}; known: {', '.join(ReplyCategory.values)}.")
        if not isinstance(names, list) or any(name not in ACTIONS for name in names):
            raise ValidationError(f"{category}: give a list of actions from {', '.join(ACTIONS)}.")
    return actions


def actions_for(campaign_id: int | None, category: str) -> list[str]:
    names = list(DEFAULT_ACTIONS.get(category, []))
    if campaign_id is not None:
        rules = ReplyRules.objects.filter(campaign_id=campaign_id).values_list("actions", flat=True).first()
        if rules and category in rules:
            names = list(rules[category])
    if category not in AUTOMATIC_CATEGORIES and "stop" not in names and "unsubscribe" not in names:
        names.insert(0, "stop")  # any human reply stops the sequence
    return names


def add_business_days(day: dt.date, count: int) -> dt.date:
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _local_midnight(day: dt.date, zone_name: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone_or_utc(zone_name))


def _note(reply: InboundReply, action: str, why: str, actor, **metadata) -> None:
    reply.actions = [*reply.actions, {"action": action, "why": why, "at": timezone.now().isoformat()}]
    record_audit_event(
        verb=f"reply.{action}",
        actor=actor,
        campaign=reply.campaign,
        target=reply,
        rationale=why,
        metadata={"reply_id": reply.pk, "category": reply.category, **metadata},
    )


def apply_actions(*, reply: InboundReply, actor=None) -> list[str]:
    """Run the reply's category's actions (inside the caller's transaction). Returns their names."""
    message = reply.message
    if message is None:
        return []
    category = reply.category
    human = category not in AUTOMATIC_CATEGORIES
    if category == ReplyCategory.BOUNCE:
        if reply.matched_by != ReplyMatch.THREAD:
            return []  # a bounce that quotes none of our Message-IDs proves nothing about an address
    elif reply.sender_match != ReplySenderMatch.MATCHED:
        return []
    names = actions_for(reply.campaign_id, category)
    because = f"{reply.get_category_display()}: {reply.category_reason or 'no reason given'}"[:500]
    done: list[str] = []
    # Counted as a reply once, even when re-categorised from one human category to another.
    counted = human and not any(a.get("action") == "counted" for a in reply.actions)
    if counted:
        _record_reply_event(reply, message)
        # The campaign's timeline shows a reply as this verb (campaigns.timeline).
        record_audit_event(
            verb="email.replied",
            campaign=message.campaign,
            target=message,
            metadata={"from": reply.from_email, "reply_id": reply.pk, "category": category},
        )
    for name in names:
        handler = _HANDLERS[name]
        outcome = handler(reply, message, because, actor)
        if outcome is not None:
            done.append(name)
    if counted:
        reply.actions = [
            *reply.actions,
            {
                "action": "counted",
                "why": "a person replied: reply event and webhook",
                "at": timezone.now().isoformat(),
            },
        ]
        emit_event(
            "reply.received",
            client=message.campaign.client_id,
            campaign=message.campaign,
            data={
                "reply_id": reply.pk,
                "message_id": message.pk,
                "lead": lead_data(message.lead),
                "subject": reply.subject,
                "received_at": reply.received_at,
                "category": category,
            },
        )
    reply.save(update_fields=["actions"])
    return done


def _record_reply_event(reply: InboundReply, message: Message) -> None:
    MessageEvent.objects.get_or_create(
        event_key=f"aicmo:reply:{reply.pk}",
        defaults={
            "campaign_id": message.campaign_id,
            "message": message,
            "kind": MessageEventKind.REPLIED,
            "provider": "inbound",
            "occurred_at": reply.received_at,
            "detail": reply.category,
            "created_at": timezone.now(),
        },
    )


def _stop(reply, message, because, actor):
    if stop_enrollments(enrollment_ids=[message.enrollment_id], reason=StopReason.REPLIED):
        _note(reply, "stop", because, actor, enrollment_id=message.enrollment_id)
        return True
    return None


def _mark_replied(reply, message, because, actor):
    lead = message.lead
    lead.refresh_from_db()
    if lead.state != LeadState.CONTACTED:
        return None
    transition_lead(lead=lead, transition="mark_replied", actor=actor, rationale=f"replied: {because}"[:500])
    _note(reply, "mark_replied", because, actor, lead_id=lead.pk)
    return True


def _due_in_one_business_day(campaign) -> dt.datetime:
    local = timezone.now().astimezone(zone_or_utc(campaign.timezone))
    day = add_business_days(local.date(), 1)
    return dt.datetime.combine(day, local.timetz())


def _answer_task(reply, message, because, actor):
    campaign = message.campaign
    _, created = create_reply_task(
        campaign=campaign,
        key=f"reply:{reply.pk}:answer",
        title=f"Answer {reply.get_category_display().lower()} reply #{reply.pk} within one business day",
        how=[f"Reply #{reply.pk}: “{reply.subject[:120]}”", because],
        due_at=_due_in_one_business_day(campaign),
    )
    if created:
        _note(reply, "answer_task", because, actor)
        return True
    return None


def _unsubscribe(reply, message, because, actor):
    unsubscribe_enrollment(enrollment_id=message.enrollment_id, email=message.to_email, source="reply")
    _note(reply, "unsubscribe", because, actor, enrollment_id=message.enrollment_id)
    return True


def _wait(reply, message, because, actor):
    campaign = message.campaign
    if reply.return_date is not None:
        resume_day = add_business_days(reply.return_date, 1)
        resume_at = _local_midnight(resume_day, campaign.timezone)
        why = f"{because} (back on {reply.return_date:%Y-%m-%d}; resumes {resume_day:%Y-%m-%d})"
    else:
        resume_at = timezone.now() + NO_DATE_WAIT
        why = f"{because} (no return date: resumes in 7 days, {resume_at:%Y-%m-%d})"
    enrollment = Enrollment.objects.select_for_update().filter(pk=message.enrollment_id).first()
    if enrollment is None or enrollment.state != EnrollmentState.ACTIVE:
        return None
    # The next step waits: either the enrollment's next due time or the message already scheduled.
    if enrollment.next_send_at is not None and enrollment.next_send_at < resume_at:
        Enrollment.objects.filter(pk=enrollment.pk).update(next_send_at=resume_at)
    Message.objects.filter(
        enrollment_id=enrollment.pk, state__in=PENDING_STATES, scheduled_for__lt=resume_at
    ).update(scheduled_for=resume_at, updated_at=timezone.now())
    _note(reply, "wait", why[:500], actor, resume_at=resume_at.isoformat(), enrollment_id=enrollment.pk)
    return True


def _refer(reply, message, because, actor):
    address = reply.referred_email
    if not address:
        _note(reply, "refer", f"{because} (no referred address given: nothing to add)", actor)
        return None
    campaign = message.campaign
    try:
        with transaction.atomic():
            lead = add_lead(campaign=campaign, email=address, company=message.lead.company, actor=actor)
            # Held until an operator has looked: no cycle enrolls it before the review task is done.
            lead = hold_lead(lead=lead, reason=f"referred by reply #{reply.pk} from {reply.from_email}"[:300])
    except DomainError as exc:
        _note(reply, "refer", f"{because} (not added: {exc})"[:500], actor, referred=address)
        return None
    create_reply_task(
        campaign=campaign,
        key=f"reply:{reply.pk}:refer",
        title=f"Review referred lead #{lead.pk} (from reply #{reply.pk})",
        how=[
            f"Reply #{reply.pk} says the right person is lead #{lead.pk}.",
            'It is held: no cycle writes to it until you release it (Leads, action "Release '
            'for outreach"), or mark it do-not-contact if they should not be written to.',
        ],
        due_at=_due_in_one_business_day(campaign),
    )
    _note(reply, "refer", because, actor, new_lead_id=lead.pk)
    return True


def _bounce(reply, message, because, actor):
    # Tracking's bounce path: the same event row, suppression, stop and circuit breakers as an
    # ESP's bounce webhook (imported here: tracking hands inbound email to this package).
    from ..tracking import TrackingInput, record_tracking_events

    hard = reply.bounce_kind != BounceKind.SOFT
    result = record_tracking_events(
        [
            TrackingInput(
                esp_name="inbox",
                event_type="bounced",
                event_id=f"reply-{reply.pk}",
                metadata={"aicmo_message_id": message.pk},
                timestamp=reply.received_at,
                description=because[:500],
                reject_reason="bounced" if hard else "other",
            )
        ]
    )
    if result.recorded:
        _note(reply, "bounce", because, actor, hard=hard, message_id=message.pk)
        return True
    return None


_HANDLERS = {
    "stop": _stop,
    "mark_replied": _mark_replied,
    "answer_task": _answer_task,
    "unsubscribe": _unsubscribe,
    "wait": _wait,
    "refer": _refer,
    "bounce": _bounce,
}
