"""Thin Celery tasks of the outreach app (ids in, a service call, safe to run twice)."""

import logging

from celery import shared_task

from .services.cycle import run_all, run_cycle
from .services.operator_tasks import escalate_overdue_tasks as _escalate_overdue_tasks
from .services.operator_tasks import mark_overdue_tasks

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


# --- operator tasks (Campaign Ops) -----------------------------------------------------------------
# Beat entries: "operator-daily-tick" and "operator-weekly-escalation" in aicmo_site/settings.py.


@shared_task(name="outreach.tasks.operator_daily_tick")
def operator_daily_tick() -> dict:
    """Stamp newly overdue operator tasks; safe to run twice (the second run finds nothing new)."""
    return mark_overdue_tasks()


@shared_task(name="outreach.tasks.escalate_overdue_tasks")
def escalate_overdue_tasks() -> dict:
    """One escalation task and owner email per campaign with overdue tasks, once per ISO week."""
    return _escalate_overdue_tasks()
