"""Stopping outreach: enrollments stopped with their pending messages, a lead's, and a killed
campaign's."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from campaigns.models import Campaign

from ...models import (
    PENDING_STATES,
    STOPPABLE_ENROLLMENT_STATES,
    Enrollment,
    EnrollmentState,
    Message,
    MessageState,
    StopReason,
)


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
