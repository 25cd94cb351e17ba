"""API routes of the leads app, mounted under /api/v1/ by aicmo_site/urls.py."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = [*router.urls]
