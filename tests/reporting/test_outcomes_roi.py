"""Outcomes (won deals) and ROI from the spend ledger, with hand-computed numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.models import AuditEvent
from campaigns.services.budget import record_spend
from leads.models import LeadState
from reporting.models import Outcome
from reporting.selectors.roi import campaign_roi
from reporting.services import record_outcome
from tests.reporting.conftest import add_leads


@pytest.fixture
def campaign_with_leads(campaign_in_state):
    campaign = campaign_in_state("active", currency="EUR", target_clients=5)
    leads = add_leads(campaign, {"new": 6, "qualified": 3, "lost": 1})
    return campaign, leads


def test_record_outcome_wins_a_qualified_lead_and_audits(campaign_with_leads, operator):
    campaign, leads = campaign_with_leads
    qualified = leads[6]
    outcome = record_outcome(lead=qualified, deal_value="1200.50", note="signed", actor=operator)
    qualified.refresh_from_db()
    assert qualified.state == LeadState.WON
    assert (outcome.deal_value, outcome.currency, outcome.created_by) == (Decimal("1200.50"), "EUR", operator)
    assert AuditEvent.objects.filter(campaign=campaign, verb="outcome.recorded", actor=operator).count() == 1
    assert AuditEvent.objects.filter(campaign=campaign, verb="lead.win").count() == 1
    with pytest.raises(DomainError, match="already has a recorded outcome"):
        record_outcome(lead=qualified, deal_value=10, actor=operator)


def test_record_outcome_refuses_unqualified_leads_and_bad_values(campaign_with_leads, operator):
    _, leads = campaign_with_leads
    with pytest.raises(TransitionNotAllowedError, match="new lead cannot be recorded as won"):
        record_outcome(lead=leads[0], deal_value=100, actor=operator)
    with pytest.raises(DomainError, match="deal_value must be zero or more"):
        record_outcome(lead=leads[6], deal_value=-1, actor=operator)
    with pytest.raises(DomainError, match="deal_value must be a number"):
        record_outcome(lead=leads[6], deal_value="lots", actor=operator)
    assert Outcome.objects.count() == 0


def test_roi_from_outcomes_and_spend_ledger(campaign_with_leads, operator):
    campaign, leads = campaign_with_leads
    assert campaign_roi(campaign).roi is None  # nothing spent yet
    record_spend(campaign=campaign, kind="manual", amount=Decimal("300"), actor=operator, enforce_cap=False)
    record_spend(campaign=campaign, kind="manual", amount=Decimal("100"), actor=operator, enforce_cap=False)
    record_outcome(lead=leads[6], deal_value=1000, actor=operator)
    record_outcome(lead=leads[7], deal_value=600, actor=operator)
    roi = campaign_roi(campaign)
    # 10 leads, 3 qualified (one still qualified + two won), 2 won deals, 400 spent, 1600 revenue.
    assert (roi.leads, roi.qualified, roi.won_deals) == (10, 3, 2)
    assert (roi.revenue, roi.spend) == (Decimal("1600.00"), Decimal("400.00"))
    assert roi.cost_per_lead == Decimal("40.00")
    assert roi.cost_per_qualified_lead == Decimal("133.33")
    assert roi.cost_per_won_deal == Decimal("200.00")
    assert roi.roi == 3.0  # (1600 - 400) / 400
    assert roi.as_dict()["revenue"] == "1600.00"
