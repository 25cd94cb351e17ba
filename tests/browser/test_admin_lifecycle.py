"""An operator pauses and then kills a campaign in the real admin, in a real browser."""

from __future__ import annotations

import pytest

from campaigns.models import AuditEvent, CampaignState
from tests.factories import StaffUserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_operator_pauses_and_kills_a_campaign(live_server, page, screenshot, campaign_in_state):
    StaffUserFactory(username="ops", password="ops-pass-123")
    campaign = campaign_in_state(CampaignState.ACTIVE, name="Browser campaign")

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "ops")
    page.fill("#id_password", "ops-pass-123")
    screenshot("login")
    page.click("input[type=submit]")
    page.wait_for_selector("#content")

    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    page.click("text=Browser campaign")
    page.wait_for_selector("#lifecycle")
    screenshot("campaign-active")

    page.click("#lifecycle a[data-transition=pause]")
    page.fill("#id_rationale", "Client asked to hold during their launch")
    screenshot("pause-form")
    page.click("input[name=confirm]")
    page.wait_for_selector("text=is now paused")
    screenshot("paused")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED

    page.click("#lifecycle a[data-transition=kill]")
    page.click("input[name=confirm]")  # without a rationale the browser refuses to submit
    assert page.locator("#id_rationale").evaluate("el => el.validity.valueMissing")
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PAUSED
    page.fill("#id_rationale", "Contract ended")
    page.click("input[name=confirm]")
    page.wait_for_selector("text=is now cancelled")
    screenshot("killed")

    page.click("text=Timeline")
    page.wait_for_selector("#timeline")
    screenshot("timeline")
    timeline = page.locator("#timeline").inner_text()
    assert "campaign.paused" in timeline and "Contract ended" in timeline
    assert AuditEvent.objects.filter(
        campaign=campaign, verb="campaign.killed", actor__username="ops"
    ).exists()
