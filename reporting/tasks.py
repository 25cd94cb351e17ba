"""Thin Celery tasks of the reporting app (safe to run twice)."""

import logging

from celery import shared_task

from campaigns.models import Campaign, CampaignState

from .services import build_recent_weekly_summaries

logger = logging.getLogger(__name__)

# States whose weeks are still worth summarising (a completed campaign's last week is built by
# the run that follows its completion, while it is still in the last-week window).
SUMMARISED_STATES = (CampaignState.ACTIVE, CampaignState.PAUSED, CampaignState.COMPLETED)


@shared_task(name="reporting.tasks.weekly_summaries")
def weekly_summaries() -> dict:
    """Beat runs this daily: last week's and this week's summary per campaign, updated in place."""
    campaigns = Campaign.objects.filter(state__in=SUMMARISED_STATES).order_by("pk")
    written = build_recent_weekly_summaries(campaigns=campaigns.iterator())
    logger.info("weekly summaries: %s rows built", written)
    return {"summaries": written}
