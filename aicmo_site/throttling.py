"""API throttles that fail open, and the per-address counter of failed token authentications.

Throttles keep their counters in the cache (Redis in production). A throttle protects the API; it
must never be what takes it down, so when the cache raises (Redis stopped, unreachable, timing out)
the request is let through and a warning is logged, once per outage and once more when the cache
answers again (not once per request, which would flood the log exactly when it matters).
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle

from .client_address import client_address

logger = logging.getLogger(__name__)

try:  # redis is installed with celery[redis]; other cache backends raise OSError subclasses
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - redis is a dependency
    RedisError = OSError  # type: ignore[misc,assignment]

# What a cache raises when its server is gone: redis-py's errors (ConnectionError, TimeoutError,
# BusyLoadingError, …) and socket-level OSErrors. Anything else is a bug and propagates.
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


class _CacheHealth:
    """Remembers (per process) whether the last cache call failed, to log transitions only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failing = False

    def failed(self, what: str, exc: BaseException) -> None:
        with self._lock:
            first, self.failing = not self.failing, True
        if first:
            logger.warning(
                "Cache unavailable (%s: %s): %s fails open, requests are not throttled until it is back",
                type(exc).__name__,
                exc,
                what,
            )
        else:
            logger.debug("Cache still unavailable for %s: %s", what, exc)

    def ok(self) -> None:
        if not self.failing:
            return
        with self._lock:
            was_failing, self.failing = self.failing, False
        if was_failing:
            logger.warning("Cache available again: API throttling is back on")


cache_health = _CacheHealth()


class FailOpenThrottleMixin:
    """DRF's throttle, except that a cache outage lets the request through with a logged warning."""

    def allow_request(self, request, view) -> bool:
        try:
            allowed = super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            cache_health.failed(f"{type(self).__name__}", exc)
            return True
        if getattr(self, "key", None) is not None:  # the cache was asked (not an exempt request)
            cache_health.ok()
        return allowed


class FailOpenAnonRateThrottle(FailOpenThrottleMixin, AnonRateThrottle):
    pass


class FailOpenUserRateThrottle(FailOpenThrottleMixin, UserRateThrottle):
    pass


class FailOpenAddressScopedRateThrottle(FailOpenThrottleMixin, ScopedRateThrottle):
    """DRF's scoped throttle (``throttle_scope`` on the view, its rate in ``DEFAULT_THROTTLE_RATES``)
    counted per client address as ``aicmo_site.client_address`` sees it, for endpoints anyone may
    call (the token endpoint): DRF's own ``get_ident`` believes a forged ``X-Forwarded-For``."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request) or "unknown"}


# --- failed token authentication, counted per client address ---------------------------------
# Two entries per address, both expiring when its window ends: the failure count (incremented
# atomically, so concurrent failures are all counted) and the window's end (for Retry-After).


def _failure_keys(address: str) -> tuple[str, str]:
    return f"aicmo:auth-failures:{address}", f"aicmo:auth-failures-until:{address}"


def failed_auth_retry_after(address: str | None) -> int | None:
    """Seconds until ``address`` may try a token again, or None when it is not blocked.

    Blocked means ``AICMO_AUTH_FAILURE_LIMIT`` failures within the window of
    ``AICMO_AUTH_FAILURE_WINDOW_SECONDS`` opened by its first failure. Fails open (None) when the
    cache is down.
    """
    if not address:
        return None
    count_key, until_key = _failure_keys(address)
    try:
        entries = cache.get_many([count_key, until_key])
    except CACHE_ERRORS as exc:
        cache_health.failed("the failed-authentication throttle", exc)
        return None
    cache_health.ok()
    if entries.get(count_key, 0) < settings.AICMO_AUTH_FAILURE_LIMIT:
        return None
    now = time.time()
    window_ends = entries.get(until_key) or now + settings.AICMO_AUTH_FAILURE_WINDOW_SECONDS
    if window_ends <= now:  # our clock is past a window the cache has not expired yet
        return None
    return max(1, math.ceil(window_ends - now))


def record_failed_auth(address: str | None) -> None:
    """Count one failed authentication from ``address`` (its first failure opens the window)."""
    if not address:
        return
    count_key, until_key = _failure_keys(address)
    window = settings.AICMO_AUTH_FAILURE_WINDOW_SECONDS
    try:
        now = time.time()
        window_ends = cache.get(until_key)
        if window_ends is not None and window_ends <= now:  # ended by our clock, not yet by the cache's
            cache.delete_many([count_key, until_key])
        if cache.add(count_key, 0, timeout=window):
            cache.set(until_key, now + window, timeout=window)
        try:
            count = cache.incr(count_key)
        except ValueError:  # the window ended between add() and incr(): this failure opens a new one
            cache.set(count_key, 1, timeout=window)
            cache.set(until_key, time.time() + window, timeout=window)
            count = 1
    except CACHE_ERRORS as exc:
        cache_health.failed("the failed-authentication throttle", exc)
        return
    cache_health.ok()
    if count == settings.AICMO_AUTH_FAILURE_LIMIT:
        logger.warning(
            "%d failed API authentications from %s within %d s: token authentication from this "
            "address is refused (429) until the window ends",
            count,
            address,
            window,
        )
