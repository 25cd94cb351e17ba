"""Thin Celery tasks: load by id, call a service, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from .selectors import active_campaigns
from .services import complete_campaigns_past_end_date

logger = logging.getLogger(__name__)


@shared_task(name="campaigns.tasks.system_heartbeat")
def system_heartbeat() -> dict:
    """Proves beat → broker → worker → database is alive; the log line is what ops look for."""
    active = active_campaigns().count()
    logger.info("heartbeat ok at %s: %d active campaign(s)", timezone.now().isoformat(), active)
    return {"active_campaigns": active}


@shared_task(name="campaigns.tasks.campaign_daily_tick")
def campaign_daily_tick() -> dict:
    completed = complete_campaigns_past_end_date()
    logger.info("daily tick: completed %d campaign(s) past their end date", len(completed))
    return {"completed": completed}
