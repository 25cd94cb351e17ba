import json

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from outreach.services.cycle import run_cycle


class Command(BaseCommand):
    help = (
        "Run one campaign's cycle (dry run unless --no-dry-run and the campaign is live) and print its stats."
    )

    def add_arguments(self, parser):
        parser.add_argument("--campaign", type=int, required=True, help="Campaign id.")
        parser.add_argument("--no-dry-run", action="store_true", help="Send for real (live campaigns only).")
        parser.add_argument("--json", action="store_true", help="Print the stats as JSON.")

    def handle(self, *args, campaign: int, no_dry_run: bool, json: bool, **options):
        if not Campaign.objects.filter(pk=campaign).exists():
            raise CommandError(f"Campaign {campaign} does not exist.")
        stats = run_cycle(campaign_id=campaign, dry_run=not no_dry_run).as_dict()
        if json:
            self.stdout.write(_json(stats))
            return
        self.stdout.write(format_stats(stats))
        if stats["errors"]:
            raise CommandError("; ".join(stats["errors"]))


def _json(data) -> str:
    return json.dumps(data, indent=2, default=str)


def format_stats(stats: dict) -> str:
    mode = "dry run" if stats["dry_run"] else "live"
    if stats["skipped_cycle"]:
        return f"Campaign {stats['campaign_id']}: skipped ({stats['skipped_cycle']})."
    lines = [
        f"Campaign {stats['campaign_id']} ({mode}):",
        f"  discovered {stats['discovered']}, enriched {stats['enriched']}, enrolled {stats['enrolled']}, "
        f"scheduled {stats['scheduled']}",
        f"  sent {stats['sent']}, recorded (dry run) {stats['recorded_dry_run']}, failed {stats['failed']}, "
        f"skipped {stats['skipped']}, waiting for window/cap {stats['rescheduled']}"
        + ("  [daily cap reached]" if stats["cap_reached"] else ""),
    ]
    if stats["paused"]:
        lines.append(f"  PAUSED: {stats['pause_reason']}")
    if stats["errors"]:
        lines.append("  ERRORS: " + "; ".join(stats["errors"]))
    return "\n".join(lines)
