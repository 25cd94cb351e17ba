"""Thin Celery tasks of the outreach app (ids in, a service call, safe to run twice)."""

# --- operator tasks (Campaign Ops) -----------------------------------------------------------------
# Beat entries: "operator-daily-tick" and "operator-weekly-escalation" in aicmo_site/settings.py.

from celery import shared_task

from .services.operator_tasks import escalate_overdue_tasks as _escalate_overdue_tasks
from .services.operator_tasks import mark_overdue_tasks


@shared_task(name="outreach.tasks.operator_daily_tick")
def operator_daily_tick() -> dict:
    """Stamp newly overdue operator tasks; safe to run twice (the second run finds nothing new)."""
    return mark_overdue_tasks()


@shared_task(name="outreach.tasks.escalate_overdue_tasks")
def escalate_overdue_tasks() -> dict:
    """One escalation task and owner email per campaign with overdue tasks, once per ISO week."""
    return _escalate_overdue_tasks()
