"""Executive summary of one campaign: KPIs, plain-language insights, and the recommended next
actions of `next_actions.recommend_next_actions`, each with the numbers that triggered it.

Read-only (selectors and pure rules); the API and the admin dashboard both render it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.selectors import budget_status
from leads.models import LeadState
from reporting.next_actions import CampaignNumbers, Recommendation, recommend_next_actions
from reporting.selectors.ab_results import StepABResult, ab_results
from reporting.selectors.metrics import CampaignMetrics, campaign_metrics
from reporting.selectors.roi import CampaignROI, campaign_roi
from reporting.selectors.trend import TrendDay, cap_reached_days_running, daily_trend


@dataclass
class ExecutiveSummary:
    campaign_id: int
    generated_at: dt.datetime
    metrics: CampaignMetrics
    roi: CampaignROI
    budget_ratio: float | None
    trend: list[TrendDay]
    ab: list[StepABResult]
    numbers: CampaignNumbers
    insights: list[str]
    next_actions: list[Recommendation]

    def as_dict(self) -> dict[str, Any]:
        lifetime = self.metrics.lifetime
        return {
            "campaign_id": self.campaign_id,
            "generated_at": self.generated_at.isoformat(),
            "kpis": {
                "leads_total": self.metrics.leads_total,
                "qualified": self.metrics.qualified,
                "won": self.metrics.won,
                "target_clients": self.metrics.target_clients,
                "conversion_rate": self.metrics.conversion_rate,
                "goal_progress": self.metrics.goal_progress,
                "live_sent": lifetime.live_sent,
                "reply_rate": lifetime.reply_rate,
                "open_rate": lifetime.open_rate,
                "bounce_rate": lifetime.bounce_rate,
                "task_completion_rate": self.metrics.tasks.completion_rate,
                "budget_ratio": self.budget_ratio,
                "cap_reached_days_running": self.numbers.cap_reached_days_running,
                **self.roi.as_dict(),
            },
            "insights": list(self.insights),
            "next_actions": [asdict(r) for r in self.next_actions],
        }


def _insights(metrics: CampaignMetrics, roi: CampaignROI, ab: list[StepABResult]) -> list[str]:
    found = []
    lifetime, week = metrics.lifetime, metrics.last_days
    if metrics.target_clients:
        found.append(
            f"Goal progress {metrics.goal_progress:.0%}: {metrics.qualified} of {metrics.target_clients} "
            "target clients qualified."
        )
    if lifetime.live_sent:
        found.append(
            f"{lifetime.live_sent} emails sent live, reply rate {lifetime.reply_rate:.1%} "
            f"({metrics.window_days}-day: {week.reply_rate:.1%} on {week.live_sent} sends)."
        )
    else:
        found.append("No live emails sent yet.")
    for step in ab:
        if step.reply.winner:
            found.append(f"Step {step.position} of {step.sequence}: {step.reply.explanation}")
    if roi.roi is not None:
        found.append(f"ROI {roi.roi:.0%}: revenue {roi.revenue} vs spend {roi.spend} {roi.currency}.")
    if metrics.tasks.total:
        found.append(
            f"Operator tasks {metrics.tasks.done}/{metrics.tasks.total} done "
            f"({metrics.tasks.completion_rate:.0%}), {metrics.tasks.overdue} overdue."
        )
    return found


def campaign_numbers(
    campaign: Campaign, metrics: CampaignMetrics, trend: list[TrendDay], budget_ratio: float | None
) -> CampaignNumbers:
    lifetime = metrics.lifetime
    return CampaignNumbers(
        sent=lifetime.live_sent,
        opened=lifetime.opened,
        replied=lifetime.replied,
        bounced=lifetime.bounced,
        complained=lifetime.complained,
        qualified=metrics.qualified,
        target_clients=metrics.target_clients,
        leads_total=metrics.leads_total,
        # Leads never contacted yet are what the sequences can still reach.
        leads_contactable_remaining=metrics.by_state.get(LeadState.NEW, 0)
        + metrics.by_state.get(LeadState.ENRICHED, 0),
        cap_reached_days_running=cap_reached_days_running(campaign, trend),
        overdue_tasks=metrics.tasks.overdue,
        budget_ratio=budget_ratio,
        state=campaign.state,
    )


def executive_summary(campaign: Campaign, *, now: dt.datetime | None = None) -> ExecutiveSummary:
    now = now or timezone.now()
    metrics = campaign_metrics(campaign, now=now)
    roi = campaign_roi(campaign, metrics=metrics)
    budget = budget_status(campaign, spent=roi.spend)
    budget_ratio = float(budget.ratio) if budget.ratio is not None else None
    trend = daily_trend(campaign, now=now)
    ab = ab_results(campaign)
    numbers = campaign_numbers(campaign, metrics, trend, budget_ratio)
    return ExecutiveSummary(
        campaign_id=campaign.pk,
        generated_at=now,
        metrics=metrics,
        roi=roi,
        budget_ratio=budget_ratio,
        trend=trend,
        ab=ab,
        numbers=numbers,
        insights=_insights(metrics, roi, ab),
        next_actions=recommend_next_actions(numbers),
    )
