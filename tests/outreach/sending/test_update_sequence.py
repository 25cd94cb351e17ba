"""Changing a sequence goes through ``update_sequence`` (issue 21 point 5): the admin's change form
calls it, it saves only what changed and audits that once, and it refuses another client's mailbox
(the change form offers only this client's and shared ones)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.errors import DomainError
from campaigns.models import AuditEvent
from outreach.models import SendingMailbox
from outreach.services.sending.sequences import update_sequence
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_update_sequence_saves_and_audits_only_what_changed(live_campaign, operator):
    campaign, sequence = live_campaign(leads=0)
    mailbox = SendingMailbox.objects.create(email="team@agency.example", client=campaign.client)

    updated = update_sequence(sequence=sequence, actor=operator, name="  Main  ", mailbox=mailbox)
    assert updated.mailbox == mailbox and updated.name == "Main"
    event = AuditEvent.objects.get(verb="sequence.updated")
    assert event.metadata == {"changed": ["mailbox"]} and event.actor == operator

    update_sequence(sequence=sequence, actor=operator, name="Main", mailbox=mailbox)  # no change
    assert AuditEvent.objects.filter(verb="sequence.updated").count() == 1


def test_update_sequence_refuses_another_clients_mailbox_and_unknown_fields(live_campaign, operator):
    campaign, sequence = live_campaign(leads=0)
    foreign = SendingMailbox.objects.create(email="theirs@other.example", client=ClientFactory())
    with pytest.raises(DomainError, match="belongs to another client") as refused:
        update_sequence(sequence=sequence, actor=operator, mailbox=foreign)
    assert refused.value.details["field"] == "mailbox"
    with pytest.raises(DomainError, match="cannot be changed"):
        update_sequence(sequence=sequence, actor=operator, campaign=campaign)
    sequence.refresh_from_db()
    assert sequence.mailbox is None and not AuditEvent.objects.filter(verb="sequence.updated").exists()


def test_the_sequence_change_form_saves_through_the_service(client, operator_role_user, live_campaign):
    _campaign, sequence = live_campaign(leads=0)
    client.force_login(operator_role_user)
    url = reverse("admin:outreach_sequence_change", args=[sequence.pk])
    page = client.get(url)
    assert page.status_code == 200
    steps = page.context["inline_admin_formsets"][0].formset.management_form
    management = {steps.add_prefix(k): v for k, v in steps.initial.items()}
    # is_active unticked, plain_text_only left ticked
    response = client.post(url, {"name": "Main", "mailbox": "", "plain_text_only": "on", **management})
    assert response.status_code == 302, response.content.decode()[:2000]
    sequence.refresh_from_db()
    assert sequence.is_active is False
    event = AuditEvent.objects.get(verb="sequence.updated")
    assert event.metadata == {"changed": ["is_active"]} and event.actor == operator_role_user
