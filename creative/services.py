"""The only code that writes creative tables: generation, checks, review decisions, edits."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import can_proceed

from campaigns.errors import ActionNotPermittedError, DomainError, TransitionNotAllowedError
from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign, SpendKind, User
from campaigns.permissions import action_denial, is_allowed
from campaigns.services import (
    assess_risk,
    ensure_budget_allows,
    ensure_can_approve,
    record_audit_event,
    record_spend,
)
from strategy.models import CalendarItem
from strategy.selectors import approved_variant_for, brief_for_campaign

from .adapters import get_creative_generator
from .checks import CheckSettings, CreativeContent, run_checks
from .errors import CreativeGenerationError, CreativeNotApprovedError
from .lock_objects import creative_variant_for_update
from .models import CreativeBrief, CreativeState, CreativeVariant, Platform
from .personalization import render_merge_fields
from .ports import CreativeRequest

logger = logging.getLogger(__name__)

MIN_VARIANTS, MAX_VARIANTS = 1, 5
LLM_COST_ESTIMATE = Decimal("0.02")  # per brief; the real cost is booked after generation
SOCIAL = (Platform.LINKEDIN, Platform.INSTAGRAM, Platform.X)
EDITABLE_CONTENT = ("subject", "preheader", "body", "body_html", "cta", "hashtags", "media_notes")


# --- checks ----------------------------------------------------------------------------------


def _content_of(variant: CreativeVariant) -> CreativeContent:
    return CreativeContent(
        platform=variant.platform,
        subject=variant.subject,
        preheader=variant.preheader,
        body=variant.body,
        body_html=variant.body_html,
        cta=variant.cta,
        hashtags=tuple(variant.hashtags or ()),
        media_notes=variant.media_notes,
    )


def _apply_checks(variant: CreativeVariant) -> None:
    variant.check_findings = [f.as_dict() for f in run_checks(_content_of(variant), CheckSettings())]
    variant.checks_run_at = timezone.now()


# --- generation ------------------------------------------------------------------------------


def _campaign_platforms(campaign: Campaign, strategy_channels: Mapping[str, Any]) -> list[str]:
    enabled = list(dict.fromkeys([*campaign.channels, *strategy_channels]))
    return [p for p in Platform.values if p in enabled]


def _next_calendar_item(campaign: Campaign, platform: str) -> CalendarItem | None:
    return (
        CalendarItem.objects.filter(campaign=campaign, platform=platform, scheduled_at__gte=timezone.now())
        .exclude(creative_briefs__isnull=False)
        .order_by("scheduled_at")
        .first()
    )


def generate_creatives(
    *,
    campaign: Campaign,
    actor: User | None = None,
    variants: int = 3,
    platforms: list[str] | None = None,
    generator: str | None = None,
) -> list[CreativeVariant]:
    """From the approved strategy: one brief per platform, ``variants`` drafts each, checked and
    put in review. Everything is written in one transaction; regenerating adds new briefs."""
    if not isinstance(variants, int) or not MIN_VARIANTS <= variants <= MAX_VARIANTS:
        raise DomainError(
            f"variants must be a whole number from {MIN_VARIANTS} to {MAX_VARIANTS}, got {variants!r}.",
            field="variants",
        )
    strategy = approved_variant_for(campaign)
    if strategy is None:
        raise DomainError(
            f"Campaign {campaign.pk} has no approved strategy yet: approve one before generating creative.",
            field="campaign",
        )
    if campaign.is_final:
        raise DomainError(f"Campaign {campaign.pk} is {campaign.state}; no new creative for it.")
    available = _campaign_platforms(campaign, strategy.channel_mix or {})
    if platforms:
        unknown = [p for p in platforms if p not in Platform.values]
        if unknown:
            raise DomainError(
                f"Unknown platform(s) {', '.join(map(repr, unknown))}; known: {', '.join(Platform.values)}.",
                field="platforms",
            )
        chosen = [p for p in Platform.values if p in platforms]
    else:
        chosen = available
    if not chosen:
        raise DomainError("The campaign has no channel to write creative for.", field="platforms")
    brief = brief_for_campaign(campaign)
    pillars = list(strategy.pillars or []) or [campaign.objective or campaign.name]
    engine = get_creative_generator(generator)
    if engine.name != "template":
        # A paid call: refuse before spending when the budget cannot take the estimated cost.
        ensure_budget_allows(campaign=campaign, amount=LLM_COST_ESTIMATE * len(chosen))
    now = timezone.now()
    created: list[CreativeVariant] = []
    cost = Decimal("0")
    with transaction.atomic():
        for index, platform in enumerate(chosen):
            item = _next_calendar_item(campaign, platform) if platform in SOCIAL else None
            pillar = (item.theme if item else None) or pillars[index % len(pillars)]
            creative_brief = CreativeBrief.objects.create(
                campaign=campaign,
                strategy_variant=strategy,
                calendar_item=item,
                platform=platform,
                pillar=pillar[:300],
                audience=(brief.audience if brief else campaign.icp) or "our audience",
                offer=(brief.offer if brief else campaign.objective) or campaign.name,
                cta=_cta_for(campaign),
                tone=(brief.tone if brief else "professional"),
                constraints=brief.constraints if brief else "",
                created_by=_user(actor),
                created_at=now,
            )
            request = CreativeRequest(
                platform=platform,
                campaign_name=campaign.name,
                campaign_type=campaign.type,
                pillar=creative_brief.pillar,
                audience=creative_brief.audience,
                offer=creative_brief.offer,
                cta=creative_brief.cta,
                tone=creative_brief.tone,
                constraints=creative_brief.constraints,
                variants=variants,
            )
            try:
                result = engine.generate(request)
            except CreativeGenerationError:
                raise
            except ValueError as exc:
                raise CreativeGenerationError(
                    f"The {engine.name} generator failed for {platform}: {exc}"
                ) from exc
            cost += Decimal(str(result.cost))
            for draft in result.drafts:
                variant = CreativeVariant(
                    campaign=campaign,
                    brief=creative_brief,
                    platform=platform,
                    angle=draft.angle,
                    subject=draft.subject,
                    preheader=draft.preheader,
                    body=draft.body,
                    body_html=draft.body_html,
                    cta=draft.cta,
                    hashtags=list(draft.hashtags),
                    media_notes=draft.media_notes,
                    generator=result.generator,
                    created_by=_user(actor),
                    created_at=now,
                )
                _apply_checks(variant)
                variant.submit_for_review()
                created.append(variant)
        # All variants in one INSERT; each is the root of its own lineage (a revision points at the
        # first generation), which needs its id: one UPDATE, then one history row ("+") apiece
        # that already shows the root.
        CreativeVariant.objects.bulk_create(created)
        CreativeVariant.objects.filter(pk__in=[v.pk for v in created]).update(root_id=F("pk"))
        for variant in created:
            variant.root_id = variant.pk
        CreativeVariant.history.bulk_history_create(created, default_date=now)
        if cost > 0:
            record_spend(
                campaign=campaign,
                kind=SpendKind.AI_GENERATION,
                amount=cost,
                actor=actor,
                description=f"creative generation ({engine.name}, {len(created)} variants)",
                enforce_cap=False,
            )
        record_audit_event(
            verb="creative.generated",
            actor=actor,
            campaign=campaign,
            target=strategy,
            metadata={
                "platforms": chosen,
                "variants_per_brief": variants,
                "created": [v.pk for v in created],
                "generator": engine.name,
                "cost": str(cost),
            },
        )
    return created


def _cta_for(campaign: Campaign) -> str:
    return {
        "webinar": "Save your seat",
        "product_launch": "Join the early-access list",
        "content": "Subscribe for the next one",
    }.get(campaign.type, "Worth a 15-minute call")


def _user(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


# --- review decisions ------------------------------------------------------------------------


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
            _apply_checks(locked)
            # The campaign's lock serialises risk assessments of its content (variant, then
            # campaign, as before); the locked row is also the one the audit lines name.
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
                user=_user(actor), campaign=locked.campaign, target=locked, open_flags=open_flags
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
            locked.overridden_by = _user(actor)
            record_audit_event(
                verb="creative.checks_overridden",
                actor=actor,
                campaign=locked.campaign,
                target=locked,
                rationale=override_rationale,
                metadata={"findings": locked.blocking_findings},
            )
        method()
        if decision != "submit_for_review":
            locked.decided_by = _user(actor)
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
    return locked


def submit_creative_for_review(
    *, variant: CreativeVariant | int, actor: User | None = None
) -> CreativeVariant:
    return _decide(variant=variant, decision="submit_for_review", actor=actor, rationale="")


def approve_creative(
    *,
    variant: CreativeVariant | int,
    actor: User | None = None,
    rationale: str = "",
    override_rationale: str = "",
    campaign: Campaign | None = None,
) -> CreativeVariant:
    return _decide(
        variant=variant,
        decision="approve",
        actor=actor,
        rationale=rationale,
        override_rationale=override_rationale,
        campaign=campaign,
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


# --- edits and versions ------------------------------------------------------------------------


def edit_creative(
    *, variant: CreativeVariant | int, actor: User | None = None, rationale: str = "", **changes: Any
) -> CreativeVariant:
    """Edit content. Drafts and 'changes requested' versions change in place; any other version
    (approved, in review, rejected) is left untouched and a new draft version is made from it."""
    unknown = set(changes) - set(EDITABLE_CONTENT)
    if unknown:
        raise DomainError(f"These creative fields cannot be edited: {', '.join(sorted(unknown))}.")
    if "hashtags" in changes:
        tags = changes["hashtags"]
        if isinstance(tags, str):
            tags = tags.replace(",", " ").split()
        changes["hashtags"] = [str(t).strip().lstrip("#") for t in tags if str(t).strip()]
    variant_id = variant.pk if isinstance(variant, CreativeVariant) else int(variant)
    with transaction.atomic():
        source = creative_variant_for_update(variant_id)
        if source.campaign.is_final:
            raise DomainError(
                f"Campaign {source.campaign_id} is {source.campaign.state}; its creative is frozen."
            )
        if source.state in (CreativeState.DRAFT, CreativeState.CHANGES_REQUESTED):
            target = source
            for key, value in changes.items():
                setattr(target, key, value)
            verb = "creative.edited"
        else:
            target = CreativeVariant(
                campaign=source.campaign,
                brief=source.brief,
                platform=source.platform,
                angle=source.angle,
                variant_of=source,
                root_id=source.root_id or source.pk,
                generation=source.generation + 1,
                generator="edit",
                created_by=_user(actor),
                created_at=timezone.now(),
                **{key: changes.get(key, getattr(source, key)) for key in EDITABLE_CONTENT},
            )
            verb = "creative.versioned"
        _apply_checks(target)
        target._change_reason = rationale or verb
        target.save()
        record_audit_event(
            verb=verb,
            actor=actor,
            campaign=source.campaign,
            target=target,
            rationale=rationale,
            metadata={"from": source.pk, "fields": sorted(changes), "generation": target.generation},
        )
    return target


# --- what other apps call ----------------------------------------------------------------------


def ensure_creative_sendable(*, variant: CreativeVariant | int, campaign: Campaign | int) -> CreativeVariant:
    """Outreach calls this before scheduling or sending: only approved creative of that campaign."""
    variant_id = variant.pk if isinstance(variant, CreativeVariant) else int(variant)
    campaign_id = campaign.pk if isinstance(campaign, Campaign) else int(campaign)
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


SAMPLE_LEAD = {
    "first_name": "Alex",
    "last_name": "Sample",
    "full_name": "Alex Sample",
    "email": "alex@example.com",
    "company": "Example Co",
    "title": "Head of Growth",
    "industry": "Software",
    "country": "US",
    "city": "Austin",
}
SAMPLE_SENDER = {
    "sender_name": "Your name",
    "sender_company": "Your agency",
    "sender_address": "1 Example Street, Springfield",
    "unsubscribe_url": "https://example.com/u/preview/",
}


@dataclass(frozen=True)
class RenderedCreative:
    subject: str
    preheader: str
    body: str
    body_html: str
    missing: tuple[str, ...]


def render_creative(
    *, variant: CreativeVariant, context: Mapping[str, Any] | None = None
) -> RenderedCreative:
    """Render merge fields for one reader. Without a context, a sample lead and sender are used."""
    merged = {**SAMPLE_SENDER, **SAMPLE_LEAD} if context is None else dict(context)
    parts = [
        render_merge_fields(variant.subject, merged),
        render_merge_fields(variant.preheader, merged),
        render_merge_fields(variant.body, merged),
        render_merge_fields(variant.body_html, merged, escape_html=True),
    ]
    missing = tuple(dict.fromkeys(name for part in parts for name in part.missing))
    return RenderedCreative(parts[0].text, parts[1].text, parts[2].text, parts[3].text, missing)
