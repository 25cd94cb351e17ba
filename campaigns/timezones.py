"""Time zones by name: the one place an unknown or empty name falls back to UTC.

Campaigns, leads and policies store IANA names ("Europe/Berlin"); a name saved before it was
checked, or left empty, must not stop a send, a report or a page, so readers use UTC for it.
Writers check names on the way in (``campaigns.services.editing`` refuses an unknown campaign time zone).
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache


@lru_cache(maxsize=256)
def zone_or_utc(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone called ``name``; UTC when it is empty or unknown."""
    try:
        return zoneinfo.ZoneInfo(str(name or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")
