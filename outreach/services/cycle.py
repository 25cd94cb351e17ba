"""The campaign cycle: discover → dedupe → enrich and score → enroll → schedule → send within caps
→ update states → metrics → auto-pause rules.

`run_cycle` never raises for a campaign's own failure: the error lands in its stats, so `run_all`
goes on with the other campaigns. A lease (``leases.py``), renewed between the stages and before
each send claim, keeps two cycles of one campaign from overlapping and frees the campaign within
``AICMO_CYCLE_LEASE_SECONDS`` when its holder dies.

Beat runs ``dispatch_due_cycles`` through its task: one query finds the active campaigns with work
due whose lease is free, their leases are reserved, and one ``run_campaign_cycle`` task per campaign
goes to the ``cycles`` queue, so every worker process consuming it runs a different campaign.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from campaigns.models import Campaign, CampaignState, PauseKind
from campaigns.selectors import effective_policy
from campaigns.services.transitions import pause_campaign
from leads.adapters.sources import configured_source_names, get_lead_source, records_from_source
from leads.models import Lead, LeadState
from leads.services import bulk_add_leads, enrich_and_score_leads

from ..models import PENDING_STATES, CycleLease, Enrollment, EnrollmentState, Message, Sequence
from .cycle_reasons import cycle_reasons, skipped_cycle_reasons
from .leases import RESERVATION_PREFIX, CycleLeaseHold, LeaseLost, acquire_lease, reserve_leases
from .outage import DatabaseOutage
from .sending import (
    enroll_leads,
    recover_interrupted_sends,
    schedule_due_messages,
    scheduling_room,
    send_due_messages,
)

logger = logging.getLogger(__name__)

GOAL_RULE, LOST_RULE, STALE_RULE = "goal_met", "lost_rate", "no_qualified_after_90_days"
LOST_RATE_LIMIT, LOST_MIN_SAMPLE, STALE_DAYS = 0.5, 10, 90


@dataclass
class CycleStats:
    campaign_id: int
    dry_run: bool
    discovered: int = 0
    enriched: int = 0
    enrolled: int = 0
    scheduled: int = 0
    sent: int = 0
    recorded_dry_run: int = 0
    failed: int = 0
    skipped: int = 0
    rescheduled: int = 0
    cap_reached: bool = False
    paused: bool = False
    pause_reason: str = ""
    skipped_cycle: str = ""
    simulated: bool = False  # a dry run of a live campaign: nothing it did was kept
    errors: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    # Why nothing (or less) went, in sentences an operator can act on (cycle_reasons.py).
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def funnel_numbers(campaign: Campaign) -> dict[str, Any]:
    counts = dict(Lead.objects.filter(campaign=campaign).values_list("state").annotate(n=Count("id")))
    total = sum(counts.values())
    qualified = counts.get(LeadState.QUALIFIED, 0) + counts.get(LeadState.WON, 0)
    return {
        "leads_total": total,
        "by_state": counts,
        "qualified": qualified,
        "lost": counts.get(LeadState.LOST, 0),
        "conversion_rate": round(qualified / total, 4) if total else 0.0,
        "goal_progress": round(qualified / campaign.target_clients, 4) if campaign.target_clients else 0.0,
    }


def auto_pause_reason(campaign: Campaign, numbers: dict[str, Any], now: datetime) -> tuple[str, str]:
    """(rule, human reason) when a rule says pause, else ("", "")."""
    if campaign.target_clients and numbers["qualified"] >= campaign.target_clients:
        return GOAL_RULE, f"Goal met: {numbers['qualified']} qualified ≥ target {campaign.target_clients}."
    total, lost = numbers["leads_total"], numbers["lost"]
    if total >= LOST_MIN_SAMPLE and lost / total > LOST_RATE_LIMIT:
        return LOST_RULE, f"Lost rate {lost / total:.0%} ({lost}/{total}) is over {LOST_RATE_LIMIT:.0%}."
    started = campaign.start_date or campaign.created_at.date()
    age = (now.date() - started).days
    if age > STALE_DAYS and numbers["qualified"] == 0:
        return STALE_RULE, f"{age} days since the start and no qualified lead (limit {STALE_DAYS} days)."
    return "", ""


def run_cycle(
    *,
    campaign_id: int,
    dry_run: bool = True,
    now: datetime | None = None,
    connection=None,
    reservation: str = "",
) -> CycleStats:
    """One campaign's cycle under its lease. ``reservation``: the token of the dispatcher's
    reservation that enqueued this cycle (see ``leases.reserve_leases``)."""
    now = now or timezone.now()
    stats = CycleStats(campaign_id=campaign_id, dry_run=dry_run)
    lease = acquire_lease(campaign_id=campaign_id, reservation=reservation)
    if lease is None:
        stats.skipped_cycle = "another cycle of this campaign is running"
        stats.reasons = skipped_cycle_reasons(stats.skipped_cycle)
        return stats
    try:
        campaign = Campaign.objects.select_related("client").get(pk=campaign_id)
        stats.dry_run = dry_run or not campaign.is_live
        if campaign.state != CampaignState.ACTIVE:
            stats.skipped_cycle = f"campaign is {campaign.state}"
            stats.reasons = skipped_cycle_reasons(stats.skipped_cycle)
            return stats
        if dry_run and campaign.is_live:
            # A dry run of a live campaign is a rehearsal: it must not use up the steps it pretends
            # to send, so everything it wrote is rolled back and only the numbers are kept.
            lease.renews = False  # a renewal written here would be rolled back too
            with transaction.atomic():
                _run_stages(campaign, stats, now=now, dry_run=True, connection=connection, lease=lease)
                transaction.set_rollback(True)
            stats.simulated = True
        else:
            _run_stages(campaign, stats, now=now, dry_run=dry_run, connection=connection, lease=lease)
    except LeaseLost as exc:
        # This holder stalled past its lease and another cycle took the campaign over: stop, and
        # leave the lease (now the other cycle's) alone.
        logger.warning("cycle of campaign %s stopped: %s", campaign_id, exc)
        stats.errors.append(f"stopped: {exc}")
    except Exception as exc:  # one campaign's failure is reported, never allowed to stop the others
        logger.exception("cycle of campaign %s failed", campaign_id)
        stats.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        _release_lease(lease)
    if stats.errors:
        stats.reasons = [f"The cycle failed: {e}" for e in stats.errors]
    return stats


def _release_lease(lease: CycleLeaseHold) -> None:
    """Give the lease back, after reconnecting when the database restarted under the cycle (else
    the campaign would wait for it to expire); never raises: the lease then expires by itself."""
    try:
        DatabaseOutage().call(lease.release, what=f"releasing campaign {lease.campaign_id}'s cycle lease")
    except Exception:
        logger.exception("could not release the cycle lease of campaign %s; it expires", lease.campaign_id)


def _run_stages(
    campaign: Campaign, stats: CycleStats, *, now: datetime, dry_run: bool, connection, lease: CycleLeaseHold
) -> None:
    stats.discovered = _discover(campaign)
    lease.heartbeat()
    stats.enriched = enrich_and_score_leads(campaign=campaign, now=now)
    lease.heartbeat()
    # Work only as far ahead as today's cap reaches: the best-scored leads are enrolled and rendered
    # first, the rest wait (scored) for the next cycles.
    # Read once for the planning stages; the send path re-reads it under the campaign's lock.
    policy = effective_policy(campaign)
    room = scheduling_room(campaign=campaign, now=now, dry_run=dry_run, policy=policy)
    for sequence in Sequence.objects.filter(campaign=campaign, is_active=True):
        stats.enrolled += enroll_leads(
            campaign=campaign, sequence=sequence, now=now, limit=room, policy=policy
        )
    lease.heartbeat()
    stats.scheduled = schedule_due_messages(campaign=campaign, now=now, limit=room, policy=policy)
    lease.heartbeat()
    sent = send_due_messages(
        campaign_id=campaign.pk, now=now, dry_run=dry_run, connection=connection, heartbeat=lease.renew
    )
    stats.sent, stats.recorded_dry_run, stats.failed = sent.sent, sent.dry_run, sent.failed
    stats.skipped, stats.rescheduled, stats.cap_reached = sent.skipped, sent.rescheduled, sent.cap_reached
    lease.heartbeat()
    campaign.refresh_from_db()
    numbers = funnel_numbers(campaign)
    stats.metrics = numbers
    rule, reason = auto_pause_reason(campaign, numbers, now)
    if rule and campaign.state == CampaignState.ACTIVE:
        pause_campaign(
            campaign=campaign,
            rationale=f"Auto-pause: {reason}",
            kind=PauseKind.AUTO_PAUSE,
            metadata={"rule": rule, "numbers": {k: v for k, v in numbers.items() if k != "by_state"}},
        )
        stats.paused, stats.pause_reason = True, reason
    # Read before a rehearsal's rollback: the reasons describe what this cycle left behind.
    stats.reasons = cycle_reasons(campaign=campaign, stats=stats, now=now, send=sent)


def _discover(campaign: Campaign) -> int:
    """Pull new leads from configured third-party sources (none by default: CSV and API push)."""
    found = 0
    for name in configured_source_names():
        adapter = get_lead_source(name)
        query = {"niche": campaign.target_niche, "icp": campaign.icp}
        report = bulk_add_leads(
            campaign=campaign, records=records_from_source(adapter, query=query, limit=100)
        )
        found += report.inserted
    return found


def run_all(*, dry_run: bool = True, now: datetime | None = None, connection=None) -> list[CycleStats]:
    """A cycle for every active campaign, one after the other in this process (commands and the demo;
    beat fans out through ``dispatch_due_cycles``). One campaign's error never stops the others."""
    recover_interrupted_sends(now=now)
    ids = list(
        Campaign.objects.filter(state=CampaignState.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )
    return [run_cycle(campaign_id=pk, dry_run=dry_run, now=now, connection=connection) for pk in ids]


def due_campaign_ids(*, now: datetime | None = None) -> list[int]:
    """Active campaigns whose cycle has work and whose lease is free, in one query whatever their
    number: a message due to send, an enrollment step due to render, a reservation whose task never
    took it, or no cycle for ``AICMO_CYCLE_IDLE_SECONDS`` (which picks up new leads, a new day's
    room under the cap and the time-based auto-pause rule). With third-party lead sources configured,
    every active campaign is due: discovery runs every cycle."""
    now = now or timezone.now()
    lease = CycleLease.objects.filter(campaign_id=OuterRef("pk"))
    idle_since = now - timedelta(seconds=settings.AICMO_CYCLE_IDLE_SECONDS)
    campaigns = Campaign.objects.filter(state=CampaignState.ACTIVE).exclude(
        Exists(lease.filter(expires_at__gte=now))  # held (or reserved) and fresh
    )
    if not configured_source_names():
        campaigns = campaigns.filter(
            Q(
                Exists(
                    Message.objects.filter(
                        campaign_id=OuterRef("pk"), state__in=PENDING_STATES, scheduled_for__lte=now
                    )
                )
            )
            | Q(
                Exists(
                    Enrollment.objects.filter(
                        campaign_id=OuterRef("pk"), state=EnrollmentState.ACTIVE, next_send_at__lte=now
                    )
                )
            )
            # A released lease expired when its cycle ended (see CycleLeaseHold.release) ...
            | ~Q(Exists(lease.filter(expires_at__gte=idle_since)))
            # ... a lapsed reservation means its task never ran (lost, or still waiting in the queue).
            | Q(Exists(lease.filter(holder__startswith=RESERVATION_PREFIX)))
        )
    return list(campaigns.order_by("pk").values_list("pk", flat=True))


@dataclass
class DueCycles:
    """What a dispatch reserved: the campaigns to enqueue, and the token their tasks take the lease with."""

    reservation: str
    campaign_ids: list[int]


def dispatch_due_cycles(*, now: datetime | None = None) -> DueCycles:
    """Find the due campaigns and reserve their leases for the tasks the caller enqueues after this
    returns (committed). Nothing due: two statements (the stale-claim sweep and one SELECT)."""
    now = now or timezone.now()
    try:
        recover_interrupted_sends(now=now)
    except Exception:  # the sweep failing must not hold up every campaign's cycle; it runs again next tick
        logger.exception("recovering interrupted sends failed; dispatching the cycles anyway")
    due = due_campaign_ids(now=now)
    if not due:
        return DueCycles(reservation="", campaign_ids=[])
    with transaction.atomic():
        reservation, reserved = reserve_leases(campaign_ids=due, now=now)
    return DueCycles(reservation=reservation, campaign_ids=reserved)


__all__ = [
    "CycleStats",
    "DueCycles",
    "auto_pause_reason",
    "dispatch_due_cycles",
    "due_campaign_ids",
    "funnel_numbers",
    "run_all",
    "run_cycle",
]
