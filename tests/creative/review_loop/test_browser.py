"""The review loop in Chromium as an operator-role user: an edited draft is submitted from the
comparison page and approved, then previewed for a picked lead (the HTML in its sandboxed frame) and
sent as a test that lands in the SMTP sink; no Content-Security-Policy violation on the way.
Screenshots: var/screenshots/test_review_loop_in_the_browser/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from creative.models import CreativeState, CreativeVariant
from leads.models import Lead
from tests.browser.conftest import browser, page, screenshot  # noqa: F401  (the fixtures, reused)

from .test_test_send import (
    sink,  # noqa: F401  (the fixture, reused)
    smtp_sink,  # noqa: F401
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_review_loop_in_the_browser(
    live_server,
    page,  # noqa: F811
    screenshot,  # noqa: F811
    sink,  # noqa: F811
    operator_role_user,
    email_draft,
):
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", operator_role_user.username)
    page.fill("#id_password", "pass-word-123")
    page.click("input[type=submit]")

    compare = reverse("admin:creative_creativebrief_compare", args=[email_draft.brief_id])
    page.goto(f"{live_server.url}{compare}")
    column = page.locator(f"#variant-{email_draft.pk}")
    screenshot("compare-draft")
    column.locator("button[value=submit_for_review]").click()
    page.wait_for_selector(f"text=Creative #{email_draft.pk} is now in review")
    page.locator(f"#variant-{email_draft.pk} button[value=approve]").click()
    page.wait_for_selector(f"text=Creative #{email_draft.pk} is now approved")
    screenshot("approved")
    assert CreativeVariant.objects.get(pk=email_draft.pk).state == CreativeState.APPROVED

    dana = Lead.objects.get(campaign=email_draft.campaign, first_name="Dana")
    page.locator(f"#variant-{email_draft.pk} >> text=Preview for a lead").click()
    page.select_option("#preview-lead", str(dana.pk))
    page.click("#preview-lead-form button")
    assert page.inner_text("#preview-body").startswith("Hi Dana,")
    assert "Hi Dana," in page.frame_locator("#preview-html").locator("body").inner_text()
    screenshot("preview-for-dana")
    page.click("#test-send-form button")
    page.wait_for_selector(f"text=Test sent to {operator_role_user.email}")
    screenshot("test-sent")
    assert len(sink.envelopes) == 1 and sink.envelopes[0][1] == [operator_role_user.email]
    assert violations == []
