"""The campaign's brief: validation with field-level errors, normalisation, audit."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.campaign_types import get_campaign_type
from campaigns.currencies import is_currency_code
from campaigns.errors import DomainError
from campaigns.lock_objects import campaign_for_update
from campaigns.models import CHANNEL_KEYS, Campaign, User
from campaigns.services.audit import record_audit_event

from ..models import (
    Brief,
    Tone,
)
from .lookups import jsonable

CHANNEL_ALIASES = {"twitter": "x", "e-mail": "email", "ig": "instagram", "li": "linkedin"}


BRIEF_FIELDS = ("objective", "audience", "offer", "channels", "tone", "constraints", "budget", "currency")


def _clean_text(value: Any) -> str:
    return re.sub(r"[ \t]+", " ", str(value or "")).strip()


def normalize_brief_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Trim text, map channel aliases, parse the budget; raise ValidationError keyed by field."""
    unknown = set(fields) - set(BRIEF_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a brief field." for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for name in ("objective", "audience", "offer", "constraints"):
        if name in fields:
            clean[name] = _clean_text(fields[name])
    for name, minimum in (("objective", 10), ("audience", 3), ("offer", 3)):
        if name in clean and len(clean[name]) < minimum:
            errors.setdefault(name, []).append(
                f"Required: describe the {name} in at least {minimum} characters."
                if clean[name]
                else f"Required: the brief needs an {name}."
                if name[0] in "aeiou"
                else f"Required: the brief needs a {name}."
            )
    if "channels" in fields:
        raw = fields["channels"]
        if isinstance(raw, str):
            raw = raw.replace(";", ",").split(",")
        if not isinstance(raw, list | tuple):
            errors.setdefault("channels", []).append("Give a list of channel names.")
        else:
            channels: list[str] = []
            for item in raw:
                key = _clean_text(item).lower()
                key = CHANNEL_ALIASES.get(key, key)
                if not key:
                    continue
                if key not in CHANNEL_KEYS:
                    errors.setdefault("channels", []).append(
                        f"Unknown channel {item!r}; known channels: {', '.join(sorted(CHANNEL_KEYS))}."
                    )
                elif key not in channels:
                    channels.append(key)
            if not channels and "channels" not in errors:
                errors.setdefault("channels", []).append("Choose at least one channel.")
            clean["channels"] = channels
    if "tone" in fields:
        tone = _clean_text(fields["tone"]).lower() or Tone.PROFESSIONAL
        if tone not in Tone.values:
            errors.setdefault("tone", []).append(
                f"Unknown tone {tone!r}; choose one of: {', '.join(Tone.values)}."
            )
        clean["tone"] = tone
    if "budget" in fields:
        raw_budget = fields["budget"]
        if raw_budget in (None, ""):
            clean["budget"] = None
        else:
            try:
                budget = Decimal(str(raw_budget).replace(",", "").strip())
            except InvalidOperation:
                errors.setdefault("budget", []).append(f"{raw_budget!r} is not a number.")
            else:
                if budget < 0:
                    errors.setdefault("budget", []).append("The budget cannot be negative.")
                clean["budget"] = budget.quantize(Decimal("0.01"))
    if "currency" in fields:
        currency = _clean_text(fields["currency"]).upper() or "USD"
        if not is_currency_code(currency):
            errors.setdefault("currency", []).append("Use an ISO 4217 currency code such as USD or EUR.")
        clean["currency"] = currency
    if errors:
        raise ValidationError(errors)
    return clean


def save_brief(*, campaign: Campaign, actor: User | None = None, **fields: Any) -> Brief:
    """Create or update the campaign's brief. Field errors come back together, keyed by field."""
    clean = normalize_brief_fields(fields)
    with transaction.atomic():
        locked = campaign_for_update(campaign.pk)
        if locked.is_final:
            raise DomainError(f"Campaign {locked.pk} is {locked.state}; its brief can no longer change.")
        brief = Brief.objects.filter(campaign=locked).first()
        created = brief is None
        if created:
            missing = [n for n in ("objective", "audience", "offer", "channels") if n not in clean]
            if missing:
                raise ValidationError({name: "Required for a new brief." for name in missing})
            brief = Brief(campaign=locked)
        changes = {}
        for name, value in clean.items():
            before = getattr(brief, name)
            if created or before != value:
                changes[name] = [None if created else jsonable(before), jsonable(value)]
                setattr(brief, name, value)
        if not changes:
            return brief
        brief.full_clean()
        brief._change_reason = "created" if created else "edited"
        brief.save()
        record_audit_event(
            verb="strategy.brief_created" if created else "strategy.brief_updated",
            actor=actor,
            campaign=locked,
            target=brief,
            metadata={"fields": sorted(changes)},
        )
    return brief


def ensure_brief(*, campaign: Campaign, actor: User | None = None) -> Brief:
    """The campaign's brief; a first one is drafted from the campaign's own fields if none exists."""
    brief = Brief.objects.filter(campaign=campaign).first()
    if brief is not None:
        return brief
    ctype = get_campaign_type(campaign.type)
    channels = list(dict.fromkeys([*(campaign.channels or []), *ctype.channel_mix]))
    return save_brief(
        campaign=campaign,
        actor=actor,
        objective=campaign.objective or ctype.description,
        audience=campaign.icp or campaign.target_niche or "Decision makers in the client's market",
        offer=campaign.name,
        channels=channels,
        tone=Tone.PROFESSIONAL,
    )


def brief_snapshot(brief: Brief) -> dict[str, Any]:
    return {
        "objective": brief.objective,
        "audience": brief.audience,
        "offer": brief.offer,
        "channels": list(brief.channels),
        "tone": brief.tone,
        "constraints": brief.constraints,
        "budget": str(brief.budget) if brief.budget is not None else None,
        "currency": brief.currency,
    }
