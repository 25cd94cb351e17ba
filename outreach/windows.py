"""Send windows in the lead's time zone (default 09:00-17:00, Monday to Friday; a campaign may set
its own: ``outreach.models.SendSchedule``, read by ``services.sending.pacing.campaign_pacing``)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from campaigns.timezones import zone_or_utc


@dataclass(frozen=True)
class SendWindow:
    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: frozenset[int] = frozenset(range(5))  # Monday=0 … Friday=4

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("a send window must start before it ends")
        if not self.weekdays:
            raise ValueError("a send window needs at least one weekday")

    @classmethod
    def of_days(cls, days: str, start: time, end: time) -> SendWindow:
        """From a schedule's stored days ("01234": Monday=0 … Sunday=6)."""
        return cls(start=start, end=end, weekdays=frozenset(int(d) for d in days))


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    return zone_or_utc(name)


def next_window_opening(now: datetime, tz_name: str | None, window: SendWindow = SendWindow()) -> datetime:
    """``now`` if it falls inside the window in that time zone, else the window's next opening (UTC)."""
    tz = _zone(tz_name)
    local = now.astimezone(tz)
    for day in range(8):
        date = (local + timedelta(days=day)).date()
        if date.weekday() not in window.weekdays:
            continue
        opening = datetime.combine(date, window.start, tzinfo=tz)
        closing = datetime.combine(date, window.end, tzinfo=tz)
        if local < closing:
            return max(local, opening).astimezone(UTC)
    raise AssertionError("unreachable: a week always has a window day")


def in_window(now: datetime, tz_name: str | None, window: SendWindow = SendWindow()) -> bool:
    return next_window_opening(now, tz_name, window) == now.astimezone(UTC)
