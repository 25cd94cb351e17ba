"""What comes back after sending: ESP tracking events, inbound replies, one-click unsubscribes,
and the circuit breakers that pause a campaign whose complaints or bounces run too high."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy as email_policy
from email.message import EmailMessage

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone

from campaigns.errors import TransitionNotAllowedError
from campaigns.events import emit_event, lead_data
from campaigns.models import Campaign, CampaignState, PauseKind
from campaigns.services.audit import record_audit_event
from campaigns.services.transitions import pause_campaign
from leads.services import add_suppression

from ..models import (
    CONFIRMING_EVENT_KINDS,
    InboundReply,
    Message,
    MessageEvent,
    MessageEventKind,
    MessageState,
    SendResolution,
    StopReason,
)
from .inbox.ingest import ingest_email
from .inbox.matching import reply_sender_match
from .mailbox_health import check_mailbox_health
from .sending import settle_unknown_messages, stop_enrollments
from .unsubscribes import unsubscribe_enrollment

__all__ = [
    "TrackingBatchResult",
    "TrackingInput",
    "check_circuit_breakers",
    "record_inbound_email",
    "record_inbound_reply",
    "record_tracking_event",
    "record_tracking_events",
    "reply_sender_match",
    "unsubscribe_enrollment",
]
logger = logging.getLogger(__name__)

# anymail's normalized event types → ours (others, e.g. queued or sent, add nothing we need)
EVENT_KINDS = {
    "delivered": MessageEventKind.DELIVERED,
    "opened": MessageEventKind.OPENED,
    "clicked": MessageEventKind.CLICKED,
    "bounced": MessageEventKind.BOUNCED,
    "deferred": MessageEventKind.DEFERRED,
    "complained": MessageEventKind.COMPLAINED,
    "unsubscribed": MessageEventKind.UNSUBSCRIBED,
    "rejected": MessageEventKind.REJECTED,
    "failed": MessageEventKind.REJECTED,
}
COMPLAINT_WARN, COMPLAINT_PAUSE = 0.001, 0.003
BOUNCE_PAUSE, BOUNCE_MIN_SAMPLE = 0.05, 50
BREAKER_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class TrackingInput:
    """The parts of an anymail AnymailTrackingEvent we use (tests and the batch path build these)."""

    esp_name: str
    event_type: str
    message_id: str | None = None
    event_id: str | None = None
    recipient: str | None = None
    timestamp: datetime | None = None
    metadata: dict | None = None
    description: str = ""
    reject_reason: str | None = None


def _our_message_id(data: TrackingInput) -> int | None:
    ours = str((data.metadata or {}).get("aicmo_message_id") or "")
    return int(ours) if ours.isdigit() else None


def _event_key(data: TrackingInput) -> str:
    if data.event_id:
        return f"{data.esp_name}:{data.event_id}"[:200]
    raw = "|".join(
        str(x)
        for x in (
            data.esp_name,
            data.message_id,
            data.event_type,
            data.recipient,
            data.timestamp.isoformat() if data.timestamp else "",
        )
    )
    return f"{data.esp_name}:h:{hashlib.sha256(raw.encode()).hexdigest()}"[:200]


# Events that only add a row: they never change a message's or a lead's state (a late `delivered`
# never undoes a bounce), except that they settle a message left `unknown` by a dead worker as sent.
PASSIVE_KINDS = frozenset(
    {MessageEventKind.DELIVERED, MessageEventKind.OPENED, MessageEventKind.CLICKED, MessageEventKind.DEFERRED}
)
LOOKUP_BATCH = 1000


def _in_batches(values: list, size: int = LOOKUP_BATCH):
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class TrackingBatchResult:
    recorded: int = 0  # new rows
    duplicates: int = 0  # already stored, or repeated inside the batch
    unknown: int = 0  # no message of ours matches
    ignored: int = 0  # event types we do not keep (queued, sent, …)
    acted: int = 0  # bounces, complaints, unsubscribes and reconciliations acted on


def record_tracking_events(inputs: Iterable[TrackingInput]) -> TrackingBatchResult:
    """Store a batch of tracking events (one ESP webhook POST) with a fixed number of queries for
    the passive ones (delivered, opened, clicked, deferred): one look-up of the keys already stored,
    one or two of the messages, one INSERT … ON CONFLICT DO NOTHING for all of them.

    Same rules as one at a time: deduplicated by provider event id (or a hash of the event), also
    inside the batch; hard bounces, complaints and unsubscribes suppress the address and stop the
    sequence, in the order they came; circuit breakers are checked once per campaign afterwards."""
    result = TrackingBatchResult()
    now = timezone.now()
    keyed: dict[str, tuple[TrackingInput, str]] = {}
    for data in inputs:
        kind = EVENT_KINDS.get(data.event_type)
        if kind is None:
            result.ignored += 1
            continue
        key = _event_key(data)
        if key in keyed:
            result.duplicates += 1
            continue
        keyed[key] = (data, kind)
    if not keyed:
        return result
    stored: set[str] = set()
    for keys in _in_batches(list(keyed)):
        stored.update(MessageEvent.objects.filter(event_key__in=keys).values_list("event_key", flat=True))
    fresh = [(key, data, kind) for key, (data, kind) in keyed.items() if key not in stored]
    result.duplicates += len(keyed) - len(fresh)

    facts = ("pk", "campaign_id", "state", "provider_message_id")
    by_pk: dict[int, tuple] = {}
    ours = sorted({pk for _, data, _ in fresh if (pk := _our_message_id(data)) is not None})
    for pks in _in_batches(ours):
        by_pk.update({row[0]: row for row in Message.objects.filter(pk__in=pks).values_list(*facts)})
    by_provider: dict[str, tuple] = {}
    theirs = sorted(
        {data.message_id for _, data, _ in fresh if data.message_id and (_our_message_id(data) not in by_pk)}
    )
    for provider_ids in _in_batches(theirs):
        by_provider.update(
            {
                row[3]: row
                for row in Message.objects.filter(provider_message_id__in=provider_ids).values_list(*facts)
            }
        )

    rows: list[MessageEvent] = []
    acting: list[tuple[str, TrackingInput, str, int]] = []
    for key, data, kind in fresh:
        message = by_pk.get(_our_message_id(data)) or by_provider.get(data.message_id or "")
        if message is None:
            result.unknown += 1
            logger.info(
                "tracking %s from %s for unknown message %r ignored",
                data.event_type,
                data.esp_name,
                data.message_id,
            )
            continue
        message_pk, campaign_id, state, _ = message
        if kind in PASSIVE_KINDS and state != MessageState.UNKNOWN:
            rows.append(_event_row(key, data, kind, message_pk, campaign_id, now))
        else:
            acting.append((key, data, kind, message_pk))
    if rows:
        # ignore_conflicts: a concurrent POST of the same events may have stored some meanwhile.
        MessageEvent.objects.bulk_create(rows, ignore_conflicts=True, batch_size=LOOKUP_BATCH)
        result.recorded += len(rows)
    if acting:
        messages = Message.objects.select_related("campaign__client", "lead").in_bulk(
            {pk for *_, pk in acting}
        )
        breaker_campaigns: set[int] = set()
        judged_mailboxes: set[int] = set()
        for key, data, kind, message_pk in acting:
            message = messages[message_pk]
            if _record_and_act(key, data, kind, message, now):
                result.recorded += 1
                result.acted += 1
                if kind in (MessageEventKind.BOUNCED, MessageEventKind.COMPLAINED):
                    breaker_campaigns.add(message.campaign_id)
                    if message.mailbox_id:
                        judged_mailboxes.add(message.mailbox_id)
            else:
                result.duplicates += 1
        if judged_mailboxes:  # a mailbox over its bounce or complaint rate pauses itself first
            check_mailbox_health(mailbox_ids=judged_mailboxes, now=now)
        for campaign_id in sorted(breaker_campaigns):
            check_circuit_breakers(campaign_id=campaign_id, now=now)
    return result


def _event_row(
    key: str, data: TrackingInput, kind: str, message_pk: int, campaign_id: int, now: datetime
) -> MessageEvent:
    return MessageEvent(
        campaign_id=campaign_id,
        message_id=message_pk,
        kind=kind,
        event_key=key,
        provider=data.esp_name[:40],
        hard=_is_hard_bounce(kind, data),
        occurred_at=data.timestamp or now,
        detail=(data.description or data.reject_reason or "")[:500],
        created_at=now,
    )


def _record_and_act(key: str, data: TrackingInput, kind: str, message: Message, now: datetime) -> bool:
    """One event that changes state: stored and acted on in one transaction, or neither."""
    try:
        with transaction.atomic():
            event = _event_row(key, data, kind, message.pk, message.campaign_id, now)
            event.save(force_insert=True)
            _act_on(event, message, now)
    except IntegrityError:
        return False  # the same event delivered again: already recorded and acted on
    return True


def record_tracking_event(data: TrackingInput) -> TrackingBatchResult:
    """One tracking event (ESPs that post one per request, and the receiver outside a batch)."""
    return record_tracking_events([data])


SOFT_BOUNCE_REASONS = {"blocked", "timed_out", "spam", "other"}


def _is_hard_bounce(kind: str, data: TrackingInput) -> bool:
    """anymail's reject_reason tells a missing mailbox ("bounced", "invalid") from a block or a
    timeout, which say more about our reputation than about the address."""
    return kind == MessageEventKind.BOUNCED and (data.reject_reason or "bounced") not in SOFT_BOUNCE_REASONS


def _act_on(event: MessageEvent, message: Message, now: datetime) -> None:
    kind = event.kind
    client = message.campaign.client
    if message.state == MessageState.UNKNOWN and kind in CONFIRMING_EVENT_KINDS:
        # A send interrupted after the provider call is settled by the ESP's word, never resent:
        # sent, its enrollment moved on, its cost flagged for booking.
        settle_unknown_messages(message_ids=[message.pk], resolution=SendResolution.CONFIRMED, now=now)
    if kind == MessageEventKind.BOUNCED and event.hard:
        # The address does not exist: nobody should mail it again, whichever client asks.
        add_suppression(
            reason="hard_bounce", email=message.to_email, source=f"{event.provider} bounce", note=event.detail
        )
        stop_enrollments(enrollment_ids=[message.enrollment_id], reason=StopReason.BOUNCED, now=now)
    elif kind == MessageEventKind.COMPLAINED:
        add_suppression(
            reason="complaint", email=message.to_email, client=client, source=f"{event.provider} complaint"
        )
        stop_enrollments(enrollment_ids=[message.enrollment_id], reason=StopReason.COMPLAINED, now=now)
    elif kind == MessageEventKind.UNSUBSCRIBED:
        add_suppression(
            reason="unsubscribed",
            email=message.to_email,
            client=client,
            source=f"{event.provider} unsubscribe",
        )
        stop_enrollments(enrollment_ids=[message.enrollment_id], reason=StopReason.UNSUBSCRIBED, now=now)
    if kind in (MessageEventKind.BOUNCED, MessageEventKind.COMPLAINED):
        data = {"message_id": message.pk, "lead": lead_data(message.lead), "step_id": message.step_id}
        data["provider"] = event.provider
        if kind == MessageEventKind.BOUNCED:
            data.update(hard=event.hard, detail=event.detail)
        emit_event(f"message.{kind}", client=client.pk, campaign=message.campaign, data=data)


def check_circuit_breakers(*, campaign_id: int, now: datetime | None = None) -> str:
    """Over the trailing 7 days: complaints ≥ 0.1 % warn the owner, ≥ 0.3 % pause; hard bounces over
    5 % (after 50 sends) pause. Returns the action taken ("", "warned", "paused")."""
    now = now or timezone.now()
    since = now - BREAKER_WINDOW
    sent = Message.objects.filter(campaign_id=campaign_id, dry_run=False, sent_at__gte=since).count()
    if not sent:
        return ""
    counts = MessageEvent.objects.filter(campaign_id=campaign_id, occurred_at__gte=since).aggregate(
        complaints=Count("id", filter=Q(kind=MessageEventKind.COMPLAINED)),
        bounces=Count("id", filter=Q(kind=MessageEventKind.BOUNCED, hard=True)),
    )
    complaint_rate, bounce_rate = counts["complaints"] / sent, counts["bounces"] / sent
    numbers = {
        "sent_7d": sent,
        "complaints_7d": counts["complaints"],
        "hard_bounces_7d": counts["bounces"],
        "complaint_rate": round(complaint_rate, 5),
        "bounce_rate": round(bounce_rate, 5),
    }
    reason = ""
    if complaint_rate >= COMPLAINT_PAUSE:
        reason = f"Complaint rate {complaint_rate:.2%} over 7 days is at or above {COMPLAINT_PAUSE:.1%}."
    elif sent >= BOUNCE_MIN_SAMPLE and bounce_rate > BOUNCE_PAUSE:
        reason = f"Hard-bounce rate {bounce_rate:.1%} over 7 days is above {BOUNCE_PAUSE:.0%}."
    campaign = Campaign.objects.select_related("owner").get(pk=campaign_id)
    if reason and campaign.state == CampaignState.ACTIVE:
        try:
            pause_campaign(
                campaign=campaign,
                rationale=f"Circuit breaker: {reason}",
                kind=PauseKind.CIRCUIT_BREAKER,
                metadata={"rule": "circuit_breaker", "numbers": numbers},
            )
        except TransitionNotAllowedError:
            return ""
        return "paused"
    if complaint_rate >= COMPLAINT_WARN:
        day = now.date().isoformat()
        already = campaign.audit_events.filter(verb="campaign.complaint_warning", metadata__day=day).exists()
        if not already:
            record_audit_event(
                verb="campaign.complaint_warning",
                campaign=campaign,
                target=campaign,
                rationale=f"Complaint rate {complaint_rate:.2%} ≥ {COMPLAINT_WARN:.1%}.",
                metadata={**numbers, "day": day},
            )
            if campaign.owner and campaign.owner.email:
                owner_email = campaign.owner.email
                transaction.on_commit(
                    lambda: send_mail(
                        f"[AICMO] Complaint rate warning: {campaign.name}",
                        f"Spam complaints on '{campaign.name}' reached {complaint_rate:.2%} over 7 days "
                        f"({counts['complaints']} of {sent} emails). "
                        f"At {COMPLAINT_PAUSE:.1%} it pauses itself.",
                        None,
                        [owner_email],
                        fail_silently=True,
                    )
                )
            return "warned"
    return ""


def record_inbound_reply(
    *,
    from_header: str,
    subject: str,
    text: str,
    headers: dict[str, str],
    message_id_header: str = "",
    received_at: datetime | None = None,
) -> InboundReply | None:
    """An inbound email given in parts (an ESP's parsed fields; tests): built into one email and
    handed to the reply inbox's pipeline (``outreach.services.inbox.ingest``), as IMAP polls are.

    It is matched (In-Reply-To / References, else the sender among our leads, else kept unmatched),
    categorised and acted on: only a reply from the lead's own address acts. An email our
    List-Unsubscribe ``mailto:`` made a mail client write is no reply: it unsubscribes and None is
    returned."""
    email = EmailMessage(policy=email_policy.default)
    for name, value in headers.items():
        if name.lower() in ("from", "subject", "message-id", "content-type", "content-transfer-encoding"):
            continue
        try:
            email[name] = str(value)
        except (ValueError, TypeError):
            continue  # a header the email package refuses: the rest still matches and classifies
    email["From"] = from_header or ""
    email["Subject"] = subject or ""
    if message_id_header:
        email["Message-ID"] = message_id_header
    email.set_content(text or "")
    return record_inbound_email(message=email, received_at=received_at)


def record_inbound_email(
    *, message: EmailMessage, received_at: datetime | None = None
) -> InboundReply | None:
    """A whole inbound email (anymail's inbound signal): the reply inbox's pipeline."""
    try:
        raw = message.as_bytes(policy=email_policy.default.clone(linesep="\r\n"))
    except (UnicodeError, LookupError, ValueError):  # an ESP's odd part: the text is still readable
        raw = message.as_string().encode("utf-8", errors="replace")
    return ingest_email(raw, received_at=received_at)
