"""API routes of the outreach app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import CampaignOperatorTaskListView, OperatorTaskViewSet, RunCycleView

router = SimpleRouter()
router.register("tasks", OperatorTaskViewSet, basename="operator-task")

urlpatterns = [
    path("campaigns/<int:campaign_id>/run-cycle/", RunCycleView.as_view(), name="campaign-run-cycle"),
    path(
        "campaigns/<int:campaign_id>/tasks/",
        CampaignOperatorTaskListView.as_view(),
        name="campaign-operator-tasks",
    ),
    *router.urls,
]
