"""Two operators approving at the same moment: the campaign row lock serialises them, exactly one
approval lands, the other is refused with a message (needs PostgreSQL's real row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from campaigns.errors import TransitionNotAllowedError
from strategy import services
from strategy.models import CalendarItem, CampaignPlan, StrategyDecision, StrategyVariant
from tests.factories import StaffUserFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_land_once(make_campaign):
    campaign = make_campaign()
    variant = services.generate_strategies(campaign=campaign).variants.first()
    services.select_strategy_variant(variant=variant)
    operators = [StaffUserFactory(), StaffUserFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor):
        try:
            barrier.wait(timeout=10)
            services.approve_strategy_variant(variant=variant.pk, actor=actor, rationale=actor.username)
            outcomes.append("approved")
        except TransitionNotAllowedError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(op,)) for op in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes)[1] == "approved" and "already approved" in sorted(outcomes)[0]
    assert StrategyVariant.objects.filter(campaign=campaign, state="approved").count() == 1
    assert StrategyDecision.objects.filter(campaign=campaign, action="approved").count() == 1
    assert CampaignPlan.objects.filter(campaign=campaign).count() == 1
    slots = list(CalendarItem.objects.filter(campaign=campaign).values_list("slot_key", flat=True))
    assert len(slots) == len(set(slots)) > 0
