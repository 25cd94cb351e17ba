"""Tasks the reply inbox hands to a person: answer an interested reply, review a referred lead."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services.audit import record_audit_event

from ...models.operator_tasks import OperatorTask, OperatorTaskType

__all__ = ["create_reply_task"]


def create_reply_task(
    *, campaign: Campaign, key: str, title: str, how: list[str], due_at: dt.datetime
) -> tuple[OperatorTask, bool]:
    """A task the reply inbox hands to a person (answer an interested reply, review a referred
    lead). Once per ``key``: the same reply seen again finds its task. Made whatever the campaign's
    state: a lead who wrote back is answered even while the campaign is paused."""
    now = timezone.now()
    task, created = OperatorTask.objects.get_or_create(
        idempotency_key=key[:120],
        defaults={
            "campaign": campaign,
            "task_type": OperatorTaskType.REPLY,
            "title": title[:300],
            "instructions": {
                "key": "reply",
                "version": None,
                "title": title[:300],
                "where": "Admin → Outreach → Inbound replies (the reply inbox).",
                "how": how,
                "tips": ["Answer from the inbox: it goes out through the same mailbox, in the same thread."],
                "common_mistakes": ["Answering from another mailbox, which breaks the thread."],
            },
            "due_at": due_at,
            "created_at": now,
            "updated_at": now,
        },
    )
    if created:
        record_audit_event(
            verb="task.created", campaign=campaign, target=task, metadata={"key": task.idempotency_key}
        )
    return task, created
