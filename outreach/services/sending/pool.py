"""A sequence's mailbox pool and its leads' threads, read by scheduling (``sequences``).

- **Rotation**: a lead's first email goes from the pool mailbox with the most room today (its
  allowance — the daily cap, or the warm-up's — less what it sent and what already waits on it;
  a paused mailbox has none). With no room anywhere the lead waits for the next cycle, unrendered.
- **Threads**: a lead's follow-ups go from the mailbox that sent its first email, In-Reply-To the
  previous email's Message-ID with References the whole chain, subject "Re: " + the first's unless
  the step has a subject of its own.

A sequence with no pool (only its ``mailbox``, or none) sends every email from that one mailbox,
its daily room checked when it is claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campaigns.models import Campaign

from ...models import Message, SendingMailbox, Sequence
from .caps import pool_room

__all__ = ["PoolRotation", "Thread", "mailbox_for", "sequence_pools", "thread_subject", "threads_of"]

REPLY_PREFIX = "Re: "


def sequence_pools(campaign: Campaign) -> dict[int, list[SendingMailbox]]:
    """Each sequence's pool: its default mailbox first, then the others by id (a tie in room goes
    to the earlier one). Only sequences with two or more mailboxes rotate."""
    pools: dict[int, list[SendingMailbox]] = {}
    sequences = (
        Sequence.objects.filter(campaign=campaign).select_related("mailbox").prefetch_related("mailboxes")
    )
    for sequence in sequences:
        pool = [sequence.mailbox] if sequence.mailbox is not None else []
        pool += sorted(
            (box for box in sequence.mailboxes.all() if box.pk != sequence.mailbox_id), key=lambda b: b.pk
        )
        pools[sequence.pk] = pool
    return pools


class PoolRotation:
    """The room left in every pool mailbox, counted down as first emails are assigned."""

    def __init__(self, pools: dict[int, list[SendingMailbox]], now: datetime, *, dry_run: bool):
        boxes = {box.pk: box for pool in pools.values() if len(pool) > 1 for box in pool}
        self.room = pool_room(list(boxes.values()), now, dry_run=dry_run)

    def pick(self, pool: list[SendingMailbox]) -> SendingMailbox | None:
        """The mailbox with the most room (None: every one is full, paused or not warmed up yet)."""
        best = max(pool, key=lambda box: self.room.get(box.pk, 0))
        if self.room.get(best.pk, 0) <= 0:
            return None
        self.room[best.pk] -= 1
        return best


@dataclass(frozen=True)
class Thread:
    """A lead's emails so far in one enrollment: the first (its mailbox and subject lead the
    thread) and the latest (the follow-up answers it)."""

    first: Message
    previous: Message

    @property
    def references(self) -> str:
        # RFC 5322 §3.6.4: the parent's References followed by the parent's Message-ID.
        chain = [*self.previous.references.split(), self.previous.rfc_message_id]
        return " ".join(ref for ref in chain if ref)


def mailbox_for(
    thread: Thread | None, pool: list[SendingMailbox], rotation: PoolRotation
) -> tuple[SendingMailbox | None, bool]:
    """The mailbox a due step goes from, and whether it waits instead (a first email whose pool has
    no room today). Scheduling and the cycle preview both ask here."""
    if thread is not None and thread.first.mailbox_id is not None:
        return thread.first.mailbox, False  # the mailbox the lead has been writing with
    if thread is None and len(pool) > 1:
        picked = rotation.pick(pool)
        return picked, picked is None
    return (pool[0] if pool else None), False  # the sequence's mailbox (no rotation)


def threads_of(enrollment_ids: list[int]) -> dict[int, Thread]:
    """The thread of each enrollment that already has an email scheduled or sent."""
    rows = (
        Message.objects.filter(enrollment_id__in=enrollment_ids)
        .select_related("mailbox")
        .defer("body_text", "body_html")  # the thread needs ids, subjects and mailboxes only
        .order_by("enrollment_id", "step__position")
    )
    threads: dict[int, Thread] = {}
    for message in rows:
        known = threads.get(message.enrollment_id)
        threads[message.enrollment_id] = Thread(first=known.first if known else message, previous=message)
    return threads


def thread_subject(rendered: str, first_subject: str) -> str:
    """A follow-up's subject: "Re: " + the first email's when the step's own is empty or the same
    (the same creative, or one written to continue the thread); else the step's own."""
    own = rendered.strip()
    if own and own != first_subject.strip():
        return rendered
    if first_subject.lower().startswith("re:"):
        return first_subject
    return f"{REPLY_PREFIX}{first_subject}"
