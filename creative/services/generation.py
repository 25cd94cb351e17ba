"""Generating creative from the approved strategy: one brief per platform, N checked drafts each."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError
from campaigns.models import Campaign, SpendKind, User
from campaigns.services.audit import record_audit_event
from campaigns.services.budget import ensure_budget_allows, record_spend
from strategy.models import CalendarItem
from strategy.selectors import approved_variant_for, brief_for_campaign

from ..adapters import get_creative_generator
from ..email_html import html_from_text
from ..errors import CreativeGenerationError
from ..models import CreativeBrief, CreativeVariant, Platform
from ..ports import CreativeRequest
from .common import apply_checks

MIN_VARIANTS, MAX_VARIANTS = 1, 5
LLM_COST_ESTIMATE = Decimal("0.02")  # per brief; the real cost is booked after generation
SOCIAL = (Platform.LINKEDIN, Platform.INSTAGRAM, Platform.X)


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
    put in review. The generator runs first; then everything is written in one transaction.
    Regenerating adds new briefs."""
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
    # The generator is called first, outside any transaction (a network call must not hold one
    # open); what it returns is stored afterwards in one transaction.
    generated = [
        _generate_for_platform(
            campaign, engine, strategy, brief, platform, item, pillar, variants=variants, actor=actor
        )
        for platform, item, pillar in _platform_plan(campaign, chosen, pillars)
    ]
    cost = sum((Decimal(str(result.cost)) for _, result in generated), Decimal("0"))
    with transaction.atomic():
        created = _store_generated(campaign, generated, actor)
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


def _platform_plan(campaign: Campaign, chosen: list[str], pillars: list[str]) -> list[tuple]:
    """(platform, calendar item, pillar) per chosen platform: a social brief takes the next open
    calendar item and its theme; the others take the strategy's pillars in turn."""
    plan = []
    for index, platform in enumerate(chosen):
        item = _next_calendar_item(campaign, platform) if platform in SOCIAL else None
        plan.append((platform, item, (item.theme if item else None) or pillars[index % len(pillars)]))
    return plan


def _generate_for_platform(campaign, engine, strategy, brief, platform, item, pillar, *, variants, actor):
    """The brief (not saved yet) and the generator's result for one platform."""
    # What the creative brief records is what the generator is asked for.
    asked = {
        "pillar": pillar[:300],
        "audience": (brief.audience if brief else campaign.icp) or "our audience",
        "offer": (brief.offer if brief else campaign.objective) or campaign.name,
        "cta": _cta_for(campaign),
        "tone": (brief.tone if brief else "professional"),
        "constraints": brief.constraints if brief else "",
    }
    creative_brief = CreativeBrief(
        campaign=campaign,
        strategy_variant=strategy,
        calendar_item=item,
        platform=platform,
        created_by=acting_user(actor),
        **asked,
    )
    request = CreativeRequest(
        platform=platform,
        campaign_name=campaign.name,
        campaign_type=campaign.type,
        variants=variants,
        **asked,
    )
    try:
        result = engine.generate(request)
    except CreativeGenerationError:
        raise
    except ValueError as exc:
        raise CreativeGenerationError(f"The {engine.name} generator failed for {platform}: {exc}") from exc
    return creative_brief, result


def _store_generated(campaign: Campaign, generated: list[tuple], actor: User | None) -> list[CreativeVariant]:
    """Save the briefs and their drafts (checked, in review); returns the new variants."""
    now = timezone.now()
    created: list[CreativeVariant] = []
    for creative_brief, result in generated:
        creative_brief.created_at = now
        creative_brief.save()
        for draft in result.drafts:
            variant = CreativeVariant(
                campaign=campaign,
                brief=creative_brief,
                platform=creative_brief.platform,
                angle=draft.angle,
                subject=draft.subject,
                preheader=draft.preheader,
                body=draft.body,
                # One source of truth: an email's HTML part is derived from its text.
                body_html=html_from_text(draft.body)
                if creative_brief.platform == Platform.EMAIL
                else draft.body_html,
                cta=draft.cta,
                hashtags=list(draft.hashtags),
                media_notes=draft.media_notes,
                generator=result.generator,
                created_by=acting_user(actor),
                created_at=now,
            )
            apply_checks(variant)
            variant.submit_for_review()
            created.append(variant)
    # All variants in one INSERT; each is the root of its own lineage (a revision points at the
    # first generation), which needs its id: one UPDATE, then one history row ("+") apiece that
    # already shows the root.
    CreativeVariant.objects.bulk_create(created)
    CreativeVariant.objects.filter(pk__in=[v.pk for v in created]).update(root_id=F("pk"))
    for variant in created:
        variant.root_id = variant.pk
    CreativeVariant.history.bulk_history_create(created, default_date=now)
    return created


def _cta_for(campaign: Campaign) -> str:
    return {
        "webinar": "Save your seat",
        "product_launch": "Join the early-access list",
        "content": "Subscribe for the next one",
    }.get(campaign.type, "Worth a 15-minute call")
