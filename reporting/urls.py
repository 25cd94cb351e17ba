"""API routes of the reporting app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path

from .api import (
    CampaignABResultsView,
    CampaignExecutiveSummaryView,
    CampaignMetricsView,
    CampaignOutcomeCreateView,
    CampaignWeeklySummaryListView,
)

_reports = "campaigns/<int:campaign_id>/reports"

urlpatterns = [
    path(f"{_reports}/metrics/", CampaignMetricsView.as_view(), name="campaign-report-metrics"),
    path(f"{_reports}/weekly/", CampaignWeeklySummaryListView.as_view(), name="campaign-report-weekly"),
    path(f"{_reports}/executive/", CampaignExecutiveSummaryView.as_view(), name="campaign-report-executive"),
    path(f"{_reports}/ab/", CampaignABResultsView.as_view(), name="campaign-report-ab"),
    path(
        "campaigns/<int:campaign_id>/outcomes/", CampaignOutcomeCreateView.as_view(), name="campaign-outcomes"
    ),
]
