"""The provider side of a send: the email built from a Message, and the calls that hand a slice to
the email backend, up to OUTREACH_SEND_CONCURRENCY of them in flight at once.

Provider calls wait on the network (an ESP's API answers in 100-300 ms), so one worker making them
one after another sends 3-10 emails a second. Here a slice's calls run on a small thread pool, each
thread with its own connection (a backend connection carries one call at a time); the threads only
build emails and call the backend — they read the claimed Message objects and never touch the
database. Every outcome comes back to the caller's thread, which writes it in the slice's
transaction, still under the campaign's share lock a kill waits for.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from ...errors import TransientSendError
from ...models import Message
from ...unsubscribe import list_unsubscribe_headers


def _build_email(message: Message, connection) -> EmailMultiAlternatives:
    headers = {"X-AICMO-Message": str(message.pk)}
    headers.update(
        list_unsubscribe_headers(url=message.unsubscribe_url, mailto=settings.AICMO_UNSUBSCRIBE_MAILTO)
    )
    headers["Message-ID"] = message.rfc_message_id
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_email,
        to=[message.to_email],
        headers=headers,
        connection=connection,
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    # Read by anymail ESP backends (ignored by others): lets tracking webhooks name our message.
    email.metadata = {"aicmo_message_id": str(message.pk), "campaign_id": str(message.campaign_id)}
    email.tags = [f"campaign-{message.campaign_id}"]
    return email


def _deliver(message: Message, connection) -> str:
    email = _build_email(message, connection)
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


class Provider:
    """The email backend of one run.

    Given a connection (a caller's own backend object), its calls are made one at a time on the
    caller's thread: one connection object carries one call at a time. Otherwise the configured
    backend is opened once per pool thread, at that thread's first call, and every connection is
    closed at the end of the run (``close``); up to ``concurrency`` calls are in flight at once."""

    def __init__(self, connection, *, concurrency: int) -> None:
        self.given = connection
        self.concurrency = 1 if connection is not None else max(1, concurrency)
        self._local = threading.local()
        self._opened: list = []
        self._opened_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._halted = threading.Event()  # a call raised what is not an outcome: start no more

    def _connection(self):
        if self.given is not None:
            return self.given
        opened = getattr(self._local, "connection", None)
        if opened is None:
            opened = get_connection(fail_silently=False)
            opened.open()
            self._local.connection = opened
            with self._opened_lock:
                self._opened.append(opened)
        return opened

    def _call(self, message: Message) -> ProviderCall:
        started = time.monotonic()
        try:
            provider_id = _deliver(message, self._connection())[:200]
        except Exception as exc:  # an outcome: the caller classifies and records it
            return ProviderCall(message, error=exc, seconds=time.monotonic() - started)
        return ProviderCall(message, provider_message_id=provider_id, seconds=time.monotonic() - started)

    def submit(self, message: Message, *, deadline: float | None = None) -> Future:
        """Hand one message to the backend; the future's result is its ``ProviderCall``, or None when
        it never started: a ``deadline`` (a ``time.monotonic()`` value) passed while it waited for a
        thread. With a caller's own connection the call is made here, on the caller's thread, and
        the future comes back done. A call that raises something that is not an outcome (the worker
        being stopped) makes every later one not start, and its future re-raises it."""
        if self.concurrency == 1:
            future: Future = Future()
            try:
                future.set_result(self._start(message, deadline))
            except BaseException as exc:
                future.set_exception(exc)
            return future
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="outreach-send")
        return self._pool.submit(self._start, message, deadline)

    def _start(self, message: Message, deadline: float | None) -> ProviderCall | None:
        if self._halted.is_set() or (deadline is not None and time.monotonic() >= deadline):
            return None
        try:
            return self._call(message)
        except BaseException:
            self._halted.set()
            raise

    def close(self) -> None:
        """Wait for the calls in flight, then close every connection the run opened."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()
