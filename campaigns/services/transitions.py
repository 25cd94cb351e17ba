"""The campaign lifecycle taken: one service moves a campaign through a step of
campaigns.lifecycle.LIFECYCLE (lock, check, transition, save, hooks, audit), and one function a step."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from ..actors import acting_user
from ..errors import ActionNotPermittedError, DomainError, TransitionNotAllowedError
from ..events import actor_name, emit_event
from ..fsm import source_states
from ..ids import campaign_id_of
from ..lifecycle import (
    LIFECYCLE,
    LifecycleStep,
    after_commit_handlers,
    run_activation_prechecks,
    step_blockers,
    transition_handlers,
)
from ..lock_objects import campaign_for_update
from ..models import Campaign, CampaignState, PauseKind, User
from ..permissions import require_action
from .audit import SYSTEM_ACTOR_LABEL, record_audit_event
from .risk_flags import ensure_can_approve

logger = logging.getLogger(__name__)


def transition_campaign(
    *,
    campaign: Campaign | int,
    transition: str,
    actor: User | None = None,
    rationale: str = "",
    metadata: dict[str, Any] | None = None,
    campaign_locked: bool = False,
    pause_kind: str = PauseKind.MANUAL,
) -> Campaign:
    """Move a campaign through its lifecycle: lock, check, transition, save, hooks, audit.

    A person (``actor``) needs the action ``campaign.<transition>`` (campaigns.permissions); a
    campaign a safety rule paused (``pause_kind``: circuit breaker, auto-pause rule) is resumed only
    by a person allowed ``campaign.resume_safety_pause`` (the approver role), with a rationale.
    ``pause_kind`` says who or what pauses it (a pause only).

    Raises TransitionNotAllowedError (naming the current state and what is allowed) and changes
    nothing when the transition is illegal or a rule blocks it.

    ``campaign_locked``: ``campaign`` is the instance the caller's transaction has locked (and
    keeps current): it is not locked and read again, and no savepoint is taken. The checks still
    run before anything is written, so a refusal leaves the caller's transaction usable; an error
    while writing fails the caller's transaction as a whole. Such a caller is a service whose own
    action was authorized (a strategy approval moving its campaign on), so the actor's right to the
    step itself is not asked again.
    """
    if pause_kind not in PauseKind.values or pause_kind == PauseKind.NONE:
        raise DomainError(f"Unknown pause kind {pause_kind!r}.", field="pause_kind")
    step = LIFECYCLE.get(transition)
    if step is None:
        raise TransitionNotAllowedError(
            f"Unknown campaign transition {transition!r}; known: {', '.join(LIFECYCLE)}."
        )
    rationale = (rationale or "").strip()
    if step.rationale_required and not rationale:
        raise DomainError(f"A rationale is required to {step.label} a campaign.", field="reason")
    if campaign_locked:
        if not isinstance(campaign, Campaign) or not transaction.get_connection().in_atomic_block:
            raise TypeError("campaign_locked=True needs the locked Campaign inside the caller's transaction")
        _check_transition(campaign, step, transition, actor, rationale=rationale, authorize=False)
        with transaction.atomic(savepoint=False):
            from_state = _apply_transition(campaign, step, actor, rationale, metadata, pause_kind)
        locked = campaign
    else:
        campaign_id = campaign_id_of(campaign)
        if step.rules == "activation":  # the network lookups first, outside the transaction
            unlocked = Campaign.objects.select_related("client").filter(pk=campaign_id).first()
            if unlocked is not None:
                run_activation_prechecks(unlocked)
        with transaction.atomic():
            try:
                locked = campaign_for_update(campaign_id)
            except Campaign.DoesNotExist:
                raise DomainError(f"Campaign {campaign_id} does not exist.") from None
            _check_transition(locked, step, transition, actor, rationale=rationale, authorize=True)
            from_state = _apply_transition(locked, step, actor, rationale, metadata, pause_kind)
    logger.info(
        "campaign %s: %s -> %s by %s",
        locked.pk,
        from_state,
        locked.state,
        actor.get_username() if actor else SYSTEM_ACTOR_LABEL,
    )
    return locked


def _check_transition(
    locked: Campaign,
    step: LifecycleStep,
    transition: str,
    actor: User | None,
    *,
    rationale: str,
    authorize: bool,
) -> None:
    """Refuse (before any write) a transition the actor's role, the state or a rule does not allow."""
    if authorize and actor is not None:
        require_action(actor, f"campaign.{step.name}", locked)
    if step.name == "resume" and locked.is_safety_paused:
        _check_safety_resume(locked, actor, rationale)
    method = getattr(locked, step.name)
    if not can_proceed(method, check_conditions=False):
        sources = ", ".join(sorted(source_states(Campaign, step.name)))
        raise TransitionNotAllowedError(
            f"Cannot {step.label} campaign {locked.pk}: it is {locked.state}; "
            f"{step.label} is allowed only from: {sources}.",
            state=locked.state,
            transition=transition,
        )
    if step.name == "approve":
        # Open high-severity risk flags on the campaign need an approver's permission.
        ensure_can_approve(user=actor, campaign=locked, target=locked)
    blockers = step_blockers(step, locked)
    if blockers:
        raise TransitionNotAllowedError(
            f"Cannot {step.label} campaign {locked.pk}: " + "; ".join(blockers),
            state=locked.state,
            transition=transition,
            blockers=blockers,
        )


