"""The budget side of sending: what an email costs, how many more the budget pays for, and booking
sends to the spend ledger exactly once."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from campaigns.lock_objects import campaign_for_update
from campaigns.models import Campaign, SpendKind
from campaigns.selectors import budget_status
from campaigns.services.budget import record_spend

from ...models import Message, MessageState


def cost_per_email() -> Decimal:
    return Decimal(str(settings.AICMO_COST_PER_EMAIL))


def affordable_emails(campaign: Campaign) -> int | None:
    """How many more live emails the budget pays for (None: no cap). Sends not booked yet count:
    in flight, unknown (likely sent) and sent but not yet in the ledger."""
    cost = cost_per_email()
    if cost <= 0 or campaign.budget_cap is None:  # no cap: nothing to read
        return None
    status = budget_status(campaign)
    if status.cap is None:
        return None
    in_flight = (
        Message.objects.filter(campaign=campaign, dry_run=False)
        .filter(Q(state__in=(MessageState.SENDING, MessageState.UNKNOWN)) | Q(cost_unbooked=True))
        .count()
    )
    left = status.cap - status.spent - cost * in_flight
    return max(0, int(left // cost))


def book_sent_costs(*, campaign_id: int) -> int:
    """Book the campaign's sends not yet in its spend ledger, each exactly once: the flags are
    cleared in the transaction that writes the entry, under the campaign's lock. Returns how many."""
    if not Message.objects.filter(campaign_id=campaign_id, cost_unbooked=True).exists():
        return 0
    with transaction.atomic():
        campaign_for_update(campaign_id)
        count = Message.objects.filter(campaign_id=campaign_id, cost_unbooked=True).update(
            cost_unbooked=False
        )
        cost = cost_per_email()
        if count and cost > 0:
            # enforce_cap=False: the cost is incurred; the claims already kept within the cap.
            record_spend(
                campaign=campaign_id,
                kind=SpendKind.ESP,
                amount=cost * count,
                description=f"{count} email(s)",
                enforce_cap=False,
            )
    return count
