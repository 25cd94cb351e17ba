"""The reply inbox's polls (beat: ``reply-inbox-poll`` in settings). Its own module, imported by
``OutreachConfig.ready()`` so workers register it: ``outreach.tasks`` is the send loop's.

The beat task fans out one task per mailbox, so a slow or failing server holds up only its own."""

from __future__ import annotations

from celery import shared_task

from .services.inbox.fetch import imap_mailboxes, poll_mailbox


@shared_task(name="outreach.inbox_tasks.poll_reply_inboxes")
def poll_reply_inboxes() -> int:
    ids = list(imap_mailboxes().values_list("pk", flat=True))
    for mailbox_id in ids:
        poll_reply_inbox.delay(mailbox_id)
    return len(ids)


@shared_task(name="outreach.inbox_tasks.poll_reply_inbox")
def poll_reply_inbox(mailbox_id: int) -> dict:
    result = poll_mailbox(mailbox_id)
    return {
        "mailbox": mailbox_id,
        "fetched": result.fetched,
        "recorded": result.recorded,
        "error": result.error,
    }
