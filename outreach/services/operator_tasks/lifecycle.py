"""An operator task's lifecycle: start, complete with proof, fail or skip with a reason, reassign.
Every change locks the task row, checks the transition and records an audit event."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from campaigns.actors import acting_user
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import User
from campaigns.services.audit import record_audit_event

from ...models.operator_tasks import PROOF_URL_VALIDATOR, OperatorTask, OperatorTaskState, OperatorTaskType
from .follow_ups import create_follow_ups
from .rules import ensure_campaign_runnable

__all__ = [
    "assign_task",
    "audit_task",
    "complete_task",
    "fail_task",
    "lock_task",
    "skip_task",
    "start_task",
]


def _task_id(task: OperatorTask | int) -> int:
    return task.pk if isinstance(task, OperatorTask) else int(task)


def lock_task(task: OperatorTask | int) -> OperatorTask:
    """The task row, locked for the rest of the transaction, with its campaign."""
    task_id = _task_id(task)
    try:
        return OperatorTask.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=task_id)
    except OperatorTask.DoesNotExist:
        raise DomainError(f"Operator task {task_id} does not exist.") from None


def _transition(task: OperatorTask, name: str, label: str) -> None:
    method = getattr(task, name)
    if not can_proceed(method):
        sources = sorted({str(t.source) for t in getattr(type(task), name)._django_fsm.transitions.values()})
        raise TransitionNotAllowedError(
            f"Cannot {label} operator task {task.pk}: it is {task.state}; "
            f"{label} is allowed only from: {', '.join(sources)}.",
            state=task.state,
            transition=name,
        )
    method()


def audit_task(verb: str, task: OperatorTask, actor: User | None, rationale: str = "", **metadata) -> None:
    """One audit event about a task, with its type and platform."""
    record_audit_event(
        verb=verb,
        actor=actor,
        campaign=task.campaign,
        target=task,
        rationale=rationale,
        metadata={"task_type": task.task_type, "platform": task.platform, **metadata},
    )


def _start_locked(task: OperatorTask, actor: User | None, now: dt.datetime) -> None:
    ensure_campaign_runnable(task.campaign, f"start operator task {task.pk}")
    _transition(task, "start", "start")
    task.started_at = now
    if task.assignee_id is None and acting_user(actor) is not None:
        task.assignee = actor  # whoever starts unassigned work owns it


def start_task(*, task: OperatorTask | int, actor: User | None = None) -> OperatorTask:
    now = timezone.now()
    with transaction.atomic():
        locked = lock_task(task)
        _start_locked(locked, actor, now)
        locked.updated_at = now
        locked.save(update_fields=["state", "started_at", "assignee", "updated_at"])
        audit_task("task.started", locked, actor)
    return locked


def _clean_proof(proof_url: str, proof_text: str) -> tuple[str, str]:
    proof_url, proof_text = (proof_url or "").strip(), (proof_text or "").strip()
    if not proof_url and not proof_text:
        raise DomainError(
            "Completing a task needs proof: the published URL (proof_url) or a note of what was done "
            "(proof_text).",
            field="proof_url",
        )
    if proof_url:
        try:
            PROOF_URL_VALIDATOR(proof_url)
        except ValidationError:
            raise DomainError(
                f"proof_url {proof_url[:200]!r} is not a valid http(s) URL; paste the link to the "
                "published post, or describe what was done in proof_text.",
                field="proof_url",
            ) from None
        if len(proof_url) > 1000:
            raise DomainError("proof_url is longer than 1000 characters.", field="proof_url")
    return proof_url, proof_text


def complete_task(
    *, task: OperatorTask | int, proof_url: str = "", proof_text: str = "", actor: User | None = None
) -> OperatorTask:
    """Mark done with proof (a pending task is started first). Completing a post creates its
    engagement follow-ups at +2 h and +24 h after completion, once."""
    proof_url, proof_text = _clean_proof(proof_url, proof_text)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_task(task)
        if locked.state == OperatorTaskState.PENDING:
            _start_locked(locked, actor, now)
        _transition(locked, "complete", "complete")
        locked.proof_url, locked.proof_text = proof_url, proof_text
        locked.completed_at, locked.completed_by = now, acting_user(actor)
        locked.updated_at = now
        locked.save()
        follow_ups = (
            create_follow_ups(locked, actor, now) if locked.task_type == OperatorTaskType.POST else []
        )
        audit_task(
            "task.completed",
            locked,
            actor,
            proof_url=proof_url,
            has_proof_text=bool(proof_text),
            follow_up_ids=[t.pk for t in follow_ups],
        )
    return locked


def _require_reason(reason: str, doing: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"A reason is required to {doing} an operator task.", field="reason")
    return reason[:4000]


def _finish_without_doing(task, reason, actor, *, name: str, verb: str) -> OperatorTask:
    reason = _require_reason(reason, name)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_task(task)
        _transition(locked, name, name)
        locked.outcome_reason = reason
        locked.completed_at, locked.completed_by = now, acting_user(actor)
        locked.updated_at = now
        locked.save(update_fields=["state", "outcome_reason", "completed_at", "completed_by", "updated_at"])
        audit_task(verb, locked, actor, rationale=reason)
    return locked


def fail_task(*, task: OperatorTask | int, reason: str, actor: User | None = None) -> OperatorTask:
    """The operator could not do it (account locked, platform down…): closed, with the reason."""
    return _finish_without_doing(task, reason, actor, name="fail", verb="task.failed")


def skip_task(*, task: OperatorTask | int, reason: str, actor: User | None = None) -> OperatorTask:
    """Deliberately not done (slot dropped, duplicate…): closed, with the reason."""
    return _finish_without_doing(task, reason, actor, name="skip", verb="task.skipped")


def assign_task(
    *, task: OperatorTask | int, assignee: User | None, actor: User | None = None
) -> OperatorTask:
    if assignee is not None and not assignee.is_staff:
        raise DomainError("Operator tasks are assigned to agency staff only.", field="assignee")
    with transaction.atomic():
        locked = lock_task(task)
        if not locked.is_open:
            raise TransitionNotAllowedError(
                f"Operator task {locked.pk} is {locked.state}; only open tasks can be reassigned.",
                state=locked.state,
            )
        before = locked.assignee_id
        if before == (assignee.pk if assignee else None):
            return locked
        locked.assignee = assignee
        locked.updated_at = timezone.now()
        locked.save(update_fields=["assignee", "updated_at"])
        audit_task(
            "task.assigned", locked, actor, **{"from": before, "to": assignee.pk if assignee else None}
        )
    return locked
