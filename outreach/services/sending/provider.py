"""The provider side of a send: the calls that hand claimed messages to the email backend, up to
OUTREACH_SEND_CONCURRENCY of them in flight at once in one worker process.

Provider calls wait on the network (an ESP's API answers in 100-300 ms), so one worker making them
one after another sends 3-10 emails a second. Here they run on the process's send threads
(``SendThreads``), shared by every campaign cycle the process runs at once (the cycles worker runs
several on Celery's threads pool): while one cycle claims or records, the others' calls keep the
threads busy. A run reserves threads before it claims, and claims no more than it reserved, so
what it claims starts at once and a crash leaves only the calls in flight uncertain. A connection
carries one call at a time: each send thread keeps its own HTTP API session (an ESP's, through
anymail) open from run to run, so its keep-alive connection is reused instead of a session and a
TCP connection being made for every few emails; any other connection (an SMTP mailbox's, a
non-HTTP backend) is opened by the run per thread and closed at its end. The threads only build
emails and call the backend — they never touch the database. Every outcome comes back to the run's
own thread, which records it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import requests
from django.core.signals import setting_changed
from django.dispatch import receiver
from requests.utils import get_netrc_auth

from ...errors import TransientSendError
from ...models import MailboxTransport, Message
from ...transports import connection_for
from .compose import build_email


def _read_environment_once(connection) -> None:
    """An HTTP backend's ``requests`` session (anymail's) looks at the environment on every call —
    proxy variables and their bypass list, a CA bundle variable, ``~/.netrc`` — file look-ups that
    took a fifth of the send threads' work besides waiting for the answer (profiled, see
    docs/PERFORMANCE.md). They are read here once, when the connection opens, for its API's URL (every
    call goes to that host), and kept on the session, which then stops looking: the same proxies,
    certificate bundle and credentials, without a look-up per email."""
    session, url = getattr(connection, "session", None), getattr(connection, "api_url", None)
    if not _keeps_alive(connection) or not session.trust_env or not url:
        return
    found = session.merge_environment_settings(url, {}, None, None, None)
    session.proxies, session.verify, session.cert = found["proxies"], found["verify"], found["cert"]
    if session.auth is None:
        session.auth = get_netrc_auth(url)
    session.trust_env = False


def _keeps_alive(connection) -> bool:
    """An HTTP API backend (anymail's): its requests session may stay open between runs."""
    return isinstance(getattr(connection, "session", None), requests.Session)


# Bumped when an email setting changes (Django's ``setting_changed``: tests' override_settings): a
# kept session was made from the old ones, so each thread makes a new one at its next call.
_email_settings_version = 0


@receiver(setting_changed)
def _email_settings_changed(*, setting: str, **kwargs) -> None:
    global _email_settings_version
    if setting.startswith(("EMAIL_", "ANYMAIL")):
        _email_settings_version += 1


def _deliver(message: Message, connection) -> str:
    email = build_email(message, connection)
    sent = connection.send_messages([email])
    if not sent:
        raise TransientSendError("the email backend accepted nothing (0 messages sent)")
    status = getattr(email, "anymail_status", None)
    return (getattr(status, "message_id", None) or "") if status is not None else ""


@dataclass
class ProviderCall:
    """One message handed to the provider: the provider's id for it, or the error the call raised
    (an ``Exception``; anything else — a worker being killed — is not an outcome and propagates)."""

    message: Message
    provider_message_id: str = ""
    error: Exception | None = None
    seconds: float = 0.0


class SendThreads:
    """The worker process's send threads and how many of them are reserved.

    A run reserves threads before it claims (``reserve``) and each reserved call gives its thread
    back when it ends, so reserved calls never wait in the queue: every run in the process together
    has at most ``size`` calls in flight. Calls submitted beyond a reservation (fast calls, claimed by
    the slice) hold no thread of their own and start as threads free up, until their deadline."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.pid = os.getpid()
        self.pool = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="outreach-send")
        self._reserved = 0
        self._changed = threading.Condition()
        self._kept = threading.local()  # each thread's HTTP API session, see kept_connection

    def kept_connection(self):
        """This send thread's site backend connection kept from an earlier run, or None (none yet,
        or made before the email settings changed: then it is closed here)."""
        kept = getattr(self._kept, "connection", None)
        if kept is not None and self._kept.version != _email_settings_version:
            self._kept.connection = None
            with contextlib.suppress(Exception):
                kept.close()
            return None
        return kept

    def keep(self, connection) -> None:
        self._kept.connection, self._kept.version = connection, _email_settings_version

    def free(self) -> int:
        with self._changed:
            return self.size - self._reserved

    def reserve(self, wanted: int, *, least: int = 1) -> int:
        """Up to ``wanted`` threads, if at least ``least`` are free; how many were reserved."""
        with self._changed:
            granted = min(wanted, self.size - self._reserved)
            if granted < max(1, least):
                return 0
            self._reserved += granted
            return granted

    def release(self, count: int = 1) -> None:
        if count <= 0:
            return
        with self._changed:
            self._reserved = max(0, self._reserved - count)
            self._changed.notify_all()

    def wait_for_free(self, *, least: int = 1, timeout: float) -> None:
        """Until ``least`` threads are free (other runs' calls ended) or ``timeout`` seconds passed."""
        self.wait_until(lambda: self.size - self._reserved >= min(least, self.size), timeout=timeout)

    def wait_until(self, predicate: Callable[[], bool], timeout: float) -> None:
        """Until ``predicate`` holds — looked at whenever a call of any run in the process ends — or
        ``timeout`` seconds passed."""
        with self._changed:
            self._changed.wait_for(predicate, timeout=timeout)

    def notify(self, _future: Future | None = None) -> None:
        with self._changed:
            self._changed.notify_all()


_process_threads: SendThreads | None = None
_process_threads_lock = threading.Lock()


def send_threads(size: int) -> SendThreads:
    """This process's send threads (made at first use, and again in a forked child, whose copy has
    no threads; a different ``size`` — a changed setting — makes new ones for the runs after it)."""
    global _process_threads
    with _process_threads_lock:
        threads = _process_threads
        if threads is None or threads.pid != os.getpid() or threads.size != max(1, size):
            threads = _process_threads = SendThreads(size)
        return threads


class Provider:
    """The email backend of one run.

    Given a connection (a caller's own backend object), or with one call at a time configured, its
    calls are made one at a time on the caller's thread. Otherwise they run on the process's send
    threads: each thread the run uses opens, at its first call for it, the message's transport —
    an SMTP mailbox's own server (``outreach.transports.connection_for``), else the configured
    backend — and every connection is closed at the end of the run (``close``)."""

    def __init__(self, connection, *, concurrency: int) -> None:
        self.given = connection
        inline = connection is not None or concurrency <= 1
        self.threads = None if inline else send_threads(concurrency)
        self.concurrency = 1 if self.threads is None else self.threads.size
        self._local = threading.local()
        self._opened: list = []
        self._opened_lock = threading.Lock()
        self._futures: set[Future] = set()  # the run's calls not ended (pool threads discard theirs)
        self._futures_lock = threading.Lock()
        self._halted = threading.Event()  # a call raised what is not an outcome: start no more

    # -- threads: reserved before a claim, so that what is claimed starts at once ----------------

    def reserve(self, wanted: int, *, least: int = 1) -> int:
        if self.threads is None:  # the caller's own thread: one call at a time, made in submit
            return min(wanted, 1)
        return self.threads.reserve(wanted, least=least)

    def release(self, count: int) -> None:
        if self.threads is not None:
            self.threads.release(count)

    def wait_for_free(self, *, least: int = 1, timeout: float) -> None:
        if self.threads is not None:
            self.threads.wait_for_free(least=least, timeout=timeout)

    # -- calls ------------------------------------------------------------------------------------

    def _connection(self, message: Message):
        """The caller's connection, else this thread's connection for the message's transport: its
        SMTP mailbox's own server (opened for the run), or the site's backend for every other
        message (an HTTP API session the thread keeps across runs, else opened for the run)."""
        if self.given is not None:
            return self.given
        opened = getattr(self._local, "connections", None)
        if opened is None:
            opened = self._local.connections = {}
        mailbox = message.mailbox  # loaded by the claim: no query on this thread
        own = mailbox if mailbox is not None and mailbox.transport == MailboxTransport.SMTP else None
        key = own.pk if own is not None else None
        connection = opened.get(key)
        if connection is None and own is None and self.threads is not None:
            connection = self.threads.kept_connection()
            if connection is not None:
                opened[key] = connection
        if connection is None:
            connection = connection_for(own, fail_silently=False)
            connection.open()
            _read_environment_once(connection)
            opened[key] = connection
            if own is None and self.threads is not None and _keeps_alive(connection):
                self.threads.keep(connection)
            else:
                with self._opened_lock:
                    self._opened.append(connection)
        return connection

    def _call(self, message: Message) -> ProviderCall:
        started = time.monotonic()
        try:
            provider_id = _deliver(message, self._connection(message))[:200]
        except Exception as exc:  # an outcome: the caller classifies and records it
            return ProviderCall(message, error=exc, seconds=time.monotonic() - started)
        return ProviderCall(message, provider_message_id=provider_id, seconds=time.monotonic() - started)

    def submit(self, message: Message, *, reserved: bool, deadline: float | None = None) -> Future:
        """Hand one message to the backend; the future's result is its ``ProviderCall``, or None when
        it never started: a ``deadline`` (a ``time.monotonic()`` value) passed while it waited for a
        thread. A ``reserved`` call holds one of the threads the run reserved and gives it back
        when it ends. With no threads (the caller's own connection) the call is made here, on the
        caller's thread, and the future comes back done. A call that raises something that is not
        an outcome (the worker being stopped) makes every later one not start, and its future
        re-raises it."""
        if self.threads is None:
            future: Future = Future()
            try:
                future.set_result(self._start(message, deadline))
            except BaseException as exc:
                future.set_exception(exc)
            return future
        try:
            future = self.threads.pool.submit(self._start, message, deadline)
        except BaseException:
            if reserved:
                self.threads.release(1)
            raise
        # Every call's end wakes the runs waiting on the threads: its own run, and the others, which
        # may claim for a thread it gave back (also when the future is cancelled before it ran).
        future.add_done_callback(self._give_back if reserved else self.threads.notify)
        with self._futures_lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _give_back(self, _future: Future) -> None:
        self.threads.release(1)

    def _forget(self, future: Future) -> None:
        with self._futures_lock:
            self._futures.discard(future)

    def _start(self, message: Message, deadline: float | None) -> ProviderCall | None:
        if self._halted.is_set() or (deadline is not None and time.monotonic() >= deadline):
            return None
        try:
            return self._call(message)
        except BaseException:
            self._halted.set()
            raise

    def close(self) -> None:
        """Cancel the run's calls that have not started, wait for those in flight, then close every
        connection the run opened (the threads and their kept HTTP API sessions stay: other runs
        use them)."""
        with self._futures_lock:
            pending = list(self._futures)
        for future in pending:
            future.cancel()
        wait(pending)
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
