"""Issue 15 point 9: the API keeps answering while the Redis behind its throttles is down.

The test runs its own redis-server on a free port (never the shared one), points the cache at it,
stops it mid-test and starts it again.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time

import pytest
import redis
from rest_framework.test import APIClient

from aicmo_site.throttling import FailOpenUserRateThrottle
from tests.factories import ClientUserFactory, token_for

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary"),
]
API = "/api/v1/campaigns/"
RATE = 5  # requests per minute per user while the test runs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_ping(client: redis.Redis, seconds: float = 10) -> None:
    """Until a just-started server answers PING; its redis.ConnectionError after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class OwnRedis:
    """A throwaway redis-server: no persistence, its files in a temporary directory."""

    def __init__(self, port: int, workdir) -> None:
        self.port, self.workdir, self.process = port, workdir, None

    def start(self) -> None:
        self.spawn("--port", str(self.port))
        wait_for_ping(redis.Redis(port=self.port))

    def spawn(self, *listen: str) -> None:
        """redis-server on 127.0.0.1 with ``listen`` (its ports and their options)."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                *listen,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path, settings, monkeypatch):
    server = OwnRedis(free_port(), tmp_path)
    server.start()
    # Overriding CACHES makes Django drop its cached cache connections (setting_changed).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    monkeypatch.setitem(FailOpenUserRateThrottle.THROTTLE_RATES, "user", f"{RATE}/min")
    yield server
    server.stop()


def statuses(api: APIClient, n: int) -> list[int]:
    return [api.get(API).status_code for _ in range(n)]


def test_api_keeps_answering_while_redis_is_down_and_throttles_again_when_it_is_back(own_redis, caplog):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(ClientUserFactory())}")
    caplog.set_level(logging.WARNING, logger="aicmo_site.throttling")

    # Redis up: the user throttle counts in Redis and refuses the request over the rate.
    assert statuses(api, RATE + 1) == [200] * RATE + [429]

    own_redis.stop()
    # Redis down: the same user, over its rate, is answered (the throttle fails open) ...
    assert statuses(api, 3) == [200, 200, 200]
    # ... a bad token is still a 401, never a 500 ...
    assert APIClient().get(API, HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 401
    # ... and the outage is logged once as a warning, not once per request.
    down = [r for r in caplog.records if r.levelno == logging.WARNING and "fails open" in r.getMessage()]
    assert len(down) == 1

    own_redis.start()  # an empty Redis on the same port: the counters start again
    assert statuses(api, RATE + 1) == [200] * RATE + [429]
    assert any("available again" in r.getMessage() for r in caplog.records)
