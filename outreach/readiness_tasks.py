"""The daily sender readiness re-check (beat: ``sender-readiness-daily`` in settings).

Its own module, imported by ``OutreachConfig.ready()`` so workers register it: ``outreach.tasks``
is the send loop's."""

from __future__ import annotations

from celery import shared_task

from .services.readiness import recheck_sender_readiness as _recheck


@shared_task(name="outreach.readiness_tasks.recheck_sender_readiness")
def recheck_sender_readiness() -> dict[str, int]:
    return _recheck()
