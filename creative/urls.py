"""API routes of the creative app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import CampaignCreativeGenerateView, CampaignCreativeListView, CreativeViewSet

router = SimpleRouter()
router.register("creatives", CreativeViewSet, basename="creative")

urlpatterns = [
    path(
        "campaigns/<int:campaign_id>/creatives/",
        CampaignCreativeListView.as_view(),
        name="campaign-creatives",
    ),
    path(
        "campaigns/<int:campaign_id>/creatives/generate/",
        CampaignCreativeGenerateView.as_view(),
        name="campaign-creatives-generate",
    ),
    *router.urls,
]
