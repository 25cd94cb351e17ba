"""Creating and editing campaigns: which fields a client's users, the agency and an edit may write,
the checks every write passes, and the switch between dry run and live."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from ..actors import acting_user
from ..campaign_types import get_campaign_type
from ..errors import DomainError
from ..lifecycle import activation_blockers
from ..lock_objects import campaign_for_update
from ..models import CHANNEL_KEYS, Campaign, CampaignMode, CampaignState, Client, User
from ..permissions import require_action_unless_system
from .audit import record_audit_event
from .risk_flags import assess_campaign_risk

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
    if fields.get("owner") is None and acting_user(actor) is not None and actor.is_staff:
        fields["owner"] = actor
    campaign = Campaign(client=client, name=(name or "").strip(), **fields)
    _validate_campaign(campaign)
    with transaction.atomic():
        campaign._change_reason = "created"
        campaign._history_user = acting_user(actor)
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
        locked._history_user = acting_user(actor)
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
        locked._history_user = acting_user(actor)
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
