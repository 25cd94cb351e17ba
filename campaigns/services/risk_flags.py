"""Risk flags: run the rules of ``campaigns.risk`` and keep one flag per (target, rule code).

Strategy and creative call ``assess_risk(campaign=, target=, texts=[...])`` when a variant is
created or edited, and ``ensure_can_approve(user=, campaign=, target=)`` in their approval
service before approving it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from ..actors import acting_user
from ..errors import ApprovalNotPermittedError, DomainError
from ..lock_objects import campaign_for_update
from ..models import Campaign, RiskFlag, RiskFlagStatus, RiskSeverity, User
from ..permissions import is_allowed, permission_needed
from ..risk import SEVERITY_ORDER, merge_findings, quoted_texts, run_rules, strip_quoted
from ..selectors import open_risk_flags
from .audit import record_audit_event

APPROVE_HIGH_RISK_PERMISSION = "campaigns.approve_high_risk"
OVERRIDE_CHECKS_PERMISSION = "campaigns.override_checks"


def assess_risk(
    *,
    campaign: Campaign,
    target: models.Model | None = None,
    texts: Iterable[str] = (),
    actor: User | None = None,
    campaign_locked: bool = False,
    new_target: bool = False,
) -> list[RiskFlag]:
    """Run the rules for ``target`` (the campaign itself when omitted) and the shared text-claims
    rules over ``texts``; store the findings as flags, idempotently: a finding seen again updates
    its flag, a flag whose finding is gone is resolved, an overridden flag stays overridden unless
    its severity rises. Returns the target's open flags, newest first.

    ``campaign_locked``: the caller's transaction already holds the campaign's row lock (strategy
    generation, creative review), so it is not taken again. ``new_target``: the target was created
    in the caller's transaction, so it has no flags yet and they are not looked up."""
    target = campaign if target is None else target
    kind = "campaign" if isinstance(target, Campaign) else target._meta.label_lower
    findings = list(run_rules(kind, target))
    texts = [text for text in texts if text]
    # What quotes the brief's own constraints back ("No guarantees of savings") claims nothing.
    quoted = quoted_texts(campaign) if texts else []
    for text in texts:
        findings.extend(run_rules("text", strip_quoted(text, quoted)))
    findings = merge_findings(findings)
    target_type = ContentType.objects.get_for_model(target, for_concrete_model=False)
    target_id = str(target.pk)
    now = timezone.now()
    raised: list[str] = []
    resolved: list[str] = []
    # No savepoint of its own: an error here fails the caller's transaction as a whole.
    with transaction.atomic(savepoint=False):
        if not campaign_locked:
            # The campaign's lock serialises assessments of anything of this campaign.
            campaign_for_update(campaign.pk)
        existing = (
            {}
            if new_target
            else {
                flag.code: flag
                for flag in RiskFlag.objects.filter(target_type=target_type, target_id=target_id)
            }
        )
        kept: list[RiskFlag] = []  # every flag of the target, as it is after this assessment
        for finding in findings:
            flag = existing.pop(finding.code, None)
            if flag is None:
                flag = RiskFlag.objects.create(
                    campaign=campaign,
                    severity=finding.severity,
                    code=finding.code,
                    message=finding.message,
                    target_type=target_type,
                    target_id=target_id,
                    target_repr=str(target)[:300],
                    created_at=now,
                    updated_at=now,
                )
                raised.append(finding.code)
            else:
                rose = SEVERITY_ORDER[finding.severity] > SEVERITY_ORDER[flag.severity]
                reopen = flag.status == RiskFlagStatus.RESOLVED or (
                    flag.status == RiskFlagStatus.OVERRIDDEN and rose
                )
                if reopen or flag.severity != finding.severity or flag.message != finding.message:
                    flag.severity, flag.message, flag.updated_at = finding.severity, finding.message, now
                    flag.target_repr = str(target)[:300]
                    if reopen:
                        flag.status = RiskFlagStatus.OPEN
                        flag.resolution_rationale, flag.resolved_by, flag.resolved_at = "", None, None
                        raised.append(finding.code)
                    flag.save()
            kept.append(flag)
        for flag in existing.values():  # no longer found
            if flag.status == RiskFlagStatus.OPEN:
                flag.status = RiskFlagStatus.RESOLVED
                flag.resolution_rationale = "No longer found when re-assessed."
                flag.resolved_at = flag.updated_at = now
                flag.save()
                resolved.append(flag.code)
        kept.extend(existing.values())
        if raised or resolved:
            record_audit_event(
                verb="risk.assessed",
                actor=actor,
                campaign=campaign,
                target=target,
                rationale=" ".join(f.message for f in findings if f.code in raised),
                metadata={"raised": raised, "resolved": resolved},
            )
    open_flags = [flag for flag in kept if flag.status == RiskFlagStatus.OPEN]
    return sorted(open_flags, key=lambda flag: (flag.created_at, flag.pk), reverse=True)


