from django.core.management.base import BaseCommand, CommandError

from campaigns.errors import DomainError
from campaigns.models import Campaign, User
from campaigns.services.transitions import kill_campaign, pause_campaign, resume_campaign

ACTIONS = {"pause": pause_campaign, "resume": resume_campaign, "kill": kill_campaign}


class Command(BaseCommand):
    help = (
        "Pause, resume or kill a campaign: manage.py campaign pause|resume|kill ID --reason '…' "
        "[--as USERNAME]. A campaign a safety rule paused is resumed --as an approver, with a reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=sorted(ACTIONS))
        parser.add_argument("campaign_id", type=int)
        parser.add_argument(
            "--reason",
            default="",
            help="Why (required for kill and for resuming a safety pause); kept in the audit timeline.",
        )
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="Act as this user: their role is checked as in the admin and the API "
            "(campaigns.permissions). Without it the command acts as the system.",
        )

    def handle(self, *args, action: str, campaign_id: int, reason: str, username: str = "", **options):
        if not Campaign.objects.filter(pk=campaign_id).exists():
            raise CommandError(f"Campaign {campaign_id} does not exist.")
        actor = None
        if username:
            actor = User.objects.filter(username=username, is_active=True).first()
            if actor is None:
                raise CommandError(f"No active user {username!r}.")
        try:
            campaign = ACTIONS[action](campaign=campaign_id, actor=actor, rationale=reason)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Campaign {campaign.pk} “{campaign.name}” is now {campaign.state}.")
        )
