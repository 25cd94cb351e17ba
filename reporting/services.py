"""The only code that writes reporting tables: outcomes (won deals) and weekly summaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from campaigns.actors import acting_user
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import Campaign
from campaigns.services.audit import record_audit_event
from leads.models import Lead, LeadState
from leads.services import transition_lead
from reporting.models import Outcome, WeeklySummary
from reporting.selectors.weekly import campaign_tz, week_numbers


def record_outcome(
    *,
    lead: Lead | int,
    deal_value: Decimal | str | int,
    currency: str = "",
    won_at: dt.datetime | None = None,
    note: str = "",
    actor=None,
) -> Outcome:
    """Record a won deal for a lead. A qualified lead is moved to won (audited by leads); a lead
    already won keeps its state; any other state is refused (qualify it first)."""
    try:
        value = Decimal(str(deal_value))
    except (InvalidOperation, ValueError):
        raise DomainError(f"deal_value must be a number, got {deal_value!r}.", field="deal_value") from None
    if not value.is_finite() or value < 0:
        raise DomainError(f"deal_value must be zero or more, got {deal_value}.", field="deal_value")
    lead_id = lead.pk if isinstance(lead, Lead) else lead
    with transaction.atomic():
        locked = Lead.objects.select_for_update().select_related("campaign").get(pk=lead_id)
        if Outcome.objects.filter(lead_id=lead_id).exists():
            raise DomainError(f"Lead #{lead_id} already has a recorded outcome.", field="lead")
        if locked.state == LeadState.QUALIFIED:
            deal = {
                "deal_value": str(value),
                "currency": (currency or locked.campaign.currency or "").upper()[:3],
            }
            transition_lead(
                lead=locked, transition="win", actor=actor, rationale=note or "deal won", event_data=deal
            )
        elif locked.state != LeadState.WON:
            raise TransitionNotAllowedError(
                f"A {locked.get_state_display().lower()} lead cannot be recorded as won; qualify it first.",
                state=locked.state,
            )
        campaign = locked.campaign
        outcome = Outcome.objects.create(
            campaign=campaign,
            lead=locked,
            deal_value=value,
            currency=(currency or campaign.currency or "").upper()[:3],
            won_at=won_at or timezone.now(),
            note=note,
            created_by=acting_user(actor),
        )
        record_audit_event(
            verb="outcome.recorded",
            actor=actor,
            campaign=campaign,
            target=outcome,
            rationale=note,
            metadata={"lead": lead_id, "deal_value": str(value), "currency": outcome.currency},
        )
    return outcome


def build_weekly_summary(*, campaign: Campaign, week_start: dt.date) -> WeeklySummary:
    """Compute and store the ISO week starting on `week_start` (any day is moved back to its
    Monday). Idempotent: running it again for the same week updates the same row."""
    monday = week_start - dt.timedelta(days=week_start.weekday())
    numbers = week_numbers(campaign, monday)
    iso_year, iso_week, _ = monday.isocalendar()
    summary, _ = WeeklySummary.objects.update_or_create(
        campaign=campaign,
        week_start=monday,
        defaults={"iso_year": iso_year, "iso_week": iso_week, "built_at": timezone.now(), **numbers},
    )
    return summary


def build_weekly_summaries(*, campaigns, week_start: dt.date) -> list[WeeklySummary]:
    return [build_weekly_summary(campaign=c, week_start=week_start) for c in campaigns]


def weeks_to_build(campaign: Campaign, now: dt.datetime) -> list[dt.date]:
    """The last complete ISO week and the week in progress, in the campaign's time zone."""
    local_today = now.astimezone(campaign_tz(campaign)).date()
    this_monday = local_today - dt.timedelta(days=local_today.weekday())
    return [this_monday - dt.timedelta(days=7), this_monday]


def build_recent_weekly_summaries(*, campaigns, now: dt.datetime | None = None) -> int:
    """Rebuild last week's and this week's summary of each campaign; returns rows written.
    Safe to run any number of times (one row per campaign and week)."""
    now = now or timezone.now()
    written = 0
    for campaign in campaigns:
        for monday in weeks_to_build(campaign, now):
            build_weekly_summary(campaign=campaign, week_start=monday)
            written += 1
    return written
