"""Unsubscribes, whichever way they come: the one-click link (``outreach.views``) and the
List-Unsubscribe ``mailto:`` (an inbound email, ``record_inbound_reply`` hands it here). Both
suppress the address for the campaign's client and stop the sequence; neither is a reply."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from leads.services import add_suppression

from ..addresses import split_address
from ..models import Enrollment, Message, MessageEvent, MessageEventKind, MessageState, StopReason
from ..selectors.sending import unsubscribe_address
from ..unsubscribe import MailtoUnsubscribe
from .sending import stop_enrollments

__all__ = ["record_mailto_unsubscribe", "unsubscribe_enrollment"]
logger = logging.getLogger(__name__)


def unsubscribe_enrollment(*, enrollment_id: int, email: str, source: str = "one-click") -> bool:
    """Suppress the address for the campaign's client and stop the sequence, at once. Idempotent."""
    enrollment = Enrollment.objects.select_related("campaign__client").filter(pk=enrollment_id).first()
    if enrollment is None:
        return False
    with transaction.atomic():
        add_suppression(reason="unsubscribed", email=email, client=enrollment.campaign.client, source=source)
        stop_enrollments(enrollment_ids=[enrollment.pk], reason=StopReason.UNSUBSCRIBED)
        message = enrollment.messages.order_by("-id").first()
        if message is not None:
            MessageEvent.objects.get_or_create(
                event_key=f"aicmo:unsubscribe:{enrollment.pk}",
                defaults={
                    "campaign_id": enrollment.campaign_id,
                    "message": message,
                    "kind": MessageEventKind.UNSUBSCRIBED,
                    "provider": "aicmo",
                    "occurred_at": timezone.now(),
                    "detail": source,
                    "created_at": timezone.now(),
                },
            )
    return True


def record_mailto_unsubscribe(*, request: MailtoUnsubscribe, from_header: str) -> bool:
    """Act on a ``mailto:`` unsubscribe. Its subject's token names the enrollment (as the one-click
    link does, whoever sends it); without one, the sender's latest live message to that address
    does — a mail client's unsubscribe email quotes no Message-ID. False when nothing matches."""
    sender = split_address(from_header)[1].lower()
    if request.link is not None:
        enrollment_id = request.link.enrollment_id
        current = unsubscribe_address(enrollment_id=enrollment_id)
        email = (request.link.email or current) if current else ""
    else:
        message = (
            Message.objects.filter(to_email__iexact=sender, state=MessageState.SENT, dry_run=False)
            .order_by("-sent_at")
            .only("enrollment_id", "to_email")
            .first()
            if sender
            else None
        )
        enrollment_id, email = (message.enrollment_id, message.to_email) if message else (0, "")
    if not email:
        logger.info("mailto unsubscribe from %s matches no enrollment; ignored", sender or "(no sender)")
        return False
    return unsubscribe_enrollment(enrollment_id=enrollment_id, email=email, source="mailto")
