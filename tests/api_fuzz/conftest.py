"""One seeded database for the whole fuzz package: two clients' worlds (see `world.py`), built
once and rolled back at the end. Each test still runs in its own savepoint (`db`), so what one
operation's fuzzing writes never reaches the next operation's test."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import time_machine
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction

from campaigns.models import User
from tests.conftest import FIXED_NOW
from tests.factories import StaffUserFactory

from .world import ClientWorld, assert_world_is_complete, build_client_world


@dataclass
class FuzzWorlds:
    client_a: ClientWorld
    client_b: ClientWorld
    operator: User


@pytest.fixture(scope="package")
def fuzz_worlds(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), time_machine.travel(FIXED_NOW, tick=True), transaction.atomic():
        operator = StaffUserFactory(username="fuzz-operator")
        worlds = FuzzWorlds(
            client_a=build_client_world("azalea", operator),
            client_b=build_client_world("begonia", operator),
            operator=operator,
        )
        assert_world_is_complete(worlds.client_a)
        assert_world_is_complete(worlds.client_b)
        yield worlds
        transaction.set_rollback(True)


@pytest.fixture
def wsgi_in_test_transaction():
    """The WSGI app runs in this thread on the test's connection. Django closes "old" connections
    at the start and end of every request, which inside the test transaction would drop it;
    Django's own test client switches that off around each request the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
