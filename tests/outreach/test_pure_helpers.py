from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import signing

from outreach.autoreply import is_auto_reply
from outreach.backoff import retry_delay
from outreach.unsubscribe import (
    list_unsubscribe_headers,
    make_unsubscribe_token,
    read_unsubscribe_token,
)
from outreach.windows import SendWindow, in_window, next_window_opening


def test_full_jitter_stays_within_the_exponential_ceiling():
    rng = random.Random(7)
    for attempt in range(1, 8):
        ceiling = min(3600, 10 * 2**attempt)
        delays = [retry_delay(attempt, base=10, cap=3600, rng=rng) for _ in range(200)]
        assert all(timedelta(0) <= d <= timedelta(seconds=ceiling) for d in delays)
        assert max(delays) > timedelta(seconds=ceiling * 0.8)  # spread over the whole range
    with pytest.raises(ValueError):
        retry_delay(0)


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        # Monday 10:00 UTC is 11:00 in Berlin: inside the window, send now.
        (datetime(2026, 3, 2, 10, 0, tzinfo=UTC), "Europe/Berlin", datetime(2026, 3, 2, 10, 0, tzinfo=UTC)),
        # Monday 10:00 UTC is 05:00 in New York: wait until 09:00 local = 14:00 UTC.
        (
            datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            "America/New_York",
            datetime(2026, 3, 2, 14, 0, tzinfo=UTC),
        ),
        # Friday 17:30 Berlin: next opening is Monday 09:00 Berlin.
        (datetime(2026, 3, 6, 16, 30, tzinfo=UTC), "Europe/Berlin", datetime(2026, 3, 9, 8, 0, tzinfo=UTC)),
        # Unknown zone falls back to UTC.
        (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "Nowhere/Land", datetime(2026, 3, 9, 9, 0, tzinfo=UTC)),
    ],
)
def test_next_window_opening(now, tz, expected):
    assert next_window_opening(now, tz) == expected


def test_custom_window_and_in_window():
    window = SendWindow(start=time(8), end=time(12), weekdays=frozenset({5}))
    saturday_9 = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
    assert in_window(saturday_9, "UTC", window)
    assert not in_window(saturday_9 + timedelta(hours=4), "UTC", window)
    with pytest.raises(ValueError):
        SendWindow(start=time(12), end=time(8))


def test_auto_replies_are_recognised():
    assert is_auto_reply({"Auto-Submitted": "auto-replied"})
    assert not is_auto_reply({"Auto-Submitted": "no"}, "Re: your note")
    assert is_auto_reply({"X-Autoreply": "yes"})
    assert is_auto_reply({"Precedence": "auto_reply"})
    assert is_auto_reply({}, "Out of Office: back on Monday")
    assert is_auto_reply({}, "Automatic reply: Re: Quick question")
    assert is_auto_reply({}, "Abwesenheitsnotiz")
    assert not is_auto_reply({}, "Re: Quick question")


def test_unsubscribe_tokens_are_signed(settings):
    token = make_unsubscribe_token(enrollment_id=42)
    assert read_unsubscribe_token(token).enrollment_id == 42
    with pytest.raises(signing.BadSignature):
        read_unsubscribe_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))


def test_list_unsubscribe_headers_follow_rfc_8058():
    headers = list_unsubscribe_headers(url="https://x.test/u/t/", mailto="unsub@x.test")
    assert headers["List-Unsubscribe"] == "<https://x.test/u/t/>, <mailto:unsub@x.test?subject=unsubscribe>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
