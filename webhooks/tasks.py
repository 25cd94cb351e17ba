"""Thin Celery task of the webhooks app (safe to run twice, and several at once)."""

import logging
from dataclasses import asdict

from celery import shared_task

from .services.dispatch import dispatch

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.tasks.dispatch_webhooks")
def dispatch_webhooks() -> dict:
    """Beat runs this every AICMO_WEBHOOKS_DISPATCH_SECONDS: fan out new events, send what is due."""
    result = asdict(dispatch())
    if any(result.values()):
        logger.info("webhooks dispatched: %s", result)
    return result
