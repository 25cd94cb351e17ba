"""What a campaign may still send today: its daily cap (by its local date), its sending mailboxes'
allowances (their cap, or their warm-up's allowance) and the compliance policy's quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count

from campaigns.models import Campaign
from campaigns.selectors import EffectivePolicy, effective_policy
from campaigns.timezones import zone_or_utc

from ...models import PENDING_STATES, Message, MessageState, SendingMailbox
from ...warmup import daily_allowance


def day_bounds(now: datetime, tz_name: str) -> tuple[datetime, datetime]:
    local = now.astimezone(zone_or_utc(tz_name))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


COUNTED_STATES = (MessageState.SENDING, MessageState.SENT, MessageState.UNKNOWN)


def used_today(campaign: Campaign, now: datetime, *, dry_run: bool) -> int:
    """Messages of this kind (live or dry-run) claimed today, by the campaign's local date: what
    its daily cap has used up."""
    start, end = day_bounds(now, campaign.timezone)
    return Message.objects.filter(
        campaign=campaign,
        dry_run=dry_run,
        state__in=COUNTED_STATES,
        claimed_at__gte=start,
        claimed_at__lt=end,
    ).count()


def scheduling_room(
    *, campaign: Campaign, now: datetime, dry_run: bool, policy: EffectivePolicy | None = None
) -> int:
    """How many more messages the campaign could still send today: its daily cap, less what it has
    sent (or claimed) today and what is already scheduled and due. The cycle renders no more than
    this, so a list of 10,000 leads under a cap of 20 is not rendered 10,000 times on day one (and
    each message is rendered close to when it goes out)."""
    policy = policy or effective_policy(campaign)
    used = used_today(campaign, now, dry_run=dry_run or not campaign.is_live)
    waiting = Message.objects.filter(
        campaign=campaign, state__in=PENDING_STATES, scheduled_for__lte=now
    ).count()
    return max(0, daily_cap(campaign, policy) - used - waiting)


def claimed_in_last_day(mailbox_ids, now: datetime, *, dry_run: bool = False):
    """The messages these mailboxes had claimed in the last 24 hours (live ones, unless ``dry_run``):
    what a mailbox's daily room and its pacing gap both count from."""
    return Message.objects.filter(
        mailbox_id__in=mailbox_ids,
        dry_run=dry_run,
        state__in=COUNTED_STATES,
        claimed_at__gte=now - timedelta(hours=24),
    )


def _claimed_by_mailbox(mailbox_ids, now: datetime, *, dry_run: bool = False) -> dict[int, int]:
    """Messages of each mailbox claimed in the last 24 hours (live ones, unless ``dry_run``)."""
    return dict(
        claimed_in_last_day(mailbox_ids, now, dry_run=dry_run)
        .values_list("mailbox_id")
        .annotate(n=Count("id"))
        .values_list("mailbox_id", "n")
    )


def _allowance(box: SendingMailbox, now: datetime) -> int:
    # A paused mailbox (sender readiness, docs/senders.md) has no room: its messages wait. Else its
    # warm-up allowance: the daily cap once warmed up (outreach.warmup).
    return daily_allowance(box, now) if box.is_active else 0


def mailbox_room(messages: list[Message], now: datetime) -> dict[int, int]:
    mailboxes = {m.mailbox_id: m.mailbox for m in messages if m.mailbox_id}
    if not mailboxes:
        return {}
    used = _claimed_by_mailbox(mailboxes, now)
    return {pk: _allowance(box, now) - used.get(pk, 0) for pk, box in mailboxes.items()}


def pool_room(mailboxes: list[SendingMailbox], now: datetime, *, dry_run: bool) -> dict[int, int]:
    """Room left for new first emails in each pool mailbox: its allowance less what it sent in the
    last 24 hours (of the campaign's kind, so a dry run rotates as a live one would) and less the
    messages already waiting on it (scheduled or retrying: they will use the same room)."""
    if not mailboxes:
        return {}
    ids = [box.pk for box in mailboxes]
    used = _claimed_by_mailbox(ids, now, dry_run=dry_run)
    waiting = dict(
        Message.objects.filter(mailbox_id__in=ids, state__in=PENDING_STATES)
        .values_list("mailbox_id")
        .annotate(n=Count("id"))
        .values_list("mailbox_id", "n")
    )
    return {box.pk: _allowance(box, now) - used.get(box.pk, 0) - waiting.get(box.pk, 0) for box in mailboxes}


def quiet_hours_reason(campaign: Campaign, policy, now: datetime) -> str:
    """The compliance policy's quiet hours, in the campaign's time zone (may run past midnight)."""
    start, end = policy.quiet_hours_start, policy.quiet_hours_end
    if start is None or end is None:
        return ""
    local = now.astimezone(zone_or_utc(campaign.timezone)).time()
    inside = start <= local < end if start < end else (local >= start or local < end)
    return f"quiet hours {start:%H:%M}-{end:%H:%M} ({campaign.timezone})" if inside else ""


def daily_cap(campaign: Campaign, policy) -> int:
    volume = policy.max_daily_volume
    return campaign.daily_email_cap if volume is None else min(campaign.daily_email_cap, volume)
