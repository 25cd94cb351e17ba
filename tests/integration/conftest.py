"""Fixtures shared by the integration tests."""

from tests.integration.workers import killable_worker  # noqa: F401  (the fixture)
