"""Thin Celery tasks of the outreach app (ids in, a service call, safe to run twice)."""

import logging

from celery import shared_task

from .services.cycle import dispatch_due_cycles, run_cycle
from .services.operator_tasks.escalation import escalate_overdue_tasks as _escalate_overdue_tasks
from .services.operator_tasks.escalation import mark_overdue_tasks

logger = logging.getLogger(__name__)

# --- sending and the campaign cycle --------------------------------------------------------------
# run_campaign_cycle is routed to the "cycles" queue (CELERY_TASK_ROUTES in aicmo_site/settings.py).


@shared_task(name="outreach.tasks.run_campaign_cycle")
def run_campaign_cycle(campaign_id: int, dry_run: bool = True, reservation: str = "") -> dict:
    """One campaign's cycle. Safe to run twice: the lease and the message claims prevent double work."""
    return run_cycle(campaign_id=campaign_id, dry_run=dry_run, reservation=reservation).as_dict()


@shared_task(name="outreach.tasks.dispatch_campaign_cycles")
def dispatch_campaign_cycles(dry_run: bool = False) -> dict:
    """Beat runs this every few minutes: one run_campaign_cycle task per due campaign, enqueued after
    their leases are reserved and committed. Live campaigns send; dry-run campaigns only record."""
    due = dispatch_due_cycles()
    for campaign_id in due.campaign_ids:
        run_campaign_cycle.apply_async(
            kwargs={"campaign_id": campaign_id, "dry_run": dry_run, "reservation": due.reservation}
        )
    summary = {"enqueued": len(due.campaign_ids)}
    logger.info("dispatch_campaign_cycles: %s", summary)
    return summary


@shared_task(name="outreach.tasks.run_all_cycles")
def run_all_cycles(dry_run: bool = False) -> dict:
    """Beat's task before the fan-out; kept so a message queued under this name before an upgrade
    still runs: it dispatches like ``dispatch_campaign_cycles``."""
    return dispatch_campaign_cycles(dry_run=dry_run)


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
