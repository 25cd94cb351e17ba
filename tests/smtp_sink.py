"""A real SMTP server for tests (aiosmtpd on 127.0.0.1): what the app sends lands here for real.

``smtp_server`` is the bare server, for tests that hand Django an explicit connection to it;
``smtp_sink`` also points Django's SMTP backend at it, so whatever ``get_connection()`` opens
(including a live server's requests, which run in this process) reaches it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller


class CapturingHandler:
    """aiosmtpd handler keeping each transaction's envelope sender, recipients and raw message."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_smtp_server() -> Iterator[tuple[CapturingHandler, Controller]]:
    handler = CapturingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller
    finally:
        controller.stop()


@pytest.fixture
def smtp_server():
    """(handler, controller): the server alone; Django's email settings are left as they are."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def smtp_sink(settings):
    """The server as Django's configured email backend; yields the handler."""
    with running_smtp_server() as (handler, controller):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = controller.hostname
        settings.EMAIL_PORT = controller.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10
        yield handler
