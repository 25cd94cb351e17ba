"""Interrupted sends: stale claims a dead worker left become `unknown` and are settled as sent when a
provider event confirms them or a window passes; sends a crash left unbooked are booked."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.audit import record_audit_event

from ...models import CONFIRMING_EVENT_KINDS, Message, MessageEvent, MessageState, SendResolution
from .budget import book_sent_costs
from .delivery import _advance_enrollments
from .row_updates import update_in_groups

logger = logging.getLogger(__name__)


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
