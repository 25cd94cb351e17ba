"""API routes of the strategy app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import (
    CampaignBriefView,
    CampaignCalendarView,
    CampaignPlanView,
    CampaignStrategiesView,
    GenerateStrategiesView,
    StrategyVariantViewSet,
)

router = SimpleRouter()
router.register("strategies", StrategyVariantViewSet, basename="strategy-variant")

urlpatterns = [
    path("campaigns/<int:campaign_id>/brief/", CampaignBriefView.as_view(), name="campaign-brief"),
    path(
        "campaigns/<int:campaign_id>/strategies/",
        CampaignStrategiesView.as_view(),
        name="campaign-strategies",
    ),
    path(
        "campaigns/<int:campaign_id>/strategies/generate/",
        GenerateStrategiesView.as_view(),
        name="campaign-strategies-generate",
    ),
    path("campaigns/<int:campaign_id>/plan/", CampaignPlanView.as_view(), name="campaign-plan"),
    path("campaigns/<int:campaign_id>/calendar/", CampaignCalendarView.as_view(), name="campaign-calendar"),
    *router.urls,
]
