"""The campaign lifecycle through the services: every legal step, every illegal one."""

from __future__ import annotations

import pytest
from django_fsm import TransitionNotAllowed

from campaigns import lifecycle
from campaigns.errors import DomainError, TransitionNotAllowedError
from campaigns.lifecycle import LIFECYCLE
from campaigns.models import AuditEvent, Campaign, CampaignState
from campaigns.selectors import available_transitions
from campaigns.services.transitions import (
    activate_campaign,
    kill_campaign,
    pause_campaign,
    resume_campaign,
    transition_campaign,
)

S = CampaignState
LEGAL = {
    ("start_planning", S.DRAFT): S.PLANNING,
    ("submit_for_approval", S.PLANNING): S.AWAITING_APPROVAL,
    ("return_to_planning", S.AWAITING_APPROVAL): S.PLANNING,
    ("approve", S.AWAITING_APPROVAL): S.APPROVED,
    ("activate", S.APPROVED): S.ACTIVE,
    ("pause", S.ACTIVE): S.PAUSED,
    ("resume", S.PAUSED): S.ACTIVE,
    ("complete", S.ACTIVE): S.COMPLETED,
    ("complete", S.PAUSED): S.COMPLETED,
    **{("kill", state): S.CANCELLED for state in S.values if state not in (S.COMPLETED, S.CANCELLED)},
}
ALL_PAIRS = [(t, s) for t in LIFECYCLE for s in S.values]
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


@pytest.mark.parametrize(("transition", "source"), list(LEGAL), ids=lambda v: str(v))
def test_every_legal_transition_moves_state_and_writes_one_audit_event(
    campaign_in_state, operator, transition, source
):
    campaign = campaign_in_state(source)
    before = AuditEvent.objects.count()

    result = transition_campaign(
        campaign=campaign, transition=transition, actor=operator, rationale="because the client asked"
    )

    assert result.state == LEGAL[(transition, source)]
    campaign.refresh_from_db()
    assert campaign.state == LEGAL[(transition, source)]
    assert campaign.state_reason == "because the client asked"
    events = AuditEvent.objects.order_by("-id")
    assert AuditEvent.objects.count() == before + 1
    event = events.first()
    assert event.verb == LIFECYCLE[transition].verb
    assert event.actor == operator
    assert event.actor_label == operator.username
    assert event.rationale == "because the client asked"
    assert event.campaign_id == campaign.pk
    assert event.metadata["from"] == source
    assert event.metadata["to"] == LEGAL[(transition, source)]


@pytest.mark.parametrize(("transition", "source"), ILLEGAL, ids=lambda v: str(v))
def test_every_illegal_transition_is_refused_and_changes_nothing(
    campaign_in_state, operator, transition, source
):
    campaign = campaign_in_state(source)
    before = AuditEvent.objects.count()

    with pytest.raises(TransitionNotAllowedError) as err:
        transition_campaign(campaign=campaign, transition=transition, actor=operator, rationale="x")

    assert f"it is {source}" in str(err.value)
    assert "allowed only from" in str(err.value)
    campaign.refresh_from_db()
    assert campaign.state == source
    assert AuditEvent.objects.count() == before


def test_resume_a_completed_campaign_names_the_state(campaign_in_state):
    campaign = campaign_in_state(S.COMPLETED)
    with pytest.raises(
        TransitionNotAllowedError,
        match=r"Cannot resume campaign .*: it is completed; resume is allowed only from: paused",
    ):
        resume_campaign(campaign=campaign)


def test_kill_needs_a_rationale(campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE)
    with pytest.raises(DomainError, match="rationale is required to kill"):
        kill_campaign(campaign=campaign, rationale="   ")
    campaign.refresh_from_db()
    assert campaign.state == S.ACTIVE


def test_system_actor_is_recorded_when_no_user(campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE)
    pause_campaign(campaign=campaign.pk, rationale="auto-pause: goal met")
    event = AuditEvent.objects.filter(verb="campaign.paused").get()
    assert event.actor is None
    assert event.actor_label == "system"


def test_unknown_transition_is_refused(campaign_in_state):
    campaign = campaign_in_state(S.DRAFT)
    with pytest.raises(TransitionNotAllowedError, match="Unknown campaign transition 'launch'"):
        transition_campaign(campaign=campaign, transition="launch")


