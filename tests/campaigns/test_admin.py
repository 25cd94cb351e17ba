from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent, Campaign, CampaignState
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
S = CampaignState


@pytest.fixture
def admin_client_logged_in(client, operator):
    client.force_login(operator)
    return client


def change_url(campaign):
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def transition_url(campaign, name):
    return reverse("admin:campaigns_campaign_transition", args=[campaign.pk, name])


def test_changelist_filters_by_state_type_and_client(admin_client_logged_in, campaign_in_state):
    active = campaign_in_state(S.ACTIVE, name="Active one")
    campaign_in_state(S.DRAFT, name="Draft one")
    url = reverse("admin:campaigns_campaign_changelist")
    page = admin_client_logged_in.get(url, {"state__exact": "active"})
    assert page.status_code == 200
    assert b"Active one" in page.content and b"Draft one" not in page.content
    for params in ({"type__exact": "lead_gen"}, {"client__id__exact": active.client_id}):
        assert admin_client_logged_in.get(url, params).status_code == 200


def test_change_page_offers_only_legal_transitions(admin_client_logged_in, campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE)
    page = admin_client_logged_in.get(change_url(campaign)).content.decode()
    assert 'data-transition="pause"' in page
    assert 'data-transition="kill"' in page
    assert 'data-transition="complete"' in page
    assert 'data-transition="resume"' not in page


@pytest.mark.parametrize(
    ("transition", "source", "target"),
    [
        ("start_planning", S.DRAFT, S.PLANNING),
        ("submit_for_approval", S.PLANNING, S.AWAITING_APPROVAL),
        ("return_to_planning", S.AWAITING_APPROVAL, S.PLANNING),
        ("approve", S.AWAITING_APPROVAL, S.APPROVED),
        ("activate", S.APPROVED, S.ACTIVE),
        ("pause", S.ACTIVE, S.PAUSED),
        ("resume", S.PAUSED, S.ACTIVE),
        ("complete", S.PAUSED, S.COMPLETED),
        ("kill", S.ACTIVE, S.CANCELLED),
    ],
)
def test_transition_buttons_apply_through_the_service(
    admin_client_logged_in, operator, campaign_in_state, transition, source, target
):
    campaign = campaign_in_state(source)
    form_page = admin_client_logged_in.get(transition_url(campaign, transition))
    assert form_page.status_code == 200
    assert b"Rationale" in form_page.content
    response = admin_client_logged_in.post(
        transition_url(campaign, transition), {"rationale": "weekly review"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == target
    event = AuditEvent.objects.filter(campaign=campaign).latest("id")
    assert event.actor == operator and event.rationale == "weekly review"


def test_kill_without_rationale_is_refused_in_the_form(admin_client_logged_in, campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE)
    response = admin_client_logged_in.post(transition_url(campaign, "kill"), {"rationale": ""})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    campaign.refresh_from_db()
    assert campaign.state == S.ACTIVE


def test_illegal_transition_shows_the_reason_and_changes_nothing(admin_client_logged_in, campaign_in_state):
    campaign = campaign_in_state(S.COMPLETED)
    response = admin_client_logged_in.post(
        transition_url(campaign, "resume"), {"rationale": "x"}, follow=True
    )
    assert b"Cannot resume campaign" in response.content
    campaign.refresh_from_db()
    assert campaign.state == S.COMPLETED
    assert not AuditEvent.objects.filter(campaign=campaign, verb="campaign.resumed").exists()


def test_bulk_pause_asks_for_rationale_and_reports_refusals(admin_client_logged_in, campaign_in_state):
    active = campaign_in_state(S.ACTIVE)
    draft = campaign_in_state(S.DRAFT)
    url = reverse("admin:campaigns_campaign_changelist")
    data = {"action": "pause_selected", "_selected_action": [active.pk, draft.pk]}
    confirm = admin_client_logged_in.post(url, data)
    assert confirm.status_code == 200 and b"Rationale" in confirm.content
    done = admin_client_logged_in.post(url, {**data, "apply": "1", "rationale": "holiday"}, follow=True)
    active.refresh_from_db()
    draft.refresh_from_db()
    assert active.state == S.PAUSED and draft.state == S.DRAFT
    assert b"1 campaign(s) done" in done.content
    assert b"Cannot pause campaign" in done.content


def test_add_campaign_goes_through_the_service(admin_client_logged_in, operator):
    client = ClientFactory()
    response = admin_client_logged_in.post(
        reverse("admin:campaigns_campaign_add"),
        {
            "client": client.pk,
            "name": "From admin",
            "type": "webinar",
            "channels": ["email"],  # checkboxes
            "daily_email_cap": 20,
            "target_clients": 5,
            "timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    campaign = Campaign.objects.get(name="From admin")
    assert campaign.owner == operator
    assert AuditEvent.objects.filter(campaign=campaign, verb="campaign.created", actor=operator).exists()


def test_timeline_lists_events_in_order(admin_client_logged_in, operator, campaign_in_state):
    campaign = campaign_in_state(S.PAUSED)
    page = admin_client_logged_in.get(reverse("admin:campaigns_campaign_timeline", args=[campaign.pk]))
    text = page.content.decode()
    order = [
        text.index(v)
        for v in ("campaign.planning_started", "campaign.approved", "campaign.activated", "campaign.paused")
    ]
    assert order == sorted(order)


def test_audit_events_are_read_only(admin_client_logged_in, campaign_in_state):
    campaign = campaign_in_state(S.PLANNING)
    event = AuditEvent.objects.filter(campaign=campaign).first()
    assert admin_client_logged_in.get(reverse("admin:campaigns_auditevent_changelist")).status_code == 200
    assert admin_client_logged_in.get(reverse("admin:campaigns_auditevent_add")).status_code == 403
    assert (
        admin_client_logged_in.post(reverse("admin:campaigns_auditevent_delete", args=[event.pk])).status_code
        == 403
    )


def test_history_page_shows_state_changes(admin_client_logged_in, campaign_in_state):
    campaign = campaign_in_state(S.ACTIVE)
    page = admin_client_logged_in.get(reverse("admin:campaigns_campaign_history", args=[campaign.pk]))
    assert page.status_code == 200
