"""Issue 19 point 2: the services that cause each event write it, in their own transaction, and
its data matches the type's JSON schema; then every one of them reaches a subscribed receiver."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.core.mail.backends.locmem import EmailBackend  # noqa: F401  (the test backend)
from django.db import transaction
from jsonschema import Draft202012Validator

from campaigns.errors import BudgetExhaustedError
from campaigns.event_types import ENVELOPE_SCHEMA, EVENT_TYPES
from campaigns.models import OutboxEvent
from campaigns.services.budget import record_spend
from campaigns.services.editing import set_campaign_mode
from campaigns.services.policy import set_compliance_policy
from campaigns.services.transitions import activate_campaign, transition_campaign
from creative import services as creative_services
from creative.models import CreativeVariant
from leads.importers import import_lead_records
from leads.models import Lead
from leads.services import add_suppression, bulk_add_leads, transition_lead
from outreach.models import Message, MessageState, SendingMailbox
from outreach.services.mailboxes import pause_mailbox
from outreach.services.sending import create_sequence, enroll_leads, schedule_due_messages, send_due_messages
from outreach.services.tracking import TrackingInput, record_inbound_reply, record_tracking_event
from reporting.services import record_outcome
from strategy import services as strategy_services
from tests.conftest import FIXED_NOW
from tests.factories import CampaignFactory
from webhooks.services import create_endpoint
from webhooks.services.dispatch import dispatch, envelope

pytestmark = pytest.mark.django_db
EMITTED = [name for name, kind in EVENT_TYPES.items() if kind.emitted]


@pytest.fixture
def clock():
    with time_machine.travel(FIXED_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def subscribed_campaign(operator, receiver, clock):
    """A campaign whose client subscribed to every event before anything happened to it."""
    campaign = CampaignFactory(
        channels=["email"],
        daily_email_cap=20,
        start_date=dt.date(2026, 3, 2),
        end_date=dt.date(2026, 5, 30),
    )
    _, secret = create_endpoint(client=campaign.client, url=receiver.url, event_types=EMITTED)
    receiver.secrets.append(secret)
    strategy_services.save_brief(
        campaign=campaign, objective="Book calls", audience="Ops", offer="Routes", channels=["email"]
    )
    strategy_services.generate_and_approve_strategy(campaign=campaign, actor=operator, rationale="fit")
    creative_services.generate_creatives(campaign=campaign, actor=operator, platforms=["email"], variants=2)
    creatives = list(CreativeVariant.objects.filter(campaign=campaign))
    for creative in creatives:
        creative_services.approve_creative(variant=creative, actor=operator)
    set_compliance_policy(
        client=campaign.client, actor=operator, sender_postal_address="1 Test Street, Testville"
    )
    activate_campaign(campaign=campaign, actor=operator)
    campaign = set_campaign_mode(campaign=campaign, mode="live", actor=operator, rationale="signed off")
    sequence = create_sequence(
        campaign=campaign,
        name="Main",
        actor=operator,
        steps=[{"delay_days": 0, "creatives": [c.pk for c in creatives]}],
    )
    bulk_add_leads(
        campaign=campaign,
        records=[{"email": f"lead{i}@company{i}.example", "company": f"Co {i}"} for i in range(5)],
    )
    return campaign, sequence


def test_every_service_emits_its_event_with_schema_valid_data(subscribed_campaign, operator, receiver):
    campaign, sequence = subscribed_campaign
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=False).sent == 5
    messages = list(Message.objects.filter(campaign=campaign, state=MessageState.SENT).order_by("pk"))
    record_tracking_event(
        TrackingInput(esp_name="test", event_type="bounced", event_id="b1",
                      metadata={"aicmo_message_id": str(messages[0].pk)}, reject_reason="bounced")
    )  # fmt: skip
    add_suppression(reason="unsubscribed", email=messages[1].to_email, client=campaign.client)
    record_inbound_reply(
        from_header=f"Lead <{messages[2].to_email}>",
        subject="Re: hello",
        text="Call me.",
        headers={"In-Reply-To": messages[2].rfc_message_id},
        message_id_header="<r1@x>",
    )
    lead = Lead.objects.get(pk=messages[2].lead_id)
    transition_lead(lead=lead, transition="qualify", actor=operator, rationale="budget confirmed")
    record_outcome(lead=lead, deal_value="1250.50", currency="eur", actor=operator)
    import_lead_records(campaign=campaign, records=[{"email": "new@new.example"}], actor=operator)
    record_tracking_event(
        TrackingInput(
            esp_name="test",
            event_type="complained",
            event_id="c1",
            metadata={"aicmo_message_id": str(messages[3].pk)},
        )
    )  # fmt: skip  (a complaint also pauses the campaign: its circuit breaker)
    campaign.refresh_from_db()
    type(campaign).objects.filter(pk=campaign.pk).update(budget_cap=Decimal("10"))
    record_spend(campaign=campaign, kind="manual", amount="9", actor=operator)
    with pytest.raises(BudgetExhaustedError):
        record_spend(campaign=campaign, kind="manual", amount="5", actor=operator)

    mailbox = SendingMailbox.objects.create(client=campaign.client, email="ops@mail.northwind.example")
    with transaction.atomic():  # what the daily readiness check and the health check call
        pause_mailbox(
            SendingMailbox.objects.select_for_update().get(pk=mailbox.pk),
            reason="sender readiness: DMARC: no record",
            rationale="the daily sender readiness check failed",
            metadata={},
        )

    events = list(OutboxEvent.objects.order_by("id"))
    counts = Counter(e.type for e in events)
    assert set(counts) == set(EMITTED), set(EMITTED) - set(counts)
    assert counts["message.sent"] == 5 and counts["creative.approved"] == 2
    for event in events:
        Draft202012Validator(ENVELOPE_SCHEMA).validate(envelope(event))
        Draft202012Validator(EVENT_TYPES[event.type].schema).validate(event.data)
        assert event.client_id == campaign.client_id
    won = next(e for e in events if e.type == "lead.won")
    assert won.data["deal_value"] == "1250.50" and won.data["currency"] == "EUR"
    assert won.data["lead"]["id"] == lead.pk and won.data["actor"] == operator.username
    paused = [e for e in events if e.type == "campaign.state_changed" and e.data["to_state"] == "paused"]
    assert paused and paused[0].data["pause_kind"] == "circuit_breaker"
    bounced = next(e for e in events if e.type == "message.bounced")
    assert bounced.data["hard"] is True and bounced.data["message_id"] == messages[0].pk
    imported = [e.data["inserted"] for e in events if e.type == "lead.imported"]
    assert imported == [5, 1]  # the set-up's bulk add, then this import: one event per import

    dispatch(budget_seconds=20)
    assert sorted(e["id"] for e in receiver.events()) == sorted(e.event_id for e in events)
    assert receiver.rejected == 0


def test_dry_run_sends_announce_nothing(subscribed_campaign):
    campaign, sequence = subscribed_campaign
    enroll_leads(campaign=campaign, sequence=sequence)
    schedule_due_messages(campaign=campaign)
    assert send_due_messages(campaign_id=campaign.pk, dry_run=True).dry_run == 5
    assert not OutboxEvent.objects.filter(type="message.sent").exists()


def test_a_refused_transition_leaves_no_event(subscribed_campaign, operator):
    campaign, _ = subscribed_campaign
    before = OutboxEvent.objects.count()
    with pytest.raises(Exception, match="Cannot"):
        transition_campaign(campaign=campaign, transition="approve", actor=operator)
    assert OutboxEvent.objects.count() == before
