"""Extension points of the campaign lifecycle for apps that sit above `campaigns`.

`campaigns` imports no other app, yet activation must wait for an approved strategy and a kill
must cancel scheduled outreach. The apps that own those rules register plain functions here
from their ``AppConfig.ready()``; the campaign services call them explicitly, inside the same
transaction as the state change, so a failing handler rolls the whole change back. This is a
typed, ordered list of calls, not a signal: nothing runs that the service does not name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Campaign

# A blocker check returns human-readable reasons why the transition may not happen (empty: ok).
BlockerCheck = Callable[["Campaign"], list[str]]
# A handler receives the campaign (already in its new state, row-locked) and the actor.
TransitionHandler = Callable[..., None]

_approval_checks: list[BlockerCheck] = []
_activation_checks: list[BlockerCheck] = []
_after_transition: dict[str, list[TransitionHandler]] = {}
# Called with the campaign id once the transition has committed (a stop waits there for the sends
# already with a provider); outside the transaction, so they may wait without holding its locks.
_after_commit: dict[str, list[Callable[[int], None]]] = {}


def register_approval_check(check: BlockerCheck) -> BlockerCheck:
    if check not in _approval_checks:
        _approval_checks.append(check)
    return check


def register_activation_check(check: BlockerCheck) -> BlockerCheck:
    if check not in _activation_checks:
        _activation_checks.append(check)
    return check


def register_transition_handler(transition_name: str, handler: TransitionHandler) -> TransitionHandler:
    handlers = _after_transition.setdefault(transition_name, [])
    if handler not in handlers:
        handlers.append(handler)
    return handler


def register_after_commit(transition_name: str, handler: Callable[[int], None]) -> Callable[[int], None]:
    handlers = _after_commit.setdefault(transition_name, [])
    if handler not in handlers:
        handlers.append(handler)
    return handler


def after_commit_handlers(transition_name: str) -> list[Callable[[int], None]]:
    return list(_after_commit.get(transition_name, ()))


def approval_blockers(campaign: Campaign) -> list[str]:
    return [reason for check in _approval_checks for reason in check(campaign)]


def activation_blockers(campaign: Campaign) -> list[str]:
    return [reason for check in _activation_checks for reason in check(campaign)]


def transition_handlers(transition_name: str) -> list[TransitionHandler]:
    return list(_after_transition.get(transition_name, ()))
