"""Re-encrypt every mailbox secret with the first key of AICMO_SECRET_KEYS (docs/senders.md).

Rotation: put the new key first in AICMO_SECRET_KEYS (the old ones after it), restart, run this,
then drop the old keys. A secret no configured key opens stops the run (nothing is changed)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from outreach.secrets import InvalidToken
from outreach.services.mailboxes import rotate_mailbox_secrets


class Command(BaseCommand):
    help = "Re-encrypt every mailbox password with the first key of AICMO_SECRET_KEYS."

    def handle(self, *args, **options):
        try:
            count = rotate_mailbox_secrets()
        except InvalidToken as exc:
            raise CommandError(
                "A stored secret opens with none of AICMO_SECRET_KEYS: add the key it was encrypted "
                "with (after the new one) and run again. Nothing was changed."
            ) from exc
        self.stdout.write(f"Re-encrypted {count} mailbox secret(s) with the first key.")
