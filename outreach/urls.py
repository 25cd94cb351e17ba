"""API routes of the outreach app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api.inbox import CampaignReplyListView
from .api.operator_tasks import CampaignOperatorTaskListView, OperatorTaskViewSet
from .api.sending import CyclePreviewView, RunCycleView
from .webhooks import batched_tracking_webhook

router = SimpleRouter()
router.register("tasks", OperatorTaskViewSet, basename="operator-task")

urlpatterns = [
    path("campaigns/<int:campaign_id>/run-cycle/", RunCycleView.as_view(), name="campaign-run-cycle"),
    path(
        "campaigns/<int:campaign_id>/cycle-preview/",
        CyclePreviewView.as_view(),
        name="campaign-cycle-preview",
    ),
    path(
        "campaigns/<int:campaign_id>/tasks/",
        CampaignOperatorTaskListView.as_view(),
        name="campaign-operator-tasks",
    ),
    path("campaigns/<int:campaign_id>/replies/", CampaignReplyListView.as_view(), name="campaign-replies"),
    # ESP tracking webhooks, one set-based write per POST (see outreach/webhooks.py)
    path("webhooks/<slug:esp>/tracking/", batched_tracking_webhook, name="tracking-webhook-batched"),
    *router.urls,
]
