"""Cycle leases on the real PostgreSQL server: racing takers and a renewal racing a take-over."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from outreach.services.leases import acquire_lease
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(targets) -> list:
    """Run the callables at once, each in its own thread and connection; their results in order."""
    results, errors, start = [None] * len(targets), [], threading.Barrier(len(targets))

    def run(i, target):
        try:
            start.wait()
            results[i] = target()
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.parametrize("lease_row", ["none yet", "expired"])
def test_of_ten_workers_taking_one_campaigns_lease_at_once_exactly_one_gets_it(
    lease_row, frozen_now, settings
):
    campaign = CampaignFactory()
    if lease_row == "expired":
        assert acquire_lease(campaign_id=campaign.pk) is not None  # a holder that died
        frozen_now.shift(dt.timedelta(seconds=settings.AICMO_CYCLE_LEASE_SECONDS + 1))
    holds = race([lambda: acquire_lease(campaign_id=campaign.pk)] * 10)
    assert sum(hold is not None for hold in holds) == 1


def test_a_renewal_racing_a_take_over_leaves_exactly_one_holder(frozen_now, settings):
    campaign = CampaignFactory()
    for _ in range(5):
        stalled = acquire_lease(campaign_id=campaign.pk)
        assert stalled is not None
        # Its holder stalls just past the lease; it renews as another worker tries to take over.
        frozen_now.shift(dt.timedelta(seconds=settings.AICMO_CYCLE_LEASE_SECONDS + 1))
        renewed, taker = race([stalled.renew, lambda: acquire_lease(campaign_id=campaign.pk)])
        assert renewed != (taker is not None)  # one or the other, never both
        (stalled if renewed else taker).release()
