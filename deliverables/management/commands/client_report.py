"""`manage.py client_report CAMPAIGN_ID [--monthly] [--send]`: build a campaign's report for the
last complete week (or month) in its client's time zone; with --send, approve it as the system and
send it to the client's recipients at once (without --send it waits in the admin for review)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from deliverables.models import Frequency, ReportState
from deliverables.services import approve_report, build_client_report


class Command(BaseCommand):
    help = "Build a client report for one campaign; --send approves and sends it."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("--monthly", action="store_true", help="The last calendar month, not week.")
        parser.add_argument("--send", action="store_true", help="Approve (as the system) and send now.")

    def handle(self, *args, campaign_id: int, monthly: bool, send: bool, **options):
        campaign = Campaign.objects.select_related("client").filter(pk=campaign_id).first()
        if campaign is None:
            raise CommandError(f"No campaign {campaign_id}.")
        report = build_client_report(
            client=campaign.client,
            campaign=campaign,
            frequency=Frequency.MONTHLY if monthly else Frequency.WEEKLY,
        )
        self.stdout.write(f"Built report {report.pk} ({report}): {report.pdf.name}")
        if not send:
            self.stdout.write("Waiting for review in the admin (Client reports); --send sends it now.")
            return
        report = approve_report(report=report, actor=None, rationale="manage.py client_report --send")
        if report.state != ReportState.SENT:
            raise CommandError(f"Report {report.pk} approved but not sent: {report.last_error}")
        self.stdout.write(f"Sent to {', '.join(report.recipients)}.")
