"""API routes of the campaigns app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import CampaignViewSet
from .api_senders import CampaignSenderIdentityView, ClientSenderIdentityView

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")

urlpatterns = [
    *router.urls,
    path(
        "clients/<int:id>/sender-identity/", ClientSenderIdentityView.as_view(), name="client-sender-identity"
    ),
    path(
        "campaigns/<int:id>/sender-identity/",
        CampaignSenderIdentityView.as_view(),
        name="campaign-sender-identity",
    ),
]
