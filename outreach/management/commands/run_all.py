from django.core.management.base import BaseCommand
from tqdm import tqdm

from campaigns.models import Campaign, CampaignState
from outreach.services.cycle import run_cycle
from outreach.services.sending import recover_interrupted_sends

from .run_cycle import format_stats


class Command(BaseCommand):
    help = "Run the cycle of every active campaign; one campaign's failure never stops the others."

    def add_arguments(self, parser):
        parser.add_argument("--no-dry-run", action="store_true", help="Send for real (live campaigns only).")

    def handle(self, *args, no_dry_run: bool, **options):
        recover_interrupted_sends()
        ids = list(
            Campaign.objects.filter(state=CampaignState.ACTIVE).order_by("pk").values_list("pk", flat=True)
        )
        failures = 0
        for campaign_id in tqdm(
            ids,
            desc="campaigns",
            unit="campaign",
            disable=not ids or options["verbosity"] < 1,
            file=self.stderr,
        ):
            stats = run_cycle(campaign_id=campaign_id, dry_run=not no_dry_run).as_dict()
            failures += bool(stats["errors"])
            self.stdout.write(format_stats(stats))
        self.stdout.write(f"{len(ids)} active campaign(s), {failures} with errors.")
