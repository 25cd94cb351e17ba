"""Riding out a lost database connection: a PostgreSQL restart or failover takes a second or two,
and a send run in the middle of it holds what its calls in flight returned — answers only it knows.
Rather than die with them (leaving the messages for the sweep to settle as `unknown`), the run
reconnects and writes them, and goes on sending.

Only a lost connection is waited out: an error on a connection that still answers (a constraint, a
lock timeout, a bad query) is raised at once, as before. Nor is anything retried inside an outer
transaction: its earlier writes are gone with the connection, only its owner can start it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

__all__ = ["DatabaseOutage", "connection_lost"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 1.0


# SQLSTATEs of a connection the server ended or refused: class 08 (connection exception) and
# admin_shutdown, crash_shutdown, cannot_connect_now (a restart, a failover).
LOST_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is this thread's database connection gone (closed by the server, refused,
    reset), as opposed to an error the database answered with. psycopg's error says so itself (a
    client-side failure has no SQLSTATE); for others the connection is asked. (Django's atomic
    opens a new connection as it leaves a block whose connection broke, so asking is not enough.)"""
    if not isinstance(exc, (OperationalError, InterfaceError)) or connection.in_atomic_block:
        return False
    cause = exc.__cause__
    if cause is not None and hasattr(cause, "sqlstate"):
        return not cause.sqlstate or cause.sqlstate.startswith(LOST_SQLSTATES)
    return connection.connection is None or not connection.is_usable()


class DatabaseOutage:
    """One run's budget for waiting out lost connections (OUTREACH_DATABASE_OUTAGE_SECONDS from
    the first loss of an outage). ``call(operation)`` runs it, and when the connection is lost closes
    it, waits a little longer each time and runs the operation again — which must therefore be one
    transaction of its own, or safe to repeat. ``outages`` counts them."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = settings.OUTREACH_DATABASE_OUTAGE_SECONDS if seconds is None else seconds
        self.outages = 0

    def call(
        self, operation: Callable[[], T], *, what: str, before_retry: Callable[[], None] | None = None
    ) -> T:
        started, pause = None, FIRST_PAUSE
        while True:
            try:
                result = operation()
            except (OperationalError, InterfaceError) as exc:
                if not connection_lost(exc):
                    raise
                now = time.monotonic()
                if started is None:
                    started = now
                    self.outages += 1
                    logger.warning("lost the database connection while %s; reconnecting: %s", what, exc)
                if now - started >= self.seconds:
                    logger.error("the database stayed unreachable for %.0f s while %s", now - started, what)
                    raise
                connection.close()  # the broken one: the next query connects again
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
                if before_retry is not None:
                    before_retry()
                continue
            if started is not None:
                logger.warning(
                    "the database is back after %.1f s; went on %s", time.monotonic() - started, what
                )
            return result
