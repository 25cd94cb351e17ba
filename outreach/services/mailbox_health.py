"""Health per sending mailbox and per sending domain (docs/senders.md §5).

Over the last ``AICMO_MAILBOX_HEALTH_WINDOW_DAYS`` days, of the live emails a mailbox sent (from its
last resume on, ``SendingMailbox.health_since``): the share that hard-bounced and the share that
drew a complaint. With at least ``AICMO_MAILBOX_HEALTH_MIN_SAMPLE`` emails sent, a rate over its
threshold (``AICMO_MAILBOX_HARD_BOUNCE_RATE``, ``AICMO_MAILBOX_COMPLAINT_RATE``) pauses the mailbox
itself, through the same pause as sender readiness (``is_active`` off, ``paused_reason``, a
``mailbox.paused`` audit event; the webhook event too). A sending domain is judged the same way over
all its mailboxes: an unhealthy domain pauses each of them. The campaign keeps running: its other
mailboxes go on sending, and the paused one's messages wait.

Checked when a bounce or complaint is recorded (``tracking``) and daily with the readiness re-check.
An approver resumes a mailbox (``resume_mailbox_health``, also reached through readiness's override):
its bounces and complaints then count afresh from that moment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from campaigns.errors import DomainError
from campaigns.models import User
from campaigns.permissions import require_action_unless_system
from campaigns.services.audit import record_audit_event

from ..models import Message, MessageEvent, MessageEventKind, SendingMailbox
from .mailboxes import pause_mailbox

logger = logging.getLogger(__name__)

__all__ = [
    "HEALTH_PAUSE_PREFIX",
    "Health",
    "check_mailbox_health",
    "domain_health",
    "is_health_pause",
    "mailbox_health",
    "resume_mailbox_health",
]

HEALTH_PAUSE_PREFIX = "health: "


@dataclass(frozen=True)
class Health:
    sent: int = 0
    hard_bounces: int = 0
    complaints: int = 0

    @property
    def bounce_rate(self) -> float:
        return self.hard_bounces / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    def problems(self) -> list[str]:
        """What is over its threshold; nothing under the minimum sample (a few bounces of a few
        emails say little about a sender)."""
        if self.sent < int(settings.AICMO_MAILBOX_HEALTH_MIN_SAMPLE):
            return []
        days = _window_days()
        bounce_limit, complaint_limit = (
            settings.AICMO_MAILBOX_HARD_BOUNCE_RATE,
            settings.AICMO_MAILBOX_COMPLAINT_RATE,
        )
        found = []
        if self.bounce_rate > bounce_limit:
            found.append(
                f"hard-bounce rate {self.bounce_rate:.1%} "
                f"({self.hard_bounces} of {self.sent} over {days} days) is above {bounce_limit:.1%}"
            )
        if self.complaint_rate > complaint_limit:
            found.append(
                f"complaint rate {self.complaint_rate:.2%} "
                f"({self.complaints} of {self.sent} over {days} days) is above {complaint_limit:.2%}"
            )
        return found

    def numbers(self) -> dict:
        return {
            "sent": self.sent,
            "hard_bounces": self.hard_bounces,
            "complaints": self.complaints,
            "bounce_rate": round(self.bounce_rate, 5),
            "complaint_rate": round(self.complaint_rate, 5),
        }


def _window_days() -> int:
    return int(settings.AICMO_MAILBOX_HEALTH_WINDOW_DAYS)


def _health(messages: Q, since: datetime) -> Health:
    """Emails sent since ``since`` and, of those, how many hard-bounced or drew a complaint (one
    count per message: a provider's repeated event does not count twice)."""
    sent = Message.objects.filter(messages, dry_run=False, sent_at__gte=since)
    counts = MessageEvent.objects.filter(
        message__in=sent, kind__in=(MessageEventKind.BOUNCED, MessageEventKind.COMPLAINED)
    ).aggregate(
        bounces=Count("message", distinct=True, filter=Q(kind=MessageEventKind.BOUNCED, hard=True)),
        complaints=Count("message", distinct=True, filter=Q(kind=MessageEventKind.COMPLAINED)),
    )
    return Health(sent=sent.count(), hard_bounces=counts["bounces"], complaints=counts["complaints"])


def _since(now: datetime, resumed: datetime | None) -> datetime:
    start = now - timedelta(days=_window_days())
    return max(start, resumed) if resumed else start


def mailbox_health(mailbox: SendingMailbox, *, now: datetime | None = None) -> Health:
    now = now or timezone.now()
    return _health(Q(mailbox=mailbox), _since(now, mailbox.health_since))


def _domain_mailboxes(domain: str):
    return SendingMailbox.objects.filter(email__iendswith=f"@{domain}")


def domain_health(domain: str, *, now: datetime | None = None) -> Health:
    """All the domain's mailboxes together, from the latest resume among them on (an approver who
    resumed one has judged the domain too)."""
    now = now or timezone.now()
    boxes = _domain_mailboxes(domain)
    resumed = max((b.health_since for b in boxes if b.health_since), default=None)
    return _health(Q(mailbox__in=boxes), _since(now, resumed))


def is_health_pause(mailbox: SendingMailbox) -> bool:
    return not mailbox.is_active and mailbox.paused_reason.startswith(HEALTH_PAUSE_PREFIX)


def _pause(mailbox_id: int, problems: list[str], health: Health, *, scope: str) -> bool:
    """The readiness pause (``is_active`` off with a reason, audited), said of health."""
    with transaction.atomic():
        locked = SendingMailbox.objects.select_for_update().get(pk=mailbox_id)
        if not locked.is_active:
            return False
        reason = f"{HEALTH_PAUSE_PREFIX}{scope}: " + "; ".join(problems)
        pause_mailbox(
            locked,
            reason=reason,
            rationale=f"mailbox health: {scope}",
            metadata={
                "rule": "mailbox_health",
                "scope": scope,
                "problems": problems,
                "numbers": health.numbers(),
            },
        )
    logger.warning("mailbox %s paused: %s", locked.email, reason)
    return True


def check_mailbox_health(
    *, mailbox_ids: Iterable[int] | None = None, now: datetime | None = None
) -> list[int]:
    """Judge the given active mailboxes (all active ones when None) and their sending domains;
    pause what is unhealthy. Returns the ids paused."""
    now = now or timezone.now()
    boxes = SendingMailbox.objects.filter(is_active=True).order_by("pk")
    if mailbox_ids is not None:
        boxes = boxes.filter(pk__in=list(mailbox_ids))
    paused: list[int] = []
    domains: set[str] = set()
    for box in boxes:
        domains.add(box.domain)
        health = mailbox_health(box, now=now)
        problems = health.problems()
        if problems and _pause(box.pk, problems, health, scope=f"mailbox {box.email}"):
            paused.append(box.pk)
    for domain in sorted(domains):
        health = domain_health(domain, now=now)
        problems = health.problems()
        if not problems:
            continue
        for pk in _domain_mailboxes(domain).filter(is_active=True).values_list("pk", flat=True):
            if _pause(pk, problems, health, scope=f"sending domain {domain}"):
                paused.append(pk)
    return paused


def resume_mailbox_health(*, mailbox: SendingMailbox, actor: User | None, rationale: str) -> SendingMailbox:
    """An approver resumes a mailbox paused for its health, with a rationale (readiness's override
    permission); its bounces and complaints count afresh from now."""
    require_action_unless_system(actor, "mailbox.override_readiness")
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError("Say why this mailbox may send again.", field="rationale")
    with transaction.atomic():
        locked = SendingMailbox.objects.select_for_update().get(pk=mailbox.pk)
        if not is_health_pause(locked):
            return locked
        was = locked.paused_reason
        locked.is_active, locked.paused_reason, locked.health_since = True, "", timezone.now()
        locked.save(update_fields=["is_active", "paused_reason", "health_since"])
        record_audit_event(
            verb="mailbox.resumed",
            actor=actor,
            target=locked,
            rationale=rationale,
            metadata={"mailbox": locked.email, "after": "health", "paused_reason": was},
        )
    return locked
