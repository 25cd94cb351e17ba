"""The campaign page shows its own times (state changed, created, updated) in the campaign's time
zone with the zone's name, like every other campaign time in the admin (issue 17)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_campaign_page_times_are_in_the_campaigns_zone_and_named(operator_role_user, frozen_now):
    campaign = CampaignFactory(timezone="Asia/Tokyo")
    browser = DjangoClient()
    browser.force_login(operator_role_user)
    html = browser.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    local = campaign.created_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert f"{local:%Y-%m-%d %H:%M} Asia/Tokyo (JST)" in html
    created = re.search(r'<div class="readonly">([^<]*)</div>', html.split("Created", 1)[1]).group(1)
    assert "Asia/Tokyo" in created

    listing = browser.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "Asia/Tokyo (JST)" in listing