def test_state_cannot_be_assigned_directly(campaign_in_state):
    campaign = campaign_in_state(S.DRAFT)
    with pytest.raises(AttributeError, match="Direct state modification is not allowed"):
        campaign.state = S.ACTIVE
    campaign.refresh_from_db()  # FSMModelMixin lets refresh_from_db load the protected field
    assert campaign.state == S.DRAFT


def test_activation_blockers_registered_by_other_apps_are_enforced(campaign_in_state):
    campaign = campaign_in_state(S.APPROVED)

    def needs_strategy(c: Campaign) -> list[str]:
        return ["no approved strategy yet"]

    lifecycle.register_activation_check(needs_strategy)
    try:
        with pytest.raises(TransitionNotAllowedError, match="no approved strategy yet"):
            activate_campaign(campaign=campaign)
        campaign.refresh_from_db()
        assert campaign.state == S.APPROVED
    finally:
        lifecycle._activation_checks.remove(needs_strategy)
    assert activate_campaign(campaign=campaign).state == S.ACTIVE


def test_the_service_runs_the_rules_once_and_the_model_still_runs_them_on_a_direct_call(campaign_in_state):
    calls = []

    def counted(c: Campaign) -> list[str]:
        calls.append(c.pk)
        return []

    lifecycle.register_activation_check(counted)
    try:
        activated = activate_campaign(campaign=campaign_in_state(S.APPROVED))
        assert activated.state == S.ACTIVE
        assert len(calls) == 1  # checked once under the lock, not again by the transition itself

        other = Campaign.objects.get(pk=campaign_in_state(S.APPROVED).pk)
        calls.clear()
        other.activate()  # a direct call, no service: the transition runs the rules itself
        assert len(calls) == 1
    finally:
        lifecycle._activation_checks.remove(counted)


def test_a_direct_call_of_a_blocked_step_is_refused_and_the_step_is_not_offered(campaign_in_state):
    campaign = campaign_in_state(S.APPROVED)

    def blocked(c: Campaign) -> list[str]:
        return ["no approved strategy yet"]

    lifecycle.register_activation_check(blocked)
    try:
        assert "activate" not in available_transitions(campaign)
        with pytest.raises(TransitionNotAllowed, match="no approved strategy yet"):
            campaign.activate()
        assert campaign.state == S.APPROVED
    finally:
        lifecycle._activation_checks.remove(blocked)
    assert "activate" in available_transitions(campaign)


def test_kill_handlers_run_in_the_same_transaction(campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE)

    def failing_handler(*, campaign, actor, rationale):
        raise RuntimeError("outreach could not cancel")

    lifecycle.register_transition_handler("kill", failing_handler)
    try:
        with pytest.raises(RuntimeError):
            kill_campaign(campaign=campaign, rationale="stop")
    finally:
        lifecycle._after_transition["kill"].remove(failing_handler)
    campaign.refresh_from_db()
    assert campaign.state == S.ACTIVE
    assert not AuditEvent.objects.filter(verb="campaign.killed").exists()


def test_history_records_state_changes_with_reason(campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE)
    pause_campaign(campaign=campaign, rationale="client on holiday")
    latest = campaign.history.first()
    assert latest.state == S.PAUSED
    assert latest.history_change_reason == "client on holiday"


def test_a_caller_holding_the_lock_passes_the_row_and_a_refusal_leaves_its_transaction_usable(
    campaign_in_state,
):
    from django.db import transaction

    from campaigns.lock_objects import campaign_for_update

    campaign = campaign_in_state(S.DRAFT)
    with pytest.raises(TypeError, match="locked Campaign"):
        transition_campaign(campaign=campaign.pk, transition="start_planning", campaign_locked=True)
    with transaction.atomic():
        locked = campaign_for_update(campaign.pk)
        with pytest.raises(TransitionNotAllowedError, match="it is draft"):
            transition_campaign(campaign=locked, transition="pause", campaign_locked=True)
        moved = transition_campaign(
            campaign=locked, transition="start_planning", campaign_locked=True, rationale="go"
        )
        assert moved is locked and locked.state == S.PLANNING
    campaign.refresh_from_db()
    assert campaign.state == S.PLANNING
    assert AuditEvent.objects.filter(campaign=campaign, verb="campaign.planning_started").exists()