def assess_campaign_risk(
    *,
    campaign: Campaign,
    actor: User | None = None,
    campaign_locked: bool = False,
    new_target: bool = False,
) -> list[RiskFlag]:
    """The campaign's own rules plus the claims rules over its objective, niche and ICP."""
    return assess_risk(
        campaign=campaign,
        target=campaign,
        texts=[campaign.objective, campaign.target_niche, campaign.icp],
        actor=actor,
        campaign_locked=campaign_locked,
        new_target=new_target,
    )


def ensure_can_approve(
    *,
    user: User | None,
    campaign: Campaign,
    target: models.Model,
    open_flags: list[RiskFlag] | None = None,
) -> None:
    """Refuse (ApprovalNotPermittedError) when ``target`` has an open high-severity risk flag and
    ``user`` lacks ``campaigns.approve_high_risk``. Call it in every approval service; pass
    ``open_flags`` when the same transaction has just assessed the target (``assess_risk``)."""
    if open_flags is None:
        high = list(open_risk_flags(campaign=campaign, target=target).filter(severity=RiskSeverity.HIGH))
    else:
        high = [flag for flag in open_flags if flag.severity == RiskSeverity.HIGH]
    if not high:
        return
    if is_allowed(user, "work.approve_high_risk"):
        return
    listed = "; ".join(f"{flag.code}: {flag.message}" for flag in high)
    if user is not None and user.is_authenticated:
        needs = permission_needed(APPROVE_HIGH_RISK_PERMISSION, user)
    else:  # the system approves nothing flagged: a person decides
        needs = f"{permission_needed(APPROVE_HIGH_RISK_PERMISSION)}, which the system does not have"
    raise ApprovalNotPermittedError(
        f"{target} has {len(high)} open high-severity risk flag(s) ({listed}). Approving it needs "
        f"{needs}. Or resolve the flags first.",
        flags=[flag.code for flag in high],
    )


def high_risk_notice(*, user: User | None, campaign: Campaign) -> str:
    """What the campaign page tells ``user`` about open high-severity flags ("" when none): which
    flags on what, and whether this user may approve the flagged work anyway. A user who may (an
    approver, a superuser) is never told they lack the permission."""
    high = list(open_risk_flags(campaign=campaign).filter(severity=RiskSeverity.HIGH).order_by("pk"))
    if not high:
        return ""
    listed = ", ".join(f"{flag.code} on {flag.target_repr}" for flag in high[:5])
    if len(high) > 5:
        listed += f" and {len(high) - 5} more"
    text = f"{len(high)} open high-severity risk flag(s): {listed}. Resolve or override them under Risk flags"
    if is_allowed(user, "work.approve_high_risk"):
        return text + "; you may also approve the flagged work with them open."
    needs = permission_needed(APPROVE_HIGH_RISK_PERMISSION, user)
    return text + f"; approving the flagged work with them open needs {needs}."


def _close_flag(*, flag: RiskFlag, actor: User | None, rationale: str, status: str, verb: str) -> RiskFlag:
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError("Give a rationale.", field="rationale")
    with transaction.atomic(durable=True):
        campaign_for_update(flag.campaign_id)
        locked = RiskFlag.objects.get(pk=flag.pk)
        if locked.status != RiskFlagStatus.OPEN:
            raise DomainError(f"Risk flag {locked.pk} is already {locked.status}.")
        now = timezone.now()
        locked.status = status
        locked.resolution_rationale = rationale
        locked.resolved_by = acting_user(actor)
        locked.resolved_at = locked.updated_at = now
        locked.save()
        record_audit_event(
            verb=verb,
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            rationale=rationale,
            metadata={"code": locked.code, "severity": locked.severity, "target": locked.target_repr},
        )
    return locked


def override_risk_flag(*, flag: RiskFlag, actor: User | None, rationale: str) -> RiskFlag:
    """Accept a flagged risk with a rationale; needs ``campaigns.override_checks``."""
    if not is_allowed(actor, "risk.override"):
        raise ApprovalNotPermittedError(
            f"Overriding a risk flag needs {permission_needed(OVERRIDE_CHECKS_PERMISSION, actor)}."
        )
    return _close_flag(
        flag=flag, actor=actor, rationale=rationale, status=RiskFlagStatus.OVERRIDDEN, verb="risk.overridden"
    )


def resolve_risk_flag(*, flag: RiskFlag, actor: User | None, rationale: str) -> RiskFlag:
    """Mark a flag as dealt with (e.g. the claim was reworded and re-assessment is pending)."""
    return _close_flag(
        flag=flag, actor=actor, rationale=rationale, status=RiskFlagStatus.RESOLVED, verb="risk.resolved"
    )
