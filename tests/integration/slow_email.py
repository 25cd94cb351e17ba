"""An email backend standing in for a slow ESP API, for worker subprocesses in integration tests.

Each message takes ``AICMO_TEST_SEND_SECONDS`` and is then logged as one JSON line (fsynced) in
``AICMO_TEST_SEND_LOG``: the worker's pid, the campaign, and the real start and end of the call
(time-machine's escape hatch: the workers' clocks travel, the log compares real times).
"""

from __future__ import annotations

import json
import os
import time

from django.core.mail.backends.base import BaseEmailBackend
from time_machine import escape_hatch


class SlowRecordingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        seconds = float(os.environ.get("AICMO_TEST_SEND_SECONDS", "0.5"))
        for email in email_messages:
            start = escape_hatch.time.time()
            time.sleep(seconds)
            line = {
                "pid": os.getpid(),
                "campaign": int(email.metadata["campaign_id"]),
                "to": email.to[0],
                "start": start,
                "end": escape_hatch.time.time(),
            }
            with open(os.environ["AICMO_TEST_SEND_LOG"], "a") as log:
                log.write(json.dumps(line) + "\n")
                log.flush()
                os.fsync(log.fileno())
        return len(email_messages)
