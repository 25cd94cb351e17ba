"""Read queries of the deliverables app: what a package holds, a report's numbers (the dashboard's
own selectors, never recomputed here), which reports and packages are due, who sees what."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Max, QuerySet
from django.utils import timezone

from campaigns.models import AuditEvent, Campaign, CampaignState, Client, User
from campaigns.selectors import campaigns_visible_to
from campaigns.timezones import zone_or_utc
from creative.models import CreativeVariant
from creative.selectors import approved_creatives
from reporting.executive import executive_summary
from reporting.selectors.funnel import funnel_stages
from reporting.selectors.metrics import campaign_metrics
from strategy.models import CalendarItem, PlanPhase, StrategyDecision, StrategyVariant
from strategy.selectors import approved_variant_for, decisions_for_variant, plan_for

from .models import (
    ClientReport,
    ClientReportSettings,
    DeliveryPackage,
    Frequency,
    ReportSchedule,
    ReportState,
)

# Audit verbs that make a milestone package, and the milestone each stands for.
MILESTONE_VERBS = {"strategy.approved": "strategy_approved", "creative.approved": "creative_approved"}
# The decision record a package prints: who approved what, when and why.
DECISION_VERBS = (
    "strategy.selected",
    "strategy.approved",
    "strategy.rejected",
    "creative.approved",
    "creative.rejected",
    "creative.changes_requested",
    "creative.checks_overridden",
    "risk.overridden",
    "campaign.approved",
    "campaign.activated",
)
# Campaigns a client report covers: those that have run (a draft has no numbers to show).
REPORTED_STATES = (CampaignState.ACTIVE, CampaignState.PAUSED, CampaignState.COMPLETED)


# --- who sees what -------------------------------------------------------------------------------


def packages_visible_to(user: User) -> QuerySet[DeliveryPackage]:
    return DeliveryPackage.objects.filter(campaign__in=campaigns_visible_to(user)).select_related(
        "campaign", "campaign__client", "created_by"
    )


def packages_of(campaign: Campaign) -> QuerySet[DeliveryPackage]:
    return DeliveryPackage.objects.filter(campaign=campaign).select_related("created_by").order_by("-version")


def next_package_version(campaign: Campaign) -> int:
    latest = DeliveryPackage.objects.filter(campaign=campaign).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


# --- what a package holds ----------------------------------------------------------------------


@dataclass
class PackageContents:
    campaign: Campaign
    strategy: StrategyVariant | None
    strategy_decisions: list[StrategyDecision]
    plan: Any  # CampaignPlan | None
    phases: list[PlanPhase]
    calendar: list[CalendarItem]
    creatives: list[CreativeVariant]
    decisions: list[AuditEvent]
    tz: Any = field(default=None)

    def summary(self) -> dict[str, Any]:
        return {
            "strategy_id": self.strategy.pk if self.strategy else None,
            "strategy_title": self.strategy.title if self.strategy else "",
            "plan_id": self.plan.pk if self.plan else None,
            "calendar_items": len(self.calendar),
            "creative_ids": [c.pk for c in self.creatives],
            "decisions": len(self.decisions),
        }


def package_contents(campaign: Campaign) -> PackageContents:
    """The approved strategy and its decision trail, the plan and its calendar, the approved
    creative, and the campaign's decision record from the audit log, in a fixed number of queries."""
    strategy = approved_variant_for(campaign)
    plan = plan_for(campaign)
    calendar_items = (
        list(
            CalendarItem.objects.filter(campaign=campaign)
            .select_related("phase")
            .order_by("scheduled_at", "pk")
        )
        if plan
        else []
    )
    creatives = list(
        approved_creatives(campaign).select_related("decided_by", "brief").order_by("platform", "pk")
    )
    decisions = list(
        AuditEvent.objects.filter(campaign=campaign, verb__in=DECISION_VERBS).order_by("created_at", "pk")
    )
    return PackageContents(
        campaign=campaign,
        strategy=strategy,
        strategy_decisions=list(decisions_for_variant(strategy)) if strategy else [],
        plan=plan,
        phases=list(plan.phases.all().order_by("position")) if plan else [],
        calendar=calendar_items,
        creatives=creatives,
        decisions=decisions,
        tz=zone_or_utc(campaign.timezone),
    )


