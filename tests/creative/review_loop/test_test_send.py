"""'Send a test to me' lands in a real SMTP server (aiosmtpd on 127.0.0.1, the sink of
tests/smtp_sink.py) through the configured email backend — the one the campaign's
sends use — to the operator's own address, marked as a test, and is never outreach: no Message, no
spend, an audit event; throttled per user and hour."""

from __future__ import annotations

import email
from email import policy
from email.utils import parseaddr

import pytest
from django.core import mail
from django.urls import reverse

from campaigns.models import AuditEvent, Campaign, SpendEntry
from campaigns.services.system_pause import set_system_pause
from creative import services
from creative.models import CreativeVariant
from leads.models import Lead
from leads.services import add_lead
from outreach.models import Message, SendingMailbox
from outreach.services.sending import create_sequence
from tests.smtp_sink import free_port, smtp_sink  # noqa: F401  (the fixture, reused)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(smtp_sink):  # noqa: F811  (the imported fixture)
    """The SMTP sink as the configured email backend: what get_connection() opens."""
    return smtp_sink


def _parsed(envelope):
    mail_from, rcpt_tos, raw = envelope
    return mail_from, rcpt_tos, email.message_from_bytes(raw, policy=policy.default)


def _nothing_counted(campaign) -> None:
    assert not Message.objects.filter(campaign=campaign).exists()
    assert not SpendEntry.objects.filter(campaign=campaign).exists()


def test_admin_test_send_lands_in_the_sink_marked_and_not_counted(
    sink, client, operator_role_user, email_draft, settings
):
    client.force_login(operator_role_user)
    dana = Lead.objects.get(campaign=email_draft.campaign, first_name="Dana")
    preview = reverse("admin:creative_creativevariant_preview", args=[email_draft.pk])
    page = client.get(preview, {"lead": dana.pk}).content.decode()
    assert 'id="test-send-form"' in page and operator_role_user.email in page
    url = reverse("admin:creative_creativevariant_test_send", args=[email_draft.pk])
    response = client.post(url, {"lead": dana.pk}, follow=True)
    assert f"Test sent to {operator_role_user.email}".encode() in response.content
    assert response.redirect_chain[-1][0] == f"{preview}?lead={dana.pk}"

    assert len(sink.envelopes) == 1 and mail.outbox == []  # through SMTP, not the test backend
    mail_from, rcpt_tos, parsed = _parsed(sink.envelopes[0])
    assert rcpt_tos == [operator_role_user.email]  # the operator's own address, and only that
    assert [a.addr_spec for a in parsed["To"].addresses] == [operator_role_user.email]
    assert mail_from == parseaddr(settings.DEFAULT_FROM_EMAIL)[1]  # no mailbox: the default sender
    assert parsed["Subject"] == "[TEST] Fewer empty miles on your routes"
    assert parsed["X-AICMO-Test"] == f"creative={email_draft.pk}; campaign={email_draft.campaign_id}"
    assert parsed["X-AICMO-Message"] is None and parsed["List-Unsubscribe"] is None
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Hi Dana,") and "teams like Fleet Co." in text
    assert "<p>Hi Dana,</p>" in html and '<a href="https://example.com/routes">' in html

    _nothing_counted(email_draft.campaign)
    event = AuditEvent.objects.get(verb="creative.test_send")
    assert event.actor == operator_role_user and event.campaign_id == email_draft.campaign_id
    assert event.metadata["to"] == operator_role_user.email and event.metadata["lead"] == dana.pk


def test_api_test_send_from_the_campaigns_mailbox(sink, api_as, operator, operator_role_user, email_draft):
    services.submit_creative_for_review(variant=email_draft, actor=operator)
    services.approve_creative(variant=email_draft, actor=operator)
    mailbox = SendingMailbox.objects.create(email="sales@agency.example", display_name="Sam at Agency")
    create_sequence(
        campaign=email_draft.campaign,
        name="Main",
        steps=[{"creatives": [email_draft.pk]}],
        mailbox=mailbox,
        actor=operator,
    )
    response = api_as(operator_role_user).post(
        f"/api/v1/creatives/{email_draft.pk}/test-send/", {}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "to_email": operator_role_user.email,
        "from_email": "Sam at Agency <sales@agency.example>",
        "subject": "[TEST] Fewer empty miles on your routes",
        "lead_id": None,
        "missing": [],
    }
    mail_from, rcpt_tos, parsed = _parsed(sink.envelopes[0])
    assert mail_from == "sales@agency.example" and rcpt_tos == [operator_role_user.email]
    assert parsed.get_body(preferencelist=("plain",)).get_content().startswith("Hi Alex,")  # sample lead
    _nothing_counted(email_draft.campaign)


