"""The campaign lifecycle: its steps, declared once, and the extension points for apps above `campaigns`.

``LIFECYCLE`` is the one declaration of the steps (in the order buttons and API lists show them):
the services take them, the admin and the API offer them, and campaigns.permissions registers an
action per step from it. Which state a step leaves and reaches is the model's FSM transition of
the same name (``Campaign.<name>``), the only place django-fsm can read it from.

`campaigns` imports no other app, yet activation must wait for an approved strategy and a kill
must cancel scheduled outreach. The apps that own those rules register plain functions here
from their ``AppConfig.ready()``; the campaign services call them explicitly, inside the same
transaction as the state change, so a failing handler rolls the whole change back. This is a
typed, ordered list of calls, not a signal: nothing runs that the service does not name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Campaign


@dataclass(frozen=True)
class LifecycleStep:
    name: str  # the Campaign transition method; the action is "campaign.<name>"
    verb: str  # the audit event's verb
    label: str  # what buttons and refusals call it ("send back to planning")
    action_label: str  # the permission's words, completing "may not …"
    # Which client users may take it (campaigns.permissions: "never", "own", "own_if_client_approval").
    clients: str
    rationale_required: bool = False
    # The registered checks that may block it: "approval", "activation" or none.
    rules: str = ""


LIFECYCLE: dict[str, LifecycleStep] = {
    step.name: step
    for step in (
        LifecycleStep(
            "start_planning",
            "campaign.planning_started",
            "start planning",
            "start planning a campaign",
            "never",
        ),
        LifecycleStep(
            "submit_for_approval",
            "campaign.submitted_for_approval",
            "submit for approval",
            "submit a campaign for approval",
            "never",
        ),
        LifecycleStep(
            "return_to_planning",
            "campaign.returned_to_planning",
            "send back to planning",
            "send a campaign back to planning",
            "never",
            rationale_required=True,
        ),
        LifecycleStep(
            "approve",
            "campaign.approved",
            "approve",
            "approve a campaign",
            "own_if_client_approval",
            rules="approval",
        ),
        LifecycleStep(
            "activate", "campaign.activated", "activate", "activate a campaign", "never", rules="activation"
        ),
        LifecycleStep("pause", "campaign.paused", "pause", "pause a campaign", "own"),
        LifecycleStep(
            "resume", "campaign.resumed", "resume", "resume a paused campaign", "own", rules="activation"
        ),
        LifecycleStep("complete", "campaign.completed", "complete", "complete a campaign", "own"),
        LifecycleStep("kill", "campaign.killed", "kill", "kill a campaign", "own", rationale_required=True),
    )
}


# A blocker check returns human-readable reasons why the transition may not happen (empty: ok).
BlockerCheck = Callable[["Campaign"], list[str]]
# A handler receives the campaign (already in its new state, row-locked) and the actor.
TransitionHandler = Callable[..., None]

_approval_checks: list[BlockerCheck] = []
_activation_checks: list[BlockerCheck] = []
# Called with the campaign before the activation's transaction locks it: lookups over the network
# (DNS, HTTP) whose answers the activation checks then read from a cache, so no transaction waits
# on a remote server.
_activation_prechecks: list[Callable[[Campaign], None]] = []
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


def register_activation_precheck(precheck: Callable[[Campaign], None]) -> Callable[[Campaign], None]:
    if precheck not in _activation_prechecks:
        _activation_prechecks.append(precheck)
    return precheck


def run_activation_prechecks(campaign: Campaign) -> None:
    for precheck in _activation_prechecks:
        precheck(campaign)


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


def step_blockers(step: LifecycleStep, campaign: Campaign) -> list[str]:
    """Why ``step`` may not be taken now by the rules other apps registered (empty: nothing blocks)."""
    if step.rules == "approval":
        return approval_blockers(campaign)
    if step.rules == "activation":
        return activation_blockers(campaign)
    return []
