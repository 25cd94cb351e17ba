"""An email backend standing in for an ESP's API, for worker subprocesses that a test kills.

The ESP accepts a message as the call begins — one line in ``AICMO_TEST_JOURNAL`` (the message's
id, fsynced, so a ``kill -9`` cannot hide it) — and answers ``AICMO_TEST_SEND_SECONDS`` later. A
worker killed while it waits for the answer has handed the message over without knowing it.
"""

from __future__ import annotations

import os
import time

from django.core.mail.backends.base import BaseEmailBackend


class JournalBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        with open(os.environ["AICMO_TEST_JOURNAL"], "a") as journal:
            for email in email_messages:
                journal.write(f"{email.metadata['aicmo_message_id']}\n")
            journal.flush()
            os.fsync(journal.fileno())
        time.sleep(float(os.environ.get("AICMO_TEST_SEND_SECONDS", "0.1")))
        return len(email_messages)
