"""API routes of the outreach app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import RunCycleView

router = SimpleRouter()

urlpatterns = [
    path("campaigns/<int:campaign_id>/run-cycle/", RunCycleView.as_view(), name="campaign-run-cycle"),
    *router.urls,
]
