"""Warm-up: how many emails a mailbox may send today (docs/senders.md, "Mailbox pools and warm-up").

A new address that sends its full cap on day one looks like a spammer's fresh domain to inbox
providers, so a mailbox with a warm-up date starts at its start volume and grows by its daily
increase each day until it reaches its daily cap:

    allowance = min(daily cap, start volume + daily increase * days since the start date)

The one rule: the claim's mailbox room (``services.sending.caps``), the pool's rotation at
scheduling and the admin's "day 6 of warm-up: 17 of 50" all read it from here. Days are the
site's dates (``TIME_ZONE``), like the mailbox's rolling 24-hour count they are compared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

__all__ = ["WarmupStatus", "daily_allowance", "warmup_status"]


@dataclass(frozen=True)
class WarmupStatus:
    allowance: int
    cap: int
    day: int | None = None  # 1 on the start date; None: no warm-up set
    starts_on: date | None = None  # set while the start date is still ahead

    @property
    def warming_up(self) -> bool:
        return self.day is not None and self.allowance < self.cap

    @property
    def label(self) -> str:
        if self.starts_on is not None:
            return f"warm-up starts on {self.starts_on:%Y-%m-%d}: 0 of {self.cap}"
        if self.day is None:
            return f"no warm-up: {self.cap} a day"
        if self.warming_up:
            return f"day {self.day} of warm-up: {self.allowance} of {self.cap}"
        return f"warmed up (day {self.day}): {self.cap} a day"


def warmup_status(mailbox, today: date) -> WarmupStatus:
    """Pure: the mailbox's allowance on ``today`` (reads only its cap and warm-up fields)."""
    cap = mailbox.daily_cap
    started = mailbox.warmup_started_on
    if started is None:
        return WarmupStatus(allowance=cap, cap=cap)
    days = (today - started).days
    if days < 0:  # a warm-up planned for later: the address is not used before it
        return WarmupStatus(allowance=0, cap=cap, starts_on=started)
    grown = mailbox.warmup_start_volume + mailbox.warmup_daily_increase * days
    return WarmupStatus(allowance=min(cap, grown), cap=cap, day=days + 1)


def daily_allowance(mailbox, now: datetime) -> int:
    return warmup_status(mailbox, timezone.localdate(now)).allowance
