from django.core.management.base import BaseCommand, CommandError

from campaigns.errors import DomainError
from campaigns.selectors import system_switch
from campaigns.services.system_pause import set_system_pause


class Command(BaseCommand):
    help = (
        "Show or flip the global system pause (stops all sending and cycles): "
        "manage.py system_pause [on|off --reason '…']"
    )

    def add_arguments(self, parser):
        parser.add_argument("state", nargs="?", choices=["on", "off", "status"], default="status")
        parser.add_argument(
            "--reason", default="", help="Why (required to change it); kept in the audit log."
        )

    def handle(self, *args, state: str, reason: str, **options):
        if state != "status":
            try:
                set_system_pause(paused=state == "on", actor=None, rationale=reason)
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
        current = system_switch(fresh=True)
        label = "ON: nothing is sent and no cycle runs" if current.paused else "OFF"
        detail = f" ({current.reason})" if current.reason else ""
        self.stdout.write(self.style.SUCCESS(f"System pause is {label}{detail}."))
