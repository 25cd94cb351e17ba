import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from campaigns.models import Campaign
from reporting.services import build_weekly_summary, weeks_to_build
from reporting.tasks import SUMMARISED_STATES


class Command(BaseCommand):
    help = "Build (or rebuild) weekly summaries: last week and this week, per campaign."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, help="Only this campaign id (any state).")
        parser.add_argument("--week", help="Only the ISO week containing this date (YYYY-MM-DD).")

    def handle(self, *args, campaign: int | None, week: str | None, **options):
        if campaign is not None:
            campaigns = list(Campaign.objects.filter(pk=campaign))
            if not campaigns:
                raise CommandError(f"No campaign with id {campaign}.")
        else:
            campaigns = list(Campaign.objects.filter(state__in=SUMMARISED_STATES).order_by("pk"))
        try:
            week_day = dt.date.fromisoformat(week) if week else None
        except ValueError:
            raise CommandError(f"--week must be a date YYYY-MM-DD, got {week!r}.") from None
        now = timezone.now()
        for item in tqdm(
            campaigns, desc="campaigns", unit="campaign", disable=options["verbosity"] < 1, file=self.stderr
        ):
            for monday in [week_day] if week_day else weeks_to_build(item, now):
                summary = build_weekly_summary(campaign=item, week_start=monday)
                self.stdout.write(
                    f"campaign {item.pk} {summary.iso_year}-W{summary.iso_week:02d}: "
                    f"{summary.sent} sent, {summary.replies} replies, "
                    f"{summary.new_qualified_leads} new qualified, "
                    f"tasks {summary.tasks_done}/{summary.tasks_total}, "
                    f"spend {summary.spend:.2f} {summary.currency}"
                )
        self.stdout.write(f"{len(campaigns)} campaign(s) summarised.")
