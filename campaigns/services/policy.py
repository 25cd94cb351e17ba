"""Compliance policies: a client's default and a campaign's own, audited and history-tracked."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ..actors import acting_user
from ..errors import DomainError
from ..models import Campaign, Client, CompliancePolicy, User
from .audit import record_audit_event

POLICY_FIELDS = (
    "require_strategy_approval",
    "require_creative_approval",
    "require_client_approval",
    "consent_regions",
    "quiet_hours_start",
    "quiet_hours_end",
    "max_daily_volume",
    "sender_postal_address",
)


def _normalize_regions(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    if not isinstance(value, list | tuple):
        raise ValidationError({"consent_regions": 'Give a list of region codes, e.g. ["EU", "UK"].'})
    regions: list[str] = []
    for raw in value:
        code = str(raw).strip().upper()
        if code and code not in regions:
            regions.append(code)
    return regions


def save_compliance_policy(
    *, policy: CompliancePolicy, actor: User | None, rationale: str = ""
) -> CompliancePolicy:
    """Validate and save a policy (new or edited) and audit it on its campaign's timeline."""
    policy.consent_regions = _normalize_regions(policy.consent_regions)
    if (policy.quiet_hours_start is None) != (policy.quiet_hours_end is None):
        raise ValidationError({"quiet_hours_end": "Give both ends of the quiet hours, or neither."})
    policy.full_clean()
    created = policy.pk is None
    with transaction.atomic():
        policy._change_reason = rationale or ("created" if created else "edited")
        policy._history_user = acting_user(actor)
        policy.save()
        record_audit_event(
            verb="policy.created" if created else "policy.updated",
            actor=actor,
            campaign=policy.campaign,
            target=policy,
            rationale=rationale,
            metadata={"scope": "campaign" if policy.campaign_id else "client", "client_id": policy.client_id},
        )
    return policy


def set_compliance_policy(
    *,
    campaign: Campaign | None = None,
    client: Client | None = None,
    actor: User | None = None,
    rationale: str = "",
    **fields: Any,
) -> CompliancePolicy:
    """Create or update the policy of one campaign, or the default of one client."""
    if (campaign is None) == (client is None):
        raise DomainError("Give either a campaign or a client for the policy, not both.")
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise DomainError(f"Unknown policy field(s): {', '.join(sorted(unknown))}.")
    if campaign is not None:
        policy = CompliancePolicy.objects.filter(campaign=campaign).first() or CompliancePolicy(
            campaign=campaign
        )
    else:
        policy = CompliancePolicy.objects.filter(
            client=client, campaign__isnull=True
        ).first() or CompliancePolicy(client=client)
    for key, value in fields.items():
        setattr(policy, key, value)
    return save_compliance_policy(policy=policy, actor=actor, rationale=rationale)
