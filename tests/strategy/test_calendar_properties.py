"""Property test of calendar slot generation: any cadence over any span stays inside business
hours on weekdays, inside the plan, and never produces the same slot twice."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from hypothesis import given, settings
from hypothesis import strategies as st

from strategy.models import PlanPhase, StrategyVariant
from strategy.services import calendar_slots

CHANNELS = ["email", "linkedin", "instagram", "x"]


@settings(max_examples=40, deadline=None)
@given(
    cadence=st.dictionaries(st.sampled_from(CHANNELS), st.integers(min_value=1, max_value=21), min_size=1),
    start=st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2027, 12, 31)),
    days=st.integers(min_value=1, max_value=120),
    tz_name=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]),
)
def test_slots_are_unique_and_inside_business_hours(cadence, start, days, tz_name):
    end = start + dt.timedelta(days=days - 1)
    variant = StrategyVariant(
        title="t",
        pillars=["a", "b", "c"],
        cadence={ch: {"per_week": n, "content_type": "post"} for ch, n in cadence.items()},
    )
    phases = [PlanPhase(name="all", start_date=start, end_date=end)]
    rows = calendar_slots(variant=variant, phases=phases, start=start, end=end, tz_name=tz_name)
    tz = zoneinfo.ZoneInfo(tz_name)
    keys = [r["slot_key"] for r in rows]
    assert len(keys) == len(set(keys))
    for row in rows:
        local = row["scheduled_at"].astimezone(tz)
        assert start <= local.date() <= end and local.weekday() < 5
        assert dt.time(9, 0) <= local.time() < dt.time(17, 0)
    full_weeks = days // 7
    for channel, per_week in cadence.items():
        assert sum(1 for r in rows if r["platform"] == channel) >= per_week * full_weeks
