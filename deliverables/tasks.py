"""Thin Celery tasks of the deliverables app (safe to run twice)."""

import logging

from celery import shared_task

from .services import build_due_reports, build_milestone_packages

logger = logging.getLogger(__name__)


@shared_task(name="deliverables.tasks.client_reports")
def client_reports() -> dict:
    """Beat runs this daily: drafts for the periods that ended, sends what is approved."""
    counts = build_due_reports()
    logger.info("client reports: %s", counts)
    return counts


@shared_task(name="deliverables.tasks.milestone_packages")
def milestone_packages() -> dict:
    """Beat runs this every few minutes: a package after each strategy or creative approval."""
    built = build_milestone_packages()
    return {"packages": len(built)}
