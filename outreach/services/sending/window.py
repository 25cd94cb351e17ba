"""A send run's pace and its window of calls with the provider: how many messages the next claim
takes (``SlicePace``), and the calls in flight with the answers not recorded yet (``CallWindow``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, wait

import psutil
from django.conf import settings

from ...models import Message
from .provider import Provider, ProviderCall


class SlicePace:
    """How many messages the next claim may have with the provider at once, from the pace measured
    in this run.

    Slow calls — each at least as long as a claim's own database round trip: an ESP's API, a remote
    SMTP relay — are claimed as many as the provider has calls in flight at once (one per send
    thread, OUTREACH_SEND_CONCURRENCY; one when the caller gives its own connection): every claimed
    call starts at once, and a crash leaves exactly the calls in flight uncertain. Fast ones (a local
    relay, files, memory) are claimed as many as fit in OUTREACH_SEND_SLICE_SECONDS at that many in
    flight, up to the chunk size: a commit per message would cost more than the sends. A run's
    first claim takes one call per thread (nothing is measured yet); a dry run calls no provider
    and takes a whole chunk."""

    def __init__(self, *, seconds: float, limit: int, concurrency: int = 1) -> None:
        self.seconds, self.limit = seconds, max(1, limit)
        self.concurrency = max(1, concurrency)
        self.per_call: float | None = None  # one call's own duration, not the slice's over its calls
        self.overhead: float | None = None  # the fastest claim and record seen: the usual round trip

    def size(self, *, dry_run: bool) -> int:
        if dry_run:
            return self.limit
        in_flight = min(self.limit, self.concurrency)
        if self.per_call is None or self.overhead is None or self.per_call >= self.overhead:
            return in_flight
        fit = int(self.seconds * self.concurrency / max(self.per_call, 1e-6))
        return max(in_flight, min(self.limit, fit))

    def record(self, *, calls: int, call_seconds: float, overhead_seconds: float) -> None:
        """Some finished calls, the sum of their durations, and the time the claim and record
        around them took besides the calls (the fastest seen counts, so a slow claim — the
        ranking's refill — does not make calls look fast)."""
        if calls:
            self.per_call = call_seconds / calls
            self.overhead = (
                overhead_seconds if self.overhead is None else min(self.overhead, overhead_seconds)
            )


COLLECT_GRACE_SECONDS = 0.003
# Answers are recorded once as many have come back as a claim refills (a quarter of the threads; half
# while the machine is out of CPU, MachineLoad), or when the oldest has waited this long, or when
# the run has nothing else in flight: a record is a transaction of eight statements, and recording
# every one or two answers took as much of the worker as the claims did (docs/PERFORMANCE.md). An
# answer not yet recorded is as uncertain after a crash as a call in flight, for this long at most —
# and only an accepted one: a refusal or a call that never started is recorded at once, or a crash
# would leave it to be settled as sent.
RECORD_WAIT_SECONDS = 0.05
# The longest a run waits for its calls before it looks again (they end well before: a call's end wakes it).
WAKE_SECONDS = 1.0


class CallWindow:
    """One run's calls with the provider and the outcomes not recorded yet."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.in_flight: dict[Future, Message] = {}
        self.finished: list[tuple[Message, ProviderCall | None]] = []
        self.finished_since = 0.0  # when the oldest answer not yet recorded was taken
        self.not_accepted = False  # an answer taken is an error, or a call never started

    def hand_over(self, messages: list[Message], *, reserved: int, deadline_seconds: float) -> None:
        """Start the first ``reserved`` calls on the threads reserved for them (at once); any more
        (fast calls, claimed by the slice) start as threads free up, until the deadline."""
        deadline = time.monotonic() + deadline_seconds
        for index, message in enumerate(messages):
            is_reserved = index < reserved
            future = self.provider.submit(
                message, reserved=is_reserved, deadline=None if is_reserved else deadline
            )
            self.in_flight[future] = message

    def record_due(self, *, batch: int, ending: bool) -> bool:
        """Whether the answers taken so far are to be recorded now (see RECORD_WAIT_SECONDS)."""
        return bool(self.finished) and (
            ending
            or self.not_accepted
            or not self.in_flight
            or len(self.finished) >= batch
            or time.monotonic() - self.finished_since >= RECORD_WAIT_SECONDS
        )

    def collect(self, *, or_when: Callable[[], bool] | None = None) -> None:
        """Wait for at least one call in flight to finish — or, on the process's send threads, for
        ``or_when`` (threads another run gave back), or for the answers already taken to be due for
        their record — then take every finished one. A call that raised what is not an outcome (the
        worker stopping) re-raises here."""
        if not self.in_flight:
            return
        timeout = WAKE_SECONDS
        if self.finished:
            timeout = max(0.0, self.finished_since + RECORD_WAIT_SECONDS - time.monotonic())
        threads = self.provider.threads
        if threads is not None and or_when is not None:
            in_flight = list(self.in_flight)
            threads.wait_until(
                lambda: or_when() or any(future.done() for future in in_flight), timeout=timeout
            )
            done = {future for future in in_flight if future.done()}
        else:
            done, _ = wait(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        pending = [future for future in self.in_flight if future not in done]
        if done and pending:
            # Calls claimed together answer within a few ms of each other: one record for them.
            done |= wait(pending, timeout=COLLECT_GRACE_SECONDS, return_when=ALL_COMPLETED).done
        if done and not self.finished:
            self.finished_since = time.monotonic()
        for future in done:
            message, call = self.in_flight.pop(future), future.result()
            self.finished.append((message, call))
            self.not_accepted = self.not_accepted or call is None or call.error is not None

    def message_ids(self) -> set[int]:
        """The messages with the provider or answered, not recorded yet."""
        return {message.pk for message in self.in_flight.values()} | {m.pk for m, _ in self.finished}

    def take_finished(self) -> list[tuple[Message, ProviderCall | None]]:
        finished, self.finished, self.not_accepted = self.finished, [], False
        return finished


class MachineLoad:
    """How busy this machine's CPUs are (psutil, read at most every half second), which tells how
    many threads' worth a send run waits for before it claims and records.

    A claim and a record are transactions of a few statements; their cost per message is what the
    worker and the database spend besides the sends. On a machine with CPU to spare a run claims
    once a quarter of its threads are free, which keeps nearly all of them busy (in-flight
    efficiency ≥ 0.8). When the machine is out of CPU (OUTREACH_BUSY_MACHINE_CPU, 80 % by default)
    the threads wait on the CPU rather than on the ESP, and a run waits for half of them: half the
    transactions per message, and more messages a second from the same CPU (4 workers on 2 cores:
    docs/PERFORMANCE.md). Back to a quarter below 20 points under the threshold, so that it does
    not flap at the edge. The reading is the whole machine's (a container's CPU quota is not seen)."""

    SAMPLE_SECONDS = 0.5
    HYSTERESIS = 0.2

    def __init__(self, read: Callable[[], float] | None = None) -> None:
        self._read = read or (lambda: psutil.cpu_percent(interval=None) / 100)
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self.busy = 0.0
        self.loaded = False

    def forget(self) -> None:
        with self._lock:
            self._read_at, self.busy, self.loaded = None, 0.0, False

    def refill_at(self, concurrency: int) -> int:
        """Free threads a run waits for before it claims (and answers before it records)."""
        return max(1, concurrency // (2 if self.is_loaded() else 4))

    def is_loaded(self) -> bool:
        threshold = settings.OUTREACH_BUSY_MACHINE_CPU
        if not 0 < threshold <= 1:
            return False
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < self.SAMPLE_SECONDS:
            return self.loaded
        with self._lock:
            if self._read_at is not None and now - self._read_at < self.SAMPLE_SECONDS:
                return self.loaded
            busy, first = self._read(), self._read_at is None
            self._read_at = now
            if first:  # psutil's first reading in a process is the mean since boot: not a reading
                return self.loaded
            self.busy = busy
            if busy >= threshold:
                self.loaded = True
            elif busy < threshold - self.HYSTERESIS:
                self.loaded = False
        return self.loaded


MACHINE_LOAD = MachineLoad()  # one per process: every run of the process shares its threads
