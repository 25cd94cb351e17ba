"""One fallback for time zone names (campaigns.timezones.zone_or_utc): every reader of a stored
name (send windows, daily caps, quiet hours, reports, operator tasks, admin times) gets UTC for an
empty or unknown one instead of an error."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from campaigns.templatetags.campaign_time import zone_of
from campaigns.timezones import zone_or_utc
from outreach.services.sending.caps import day_bounds
from reporting.selectors.metrics import start_of_local_day

UTC = zoneinfo.ZoneInfo("UTC")


@pytest.mark.parametrize("name", ["", None, "Mars/Olympus_Mons", "../../etc/passwd", "Europe/"])
def test_an_empty_or_unknown_name_reads_as_utc(name):
    assert zone_or_utc(name) == UTC


def test_a_known_name_is_that_zone():
    assert zone_or_utc("Europe/Berlin") == zoneinfo.ZoneInfo("Europe/Berlin")


def test_every_reader_uses_the_same_fallback():
    now = dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC)
    assert day_bounds(now, "Mars/Olympus_Mons")[0] == dt.datetime(2026, 12, 7, tzinfo=UTC)
    assert start_of_local_day("", now) == dt.datetime(2026, 12, 7, tzinfo=UTC)
    assert zone_of(type("C", (), {"timezone": "nowhere"})()) == UTC
    # and a known zone moves the day: 23:30 UTC is already 8 December in Tokyo
    assert day_bounds(now, "Asia/Tokyo")[0].date() == dt.date(2026, 12, 8)
