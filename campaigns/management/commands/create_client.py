from django.core.management.base import BaseCommand, CommandError

from campaigns.errors import DomainError
from campaigns.services.clients import create_client


class Command(BaseCommand):
    help = "Create a client (tenant) and print its id."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name: str, **options):
        try:
            client = create_client(name=name)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(client.pk))
