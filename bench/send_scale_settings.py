"""Settings of every process ``bench/send_scale.py`` runs (itself and its Celery workers): the
project's settings, with anymail's real Postmark backend pointed at the loopback fake ESP, and one
shared clock.

- ``DEBUG`` is off, as in production (the rest of the settings are the development defaults).
- The creative spam check (SpamAssassin, ~1.1 s per generated email) is off: it runs when the set-up
  generates each campaign's creatives, not when sending, and took 165 s of a 60-campaign set-up.
- ``ANYMAIL["POSTMARK_API_URL"]`` is not a credential, so ``aicmo_site.settings`` does not read it
  from the environment: it is set here from ``BENCH_FAKE_ESP_URL``.
- Sending happens inside each lead's send window (09:00-17:00 on weekdays). When the benchmark runs
  outside it, every process moves its clock by the same ``BENCH_CLOCK_OFFSET_SECONDS`` (time-machine,
  ticking on from there), so the bench process that dispatches and the workers that send agree on
  the time to the millisecond. ``time.monotonic`` is left alone: the timings use it.
"""

import datetime as _dt
import os as _os

from aicmo_site.settings import *  # noqa: F403
from aicmo_site.settings import ANYMAIL as _ANYMAIL

# Production's database cursor: with DEBUG on, Django formats and keeps every query a worker makes.
DEBUG = False
AICMO_SPAM_SCORE_MAX = None
EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
ANYMAIL = {
    **_ANYMAIL,
    "POSTMARK_SERVER_TOKEN": "bench-server-token",
    "POSTMARK_API_URL": _os.environ.get("BENCH_FAKE_ESP_URL", "http://127.0.0.1:9/"),
}

_offset = float(_os.environ.get("BENCH_CLOCK_OFFSET_SECONDS", "0") or 0)
if _offset:
    import time_machine as _time_machine

    _time_machine.travel(_dt.datetime.now(_dt.UTC) + _dt.timedelta(seconds=_offset), tick=True).start()
