"""Pruners that the daily retention task runs after pruning audit events.

Outreach registers one for its message events from ``AppConfig.ready()``::

    register_retention_pruner("outreach.message_events", prune_old_message_events)

``fn(*, cutoff)`` deletes (after summarising) rows older than ``cutoff`` and returns a count.
"""

from __future__ import annotations

from collections.abc import Callable

RetentionPruner = Callable[..., int]
_pruners: dict[str, RetentionPruner] = {}


def register_retention_pruner(name: str, fn: RetentionPruner) -> None:
    _pruners[name] = fn


def retention_pruners() -> dict[str, RetentionPruner]:
    return dict(_pruners)
