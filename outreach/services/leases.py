"""Cycle leases: which process runs a campaign's cycle right now.

A lease lasts ``AICMO_CYCLE_LEASE_SECONDS`` (default 120 s) and its holder renews it while it works
(``CycleLeaseHold.renew``, called between the cycle's stages and before each send claim), so a
crashed holder blocks its campaign for at most that long. Every holder is a fresh random token and
taking a lease over replaces the token, so a renewal is one ``UPDATE … WHERE holder = me``: when it
matches nothing, another cycle took the campaign over and this one stops (``LeaseLost``) before it
claims anything more. Renewal and take-over are single-row UPDATEs, so on PostgreSQL the second of
two racing writers re-reads the row the first committed: never two holders at once.

The dispatcher *reserves* the leases of the campaigns it enqueues (``reserve_leases``): a queued
task carries the reservation token and takes the lease with it, while a second copy of the task
(enqueued again by a later tick while the first waited in the queue) finds the lease held and skips.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import CycleLease

__all__ = [
    "RESERVATION_PREFIX",
    "CycleLeaseHold",
    "LeaseLost",
    "acquire_lease",
    "cycle_running",
    "lease_seconds",
    "reserve_leases",
]

RESERVATION_PREFIX = "queued:"


class LeaseLost(Exception):
    """This cycle's lease was taken over by another cycle: it must stop before doing more."""


def lease_seconds() -> int:
    return int(settings.AICMO_CYCLE_LEASE_SECONDS)


def _expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=lease_seconds())


@dataclass
class CycleLeaseHold:
    """A held lease. ``renew()`` renews it (at most every quarter of its term, one UPDATE) and says
    whether it is still ours; ``heartbeat()`` raises ``LeaseLost`` instead. ``renews=False`` is for a
    rehearsal whose writes are all rolled back: a renewal written there would not be seen by anyone
    (and on PostgreSQL would lock the row until the rollback), so it only checks the holder."""

    campaign_id: int
    holder: str
    renewed_at: datetime
    renews: bool = True
    lost: bool = field(default=False)

    def renew(self) -> bool:
        now = timezone.now()
        if self.lost or now - self.renewed_at < timedelta(seconds=lease_seconds() / 4):
            return not self.lost
        mine = CycleLease.objects.filter(campaign_id=self.campaign_id, holder=self.holder)
        self.lost = not (mine.update(expires_at=_expiry(now)) == 1 if self.renews else mine.exists())
        self.renewed_at = now
        return not self.lost

    def heartbeat(self) -> None:
        if not self.renew():
            raise LeaseLost(f"the cycle lease of campaign {self.campaign_id} was taken over by another cycle")

    def release(self) -> None:
        """Give the lease up (only if still ours). A released lease's expiry is the time it was
        released, which the dispatcher reads as "the campaign's last cycle ended then"."""
        CycleLease.objects.filter(campaign_id=self.campaign_id, holder=self.holder).update(
            expires_at=timezone.now() - timedelta(microseconds=1)
        )


def cycle_running(campaign_id: int) -> bool:
    """Whether a cycle holds the campaign's lease now (a reservation for a queued task is not one)."""
    return (
        CycleLease.objects.filter(campaign_id=campaign_id, expires_at__gt=timezone.now())
        .exclude(holder__startswith=RESERVATION_PREFIX)
        .exists()
    )


def acquire_lease(*, campaign_id: int, reservation: str = "") -> CycleLeaseHold | None:
    """Take the campaign's lease when it is free (expired) or reserved for this task; None when another
    cycle holds it. One UPDATE in the usual case; a campaign's first cycle creates its lease row."""
    now = timezone.now()
    holder = uuid.uuid4().hex
    free = Q(expires_at__lt=now)
    if reservation:
        free |= Q(holder=reservation)
    taken = CycleLease.objects.filter(free, campaign_id=campaign_id).update(
        holder=holder, expires_at=_expiry(now)
    )
    if not taken:
        _, taken = CycleLease.objects.get_or_create(
            campaign_id=campaign_id, defaults={"holder": holder, "expires_at": _expiry(now)}
        )
    return CycleLeaseHold(campaign_id=campaign_id, holder=holder, renewed_at=now) if taken else None


def reserve_leases(*, campaign_ids: list[int], now: datetime | None = None) -> tuple[str, list[int]]:
    """Reserve the free leases of these campaigns for tasks about to be enqueued: (token, reserved ids).
    Three statements whatever the number of campaigns; the rows of campaigns without one are created."""
    if not campaign_ids:
        return "", []
    now = now or timezone.now()
    token = RESERVATION_PREFIX + uuid.uuid4().hex
    CycleLease.objects.bulk_create(
        [
            CycleLease(campaign_id=pk, holder="", expires_at=now - timedelta(microseconds=1))
            for pk in campaign_ids
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    CycleLease.objects.filter(campaign_id__in=campaign_ids, expires_at__lt=now).update(
        holder=token, expires_at=_expiry(now)
    )
    return token, list(
        CycleLease.objects.filter(holder=token).order_by("campaign_id").values_list("campaign_id", flat=True)
    )
