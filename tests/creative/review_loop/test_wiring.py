"""Outreach registers the sources creative's previews and test sends read (creative may not import
outreach or leads): without them the admin preview offers no leads and tests come from
DEFAULT_FROM_EMAIL instead of the campaign's mailbox."""

from __future__ import annotations

from creative import preview
from outreach.creative_sources import from_header_for_campaign, lead_choices_for_preview
from outreach.services.sending import preview_context_for_lead


def test_outreach_registers_the_lead_context():
    assert preview._provider == [preview_context_for_lead]


def test_outreach_registers_the_lead_choices_and_the_sender():
    assert preview._choices == [lead_choices_for_preview]
    assert preview._sender == [from_header_for_campaign]
