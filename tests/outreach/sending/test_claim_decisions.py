"""Issue 16 point 6: the claim's decisions are pure functions — the gate (may a claim go ahead, for
how many, and if not why) and the router (claim, cancel or postpone each candidate) — and the state
filters come from the state machines. No database here."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from campaigns.fsm import source_states
from campaigns.models import CampaignState
from leads.models import Lead, LeadState
from outreach.models import (
    PENDING_STATES,
    STOPPABLE_ENROLLMENT_STATES,
    Enrollment,
    EnrollmentState,
    Message,
    MessageState,
)
from outreach.services.sending import SYSTEM_PAUSED, SendGate, SlicePace, route_messages, send_gate

MONDAY_10 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
OPEN = {"state": CampaignState.ACTIVE, "system_paused": False, "quiet_hours": "", "affordable": None}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"daily_room": 20}, SendGate(room=20)),
        ({"state": CampaignState.PAUSED, "daily_room": 20}, SendGate(reason="campaign is paused")),
        ({"system_paused": True, "daily_room": 20}, SendGate(reason=SYSTEM_PAUSED)),
        (
            {"quiet_hours": "quiet hours 20:00-08:00 (UTC)", "daily_room": 20},
            SendGate(reason="quiet hours 20:00-08:00 (UTC)"),
        ),
        ({"daily_room": 0}, SendGate(cap_reached=True)),
        ({"daily_room": -3}, SendGate(cap_reached=True)),  # a lowered cap below what was sent today
        ({"daily_room": 20, "affordable": 0}, SendGate(reason="budget cap reached", budget_exhausted=True)),
        ({"daily_room": 20, "affordable": 7}, SendGate(room=7)),  # the budget is tighter
        ({"daily_room": 5, "affordable": 7}, SendGate(room=5)),
    ],
)
def test_the_gate_says_whether_a_claim_may_go_ahead_and_for_how_many(facts, expected):
    assert send_gate(**{**OPEN, **facts}) == expected


def test_the_gate_names_the_first_reason_in_order_state_pause_quiet_hours_cap_budget():
    everything_wrong = {
        "state": CampaignState.CANCELLED,
        "system_paused": True,
        "quiet_hours": "quiet",
        "daily_room": 0,
        "affordable": 0,
    }
    assert send_gate(**everything_wrong).reason == "campaign is cancelled"
    assert send_gate(**{**everything_wrong, "state": CampaignState.ACTIVE}).reason == SYSTEM_PAUSED


def candidate(pk, *, lead_id=None, tz="", mailbox_id=None):
    return SimpleNamespace(
        pk=pk, lead_id=lead_id or pk, lead=SimpleNamespace(timezone=tz), mailbox_id=mailbox_id
    )


def test_the_router_claims_cancels_and_postpones_without_touching_the_database():
    ok, suppressed, asleep, full_box, boxed = (
        candidate(1),
        candidate(2),
        candidate(3, tz="Asia/Tokyo"),  # 19:00 there: the window opened again tomorrow at 09:00
        candidate(4, mailbox_id=9),
        candidate(5, mailbox_id=8),
    )
    routing = route_messages(
        [ok, suppressed, asleep, full_box, boxed],
        now=MONDAY_10,
        contactable={1, 3, 4, 5},
        mailbox_room={9: 0, 8: 1},
        campaign_timezone="UTC",
    )
    assert routing.claim == [ok, boxed]
    assert routing.cancel == [suppressed]
    assert routing.postpone == [
        (asleep, dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)),  # 09:00 in Tokyo
        (full_box, dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC)),  # the campaign's next day
    ]
    assert routing.skip_reasons == {"not_contactable": 1, "mailbox_cap": 1}


def test_the_router_spends_each_mailboxs_room_in_ranking_order():
    first, second, third = (candidate(pk, mailbox_id=7) for pk in (1, 2, 3))
    routing = route_messages(
        [first, second, third],
        now=MONDAY_10,
        contactable={1, 2, 3},
        mailbox_room={7: 2},
        campaign_timezone="UTC",
    )
    assert routing.claim == [first, second]
    assert [m for m, _ in routing.postpone] == [third]


def test_a_claim_takes_one_slow_call_or_as_many_fast_ones_as_fit_in_a_slice():
    pace = SlicePace(seconds=1.0, limit=250)
    assert pace.size(dry_run=True) == 250  # no provider, nothing uncertain
    assert pace.size(dry_run=False) == 1  # nothing measured yet
    pace.record(calls=1, call_seconds=0.1, overhead_seconds=0.01)  # an ESP's API: slower than a claim
    assert pace.size(dry_run=False) == 1
    pace.record(calls=10, call_seconds=0.05, overhead_seconds=0.01)  # 5 ms a call, 10 ms a claim
    assert pace.size(dry_run=False) == 200  # what fits in the 1 s slice
    pace.record(calls=100, call_seconds=0.01, overhead_seconds=0.01)  # a local backend
    assert pace.size(dry_run=False) == 250  # up to the chunk
    slow_claim = SlicePace(seconds=1.0, limit=250)
    slow_claim.record(calls=1, call_seconds=0.1, overhead_seconds=0.01)
    slow_claim.record(calls=1, call_seconds=0.1, overhead_seconds=0.3)  # a claim that refilled the ranking
    assert slow_claim.size(dry_run=False) == 1  # still an ESP's pace: one at a time


def test_with_calls_overlapped_a_claim_takes_the_calls_in_flight_or_what_fits_at_that_concurrency():
    pace = SlicePace(seconds=1.0, limit=1000, concurrency=8)
    assert pace.size(dry_run=True) == 1000
    assert pace.size(dry_run=False) == 8  # one call per send thread before anything is measured
    pace.record(calls=8, call_seconds=8 * 0.1, overhead_seconds=0.01)  # 100 ms calls: an ESP's API
    assert pace.size(dry_run=False) == 8  # the calls in flight at once, no more
    pace.record(calls=8, call_seconds=8 * 0.005, overhead_seconds=0.01)  # 5 ms calls, eight at once
    assert pace.size(dry_run=False) == 1000  # 1,600 would fit in the 1 s slice: up to the chunk
    pace.record(calls=8, call_seconds=8 * 0.009, overhead_seconds=0.01)
    assert pace.size(dry_run=False) == 888  # eight threads of 9 ms calls for one second
    assert SlicePace(seconds=1.0, limit=3, concurrency=8).size(dry_run=False) == 3  # never past the chunk


def test_state_filters_are_the_sources_of_the_transitions():
    assert set(PENDING_STATES) == {MessageState.SCHEDULED, MessageState.RETRY_SCHEDULED}
    assert set(STOPPABLE_ENROLLMENT_STATES) == {EnrollmentState.ACTIVE, EnrollmentState.PAUSED}
    assert set(source_states(Lead, "mark_contacted")) == {LeadState.NEW, LeadState.ENRICHED}
    assert set(source_states(Message, "cancel")) == {*PENDING_STATES, MessageState.SENDING}
    assert source_states(Enrollment, "stop") == STOPPABLE_ENROLLMENT_STATES
    with pytest.raises(LookupError):
        source_states(Enrollment, "stpo")
