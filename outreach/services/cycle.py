"""The campaign cycle (the legacy "CAM cycle"): discover → dedupe → enrich and score → enroll →
schedule → send within caps → update states → metrics → auto-pause rules.

`run_cycle` never raises for a campaign's own failure: the error lands in its stats, so `run_all`
goes on with the other campaigns. A lease row keeps two cycles of one campaign from overlapping.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from campaigns.models import Campaign, CampaignState, PauseKind
from campaigns.selectors import effective_policy
from campaigns.services import pause_campaign
from leads.adapters.sources import configured_source_names, get_lead_source, records_from_source
from leads.models import Lead, LeadState
from leads.services import bulk_add_leads, enrich_and_score_leads

from ..models import CycleLease, Sequence
from .sending import (
    enroll_leads,
    mark_stale_sending_unknown,
    schedule_due_messages,
    scheduling_room,
    send_due_messages,
)

logger = logging.getLogger(__name__)

LEASE_SECONDS = 15 * 60
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

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _acquire_lease(campaign_id: int, holder: str, now: datetime) -> bool:
    def take() -> bool:
        return (
            CycleLease.objects.filter(campaign_id=campaign_id, expires_at__lt=now).update(
                holder=holder, expires_at=now + timedelta(seconds=LEASE_SECONDS)
            )
            == 1
        )

    # One UPDATE in the usual case; the campaign's first cycle creates its lease row, held.
    if take():
        return True
    _, created = CycleLease.objects.get_or_create(
        campaign_id=campaign_id,
        defaults={"holder": holder, "expires_at": now + timedelta(seconds=LEASE_SECONDS)},
    )
    return created


def _release_lease(campaign_id: int, holder: str) -> None:
    CycleLease.objects.filter(campaign_id=campaign_id, holder=holder).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


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
    *, campaign_id: int, dry_run: bool = True, now: datetime | None = None, connection=None
) -> CycleStats:
    now = now or timezone.now()
    stats = CycleStats(campaign_id=campaign_id, dry_run=dry_run)
    holder = uuid.uuid4().hex
    if not _acquire_lease(campaign_id, holder, now):
        stats.skipped_cycle = "another cycle of this campaign is running"
        return stats
    try:
        campaign = Campaign.objects.select_related("client").get(pk=campaign_id)
        stats.dry_run = dry_run or not campaign.is_live
        if campaign.state != CampaignState.ACTIVE:
            stats.skipped_cycle = f"campaign is {campaign.state}"
            return stats
        if dry_run and campaign.is_live:
            # A dry run of a live campaign is a rehearsal: it must not use up the steps it pretends
            # to send, so everything it wrote is rolled back and only the numbers are kept.
            with transaction.atomic():
                _run_stages(campaign, stats, now=now, dry_run=True, connection=connection)
                transaction.set_rollback(True)
            stats.simulated = True
        else:
            _run_stages(campaign, stats, now=now, dry_run=dry_run, connection=connection)
    except Exception as exc:  # one campaign's failure is reported, never allowed to stop the others
        logger.exception("cycle of campaign %s failed", campaign_id)
        stats.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        _release_lease(campaign_id, holder)
    return stats


def _run_stages(campaign: Campaign, stats: CycleStats, *, now: datetime, dry_run: bool, connection) -> None:
    stats.discovered = _discover(campaign)
    stats.enriched = enrich_and_score_leads(campaign=campaign, now=now)
    # Work only as far ahead as today's cap reaches: the best-scored leads are enrolled and rendered
    # first, the rest wait (scored) for the next cycles.
    # Read once for the planning stages; the send path re-reads it under the campaign's lock.
    policy = effective_policy(campaign)
    room = scheduling_room(campaign=campaign, now=now, dry_run=dry_run, policy=policy)
    for sequence in Sequence.objects.filter(campaign=campaign, is_active=True):
        stats.enrolled += enroll_leads(
            campaign=campaign, sequence=sequence, now=now, limit=room, policy=policy
        )
    stats.scheduled = schedule_due_messages(campaign=campaign, now=now, limit=room, policy=policy)
    sent = send_due_messages(campaign_id=campaign.pk, now=now, dry_run=dry_run, connection=connection)
    stats.sent, stats.recorded_dry_run, stats.failed = sent.sent, sent.dry_run, sent.failed
    stats.skipped, stats.rescheduled, stats.cap_reached = sent.skipped, sent.rescheduled, sent.cap_reached
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
    """A cycle for every active campaign; one campaign's error never stops the others."""
    mark_stale_sending_unknown(now=now)
    ids = list(
        Campaign.objects.filter(state=CampaignState.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )
    return [run_cycle(campaign_id=pk, dry_run=dry_run, now=now, connection=connection) for pk in ids]


__all__ = ["CycleStats", "auto_pause_reason", "funnel_numbers", "run_all", "run_cycle"]
