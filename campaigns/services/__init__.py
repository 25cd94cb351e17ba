"""The only code that writes this app's tables. Each function is one audited business action."""

from __future__ import annotations

import functools
import logging
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify
from django_fsm import can_proceed

from ..campaign_types import get_campaign_type
from ..errors import ActionNotPermittedError, DomainError, TransitionNotAllowedError
from ..events import actor_name, emit_event
from ..fsm import source_states
from ..lifecycle import activation_blockers, after_commit_handlers, approval_blockers, transition_handlers
from ..lock_objects import campaign_for_update
from ..models import (
    CHANNEL_KEYS,
    AuditEvent,
    Campaign,
    CampaignMode,
    CampaignState,
    Client,
    PauseKind,
    User,
)
from ..permissions import require_action, require_action_unless_system

logger = logging.getLogger(__name__)

SYSTEM_ACTOR_LABEL = "system"


# --- audit ----------------------------------------------------------------------------------


def record_audit_event(
    *,
    verb: str,
    actor: User | None = None,
    campaign: Campaign | None = None,
    target: models.Model | None = None,
    rationale: str = "",
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one audit event. Call it inside the transaction that made the change."""
    from django.contrib.contenttypes.models import ContentType

    actor = actor if actor is not None and actor.is_authenticated else None
    event = AuditEvent(
        campaign=campaign,
        actor=actor,
        actor_label=actor.get_username() if actor else SYSTEM_ACTOR_LABEL,
        verb=verb,
        rationale=rationale or "",
        metadata=metadata or {},
        created_at=timezone.now(),
    )
    if target is not None:
        event.target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
        event.target_id = str(target.pk)
        event.target_repr = str(target)[:300]
    event.save()
    return event


def history_user(actor: User | None) -> User | None:
    """Who simple-history records for a save: the actor (outside a request the middleware can't tell)."""
    return actor if actor is not None and actor.is_authenticated else None


# --- clients ----------------------------------------------------------------------------------


def create_client(*, name: str, actor: User | None = None) -> Client:
    name = (name or "").strip()
    if not name:
        raise DomainError("A client needs a name.", field="name")
    slug = slugify(name)[:200] or "client"
    if Client.objects.filter(name__iexact=name).exists():
        raise DomainError(f"A client named {name!r} already exists.", field="name")
    base, n = slug, 2
    while Client.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    with transaction.atomic():
        client = Client.objects.create(name=name, slug=slug)
        record_audit_event(verb="client.created", actor=actor, target=client)
    return client


# --- campaigns: create and edit ----------------------------------------------------------------

# What a client's own users may write on their campaigns (POST /api/v1/campaigns/). Everything else
# (approval rights, budget, caps, currency, owner, mode) is the agency's: the action
# "campaign.set_agency_fields" (docs/SECURITY.md).
CLIENT_WRITABLE_FIELDS = (
    "name",
    "type",
    "objective",
    "target_niche",
    "icp",
    "target_clients",
    "target_mrr",
    "channels",
    "timezone",
    "start_date",
    "end_date",
)
AGENCY_FIELDS = ("allow_client_approval", "budget_cap", "currency", "daily_email_cap", "owner")
# Fields an edit may change: the client's, and the agency's except those set only at creation.
EDITABLE_FIELDS = (*CLIENT_WRITABLE_FIELDS, "daily_email_cap", "owner", "allow_client_approval")


def _normalize_channels(channels: Any) -> list[str]:
    if channels is None:
        return []
    if isinstance(channels, str):
        channels = [c for c in channels.replace(";", ",").split(",")]
    if not isinstance(channels, list | tuple):
        raise ValidationError({"channels": "Give a list of channel names."})
    normalized: list[str] = []
    for raw in channels:
        key = str(raw).strip().lower()
        if not key:
            continue
        key = {"twitter": "x", "e-mail": "email", "ig": "instagram"}.get(key, key)
        if key not in CHANNEL_KEYS:
            known = ", ".join(sorted(CHANNEL_KEYS))
            raise ValidationError({"channels": f"Unknown channel {raw!r}; known channels: {known}."})
        if key not in normalized:
            normalized.append(key)
    return normalized


def _validate_campaign(campaign: Campaign) -> None:
    errors: dict[str, list[str]] = {}
    try:
        get_campaign_type(campaign.type)
    except KeyError as exc:
        errors.setdefault("type", []).append(str(exc.args[0]))
    try:
        zoneinfo.ZoneInfo(campaign.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors.setdefault("timezone", []).append(
            f"Unknown time zone {campaign.timezone!r}; use an IANA name such as 'Europe/Berlin'."
        )
    if campaign.start_date and campaign.end_date and campaign.end_date < campaign.start_date:
        errors.setdefault("end_date", []).append("The end date is before the start date.")
    if errors:
        raise ValidationError(errors)
    # The protected FSM field cannot be re-assigned by clean_fields; it is never user input anyway.
    campaign.full_clean(exclude=["state"])


def _check_agency_fields(actor: User | None, fields: dict[str, Any], campaign_or_client: Any) -> None:
    """A person setting approval rights, budget, caps, currency or owner needs the agency's action."""
    given = sorted(set(fields) & set(AGENCY_FIELDS))
    if given:
        require_action_unless_system(actor, "campaign.set_agency_fields", campaign_or_client)


# Set when a campaign is created; afterwards the cap moves only through raise_budget_cap (audited,
# with a rationale) and the currency never changes (the ledger is booked in it).
CREATE_ONLY_FIELDS = ("budget_cap", "currency")
# Edits to these re-run the campaign's risk rules.
RISK_RELEVANT_FIELDS = frozenset({"name", "objective", "target_niche", "icp", "daily_email_cap"})


def create_campaign(*, client: Client, name: str, actor: User | None = None, **fields: Any) -> Campaign:
    unknown = set(fields) - set(EDITABLE_FIELDS) - set(CREATE_ONLY_FIELDS) - {"mode"}
    if unknown:
        raise DomainError(f"Unknown campaign field(s): {', '.join(sorted(unknown))}.")
    require_action_unless_system(actor, "campaign.create", client)
    _check_agency_fields(actor, fields, client)
    if fields.get("currency") is not None:
        fields["currency"] = str(fields["currency"]).strip().upper()
    elif "currency" in fields:
        fields.pop("currency")
    if "channels" in fields:
        fields["channels"] = _normalize_channels(fields["channels"])
    else:
        fields["channels"] = ["email"]
    if fields.get("mode", CampaignMode.DRY_RUN) != CampaignMode.DRY_RUN:
        # Going live is its own audited decision (set_campaign_mode), never a side effect of create.
        raise DomainError(
            "A new campaign starts in dry-run mode; switch it to live explicitly.", field="mode"
        )
    if fields.get("owner") is None and actor is not None and actor.is_authenticated and actor.is_staff:
        fields["owner"] = actor
    campaign = Campaign(client=client, name=(name or "").strip(), **fields)
    _validate_campaign(campaign)
    with transaction.atomic():
        campaign._change_reason = "created"
        campaign._history_user = history_user(actor)
        campaign.save()
        record_audit_event(
            verb="campaign.created",
            actor=actor,
            campaign=campaign,
            target=campaign,
            metadata={"type": campaign.type, "client_id": client.pk},
        )
        # Created in this transaction: no other one can see the row, let alone lock it or flag it.
        assess_campaign_risk(campaign=campaign, actor=actor, campaign_locked=True, new_target=True)
    return campaign


def update_campaign(
    *, campaign: Campaign, actor: User | None = None, rationale: str = "", **fields: Any
) -> Campaign:
    if "budget_cap" in fields:
        raise DomainError(
            "Change the budget cap with raise_budget_cap (audited, with a rationale).", field="budget_cap"
        )
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These campaign fields cannot be edited here: {', '.join(sorted(unknown))}.")
    if "channels" in fields:
        fields["channels"] = _normalize_channels(fields["channels"])
    with transaction.atomic():
        locked = campaign_for_update(campaign.pk)
        _check_agency_fields(actor, {k: v for k, v in fields.items() if getattr(locked, k) != v}, locked)
        if locked.is_final:
            raise DomainError(
                f"Campaign {locked.pk} is {locked.get_state_display().lower()} and can no longer be edited."
            )
        changes: dict[str, list[Any]] = {}
        for key, value in fields.items():
            before = getattr(locked, key)
            if before != value:
                changes[key] = [_jsonable(before), _jsonable(value)]
                setattr(locked, key, value)
        if not changes:
            return locked
        _validate_campaign(locked)
        locked._change_reason = rationale or "edited"
        locked._history_user = history_user(actor)
        locked.save()
        record_audit_event(
            verb="campaign.updated",
            actor=actor,
            campaign=locked,
            target=locked,
            rationale=rationale,
            metadata={"changes": changes},
        )
        if RISK_RELEVANT_FIELDS & set(changes):
            assess_campaign_risk(campaign=locked, actor=actor, campaign_locked=True)
    return locked


def set_campaign_mode(*, campaign: Campaign, mode: str, actor: User | None, rationale: str = "") -> Campaign:
    if mode not in CampaignMode.values:
        raise DomainError(f"Unknown mode {mode!r}; use 'dry_run' or 'live'.", field="mode")
    with transaction.atomic():
        locked = campaign_for_update(campaign.pk)
        if locked.mode == mode:
            return locked
        if mode == CampaignMode.LIVE and not (rationale or "").strip():
            raise DomainError(
                "Switching a campaign to live sends real email: give a rationale.", field="rationale"
            )
        before = locked.mode
        locked.mode = mode
        if locked.state in (CampaignState.ACTIVE, CampaignState.PAUSED):
            # A running campaign going live must meet what activation demands of a live one.
            blockers = activation_blockers(locked)
            if blockers:
                raise DomainError(
                    f"Cannot switch campaign {locked.pk} to live: " + "; ".join(blockers), field="mode"
                )
        locked._change_reason = rationale or f"mode {mode}"
        locked._history_user = history_user(actor)
        locked.save(update_fields=["mode", "updated_at"])
        record_audit_event(
            verb="campaign.mode_changed",
            actor=actor,
            campaign=locked,
            target=locked,
            rationale=rationale,
            metadata={"from": before, "to": mode},
        )
    return locked


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


# --- campaigns: lifecycle ------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleStep:
    method: str
    verb: str
    label: str
    rationale_required: bool = False


LIFECYCLE: dict[str, LifecycleStep] = {
    step.method: step
    for step in (
        LifecycleStep("start_planning", "campaign.planning_started", "start planning"),
        LifecycleStep("submit_for_approval", "campaign.submitted_for_approval", "submit for approval"),
        LifecycleStep("return_to_planning", "campaign.returned_to_planning", "send back to planning", True),
        LifecycleStep("approve", "campaign.approved", "approve"),
        LifecycleStep("activate", "campaign.activated", "activate"),
        LifecycleStep("pause", "campaign.paused", "pause"),
        LifecycleStep("resume", "campaign.resumed", "resume"),
        LifecycleStep("complete", "campaign.completed", "complete"),
        LifecycleStep("kill", "campaign.killed", "kill", True),
    )
}


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
        campaign_id = campaign.pk if isinstance(campaign, Campaign) else int(campaign)
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
        require_action(actor, f"campaign.{step.method}", locked)
    if step.method == "resume" and locked.is_safety_paused:
        _check_safety_resume(locked, actor, rationale)
    method = getattr(locked, step.method)
    if not can_proceed(method, check_conditions=False):
        sources = ", ".join(sorted(source_states(Campaign, step.method)))
        raise TransitionNotAllowedError(
            f"Cannot {step.label} campaign {locked.pk}: it is {locked.state}; "
            f"{step.label} is allowed only from: {sources}.",
            state=locked.state,
            transition=transition,
        )
    blockers: list[str] = []
    if step.method == "approve":
        # Open high-severity risk flags on the campaign need an approver's permission.
        ensure_can_approve(user=actor, campaign=locked, target=locked)
        blockers = approval_blockers(locked)
    elif step.method in ("activate", "resume"):
        blockers = activation_blockers(locked)
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
    if step.method in ("approve", "activate", "resume"):
        # The rules were checked just now under the same lock: the transition's condition trusts
        # that, once (campaigns.models._rules_just_checked).
        locked._blockers_checked = True
    getattr(locked, step.method)()
    locked.state_reason = rationale[:500]
    locked.state_changed_at = timezone.now()
    locked.pause_kind = pause_kind if locked.state == CampaignState.PAUSED else PauseKind.NONE
    locked._change_reason = rationale or step.verb
    locked._history_user = history_user(actor)
    locked.save(update_fields=["state", "state_reason", "state_changed_at", "pause_kind", "updated_at"])
    for handler in transition_handlers(step.method):
        handler(campaign=locked, actor=actor, rationale=rationale)
    for waiter in after_commit_handlers(step.method):
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
            **({"resumed_pause_kind": resumed_kind} if step.method == "resume" and resumed_kind else {}),
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
            "transition": step.method,
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


def create_client_user(
    *, client: Client, username: str, email: str = "", password: str | None = None, actor: User | None = None
) -> tuple[User, bool]:
    """Create (or find) an API user of one client. Returns (user, created)."""
    username = (username or "").strip()
    if not username:
        raise DomainError("A username is required.", field="username")
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        if existing.client_id != client.pk:
            raise DomainError(
                f"User {username!r} already exists and does not belong to client {client.name!r}.",
                field="username",
            )
        return existing, False
    with transaction.atomic():
        user = User(username=username, email=email, client=client, is_staff=False)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        record_audit_event(
            verb="client_user.created", actor=actor, target=user, metadata={"client_id": client.pk}
        )
    return user, True


# --- governance: one module per concern, re-exported so callers import from campaigns.services ---
# (imported last: those modules use record_audit_event and friends defined above)
from .budget import ensure_budget_allows, raise_budget_cap, record_spend  # noqa: E402, F401
from .policy import save_compliance_policy, set_compliance_policy  # noqa: E402, F401
from .retention import prune_audit_events  # noqa: E402, F401
from .risk_flags import (  # noqa: E402, F401
    assess_campaign_risk,
    assess_risk,
    ensure_can_approve,
    override_risk_flag,
    resolve_risk_flag,
)
from .system_pause import ensure_system_not_paused, set_system_pause  # noqa: E402, F401
