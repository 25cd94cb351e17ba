"""Review decisions on creative (submit, approve, request changes, reject) and the check other apps
make before sending it.

The review loop: generated drafts go straight to review; an edit of a draft or of a version with
changes requested changes it in place, an edit of any other version is a new draft version; either
goes back to review with ``submit_creative_for_review`` (from draft or changes requested).

Text and HTML: approving an email whose hand-written HTML part says something other than its text
body (``html_differences``) needs ``acknowledge_html_difference=True`` — the reviewer has seen both
and accepts that readers of each get what it says; the acknowledgement and the differing lines are
recorded in the audit timeline. Without it the approval is refused (a 400 naming the field)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from campaigns.actors import acting_user
from campaigns.errors import ActionNotPermittedError, DomainError, TransitionNotAllowedError
from campaigns.events import actor_name, emit_event
from campaigns.ids import campaign_id_of
from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign, User
from campaigns.permissions import action_denial, is_allowed
from campaigns.services.audit import record_audit_event
from campaigns.services.risk_flags import assess_risk, ensure_can_approve

from ..errors import CreativeNotApprovedError
from ..lock_objects import creative_variant_for_update
from ..models import CreativeState, CreativeVariant
from .common import apply_checks
from .rendering import html_differences


@dataclass(frozen=True)
class _Decision:
    method: str
    verb: str
    label: str
    rationale_required: bool


DECISIONS = {
    "submit_for_review": _Decision("submit_for_review", "creative.submitted", "submit for review", False),
    "approve": _Decision("approve", "creative.approved", "approve", False),
    "request_changes": _Decision("request_changes", "creative.changes_requested", "request changes to", True),
    "reject": _Decision("reject", "creative.rejected", "reject", True),
}


def _decide(
    *,
    variant: CreativeVariant | int,
    decision: str,
    actor: User | None,
    rationale: str,
    campaign: Campaign | None = None,
    override_rationale: str = "",
    acknowledge_html_difference: bool = False,
) -> CreativeVariant:
    step = DECISIONS[decision]
    rationale = (rationale or "").strip()
    if step.rationale_required and not rationale:
        raise DomainError(f"A rationale is required to {step.label} a creative.", field="rationale")
    variant_id = variant.pk if isinstance(variant, CreativeVariant) else int(variant)
    with transaction.atomic():
        try:
            locked = creative_variant_for_update(variant_id)
        except CreativeVariant.DoesNotExist:
            raise DomainError(f"Creative {variant_id} does not exist.") from None
        if campaign is not None and locked.campaign_id != campaign.pk:
            raise DomainError(f"Creative {variant_id} belongs to another campaign.", field="creative")
        method = getattr(locked, step.method)
        if not can_proceed(method):
            raise TransitionNotAllowedError(
                f"Cannot {step.label} creative {variant_id}: it is {locked.state.replace('_', ' ')}.",
                state=locked.state,
                transition=decision,
            )
        open_flags = None
        if decision in ("submit_for_review", "approve"):
            apply_checks(locked)
            # The campaign's lock (taken after the variant's above) serialises risk assessments of
            # its content; the locked row is also the one the audit lines name.
            locked.campaign = campaign_for_update(locked.campaign_id)
            open_flags = assess_risk(
                campaign=locked.campaign,
                target=locked,
                actor=actor,
                texts=[locked.subject, locked.preheader, locked.body, locked.cta],
                campaign_locked=True,
            )
        if decision == "approve":
            ensure_can_approve(
                user=acting_user(actor), campaign=locked.campaign, target=locked, open_flags=open_flags
            )
        override_rationale = (override_rationale or "").strip()
        if decision == "approve" and locked.blocking_findings:
            if actor is not None and not is_allowed(actor, "creative.override_checks", locked):
                # Whatever allow_client_approval says: approving failing work is an override, and
                # overrides are the agency's (the approver role), never the client's.
                problems = "; ".join(f["message"] for f in locked.blocking_findings)
                raise ActionNotPermittedError(
                    f"Creative {variant_id} fails its checks: {problems} Fix it first; "
                    + action_denial(actor, "creative.override_checks", locked),
                    action="creative.override_checks",
                    findings=locked.blocking_findings,
                )
            if not override_rationale:
                problems = "; ".join(f["message"] for f in locked.blocking_findings)
                raise DomainError(
                    f"Creative {variant_id} fails its checks: {problems} Fix it, or approve with an override "
                    "rationale.",
                    field="override_rationale",
                    findings=locked.blocking_findings,
                )
            locked.override_rationale = override_rationale
            locked.overridden_by = acting_user(actor)
            record_audit_event(
                verb="creative.checks_overridden",
                actor=actor,
                campaign=locked.campaign,
                target=locked,
                rationale=override_rationale,
                metadata={"findings": locked.blocking_findings},
            )
        if decision == "approve":
            _ensure_html_difference_acknowledged(locked, actor, acknowledge_html_difference)
        method()
        if decision != "submit_for_review":
            locked.decided_by = acting_user(actor)
            locked.decided_at = timezone.now()
            locked.decision_rationale = rationale
        locked._change_reason = rationale or step.verb
        locked.save()
        record_audit_event(
            verb=step.verb,
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            rationale=rationale,
            metadata={"state": locked.state, "generation": locked.generation, "root_id": locked.root_id},
        )
        if decision == "approve":
            emit_event(
                "creative.approved",
                client=locked.campaign.client_id,
                campaign=locked.campaign,
                data={
                    "creative_id": locked.pk,
                    "subject": locked.subject,
                    "actor": actor_name(actor),
                    "rationale": rationale,
                },
            )
    return locked


def _ensure_html_difference_acknowledged(
    locked: CreativeVariant, actor: User | None, acknowledged: bool
) -> None:
    """Refuse to approve an email whose HTML part says something else than its text, unless the
    reviewer says they have seen the difference (then it is recorded with the lines that differ)."""
    differences = html_differences(locked)
    if not differences:
        return
    lines = [d.as_dict() for d in differences]
    if not acknowledged:
        raise DomainError(
            f"Creative {locked.pk}'s HTML part says something other than its text body in "
            f"{len(differences)} place(s): readers would get different emails. Compare them, then fix the "
            "HTML (clear it to derive it from the text) or approve acknowledging the difference.",
            field="acknowledge_html_difference",
            differences=lines,
        )
    record_audit_event(
        verb="creative.html_difference_acknowledged",
        actor=actor,
        campaign=locked.campaign,
        target=locked,
        metadata={"differences": lines},
    )


def submit_creative_for_review(
    *, variant: CreativeVariant | int, actor: User | None = None, campaign: Campaign | None = None
) -> CreativeVariant:
    """Back to review from draft or changes requested (checks and risk assessed again)."""
    return _decide(
        variant=variant, decision="submit_for_review", actor=actor, rationale="", campaign=campaign
    )


def approve_creative(
    *,
    variant: CreativeVariant | int,
    actor: User | None = None,
    rationale: str = "",
    override_rationale: str = "",
    campaign: Campaign | None = None,
    acknowledge_html_difference: bool = False,
) -> CreativeVariant:
    return _decide(
        variant=variant,
        decision="approve",
        actor=actor,
        rationale=rationale,
        override_rationale=override_rationale,
        campaign=campaign,
        acknowledge_html_difference=acknowledge_html_difference,
    )


def request_creative_changes(
    *,
    variant: CreativeVariant | int,
    actor: User | None = None,
    rationale: str,
    campaign: Campaign | None = None,
) -> CreativeVariant:
    return _decide(
        variant=variant, decision="request_changes", actor=actor, rationale=rationale, campaign=campaign
    )


def reject_creative(
    *,
    variant: CreativeVariant | int,
    actor: User | None = None,
    rationale: str,
    campaign: Campaign | None = None,
) -> CreativeVariant:
    return _decide(variant=variant, decision="reject", actor=actor, rationale=rationale, campaign=campaign)


# --- what other apps call ----------------------------------------------------------------------


def ensure_creative_sendable(*, variant: CreativeVariant | int, campaign: Campaign | int) -> CreativeVariant:
    """Outreach calls this before scheduling or sending: only approved creative of that campaign."""
    variant_id = variant.pk if isinstance(variant, CreativeVariant) else int(variant)
    campaign_id = campaign_id_of(campaign)
    found = CreativeVariant.objects.filter(pk=variant_id).first()
    if found is None:
        raise CreativeNotApprovedError(f"Creative {variant_id} does not exist.")
    if found.campaign_id != campaign_id:
        raise CreativeNotApprovedError(f"Creative {variant_id} belongs to another campaign.")
    if found.state != CreativeState.APPROVED:
        raise CreativeNotApprovedError(
            f"Creative {variant_id} is {found.state.replace('_', ' ')}; "
            "only approved creative can be scheduled or sent.",
            state=found.state,
        )
    return found
