"""`manage.py delivery_package CAMPAIGN_ID`: build the next version of a campaign's package now."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from deliverables.services import build_delivery_package


class Command(BaseCommand):
    help = "Build the next version of a campaign's delivery package (PDF + ZIP of CSV files)."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)

    def handle(self, *args, campaign_id: int, **options):
        campaign = Campaign.objects.select_related("client").filter(pk=campaign_id).first()
        if campaign is None:
            raise CommandError(f"No campaign {campaign_id}.")
        package = build_delivery_package(campaign=campaign)  # the host's operator: the system
        self.stdout.write(
            f"{package}: PDF {package.pdf.name} ({package.pdf_bytes} bytes), "
            f"ZIP {package.archive.name} ({package.archive_bytes} bytes)"
        )
