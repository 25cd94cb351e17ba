"""The reads pacing needs (docs/senders.md §4), made in the claim and handed to the pure router
(``claims.route_messages``): the campaign's send window and per-domain limit, when each sending
mailbox may send next, and the recipient company domains already emailed today."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Max

from campaigns.models import Campaign
from leads.adapters.offline import FREE_MAIL_DOMAINS

from ...models import Message, SendSchedule
from ...windows import SendWindow
from .caps import COUNTED_STATES, claimed_in_last_day, day_bounds

DEFAULT_WINDOW = SendWindow()

__all__ = [
    "CampaignPacing",
    "MailboxPace",
    "campaign_pacing",
    "company_domain",
    "domains_today",
    "mailbox_pace",
]


@dataclass(frozen=True)
class CampaignPacing:
    window: SendWindow = DEFAULT_WINDOW
    domain_daily_limit: int = 1  # 0: no limit


def campaign_pacing(campaign: Campaign) -> CampaignPacing:
    """The campaign's window and domain limit (no schedule row: the defaults and the setting)."""
    default_limit = int(getattr(settings, "AICMO_DOMAIN_DAILY_LIMIT", 1))
    schedule = SendSchedule.objects.filter(campaign_id=campaign.pk).first()
    if schedule is None:
        return CampaignPacing(domain_daily_limit=default_limit)
    limit = default_limit if schedule.domain_daily_limit is None else schedule.domain_daily_limit
    return CampaignPacing(
        window=SendWindow.of_days(schedule.send_days, schedule.window_start, schedule.window_end),
        domain_daily_limit=limit,
    )


def company_domain(email: str) -> str:
    """The recipient's company domain; "" for a free-mail address (gmail.com says nothing about
    the company, so it is never limited as one)."""
    domain = (email or "").rpartition("@")[2].strip().lower()
    return "" if domain in FREE_MAIL_DOMAINS else domain


@dataclass(frozen=True)
class MailboxPace:
    """When a mailbox may send next (its last send + gap + jitter) and the gap (with this claim's
    jitter) after a send the router takes now."""

    free_at: datetime
    gap: timedelta


def _gap(rng: random.Random) -> timedelta:
    base = max(0, int(getattr(settings, "AICMO_MAILBOX_MIN_GAP_SECONDS", 60)))
    jitter = max(0, int(getattr(settings, "AICMO_MAILBOX_GAP_JITTER_SECONDS", 30)))
    if not base and not jitter:
        return timedelta(0)
    return timedelta(seconds=base + (rng.uniform(0, jitter) if jitter else 0))


def mailbox_pace(
    messages: list[Message], now: datetime, *, dry_run: bool, rng: random.Random | None = None
) -> dict[int, MailboxPace]:
    """For each sending mailbox of ``messages``: one query for its last claim (of this kind, live
    or dry run, across campaigns: an inbox provider judges the address). Empty when no gap is set."""
    rng = rng or random.SystemRandom()
    ids = sorted({m.mailbox_id for m in messages if m.mailbox_id})
    if not ids or _gap(rng) == timedelta(0):
        return {}
    last = dict(
        claimed_in_last_day(ids, now, dry_run=dry_run)
        .values_list("mailbox_id")
        .annotate(last=Max("claimed_at"))
        .values_list("mailbox_id", "last")
    )
    pace = {}
    for pk in ids:
        gap = _gap(rng)  # drawn per mailbox and claim: the sends spread at random, never closer than the base
        pace[pk] = MailboxPace(free_at=last[pk] + gap if pk in last else now, gap=gap)
    return pace


def domains_today(campaign: Campaign, now: datetime, *, dry_run: bool) -> Counter:
    """Recipient company domains the campaign has emailed today (its local date): at most its
    daily cap of rows."""
    start, end = day_bounds(now, campaign.timezone)
    emails = Message.objects.filter(
        campaign=campaign,
        dry_run=dry_run,
        state__in=COUNTED_STATES,
        claimed_at__gte=start,
        claimed_at__lt=end,
    ).values_list("to_email", flat=True)
    return Counter(d for e in emails if (d := company_domain(e)))
