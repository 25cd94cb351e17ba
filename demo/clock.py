"""Simulated time for the demo: the campaign's days pass in seconds, not by sleeping.

`TravellingClock` moves the process's clock with time-machine, so every service stamps its rows
(audit events, sends, webhooks) with the simulated time, exactly as it would on those days.
`WallClock` leaves time alone (the end-to-end benchmark runs the core path at today's time).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from django.utils import timezone


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def move_to(self, when: dt.datetime) -> None: ...

    def stop(self) -> None: ...


class WallClock:
    def now(self) -> dt.datetime:
        return timezone.now()

    def move_to(self, when: dt.datetime) -> None:  # real time cannot be moved: nothing to do
        return None

    def stop(self) -> None:
        return None


class TravellingClock:
    """Starts at ``start`` and only moves forward when told to (time does not tick by itself)."""

    def __init__(self, start: dt.datetime) -> None:
        import time_machine

        self._current = start
        self._traveller = time_machine.travel(start, tick=False)
        self._coordinates = self._traveller.start()

    def now(self) -> dt.datetime:
        return timezone.now()

    def move_to(self, when: dt.datetime) -> None:
        if when < self._current:
            raise ValueError(f"The demo's clock only moves forward ({when} is before {self._current}).")
        self._current = when
        self._coordinates.move_to(when)

    def stop(self) -> None:
        self._traveller.stop()