def _check_safety_resume(locked: Campaign, actor: User | None, rationale: str) -> None:
    why = f"Campaign {locked.pk} was paused by a safety rule ({locked.get_pause_kind_display().lower()}: " + (
        f"{locked.state_reason})" if locked.state_reason else "no reason recorded)"
    )
    if actor is None:
        raise ActionNotPermittedError(
            f"{why}. A person with the approver role resumes it, with a rationale; the system never does.",
            action="campaign.resume_safety_pause",
        )
    require_action(actor, "campaign.resume_safety_pause", locked)
    if not rationale:
        raise DomainError(
            f"{why}. Say why it is safe to resume (the rationale is kept in the audit timeline).",
            field="reason",
        )


def _apply_transition(
    locked: Campaign,
    step: LifecycleStep,
    actor: User | None,
    rationale: str,
    metadata: dict[str, Any] | None,
    pause_kind: str = PauseKind.MANUAL,
) -> str:
    """Transition, save (with its history row), run the hooks and audit; returns the old state."""
    from_state = locked.state
    resumed_kind = locked.pause_kind
    if step.rules:
        # _check_transition ran the step's rules just now, under the same lock: not again.
        getattr(locked, step.name)(rules_checked=True)
    else:
        getattr(locked, step.name)()
    locked.state_reason = rationale[:500]
    locked.state_changed_at = timezone.now()
    locked.pause_kind = pause_kind if locked.state == CampaignState.PAUSED else PauseKind.NONE
    locked._change_reason = rationale or step.verb
    locked._history_user = acting_user(actor)
    locked.save(update_fields=["state", "state_reason", "state_changed_at", "pause_kind", "updated_at"])
    for handler in transition_handlers(step.name):
        handler(campaign=locked, actor=actor, rationale=rationale)
    for waiter in after_commit_handlers(step.name):
        transaction.on_commit(functools.partial(waiter, locked.pk))
    record_audit_event(
        verb=step.verb,
        actor=actor,
        campaign=locked,
        target=locked,
        rationale=rationale,
        metadata={
            "from": from_state,
            "to": locked.state,
            **({"pause_kind": locked.pause_kind} if locked.pause_kind else {}),
            **({"resumed_pause_kind": resumed_kind} if step.name == "resume" and resumed_kind else {}),
            **(metadata or {}),
        },
    )
    emit_event(
        "campaign.state_changed",
        client=locked.client_id,
        campaign=locked,
        data={
            "from_state": from_state,
            "to_state": locked.state,
            "transition": step.name,
            "actor": actor_name(actor),
            "rationale": rationale,
            **({"pause_kind": locked.pause_kind} if locked.pause_kind else {}),
        },
    )
    return from_state


def start_campaign_planning(
    *, campaign: Campaign | int, actor: User | None = None, rationale: str = ""
) -> Campaign:
    return transition_campaign(
        campaign=campaign, transition="start_planning", actor=actor, rationale=rationale
    )


def submit_campaign_for_approval(
    *, campaign: Campaign | int, actor: User | None = None, rationale: str = ""
) -> Campaign:
    return transition_campaign(
        campaign=campaign, transition="submit_for_approval", actor=actor, rationale=rationale
    )


def approve_campaign(*, campaign: Campaign | int, actor: User | None = None, rationale: str = "") -> Campaign:
    return transition_campaign(campaign=campaign, transition="approve", actor=actor, rationale=rationale)


def activate_campaign(
    *, campaign: Campaign | int, actor: User | None = None, rationale: str = ""
) -> Campaign:
    return transition_campaign(campaign=campaign, transition="activate", actor=actor, rationale=rationale)


def pause_campaign(
    *,
    campaign: Campaign | int,
    actor: User | None = None,
    rationale: str = "",
    metadata: dict[str, Any] | None = None,
    kind: str = PauseKind.MANUAL,
) -> Campaign:
    """Pause an active campaign. ``kind``: a person's pause (manual) or a safety rule's
    (circuit_breaker, auto_pause), which only an approver resumes, with a rationale."""
    return transition_campaign(
        campaign=campaign,
        transition="pause",
        actor=actor,
        rationale=rationale,
        metadata=metadata,
        pause_kind=kind,
    )


def resume_campaign(*, campaign: Campaign | int, actor: User | None = None, rationale: str = "") -> Campaign:
    return transition_campaign(campaign=campaign, transition="resume", actor=actor, rationale=rationale)


def complete_campaign(
    *, campaign: Campaign | int, actor: User | None = None, rationale: str = ""
) -> Campaign:
    return transition_campaign(campaign=campaign, transition="complete", actor=actor, rationale=rationale)


def kill_campaign(*, campaign: Campaign | int, actor: User | None = None, rationale: str) -> Campaign:
    return transition_campaign(campaign=campaign, transition="kill", actor=actor, rationale=rationale)


def complete_campaigns_past_end_date(*, today=None) -> list[int]:
    """Daily tick: campaigns whose end date has passed are completed (each in its own transaction)."""
    today = today or timezone.localdate()
    due = list(
        Campaign.objects.filter(
            state__in=[CampaignState.ACTIVE, CampaignState.PAUSED], end_date__lt=today
        ).values_list("pk", flat=True)
    )
    completed: list[int] = []
    for campaign_id in due:
        try:
            complete_campaign(
                campaign=campaign_id, rationale=f"End date passed (today is {today.isoformat()})."
            )
        except TransitionNotAllowedError:
            # Changed state since we listed it (killed, say): nothing to complete.
            logger.info("campaign %s changed state before completion; skipped", campaign_id)
            continue
        completed.append(campaign_id)
    return completed
