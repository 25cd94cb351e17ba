"""The admin's busiest pages fit a 1,440 px screen (issue 17): the demo campaign's timeline (long
rationales, JSON details), its messages and its operator tasks, opened by an operator-role user —
no page scrolls sideways and no table runs past the window."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns.models import Campaign
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 1440
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's password


@pytest.fixture
def wide_page(browser):
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def overflow(page) -> dict:
    """How far the page and its widest table reach past the window, in CSS pixels."""
    return page.evaluate(
        """() => {
            const doc = document.documentElement;
            const tables = [...document.querySelectorAll('#content table')];
            const right = Math.max(0, ...tables.map(t => t.getBoundingClientRect().right));
            // a table wider than its own scroll box hides columns even when the page does not scroll
            const boxes = [...document.querySelectorAll('#content *')]
                .filter(e => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX))
                .filter(e => e.scrollWidth - e.clientWidth > 1);
            return {page: doc.scrollWidth - doc.clientWidth, table: Math.round(right - doc.clientWidth),
                    hidden: boxes.map(e => `${e.tagName}.${e.className}: ${e.scrollWidth - e.clientWidth}`)};
        }"""
    )


def test_timeline_messages_and_tasks_fit_1440_px(live_server, wide_page, operator_role_user, settings):
    folder = SCREENSHOTS / "test_timeline_messages_and_tasks_fit_1440_px"
    folder.mkdir(parents=True, exist_ok=True)
    settings.DEBUG = True  # the demo creates its accounts only on a developer's machine
    call_command("demo", stdout=io.StringIO())
    settings.DEBUG = False
    campaign = Campaign.objects.order_by("pk").last()
    page = wide_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", operator_role_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    pages = {
        "timeline": reverse("admin:campaigns_campaign_timeline", args=[campaign.pk]),
        "messages": reverse("admin:outreach_message_changelist") + f"?campaign__id__exact={campaign.pk}",
        "tasks": reverse("admin:outreach_operatortask_changelist") + f"?campaign__id__exact={campaign.pk}",
    }
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        assert page.locator("#content table").count(), f"{name}: no table on {path}"
        page.screenshot(path=str(folder / f"{name}-1440.png"), full_page=True)
        reach = overflow(page)
        fits = reach["page"] <= 0 and reach["table"] <= 0 and not reach["hidden"]
        assert fits, f"{name} ({path}) runs past {WIDTH} px: {reach}"
