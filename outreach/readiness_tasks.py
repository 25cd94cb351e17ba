"""The daily sender readiness re-check (beat: ``sender-readiness-daily`` in settings).

Its own module, imported by ``OutreachConfig.ready()`` so workers register it: ``outreach.tasks``
is the send loop's."""

from __future__ import annotations

from celery import shared_task

from .services.mailbox_health import check_mailbox_health
from .services.readiness import recheck_sender_readiness as _recheck


@shared_task(name="outreach.readiness_tasks.recheck_sender_readiness")
def recheck_sender_readiness() -> dict[str, int]:
    counts = _recheck()
    # the daily look at every mailbox's bounces and complaints too (docs/senders.md §5); its
    # pauses are audited one by one (``mailbox.paused``)
    check_mailbox_health()
    return counts
