"""API routes of the deliverables app, mounted under /api/v1/ by aicmo_site/urls.py."""

from django.urls import path

from .api import CampaignPackagesView, PackageDownloadView

_packages = "campaigns/<int:campaign_id>/packages"

urlpatterns = [
    path(f"{_packages}/", CampaignPackagesView.as_view(), name="campaign-packages"),
    path(f"{_packages}/download/", PackageDownloadView.as_view(), name="campaign-package-download"),
]
