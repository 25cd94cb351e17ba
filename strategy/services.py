"""The only code that writes this app's tables. Each public function is one audited business action.

Generation calls the generator outside any transaction (an LLM may take a minute), validates the
output against the shared schema, then writes the batch and its variants in one transaction.
Approval writes the decision, the plan and the calendar and moves the campaign in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.campaign_types import get_campaign_type
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.lock_objects import campaign_for_update
from campaigns.models import CHANNEL_KEYS, Campaign, CampaignState, User
from campaigns.services import (
    SYSTEM_ACTOR_LABEL,
    approve_campaign,
    record_audit_event,
    start_campaign_planning,
    submit_campaign_for_approval,
)

from .adapters import get_generator
from .lock_objects import variant_for_update, variants_of_campaign_for_update
from .models import (
    DEFAULT_VARIANTS,
    MAX_VARIANTS,
    MIN_VARIANTS,
    Brief,
    CalendarItem,
    CampaignPlan,
    DecisionAction,
    PlanPhase,
    StrategyBatch,
    StrategyDecision,
    StrategyVariant,
    Tone,
    VariantState,
)
from .ports import CampaignTypeProfile, GeneratedStrategies, StrategyGenerationError, StrategyRequest
from .schema import StrategySchemaError, validate_strategy_payload
from .selectors import approved_variant_for

logger = logging.getLogger(__name__)

DEFAULT_DURATION_DAYS = 90
BUSINESS_DAY_START = dt.time(9, 0)
BUSINESS_MINUTES = 8 * 60  # 09:00-17:00 in the campaign's time zone
CHANNEL_ALIASES = {"twitter": "x", "e-mail": "email", "ig": "instagram", "li": "linkedin"}
BRIEF_FIELDS = ("objective", "audience", "offer", "channels", "tone", "constraints", "budget", "currency")


class StrategyError(DomainError):
    code = "strategy_generation_failed"


# --- brief ---------------------------------------------------------------------------------------


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
        if not re.fullmatch(r"[A-Z]{3}", currency):
            errors.setdefault("currency", []).append("Use a three-letter ISO code such as USD or EUR.")
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
                changes[name] = [None if created else _jsonable(before), _jsonable(value)]
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


# --- generation ------------------------------------------------------------------------------


def campaign_duration_days(campaign: Campaign) -> int:
    if campaign.start_date and campaign.end_date:
        return (campaign.end_date - campaign.start_date).days + 1
    return DEFAULT_DURATION_DAYS


def build_strategy_request(*, campaign: Campaign, brief: Brief, variant_count: int) -> StrategyRequest:
    ctype = get_campaign_type(campaign.type)
    return StrategyRequest(
        campaign_name=campaign.name,
        campaign_type=CampaignTypeProfile(
            key=ctype.key,
            label=ctype.label,
            description=ctype.description,
            phases=tuple(
                {"key": p.key, "name": p.name, "share": p.share, "tactics": list(p.tactics)}
                for p in ctype.phases
            ),
            default_kpis=dict(ctype.default_kpis),
            channel_mix=dict(ctype.channel_mix),
        ),
        brief=brief_snapshot(brief),
        variant_count=variant_count,
        duration_days=campaign_duration_days(campaign),
        target_clients=campaign.target_clients,
    )


def _check_variant_count(variants: Any) -> int:
    try:
        count = int(variants)
    except (TypeError, ValueError):
        raise DomainError(
            f"variants must be a whole number from {MIN_VARIANTS} to {MAX_VARIANTS}.", field="variants"
        ) from None
    if not MIN_VARIANTS <= count <= MAX_VARIANTS:
        raise DomainError(
            f"Ask for {MIN_VARIANTS} to {MAX_VARIANTS} variants (got {count}).", field="variants"
        )
    return count


def _run_generator(*, campaign: Campaign, actor: User | None, variants: Any, generator: str | None):
    count = _check_variant_count(variants)
    if campaign.is_final:
        raise TransitionNotAllowedError(
            f"Campaign {campaign.pk} is {campaign.state}; no new strategies can be generated for it.",
            state=campaign.state,
        )
    brief = ensure_brief(campaign=campaign, actor=actor)
    request = build_strategy_request(campaign=campaign, brief=brief, variant_count=count)
    try:
        output = get_generator(generator).generate(request)
        # Whatever the adapter, nothing is stored that does not fit the shared schema.
        validate_strategy_payload({"variants": output.variants}, expected_variants=count)
    except (StrategyGenerationError, StrategySchemaError) as exc:
        raise StrategyError(f"Strategy generation failed for campaign {campaign.pk}: {exc}") from exc
    return request, output


def generate_strategies(
    *,
    campaign: Campaign | int,
    actor: User | None = None,
    variants: int = DEFAULT_VARIANTS,
    generator: str | None = None,
) -> StrategyBatch:
    """Generate a new batch of variants for the campaign (earlier batches are kept untouched).

    A campaign still in draft or planning moves on to awaiting approval, through the campaign
    services (so each step is audited), in the same transaction as the variants.
    """
    campaign = _campaign(campaign)
    request, output = _run_generator(campaign=campaign, actor=actor, variants=variants, generator=generator)
    with transaction.atomic():
        return _store_batch(campaign=campaign, actor=actor, request=request, output=output)


def _store_batch(
    *, campaign: Campaign, actor: User | None, request: StrategyRequest, output: GeneratedStrategies
) -> StrategyBatch:
    locked = campaign_for_update(campaign.pk)
    if locked.is_final:
        raise TransitionNotAllowedError(
            f"Campaign {locked.pk} is {locked.state}; no new strategies can be generated for it.",
            state=locked.state,
        )
    now = timezone.now()
    last = StrategyBatch.objects.filter(campaign=locked).order_by("-number").first()
    batch = StrategyBatch.objects.create(
        campaign=locked,
        number=(last.number + 1) if last else 1,
        generator=output.generator,
        model_name=output.model_name,
        brief_snapshot=request.brief,
        requested_variants=request.variant_count,
        duration_days=request.duration_days,
        prompt_tokens=output.prompt_tokens,
        completion_tokens=output.completion_tokens,
        generation_cost=output.cost,
        cost_currency=output.cost_currency,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        created_at=now,
    )
    StrategyVariant.objects.bulk_create(
        [
            StrategyVariant(
                campaign=locked,
                batch=batch,
                position=position,
                angle=data["angle"],
                title=data["title"],
                positioning=data["positioning"],
                pillars=data["pillars"],
                channel_mix=data["channel_mix"],
                cadence=data["cadence"],
                phases=data["phases"],
                kpi_targets=data["kpi_targets"],
                budget_split=data["budget_split"],
                risks=data["risks"],
                created_at=now,
            )
            for position, data in enumerate(output.variants, start=1)
        ]
    )
    record_audit_event(
        verb="strategy.generated",
        actor=actor,
        campaign=locked,
        target=batch,
        metadata={
            "batch_id": batch.pk,
            "batch_number": batch.number,
            "generator": batch.generator,
            "model": batch.model_name,
            "variants": request.variant_count,
            "angles": [v["angle"] for v in output.variants],
            "prompt_tokens": batch.prompt_tokens,
            "completion_tokens": batch.completion_tokens,
            "cost": str(batch.generation_cost),
            "cost_currency": batch.cost_currency,
        },
    )
    reason = f"strategy batch {batch.number} generated"
    if locked.state == CampaignState.DRAFT:
        locked = start_campaign_planning(campaign=locked, actor=actor, rationale=reason)
    if locked.state == CampaignState.PLANNING:
        submit_campaign_for_approval(campaign=locked, actor=actor, rationale=reason)
    return batch


# --- choice --------------------------------------------------------------------------------------


def _campaign(campaign: Campaign | int) -> Campaign:
    if isinstance(campaign, Campaign):
        return campaign
    try:
        return Campaign.objects.get(pk=campaign)
    except Campaign.DoesNotExist:
        raise DomainError(f"Campaign {campaign} does not exist.") from None


def _variant_id(variant: StrategyVariant | int) -> int:
    return variant.pk if isinstance(variant, StrategyVariant) else int(variant)


def _lock_variant(variant: StrategyVariant | int, expected_campaign: Campaign | int | None):
    variant_id = _variant_id(variant)
    campaign_id = StrategyVariant.objects.filter(pk=variant_id).values_list("campaign_id", flat=True).first()
    if campaign_id is None:
        raise DomainError(f"Strategy variant {variant_id} does not exist.")
    if expected_campaign is not None:
        expected_id = (
            expected_campaign.pk if isinstance(expected_campaign, Campaign) else int(expected_campaign)
        )
        if expected_id != campaign_id:
            raise DomainError(
                f"Strategy variant {variant_id} belongs to campaign {campaign_id}, not to campaign "
                f"{expected_id}; a campaign can only use its own strategies.",
                field="variant",
            )
    campaign = campaign_for_update(campaign_id)
    return campaign, variant_for_update(variant_id)


def _actor_label(actor: User | None) -> str:
    return actor.get_username() if actor is not None and actor.is_authenticated else SYSTEM_ACTOR_LABEL


def _record_decision(*, variant: StrategyVariant, action: str, actor: User | None, rationale: str) -> None:
    StrategyDecision.objects.create(
        campaign_id=variant.campaign_id,
        variant=variant,
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=_actor_label(actor),
        rationale=rationale,
        created_at=timezone.now(),
    )


def _variant_metadata(variant: StrategyVariant, **extra: Any) -> dict[str, Any]:
    return {
        "variant_id": variant.pk,
        "batch_id": variant.batch_id,
        "angle": variant.angle,
        "title": variant.title,
        **extra,
    }


def select_strategy_variant(
    *,
    variant: StrategyVariant | int,
    actor: User | None = None,
    rationale: str = "",
    campaign: Campaign | int | None = None,
) -> StrategyVariant:
    """Mark the campaign's chosen option. Any other selected variant of the campaign (its batch or
    an older one) goes back to proposed, so there is at most one selection to approve."""
    rationale = (rationale or "").strip()
    with transaction.atomic():
        locked_campaign, locked = _lock_variant(variant, campaign)
        if locked_campaign.is_final:
            raise TransitionNotAllowedError(
                f"Campaign {locked_campaign.pk} is {locked_campaign.state}; "
                "its strategy can no longer change.",
                state=locked.state,
            )
        if locked.state == VariantState.SELECTED:
            return locked
        approved = approved_variant_for(locked_campaign)
        if approved is not None:
            raise TransitionNotAllowedError(
                f"Campaign {locked_campaign.pk} already has an approved strategy (variant {approved.pk}); "
                "nothing else can be selected.",
                state=locked.state,
            )
        if locked.state != VariantState.PROPOSED:
            raise TransitionNotAllowedError(
                f"Strategy variant {locked.pk} is {locked.state}; only a proposed variant can be selected.",
                state=locked.state,
            )
        deselected = []
        for other in variants_of_campaign_for_update(locked_campaign.pk):
            if other.pk != locked.pk and other.state == VariantState.SELECTED:
                other.deselect()
                other.save(update_fields=["state"])
                deselected.append(other.pk)
        locked.select()
        locked.save(update_fields=["state"])
        _record_decision(variant=locked, action=DecisionAction.SELECTED, actor=actor, rationale=rationale)
        record_audit_event(
            verb="strategy.selected",
            actor=actor,
            campaign=locked_campaign,
            target=locked,
            rationale=rationale,
            metadata=_variant_metadata(locked, deselected=deselected),
        )
    return locked


def approve_strategy_variant(
    *,
    variant: StrategyVariant | int,
    actor: User | None = None,
    rationale: str = "",
    campaign: Campaign | int | None = None,
) -> StrategyVariant:
    """Approve the selected variant: records the decision, builds the plan and calendar and moves
    the campaign to approved, all in one transaction. Refuses (changing nothing) when the variant
    is not selected, when the campaign already has an approved strategy, or when ``campaign`` is
    given and the variant belongs to another campaign."""
    rationale = (rationale or "").strip()
    with transaction.atomic():
        locked_campaign, locked = _lock_variant(variant, campaign)
        if locked_campaign.is_final:
            raise TransitionNotAllowedError(
                f"Campaign {locked_campaign.pk} is {locked_campaign.state}; "
                "its strategy can no longer be approved.",
                state=locked.state,
            )
        approved = approved_variant_for(locked_campaign)
        if approved is not None:
            who = approved.decided_by.get_username() if approved.decided_by else SYSTEM_ACTOR_LABEL
            when = f"{approved.decided_at:%Y-%m-%d %H:%M} UTC" if approved.decided_at else "earlier"
            if approved.pk == locked.pk:
                message = f"Strategy variant {locked.pk} is already approved (by {who}, {when})."
            else:
                message = (
                    f"Campaign {locked_campaign.pk} already has an approved strategy: variant {approved.pk} "
                    f"(by {who}, {when}). Only one strategy per campaign can be approved."
                )
            raise TransitionNotAllowedError(message, state=locked.state)
        if locked.state != VariantState.SELECTED:
            hint = "select it first" if locked.state == VariantState.PROPOSED else "it was rejected"
            raise TransitionNotAllowedError(
                f"Strategy variant {locked.pk} is {locked.state}, not selected: {hint}. "
                "Only the selected variant can be approved.",
                state=locked.state,
            )
        locked.approve()
        locked.decided_by = actor if actor is not None and actor.is_authenticated else None
        locked.decided_at = timezone.now()
        locked.decision_rationale = rationale
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_rationale"])
        _record_decision(variant=locked, action=DecisionAction.APPROVED, actor=actor, rationale=rationale)
        record_audit_event(
            verb="strategy.approved",
            actor=actor,
            campaign=locked_campaign,
            target=locked,
            rationale=rationale,
            metadata=_variant_metadata(locked),
        )
        build_plan_and_calendar(campaign=locked_campaign, actor=actor)
        _advance_campaign_to_approved(
            campaign=locked_campaign, actor=actor, variant=locked, rationale=rationale
        )
    return locked


def _advance_campaign_to_approved(
    *, campaign: Campaign, actor: User | None, variant: StrategyVariant, rationale: str
) -> None:
    reason = rationale or f"strategy variant {variant.pk} approved"
    state = Campaign.objects.values_list("state", flat=True).get(pk=campaign.pk)
    if state == CampaignState.DRAFT:
        start_campaign_planning(campaign=campaign.pk, actor=actor, rationale=reason)
        state = CampaignState.PLANNING
    if state == CampaignState.PLANNING:
        submit_campaign_for_approval(campaign=campaign.pk, actor=actor, rationale=reason)
        state = CampaignState.AWAITING_APPROVAL
    if state == CampaignState.AWAITING_APPROVAL:
        try:
            approve_campaign(campaign=campaign.pk, actor=actor, rationale=reason)
        except TransitionNotAllowedError as exc:
            # Another app's rule still blocks campaign approval; the strategy decision stands and
            # the campaign waits in awaiting_approval with the reason logged.
            logger.info("campaign %s stays awaiting approval: %s", campaign.pk, exc)


def reject_strategy_variant(
    *,
    variant: StrategyVariant | int,
    actor: User | None = None,
    rationale: str,
    campaign: Campaign | int | None = None,
) -> StrategyVariant:
    rationale = (rationale or "").strip()
    if not rationale:
        raise DomainError("A rationale is required to reject a strategy variant.", field="rationale")
    with transaction.atomic():
        locked_campaign, locked = _lock_variant(variant, campaign)
        if locked.state not in (VariantState.PROPOSED, VariantState.SELECTED):
            raise TransitionNotAllowedError(
                f"Strategy variant {locked.pk} is {locked.state}; only a proposed or selected variant "
                "can be rejected.",
                state=locked.state,
            )
        locked.reject()
        locked.decided_by = actor if actor is not None and actor.is_authenticated else None
        locked.decided_at = timezone.now()
        locked.decision_rationale = rationale
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_rationale"])
        _record_decision(variant=locked, action=DecisionAction.REJECTED, actor=actor, rationale=rationale)
        record_audit_event(
            verb="strategy.rejected",
            actor=actor,
            campaign=locked_campaign,
            target=locked,
            rationale=rationale,
            metadata=_variant_metadata(locked),
        )
    return locked


# --- plan and calendar ---------------------------------------------------------------------------


def _plan_dates(campaign: Campaign) -> tuple[dt.date, dt.date]:
    start = campaign.start_date or timezone.now().astimezone(zoneinfo.ZoneInfo(campaign.timezone)).date()
    end = campaign.end_date or start + dt.timedelta(days=DEFAULT_DURATION_DAYS - 1)
    return start, max(start, end)


def _phase_ranges(phases: list[dict], start: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    total_share = sum(p["share"] for p in phases) or 1.0
    ranges, cumulative = [], 0.0
    for index, phase in enumerate(phases):
        first = start + dt.timedelta(days=min(days - 1, round(days * cumulative / total_share)))
        cumulative += phase["share"]
        if index == len(phases) - 1:
            last = start + dt.timedelta(days=days - 1)
        else:
            last = start + dt.timedelta(days=max(0, round(days * cumulative / total_share) - 1))
        ranges.append((first, max(first, last)))
    return ranges


def _phase_metrics(kpis: dict[str, float], cumulative_share: float) -> dict[str, float]:
    """Volume KPIs as the cumulative target due by the end of the phase; rates hold throughout."""
    return {
        name: (round(value * cumulative_share) if value >= 1 and not name.endswith("_max") else value)
        for name, value in kpis.items()
    }


def build_plan_and_calendar(*, campaign: Campaign | int, actor: User | None = None) -> CampaignPlan:
    """Lay the approved variant over the campaign's dates (default 90 days from today) and fill
    the content calendar from its cadence. Re-running updates in place: no duplicate items, and
    items an operator edited are left as they are."""
    campaign = _campaign(campaign)
    with transaction.atomic():
        locked = campaign_for_update(campaign.pk)
        variant = approved_variant_for(locked)
        if variant is None:
            raise TransitionNotAllowedError(
                f"Campaign {locked.pk} has no approved strategy variant; approve one before building a plan."
            )
        start, end = _plan_dates(locked)
        days = (end - start).days + 1
        now = timezone.now()
        plan, created = CampaignPlan.objects.update_or_create(
            campaign=locked,
            defaults={
                "variant": variant,
                "start_date": start,
                "end_date": end,
                "timezone": locked.timezone,
                "kpi_targets": variant.kpi_targets,
                "updated_at": now,
            },
            create_defaults={
                "variant": variant,
                "start_date": start,
                "end_date": end,
                "timezone": locked.timezone,
                "kpi_targets": variant.kpi_targets,
                "created_at": now,
                "updated_at": now,
            },
        )
        phases = _sync_phases(plan=plan, variant=variant, start=start, days=days)
        calendar_rows = calendar_slots(
            variant=variant, phases=phases, start=start, end=end, tz_name=locked.timezone
        )
        counts = _sync_calendar_items(plan=plan, rows=calendar_rows, now=now)
        record_audit_event(
            verb="strategy.plan_built" if created else "strategy.plan_rebuilt",
            actor=actor,
            campaign=locked,
            target=plan,
            metadata={
                "variant_id": variant.pk,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "phases": len(phases),
                **counts,
            },
        )
    return plan


def _sync_phases(
    *, plan: CampaignPlan, variant: StrategyVariant, start: dt.date, days: int
) -> list[PlanPhase]:
    ranges = _phase_ranges(variant.phases, start, days)
    existing = {p.position: p for p in PlanPhase.objects.filter(plan=plan)}
    total_share = sum(p["share"] for p in variant.phases) or 1.0
    phases, cumulative = [], 0.0
    for position, (data, (first, last)) in enumerate(zip(variant.phases, ranges, strict=True), start=1):
        cumulative += data["share"]
        values = {
            "campaign_id": plan.campaign_id,
            "key": data["key"],
            "name": data["name"],
            "start_date": first,
            "end_date": last,
            "tactics": data["tactics"],
            "metrics": data.get("metrics") or _phase_metrics(variant.kpi_targets, cumulative / total_share),
        }
        phase = existing.pop(position, None) or PlanPhase(plan=plan, position=position)
        for name, value in values.items():
            setattr(phase, name, value)
        phase.save()
        phases.append(phase)
    if existing:
        PlanPhase.objects.filter(pk__in=[p.pk for p in existing.values()]).delete()
    return phases


def calendar_slots(
    *, variant: StrategyVariant, phases: list[PlanPhase], start: dt.date, end: dt.date, tz_name: str
) -> list[dict[str, Any]]:
    """Calendar rows from the cadence: posts per week spread over business days, at times inside
    09:00-17:00 in the campaign's time zone. Deterministic, so a rebuild finds the same slots."""
    tz = zoneinfo.ZoneInfo(tz_name)
    pillars = variant.pillars or [variant.title]
    rows: list[dict[str, Any]] = []
    theme_counter = 0
    window_start = start
    while window_start <= end:
        window = [window_start + dt.timedelta(days=i) for i in range(7)]
        business_days = [d for d in window if d <= end and d.weekday() < 5]
        for channel_index, (channel, cadence) in enumerate(sorted(variant.cadence.items())):
            if not business_days:
                break
            per_week = int(cadence["per_week"])
            # A partial last week gets its share of the weekly cadence.
            posts = per_week if len(business_days) == 5 else round(per_week * len(business_days) / 5)
            n_days = len(business_days)
            for k in range(posts):
                if posts <= n_days:
                    day, slot_round = business_days[k * n_days // posts], 0
                else:
                    day, slot_round = business_days[k % n_days], k // n_days
                minutes = (
                    channel_index * 97 + slot_round * 151 + day.toordinal() % 4 * 15
                ) % BUSINESS_MINUTES
                minutes -= minutes % 15
                local = dt.datetime.combine(day, BUSINESS_DAY_START, tzinfo=tz) + dt.timedelta(
                    minutes=minutes
                )
                phase = next(
                    (p for p in phases if p.start_date <= day <= p.end_date), phases[-1] if phases else None
                )
                pillar = pillars[theme_counter % len(pillars)]
                theme_counter += 1
                rows.append(
                    {
                        "slot_key": f"{channel}:{day.isoformat()}:{slot_round}",
                        "scheduled_at": local,
                        "platform": channel,
                        "content_type": str(cadence["content_type"])[:80],
                        "theme": (f"{phase.name}: {pillar}" if phase else pillar)[:300],
                        "phase": phase,
                    }
                )
        window_start += dt.timedelta(days=7)
    return rows


def _sync_calendar_items(
    *, plan: CampaignPlan, rows: list[dict[str, Any]], now: dt.datetime
) -> dict[str, int]:
    existing = {item.slot_key: item for item in CalendarItem.objects.filter(campaign_id=plan.campaign_id)}
    to_create, to_update = [], []
    for row in rows:
        item = existing.pop(row["slot_key"], None)
        if item is None:
            to_create.append(
                CalendarItem(campaign_id=plan.campaign_id, plan=plan, created_at=now, updated_at=now, **row)
            )
        elif not item.edited_by_operator:
            for name, value in row.items():
                setattr(item, name, value)
            item.plan = plan
            item.updated_at = now
            to_update.append(item)
    CalendarItem.objects.bulk_create(to_create)
    if to_update:
        CalendarItem.objects.bulk_update(
            to_update, ["scheduled_at", "platform", "content_type", "theme", "phase", "plan", "updated_at"]
        )
    # Generated slots that no longer exist go; operators' edited items stay.
    stale = [item.pk for item in existing.values() if not item.edited_by_operator]
    if stale:
        CalendarItem.objects.filter(pk__in=stale).delete()
    return {
        "calendar_created": len(to_create),
        "calendar_updated": len(to_update),
        "calendar_removed": len(stale),
    }


CALENDAR_EDITABLE_FIELDS = ("scheduled_at", "platform", "content_type", "theme", "notes")


def update_calendar_item(*, item: CalendarItem, actor: User | None = None, **fields: Any) -> CalendarItem:
    """An operator's edit; the item is marked so regenerating the calendar leaves it alone."""
    unknown = set(fields) - set(CALENDAR_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These calendar fields cannot be edited: {', '.join(sorted(unknown))}.")
    if "platform" in fields and fields["platform"] not in CHANNEL_KEYS:
        raise ValidationError({"platform": f"Unknown platform; known: {', '.join(sorted(CHANNEL_KEYS))}."})
    with transaction.atomic():
        locked = CalendarItem.objects.select_for_update().get(pk=item.pk)
        changes = {}
        for name, value in fields.items():
            if getattr(locked, name) != value:
                changes[name] = [_jsonable(getattr(locked, name)), _jsonable(value)]
                setattr(locked, name, value)
        if not changes:
            return locked
        locked.edited_by_operator = True
        locked.updated_at = timezone.now()
        locked._change_reason = "edited by operator"
        locked.save()
        record_audit_event(
            verb="strategy.calendar_item_edited",
            actor=actor,
            campaign=locked.campaign,
            target=locked,
            metadata={"changes": changes},
        )
    return locked


# --- the whole path in one transaction -----------------------------------------------------------


def generate_and_approve_strategy(
    *,
    campaign: Campaign | int,
    actor: User | None = None,
    variants: int = DEFAULT_VARIANTS,
    choose: int = 1,
    rationale: str = "",
    generator: str | None = None,
) -> StrategyVariant:
    """Generate a batch, select and approve the variant at position ``choose``, build the plan and
    the calendar: one transaction, so a failure at any step leaves no variant, plan or calendar
    row (used by `generate_strategies --approve` and demos, where nobody compares by hand)."""
    campaign = _campaign(campaign)
    request, output = _run_generator(campaign=campaign, actor=actor, variants=variants, generator=generator)
    if not 1 <= int(choose) <= request.variant_count:
        raise DomainError(f"choose must be between 1 and {request.variant_count}.", field="choose")
    with transaction.atomic():
        batch = _store_batch(campaign=campaign, actor=actor, request=request, output=output)
        chosen = batch.variants.get(position=int(choose))
        select_strategy_variant(variant=chosen, actor=actor, rationale=rationale)
        return approve_strategy_variant(variant=chosen, actor=actor, rationale=rationale)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    if hasattr(value, "pk"):
        return value.pk
    return str(value)
