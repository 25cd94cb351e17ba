"""Times as an operator reads them: in the campaign's time zone, with the zone's name.

One helper for every screen: ``campaign_time(value, campaign)`` in Python (admin display methods,
the cycle preview, the API) and ``{{ value|campaign_time:campaign }}`` in templates
(``{% load campaign_time %}``) give "2026-12-07 09:00 Europe/Berlin (CET)". Storage and the
machine-readable outputs (CSV, the API's ISO timestamps) stay in UTC.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import template

from campaigns.timezones import zone_or_utc

register = template.Library()

EMPTY = "—"


def zone_of(where: Any) -> zoneinfo.ZoneInfo:
    """The zone of a campaign (anything with ``.timezone``) or of a zone name; UTC when unknown."""
    return zone_or_utc(getattr(where, "timezone", where))


def zone_label(zone: zoneinfo.ZoneInfo, moment: dt.datetime) -> str:
    """ "Europe/Berlin (CET)", "Europe/Berlin (CEST)" in summer; "UTC" alone."""
    abbreviation = moment.astimezone(zone).tzname() or ""
    return zone.key if abbreviation in ("", zone.key) else f"{zone.key} ({abbreviation})"


@register.filter(name="campaign_time")
def campaign_time(value: Any, where: Any = None, *, seconds: bool = False) -> str:
    """``value`` (an aware datetime; a naive one is read as UTC) in ``where``'s zone, named.
    ``where``: a campaign or a zone name. None and "" show as "—"."""
    if value in (None, ""):
        return EMPTY
    if not isinstance(value, dt.datetime):
        return str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = zone_of(where)
    local = value.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {zone_label(zone, value)}"


@register.filter(name="campaign_time_seconds")
def campaign_time_seconds(value: Any, where: Any = None) -> str:
    """The same with seconds (the audit timeline orders events within a minute)."""
    return campaign_time(value, where, seconds=True)


@register.filter(name="campaign_clock")
def campaign_clock(value: Any, where: Any = None) -> str:
    """Only the local time and zone, for sentences: "09:00 Europe/Berlin"."""
    if not isinstance(value, dt.datetime):
        return EMPTY if value in (None, "") else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = zone_of(where)
    return f"{value.astimezone(zone):%H:%M} {zone.key}"
