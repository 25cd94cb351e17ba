"""Thin Celery tasks of the outreach app (ids in, a service call, safe to run twice)."""

import logging

from celery import shared_task

from .services.cycle import run_all, run_cycle

logger = logging.getLogger(__name__)

# --- sending and the campaign cycle --------------------------------------------------------------


@shared_task(name="outreach.tasks.run_campaign_cycle")
def run_campaign_cycle(campaign_id: int, dry_run: bool = True) -> dict:
    """One campaign's cycle. Safe to run twice: the lease and the message claims prevent double work."""
    return run_cycle(campaign_id=campaign_id, dry_run=dry_run).as_dict()


@shared_task(name="outreach.tasks.run_all_cycles")
def run_all_cycles(dry_run: bool = False) -> dict:
    """Beat runs this every few minutes. Live campaigns send; dry-run campaigns only record."""
    results = [stats.as_dict() for stats in run_all(dry_run=dry_run)]
    summary = {
        "campaigns": len(results),
        "sent": sum(r["sent"] for r in results),
        "errors": {r["campaign_id"]: r["errors"] for r in results if r["errors"]},
    }
    logger.info("run_all: %s", summary)
    return summary
