from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection

from campaigns.errors import BudgetExhaustedError, DomainError
from campaigns.models import AuditEvent, Campaign, SpendEntry, SpendKind
from campaigns.selectors import budget_status
from campaigns.services.budget import ensure_budget_allows, raise_budget_cap, record_spend
from campaigns.services.editing import create_campaign, update_campaign
from tests.factories import CampaignFactory, ClientFactory

pytestmark = pytest.mark.django_db
D = Decimal


def send_emails(campaign: Campaign, count: int) -> tuple[int, str]:
    """Stand-in for the outreach send loop: check, book, send; stop on the budget's refusal."""
    sent = 0
    for _ in range(count):
        try:
            ensure_budget_allows(campaign=campaign, amount=settings.AICMO_COST_PER_EMAIL)
            record_spend(campaign=campaign, kind=SpendKind.ESP, amount=settings.AICMO_COST_PER_EMAIL)
        except BudgetExhaustedError as exc:
            return sent, str(exc)
        sent += 1
    return sent, ""


def test_record_spend_books_an_audited_entry_with_its_source(operator):
    campaign = CampaignFactory(budget_cap=D("100"), currency="EUR")
    source = ClientFactory()  # any model can be the source (an LLM call, a message…)
    entry = record_spend(
        campaign=campaign,
        kind="ai_generation",
        amount="1.25",
        source=source,
        actor=operator,
        description="gpt",
    )
    assert entry.currency == "EUR" and entry.amount == D("1.25") and entry.created_by == operator
    assert entry.source == source
    event = AuditEvent.objects.get(verb="spend.recorded")
    assert event.campaign == campaign and event.metadata["kind"] == "ai_generation"
    status = budget_status(campaign)
    assert status.spent == D("1.25") and status.level == "ok" and status.remaining == D("98.75")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "lunch", "amount": 1}, "Unknown spend kind 'lunch'"),
        ({"kind": "esp", "amount": 0}, "spend of 0"),
        ({"kind": "esp", "amount": -1}, "Only manual entries may be negative"),
        ({"kind": "esp", "amount": "abc"}, "amount must be a number"),
        ({"kind": "esp", "amount": 1, "currency": "GBP"}, "books in USD, not GBP"),
    ],
)
def test_record_spend_refuses_bad_input(kwargs, message):
    campaign = CampaignFactory()
    with pytest.raises(DomainError, match=message):
        record_spend(campaign=campaign, **kwargs)
    assert not SpendEntry.objects.exists()


