"""Thin Celery tasks: load by id, call a service, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from .retention import retention_pruners
from .selectors import active_campaigns, system_paused
from .services.retention import prune_audit_events
from .services.transitions import complete_campaigns_past_end_date

logger = logging.getLogger(__name__)


@shared_task(name="campaigns.tasks.system_heartbeat")
def system_heartbeat() -> dict:
    """Proves beat → broker → worker → database is alive; the log line is what ops look for."""
    active = active_campaigns().count()
    paused = system_paused(fresh=True)
    logger.info(
        "heartbeat ok at %s: %d active campaign(s)%s",
        timezone.now().isoformat(),
        active,
        " — SYSTEM PAUSED" if paused else "",
    )
    return {"active_campaigns": active, "system_paused": paused}


@shared_task(name="campaigns.tasks.campaign_daily_tick")
def campaign_daily_tick() -> dict:
    if system_paused(fresh=True):
        # The system pause stops every cycle, this one included; the next tick catches up.
        logger.info("daily tick skipped: system pause is on")
        return {"completed": [], "skipped": "system paused"}
    completed = complete_campaigns_past_end_date()
    logger.info("daily tick: completed %d campaign(s) past their end date", len(completed))
    return {"completed": completed}


@shared_task(name="campaigns.tasks.prune_old_audit_events")
def prune_old_audit_events() -> dict:
    """Daily: summarise and delete old non-decision audit events, then run registered pruners
    (e.g. outreach's message events). Runs during a system pause too: it sends nothing."""
    report = prune_audit_events()
    cutoff = timezone.datetime.fromisoformat(report["cutoff"])
    for name, pruner in retention_pruners().items():
        try:
            report[name] = pruner(cutoff=cutoff)
        except Exception:
            logger.exception("retention pruner %s failed", name)
            report[name] = "failed"
    return report
