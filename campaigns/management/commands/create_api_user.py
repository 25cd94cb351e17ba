from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from campaigns.errors import DomainError
from campaigns.models import Client
from campaigns.services.clients import create_client_user


class Command(BaseCommand):
    help = "Create an API user for a client and print its token (re-running prints the existing token)."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="Client id or exact name.")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args, client: str, username: str, email: str, **options):
        found = None
        if client.isdigit():
            found = Client.objects.filter(pk=int(client)).first()
        if found is None:
            found = Client.objects.filter(name__iexact=client.strip()).first()
        if found is None:
            raise CommandError(
                f"No client with id or name {client!r}. Create one with `manage.py create_client NAME`."
            )
        try:
            user, created = create_client_user(client=found, username=username, email=email)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        token, _ = Token.objects.get_or_create(user=user)
        if options["verbosity"] > 1:
            self.stderr.write(f"{'Created' if created else 'Found'} user {user.username} of {found.name}")
        self.stdout.write(token.key)
