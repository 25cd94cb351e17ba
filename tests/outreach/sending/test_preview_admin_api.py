"""The next-cycle preview in the admin (an operator-role user, from the campaign page) and the API,
cycle reasons on the Run cycle page, and every outreach time in the campaign's time zone, named."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent
from campaigns.templatetags.campaign_time import campaign_time
from outreach.models import Enrollment, Message
from outreach.services.cycle import run_cycle

pytestmark = pytest.mark.django_db

PREVIEW = "admin:outreach_sequence_preview_cycle"
BERLIN_0900 = "2026-03-02 09:00 Europe/Berlin (CET)"


@pytest.fixture
def berlin_before_window(live_campaign, frozen_now):
    """A live Berlin campaign at 07:00 local on a Monday: its 3 leads' first steps are due at 09:00."""
    frozen_now.move_to(dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC))
    campaign, _ = live_campaign(leads=3, timezone="Europe/Berlin")
    return campaign


def test_campaign_time_names_the_zone_and_its_abbreviation():
    winter = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 6, 7, 0, tzinfo=dt.UTC)
    assert campaign_time(winter, "Europe/Berlin") == "2026-12-07 09:00 Europe/Berlin (CET)"
    assert campaign_time(summer, "Europe/Berlin") == "2026-07-06 09:00 Europe/Berlin (CEST)"
    assert campaign_time(winter, "UTC") == "2026-12-07 08:00 UTC"
    assert campaign_time(winter, "Not/AZone") == "2026-12-07 08:00 UTC"
    assert campaign_time(winter.replace(tzinfo=None), "America/New_York") == (
        "2026-12-07 03:00 America/New_York (EST)"
    )
    assert campaign_time(None, "Europe/Berlin") == "—"


def test_an_operator_previews_the_next_cycle_from_the_campaign_page(
    client, operator_role_user, berlin_before_window
):
    campaign = berlin_before_window
    client.force_login(operator_role_user)
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    link = re.search(r'id="campaign-link-outreach-preview-cycle" href="([^"]+)"', page.content.decode())
    assert link, "the campaign page links to the preview"
    before = (Message.objects.count(), Enrollment.objects.count(), AuditEvent.objects.count())
    response = client.get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-outcome="wait"') == 3 and 'data-outcome="send"' not in html
    assert BERLIN_0900 in html
    assert "3 scheduled for 09:00 Europe/Berlin (next send window)." in html
    assert "When (Europe/Berlin)" in html and "campaigns@localhost" in html
    assert (Message.objects.count(), Enrollment.objects.count(), AuditEvent.objects.count()) == before


def test_the_preview_page_refuses_users_without_access(client, client_user, berlin_before_window):
    client.force_login(client_user)  # a client user is not staff: no admin at all
    response = client.get(reverse(PREVIEW) + f"?campaign={berlin_before_window.pk}")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_run_cycle_page_shows_why_nothing_went_and_times_are_local(
    client, operator_role_user, berlin_before_window
):
    campaign = berlin_before_window
    client.force_login(operator_role_user)
    response = client.post(
        reverse("admin:outreach_sequence_run_cycle"), {"campaign": campaign.pk, "confirm_live": "on"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    reasons = re.search(r'<ul class="cycle-reasons"[^>]*>(.*?)</ul>', html, re.S)
    assert reasons and "3 scheduled for 09:00 Europe/Berlin (next send window)." in reasons.group(1)
    # a live campaign's dry run is rolled back: schedule for real, then look at the message list
    run_cycle(campaign_id=campaign.pk, dry_run=False)
    listing = client.get(reverse("admin:outreach_message_changelist") + f"?campaign__id__exact={campaign.pk}")
    assert listing.content.decode().count(BERLIN_0900) == 3
    message = Message.objects.filter(campaign=campaign).first()
    detail = client.get(reverse("admin:outreach_message_change", args=[message.pk])).content.decode()
    assert BERLIN_0900 in detail
    timeline = client.get(reverse("admin:campaigns_campaign_timeline", args=[campaign.pk])).content.decode()
    assert "When (Europe/Berlin)" in timeline and "Europe/Berlin (CET)" in timeline


def test_cycle_preview_api(api_as, operator, client_user, other_client_user, berlin_before_window):
    campaign = berlin_before_window
    campaign.client = client_user.client
    campaign.save(update_fields=["client"])
    url = f"/api/v1/campaigns/{campaign.pk}/cycle-preview/"
    before = (Message.objects.count(), Enrollment.objects.count(), AuditEvent.objects.count())
    body = api_as(client_user).get(url).json()
    assert body["campaign_id"] == campaign.pk and body["timezone"] == "Europe/Berlin"
    assert body["counts"] == {"wait": 3} and body["dry_run"] is False
    assert {row["at_display"] for row in body["rows"]} == {BERLIN_0900}
    assert {row["at"] for row in body["rows"]} == {"2026-03-02T08:00:00Z"}
    assert "3 scheduled for 09:00 Europe/Berlin (next send window)." in body["explanation"]
    assert (Message.objects.count(), Enrollment.objects.count(), AuditEvent.objects.count()) == before
    assert api_as(other_client_user).get(url).status_code == 404
    assert api_as(operator).get(url + "?dry_run=true").json()["dry_run"] is True
    assert api_as(operator).get(url + "?dry_run=maybe").status_code == 400
    assert api_as(None).get(url).status_code in (401, 403)


def test_operator_task_times_are_in_the_campaign_zone(client, operator_role_user, campaign_in_state):
    from tests.outreach.operator_tasks.factories import OperatorTaskFactory

    campaign = campaign_in_state("active", timezone="Europe/Berlin")
    task = OperatorTaskFactory(campaign=campaign, due_at=dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))
    client.force_login(operator_role_user)
    listing = client.get(reverse("admin:outreach_operatortask_changelist")).content.decode()
    detail = client.get(reverse("admin:outreach_operatortask_change", args=[task.pk])).content.decode()
    assert BERLIN_0900 in listing and BERLIN_0900 in detail
