"""A campaign's return: revenue from recorded outcomes against the spend ledger, and costs per result."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from campaigns.models import Campaign
from campaigns.selectors import MONEY, campaign_spent
from reporting.models import Outcome

from .metrics import CampaignMetrics, campaign_metrics


def _per(amount: Decimal, count: int) -> Decimal | None:
    return (amount / count).quantize(MONEY) if count else None


@dataclass
class CampaignROI:
    currency: str
    revenue: Decimal
    spend: Decimal
    leads: int
    qualified: int
    won_deals: int
    cost_per_lead: Decimal | None
    cost_per_qualified_lead: Decimal | None
    cost_per_won_deal: Decimal | None
    roi: float | None  # (revenue - spend) / spend; None when nothing was spent

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def campaign_roi(campaign: Campaign, *, metrics: CampaignMetrics | None = None) -> CampaignROI:
    """Revenue from recorded outcomes against the spend ledger. Outcomes in another currency
    than the campaign's are not converted; they are left out of revenue (and say so in docs)."""
    metrics = metrics or campaign_metrics(campaign)
    currency = campaign.currency or ""
    outcomes = Outcome.objects.filter(campaign=campaign).aggregate(
        revenue=Sum("deal_value", filter=Q(currency=currency)), deals=Count("pk")
    )
    revenue = (outcomes["revenue"] or Decimal(0)).quantize(MONEY)
    spend = campaign_spent(campaign).quantize(MONEY)
    return CampaignROI(
        currency=currency,
        revenue=revenue,
        spend=spend,
        leads=metrics.leads_total,
        qualified=metrics.qualified,
        won_deals=outcomes["deals"],
        cost_per_lead=_per(spend, metrics.leads_total),
        cost_per_qualified_lead=_per(spend, metrics.qualified),
        cost_per_won_deal=_per(spend, outcomes["deals"]),
        roi=round(float((revenue - spend) / spend), 4) if spend > 0 else None,
    )
