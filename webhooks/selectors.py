"""Reads of the webhooks app: who subscribes to what (cached), and what a user may see."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from campaigns.models import User

from .models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


def _cache_key(client_id: int) -> str:
    return f"webhooks:subscriptions:{client_id}"


def subscribed_types(client_id: int) -> frozenset[str]:
    """The event types the client's active endpoints want. Read on every emit (campaigns.events), so
    cached for AICMO_WEBHOOKS_SUBSCRIPTION_CACHE_SECONDS; endpoint changes clear it
    (``forget_subscriptions``). A cache outage falls back to the database."""
    key = _cache_key(client_id)
    try:
        cached = cache.get(key)
    except Exception:  # the cache is an optimisation: never fail the caller's transaction for it
        logger.warning("webhooks: subscription cache unavailable", exc_info=True)
        cached = None
    if cached is not None:
        return frozenset(cached)
    types: set[str] = set()
    for event_types in WebhookEndpoint.objects.filter(client_id=client_id, is_active=True).values_list(
        "event_types", flat=True
    ):
        types.update(event_types or ())
    try:
        cache.set(key, sorted(types), settings.AICMO_WEBHOOKS_SUBSCRIPTION_CACHE_SECONDS)
    except Exception:
        logger.warning("webhooks: subscription cache unavailable", exc_info=True)
    return frozenset(types)


def forget_subscriptions(client_id: int) -> None:
    try:
        cache.delete(_cache_key(client_id))
    except Exception:
        logger.warning("webhooks: subscription cache unavailable", exc_info=True)


def endpoints_visible_to(user: User) -> QuerySet[WebhookEndpoint]:
    """Staff see every endpoint; a client user only their client's; anyone else nothing."""
    if not user.is_authenticated:
        return WebhookEndpoint.objects.none()
    if user.is_staff:
        return WebhookEndpoint.objects.all()
    if user.client_id:
        return WebhookEndpoint.objects.filter(client_id=user.client_id)
    return WebhookEndpoint.objects.none()


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")
