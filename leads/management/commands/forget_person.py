"""manage.py forget_person EMAIL --reason '…'  (right to erasure)"""

from django.core.management.base import BaseCommand, CommandError

from campaigns.errors import DomainError
from leads.services import forget_person


class Command(BaseCommand):
    help = "Erase a person's data from leads (every campaign) and keep only a hashed suppression entry."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--reason", default="", help="Why (e.g. the request's ticket); kept in the audit log."
        )

    def handle(self, *args, email: str, reason: str, **options):
        try:
            result = forget_person(email=email, rationale=reason)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased: {result.leads_anonymized} leads anonymized, {result.history_rows_deleted} "
                f"history rows and {result.consent_records_deleted} consent records deleted; "
                f"digest {result.digest[:12]}…"
            )
        )