def milestone_events_since(after_event_id: int) -> list[AuditEvent]:
    """Approvals newer than ``after_event_id``, the latest per campaign (one package covers a
    burst of creative approvals)."""
    latest: dict[int, AuditEvent] = {}
    events = AuditEvent.objects.filter(
        pk__gt=after_event_id, verb__in=list(MILESTONE_VERBS), campaign__isnull=False
    ).order_by("pk")
    for event in events.iterator():
        latest[event.campaign_id] = event
    return sorted(latest.values(), key=lambda e: e.pk)


def milestone_watermark() -> int:
    """The newest approval a package was already built for."""
    return DeliveryPackage.objects.aggregate(last=Max("milestone_event_id"))["last"] or 0


# --- report periods and schedules ----------------------------------------------------------------


def report_settings_for(client: Client | int) -> ClientReportSettings:
    client_id = client.pk if isinstance(client, Client) else client
    found = ClientReportSettings.objects.filter(client_id=client_id).first()
    return found or ClientReportSettings(client_id=client_id)


def recipients_of(report_settings: ClientReportSettings) -> list[str]:
    raw = (report_settings.recipients or "").replace(",", "\n").replace(";", "\n")
    seen: list[str] = []
    for line in raw.splitlines():
        address = line.strip()
        if address and address.lower() not in {s.lower() for s in seen}:
            seen.append(address)
    return seen


def report_timezone(client: Client | int, campaign: Campaign | None = None) -> str:
    """The client's report time zone; else the campaign's (a per-campaign report); else UTC."""
    name = report_settings_for(client).timezone
    if not name and campaign is not None:
        name = campaign.timezone
    return str(zone_or_utc(name))


def last_complete_period(frequency: str, tz_name: str, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the latest week (Monday to Sunday) or calendar month that has
    ended in ``tz_name``."""
    today = now.astimezone(zone_or_utc(tz_name)).date()
    if frequency == Frequency.MONTHLY:
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)


def period_days(start: dt.date, end: dt.date) -> int:
    return (end - start).days + 1


def active_schedules() -> QuerySet[ReportSchedule]:
    return ReportSchedule.objects.filter(is_active=True, client__is_active=True).select_related(
        "client", "campaign"
    )


def report_exists(schedule: ReportSchedule, period_start: dt.date) -> bool:
    return ClientReport.objects.filter(schedule=schedule, period_start=period_start).exists()


def reports_to_send() -> QuerySet[ClientReport]:
    """Approved reports not yet sent (a send that failed is tried again)."""
    return ClientReport.objects.filter(state=ReportState.APPROVED).select_related("client", "campaign")


def campaigns_for_report(client: Client, campaign: Campaign | None) -> list[Campaign]:
    if campaign is not None:
        return [campaign]
    return list(Campaign.objects.filter(client=client, state__in=REPORTED_STATES).order_by("name", "pk"))


# --- a report's numbers: the dashboard's selectors, frozen as JSON ------------------------------


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def campaign_report_numbers(campaign: Campaign, *, days: int, now: dt.datetime | None = None) -> dict:
    """One campaign's section of a client report. ``kpis``, ``insights`` and ``next_actions`` are
    the executive summary the dashboard and ``GET …/reports/executive/`` show; ``period`` is
    ``GET …/reports/metrics/?days=<days>``; A/B results and the funnel come from the same selectors
    the dashboard draws them from."""
    now = now or timezone.now()
    summary = executive_summary(campaign, now=now)
    executive = summary.as_dict()
    period = campaign_metrics(campaign, now=now, days=days)
    return _plain(
        {
            "campaign_id": campaign.pk,
            "name": campaign.name,
            "state": campaign.state,
            "currency": campaign.currency or "",
            "budget_cap": campaign.budget_cap,
            "kpis": executive["kpis"],
            "insights": executive["insights"],
            "next_actions": executive["next_actions"],
            "funnel": [{"stage": label, "count": n} for label, n in funnel_stages(summary.metrics.by_state)],
            "lifetime_outreach": summary.metrics.lifetime.as_dict(),
            "period_outreach": period.last_days.as_dict(),
            "period_days": days,
            "tasks": summary.metrics.tasks.as_dict(),
            "ab": [step.as_dict() for step in summary.ab],
        }
    )
