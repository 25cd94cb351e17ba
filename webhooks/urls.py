"""API routes of the webhooks app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import EventTypesView, WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhooks/endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    path("webhooks/event-types/", EventTypesView.as_view(), name="webhook-event-types"),
    *router.urls,
]
