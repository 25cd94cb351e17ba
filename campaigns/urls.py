"""API routes of the campaigns app, mounted under /api/v1/ by aicmo_site/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import CampaignViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")

urlpatterns = [*router.urls]
