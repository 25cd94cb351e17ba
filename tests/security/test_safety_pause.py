"""Safety pauses (the complaint / bounce circuit breaker, the cycle's auto-pause rules) are resumed
only by an approver, with a rationale; the campaign shows why it is paused and who may resume it.
A person's own pause stays resumable by whoever may resume. docs/SECURITY.md, "Who resumes a
paused campaign"."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from campaigns.errors import ActionNotPermittedError
from campaigns.models import AuditEvent, Campaign, CampaignState, PauseKind
from campaigns.services.transitions import pause_campaign, resume_campaign
from leads.models import Lead
from leads.services import transition_lead
from outreach.models import Message
from outreach.services.cycle import run_cycle
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import TrackingInput, record_tracking_event
from tests.factories import ClientUserFactory
from tests.outreach.sending.conftest import live_campaign  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def breaker_paused(live_campaign):  # noqa: F811
    """A live campaign the complaint circuit breaker paused (one complaint in three sends), and a
    user of its client."""
    campaign, sequence = live_campaign(leads=3)
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    send_due_messages(campaign_id=campaign.pk, dry_run=False)
    message = Message.objects.filter(campaign=campaign).order_by("id").first()
    record_tracking_event(
        TrackingInput(
            esp_name="test",
            event_type="complained",
            event_id="c1",
            metadata={"aicmo_message_id": str(message.pk)},
        )
    )
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    return campaign, ClientUserFactory(client=campaign.client)


def test_the_circuit_breaker_records_a_safety_pause(breaker_paused):
    campaign, _ = breaker_paused
    assert campaign.pause_kind == PauseKind.CIRCUIT_BREAKER and campaign.is_safety_paused
    assert campaign.state_reason.startswith("Circuit breaker: Complaint rate")
    event = AuditEvent.objects.filter(campaign=campaign, verb="campaign.paused").latest("id")
    assert event.metadata["pause_kind"] == "circuit_breaker"


def test_client_and_operator_cannot_resume_a_circuit_breaker_pause(
    breaker_paused, api_as, operator_role_user
):
    campaign, client_user = breaker_paused
    for user in (client_user, operator_role_user):
        api = api_as(user)
        resume = api.post(f"/api/v1/campaigns/{campaign.pk}/resume/", {"reason": "looks fine"}, format="json")
        assert resume.status_code == 403, (user, resume.content)
        assert resume.json()["code"] == "action_not_permitted"
        step = api.post(
            f"/api/v1/campaigns/{campaign.pk}/transition/",
            {"transition": "resume", "reason": "looks fine"},
            format="json",
        )
        assert step.status_code == 403, (user, step.content)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED and campaign.pause_kind == PauseKind.CIRCUIT_BREAKER


def test_an_approver_resumes_it_with_a_rationale(breaker_paused, api_as, approver_role_user):
    campaign, _ = breaker_paused
    api = api_as(approver_role_user)
    url = f"/api/v1/campaigns/{campaign.pk}/resume/"
    without = api.post(url, {}, format="json")
    assert without.status_code == 400 and without.json()["code"] == "invalid", without.content
    assert "Circuit breaker" in without.json()["detail"]
    ok = api.post(url, {"reason": "One complaint, address suppressed, list source checked."}, format="json")
    assert ok.status_code == 200, ok.content
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE and campaign.pause_kind == PauseKind.NONE
    event = AuditEvent.objects.filter(campaign=campaign, verb="campaign.resumed").latest("id")
    assert event.actor == approver_role_user and event.metadata["resumed_pause_kind"] == "circuit_breaker"
    assert event.rationale.startswith("One complaint")


def test_the_detail_says_why_it_is_paused_and_who_may_resume(breaker_paused, api_as, approver_role_user):
    campaign, client_user = breaker_paused
    seen = api_as(client_user).get(f"/api/v1/campaigns/{campaign.pk}/").json()
    assert seen["pause_kind"] == "circuit_breaker"
    pause = seen["pause"]
    assert pause["kind"] == "circuit_breaker" and pause["safety"] is True
    assert pause["reason"].startswith("Circuit breaker: Complaint rate")
    assert "approver" in pause["resumable_by"] and pause["rationale_required"] is True
    assert pause["resume_action"] == "campaign.resume_safety_pause"
    assert pause["you_may_resume"] is False
    assert (
        api_as(approver_role_user).get(f"/api/v1/campaigns/{campaign.pk}/").json()["pause"]["you_may_resume"]
    )
    listed = api_as(client_user).get("/api/v1/campaigns/").json()["results"]
    assert [c["pause_kind"] for c in listed if c["id"] == campaign.pk] == ["circuit_breaker"]


def test_the_admin_page_shows_the_pause_and_offers_resume_only_to_approvers(
    breaker_paused, client, operator_role_user, approver_role_user
):
    campaign, _ = breaker_paused
    change = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    resume = reverse("admin:campaigns_campaign_transition", args=[campaign.pk, "resume"])
    client.force_login(operator_role_user)
    page = client.get(change)
    assert page.status_code == 200
    assert b'id="pause-status" data-kind="circuit_breaker"' in page.content
    assert b"approver role" in page.content
    assert resume.encode() not in page.content
    client.post(resume, {"rationale": "operator thinks it is fine"}, follow=True)
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    client.force_login(approver_role_user)
    assert resume.encode() in client.get(change).content
    client.post(resume, {"rationale": ""})  # the form asks for a rationale
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    client.post(resume, {"rationale": "Reviewed the complaint; list source is clean."})
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE


def test_an_auto_pause_rule_pause_needs_an_approver_too(live_campaign, operator, approver_role_user):  # noqa: F811
    campaign, _ = live_campaign(leads=1, mode="dry_run")  # a dry run of a live one is rolled back
    Campaign.objects.filter(pk=campaign.pk).update(target_clients=1)
    lead = Lead.objects.get(campaign=campaign)
    for step in ("mark_contacted", "qualify"):
        transition_lead(lead=lead, transition=step, actor=operator, rationale="test")
    stats = run_cycle(campaign_id=campaign.pk, dry_run=True)
    assert stats.paused, stats
    campaign.refresh_from_db()
    assert campaign.pause_kind == PauseKind.AUTO_PAUSE and campaign.state_reason.startswith(
        "Auto-pause: Goal met"
    )
    # The system never resumes a safety pause, and a command needs an approver (--as) and a reason.
    with pytest.raises(ActionNotPermittedError):
        resume_campaign(campaign=campaign, actor=None, rationale="automation")
    with pytest.raises(CommandError, match="approver"):
        call_command("campaign", "resume", str(campaign.pk), "--reason", "ok")
    call_command(
        "campaign", "resume", str(campaign.pk), "--reason", "Goal raised", "--as", approver_role_user.username
    )
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE and campaign.pause_kind == PauseKind.NONE


def test_a_persons_pause_stays_resumable_by_the_client(live_campaign, api_as):  # noqa: F811
    campaign, _ = live_campaign(leads=0)
    client_user = ClientUserFactory(client=campaign.client)
    api = api_as(client_user)
    paused = api.post(f"/api/v1/campaigns/{campaign.pk}/pause/", {"reason": "holiday"}, format="json")
    assert paused.status_code == 200
    campaign.refresh_from_db()
    assert campaign.pause_kind == PauseKind.MANUAL and not campaign.is_safety_paused
    detail = api.get(f"/api/v1/campaigns/{campaign.pk}/").json()["pause"]
    assert detail["safety"] is False and detail["you_may_resume"] is True
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/resume/", {}, format="json").status_code == 200
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.ACTIVE and campaign.pause_kind == PauseKind.NONE


def test_the_migration_backfills_campaigns_paused_before_it(campaign_in_state):
    """Campaigns already paused get the kind their last pause's audit event names."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("campaigns.migrations.0004_campaign_pause_kind")
    by_breaker, by_rule, by_person = (campaign_in_state(CampaignState.ACTIVE) for _ in range(3))
    for campaign, rule in ((by_breaker, "circuit_breaker"), (by_rule, "stale"), (by_person, None)):
        pause_campaign(
            campaign=campaign, rationale="before the migration", metadata={"rule": rule} if rule else None
        )
    Campaign.objects.update(pause_kind="")  # as the rows were before 0004
    migration.backfill_pause_kind(apps, None)
    kinds = dict(Campaign.objects.values_list("pk", "pause_kind"))
    assert kinds[by_breaker.pk] == "circuit_breaker"
    assert kinds[by_rule.pk] == "auto_pause" and kinds[by_person.pk] == "manual"
