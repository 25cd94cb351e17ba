"""Thin Celery tasks: load by id, call a service, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from campaigns.models import Campaign

from .services import enrich_and_score_leads

logger = logging.getLogger(__name__)


@shared_task(name="leads.tasks.enrich_and_score_campaign_leads")
def enrich_and_score_campaign_leads(campaign_id: int, limit: int = 500) -> dict:
    """Enrich and score a campaign's new leads (only new ones: running it twice does nothing more)."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        logger.warning("enrich_and_score_campaign_leads: campaign %s does not exist", campaign_id)
        return {"campaign": campaign_id, "enriched": 0}
    done = enrich_and_score_leads(campaign=campaign, limit=limit)
    return {"campaign": campaign_id, "enriched": done}