def test_the_client_and_another_client_may_not_send_tests(
    sink, api_as, client_user, other_client_user, email_draft
):
    url = f"/api/v1/creatives/{email_draft.pk}/test-send/"
    refused = api_as(client_user).post(url, {}, format="json")
    assert refused.status_code == 403 and "send a test of creative" in refused.json()["detail"]
    assert api_as(other_client_user).post(url, {}, format="json").status_code == 404
    assert sink.envelopes == [] and not AuditEvent.objects.filter(verb="creative.test_send").exists()


def test_a_user_without_an_email_address_is_told_so(sink, api_as, client, operator_role_user, email_draft):
    operator_role_user.email = ""
    operator_role_user.save()
    response = api_as(operator_role_user).post(
        f"/api/v1/creatives/{email_draft.pk}/test-send/", {}, format="json"
    )
    assert response.status_code == 400 and "has no email address" in response.json()["detail"]
    client.force_login(operator_role_user)
    page = client.post(
        reverse("admin:creative_creativevariant_test_send", args=[email_draft.pk]), follow=True
    )
    assert page.status_code == 200 and b"has no email address" in page.content
    assert sink.envelopes == []


def test_a_lead_of_another_campaign_is_404(sink, api_as, operator_role_user, email_draft, approved_campaign):
    stranger = add_lead(campaign=approved_campaign(channels=["email"]), email="zoe@other.example")
    response = api_as(operator_role_user).post(
        f"/api/v1/creatives/{email_draft.pk}/test-send/", {"lead": stranger.pk}, format="json"
    )
    assert response.status_code == 404 and sink.envelopes == []


def test_test_sends_are_throttled_per_user_and_hour(
    sink, api_as, operator_role_user, operator, email_draft, settings, frozen_now
):
    settings.CREATIVE_TEST_SENDS_PER_HOUR = 2
    url = f"/api/v1/creatives/{email_draft.pk}/test-send/"
    staff = api_as(operator_role_user)
    assert [staff.post(url, {}, format="json").status_code for _ in range(2)] == [200, 200]
    limited = staff.post(url, {}, format="json")
    assert limited.status_code == 429 and "CREATIVE_TEST_SENDS_PER_HOUR" in limited.json()["detail"]
    assert int(limited["Retry-After"]) == 3601
    assert api_as(operator).post(url, {}, format="json").status_code == 200  # another user's own hour
    frozen_now.shift(3601)
    assert staff.post(url, {}, format="json").status_code == 200
    assert len(sink.envelopes) == 4


def test_no_test_sends_during_the_system_pause(sink, api_as, operator, operator_role_user, email_draft):
    set_system_pause(paused=True, actor=operator, rationale="incident")
    response = api_as(operator_role_user).post(
        f"/api/v1/creatives/{email_draft.pk}/test-send/", {}, format="json"
    )
    assert response.status_code == 409 and "System pause is on" in response.json()["detail"]
    assert sink.envelopes == []


def test_a_backend_failure_is_explained_and_recorded(api_as, operator_role_user, email_draft, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    response = api_as(operator_role_user).post(
        f"/api/v1/creatives/{email_draft.pk}/test-send/", {}, format="json"
    )
    assert response.status_code == 400 and "could not be sent" in response.json()["detail"]
    failed = AuditEvent.objects.get(verb="creative.test_send_failed")
    assert "Connection" in failed.metadata["error"] or "refused" in failed.metadata["error"]


def test_posts_are_not_sent_as_tests(sink, api_as, operator, operator_role_user, review_campaign):
    Campaign.objects.filter(pk=review_campaign.pk).update(channels=["email", "linkedin"])
    services.generate_creatives(campaign=review_campaign, actor=operator, platforms=["linkedin"], variants=1)
    post = CreativeVariant.objects.get(campaign=review_campaign, platform="linkedin")
    response = api_as(operator_role_user).post(f"/api/v1/creatives/{post.pk}/test-send/", {}, format="json")
    assert response.status_code == 400 and "only emails can be sent as a test" in response.json()["detail"]
    assert sink.envelopes == []