def test_crossing_the_warning_share_audits_and_emails_the_owner_once(
    operator, mailoutbox, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(budget_cap=D("10"), owner=operator)
    record_spend(campaign=campaign, kind="data", amount="7.99")
    assert not AuditEvent.objects.filter(verb="budget.warning").exists()
    with django_capture_on_commit_callbacks(execute=True):
        record_spend(campaign=campaign, kind="data", amount="0.01")  # exactly 80 %
    with django_capture_on_commit_callbacks(execute=True):
        record_spend(campaign=campaign, kind="data", amount="0.50")
    assert AuditEvent.objects.filter(verb="budget.warning", campaign=campaign).count() == 1
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [operator.email] and "Budget warning" in mailoutbox[0].subject
    assert budget_status(campaign).level == "warning"


def test_no_email_is_sent_when_the_transaction_rolls_back(
    operator, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    campaign = CampaignFactory(budget_cap=D("10"), owner=operator)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record_spend(campaign=campaign, kind="data", amount="9")
        raise RuntimeError("the caller's work failed")
    assert callbacks == [] and mailoutbox == []
    assert not SpendEntry.objects.exists()


def test_campaign_at_99_percent_sends_until_the_next_email_would_exceed_then_raising_the_cap_continues(
    operator,
):
    campaign = CampaignFactory(budget_cap=D("1.00"))
    record_spend(campaign=campaign, kind="manual", amount="0.99", description="earlier work")
    assert D("0.001") == settings.AICMO_COST_PER_EMAIL

    sent, reason = send_emails(campaign, 50)

    assert sent == 10  # 0.99 + 10 x 0.001 = 1.000: the 11th would exceed the cap
    assert "Budget exhausted" in reason and "Raise the budget cap" in reason
    campaign.refresh_from_db()
    status = budget_status(campaign)
    assert status.level == "exhausted" and status.spent == D("1.000")
    assert "Budget exhausted" in campaign.spending_blocked_reason
    assert AuditEvent.objects.filter(verb="budget.exhausted", campaign=campaign).count() == 1

    raise_budget_cap(campaign=campaign, new_cap="2.00", actor=operator, rationale="Q2 top-up")

    event = AuditEvent.objects.get(verb="budget.cap_changed")
    assert event.actor == operator and event.rationale == "Q2 top-up"
    assert event.metadata["from"] == "1.00" and event.metadata["to"] == "2.00" and event.metadata["unblocked"]
    campaign.refresh_from_db()
    assert campaign.spending_blocked_reason == "" and budget_status(campaign).level == "ok"
    assert send_emails(campaign, 3) == (3, "")


def test_a_spend_that_would_exceed_the_cap_is_refused_and_stops_spending():
    campaign = CampaignFactory(budget_cap=D("5"))
    record_spend(campaign=campaign, kind="ai_generation", amount="4")
    with pytest.raises(BudgetExhaustedError, match="the next spend of 2 USD would exceed it"):
        record_spend(campaign=campaign, kind="ai_generation", amount="2")
    assert SpendEntry.objects.count() == 1
    campaign.refresh_from_db()
    assert campaign.spending_blocked_reason
    # Once stopped, even a spend that would fit waits for the cap to be raised.
    with pytest.raises(BudgetExhaustedError):
        ensure_budget_allows(campaign=campaign, amount="0.5")
    with pytest.raises(BudgetExhaustedError):
        record_spend(campaign=campaign, kind="esp", amount="0.5")


def test_costs_already_incurred_can_be_booked_past_the_cap():
    campaign = CampaignFactory(budget_cap=D("5"))
    record_spend(campaign=campaign, kind="ad_spend", amount="7", enforce_cap=False)
    status = budget_status(campaign)
    assert status.spent == D("7") and status.level == "exhausted" and status.remaining == D("0")
    assert "spent 7.00 of the 5.00 USD cap" in status.blocked_reason


def test_no_cap_means_no_limit():
    campaign = CampaignFactory()
    ensure_budget_allows(campaign=campaign, amount="1000000")
    record_spend(campaign=campaign, kind="esp", amount="1000000")
    assert budget_status(campaign).as_dict() == {
        "cap": None,
        "spent": "1000000.00",
        "currency": "USD",
        "ratio": None,
        "remaining": None,
        "level": "ok",
        "blocked_reason": "",
        "percent": None,
    }


def test_changing_the_cap_needs_a_rationale_and_a_valid_amount(operator):
    campaign = CampaignFactory(budget_cap=D("5"))
    with pytest.raises(DomainError, match="rationale"):
        raise_budget_cap(campaign=campaign, new_cap="10", actor=operator, rationale=" ")
    with pytest.raises(DomainError, match="cannot be negative"):
        raise_budget_cap(campaign=campaign, new_cap="-1", actor=operator, rationale="x")
    with pytest.raises(DomainError, match="budget_cap must be a number"):
        raise_budget_cap(campaign=campaign, new_cap="lots", actor=operator, rationale="x")
    raise_budget_cap(campaign=campaign, new_cap=None, actor=operator, rationale="no cap for this one")
    campaign.refresh_from_db()
    assert campaign.budget_cap is None
    assert AuditEvent.objects.get(verb="budget.cap_changed").metadata["to"] is None


def test_lowering_the_cap_below_spend_blocks_at_once(operator):
    campaign = CampaignFactory(budget_cap=D("10"))
    record_spend(campaign=campaign, kind="esp", amount="6")
    raise_budget_cap(campaign=campaign, new_cap="5", actor=operator, rationale="client cut budget")
    campaign.refresh_from_db()
    assert "Budget exhausted" in campaign.spending_blocked_reason
    with pytest.raises(BudgetExhaustedError):
        ensure_budget_allows(campaign=campaign, amount="0.001")


def test_raising_the_cap_rearms_the_warning(operator):
    campaign = CampaignFactory(budget_cap=D("10"))
    record_spend(campaign=campaign, kind="esp", amount="9")
    raise_budget_cap(campaign=campaign, new_cap="100", actor=operator, rationale="more")
    record_spend(campaign=campaign, kind="esp", amount="75")
    assert AuditEvent.objects.filter(verb="budget.warning").count() == 2


def test_cap_and_currency_are_set_at_creation_and_the_cap_only_changes_through_its_service(operator):
    campaign = create_campaign(
        client=ClientFactory(), name="Budgeted", actor=operator, budget_cap=D("250"), currency="eur"
    )
    assert campaign.budget_cap == D("250") and campaign.currency == "EUR"
    with pytest.raises(DomainError, match="raise_budget_cap"):
        update_campaign(campaign=campaign, actor=operator, budget_cap=D("1000"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_spends_cannot_overshoot_the_cap():
    campaign = CampaignFactory(budget_cap=D("1.00"))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def spend() -> None:
        try:
            barrier.wait()
            record_spend(campaign=campaign.pk, kind="esp", amount="0.40")
            outcomes.append("booked")
        except BudgetExhaustedError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=spend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["booked", "booked", "refused", "refused"]
    assert budget_status(Campaign.objects.get(pk=campaign.pk)).spent == D("0.80")
