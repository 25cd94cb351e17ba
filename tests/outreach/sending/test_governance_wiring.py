"""Governance enforced on the sending path and on creative approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from campaigns.models import Campaign
from campaigns.services.budget import raise_budget_cap, record_spend
from campaigns.services.policy import set_compliance_policy
from campaigns.services.system_pause import set_system_pause
from creative import services as creative_services
from creative.models import CreativeState, CreativeVariant
from outreach.models import Message, MessageState
from outreach.services.cycle import run_all
from outreach.services.sending import enroll_leads, schedule_due_messages, send_due_messages

pytestmark = pytest.mark.django_db


def prepare(campaign, sequence):
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)


def test_system_pause_stops_run_all_and_lifting_it_resumes(live_campaign, operator):
    live_campaign(leads=3)
    set_system_pause(paused=True, actor=operator, rationale="deliverability incident")
    results = run_all(dry_run=False)
    assert [r.sent for r in results] == [0]
    assert mail.outbox == []
    set_system_pause(paused=False, actor=operator, rationale="resolved")
    assert run_all(dry_run=False)[0].sent == 3


def test_budget_at_99_percent_sends_until_the_next_email_would_exceed_then_raising_continues(
    live_campaign, operator, settings
):
    settings.AICMO_COST_PER_EMAIL = Decimal("0.01")
    campaign, sequence = live_campaign(leads=5)
    Campaign.objects.filter(pk=campaign.pk).update(budget_cap=Decimal("1.00"))
    record_spend(campaign=campaign, kind="manual", amount=Decimal("0.97"), actor=operator)
    prepare(campaign, sequence)
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)
    assert stats.sent == 3
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).stopped_reason
    campaign.refresh_from_db()
    assert campaign.spending_blocked_reason
    assert Message.objects.filter(state=MessageState.SCHEDULED).count() == 2
    raise_budget_cap(
        campaign=campaign, new_cap=Decimal("2.00"), actor=operator, rationale="client approved more volume"
    )
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 2
    assert len(mail.outbox) == 5


def test_guaranteed_results_creative_needs_the_approver_permission(
    live_campaign, operator, operator_role_user, approver_role_user, api_as
):
    campaign, _ = live_campaign(leads=0)
    original = CreativeVariant.objects.filter(campaign=campaign).first()
    bold = creative_services.edit_creative(
        variant=original,
        actor=operator,
        body="Guaranteed results in 30 days. {{ unsubscribe_url }} {{ sender_address }}",
    )
    creative_services.submit_creative_for_review(variant=bold, actor=operator)
    url = f"/api/v1/creatives/{bold.pk}/approve/"
    override = {"override_rationale": "legal reviewed"}
    refused = api_as(operator_role_user).post(url, override, format="json")
    assert refused.status_code == 403 and "approve_high_risk" in refused.json()["detail"]
    assert CreativeVariant.objects.get(pk=bold.pk).state == CreativeState.IN_REVIEW
    ok = api_as(approver_role_user).post(url, override, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == CreativeState.APPROVED


def test_policy_quiet_hours_hold_sending_until_they_end(live_campaign, operator, frozen_now):
    import datetime as dt

    campaign, sequence = live_campaign(leads=2)
    set_compliance_policy(
        campaign=campaign,
        actor=operator,
        sender_postal_address="1 Test Street, Testville",
        quiet_hours_start=dt.time(9, 30),
        quiet_hours_end=dt.time(11, 0),
    )
    prepare(campaign, sequence)
    stats = send_due_messages(campaign_id=campaign.pk, dry_run=False)  # 10:00 UTC: inside
    assert stats.sent == 0 and stats.stopped_reason.startswith("quiet hours 09:30-11:00")
    frozen_now.move_to(dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC))
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 2


def test_operator_without_permission_cannot_approve_a_high_risk_creative_in_the_admin(
    live_campaign, operator, operator_role_user, approver_role_user, client
):
    from django.urls import reverse

    campaign, _ = live_campaign(leads=0)
    original = CreativeVariant.objects.filter(campaign=campaign).first()
    bold = creative_services.edit_creative(
        variant=original,
        actor=operator,
        body="Guaranteed results in 30 days. {{ unsubscribe_url }} {{ sender_address }}",
    )
    creative_services.submit_creative_for_review(variant=bold, actor=operator)
    url = reverse("admin:creative_creativebrief_compare", args=[bold.brief_id])
    form = {"variant": bold.pk, "decision": "approve", "override_rationale": "legal reviewed"}
    client.force_login(operator_role_user)
    page = client.post(url, form, follow=True)
    assert b"approve_high_risk" in page.content
    assert CreativeVariant.objects.get(pk=bold.pk).state == CreativeState.IN_REVIEW
    client.force_login(approver_role_user)
    client.post(url, form, follow=True)
    assert CreativeVariant.objects.get(pk=bold.pk).state == CreativeState.APPROVED


def test_creative_preview_against_a_real_lead(live_campaign, api_as, operator):
    from leads.models import Lead

    campaign, _ = live_campaign(leads=1)
    lead = Lead.objects.get(campaign=campaign)
    variant = CreativeVariant.objects.filter(campaign=campaign).first()
    body = api_as(operator).get(f"/api/v1/creatives/{variant.pk}/preview/", {"lead": lead.pk}).json()
    assert body["body"].startswith(f"Hi {lead.first_name},") and "1 Test Street" in body["body"]
    other, _ = live_campaign(leads=1)
    stranger = Lead.objects.get(campaign=other)
    assert (
        api_as(operator).get(f"/api/v1/creatives/{variant.pk}/preview/", {"lead": stranger.pk}).status_code
        == 404
    )
    assert api_as(operator).get(f"/api/v1/creatives/{variant.pk}/preview/", {"lead": "x"}).status_code == 400
