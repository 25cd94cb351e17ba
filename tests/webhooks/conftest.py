from __future__ import annotations

import socket

import pytest

from tests.factories import ClientFactory
from webhooks.services import create_endpoint

from .receiver import Receiver


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    """Loopback receivers need the private-address switch and plain http; short timeouts and
    retries keep the tests quick."""
    settings.AICMO_WEBHOOKS_ALLOW_PRIVATE = True
    settings.AICMO_WEBHOOKS_REQUIRE_HTTPS = False
    settings.AICMO_WEBHOOKS_TIMEOUT_SECONDS = 0.5
    settings.AICMO_WEBHOOKS_RETRY_BASE_SECONDS = 1
    settings.AICMO_WEBHOOKS_RETRY_CAP_SECONDS = 8
    return settings


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_endpoint(db):
    def make(receiver_or_url, *, client=None, event_types=("lead.won",), **fields):
        client = client or ClientFactory()
        url = receiver_or_url if isinstance(receiver_or_url, str) else receiver_or_url.url
        endpoint, secret = create_endpoint(client=client, url=url, event_types=list(event_types), **fields)
        if not isinstance(receiver_or_url, str):
            receiver_or_url.secrets.append(secret)
        return endpoint, secret

    return make
