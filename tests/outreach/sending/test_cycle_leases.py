"""Issue 16 point 2: a cycle's lease follows the work.

It expires soon after its holder dies, a running cycle keeps it by renewing, and a holder whose
lease was taken over stops before claiming anything more. Time moves with time-machine (frozen_now);
the email backend moves it while a message is "with the provider", like a slow ESP would.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from outreach.models import CycleLease, Message, MessageState
from outreach.services import cycle as cycle_module
from outreach.services.cycle import run_cycle
from outreach.services.leases import acquire_lease

pytestmark = pytest.mark.django_db
RUNNING = "another cycle of this campaign is running"


class SlowProviderBackend(LocmemBackend):
    """Each message takes ``seconds`` of (travelled) time; ``during(n)`` runs while the n-th is in flight."""

    def __init__(self, traveller, seconds: float, during=None, **kwargs):
        super().__init__(**kwargs)
        self.traveller, self.seconds, self.during, self.handed = traveller, seconds, during, 0

    def send_messages(self, messages):
        for _ in messages:
            self.handed += 1
            self.traveller.shift(dt.timedelta(seconds=self.seconds))
            if self.during is not None:
                self.during(self.handed)
        return super().send_messages(messages)


def test_the_lease_of_a_dead_holder_is_taken_over_after_the_short_expiry(live_campaign, frozen_now, settings):
    assert settings.AICMO_CYCLE_LEASE_SECONDS <= 120  # not the 15 minutes a crash used to block
    campaign, _ = live_campaign(leads=2)
    assert acquire_lease(campaign_id=campaign.pk) is not None  # its holder dies: never renewed or released

    frozen_now.shift(dt.timedelta(seconds=settings.AICMO_CYCLE_LEASE_SECONDS - 1))
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).skipped_cycle == RUNNING

    frozen_now.shift(dt.timedelta(seconds=2))
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False)
    assert stats.skipped_cycle == "" and stats.errors == [] and stats.sent == 2


def test_a_long_cycle_keeps_its_lease_past_the_expiry_by_renewing_it(live_campaign, frozen_now, settings):
    settings.OUTREACH_CHUNK_SIZE = 1  # one message per claim; the cycle renews before each claim
    ttl = settings.AICMO_CYCLE_LEASE_SECONDS
    campaign, _ = live_campaign(leads=10)
    started = timezone.now()
    competitors: list[object] = []

    def another_worker_tries(_handed):
        competitors.append(acquire_lease(campaign_id=campaign.pk))

    # 10 messages of 100 s each: 1,000 s, longer than the lease (and the old 15 minutes) many times.
    backend = SlowProviderBackend(frozen_now, seconds=ttl - 20, during=another_worker_tries)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False, connection=backend)

    assert timezone.now() - started > dt.timedelta(seconds=15 * 60)
    assert stats.errors == [] and stats.sent == 10
    assert competitors == [None] * 10  # the other worker never got the campaign while it ran
    # ... and once the cycle ended, its lease is released: the next cycle may start at once.
    assert run_cycle(campaign_id=campaign.pk, dry_run=False).skipped_cycle == ""


def test_a_holder_whose_lease_was_taken_over_stops_before_claiming_more(live_campaign, frozen_now, settings):
    settings.OUTREACH_CHUNK_SIZE = 1
    ttl = settings.AICMO_CYCLE_LEASE_SECONDS
    campaign, _ = live_campaign(leads=5)
    taken_over = []

    def stall_then_lose_the_lease(handed):
        if handed == 2:  # this provider call hangs past the lease: another worker takes the campaign
            frozen_now.shift(dt.timedelta(seconds=ttl + 1))
            taken_over.append(acquire_lease(campaign_id=campaign.pk))

    backend = SlowProviderBackend(frozen_now, seconds=1, during=stall_then_lose_the_lease)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=False, connection=backend)

    assert taken_over[0] is not None
    assert stats.sent == 2 and len(stats.errors) == 1 and "taken over by another cycle" in stats.errors[0]
    # Nothing more was claimed: the rest wait, scheduled, for the cycle that holds the lease now ...
    assert Message.objects.filter(state=MessageState.SCHEDULED).count() == 3
    assert not Message.objects.filter(state=MessageState.SENDING).exists()
    # ... whose lease the stopped cycle left alone.
    lease = CycleLease.objects.get(campaign=campaign)
    assert lease.holder == taken_over[0].holder and lease.expires_at > timezone.now()


def test_a_rehearsal_renews_nothing_it_would_roll_back_and_stops_once_taken_over(
    live_campaign, frozen_now, settings, monkeypatch
):
    # A dry run of a live campaign rolls back all it wrote, so it cannot renew its lease: past the
    # lease another cycle may take the campaign, and the rehearsal then stops at its next check.
    ttl = settings.AICMO_CYCLE_LEASE_SECONDS
    campaign, _ = live_campaign(leads=4)
    original, taken_over = cycle_module.schedule_due_messages, []

    def slow_stage(**kwargs):
        frozen_now.shift(dt.timedelta(seconds=ttl + 1))
        taken_over.append(acquire_lease(campaign_id=campaign.pk))
        return original(**kwargs)

    monkeypatch.setattr(cycle_module, "schedule_due_messages", slow_stage)
    stats = run_cycle(campaign_id=campaign.pk, dry_run=True)

    assert taken_over[0] is not None  # the rehearsal's lease was not renewed past its term
    assert stats.simulated is False and "taken over by another cycle" in stats.errors[0]
    assert stats.recorded_dry_run == 0 and not Message.objects.exists()  # stopped; nothing kept
