"""Readiness for tracking and for mailbox pools (docs/senders.md): a sequence that tracks opens needs
the client's tracking domain to be a CNAME on the loopback DNS server before a live campaign
activates; one paused mailbox of a pool blocks nothing while another one can send."""

from __future__ import annotations

import pytest

from campaigns.errors import TransitionNotAllowedError
from campaigns.models import CampaignState
from campaigns.services.sender_identity import set_sender_identity
from campaigns.services.transitions import activate_campaign
from outreach.models import SendingMailbox
from outreach.services.readiness import sender_readiness_blockers
from outreach.services.sending.sequences import update_sequence

from .conftest import DOMAIN

TRACKING = "track.northwind.example"


@pytest.fixture
def tracking_sequence(live_campaign, mailbox, operator):
    set_sender_identity(target=live_campaign.client, values={"tracking_domain": TRACKING}, actor=operator)
    sequence = mailbox.sequences.get()
    return update_sequence(sequence=sequence, actor=operator, plain_text_only=False, track_opens=True)


def test_tracking_blocks_activation_until_its_domain_is_a_cname(
    dns_server, live_campaign, tracking_sequence, operator, settings
):
    with pytest.raises(TransitionNotAllowedError, match=rf"tracking: {TRACKING} has no CNAME record"):
        activate_campaign(campaign=live_campaign, actor=operator)

    settings.AICMO_TRACKING_CNAME_TARGET = "track.pmtrk.com"
    dns_server.set(TRACKING, "CNAME", ["elsewhere.example."])
    assert sender_readiness_blockers(live_campaign) == [
        f"tracking: {TRACKING} points at elsewhere.example, not the ESP's track.pmtrk.com"
    ]

    dns_server.set(TRACKING, "CNAME", ["track.pmtrk.com."])
    assert activate_campaign(campaign=live_campaign, actor=operator).state == CampaignState.ACTIVE


def test_a_tracking_sequence_whose_identity_lost_its_tracking_domain_blocks(
    dns_server, live_campaign, tracking_sequence, operator
):
    dns_server.set(TRACKING, "CNAME", ["track.pmtrk.com."])
    set_sender_identity(target=live_campaign.client, values={"tracking_domain": ""}, actor=operator)
    (reason,) = sender_readiness_blockers(live_campaign)
    assert reason.startswith("sequence “Main” tracks opens or clicks: Tracking needs a tracking domain")


def test_one_paused_pool_mailbox_blocks_nothing_all_paused_do(dns_server, live_campaign, mailbox, operator):
    second = SendingMailbox.objects.create(client=live_campaign.client, email=f"max@{DOMAIN}")
    sequence = mailbox.sequences.get()
    update_sequence(sequence=sequence, actor=operator, mailboxes=[second])
    SendingMailbox.objects.filter(pk=second.pk).update(is_active=False, paused_reason="hard bounces 4 %")
    assert sender_readiness_blockers(live_campaign) == []

    SendingMailbox.objects.filter(pk=mailbox.pk).update(is_active=False, paused_reason="complaints 0.3 %")
    assert sorted(sender_readiness_blockers(live_campaign)) == [
        f"mailbox max@{DOMAIN} is paused: hard bounces 4 %",
        f"mailbox zoe@{DOMAIN} is paused: complaints 0.3 %",
    ]
