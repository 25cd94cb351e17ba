"""Retry timing for transient send failures: exponential backoff with full jitter.

delay = random(0, min(cap, base * 2**attempt)) — AWS's "full jitter", which spreads retries of
many failed messages instead of sending them back to a struggling provider all at once.
"""

from __future__ import annotations

import random
from datetime import timedelta

DEFAULT_BASE_SECONDS = 60.0
DEFAULT_CAP_SECONDS = 6 * 60 * 60.0
DEFAULT_MAX_ATTEMPTS = 5


def retry_delay(
    attempt: int,
    *,
    base: float = DEFAULT_BASE_SECONDS,
    cap: float = DEFAULT_CAP_SECONDS,
    rng: random.Random | None = None,
) -> timedelta:
    """Delay before retry number ``attempt`` (1 for the first retry)."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    ceiling = min(cap, base * (2**attempt))
    return timedelta(seconds=(rng or random).uniform(0, ceiling))
