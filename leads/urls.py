"""API routes of the leads app, mounted under /api/v1/ by aicmo_site/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import CampaignLeadViewSet, SuppressionViewSet

router = SimpleRouter()
router.register(r"campaigns/(?P<campaign_id>\d+)/leads", CampaignLeadViewSet, basename="campaign-lead")
router.register("suppressions", SuppressionViewSet, basename="suppression")

urlpatterns = [*router.urls]
